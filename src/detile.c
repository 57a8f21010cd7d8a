// SPDX-License-Identifier: GPL-2.0-or-later
#include "detile.h"

#include <drm_fourcc.h>
#include <errno.h>
#include <string.h>

#define TILE_SHIFT 12
#define RUN_BYTES 16u

/*
 * X tile: 512 bytes x 8 rows, row-major: offset = row * 512 + x. Every
 * row of a tile is one 512-byte run.
 */
static const struct tiling tiling_x = { 512, 8, 0x1ff, 0xe00 };

/*
 * Legacy Y tile: 128 bytes x 32 rows, cut into eight 16-byte (OWord) wide
 * columns stored one after the other, each column 32 rows top to bottom:
 * offset = (x / 16) * 512 + row * 16 + x % 16.
 */
static const struct tiling tiling_y = { 128, 32, 0xe0f, 0x1f0 };

/*
 * Yf ("standard" tiling, Skylake+) interleaves x and y bits above the
 * 16-byte run, and the interleave depends on the bits per pixel. The
 * layouts come from Intel's GMM library (gmmlib, CpuSwizzleBlt.c,
 * INTEL_TILE_YF_8/16/32), offset bits 11..0 listed high to low:
 *   16 and 32 bpp, 128 bytes x 32 rows: x6 y4 x5 y3 x4 y2 y1 y0 x3 x2 x1 x0
 *   8 bpp, 64 bytes x 64 rows:          x5 y5 x4 y4 y3 y2 y1 y0 x3 x2 x1 x0
 * which matches the tile sizes i915 uses for Yf (intel_tile_width_bytes).
 * The Intel PRM text itself was not at hand to cross-check.
 */
static const struct tiling tiling_yf_16_32 = { 128, 32, 0xa8f, 0x570 };
static const struct tiling tiling_yf_8 = { 64, 64, 0xa0f, 0x5f0 };

int tiling_get(uint64_t modifier, unsigned bytes_per_pixel, struct tiling *out)
{
	if (modifier == I915_FORMAT_MOD_X_TILED)
		*out = tiling_x;
	else if (modifier == I915_FORMAT_MOD_Y_TILED)
		*out = tiling_y;
	else if (modifier == I915_FORMAT_MOD_Yf_TILED && bytes_per_pixel == 1)
		*out = tiling_yf_8;
	else if (modifier == I915_FORMAT_MOD_Yf_TILED &&
		 (bytes_per_pixel == 2 || bytes_per_pixel == 4))
		*out = tiling_yf_16_32;
	else
		return -ENOTSUP;
	return 0;
}

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

void detile_init(struct detiler *d, const struct tiling *t, const uint8_t *src, uint32_t stride)
{
	d->tiling = *t;
	d->src = src;
	d->band_bytes = (size_t)stride * t->height_rows;
	d->width_shift = (uint32_t)__builtin_ctz(t->width_bytes);
	for (uint32_t k = 0; k < t->width_bytes / RUN_BYTES; k++)
		d->run_offset[k] = deposit(k * RUN_BYTES, t->x_mask);
}

void detile_row(const struct detiler *d, uint32_t y, uint32_t bx, uint32_t len, uint8_t *out)
{
	const struct tiling *t = &d->tiling;
	const uint8_t *band = d->src + (size_t)(y / t->height_rows) * d->band_bytes +
			      deposit(y % t->height_rows, t->y_mask);
	uint32_t runs_per_tile = t->width_bytes / RUN_BYTES;
	uint32_t end = bx + len;

	while (bx < end) {
		const uint8_t *tile = band + ((size_t)(bx >> d->width_shift) << TILE_SHIFT);
		uint32_t k = (bx & (t->width_bytes - 1)) / RUN_BYTES;
		uint32_t skip = bx % RUN_BYTES;

		if (skip == 0 && end - bx >= RUN_BYTES) {
			/* Constant-size copies: the compiler turns them into one
			 * vector load and store each. */
			uint32_t runs = runs_per_tile - k;

			if (runs > (end - bx) / RUN_BYTES)
				runs = (end - bx) / RUN_BYTES;
			for (uint32_t i = 0; i < runs; i++)
				memcpy(out + i * RUN_BYTES, tile + d->run_offset[k + i], RUN_BYTES);
			out += runs * RUN_BYTES;
			bx += runs * RUN_BYTES;
		} else {
			uint32_t n = RUN_BYTES - skip;

			if (n > end - bx)
				n = end - bx;
			memcpy(out, tile + d->run_offset[k] + skip, n);
			out += n;
			bx += n;
		}
	}
}
