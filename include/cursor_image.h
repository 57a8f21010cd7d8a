/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef MDEV_VNCD_CURSOR_IMAGE_H
#define MDEV_VNCD_CURSOR_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rfbCursor;

/*
 * A cursor shape, from the plane's pixels to what libvncserver sends.
 * - A hotspot of CURSOR_HOT_UNKNOWN (what GVT-g reports) or one outside the
 *   image counts as (0, 0): the top-left pixel, where the tip of almost
 *   every arrow is.
 * - Pixels are ARGB8888 with premultiplied alpha (DRM's default blend mode).
 * - libvncserver sends a shape in one 32 KiB buffer (88x88 pixels at
 *   32 bpp). A larger image is cropped to the box of its visible pixels
 *   (alpha != 0, grown to hold the hotspot); if that is still too big it is
 *   scaled down by the smallest integer factor that fits, averaging boxes
 *   of pixels, and the hotspot is scaled with it.
 */
#define CURSOR_HOT_UNKNOWN 0xFFFFFFFFu

/* A cursor shape ready to send. */
struct cursor_image {
	uint32_t width, height; /* 0x0: nothing visible */
	uint32_t x_hot, y_hot;  /* always inside the image */
	uint32_t *argb;         /* width * height premultiplied ARGB8888, owned */
};

void cursor_image_done(struct cursor_image *image);

/* Unknown and out-of-image hotspots alike become the top-left pixel (above). */
void cursor_hotspot_default(uint32_t *x_hot, uint32_t *y_hot, uint32_t width, uint32_t height);

/* Whether libvncserver can send a width x height shape to any client. */
bool cursor_size_fits_vnc(uint32_t width, uint32_t height);

/*
 * Makes the image clients get from a plane's pixels (stride bytes per row)
 * and its hotspot as the device gave it: defaulted, cropped, scaled (see
 * above). Returns 0 or -ENOMEM; out is then owned by the caller.
 */
int cursor_image_fit(const uint8_t *pixels, size_t stride, uint32_t width, uint32_t height,
		     uint32_t x_hot, uint32_t y_hot, struct cursor_image *out);

/*
 * A libvncserver cursor for the image, in the server's XRGB8888 format:
 * colours un-premultiplied, alpha kept for clients whose picture gets the
 * cursor drawn in, and a 1-bit mask (alpha >= 128) for RichCursor clients.
 * libvncserver owns the result and everything it points to (cleanup flags
 * set): hand it to rfbSetCursor. NULL when out of memory.
 */
struct rfbCursor *cursor_image_to_rfb(const struct cursor_image *image);

#endif
