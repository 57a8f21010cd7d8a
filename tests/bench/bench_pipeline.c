// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Per-flip cost of the display loop's pixel work, frame_store_begin_write +
 * frame_diff_apply (damage + convert) + frame_store_end_write, for XRGB8888
 * at 1080p and 4K, beside the two floors measured in the same run: memcmp
 * of each row against a copy of the previous frame, as a server keeping
 * one would (what finding the damage cannot beat), and memcpy of the frame
 * (what converting it all cannot beat).
 * Sources are page-aligned mappings, as dmabuf maps are, and alternate
 * between two buffers as a guest's page flips do; the framebuffer is the
 * frame store's, allocated as the daemon allocates it. Before every timed
 * pass the guest draws the source again and this core's caches are filled
 * with other data (bench_guest_draw): the source is as cold as it is live.
 * Usage: bench_pipeline   (medians; one line per case, then a ratio line)
 */
#include <drm_fourcc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "bench_util.h"
#include "frame_diff.h"
#include "frame_store.h"

enum bench_case { CASE_NONE, CASE_TILE, CASE_FULL };

static const char *const case_names[] = { "none", "tile", "full" };

struct bench {
	struct pixel_layout layout;
	size_t size;
	uint8_t *src[2]; /* the two flip buffers */
	uint8_t *prev[2]; /* memcmp's copies of the two frames: touched by it alone, as fb is */
	uint8_t *copy;	 /* memcpy's destination */
	uint8_t *evict;  /* what the guest's drawing leaves in this core's caches */
	struct frame_store *store;
	struct frame_diff *diff;
};

static volatile int sink; /* keeps the compiler from dropping the memcmp floor */

/* The second buffer: equal, one 64x64 tile mid-picture different, or every byte different. */
static void make_second(struct bench *b, enum bench_case c)
{
	const struct pixel_layout *l = &b->layout;
	uint32_t x0 = l->width / 2 / DAMAGE_TILE * DAMAGE_TILE;
	uint32_t y0 = l->height / 2 / DAMAGE_TILE * DAMAGE_TILE;

	memcpy(b->src[1], b->src[0], b->size);
	if (c == CASE_FULL) {
		for (size_t i = 0; i < b->size; i++)
			b->src[1][i] ^= 0x5a;
	} else if (c == CASE_TILE) {
		for (uint32_t y = y0; y < y0 + DAMAGE_TILE; y++)
			for (uint32_t i = 0; i < DAMAGE_TILE * 4; i++)
				b->src[1][(size_t)y * l->stride + x0 * 4 + i] ^= 0x5a;
	}
}

