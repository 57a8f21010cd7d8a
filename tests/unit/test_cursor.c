// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The cursor shape as clients get it: cropping to the visible pixels,
 * scaling what still does not fit libvncserver's buffer, the hotspot's
 * defaults and moves, and the libvncserver cursor's pixels, alpha and mask.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <rfb/rfb.h>

#include "cursor.h"
#include "cursor_image.h"

struct plane {
	uint32_t w, h;
	size_t stride;
	uint8_t *px;
};

/* A transparent plane with stride padding that must never be read as pixels. */
static struct plane plane_new(uint32_t w, uint32_t h)
{
	struct plane p = { .w = w, .h = h, .stride = (size_t)w * 4 + 32 };

	p.px = malloc(p.stride * h);
	assert_non_null(p.px);
	for (uint32_t y = 0; y < h; y++) {
		memset(p.px + y * p.stride, 0, (size_t)w * 4);
		memset(p.px + y * p.stride + (size_t)w * 4, 0xff, 32);
	}
	return p;
}

static void put(struct plane *p, uint32_t x, uint32_t y, uint32_t argb)
{
	memcpy(p->px + y * p->stride + (size_t)x * 4, &argb, 4);
}

static void fill(struct plane *p, uint32_t x0, uint32_t y0, uint32_t x1, uint32_t y1,
		 uint32_t argb)
{
	for (uint32_t y = y0; y < y1; y++)
		for (uint32_t x = x0; x < x1; x++)
			put(p, x, y, argb);
}

static uint32_t at(const struct cursor_image *img, uint32_t x, uint32_t y)
{
	return img->argb[y * img->width + x];
}

static void test_vnc_limit(void **state)
{
	/* Header 12 + colours 6 + 4 bytes a pixel + mask bits, in 32768 bytes. */
	assert_true(cursor_size_fits_vnc(64, 64));
	assert_true(cursor_size_fits_vnc(88, 88));
	assert_false(cursor_size_fits_vnc(89, 89));
	assert_false(cursor_size_fits_vnc(128, 128));
	assert_true(cursor_size_fits_vnc(256, 31));
	assert_false(cursor_size_fits_vnc(256, 32));
}

/* A 64x64 cursor fits as it is: every pixel, the stride skipped, the hotspot kept. */
static void test_small_cursor_kept(void **state)
{
	struct plane p = plane_new(64, 64);
	struct cursor_image img;

	for (uint32_t y = 0; y < 64; y++)
		for (uint32_t x = 0; x < 64; x++)
			put(&p, x, y, (x + y) % 3 ? 0xff000000u | y << 8 | x : 0);
	assert_int_equal(cursor_image_fit(p.px, p.stride, 64, 64, 5, 7, &img), 0);
	assert_true(img.width == 64 && img.height == 64);
	assert_true(img.x_hot == 5 && img.y_hot == 7);
	for (uint32_t y = 0; y < 64; y++)
		for (uint32_t x = 0; x < 64; x++)
			assert_int_equal(at(&img, x, y), (x + y) % 3 ? 0xff000000u | y << 8 | x : 0);
	cursor_image_done(&img);
	assert_null(img.argb);
	free(p.px);
}

/* Unknown and out-of-image hotspots both mean the top-left pixel. */
static void test_hotspot_default(void **state)
{
	static const uint32_t hots[][2] = {
		{ CURSOR_HOT_UNKNOWN, CURSOR_HOT_UNKNOWN },
		{ 64, 3 },
		{ 3, 1000 },
	};
	struct plane p = plane_new(64, 64);
	struct cursor_image img;

	fill(&p, 0, 0, 64, 64, 0xffffffff);
	for (size_t i = 0; i < sizeof(hots) / sizeof(hots[0]); i++) {
		assert_int_equal(cursor_image_fit(p.px, p.stride, 64, 64, hots[i][0], hots[i][1],
						  &img), 0);
		assert_true(img.x_hot == 0 && img.y_hot == 0);
		cursor_image_done(&img);
	}
	free(p.px);
}

