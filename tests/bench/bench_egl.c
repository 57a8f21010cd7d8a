// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Per-flip cost of the GPU import path beside the CPU mmap path, same run,
 * XRGB8888 1920x1080: two dmabufs (memfds, which llvmpipe imports by
 * mapping them) flipped in turn, each imported once (the import is
 * amortised, as in the daemon), with no change, one 64x64 tile changed or
 * every pixel changed between them. For the GPU path it also prints the
 * bytes read back per flip (tile map plus changed tiles) as a share of a
 * frame; the goals: no change <= 1 %, one tile <= 2 %.
 * On llvmpipe the absolute times mean little (the GPU is the CPU); on a
 * real GPU the render and compare run beside the CPU.
 * Needs Mesa with dmabuf import in llvmpipe (see tests/egl/fetch-mesa.sh).
 * Usage: bench_egl [REPS]
 */
#include <drm_fourcc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "bench_util.h"
#include "frame_diff.h"
#include "frame_store.h"
#include "import_egl.h"

#define WIDTH 1920
#define HEIGHT 1080

enum bench_case { CASE_NONE, CASE_TILE, CASE_FULL };
static const char *const case_names[] = { "none", "tile", "full" };

struct flip_buffer {
	int fd;
	uint8_t *cpu;              /* the mmap path's mapping */
	struct mapped_buffer gpu;  /* the EGL path's import */
};

struct bench {
	struct pixel_layout layout;
	size_t size;
	struct flip_buffer buf[2];
	struct import_method *egl;
	struct frame_diff *diff;
	uint8_t *fb_cpu, *fb_gpu;  /* each path's framebuffer */
	bool gpu_current;
};

static void fill(uint8_t *p, size_t n, enum bench_case c, int which)
{
	bench_fill_random(p, n);
	if (which == 0 || c == CASE_NONE)
		return;
	if (c == CASE_FULL) {
		for (size_t i = 0; i < n; i++)
			p[i] ^= 0x5a;
		return;
	}
	uint32_t x0 = WIDTH / 2 / DAMAGE_TILE * DAMAGE_TILE, y0 = HEIGHT / 2 / DAMAGE_TILE * DAMAGE_TILE;
	for (uint32_t y = y0; y < y0 + DAMAGE_TILE; y++)
		for (uint32_t i = 0; i < DAMAGE_TILE * 4; i++)
			p[(size_t)y * WIDTH * 4 + x0 * 4 + i] ^= 0x5a;
}

static int buffer_init(struct bench *b, struct flip_buffer *fb, enum bench_case c, int which)
{
	fb->fd = memfd_create("bench-egl", MFD_CLOEXEC);
	if (fb->fd < 0 || ftruncate(fb->fd, (off_t)b->size) < 0)
		return -1;
	uint8_t *w = mmap(NULL, b->size, PROT_READ | PROT_WRITE, MAP_SHARED, fb->fd, 0);
	if (w == MAP_FAILED)
		return -1;
	fill(w, b->size, c, which);
	munmap(w, b->size);
	fb->cpu = mmap(NULL, b->size, PROT_READ, MAP_SHARED, fb->fd, 0);
	struct import_request req = {
		.fd = fb->fd, .is_dmabuf = true, .size = b->size, .layout = &b->layout,
	};
	const char *why = NULL;
	if (fb->cpu == MAP_FAILED || b->egl->map(b->egl, &req, &fb->gpu, &why) < 0) {
		fprintf(stderr, "bench_egl: GPU import failed: %s\n", why ? why : "mmap failed");
		return -1;
	}
	return 0;
}

static double flip_cpu(struct bench *b, int i)
{
	double t0 = bench_now_ms(CLOCK_MONOTONIC);
	frame_diff_apply(b->diff, &b->layout, b->buf[i % 2].cpu, b->size, b->fb_cpu, WIDTH * 4);
	return bench_now_ms(CLOCK_MONOTONIC) - t0;
}

