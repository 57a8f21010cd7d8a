/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef MDEV_VNCD_EDID_H
#define MDEV_VNCD_EDID_H

#include <stdint.h>

/*
 * An EDID 1.4 base block announcing one preferred mode, for the vGPU's
 * EDID region (link down, write blob and size, link up): the guest then
 * offers that mode. The timing is CVT reduced blanking at 60 Hz.
 */
#define EDID_BLOCK_SIZE 128
#define EDID_MIN_SIDE 64
#define EDID_MAX_SIDE 4095 /* the detailed timing descriptor's 12-bit fields */

/*
 * Fills blob for width x height; -EINVAL if a side is out of
 * EDID_MIN_SIDE..EDID_MAX_SIDE, -ERANGE if 60 Hz needs a pixel clock over
 * the descriptor's 655.35 MHz (about 4096x2304 and up): clamp and retry.
 */
int edid_build(uint8_t blob[EDID_BLOCK_SIZE], uint32_t width, uint32_t height,
	       const char *name);

/*
 * edid_build for the mode nearest width x height that an EDID can carry:
 * each side clamped to EDID_MIN_SIDE..EDID_MAX_SIDE and to its max (0 = no
 * limit; the region's max_xres/max_yres, numbers from the device), then
 * shrunk until 60 Hz fits the pixel clock. *width and *height get the mode
 * written. Any input gives a valid blob and 0.
 */
int edid_build_fitting(uint8_t blob[EDID_BLOCK_SIZE], uint32_t *width, uint32_t *height,
		       uint32_t max_width, uint32_t max_height, const char *name);

#endif
