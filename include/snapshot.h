/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef MDEV_VNCD_SNAPSHOT_H
#define MDEV_VNCD_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct config;

/*
 * One picture of the guest's display, written as a PNG: what an operator
 * looks at first when a VM's screen is in question. The frame goes through
 * the daemon's own pipeline (display + frame store), so the file shows
 * exactly what VNC clients would see, placeholders included.
 */

/* The display showed no guest picture; the placeholder was written. */
#define SNAPSHOT_PLACEHOLDER 1

/* How long a grab waits for a guest picture (a device may fail the first query after a modeset). */
#define SNAPSHOT_WAIT_MS 1000

/*
 * The --snapshot command: opens the device the configuration names, grabs,
 * releases everything. Returns the process exit status: 0 guest picture,
 * 3 placeholder written, 1 failure (no file).
 */
int snapshot_run(const struct config *cfg, const char *png_path, bool with_cursor);

/*
 * Writes width x height XRGB8888 pixels (B,G,R,X bytes, stride bytes per
 * row) as an 8-bit RGB PNG, through a temporary file renamed into place so
 * a reader never sees half a file. 0 or -errno.
 */
int snapshot_write_png(const char *path, const uint8_t *pixels, size_t stride, uint32_t width,
		       uint32_t height);

#endif