static uint8_t *map_new(size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

static void map_free(uint8_t *p, size_t size)
{
	if (p)
		munmap(p, size);
}

static int bench_init(struct bench *b, uint32_t width, uint32_t height)
{
	memset(b, 0, sizeof(*b));
	b->layout = (struct pixel_layout){ DRM_FORMAT_XRGB8888, DRM_FORMAT_MOD_LINEAR, width,
					   height, width * 4 };
	b->size = (size_t)width * 4 * height;
	b->src[0] = map_new(b->size);
	b->src[1] = map_new(b->size);
	b->prev[0] = map_new(b->size);
	b->prev[1] = map_new(b->size);
	b->copy = map_new(b->size);
	b->evict = map_new(BENCH_EVICT_BYTES);
	b->store = frame_store_new();
	b->diff = frame_diff_new();
	if (!b->src[0] || !b->src[1] || !b->prev[0] || !b->prev[1] || !b->copy || !b->evict ||
	    !b->store || !b->diff)
		return -1;
	bench_fill_random(b->src[0], b->size);
	memset(b->copy, 0, b->size);
	return 0;
}

static void bench_done(struct bench *b)
{
	frame_diff_free(b->diff);
	frame_store_free(b->store);
	map_free(b->evict, BENCH_EVICT_BYTES);
	map_free(b->copy, b->size);
	map_free(b->prev[1], b->size);
	map_free(b->prev[0], b->size);
	map_free(b->src[1], b->size);
	map_free(b->src[0], b->size);
}

/* One flip as the display loop handles it; returns the dirty tiles. */
static uint32_t apply(struct bench *b, const uint8_t *src)
{
	const struct damage_map *d = NULL;
	uint8_t *fb;
	size_t stride;
	bool resized;

	if (frame_store_begin_write(b->store, b->layout.width, b->layout.height, &fb, &stride,
				    &resized) < 0)
		return UINT32_MAX;
	if (resized)
		frame_diff_reset(b->diff);
	d = frame_diff_apply(b->diff, &b->layout, src, b->size, fb, stride);
	frame_store_end_write(b->store, d);
	return d ? d->dirty_count : UINT32_MAX;
}

/* Every row compared whole, as a full pass would: memcmp stops at the first difference. */
static void compare_rows(const struct bench *b, const uint8_t *cur, const uint8_t *prev)
{
	int acc = 0;

	for (uint32_t y = 0; y < b->layout.height; y++) {
		size_t off = (size_t)y * b->layout.stride;

		acc |= memcmp(cur + off, prev + off, (size_t)b->layout.width * 4);
	}
	sink = acc;
}

/* Times one flip of each kind; the order rotates so none always runs on a warmer cache. */
static int time_flip(struct bench *b, int i, uint32_t want_dirty, double *t)
{
	uint8_t *cur = b->src[i % 2];

	for (int k = 0; k < 3; k++) {
		int which = (i + k) % 3;
		bench_guest_draw(cur, b->size, b->evict);
		double t0 = bench_now_ms(CLOCK_MONOTONIC);

		if (which == 0) {
			if (apply(b, cur) != want_dirty)
				return -1;
		} else if (which == 1) {
			compare_rows(b, cur, b->prev[(i + 1) % 2]);
		} else {
			memcpy(b->copy, cur, b->size);
		}
		t[which] = bench_now_ms(CLOCK_MONOTONIC) - t0;
	}
	return 0;
}

static int run_case(uint32_t width, uint32_t height, enum bench_case c, int reps)
{
	struct bench b = { 0 };
	double *t = calloc((size_t)reps * 3, sizeof(*t)), one[3], med[3];
	uint32_t tiles = ((width + DAMAGE_TILE - 1) / DAMAGE_TILE) *
			 ((height + DAMAGE_TILE - 1) / DAMAGE_TILE);
	uint32_t want = c == CASE_NONE ? 0 : c == CASE_TILE ? 1 : tiles;
	int ret = -1;

	if (!t || bench_init(&b, width, height) < 0)
		goto out;
	make_second(&b, c);
	memcpy(b.prev[0], b.src[0], b.size);
	memcpy(b.prev[1], b.src[1], b.size);

	if (apply(&b, b.src[1]) != tiles) /* the framebuffer now holds the "previous" frame */
		goto out;
	for (int i = 0; i < reps; i++) {
		if (time_flip(&b, i, want, one) < 0) {
			fprintf(stderr, "bench_pipeline: case %s: wrong damage\n", case_names[c]);
			goto out;
		}
		for (int k = 0; k < 3; k++)
			t[k * reps + i] = one[k];
	}
	for (int k = 0; k < 3; k++)
		med[k] = bench_median(t + k * reps, reps);
	printf("case=%s size=%ux%u ours_ms=%.3f memcmp_ms=%.3f memcpy_ms=%.3f\n", case_names[c],
	       width, height, med[0], med[1], med[2]);
	if (c == CASE_FULL)
		printf("ratio case=%s size=%ux%u ours/memcpy=%.2f goal<=1.20 %s\n", case_names[c],
		       width, height, med[0] / med[2], med[0] <= 1.2 * med[2] ? "met" : "MISSED");
	else
		printf("ratio case=%s size=%ux%u ours/memcmp=%.2f goal<=1.10 %s\n", case_names[c],
		       width, height, med[0] / med[1], med[0] <= 1.1 * med[1] ? "met" : "MISSED");
	fflush(stdout);
	ret = 0;
out:
	bench_done(&b);
	free(t);
	return ret;
}

int main(void)
{
	static const struct {
		uint32_t width, height;
		int reps;
	} sizes[] = { { 1920, 1080, 200 }, { 3840, 2160, 50 } };
	int status = 0;

	fprintf(stderr, "bench_pipeline: library built as %s\n", BENCH_BUILD_TYPE);
	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++)
		for (int c = CASE_NONE; c <= CASE_FULL; c++)
			if (run_case(sizes[s].width, sizes[s].height, c, sizes[s].reps) < 0)
				status = 1;
	return status;
}
