/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef MDEV_VNCD_CURSOR_H
#define MDEV_VNCD_CURSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct frame_store;
struct plane_source;
struct rfbCursor;

/*
 * The guest's cursor plane, shown to VNC clients as a cursor of their own.
 *
 * Conventions (the VFIO uapi leaves them open):
 * - x_pos/y_pos is where the plane's top-left pixel sits on the screen (a
 *   signed number); the pointer clients see is that plus the hotspot, so the
 *   image lands exactly where the guest put it.
 * - A hotspot of 0xFFFFFFFF ("unknown", what GVT-g reports) or one outside
 *   the image counts as (0, 0): the top-left pixel, where the tip of
 *   almost every arrow is.
 * - Pixels are ARGB8888 with premultiplied alpha (DRM's default blend mode).
 * - A pointer left of or above the screen is clamped to 0: the RFB
 *   PointerPos pseudo-encoding carries unsigned 16-bit numbers.
 * - libvncserver sends a shape in one 32 KiB buffer (88x88 pixels at
 *   32 bpp). A larger image is cropped to the box of its visible pixels
 *   (alpha != 0, grown to hold the hotspot); if that is still too big it is
 *   scaled down by the smallest integer factor that fits, averaging boxes
 *   of pixels, and the hotspot is scaled with it.
 * - Only dmabuf planes: no known region device has a cursor plane.
 */
#define CURSOR_MAX_SIZE 256 /* largest plane accepted: GVT-g uses 64, 128, 256 */
#define CURSOR_HOT_UNKNOWN 0xFFFFFFFFu

/* A cursor shape ready to send. */
struct cursor_image {
	uint32_t width, height; /* 0x0: nothing visible */
	uint32_t x_hot, y_hot;  /* always inside the image */
	uint32_t *argb;         /* width * height premultiplied ARGB8888, owned */
};

void cursor_image_done(struct cursor_image *image);

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

/*
 * The display loop's side: one cursor_refresh per display refresh queries
 * the cursor plane, checks every number the device gives, and publishes to
 * the frame store a new shape when the buffer changed (new dmabuf id or new
 * content) and the pointer position and visibility every time. A disabled
 * or invalid plane shows no cursor; problems are logged once.
 */
struct cursor_source;

/* Borrows planes and store; both must outlive it. NULL when out of memory. */
struct cursor_source *cursor_source_new(struct plane_source *planes, struct frame_store *store);
void cursor_source_free(struct cursor_source *cs);
void cursor_refresh(struct cursor_source *cs);

#endif