static double flip_gpu(struct bench *b, int i, uint64_t *bytes)
{
	struct import_frame frame = {
		.layout = &b->layout, .fb = b->fb_gpu, .fb_stride = WIDTH * 4,
		.fb_current = b->gpu_current,
	};
	const struct damage_map *damage;
	const char *why = NULL;
	uint64_t before = import_egl_bytes_read(b->egl);
	double t0 = bench_now_ms(CLOCK_MONOTONIC);
	if (b->egl->read_frame(&b->buf[i % 2].gpu, &frame, &damage, &why) < 0) {
		fprintf(stderr, "bench_egl: reading a frame back failed: %s\n", why);
		return -1;
	}
	double t = bench_now_ms(CLOCK_MONOTONIC) - t0;
	b->gpu_current = true;
	*bytes = import_egl_bytes_read(b->egl) - before;
	return t;
}

static int run_case(struct bench *b, enum bench_case c, int reps)
{
	double *t = calloc((size_t)reps * 2, sizeof(*t));
	uint64_t bytes = 0;
	int ret = -1;
	if (!t)
		return -1;
	for (int k = 0; k < 2; k++)
		if (buffer_init(b, &b->buf[k], c, k) < 0)
			goto out;
	frame_diff_reset(b->diff);
	b->gpu_current = false;
	/* The first frame fills both framebuffers whole; then the timed flips. */
	flip_cpu(b, 0);
	if (flip_gpu(b, 0, &bytes) < 0)
		goto out;
	for (int i = 1; i <= reps; i++) {
		t[i - 1] = flip_cpu(b, i);
		t[reps + i - 1] = flip_gpu(b, i, &bytes);
		if (t[reps + i - 1] < 0)
			goto out;
	}
	double frame = (double)WIDTH * HEIGHT * 4, share = 100.0 * (double)bytes / frame;
	printf("case=%s size=%ux%u mmap_ms=%.3f egl_ms=%.3f egl_bytes_read=%llu (%.2f%% of a frame",
	       case_names[c], WIDTH, HEIGHT, bench_median(t, reps), bench_median(t + reps, reps),
	       (unsigned long long)bytes, share);
	if (c == CASE_FULL) {
		printf(": the frame and the tile map)\n");
	} else {
		double goal = c == CASE_NONE ? 1.0 : 2.0;
		printf(", goal<=%.0f%% %s)\n", goal, share <= goal ? "met" : "MISSED");
	}
	ret = 0;
out:
	for (int k = 0; k < 2; k++) {
		if (b->buf[k].gpu.priv)
			b->egl->unmap(&b->buf[k].gpu);
		if (b->buf[k].cpu && b->buf[k].cpu != MAP_FAILED)
			munmap(b->buf[k].cpu, b->size);
		if (b->buf[k].fd > 0)
			close(b->buf[k].fd);
		memset(&b->buf[k], 0, sizeof(b->buf[k]));
	}
	free(t);
	return ret;
}

int main(int argc, char **argv)
{
	int reps = argc > 1 ? atoi(argv[1]) : 20;
	struct bench b = {
		.layout = { DRM_FORMAT_XRGB8888, DRM_FORMAT_MOD_LINEAR, WIDTH, HEIGHT, WIDTH * 4 },
		.size = (size_t)WIDTH * HEIGHT * 4,
	};
	if (reps < 1) {
		fprintf(stderr, "usage: bench_egl [REPS >= 1]\n");
		return 2;
	}
	b.egl = import_egl_new(NULL);
	b.diff = frame_diff_new();
	b.fb_cpu = page_aligned_zalloc(b.size);
	b.fb_gpu = page_aligned_zalloc(b.size);
	int ret = b.egl && b.diff && b.fb_cpu && b.fb_gpu ? 0 : -1;
	printf("bench_egl: per flip, medians of %d; mmap = frame_diff into a framebuffer, egl = "
	       "render + GPU tile compare + readback\n", reps);
	for (int c = CASE_NONE; ret == 0 && c <= CASE_FULL; c++)
		ret = run_case(&b, (enum bench_case)c, reps);
	free(b.fb_gpu);
	free(b.fb_cpu);
	frame_diff_free(b.diff);
	import_egl_free(b.egl);
	return ret == 0 ? 0 : 1;
}
