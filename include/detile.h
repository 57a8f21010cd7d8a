/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef MDEV_VNCD_DETILE_H
#define MDEV_VNCD_DETILE_H

#include <stddef.h>
#include <stdint.h>

/*
 * CPU detiling of Intel 4 KiB tiles (X, legacy Y, Yf). Inside a tile the
 * byte offset is built from the bits of the byte column and of the row,
 * interleaved: x_mask names the offset bits taken, lowest first, from the
 * byte column, y_mask those taken from the row. Every layout here keeps
 * offset bits 0..3 for the byte column, so 16-byte runs are contiguous.
 */
struct tiling {
	uint32_t width_bytes; /* a power of two, 64..512 */
	uint32_t height_rows;
	uint32_t x_mask;
	uint32_t y_mask;
	/* Derived from the masks once, on first use: */
	uint32_t run_offset[32];  /* in-tile offset of each 16-byte run of a row */
	uint32_t line_offset[64]; /* in-tile offset of each row's first byte */
	uint8_t run_row[256];     /* row, and 16-byte column, of each run of a */
	uint8_t run_column[256];  /* tile in memory order */
};

/*
 * Tile layout of an I915_FORMAT_MOD_{X,Y,Yf}_TILED modifier for a format of
 * bytes_per_pixel; NULL if we do not detile that. Static storage,
 * thread-safe.
 */
const struct tiling *tiling_get(uint64_t modifier, unsigned bytes_per_pixel);

/* One tiled surface being read. */
struct detiler {
	const struct tiling *tiling;
	const uint8_t *src;
	size_t band_bytes; /* stride x tile rows: one row of tiles */
	uint32_t width_shift; /* log2(tile width in bytes) */
};

void detile_init(struct detiler *d, const struct tiling *t, const uint8_t *src, uint32_t stride);

/*
 * Copies rows [y, y + rows) x bytes [bx, bx + len) of the tiled surface into
 * out, a linear picture of out_stride bytes per row. Reads only the tiles
 * that hold those bytes.
 */
void detile_rect(const struct detiler *d, uint32_t y, uint32_t rows, uint32_t bx, uint32_t len,
		 uint8_t *out, size_t out_stride);

#endif
