// SPDX-License-Identifier: GPL-2.0-or-later
#include "detile.h"

#include <drm_fourcc.h>
#include <pthread.h>
#include <stdbool.h>
#include <string.h>

#define TILE_SHIFT 12
#define RUN_BYTES 16u
#define RUNS_PER_TILE 256u

enum { X_TILED, Y_TILED, YF_TILED_16_32, YF_TILED_8, NUM_TILINGS };

static struct tiling tilings[NUM_TILINGS] = {
	/*
	 * X tile: 512 bytes x 8 rows, row-major: offset = row * 512 + x.
	 * Every row of a tile is one 512-byte run.
	 */
	[X_TILED] = { .width_bytes = 512, .height_rows = 8, .x_mask = 0x1ff, .y_mask = 0xe00 },
	/*
	 * Legacy Y tile: 128 bytes x 32 rows, cut into eight 16-byte (OWord)
	 * wide columns stored one after the other, each column 32 rows top to
	 * bottom: offset = (x / 16) * 512 + row * 16 + x % 16.
	 */
	[Y_TILED] = { .width_bytes = 128, .height_rows = 32, .x_mask = 0xe0f, .y_mask = 0x1f0 },
	/*
	 * Yf ("standard" tiling, Skylake+) interleaves x and y bits above the
	 * 16-byte run, and the interleave depends on the bits per pixel. The
	 * layouts come from Intel's GMM library (gmmlib, CpuSwizzleBlt.c,
	 * INTEL_TILE_YF_8/16/32), offset bits 11..0 listed high to low:
	 *   16 and 32 bpp, 128 bytes x 32 rows: x6 y4 x5 y3 x4 y2 y1 y0 x3..x0
	 *   8 bpp, 64 bytes x 64 rows:          x5 y5 x4 y4 y3 y2 y1 y0 x3..x0
	 * The tile sizes match i915's for Yf (intel_tile_width_bytes). The
	 * Intel PRM text itself was not at hand to cross-check the interleave.
	 */
	[YF_TILED_16_32] = { .width_bytes = 128, .height_rows = 32, .x_mask = 0xa8f,
			     .y_mask = 0x570 },
	[YF_TILED_8] = { .width_bytes = 64, .height_rows = 64, .x_mask = 0xa0f, .y_mask = 0x5f0 },
};
static pthread_once_t tilings_once = PTHREAD_ONCE_INIT;

/* Spreads the low bits of value over the set bits of mask, lowest first. */
static uint32_t deposit(uint32_t value, uint32_t mask)
{
	uint32_t out = 0;

	for (uint32_t bit = 1; mask; bit <<= 1) {
		if (mask & bit) {
			if (value & 1)
				out |= bit;
			value >>= 1;
			mask &= ~bit;
		}
	}
	return out;
}

/* The inverse: gathers the bits of value under mask into the low bits. */
static uint32_t extract(uint32_t value, uint32_t mask)
{
	uint32_t out = 0, next = 1;

	for (uint32_t bit = 1; mask; bit <<= 1) {
		if (mask & bit) {
			if (value & bit)
				out |= next;
			next <<= 1;
			mask &= ~bit;
		}
	}
	return out;
}

/* The masks unrolled into tables, so detiling does no bit arithmetic. */
static void tilings_fill(void)
{
	for (size_t n = 0; n < NUM_TILINGS; n++) {
		struct tiling *t = &tilings[n];

		for (uint32_t k = 0; k < t->width_bytes / RUN_BYTES; k++)
			t->run_offset[k] = deposit(k * RUN_BYTES, t->x_mask);
		for (uint32_t v = 0; v < t->height_rows; v++)
			t->line_offset[v] = deposit(v, t->y_mask);
		for (uint32_t i = 0; i < RUNS_PER_TILE; i++) {
			t->run_row[i] = (uint8_t)extract(i * RUN_BYTES, t->y_mask);
			t->run_column[i] = (uint8_t)(extract(i * RUN_BYTES, t->x_mask) / RUN_BYTES);
		}
	}
}

