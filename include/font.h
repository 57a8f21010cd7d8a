/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef MDEV_VNCD_FONT_H
#define MDEV_VNCD_FONT_H

#include <stddef.h>
#include <stdint.h>

/*
 * A fixed 8x16 bitmap font for printable ASCII, for the pictures the daemon
 * draws itself. Text is one line; each UTF-8 sequence or byte outside 32..126
 * is one cell drawn as '?'. Every glyph cell is FONT_CELL_WIDTH x
 * FONT_CELL_HEIGHT pixels, each pixel blown up to scale x scale; scale 0
 * draws nothing and measures 0.
 */
#define FONT_CELL_WIDTH 8u
#define FONT_CELL_HEIGHT 16u

/*
 * Draws text's set pixels in xrgb (0x00RRGGBB) into an XRGB8888 picture
 * (B,G,R,X bytes, stride bytes per row) of width x height; the cell of the
 * first character has its top left corner at (x, y), which may lie outside
 * the picture. Nothing is written outside the width x height pixels, and
 * unset glyph pixels are left as they were. pixels and text are borrowed.
 */
void font_draw_text(uint8_t *pixels, size_t stride, uint32_t width, uint32_t height, int x, int y,
		    unsigned scale, uint32_t xrgb, const char *text);

/* Width in pixels of text drawn at scale; saturates at UINT_MAX. */
unsigned font_text_width(const char *text, unsigned scale);

/* Height in pixels of one line drawn at scale; saturates at UINT_MAX. */
unsigned font_height(unsigned scale);

#endif
