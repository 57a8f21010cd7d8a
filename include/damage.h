/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef MDEV_VNCD_DAMAGE_H
#define MDEV_VNCD_DAMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rect.h"

/*
 * Which 64x64 tiles of a picture changed. 64 is TigerVNC's block: small
 * enough that a moving cursor or a clock costs a few KiB, large enough that
 * the per-tile bookkeeping is noise beside the pixel work.
 */
#define DAMAGE_TILE 64

struct damage_map {
	uint32_t width, height; /* picture size in pixels */
	uint32_t cols, rows;    /* tiles */
	uint32_t dirty_count;
	uint8_t *dirty;         /* cols * rows flags, row-major; owned */
	uint32_t *row_dirty;    /* dirty tiles per tile row; owned */
	uint8_t *scratch;       /* cols * rows, for damage_map_rects; owned */
};

int damage_map_init(struct damage_map *map, uint32_t width, uint32_t height);
void damage_map_done(struct damage_map *map);

void damage_map_clear(struct damage_map *map);
void damage_map_mark_all(struct damage_map *map);
void damage_map_mark_rect(struct damage_map *map, struct rect r);
/* dst |= src; both of the same size. */
void damage_map_merge(struct damage_map *dst, const struct damage_map *src);

static inline bool damage_map_empty(const struct damage_map *map)
{
	return map->dirty_count == 0;
}

/*
 * Marks the tiles where two linear pictures differ. Each pixel row is first
 * compared whole, so an unchanged frame costs one pass of memcmp; only rows
 * that differ are examined tile by tile, and tiles already known dirty are
 * not compared again.
 */
void damage_compare_linear(struct damage_map *map, const uint8_t *cur, size_t cur_stride,
			   const uint8_t *prev, size_t prev_stride, unsigned bytes_per_pixel);

/*
 * Covers the dirty tiles with few rectangles (runs of tiles in a tile row,
 * merged downward while the next row has the same run), clipped to the
 * picture. Returns how many were written; out must hold cols * rows.
 */
size_t damage_map_rects(struct damage_map *map, struct rect *out);

#endif
