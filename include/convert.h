/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef MDEV_VNCD_CONVERT_H
#define MDEV_VNCD_CONVERT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rect.h"

/*
 * Pixel conversion from what the device hands out to the daemon's
 * framebuffer format: XRGB8888 (B, G, R, X bytes in memory), the layout of
 * DRM_FORMAT_XRGB8888 on little-endian. Pure functions: no I/O, no state.
 */

/* How a plane's bytes are laid out, as the device described it. */
struct pixel_layout {
	uint32_t fourcc;   /* DRM_FORMAT_* */
	uint64_t modifier; /* DRM_FORMAT_MOD_LINEAR or I915_FORMAT_MOD_*_TILED */
	uint32_t width;    /* pixels */
	uint32_t height;   /* pixels */
	uint32_t stride;   /* bytes from one pixel row (or tile row's first line) to the next */
};

/* Size of a hardware tile in bytes across and in rows; 1 row for linear. */
struct tile_geometry {
	uint32_t width_bytes;
	uint32_t height_rows;
};

/*
 * Checks that the layout describes a format and modifier we convert, and
 * that every pixel it names lies inside a buffer of buffer_size bytes.
 * Returns 0, -ENOTSUP (format or modifier we do not handle) or -EINVAL
 * (numbers that disagree); *why gets a static explanation for the log.
 */
int convert_check(const struct pixel_layout *layout, size_t buffer_size, const char **why);

/* True when the converted bytes equal the source bytes (XRGB8888/ARGB8888 linear). */
bool convert_is_copy(const struct pixel_layout *layout);

/* Hardware tile geometry of the layout's modifier (valid after convert_check). */
struct tile_geometry convert_tile_geometry(const struct pixel_layout *layout);

/* Bytes per pixel of the format (YUV 4:2:2 packed: 2), 0 if unknown. */
unsigned convert_bytes_per_pixel(uint32_t fourcc);

/*
 * Converts the pixels of r (inside layout->width x layout->height) from the
 * source buffer src into dst, an XRGB8888 picture whose row y starts at
 * dst + y * dst_stride. Only r is written. layout must have passed
 * convert_check for the buffer src points to.
 */
void convert_rect(const struct pixel_layout *layout, const uint8_t *src,
		  uint8_t *dst, size_t dst_stride, struct rect r);

#endif
