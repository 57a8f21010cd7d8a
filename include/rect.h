/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef MDEV_VNCD_RECT_H
#define MDEV_VNCD_RECT_H

#include <stdint.h>

/* A screen rectangle in pixels; x2/y2 exclusive. */
struct rect {
	uint32_t x, y;
	uint32_t width, height;
};

#endif