const struct tiling *tiling_get(uint64_t modifier, unsigned bytes_per_pixel)
{
	size_t n;

	if (modifier == I915_FORMAT_MOD_X_TILED)
		n = X_TILED;
	else if (modifier == I915_FORMAT_MOD_Y_TILED)
		n = Y_TILED;
	else if (modifier == I915_FORMAT_MOD_Yf_TILED && bytes_per_pixel == 1)
		n = YF_TILED_8;
	else if (modifier == I915_FORMAT_MOD_Yf_TILED &&
		 (bytes_per_pixel == 2 || bytes_per_pixel == 4))
		n = YF_TILED_16_32;
	else
		return NULL;
	pthread_once(&tilings_once, tilings_fill);
	return &tilings[n];
}

void detile_init(struct detiler *d, const struct tiling *t, const uint8_t *src, uint32_t stride)
{
	d->tiling = t;
	d->src = src;
	d->band_bytes = (size_t)stride * t->height_rows;
	d->width_shift = (uint32_t)__builtin_ctz(t->width_bytes);
}

/* Copies bytes [u, u + n) of one row of one tile; line points at that row's
 * first byte in the tile. */
static void copy_tile_row(const struct detiler *d, const uint8_t *line, uint32_t u, uint32_t n,
			  uint8_t *out)
{
	uint32_t end = u + n;

	if (u % RUN_BYTES) {
		uint32_t head = RUN_BYTES - u % RUN_BYTES;

		if (head > n)
			head = n;
		memcpy(out, line + d->tiling->run_offset[u / RUN_BYTES] + u % RUN_BYTES, head);
		out += head;
		u += head;
	}
	for (; u + RUN_BYTES <= end; u += RUN_BYTES, out += RUN_BYTES)
		memcpy(out, line + d->tiling->run_offset[u / RUN_BYTES], RUN_BYTES);
	if (u < end)
		memcpy(out, line + d->tiling->run_offset[u / RUN_BYTES], end - u);
}

/* Where each run of a tile, in memory order, goes in the output. */
static bool whole_tile_offsets(const struct tiling *t, size_t out_stride, size_t *dst_offset)
{
	for (uint32_t i = 0; i < RUNS_PER_TILE; i++)
		dst_offset[i] = t->run_row[i] * out_stride + t->run_column[i] * RUN_BYTES;
	return true;
}

/* A whole tile, read front to back: where each run lands is precomputed. */
static void copy_whole_tile(const uint8_t *tile, uint8_t *out, const size_t *dst_offset)
{
	for (uint32_t i = 0; i < RUNS_PER_TILE; i++)
		memcpy(out + dst_offset[i], tile + i * RUN_BYTES, RUN_BYTES);
}

void detile_rect(const struct detiler *d, uint32_t y, uint32_t rows, uint32_t bx, uint32_t len,
		 uint8_t *out, size_t out_stride)
{
	const uint32_t th = d->tiling->height_rows, tw = d->tiling->width_bytes;
	const uint32_t end_y = y + rows, end_x = bx + len;
	size_t dst_offset[RUNS_PER_TILE];
	bool have_offsets = false;

	for (uint32_t y0 = y; y0 < end_y;) {
		const uint8_t *band = d->src + (size_t)(y0 / th) * d->band_bytes;
		uint32_t y1 = (y0 / th + 1) * th < end_y ? (y0 / th + 1) * th : end_y;
		bool whole_rows = y0 % th == 0 && y1 - y0 == th;

		for (uint32_t x0 = bx; x0 < end_x;) {
			const uint8_t *tile = band + ((size_t)(x0 >> d->width_shift) << TILE_SHIFT);
			uint32_t x1 = (x0 / tw + 1) * tw < end_x ? (x0 / tw + 1) * tw : end_x;
			uint8_t *o = out + (size_t)(y0 - y) * out_stride + (x0 - bx);

			if (whole_rows && x0 % tw == 0 && x1 - x0 == tw) {
				if (!have_offsets)
					have_offsets = whole_tile_offsets(d->tiling, out_stride,
									  dst_offset);
				copy_whole_tile(tile, o, dst_offset);
			} else {
				for (uint32_t v = y0; v < y1; v++, o += out_stride)
					copy_tile_row(d, tile + d->tiling->line_offset[v % th], x0 % tw,
						      x1 - x0, o);
			}
			x0 = x1;
		}
		y0 = y1;
	}
}
