/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VGPU_SIM_FONT_H
#define VGPU_SIM_FONT_H

#include <stdint.h>

/* A view of XRGB8888 pixels to draw on; stride in pixels. */
struct sim_canvas {
	uint32_t *px;
	int width, height, stride;
};

#define SIM_FONT_W 5
#define SIM_FONT_H 7

/* Draws text (digits, A-Z, space, ':', '-', '.', '/') scaled up; clips at the edges. */
void sim_font_draw(const struct sim_canvas *c, int x, int y, int scale, uint32_t color,
		   const char *text);

#endif
