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
 * Hashes (XXH3, 64 bits) of a picture's strips as last seen: pixel rows, or
 * rows of hardware tiles. A strip whose hash is known and still matches
 * costs one read of the new picture instead of a comparison with the
 * previous one (two reads, the previous picture cold). Any other strip is
 * compared byte for byte, so the damage found is exact; a strip found
 * changed is forgotten (its next comparison is byte for byte, which stops
 * at the first difference: a picture changing everywhere costs no hashing),
 * one found unchanged is learned, from bytes just read.
 *
 * What a hash cannot prove is bounded in time instead: each pass compares
 * one strip in STRIP_VERIFY_PERIOD byte for byte whatever its hash, so a
 * change hidden by a hash collision (odds 2^-64 per changed strip), or by a
 * guest that rewrote a strip between its comparison and its hashing, shows
 * within that many frames.
 */
#define STRIP_VERIFY_PERIOD 32

struct strip_hashes {
	uint64_t *hash; /* one per strip; 0: not known; owned */
	uint32_t count;
	uint32_t phase; /* strips i with i % STRIP_VERIFY_PERIOD == phase are due */
};

/* Sizes for count strips (hashes then unknown: fill before use). */
int strip_hashes_resize(struct strip_hashes *hashes, uint32_t count);
void strip_hashes_done(struct strip_hashes *hashes);
/* Learns all strips, strip i being len bytes at base + i * stride. */
void strip_hashes_fill(struct strip_hashes *hashes, const uint8_t *base, size_t stride,
		       size_t len);
/* True when strip i, now the len bytes at p, may be trusted unchanged without a comparison. */
bool strip_hashes_unchanged(struct strip_hashes *hashes, uint32_t i, const uint8_t *p, size_t len);
/* After strip i was compared byte for byte: forgets it (changed) or learns p. */
void strip_hashes_settle(struct strip_hashes *hashes, uint32_t i, const uint8_t *p, size_t len,
			 bool changed);
/* Strip i was not looked at: compare it byte for byte next time. */
void strip_hashes_forget(struct strip_hashes *hashes, uint32_t i);
/* Ends a pass over the strips: the next strips become due. */
void strip_hashes_next_pass(struct strip_hashes *hashes);

/*
 * damage_compare_linear reading prev only for the pixel rows whose hash is
 * not known to match (hashes: one strip per pixel row, learned from the
 * picture prev holds).
 */
void damage_compare_hashed(struct damage_map *map, struct strip_hashes *hashes,
			   const uint8_t *cur, size_t cur_stride, const uint8_t *prev,
			   size_t prev_stride, unsigned bytes_per_pixel);

/*
 * Covers the dirty tiles with few rectangles (runs of tiles in a tile row,
 * merged downward while the next row has the same run), clipped to the
 * picture. Returns how many were written; out must hold cols * rows.
 */
size_t damage_map_rects(struct damage_map *map, struct rect *out);

#endif
