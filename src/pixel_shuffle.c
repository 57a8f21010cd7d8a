// SPDX-License-Identifier: GPL-2.0-or-later
#include "pixel_shuffle.h"

#include <string.h>
#include <libyuv/planar_functions.h>

const struct rgb32_layout rgb32_xrgb8888 = { .red = 2, .green = 1, .blue = 0 };

static bool byte_shift(unsigned shift, bool big_endian, uint8_t *byte)
{
	if (shift > 24 || shift % 8 != 0)
		return false;
	*byte = (uint8_t)(big_endian ? 3 - shift / 8 : shift / 8);
	return true;
}

bool rgb32_layout_of(unsigned bits_per_pixel, bool true_colour, bool big_endian,
		     unsigned red_max, unsigned green_max, unsigned blue_max, unsigned red_shift,
		     unsigned green_shift, unsigned blue_shift, struct rgb32_layout *out)
{
	if (bits_per_pixel != 32 || !true_colour || red_max != 255 || green_max != 255 ||
	    blue_max != 255)
		return false;
	struct rgb32_layout l;
	if (!byte_shift(red_shift, big_endian, &l.red) ||
	    !byte_shift(green_shift, big_endian, &l.green) ||
	    !byte_shift(blue_shift, big_endian, &l.blue))
		return false;
	if (l.red == l.green || l.red == l.blue || l.green == l.blue)
		return false;
	*out = l;
	return true;
}

bool rgb32_layout_equal(const struct rgb32_layout *a, const struct rgb32_layout *b)
{
	return a->red == b->red && a->green == b->green && a->blue == b->blue;
}

/* The one byte of the four that holds no channel. */
static uint8_t padding_byte(const struct rgb32_layout *l)
{
	return (uint8_t)(0 + 1 + 2 + 3 - l->red - l->green - l->blue);
}

void rgb32_convert(const struct rgb32_layout *from, const uint8_t *src, size_t src_stride,
		   const struct rgb32_layout *to, uint8_t *dst, size_t dst_stride, uint32_t width,
		   uint32_t height)
{
	if (rgb32_layout_equal(from, to)) {
		if (src == dst)
			return;
		for (uint32_t y = 0; y < height; y++)
			memcpy(dst + y * dst_stride, src + y * src_stride, (size_t)width * 4);
		return;
	}
	/* dst byte i of a pixel comes from src byte pick[i]; libyuv repeats it for 4 pixels. */
	uint8_t pick[4];
	pick[to->red] = from->red;
	pick[to->green] = from->green;
	pick[to->blue] = from->blue;
	pick[padding_byte(to)] = padding_byte(from);
	uint8_t shuffler[16];
	for (unsigned i = 0; i < 16; i++)
		shuffler[i] = (uint8_t)(i / 4 * 4 + pick[i % 4]);
	/* Red and blue swapped is ARGBToABGR: libyuv runs the same SSSE3/AVX2 shuffle for both. */
	ARGBShuffle(src, (int)src_stride, dst, (int)dst_stride, shuffler, (int)width, (int)height);
}
