// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * tight_jpeg's colour count, which decides between libvncserver's exact
 * palette encodings and JPEG. The encoding itself is checked end to end
 * (tests/e2e/test_tight_jpeg.c).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "tight_jpeg.h"

#define W 40
#define H 8
#define STRIDE (W * 4 + 16) /* rows with padding between them */

static uint8_t pixels[STRIDE * H];

static void put(uint32_t x, uint32_t y, uint32_t value)
{
	memcpy(&pixels[(size_t)y * STRIDE + x * 4], &value, 4);
}

/* Pixel i of the rectangle (row by row) gets colour colours[i % n]. */
static void fill(const uint32_t *colours, size_t n)
{
	memset(pixels, 0xee, sizeof(pixels)); /* the padding: never counted */
	for (uint32_t i = 0; i < W * H; i++)
		put(i % W, i / W, colours[i % n]);
}

static void test_solid(void **state)
{
	const uint32_t one[] = { 0x123456 };
	fill(one, 1);
	assert_false(tight_jpeg_more_colours_than(pixels, STRIDE, W, H, 1));
	assert_false(tight_jpeg_more_colours_than(pixels, STRIDE, W, H, 24));
}

/* The limit itself is still "not more". */
static void test_exactly_the_limit(void **state)
{
	uint32_t colours[24];
	for (uint32_t i = 0; i < 24; i++)
		colours[i] = i * 0x010203;
	fill(colours, 24);
	assert_false(tight_jpeg_more_colours_than(pixels, STRIDE, W, H, 24));
	assert_true(tight_jpeg_more_colours_than(pixels, STRIDE, W, H, 23));
}

/* The padding byte does not make two pixels different colours. */
static void test_padding_byte_ignored(void **state)
{
	const uint32_t same[] = { 0x00abcdef, 0xffabcdef, 0x7fabcdef };
	fill(same, 3);
	assert_false(tight_jpeg_more_colours_than(pixels, STRIDE, W, H, 1));
}

/* Colours whose hashes collide, and black (a zero key), all count. */
static void test_many_colours(void **state)
{
	uint32_t colours[W * H];
	for (uint32_t i = 0; i < W * H; i++)
		colours[i] = i << 8; /* zero first; differences only in the upper bits */
	fill(colours, W * H);
	assert_true(tight_jpeg_more_colours_than(pixels, STRIDE, W, H, 96));
	assert_true(tight_jpeg_more_colours_than(pixels, STRIDE, W, H, 128));
	assert_false(tight_jpeg_more_colours_than(pixels, STRIDE, 16, 6, 96));
	assert_true(tight_jpeg_more_colours_than(pixels, STRIDE, 16, 7, 96));
}

/* Only the rectangle asked about counts, not the rest of the row. */
static void test_rectangle_only(void **state)
{
	const uint32_t one[] = { 0x445566 };
	fill(one, 1);
	for (uint32_t y = 0; y < H; y++)
		put(W - 1, y, 0x10000 * y);
	assert_false(tight_jpeg_more_colours_than(pixels, STRIDE, W - 1, H, 1));
	assert_true(tight_jpeg_more_colours_than(pixels, STRIDE, W, H, 1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_solid),
		cmocka_unit_test(test_exactly_the_limit),
		cmocka_unit_test(test_padding_byte_ignored),
		cmocka_unit_test(test_many_colours),
		cmocka_unit_test(test_rectangle_only),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
