/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef MDEV_VNCD_PLACEHOLDER_H
#define MDEV_VNCD_PLACEHOLDER_H

#include <stddef.h>
#include <stdint.h>

/*
 * The pictures the daemon shows when it has no guest picture to show, so a
 * client sees why instead of a frozen or black screen.
 */
enum placeholder_kind {
	PLACEHOLDER_NO_SIGNAL,		/* the guest disabled its plane */
	PLACEHOLDER_CANNOT_MAP,		/* the exporter refused to map the display buffer */
	PLACEHOLDER_UNSUPPORTED_FORMAT, /* a format or modifier we do not convert */
	PLACEHOLDER_BAD_PLANE,		/* the device described a plane that makes no sense */
	PLACEHOLDER_DEVICE_LOST,	/* the device went away; the daemon waits for it */
};

/* The size used when no guest mode is known. */
#define PLACEHOLDER_WIDTH 1024
#define PLACEHOLDER_HEIGHT 768

/*
 * Draws the whole picture (XRGB8888, B,G,R,X bytes, stride bytes per row) of
 * width x height: a dark background, a centered title line for the kind, the
 * detail line (may be NULL, e.g. the reason mmap failed) and the instance
 * name (may be NULL), scaled to be readable at 640x480 .. 3840x2160 and still
 * valid (clipped) down to 1x1. Only the width x height pixels are written;
 * bytes past width * 4 in a row are left alone. All pointers are borrowed.
 */
void placeholder_draw(uint8_t *pixels, size_t stride, uint32_t width, uint32_t height,
		      enum placeholder_kind kind, const char *instance, const char *detail);

/*
 * Writes the detail line of PLACEHOLDER_UNSUPPORTED_FORMAT into buf (always
 * terminated when size > 0): the fourcc's four characters ('?' for bytes
 * that do not print) and the modifier in hex, e.g.
 * "YUYV modifier 0x0100000000000002".
 */
void placeholder_format_detail(char *buf, size_t size, uint32_t fourcc, uint64_t modifier);

#endif
