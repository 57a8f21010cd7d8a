/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef MDEV_VNCD_CURSOR_H
#define MDEV_VNCD_CURSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct frame_store;
struct plane_source;

/*
 * The guest's cursor plane, shown to VNC clients as a cursor of their own
 * (the shape itself is made by cursor_image.h).
 *
 * Conventions (the VFIO uapi leaves them open):
 * - x_pos/y_pos is where the plane's top-left pixel sits on the screen (a
 *   signed number); the pointer clients see is that plus the hotspot, so the
 *   image lands exactly where the guest put it.
 * - A pointer left of or above the screen is clamped to 0: the RFB
 *   PointerPos pseudo-encoding carries unsigned 16-bit numbers.
 * - Only dmabuf planes: no known region device has a cursor plane.
 */
#define CURSOR_MAX_SIZE 256 /* largest plane accepted: GVT-g uses 64, 128, 256 */

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
