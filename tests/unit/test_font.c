// SPDX-License-Identifier: GPL-2.0-or-later
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "font.h"

#define GUARD_BYTES 64
#define ROW_PADDING 12 /* bytes past each row that drawing must not touch */
#define FILL 0xa5
#define WHITE 0x00ffffffu

struct picture {
	uint8_t *block;
	uint8_t *pixels;
	size_t stride;
	uint32_t width, height;
	size_t size;
};

static struct picture picture_new(uint32_t width, uint32_t height)
{
	struct picture p = {
		.stride = (size_t)width * 4 + ROW_PADDING,
		.width = width,
		.height = height,
	};

	p.size = p.stride * height;
	p.block = malloc(p.size + 2 * GUARD_BYTES);
	assert_non_null(p.block);
	memset(p.block, FILL, p.size + 2 * GUARD_BYTES);
	p.pixels = p.block + GUARD_BYTES;
	return p;
}

static bool lit(const struct picture *p, uint32_t x, uint32_t y)
{
	return p->pixels[y * p->stride + x * 4] != FILL;
}

/* Every byte that is not a pixel of the picture still holds FILL. */
static void assert_only_pixels_written(const struct picture *p)
{
	for (size_t i = 0; i < p->size + 2 * GUARD_BYTES; i++) {
		bool outside = i < GUARD_BYTES || i >= GUARD_BYTES + p->size ||
			       (i - GUARD_BYTES) % p->stride >= (size_t)p->width * 4;

		if (outside && p->block[i] != FILL)
			fail_msg("byte %zu outside the %ux%u picture was written", i, p->width,
				 p->height);
	}
}

static void draw(struct picture *p, int x, int y, unsigned scale, const char *text)
{
	font_draw_text(p->pixels, p->stride, p->width, p->height, x, y, scale, WHITE, text);
}

static void test_width_arithmetic(void **state)
{
	assert_int_equal(font_text_width("", 1), 0);
	assert_int_equal(font_text_width(NULL, 1), 0);
	assert_int_equal(font_text_width("abc", 1), 24);
	assert_int_equal(font_text_width("abc", 3), 72);
	assert_int_equal(font_text_width("abc", 0), 0);
	/* One cell per UTF-8 character, one per stray byte. */
	assert_int_equal(font_text_width("\xc3\xa9", 1), 8);
	assert_int_equal(font_text_width("a\xe2\x82\xac!", 2), 48);
	assert_int_equal(font_text_width("a\x80", 1), 16);
	assert_int_equal(font_height(1), 16);
	assert_int_equal(font_height(5), 80);
	assert_int_equal(font_height(0), 0);
	assert_int_equal(font_height(UINT_MAX), UINT_MAX);
	assert_int_equal(font_text_width("ab", UINT_MAX / 8), UINT_MAX);
}

/* Counts runs of lit pixels in row y and reports the first and last lit column. */
static unsigned row_runs(const struct picture *p, uint32_t y, uint32_t *first, uint32_t *last)
{
	unsigned runs = 0;

	for (uint32_t x = 0; x < p->width; x++) {
		if (!lit(p, x, y))
			continue;
		if ((x == 0 || !lit(p, x - 1, y)) && ++runs == 1)
			*first = x;
		*last = x;
	}
	return runs;
}

static void test_h_has_two_strokes_and_a_bar(void **state)
{
	struct picture p = picture_new(FONT_CELL_WIDTH, FONT_CELL_HEIGHT);
	unsigned two_runs = 0, bars = 0;

	draw(&p, 0, 0, 1, "H");
	for (uint32_t y = 0; y < p.height; y++) {
		uint32_t first = 0, last = 0;
		unsigned runs = row_runs(&p, y, &first, &last);

		if (runs == 2) {
			assert_true(first <= 2);
			assert_true(last >= 5);
			two_runs++;
		} else if (runs == 1) {
			assert_true(last - first >= 4);
			bars++;
		} else {
			assert_int_equal(runs, 0);
		}
	}
	assert_true(two_runs >= 6);
	assert_int_equal(bars, 1);
	assert_only_pixels_written(&p);
	free(p.block);
}

static void test_scale_repeats_pixels(void **state)
{
	const unsigned scale = 3;
	struct picture one = picture_new(16, 16);
	struct picture big = picture_new(16 * scale, 16 * scale);

	draw(&one, 0, 0, 1, "Hg");
	draw(&big, 0, 0, scale, "Hg");
	for (uint32_t y = 0; y < big.height; y++)
		for (uint32_t x = 0; x < big.width; x++)
			assert_int_equal(lit(&big, x, y), lit(&one, x / scale, y / scale));
	free(one.block);
	free(big.block);
}