/* A 128 plane with a 20x30 arrow: cropped to it, hotspot moved with the crop. */
static void test_crop_to_visible(void **state)
{
	struct plane p = plane_new(128, 128);
	struct cursor_image img;

	fill(&p, 40, 50, 60, 80, 0xff102030);
	put(&p, 40, 50, 0x80000000);
	assert_int_equal(cursor_image_fit(p.px, p.stride, 128, 128, 45, 52, &img), 0);
	assert_true(img.width == 20 && img.height == 30);
	assert_true(img.x_hot == 5 && img.y_hot == 2);
	assert_int_equal(at(&img, 0, 0), 0x80000000);
	assert_int_equal(at(&img, 19, 29), 0xff102030);
	cursor_image_done(&img);

	/* A hotspot outside the visible pixels grows the box: RFB hotspots are unsigned. */
	assert_int_equal(cursor_image_fit(p.px, p.stride, 128, 128, 10, 90, &img), 0);
	assert_true(img.width == 50 && img.height == 41);
	assert_true(img.x_hot == 0 && img.y_hot == 40);
	assert_int_equal(at(&img, 30, 0), 0x80000000);
	assert_int_equal(at(&img, 0, 0), 0);
	cursor_image_done(&img);
	free(p.px);
}

/* Nothing visible: no image at all. */
static void test_transparent_is_empty(void **state)
{
	struct plane p = plane_new(64, 64);
	struct cursor_image img;

	fill(&p, 0, 0, 64, 64, 0x00ffffff); /* colour without alpha is still invisible */
	assert_int_equal(cursor_image_fit(p.px, p.stride, 64, 64, 3, 3, &img), 0);
	assert_true(img.width == 0 && img.height == 0);
	assert_null(img.argb);
	free(p.px);
}

/*
 * A fully visible 256x256 cursor is scaled by 3 to 86x86: 2x2 checks of
 * 3x3 blocks average to the block's colour, the hotspot is divided.
 */
static void test_scale_big(void **state)
{
	struct plane p = plane_new(256, 256);
	struct cursor_image img;

	for (uint32_t y = 0; y < 256; y++)
		for (uint32_t x = 0; x < 256; x++)
			put(&p, x, y, (x / 3 + y / 3) % 2 ? 0xffff0000 : 0x80000080);
	assert_int_equal(cursor_image_fit(p.px, p.stride, 256, 256, 200, 100, &img), 0);
	assert_true(img.width == 86 && img.height == 86);
	assert_true(cursor_size_fits_vnc(img.width, img.height));
	assert_true(img.x_hot == 66 && img.y_hot == 33);
	for (uint32_t y = 0; y < 85; y++)
		for (uint32_t x = 0; x < 85; x++)
			assert_int_equal(at(&img, x, y), (x + y) % 2 ? 0xffff0000 : 0x80000080);
	/* The last column holds one source column (255): its own colour, not diluted. */
	assert_int_equal(at(&img, 85, 0), (85 + 0) % 2 ? 0xffff0000 : 0x80000080);
	cursor_image_done(&img);

	/* Half-transparent blends average all four channels. */
	fill(&p, 0, 0, 256, 256, 0);
	fill(&p, 0, 0, 2, 256, 0xff0000ff);
	fill(&p, 2, 0, 256, 256, 0xff00ff00);
	put(&p, 1, 0, 0x00000000);
	assert_int_equal(cursor_image_fit(p.px, p.stride, 256, 256, 0, 0, &img), 0);
	/* Block (0..2, 0..2): 5 blue, 1 clear, 3 green. */
	assert_int_equal(at(&img, 0, 0), (uint32_t)((8 * 255 + 4) / 9) << 24 |
						 (uint32_t)((3 * 255 + 4) / 9) << 8 |
						 (uint32_t)((5 * 255 + 4) / 9));
	cursor_image_done(&img);
	free(p.px);
}

