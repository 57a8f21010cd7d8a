// SPDX-License-Identifier: GPL-2.0-or-later
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "font.h"
#include "placeholder.h"

#define GUARD 32    /* bytes before and after the picture */
#define PADDING 8   /* bytes past each row's pixels */
#define POISON 0x5a /* what nothing may overwrite outside the pixels */
#define ALL_KINDS 4
#define LONG_DETAIL "mmap of dmabuf 7 (3145728 bytes) failed: Invalid argument"

struct frame {
	uint8_t *mem;
	uint8_t *px;
	size_t stride;
	uint32_t w, h;
};

static struct frame frame_alloc(uint32_t w, uint32_t h)
{
	struct frame f = { .stride = (size_t)w * 4 + PADDING, .w = w, .h = h };

	f.mem = malloc(f.stride * h + 2 * GUARD);
	assert_non_null(f.mem);
	memset(f.mem, POISON, f.stride * h + 2 * GUARD);
	f.px = f.mem + GUARD;
	return f;
}

static void paint(struct frame *f, enum placeholder_kind kind, const char *instance,
		  const char *detail)
{
	placeholder_draw(f->px, f->stride, f->w, f->h, kind, instance, detail);
}

static uint32_t pixel(const struct frame *f, uint32_t x, uint32_t y)
{
	const uint8_t *p = f->px + y * f->stride + x * 4;

	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Every pixel was drawn, and no byte that is not a pixel was. */
static void check_bounds(const struct frame *f)
{
	const size_t total = f->stride * f->h + 2 * GUARD;

	for (size_t i = 0; i < total; i++) {
		size_t col = (i - GUARD) % f->stride;
		bool is_pixel = i >= GUARD && i < total - GUARD && col < (size_t)f->w * 4;

		if (!is_pixel && f->mem[i] != POISON)
			fail_msg("%ux%u: byte %zu outside the pixels was written", f->w, f->h, i);
	}
	for (uint32_t y = 0; y < f->h; y++)
		for (uint32_t x = 0; x < f->w; x++)
			if (pixel(f, x, y) == 0x5a5a5a5au)
				fail_msg("%ux%u: pixel %u,%u was not drawn", f->w, f->h, x, y);
}

static bool same_picture(const struct frame *a, const struct frame *b)
{
	return a->w == b->w && a->h == b->h && memcmp(a->px, b->px, a->stride * a->h) == 0;
}

static void test_any_size_stays_inside(void **state)
{
	static const uint32_t sizes[][2] = {
		{ 1, 1 }, { 7, 5 }, { 2, 3 }, { 33, 17 }, { 5, 300 }, { 300, 5 },
		{ 641, 479 }, { 0, 0 }, { 0, 5 }, { 5, 0 },
	};
	static const char *const details[] = { NULL, "", "x", LONG_DETAIL LONG_DETAIL };

	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		for (int kind = 0; kind < ALL_KINDS; kind++) {
			for (size_t d = 0; d < sizeof(details) / sizeof(details[0]); d++) {
				struct frame f = frame_alloc(sizes[s][0], sizes[s][1]);

				paint(&f, kind, d ? "vm-1" : NULL, details[d]);
				check_bounds(&f);
				free(f.mem);
			}
		}
	}
}

static void test_each_kind_differs(void **state)
{
	struct frame f[ALL_KINDS];

	for (int kind = 0; kind < ALL_KINDS; kind++) {
		f[kind] = frame_alloc(640, 480);
		paint(&f[kind], kind, "vm-1", "detail");
		check_bounds(&f[kind]);
	}
	for (int a = 0; a < ALL_KINDS; a++)
		for (int b = a + 1; b < ALL_KINDS; b++)
			if (same_picture(&f[a], &f[b]))
				fail_msg("kinds %d and %d draw the same picture", a, b);
	for (int kind = 0; kind < ALL_KINDS; kind++)
		free(f[kind].mem);
}

