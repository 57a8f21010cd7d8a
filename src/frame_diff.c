// SPDX-License-Identifier: GPL-2.0-or-later
#include "frame_diff.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "drm_formats.h"

/* Intel hardware tiles are 4 KiB, stored whole one after the other along a tile row. */
#define HW_TILE_BYTES 4096u

struct frame_diff {
	bool valid;
	struct pixel_layout layout;
	bool is_copy;
	bool is_linear;
	unsigned bytes_per_pixel;
	size_t row_bytes; /* bytes a row's pixels use: a 4:2:2 row ends on a whole macropixel */
	struct tile_geometry tile; /* hardware tile, for tiled layouts */
	uint8_t *shadow; /* previous source bytes, for formats that are not a copy */
	size_t shadow_size;
	struct damage_map damage;
	struct strip_hashes hashes; /* of the source: pixel rows, or bands of hardware tiles */
	struct rect *rects;
};

struct frame_diff *frame_diff_new(void)
{
	return calloc(1, sizeof(struct frame_diff));
}

void frame_diff_free(struct frame_diff *diff)
{
	if (!diff)
		return;
	free(diff->shadow);
	free(diff->rects);
	damage_map_done(&diff->damage);
	strip_hashes_done(&diff->hashes);
	free(diff);
}

void frame_diff_reset(struct frame_diff *diff)
{
	diff->valid = false;
}

static bool same_layout(const struct pixel_layout *a, const struct pixel_layout *b)
{
	return a->fourcc == b->fourcc && a->modifier == b->modifier && a->width == b->width &&
	       a->height == b->height && a->stride == b->stride;
}

static bool is_422(uint32_t fourcc)
{
	return fourcc == DRM_FORMAT_YUYV || fourcc == DRM_FORMAT_UYVY || fourcc == DRM_FORMAT_YVYU ||
	       fourcc == DRM_FORMAT_VYUY;
}

/* A tiled layout's bands (rows of hardware tiles): how many, and the bytes of tiles each shows. */
static uint32_t tiled_bands(const struct frame_diff *diff, size_t *run)
{
	const struct pixel_layout *l = &diff->layout;
	uint32_t cols = (l->width * diff->bytes_per_pixel + diff->tile.width_bytes - 1) /
			diff->tile.width_bytes;
	*run = (size_t)cols * HW_TILE_BYTES;
	return (l->height + diff->tile.height_rows - 1) / diff->tile.height_rows;
}

/* Records the hashes of the source's strips, before it is converted whole. */
static void hash_source(struct frame_diff *diff, const uint8_t *src)
{
	if (diff->is_linear) {
		strip_hashes_fill(&diff->hashes, src, diff->layout.stride,
				  (size_t)diff->layout.width * diff->bytes_per_pixel);
	} else {
		size_t run;
		tiled_bands(diff, &run);
		strip_hashes_fill(&diff->hashes, src,
				  (size_t)diff->layout.stride * diff->tile.height_rows, run);
	}
}

/* Sizes everything for a new layout; the caller converts the whole picture. */
static int frame_diff_start(struct frame_diff *diff, const struct pixel_layout *layout,
			    size_t src_size)
{
	diff->valid = false;
	if (diff->damage.width != layout->width || diff->damage.height != layout->height) {
		damage_map_done(&diff->damage);
		free(diff->rects);
		diff->rects = NULL;
		if (damage_map_init(&diff->damage, layout->width, layout->height) < 0)
			return -1;
		diff->rects = calloc((size_t)diff->damage.cols * diff->damage.rows,
				     sizeof(*diff->rects));
		if (!diff->rects)
			return -1;
	}
	diff->layout = *layout;
	diff->is_copy = convert_is_copy(layout);
	diff->is_linear = layout->modifier == DRM_FORMAT_MOD_LINEAR;
	diff->bytes_per_pixel = convert_bytes_per_pixel(layout->fourcc);
	diff->tile = convert_tile_geometry(layout);
	diff->row_bytes = (size_t)layout->width * diff->bytes_per_pixel;
	if (is_422(layout->fourcc) && layout->width % 2)
		diff->row_bytes += diff->bytes_per_pixel;
	size_t run;
	uint32_t strips = diff->is_linear ? layout->height : tiled_bands(diff, &run);
	if (strip_hashes_resize(&diff->hashes, strips) < 0)
		return -1;
	if (!diff->is_copy && diff->shadow_size != src_size) {
		free(diff->shadow);
		diff->shadow = malloc(src_size);
		diff->shadow_size = diff->shadow ? src_size : 0;
		if (!diff->shadow)
			return -1;
	}
	return 0;
}

/*
 * Brings the shadow's rows of r up to date. Done before r is converted: if
 * the guest writes in between, the shadow holds the older bytes and the next
 * frame converts r again, where copying after would hide that write forever.
 */