/* 128x128 fully visible: scaled by 2 to 64x64. */
static void test_scale_128(void **state)
{
	struct plane p = plane_new(128, 128);
	struct cursor_image img;

	fill(&p, 0, 0, 128, 128, 0xff808080);
	fill(&p, 0, 0, 64, 128, 0xff000000);
	assert_int_equal(cursor_image_fit(p.px, p.stride, 128, 128, 127, 127, &img), 0);
	assert_true(img.width == 64 && img.height == 64);
	assert_true(img.x_hot == 63 && img.y_hot == 63);
	assert_int_equal(at(&img, 31, 5), 0xff000000);
	assert_int_equal(at(&img, 32, 5), 0xff808080);
	cursor_image_done(&img);
	free(p.px);
}

static bool mask_bit(const rfbCursor *c, uint32_t x, uint32_t y)
{
	return c->mask[y * ((c->width + 7u) / 8) + x / 8] & (0x80 >> (x % 8));
}

static uint32_t rich_at(const rfbCursor *c, uint32_t x, uint32_t y)
{
	uint32_t v;

	memcpy(&v, c->richSource + ((size_t)y * c->width + x) * 4, 4);
	return v;
}

/* Rich pixels un-premultiplied in the XRGB8888 server format, alpha kept, mask at 128. */
static void test_rfb_cursor(void **state)
{
	uint32_t px[3 * 10] = { 0 };
	struct cursor_image img = { .width = 10, .height = 3, .x_hot = 9, .y_hot = 2, .argb = px };

	px[0] = 0xff112233;  /* opaque */
	px[1] = 0x80404040;  /* half: colour doubles, alpha 128 is in the mask */
	px[2] = 0x7f7f0000;  /* just under half: out of the mask */
	px[9] = 0x01010101;  /* barely there */
	px[10 + 8] = 0xffffffff; /* second byte of a row */
	px[29] = 0x40ff0000; /* impossible premultiplied value: clamped */
	rfbCursor *c = cursor_image_to_rfb(&img);
	assert_non_null(c);
	assert_true(c->width == 10 && c->height == 3 && c->xhot == 9 && c->yhot == 2);
	assert_true(c->cleanup && c->cleanupRichSource && c->cleanupMask);
	assert_false(c->alphaPreMultiplied);
	assert_null(c->source);

	assert_int_equal(rich_at(c, 0, 0), 0x00112233);
	assert_int_equal(rich_at(c, 1, 0), 0x00808080);
	assert_int_equal(rich_at(c, 2, 0), 0x00ff0000);
	assert_int_equal(rich_at(c, 9, 0), 0x00ffffff);
	assert_int_equal(rich_at(c, 9, 2), 0x00ff0000);
	assert_int_equal(rich_at(c, 5, 1), 0);
	assert_int_equal(c->alphaSource[0], 0xff);
	assert_int_equal(c->alphaSource[1], 0x80);
	assert_int_equal(c->alphaSource[2], 0x7f);
	assert_int_equal(c->alphaSource[9], 0x01);
	assert_int_equal(c->alphaSource[3], 0);

	for (uint32_t y = 0; y < 3; y++) {
		for (uint32_t x = 0; x < 10; x++) {
			bool want = (y == 0 && x < 2) || (y == 1 && x == 8);
			if (mask_bit(c, x, y) != want)
				fail_msg("mask %u,%u", x, y);
		}
	}
	/* Padding bits of each mask row stay clear. */
	for (uint32_t y = 0; y < 3; y++)
		assert_int_equal(c->mask[y * 2 + 1] & 0x3f, 0);
	rfbFreeCursor(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vnc_limit),
		cmocka_unit_test(test_small_cursor_kept),
		cmocka_unit_test(test_hotspot_default),
		cmocka_unit_test(test_crop_to_visible),
		cmocka_unit_test(test_transparent_is_empty),
		cmocka_unit_test(test_scale_big),
		cmocka_unit_test(test_scale_128),
		cmocka_unit_test(test_rfb_cursor),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