/* Draws twice with different text; true when the pictures differ. */
static bool text_shows(const char *instance_a, const char *detail_a, const char *instance_b,
		       const char *detail_b)
{
	struct frame a = frame_alloc(PLACEHOLDER_WIDTH, PLACEHOLDER_HEIGHT);
	struct frame b = frame_alloc(PLACEHOLDER_WIDTH, PLACEHOLDER_HEIGHT);
	bool differ;

	paint(&a, PLACEHOLDER_NO_SIGNAL, instance_a, detail_a);
	paint(&b, PLACEHOLDER_NO_SIGNAL, instance_b, detail_b);
	differ = !same_picture(&a, &b);
	free(a.mem);
	free(b.mem);
	return differ;
}

static void test_text_changes_picture(void **state)
{
	assert_true(text_shows("vm-a", NULL, "vm-b", NULL));
	assert_true(text_shows(NULL, NULL, "vm-a", NULL));
	assert_true(text_shows("vm-a", "reason 1", "vm-a", "reason 2"));
	assert_false(text_shows("vm-a", NULL, "vm-a", ""));
	assert_false(text_shows("vm-a", "same", "vm-a", "same"));
}

struct box {
	uint32_t left, top, right, bottom; /* inclusive */
	bool empty;
};

/* The smallest box around every pixel whose colour (X ignored) is xrgb, or is not when !is. */
static struct box box_where(const struct frame *f, uint32_t xrgb, bool is)
{
	struct box b = { .left = f->w, .top = f->h, .empty = true };

	for (uint32_t y = 0; y < f->h; y++) {
		for (uint32_t x = 0; x < f->w; x++) {
			if (((pixel(f, x, y) & 0xffffff) == xrgb) != is)
				continue;
			b.empty = false;
			b.left = x < b.left ? x : b.left;
			b.right = x > b.right ? x : b.right;
			b.top = y < b.top ? y : b.top;
			b.bottom = y > b.bottom ? y : b.bottom;
		}
	}
	return b;
}

/* The smallest box around every pixel that differs from the corner's colour. */
static struct box drawn_box(const struct frame *f)
{
	return box_where(f, pixel(f, 0, 0) & 0xffffff, false);
}

static long diff(long a, long b)
{
	return a > b ? a - b : b - a;
}

/* Text fits, sits in the middle and grows with the picture. */
static void test_readable_and_centered(void **state)
{
	static const struct {
		uint32_t w, h, min_box_height;
	} sizes[] = { { 640, 480, 60 }, { PLACEHOLDER_WIDTH, PLACEHOLDER_HEIGHT, 100 },
		      { 1920, 1080, 100 }, { 3840, 2160, 250 } };

	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		struct frame f = frame_alloc(sizes[s].w, sizes[s].h);
		struct box b;

		paint(&f, PLACEHOLDER_CANNOT_MAP, "3f2a1c6e-0b2d-4c55-9a1e-1d2f3e4a5b6c",
		      "Invalid argument");
		b = drawn_box(&f);
		assert_false(b.empty);
		assert_true(b.left > 0 && b.top > 0 && b.right < f.w - 1 && b.bottom < f.h - 1);
		assert_true(b.bottom - b.top + 1 >= sizes[s].min_box_height);
		assert_true(diff(b.left, f.w - 1 - b.right) <= (long)f.w / 20);
		assert_true(diff(b.top, f.h - 1 - b.bottom) <= (long)f.h / 20);
		free(f.mem);
	}
}

struct found_text {
	unsigned scale; /* 0: not found */
	long x, y;	/* top left corner of the first character's cell */
};

/*
 * Whether the pixels of colour xrgb in f are exactly text's glyphs as the
 * font module draws them at scale, somewhere: text drawn at (0, 0) on its
 * own is the reference, placed where its ink matches the colour's box.
 */
static bool text_matches(const struct frame *f, const struct box *ink, uint32_t xrgb,
			 const char *text, unsigned scale, struct found_text *out)
{
	const uint32_t mark = 0xffffff;
	struct frame ref = frame_alloc(font_text_width(text, scale), font_height(scale));
	struct box own;
	bool same = true;

	memset(ref.px, 0, ref.stride * ref.h);
	font_draw_text(ref.px, ref.stride, ref.w, ref.h, 0, 0, scale, mark, text);
	own = box_where(&ref, mark, true);
	if (own.empty || own.right - own.left != ink->right - ink->left ||
	    own.bottom - own.top != ink->bottom - ink->top)
		same = false;
	for (uint32_t y = 0; same && y <= own.bottom - own.top; y++)
		for (uint32_t x = 0; same && x <= own.right - own.left; x++)
			same = ((pixel(f, ink->left + x, ink->top + y) & 0xffffff) == xrgb) ==
			       ((pixel(&ref, own.left + x, own.top + y) & 0xffffff) == mark);
	if (same)
		*out = (struct found_text){ scale, (long)ink->left - own.left,
					    (long)ink->top - own.top };
	free(ref.mem);
	return same;
}