static void update_shadow_rows(struct frame_diff *diff, const uint8_t *src, const struct rect *r)
{
	size_t off = (size_t)r->x * diff->bytes_per_pixel;
	size_t len = r->x + r->width < diff->layout.width ? (size_t)r->width * diff->bytes_per_pixel
							   : diff->row_bytes - off;

	for (uint32_t y = r->y; y < r->y + r->height; y++) {
		size_t row = (size_t)y * diff->layout.stride;
		memcpy(diff->shadow + row + off, src + row + off, len);
	}
}

/* Marks the damage tiles under hardware tile (col, band): its pixels, clipped by the map. */
static void mark_hw_tile(struct frame_diff *diff, uint32_t col, uint32_t band)
{
	uint32_t px_per_tile = diff->tile.width_bytes / diff->bytes_per_pixel;
	struct rect r = {
		.x = col * px_per_tile,
		.y = band * diff->tile.height_rows,
		.width = px_per_tile,
		.height = diff->tile.height_rows,
	};
	damage_map_mark_rect(&diff->damage, r);
}

/*
 * Tiled: compare hardware tile by hardware tile, the way they lie in memory.
 * Each tile row's visible tiles are one contiguous run, hashed or compared
 * in one go; only a run that differs is compared tile by tile. Changed
 * tiles are copied into the shadow at once (before they are converted, see
 * update_shadow_rows).
 */
static void find_tiled_damage(struct frame_diff *diff, const uint8_t *src)
{
	size_t run;
	uint32_t bands = tiled_bands(diff, &run);
	uint32_t cols = (uint32_t)(run / HW_TILE_BYTES);
	size_t band_bytes = (size_t)diff->layout.stride * diff->tile.height_rows;

	for (uint32_t band = 0; band < bands; band++) {
		const uint8_t *s = src + band * band_bytes;
		uint8_t *p = diff->shadow + band * band_bytes;

		if (strip_hashes_unchanged(&diff->hashes, band, s, run))
			continue;
		bool changed = memcmp(s, p, run) != 0;
		strip_hashes_settle(&diff->hashes, band, s, run, changed);
		for (uint32_t col = 0; changed && col < cols; col++) {
			size_t off = (size_t)col * HW_TILE_BYTES;

			if (memcmp(s + off, p + off, HW_TILE_BYTES) == 0)
				continue;
			memcpy(p + off, s + off, HW_TILE_BYTES);
			mark_hw_tile(diff, col, band);
		}
	}
	strip_hashes_next_pass(&diff->hashes);
}

/*
 * A 4:2:2 row of odd width ends in half a macropixel: the last pixel's V
 * (or U) byte lies past the bytes damage_compare_linear reads.
 */
static void find_last_chroma_damage(struct frame_diff *diff, const uint8_t *src)
{
	const struct pixel_layout *l = &diff->layout;
	size_t off = (size_t)l->width * diff->bytes_per_pixel;

	if (off == diff->row_bytes)
		return;
	for (uint32_t y = 0; y < l->height; y++) {
		size_t row = (size_t)y * l->stride + off;

		if (memcmp(src + row, diff->shadow + row, diff->row_bytes - off) != 0)
			damage_map_mark_rect(&diff->damage, (struct rect){ l->width - 1, y, 1, 1 });
	}
}

static void find_damage(struct frame_diff *diff, const uint8_t *src, const uint8_t *fb,
			size_t fb_stride)
{
	if (diff->is_copy) {
		damage_compare_hashed(&diff->damage, &diff->hashes, src, diff->layout.stride, fb,
				      fb_stride, 4);
	} else if (diff->is_linear) {
		damage_compare_hashed(&diff->damage, &diff->hashes, src, diff->layout.stride,
				      diff->shadow, diff->layout.stride, diff->bytes_per_pixel);
		find_last_chroma_damage(diff, src);
	} else {
		find_tiled_damage(diff, src);
	}
}

const struct damage_map *frame_diff_apply(struct frame_diff *diff, const struct pixel_layout *layout,
					  const uint8_t *src, size_t src_size, uint8_t *fb,
					  size_t fb_stride)
{
	bool linear_shadow = false;

	if (!diff->valid || !same_layout(&diff->layout, layout) ||
	    (!diff->is_copy && diff->shadow_size != src_size)) {
		if (frame_diff_start(diff, layout, src_size) < 0)
			return NULL;
		damage_map_mark_all(&diff->damage);
		hash_source(diff, src);
		if (!diff->is_copy)
			memcpy(diff->shadow, src, diff->shadow_size);
	} else {
		damage_map_clear(&diff->damage);
		find_damage(diff, src, fb, fb_stride);
		if (damage_map_empty(&diff->damage))
			return &diff->damage;
		linear_shadow = !diff->is_copy && diff->is_linear;
	}

	size_t n = damage_map_rects(&diff->damage, diff->rects);
	for (size_t i = 0; i < n; i++) {
		if (linear_shadow)
			update_shadow_rows(diff, src, &diff->rects[i]);
		convert_rect(layout, src, fb, fb_stride, diff->rects[i]);
	}
	diff->valid = true;
	return &diff->damage;
}
