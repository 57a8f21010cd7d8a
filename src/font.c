// SPDX-License-Identifier: GPL-2.0-or-later
#include "font.h"

#include <limits.h>

/*
 * The glyphs are the ASCII part of Lat15-VGA16.psf.gz from Debian's
 * console-setup-linux 1.221 (tools/psf2font.py made the table). console-setup
 * builds that font from u_vga16.bdf, which is distributed under this notice:
 *
 * Copyright (c) 2000, 2001 by Dmitry Bolkhovityanov.  All Rights Reserved.
 *
 * Permission is hereby granted, free of charge, to any person obtaining a copy
 * of this software and associated documentation files (the "Software"), to deal
 * in the Software without restriction, including without limitation the rights
 * to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
 * copies of the Software, and to permit persons to whom the Software is
 * furnished to do so, subject to the following conditions:
 *
 * The above copyright notice and this permission notice shall be included in
 * all copies or substantial portions of the Software.
 *
 * THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
 * IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
 * FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT.  IN NO EVENT SHALL THE
 * XFREE86 PROJECT BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER LIABILITY, WHETHER
 * IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM, OUT OF OR IN
 * CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE SOFTWARE.
 *
 * Except as contained in this notice, the name of Dmitry Bolkhovityanov
 * shall not be used in advertising or otherwise to promote the sale, use
 * or other dealings in this Software without prior written authorization
 * from the Dmitry Bolkhovityanov.
 */
#include "font_glyphs.inc"

_Static_assert(FONT_GLYPHS_HEIGHT == FONT_CELL_HEIGHT, "font_glyphs.inc has another cell height");

#define FIRST_GLYPH ' '
#define LAST_GLYPH '~'

struct canvas {
	uint8_t *pixels;
	size_t stride;
	int64_t width;
	int64_t height;
	uint32_t xrgb;
};

/*
 * Returns the glyph of the cell that starts at *text and moves past the cell.
 * A UTF-8 sequence is one cell, so a non-ASCII name shows one '?' per
 * character rather than two to four.
 */
static const uint8_t *next_glyph(const char **text)
{
	unsigned char c = (unsigned char)**text;

	(*text)++;
	if (c >= 0xc0) {
		while (((unsigned char)**text & 0xc0) == 0x80)
			(*text)++;
	}
	if (c < FIRST_GLYPH || c > LAST_GLYPH)
		c = '?';
	return font_glyphs[c - FIRST_GLYPH];
}

static unsigned mul_saturated(size_t a, unsigned b)
{
	unsigned product;

	if (__builtin_mul_overflow(a, b, &product))
		return UINT_MAX;
	return product;
}

unsigned font_text_width(const char *text, unsigned scale)
{
	size_t cells = 0;

	if (!text)
		return 0;
	while (*text) {
		next_glyph(&text);
		cells++;
	}
	return mul_saturated(mul_saturated(cells, FONT_CELL_WIDTH), scale);
}

unsigned font_height(unsigned scale)
{
	return mul_saturated(FONT_CELL_HEIGHT, scale);
}

static int64_t clamp(int64_t v, int64_t lo, int64_t hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

static void fill_span(const struct canvas *c, uint8_t *row, int64_t from, int64_t to)
{
	for (uint8_t *p = row + from * 4; p < row + to * 4; p += 4) {
		p[0] = c->xrgb & 0xff;
		p[1] = (c->xrgb >> 8) & 0xff;
		p[2] = (c->xrgb >> 16) & 0xff;
		p[3] = c->xrgb >> 24;
	}
}

/* The glyph's cell is at (left, top); only its part inside the canvas is touched. */
static void draw_glyph(const struct canvas *c, const uint8_t *glyph, int64_t left, int64_t top,
		       unsigned scale)
{
	int64_t y_end = clamp(top + (int64_t)FONT_CELL_HEIGHT * scale, 0, c->height);

	for (int64_t y = clamp(top, 0, c->height); y < y_end; y++) {
		uint8_t bits = glyph[(y - top) / scale];
		uint8_t *row = c->pixels + (size_t)y * c->stride;

		for (unsigned col = 0; bits; col++, bits <<= 1) {
			int64_t from = left + (int64_t)col * scale;

			if (bits & 0x80)
				fill_span(c, row, clamp(from, 0, c->width),
					  clamp(from + scale, 0, c->width));
		}
	}
}

void font_draw_text(uint8_t *pixels, size_t stride, uint32_t width, uint32_t height, int x, int y,
		    unsigned scale, uint32_t xrgb, const char *text)
{
	const struct canvas c = {
		.pixels = pixels,
		.stride = stride,
		.width = width,
		.height = height,
		.xrgb = xrgb,
	};
	int64_t cell_width = (int64_t)FONT_CELL_WIDTH * scale;
	int64_t left = x;

	if (!pixels || !text || scale == 0)
		return;
	if (y >= (int64_t)height || y + (int64_t)FONT_CELL_HEIGHT * scale <= 0)
		return;
	while (*text && left < c.width) {
		const uint8_t *glyph = next_glyph(&text);

		if (left + cell_width > 0)
			draw_glyph(&c, glyph, left, y, scale);
		left += cell_width;
	}
}
