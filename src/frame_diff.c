// SPDX-License-Identifier: GPL-2.0-or-later
#include "frame_diff.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "drm_formats.h"

struct frame_diff {
	bool valid;
	struct pixel_layout layout;
	bool is_copy;
	bool is_linear;
	unsigned bytes_per_pixel;
	uint8_t *shadow; /* previous source bytes, for formats that are not a copy */
	size_t shadow_size;
	struct damage_map damage;
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
	if (!diff->is_copy && diff->shadow_size != src_size) {
		free(diff->shadow);
		diff->shadow = malloc(src_size);
		diff->shadow_size = diff->shadow ? src_size : 0;
		if (!diff->shadow)
			return -1;
	}
	return 0;
}

/* Keeps the shadow equal to the source where the framebuffer was rewritten. */
static void update_shadow(struct frame_diff *diff, const uint8_t *src, const struct rect *r)
{
	if (!diff->is_linear) {
		memcpy(diff->shadow, src, diff->shadow_size);
		return;
	}
	size_t off = (size_t)r->x * diff->bytes_per_pixel;
	size_t len = (size_t)r->width * diff->bytes_per_pixel;
	for (uint32_t y = r->y; y < r->y + r->height; y++) {
		size_t row = (size_t)y * diff->layout.stride;
		memcpy(diff->shadow + row + off, src + row + off, len);
	}
}

static void find_damage(struct frame_diff *diff, const uint8_t *src, const uint8_t *fb,
			size_t fb_stride)
{
	if (diff->is_copy) {
		damage_compare_linear(&diff->damage, src, diff->layout.stride, fb, fb_stride, 4);
	} else if (diff->is_linear) {
		damage_compare_linear(&diff->damage, src, diff->layout.stride, diff->shadow,
				      diff->layout.stride, diff->bytes_per_pixel);
	} else if (memcmp(src, diff->shadow, diff->shadow_size) != 0) {
		/* Tiled: one compare of the whole buffer tells whether anything moved. */
		damage_map_mark_all(&diff->damage);
	}
}

const struct damage_map *frame_diff_apply(struct frame_diff *diff, const struct pixel_layout *layout,
					  const uint8_t *src, size_t src_size, uint8_t *fb,
					  size_t fb_stride)
{
	if (!diff->valid || !same_layout(&diff->layout, layout) ||
	    (!diff->is_copy && diff->shadow_size != src_size)) {
		if (frame_diff_start(diff, layout, src_size) < 0)
			return NULL;
		damage_map_mark_all(&diff->damage);
	} else {
		damage_map_clear(&diff->damage);
		find_damage(diff, src, fb, fb_stride);
		if (damage_map_empty(&diff->damage))
			return &diff->damage;
	}

	size_t n = damage_map_rects(&diff->damage, diff->rects);
	for (size_t i = 0; i < n; i++) {
		convert_rect(layout, src, fb, fb_stride, diff->rects[i]);
		if (!diff->is_copy)
			update_shadow(diff, src, &diff->rects[i]);
	}
	diff->valid = true;
	return &diff->damage;
}
