/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef MDEV_VNCD_IMPORT_H
#define MDEV_VNCD_IMPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "convert.h"
#include "damage.h"

/*
 * Import: turning a plane's buffer (a dmabuf or a device region) into
 * pixels the daemon can read. This is a seam with three methods:
 * - cpu-mmap (import_mmap.c): a read-only mapping, the fast path where the
 *   exporter allows it; the display converts from map.data;
 * - egl (import_egl.c): the buffer imported on a GPU (EGL dmabuf import),
 *   for exporters that refuse CPU mappings (GVT-g, stock mbochs); map.data
 *   stays NULL and read_frame renders, diffs and reads back the picture;
 * - auto (import_auto.c): cpu-mmap where the exporter allows it, egl where
 *   it refuses, both reasons when neither works.
 */
struct import_request {
	int fd;          /* dmabuf fd, or the device fd for a region; borrowed */
	bool is_dmabuf;
	off_t offset;    /* region offset in the device fd; 0 for dmabufs */
	size_t size;     /* bytes to make readable, already checked against the real size */
	/* What the plane says the dmabuf holds (a GPU import needs it); NULL for regions. */
	const struct pixel_layout *layout;
};

struct import_method;

struct mapped_buffer {
	const uint8_t *data; /* NULL when the buffer lives on a GPU: use read_frame */
	size_t size;
	int sync_fd;     /* dmabuf fd to bracket reads with, -1 for regions; borrowed */
	void *priv;      /* owned by the method that filled it */
	const struct import_method *method; /* the method that filled it */
};

/* Where a GPU method writes a frame: the frame store's picture. */
struct import_frame {
	const struct pixel_layout *layout; /* the plane, as the device describes it now */
	uint8_t *fb;                       /* XRGB8888, layout's width x height */
	size_t fb_stride;
	/* fb still holds the last picture this method's read_frame wrote: only changes are read. */
	bool fb_current;
};

struct import_method {
	const char *name;
	void *ctx;       /* the method's own state; NULL for cpu-mmap */
	/* 0, or -errno with *why saying why the buffer cannot be read. */
	int (*map)(const struct import_method *self, const struct import_request *req,
		   struct mapped_buffer *out, const char **why);
	void (*unmap)(struct mapped_buffer *buf);
	/* Reads of buf->data happen only between begin_read and end_read. */
	int (*begin_read)(struct mapped_buffer *buf);
	void (*end_read)(struct mapped_buffer *buf);
	/*
	 * For buffers with data == NULL: writes what changed since the last
	 * call into frame->fb and sets *damage to the tiles written (owned by
	 * the method, valid until its next call). 0, or -errno with *why.
	 */
	int (*read_frame)(struct mapped_buffer *buf, const struct import_frame *frame,
			  const struct damage_map **damage, const char **why);
	/*
	 * For buffers with data == NULL, small ones (the cursor): copies the
	 * whole picture as ARGB8888 with its alpha into dst, rows of width * 4
	 * bytes. 0, or -errno with *why.
	 */
	int (*read_argb)(struct mapped_buffer *buf, uint8_t *dst, const char **why);
};

extern const struct import_method import_cpu_mmap;

#endif