static bool same_pixels(const struct picture *a, const struct picture *b)
{
	return a->size == b->size && memcmp(a->pixels, b->pixels, a->size) == 0;
}

static bool draws_like(const char *text, const char *reference)
{
	struct picture a = picture_new(FONT_CELL_WIDTH, FONT_CELL_HEIGHT);
	struct picture b = picture_new(FONT_CELL_WIDTH, FONT_CELL_HEIGHT);
	bool same;

	draw(&a, 0, 0, 1, text);
	draw(&b, 0, 0, 1, reference);
	same = same_pixels(&a, &b);
	free(a.block);
	free(b.block);
	return same;
}

static void test_unknown_chars_are_question_marks(void **state)
{
	assert_true(draws_like("\x01", "?"));
	assert_true(draws_like("\x7f", "?"));
	assert_true(draws_like("\t", "?"));
	assert_true(draws_like("\xc3\xa9", "?"));
	assert_false(draws_like("A", "?"));
	assert_false(draws_like(" ", "?"));
}

static void test_color_bytes_and_untouched_background(void **state)
{
	struct picture p = picture_new(FONT_CELL_WIDTH, FONT_CELL_HEIGHT);
	unsigned set = 0;

	font_draw_text(p.pixels, p.stride, p.width, p.height, 0, 0, 1, 0x00112233, "H");
	for (uint32_t y = 0; y < p.height; y++) {
		for (uint32_t x = 0; x < p.width; x++) {
			const uint8_t *px = p.pixels + y * p.stride + x * 4;

			if (px[0] == FILL && px[1] == FILL && px[2] == FILL && px[3] == FILL)
				continue;
			assert_int_equal(px[0], 0x33);
			assert_int_equal(px[1], 0x22);
			assert_int_equal(px[2], 0x11);
			assert_int_equal(px[3], 0x00);
			set++;
		}
	}
	assert_true(set > 0 && set < p.width * p.height);
	free(p.block);
}

/* Drawing at (-dx, -dy) shows the same pixels as at (0, 0), moved. */
static void test_clipped_text_is_shifted_text(void **state)
{
	const int dx = 3, dy = 2;
	struct picture whole = picture_new(24, 32);
	struct picture moved = picture_new(24, 32);
	struct picture narrow = picture_new(13, 9);

	draw(&whole, 0, 0, 2, "HI");
	draw(&moved, -dx, -dy, 2, "HI");
	draw(&narrow, 0, 0, 2, "HI");
	for (uint32_t y = 0; y + dy < whole.height; y++)
		for (uint32_t x = 0; x + dx < whole.width; x++)
			assert_int_equal(lit(&moved, x, y), lit(&whole, x + dx, y + dy));
	for (uint32_t y = 0; y < narrow.height; y++)
		for (uint32_t x = 0; x < narrow.width; x++)
			assert_int_equal(lit(&narrow, x, y), lit(&whole, x, y));
	assert_only_pixels_written(&moved);
	assert_only_pixels_written(&narrow);
	free(whole.block);
	free(moved.block);
	free(narrow.block);
}

static void test_never_writes_outside(void **state)
{
	static const uint32_t sizes[][2] = { { 1, 1 }, { 7, 5 }, { 3, 17 }, { 13, 2 }, { 0, 4 } };
	static const int spots[][2] = {
		{ 0, 0 },	{ -5, -7 },	  { -100, 3 },	     { 6, 4 },
		{ 2, -15 },	{ INT_MIN, INT_MIN }, { INT_MAX, INT_MAX }, { INT_MIN, 0 },
		{ 0, INT_MAX },
	};
	static const unsigned scales[] = { 1, 2, 7, 1000, UINT_MAX };

	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		for (size_t i = 0; i < sizeof(spots) / sizeof(spots[0]); i++) {
			for (size_t k = 0; k < sizeof(scales) / sizeof(scales[0]); k++) {
				struct picture p = picture_new(sizes[s][0], sizes[s][1]);

				draw(&p, spots[i][0], spots[i][1], scales[k], "H?\xc3\xa9 Wg@~");
				assert_only_pixels_written(&p);
				free(p.block);
			}
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_width_arithmetic),
		cmocka_unit_test(test_h_has_two_strokes_and_a_bar),
		cmocka_unit_test(test_scale_repeats_pixels),
		cmocka_unit_test(test_unknown_chars_are_question_marks),
		cmocka_unit_test(test_color_bytes_and_untouched_background),
		cmocka_unit_test(test_clipped_text_is_shifted_text),
		cmocka_unit_test(test_never_writes_outside),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