/* Where the placeholder shows text, in whichever of its colours and scales; scale 0 if nowhere. */
static struct found_text find_text(const struct frame *f, const char *text)
{
	uint32_t colours[16], background = pixel(f, 0, 0) & 0xffffff;
	size_t n = 0;
	struct found_text found = { 0 };

	for (uint32_t y = 0; y < f->h; y++) {
		for (uint32_t x = 0; x < f->w; x++) {
			uint32_t c = pixel(f, x, y) & 0xffffff;
			size_t i = 0;

			while (i < n && colours[i] != c)
				i++;
			if (i == n && c != background && n < sizeof(colours) / sizeof(colours[0]))
				colours[n++] = c;
		}
	}
	for (size_t i = 0; i < n && !found.scale; i++) {
		struct box ink = box_where(f, colours[i], true);

		for (unsigned scale = 1; scale <= 8 && !found.scale; scale++)
			text_matches(f, &ink, colours[i], text, scale, &found);
	}
	return found;
}

/*
 * Each kind shows its title, the detail and the instance name, glyph for
 * glyph as the font draws them: the title larger and centred, the lines in
 * that order from the top.
 */
static void test_text_is_drawn(void **state)
{
	static const char *const titles[ALL_KINDS] = {
		[PLACEHOLDER_NO_SIGNAL] = "No signal",
		[PLACEHOLDER_CANNOT_MAP] = "Cannot map the display buffer",
		[PLACEHOLDER_UNSUPPORTED_FORMAT] = "Unsupported format",
		[PLACEHOLDER_BAD_PLANE] = "Bad plane",
	};
	static const uint32_t sizes[][2] = { { 640, 480 }, { 1024, 768 }, { 1920, 1080 } };

	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		for (int kind = 0; kind < ALL_KINDS; kind++) {
			struct frame f = frame_alloc(sizes[s][0], sizes[s][1]);
			struct found_text title, detail, instance;

			paint(&f, kind, "vm-1", "Invalid argument");
			title = find_text(&f, titles[kind]);
			detail = find_text(&f, "Invalid argument");
			instance = find_text(&f, "vm-1");
			if (!title.scale || !detail.scale || !instance.scale)
				fail_msg("%ux%u kind %d: text not found (title %u, detail %u, "
					 "instance %u)", f.w, f.h, kind, title.scale,
					 detail.scale, instance.scale);
			assert_true(title.scale > detail.scale);
			assert_true(diff(2 * title.x + font_text_width(titles[kind], title.scale),
					 f.w) <= 1);
			assert_true(title.y < detail.y && detail.y < instance.y);
			free(f.mem);
		}
	}
}

static void test_format_detail(void **state)
{
	char buf[64];

	placeholder_format_detail(buf, sizeof(buf), 0x56595559, 0x0100000000000002ull);
	assert_string_equal(buf, "YUYV modifier 0x0100000000000002");
	placeholder_format_detail(buf, sizeof(buf), 0x34325258, 0);
	assert_string_equal(buf, "XR24 modifier 0x0000000000000000");
	placeholder_format_detail(buf, sizeof(buf), 0x00ff2043, 1);
	assert_string_equal(buf, "C ?? modifier 0x0000000000000001");
	placeholder_format_detail(buf, 5, 0x56595559, 0);
	assert_string_equal(buf, "YUYV");
	buf[0] = 'k';
	placeholder_format_detail(buf, 0, 0x56595559, 0);
	assert_int_equal(buf[0], 'k');
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_any_size_stays_inside),
		cmocka_unit_test(test_each_kind_differs),
		cmocka_unit_test(test_text_changes_picture),
		cmocka_unit_test(test_readable_and_centered),
		cmocka_unit_test(test_text_is_drawn),
		cmocka_unit_test(test_format_detail),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
