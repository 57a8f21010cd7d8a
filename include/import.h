/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef MDEV_VNCD_IMPORT_H
#define MDEV_VNCD_IMPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * Import: turning a plane's buffer (a dmabuf or a device region) into bytes
 * the CPU can read. This is a seam: the CPU mmap method is the fast path
 * where the exporter allows it; a GPU method (EGL/GBM on the parent GPU's
 * render node, reading back linear pixels) plugs in beside it for exporters
 * that refuse CPU mappings (GVT-g, stock mbochs).
 */
struct import_request {
	int fd;          /* dmabuf fd, or the device fd for a region; borrowed */
	bool is_dmabuf;
	off_t offset;    /* region offset in the device fd; 0 for dmabufs */
	size_t size;     /* bytes to make readable, already checked against the real size */
};

struct mapped_buffer {
	const uint8_t *data;
	size_t size;
	int sync_fd;     /* dmabuf fd to bracket reads with, -1 for regions; borrowed */
	void *priv;      /* owned by the method that filled it */
};

struct import_method {
	const char *name;
	/* 0, or -errno with *why saying why the exporter refused. */
	int (*map)(const struct import_request *req, struct mapped_buffer *out, const char **why);
	void (*unmap)(struct mapped_buffer *buf);
	/* Reads of buf->data happen only between begin_read and end_read. */
	int (*begin_read)(struct mapped_buffer *buf);
	void (*end_read)(struct mapped_buffer *buf);
};

extern const struct import_method import_cpu_mmap;

#endif
