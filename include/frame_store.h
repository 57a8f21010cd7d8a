/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef MDEV_VNCD_FRAME_STORE_H
#define MDEV_VNCD_FRAME_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "damage.h"
#include "pixel_shuffle.h"
#include "rect.h"

/*
 * The daemon's picture of the guest display (XRGB8888), which it owns:
 * written by the display loop, read by the VNC client threads.
 *
 * Each client copies the tiles it has not seen yet into a framebuffer of
 * its own, under the read lock, and encodes from that copy. So no client
 * ever reads a half-written frame, and a client stuck on its socket holds
 * no lock: it cannot delay the display loop or the other clients.
 *
 * It also holds the guest's cursor (shape, pointer position, visibility)
 * under a lock of its own, handed to each client in the same sync as the
 * picture, so a move never waits for a frame copy.
 */
struct frame_store;
struct frame_reader;
struct cursor_image;

struct frame_store *frame_store_new(void);
/* All readers must have been freed first. */
void frame_store_free(struct frame_store *store);

/*
 * Writer side, display loop only. begin_write takes the write lock and
 * returns the picture, reallocated (and *resized set) when the size
 * changes; end_write hands the damage to every reader (NULL: everything
 * changed), drops the lock and wakes the readers that got damage.
 */
int frame_store_begin_write(struct frame_store *store, uint32_t width, uint32_t height,
			    uint8_t **pixels, size_t *stride, bool *resized);
void frame_store_end_write(struct frame_store *store, const struct damage_map *damage);

/* Reader side: one per client thread. */
struct frame_reader *frame_reader_new(struct frame_store *store);
void frame_reader_free(struct frame_reader *reader);
/* Readable (an eventfd) when the reader has damage to copy. */
int frame_reader_wake_fd(const struct frame_reader *reader);
/* Wakes the reader's thread without damage (shutdown). */
void frame_reader_wake(struct frame_reader *reader);

struct frame_copy_target {
	void *ctx;
	/* The picture has a new size: returns the client's new framebuffer (4 bytes per pixel, rows
	 * of width * 4 bytes), or NULL to stay as it is (the next sync tries again). */
	uint8_t *(*resize)(void *ctx, uint32_t width, uint32_t height);
	/*
	 * The byte order the client's framebuffer wants, read at every copy (it
	 * may change between syncs); NULL: the picture's own XRGB8888.
	 */
	const struct rgb32_layout *layout;
	/* These pixels of the client's framebuffer were just copied. */
	void (*copied)(void *ctx, struct rect r);
	/*
	 * Optional (NULL: the reader ignores the cursor). Called after the
	 * picture, only once the client has a framebuffer of the current size.
	 * cursor_shape: the shape or its visibility changed; image is NULL
	 * when no cursor is to be shown. It is valid only during the call.
	 * cursor_moved: the pointer (the hotspot) is now at x, y.
	 */
	void (*cursor_shape)(void *ctx, const struct cursor_image *image);
	void (*cursor_moved)(void *ctx, int32_t x, int32_t y);
};

/*
 * Copies what the reader has not seen into dst (the client's framebuffer of
 * the size last returned by resize). Returns the number of rectangles
 * copied; 0 when there was nothing new.
 */
size_t frame_reader_sync(struct frame_reader *reader, uint8_t *dst,
			 const struct frame_copy_target *target);

/*
 * Cursor, display loop only. set_cursor_shape takes image->argb (image is
 * zeroed) and wakes every reader: only call it when the shape changed.
 * set_cursor_pos wakes the readers when position or visibility changed.
 */
void frame_store_set_cursor_shape(struct frame_store *store, struct cursor_image *image);
void frame_store_set_cursor_pos(struct frame_store *store, int32_t x, int32_t y, bool visible);

/* Zeroed, page-aligned picture memory (free() releases it), for fast row copies. */
uint8_t *page_aligned_zalloc(size_t size);

/* Size of the current picture (0x0 before the first frame). */
void frame_store_size(struct frame_store *store, uint32_t *width, uint32_t *height);

#endif
