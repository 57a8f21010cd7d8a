// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Every byte order of R, G and B in a 32-bit pixel: a random XRGB8888
 * picture converted to it, each pixel checked channel by channel against
 * the layout's own description, with widths that leave a SIMD remainder
 * and strides with padding that must stay untouched; then converted back
 * in place, which must give the picture again. And which RFB pixel formats
 * map to a layout and which are left to libvncserver.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "pixel_shuffle.h"

#define GUARD 0xa5
#define PAD_BYTES 12

static uint8_t channel(const uint8_t *pixel, uint8_t offset)
{
	return pixel[offset];
}

static void check_layout(const struct rgb32_layout *to, uint32_t width, uint32_t height)
{
	size_t src_stride = (size_t)width * 4 + PAD_BYTES;
	size_t dst_stride = (size_t)width * 4 + PAD_BYTES;
	uint8_t *src = malloc(src_stride * height);
	uint8_t *dst = malloc(dst_stride * height);
	assert_non_null(src);
	assert_non_null(dst);
	for (size_t i = 0; i < src_stride * height; i++)
		src[i] = (uint8_t)rand();
	memset(dst, GUARD, dst_stride * height);

	rgb32_convert(&rgb32_xrgb8888, src, src_stride, to, dst, dst_stride, width, height);
	for (uint32_t y = 0; y < height; y++) {
		const uint8_t *s = src + y * src_stride;
		const uint8_t *d = dst + y * dst_stride;
		for (uint32_t x = 0; x < width; x++) {
			/* XRGB8888 in memory: B, G, R, X. */
			assert_int_equal(channel(d + x * 4, to->red), s[x * 4 + 2]);
			assert_int_equal(channel(d + x * 4, to->green), s[x * 4 + 1]);
			assert_int_equal(channel(d + x * 4, to->blue), s[x * 4 + 0]);
		}
		for (size_t i = (size_t)width * 4; i < dst_stride; i++)
			assert_int_equal(d[i], GUARD);
	}

	/* Back in place: the channels come home (the padding byte is free to differ). */
	rgb32_convert(to, dst, dst_stride, &rgb32_xrgb8888, dst, dst_stride, width, height);
	for (uint32_t y = 0; y < height; y++)
		for (uint32_t x = 0; x < width; x++)
			for (unsigned c = 0; c < 3; c++)
				assert_int_equal(dst[y * dst_stride + x * 4 + c],
						 src[y * src_stride + x * 4 + c]);
	free(src);
	free(dst);
}

static void every_byte_order(void **state)
{
	static const uint32_t widths[] = { 1, 3, 7, 8, 9, 31, 64, 67, 1921 };
	unsigned layouts = 0;
	for (uint8_t r = 0; r < 4; r++)
		for (uint8_t g = 0; g < 4; g++)
			for (uint8_t b = 0; b < 4; b++) {
				if (r == g || r == b || g == b)
					continue;
				const struct rgb32_layout to = { .red = r, .green = g, .blue = b };
				for (size_t w = 0; w < sizeof(widths) / sizeof(widths[0]); w++)
					check_layout(&to, widths[w], 5);
				layouts++;
			}
	assert_int_equal(layouts, 24);
}

static void contiguous_rows(void **state)
{
	/* Stride == width * 4: libyuv treats the picture as one long row. */
	const uint32_t width = 13, height = 7;
	uint32_t src[13 * 7], dst[13 * 7];
	for (size_t i = 0; i < width * height; i++)
		src[i] = (uint32_t)rand();
	const struct rgb32_layout red_low = { .red = 0, .green = 1, .blue = 2 };
	rgb32_convert(&rgb32_xrgb8888, (const uint8_t *)src, width * 4, &red_low, (uint8_t *)dst,
		      width * 4, width, height);
	for (size_t i = 0; i < width * height; i++) {
		uint32_t want = (src[i] >> 16 & 0xff) | (src[i] & 0xff00) | (src[i] & 0xff) << 16;
		assert_int_equal(dst[i] & 0xffffff, want);
	}
}

static void same_layout_copies(void **state)
{
	uint32_t src[4] = { 1, 2, 3, 0xffffffff }, dst[4] = { 0 };
	rgb32_convert(&rgb32_xrgb8888, (const uint8_t *)src, 8, &rgb32_xrgb8888, (uint8_t *)dst, 8,
		      2, 2);
	assert_memory_equal(src, dst, sizeof(src));
}

static void rfb_formats(void **state)
{
	struct rgb32_layout l;
	/* libvncclient's default: red in the low byte. */
	assert_true(rgb32_layout_of(32, true, false, 255, 255, 255, 0, 8, 16, &l));
	assert_int_equal(l.red, 0);
	assert_int_equal(l.green, 1);
	assert_int_equal(l.blue, 2);
	/* The daemon's own. */
	assert_true(rgb32_layout_of(32, true, false, 255, 255, 255, 16, 8, 0, &l));
	assert_true(rgb32_layout_equal(&l, &rgb32_xrgb8888));
	/* Big-endian XRGB: X, R, G, B in memory. */
	assert_true(rgb32_layout_of(32, true, true, 255, 255, 255, 16, 8, 0, &l));
	assert_int_equal(l.red, 1);
	assert_int_equal(l.green, 2);
	assert_int_equal(l.blue, 3);
	assert_true(rgb32_layout_of(32, true, false, 255, 255, 255, 24, 16, 8, &l));
	assert_int_equal(l.red, 3);

	/* Left to libvncserver's translation. */
	assert_false(rgb32_layout_of(16, true, false, 31, 63, 31, 11, 5, 0, &l));
	assert_false(rgb32_layout_of(8, false, false, 255, 255, 255, 0, 8, 16, &l));
	assert_false(rgb32_layout_of(32, false, false, 255, 255, 255, 0, 8, 16, &l));
	assert_false(rgb32_layout_of(32, true, false, 1023, 1023, 1023, 20, 10, 0, &l));
	assert_false(rgb32_layout_of(32, true, false, 255, 255, 255, 4, 12, 20, &l));
	assert_false(rgb32_layout_of(32, true, false, 255, 255, 255, 0, 0, 16, &l));
	assert_false(rgb32_layout_of(32, true, false, 255, 255, 255, 32, 8, 0, &l));
	assert_false(rgb32_layout_of(32, true, false, 255, 127, 255, 16, 8, 0, &l));
}

int main(void)
{
	srand(7);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_byte_order),
		cmocka_unit_test(contiguous_rows),
		cmocka_unit_test(same_layout_copies),
		cmocka_unit_test(rfb_formats),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
