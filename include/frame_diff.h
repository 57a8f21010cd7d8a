/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef MDEV_VNCD_FRAME_DIFF_H
#define MDEV_VNCD_FRAME_DIFF_H

#include <stddef.h>
#include <stdint.h>

#include "convert.h"
#include "damage.h"

/*
 * The convert + damage stage: finds what changed in the plane since the
 * previous frame and converts only that into the daemon's framebuffer.
 *
 * Changes are found in the source's own layout. Where conversion is a plain
 * copy (XRGB8888/ARGB8888) the framebuffer itself is the previous frame, so
 * nothing extra is kept or copied; other formats keep a shadow of the
 * previous source bytes (owned here).
 */
struct frame_diff;

struct frame_diff *frame_diff_new(void);
void frame_diff_free(struct frame_diff *diff);

/* Forgets the previous frame: the next apply converts everything. */
void frame_diff_reset(struct frame_diff *diff);

/*
 * Converts what changed in src (a buffer of src_size bytes that passed
 * convert_check for layout) into fb (XRGB8888, fb_stride bytes per row, the
 * layout's width x height). Returns the tiles it wrote, owned by diff and
 * valid until the next call, or NULL when out of memory.
 */
const struct damage_map *frame_diff_apply(struct frame_diff *diff, const struct pixel_layout *layout,
					  const uint8_t *src, size_t src_size, uint8_t *fb,
					  size_t fb_stride);

#endif
