/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef MDEV_VNCD_PIXEL_SHUFFLE_H
#define MDEV_VNCD_PIXEL_SHUFFLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * 32-bit true-colour layouts with 8-bit channels, which differ only in the
 * order of their bytes, and the copy from one to another: what a VNC client
 * asks for (libvncclient, noVNC and Remmina want red in the low byte) made
 * from the daemon's XRGB8888 picture by a SIMD byte shuffle (libyuv), so
 * libvncserver has nothing left to translate. Pure functions.
 */
struct rgb32_layout {
	uint8_t red, green, blue; /* byte offset of each channel within a pixel in memory */
};

/* The daemon's picture: B, G, R, X in memory (DRM_FORMAT_XRGB8888). */
extern const struct rgb32_layout rgb32_xrgb8888;

/*
 * The layout of a pixel format as RFB describes one (SetPixelFormat):
 * false unless it is 32 bits per pixel, true colour, 255 for every maximum
 * and each shift a distinct multiple of 8. A big-endian pixel value puts its
 * shift 24 at byte 0.
 */
bool rgb32_layout_of(unsigned bits_per_pixel, bool true_colour, bool big_endian,
		     unsigned red_max, unsigned green_max, unsigned blue_max, unsigned red_shift,
		     unsigned green_shift, unsigned blue_shift, struct rgb32_layout *out);

bool rgb32_layout_equal(const struct rgb32_layout *a, const struct rgb32_layout *b);

/*
 * Copies width x height pixels from src (layout from) to dst (layout to),
 * each row at its stride. The padding byte of dst gets src's padding byte.
 * src may equal dst (conversion in place); other overlaps are not allowed.
 */
void rgb32_convert(const struct rgb32_layout *from, const uint8_t *src, size_t src_stride,
		   const struct rgb32_layout *to, uint8_t *dst, size_t dst_stride, uint32_t width,
		   uint32_t height);

#endif
