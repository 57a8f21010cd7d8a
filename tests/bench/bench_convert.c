// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Full-frame conversion cost at 3840x2160 for every format and tiling,
 * against memcpy of the XRGB8888 frame measured in the same run. Each pass
 * reads a source the guest has just drawn again, out of this core's caches
 * (bench_guest_draw), as the daemon does live.
 * Usage: bench_convert [repetitions [format]]  (default 31 repetitions, all
 * formats; medians are printed)
 */
#include <drm_fourcc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"
#include "convert.h"

#define WIDTH 3840u
#define HEIGHT 2160u

static const struct {
	uint32_t fourcc;
	const char *name;
} formats[] = {
	{ DRM_FORMAT_XRGB8888, "XRGB8888" },	   { DRM_FORMAT_ARGB8888, "ARGB8888" },
	{ DRM_FORMAT_XBGR8888, "XBGR8888" },	   { DRM_FORMAT_ABGR8888, "ABGR8888" },
	{ DRM_FORMAT_RGB565, "RGB565" },	   { DRM_FORMAT_XRGB2101010, "XRGB2101010" },
	{ DRM_FORMAT_XBGR2101010, "XBGR2101010" }, { DRM_FORMAT_YUYV, "YUYV" },
	{ DRM_FORMAT_UYVY, "UYVY" },		   { DRM_FORMAT_YVYU, "YVYU" },
	{ DRM_FORMAT_VYUY, "VYUY" },		   { DRM_FORMAT_C8, "C8" },
};

static const struct {
	uint64_t modifier;
	const char *name;
} modifiers[] = {
	{ DRM_FORMAT_MOD_LINEAR, "linear" },
	{ I915_FORMAT_MOD_X_TILED, "x" },
	{ I915_FORMAT_MOD_Y_TILED, "y" },
	{ I915_FORMAT_MOD_Yf_TILED, "yf" },
};

/* Builds a 4K plane of random bytes sized as the device would hand it out. */
static uint8_t *plane_new(struct pixel_layout *l, size_t *size)
{
	struct tile_geometry g;
	uint32_t rows;
	uint8_t *buf;

	l->width = WIDTH;
	l->height = HEIGHT;
	l->stride = WIDTH * convert_bytes_per_pixel(l->fourcc);
	g = convert_tile_geometry(l);
	l->stride = (l->stride + g.width_bytes - 1) / g.width_bytes * g.width_bytes;
	rows = (HEIGHT + g.height_rows - 1) / g.height_rows * g.height_rows;
	*size = (size_t)l->stride * rows;
	buf = malloc(*size);
	if (!buf)
		return NULL;
	for (size_t i = 0; i < *size; i++)
		buf[i] = (uint8_t)(rand() >> 7);
	return buf;
}

static int bench_one(uint32_t fourcc, uint64_t modifier, uint8_t *dst, uint8_t *copy,
		     uint8_t *evict, int reps, double *ours_ms, double *memcpy_ms)
{
	struct pixel_layout l = { .fourcc = fourcc, .modifier = modifier };
	struct rect all = { 0, 0, WIDTH, HEIGHT };
	size_t frame = (size_t)WIDTH * HEIGHT * 4, size;
	double ours[reps], base[reps];
	const char *why;
	uint8_t *src = plane_new(&l, &size);

	if (!src)
		return -1;
	if (convert_check(&l, size, &why) < 0) {
		fprintf(stderr, "bench_convert: layout rejected: %s\n", why);
		free(src);
		return -1;
	}
	convert_rect(&l, src, dst, WIDTH * 4, all); /* warm up */
	memcpy(copy, dst, frame);
	for (int i = 0; i < reps; i++) {
		bench_guest_draw(src, size, evict);
		double t0 = bench_now_ms(CLOCK_THREAD_CPUTIME_ID);

		convert_rect(&l, src, dst, WIDTH * 4, all);
		ours[i] = bench_now_ms(CLOCK_THREAD_CPUTIME_ID) - t0;
		bench_guest_draw(dst, frame, evict);
		t0 = bench_now_ms(CLOCK_THREAD_CPUTIME_ID);
		memcpy(copy, dst, frame);
		base[i] = bench_now_ms(CLOCK_THREAD_CPUTIME_ID) - t0;
	}
	*ours_ms = bench_median(ours, reps);
	*memcpy_ms = bench_median(base, reps);
	free(src);
	return 0;
}

int main(int argc, char **argv)
{
	int reps = argc > 1 ? atoi(argv[1]) : 31;
	const char *only = argc > 2 ? argv[2] : NULL;
	size_t frame = (size_t)WIDTH * HEIGHT * 4;
	uint8_t *dst = malloc(frame), *copy = malloc(frame), *evict = malloc(BENCH_EVICT_BYTES);
	int status = 0;

	if (reps < 1 || reps > 10000 || !dst || !copy || !evict) {
		fprintf(stderr, "usage: bench_convert [repetitions 1..10000 [format]]\n");
		return 2;
	}
	memset(dst, 0, frame);
	for (size_t f = 0; f < sizeof(formats) / sizeof(formats[0]); f++) {
		if (only && strcmp(only, formats[f].name) != 0)
			continue;
		for (size_t m = 0; m < sizeof(modifiers) / sizeof(modifiers[0]); m++) {
			double ours, base;

			if (bench_one(formats[f].fourcc, modifiers[m].modifier, dst, copy, evict,
				      reps, &ours, &base) < 0) {
				status = 1;
				continue;
			}
			printf("convert format=%s modifier=%s ours_ms=%.3f memcpy_ms=%.3f "
			       "ratio=%.2f\n",
			       formats[f].name, modifiers[m].name, ours, base, ours / base);
			fflush(stdout);
		}
	}
	free(evict);
	free(copy);
	free(dst);
	return status;
}
