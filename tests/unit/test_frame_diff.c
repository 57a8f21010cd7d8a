// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * frame_diff against a reference written here: the framebuffer must hold
 * each source pixel converted (byte order swapped by hand for XBGR8888),
 * the damage must name exactly the tiles whose source bytes changed, and
 * nothing outside the damage may be written. Framebuffer rows are one page
 * each, so whole tile rows can be made read-only: a stray write crashes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <cmocka.h>
#include <drm_fourcc.h>

#include "convert.h"
#include "frame_diff.h"

#define W 200u /* largest picture; tiles: 3 full columns and one of 8 pixels */
#define H 150u /* 2 full tile rows and one of 22 */
#define FB_STRIDE 4096u
#define PAD 0xa5    /* framebuffer bytes right of the picture */
#define POISON 0x5a /* framebuffer pixels that must not be rewritten */

struct fixture {
	struct pixel_layout layout;
	uint8_t *src;
	size_t src_size;
	uint8_t *fb;
	struct frame_diff *diff;
};

static uint64_t rng_state = 0x2545f4914f6cdd1dULL;

static uint32_t rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint32_t)((rng_state * 0x2545F4914F6CDD1DULL) >> 32);
}

static void fill_random(uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)rnd();
}

static void fixture_init(struct fixture *fx, uint32_t fourcc, uint32_t width, uint32_t stride)
{
	const char *why;

	fx->layout = (struct pixel_layout){ fourcc, DRM_FORMAT_MOD_LINEAR, width, H, stride };
	fx->src_size = (size_t)stride * H;
	fx->src = malloc(fx->src_size);
	assert_non_null(fx->src);
	fill_random(fx->src, fx->src_size);
	assert_int_equal(convert_check(&fx->layout, fx->src_size, &why), 0);
	fx->fb = mmap(NULL, (size_t)FB_STRIDE * H, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(fx->fb != MAP_FAILED);
	memset(fx->fb, PAD, (size_t)FB_STRIDE * H);
	fx->diff = frame_diff_new();
	assert_non_null(fx->diff);
}

static void fixture_done(struct fixture *fx)
{
	frame_diff_free(fx->diff);
	munmap(fx->fb, (size_t)FB_STRIDE * H);
	free(fx->src);
}

static bool is_copy(const struct fixture *fx)
{
	return fx->layout.fourcc != DRM_FORMAT_XBGR8888;
}

static uint8_t *src_px(const struct fixture *fx, uint32_t x, uint32_t y)
{
	return fx->src + (size_t)y * fx->layout.stride + (size_t)x * 4;
}

static uint8_t *fb_px(const struct fixture *fx, uint32_t x, uint32_t y)
{
	return fx->fb + (size_t)y * FB_STRIDE + (size_t)x * 4;
}

/* The framebuffer pixel (B, G, R, X bytes) the source pixel must become. */
static void reference_pixel(const struct fixture *fx, uint32_t x, uint32_t y, uint8_t out[4])
{
	const uint8_t *s = src_px(fx, x, y);

	if (is_copy(fx)) {
		memcpy(out, s, 4);
	} else { /* XBGR8888: R, G, B, X bytes */
		out[0] = s[2];
		out[1] = s[1];
		out[2] = s[0];
		out[3] = s[3];
	}
}

static bool in_rect(struct rect r, uint32_t x, uint32_t y)
{
	return x >= r.x && x < r.x + r.width && y >= r.y && y < r.y + r.height;
}

/*
 * Pixels inside keep are converted source pixels (X only compared for a
 * copy: converters may write 0xff there), pixels outside it are POISON,
 * bytes right of the largest picture are PAD.
 */
static void check_fb_keep(const struct fixture *fx, struct rect keep)
{
	for (uint32_t y = 0; y < H; y++) {
		for (uint32_t x = 0; x < fx->layout.width; x++) {
			const uint8_t *d = fb_px(fx, x, y);
			uint8_t want[4];
			size_t n = is_copy(fx) ? 4 : 3;

			reference_pixel(fx, x, y, want);
			if (!in_rect(keep, x, y))
				memset(want, POISON, sizeof(want));
			if (memcmp(d, want, n) != 0)
				fail_msg("pixel %u,%u: %02x %02x %02x %02x, want %02x %02x %02x", x,
					 y, d[0], d[1], d[2], d[3], want[0], want[1], want[2]);
		}
		for (uint32_t b = W * 4; b < FB_STRIDE; b++)
			if (fx->fb[(size_t)y * FB_STRIDE + b] != PAD)
				fail_msg("padding byte %u of row %u written", b, y);
	}
}

static void check_fb(const struct fixture *fx)
{
	check_fb_keep(fx, (struct rect){ 0, 0, W, H });
}

/* Fills the framebuffer from the reference, outside r with POISON. */
static void paint_fb(const struct fixture *fx, struct rect keep)
{
	for (uint32_t y = 0; y < H; y++) {
		for (uint32_t x = 0; x < fx->layout.width; x++) {
			uint8_t *d = fb_px(fx, x, y);

			if (in_rect(keep, x, y))
				reference_pixel(fx, x, y, d);
			else
				memset(d, POISON, 4);
		}
	}
}

static const struct damage_map *apply(struct fixture *fx)
{
	const struct damage_map *d = frame_diff_apply(fx->diff, &fx->layout, fx->src, fx->src_size,
						      fx->fb, FB_STRIDE);

	assert_non_null(d);
	assert_int_equal(d->width, fx->layout.width);
	assert_int_equal(d->height, fx->layout.height);
	return d;
}

static void assert_full(const struct damage_map *d)
{
	assert_int_equal(d->dirty_count, d->cols * d->rows);
}

/* Makes every framebuffer row read-only except those of one tile row (-1: all). */
static void protect_fb(const struct fixture *fx, int except_tile_row)
{
	for (uint32_t y = 0; y < H; y++) {
		int prot = (int)(y / DAMAGE_TILE) == except_tile_row ? PROT_READ | PROT_WRITE
								     : PROT_READ;

		assert_int_equal(mprotect(fx->fb + (size_t)y * FB_STRIDE, FB_STRIDE, prot), 0);
	}
}

static void unprotect_fb(const struct fixture *fx)
{
	assert_int_equal(mprotect(fx->fb, (size_t)FB_STRIDE * H, PROT_READ | PROT_WRITE), 0);
}

static const uint32_t formats[] = { DRM_FORMAT_XRGB8888, DRM_FORMAT_XBGR8888 };
#define FORMATS (sizeof(formats) / sizeof(formats[0]))

static void test_first_then_same(void **state)
{
	for (size_t f = 0; f < FORMATS; f++) {
		struct fixture fx;
		const struct damage_map *d;
		uint8_t *orig;

		fixture_init(&fx, formats[f], W, W * 4 + 24);
		assert_full(apply(&fx));
		check_fb(&fx);

		/* The same picture in another buffer: compared by content, nothing written. */
		orig = fx.src;
		fx.src = malloc(fx.src_size);
		assert_non_null(fx.src);
		memcpy(fx.src, orig, fx.src_size);
		memset(orig, 0, fx.src_size);
		protect_fb(&fx, -1);
		d = apply(&fx);
		unprotect_fb(&fx);
		assert_true(damage_map_empty(d));
		check_fb(&fx);
		free(orig);
		fixture_done(&fx);
	}
}

/* One pixel changed in each tile in turn: that tile alone is reported and written. */
static void test_one_pixel_per_tile(void **state)
{
	for (size_t f = 0; f < FORMATS; f++) {
		struct fixture fx;

		fixture_init(&fx, formats[f], W, W * 4 + 24);
		apply(&fx);
		for (uint32_t ty = 0; ty < H; ty += DAMAGE_TILE) {
			for (uint32_t tx = 0; tx < W; tx += DAMAGE_TILE) {
				struct rect tile = { tx, ty, DAMAGE_TILE, DAMAGE_TILE };
				uint32_t x = tx + rnd() % (W - tx < 64 ? W - tx : 64);
				uint32_t y = ty + rnd() % (H - ty < 64 ? H - ty : 64);
				const struct damage_map *d;

				fx.src[(size_t)y * fx.layout.stride + x * 4 + rnd() % 3] ^= 0x81;
				if (!is_copy(&fx)) /* the shadow path never reads the framebuffer */
					paint_fb(&fx, tile);
				protect_fb(&fx, (int)(ty / DAMAGE_TILE));
				d = apply(&fx);
				unprotect_fb(&fx);
				assert_int_equal(d->dirty_count, 1);
				assert_true(d->dirty[(ty / 64) * d->cols + tx / 64]);
				check_fb_keep(&fx, is_copy(&fx) ? (struct rect){ 0, 0, W, H } : tile);
				paint_fb(&fx, (struct rect){ 0, 0, W, H });
			}
		}
		fixture_done(&fx);
	}
}

/* Copies the picture into a buffer of another stride. */
static void restride(struct fixture *fx, uint32_t stride)
{
	uint8_t *src = malloc((size_t)stride * H);

	assert_non_null(src);
	fill_random(src, (size_t)stride * H);
	for (uint32_t y = 0; y < H; y++)
		memcpy(src + (size_t)y * stride, src_px(fx, 0, y), (size_t)fx->layout.width * 4);
	free(fx->src);
	fx->src = src;
	fx->src_size = (size_t)stride * H;
	fx->layout.stride = stride;
}

/* After a change of layout everything is converted; after that, nothing. */
static void check_full_then_stable(struct fixture *fx)
{
	const char *why;

	assert_int_equal(convert_check(&fx->layout, fx->src_size, &why), 0);
	assert_full(apply(fx));
	check_fb(fx);
	assert_true(damage_map_empty(apply(fx)));
}

static void test_layout_change(void **state)
{
	struct fixture fx;

	fixture_init(&fx, DRM_FORMAT_XRGB8888, W, W * 4);
	apply(&fx);
	restride(&fx, W * 4 + 256);
	check_full_then_stable(&fx);
	fx.layout.width = W - 10;
	check_full_then_stable(&fx);
	fx.layout.width = W;
	check_full_then_stable(&fx);
	fx.layout.fourcc = DRM_FORMAT_XBGR8888;
	check_full_then_stable(&fx);
	restride(&fx, W * 4 + 4);
	check_full_then_stable(&fx);
	fx.layout.fourcc = DRM_FORMAT_ARGB8888;
	check_full_then_stable(&fx);
	fixture_done(&fx);
}

/* The daemon drew a placeholder over the picture; after reset the picture is back whole. */
static void test_reset_after_placeholder(void **state)
{
	for (size_t f = 0; f < FORMATS; f++) {
		struct fixture fx;

		fixture_init(&fx, formats[f], W, W * 4 + 8);
		apply(&fx);
		frame_diff_reset(fx.diff);
		check_full_then_stable(&fx);
		for (uint32_t y = 0; y < H; y++)
			memset(fb_px(&fx, 0, y), 0x33, W * 4);
		frame_diff_reset(fx.diff);
		check_full_then_stable(&fx);
		fixture_done(&fx);
	}
}

/* Tiles where the picture's bytes differ from before: the damage oracle. */
static void expected_damage(const struct fixture *fx, const uint8_t *before, uint8_t *dirty,
			    uint32_t cols)
{
	for (uint32_t y = 0; y < H; y++)
		for (uint32_t x = 0; x < fx->layout.width; x++)
			if (memcmp(src_px(fx, x, y), before + (src_px(fx, x, y) - fx->src), 4))
				dirty[(y / DAMAGE_TILE) * cols + x / DAMAGE_TILE] = 1;
}

/* A few random rectangles of new bytes, and new bytes in the row padding. */
static void scribble(struct fixture *fx)
{
	uint32_t rects = rnd() % 4;

	for (uint32_t i = 0; i < rects; i++) {
		uint32_t x = rnd() % W, y = rnd() % H;
		uint32_t w = 1 + rnd() % 40, h = 1 + rnd() % 40;

		for (uint32_t yy = y; yy < y + h && yy < H; yy++)
			for (uint32_t xx = x; xx < x + w && xx < W; xx++)
				fill_random(src_px(fx, xx, yy), rnd() % 2 ? 4 : 1);
	}
	for (uint32_t y = 0; y < H; y++)
		fill_random(fx->src + (size_t)y * fx->layout.stride + W * 4, fx->layout.stride - W * 4);
}

static void test_partial_changes(void **state)
{
	for (size_t f = 0; f < FORMATS; f++) {
		struct fixture fx;
		uint8_t *before;
		const struct damage_map *d;

		fixture_init(&fx, formats[f], W, W * 4 + 40);
		before = malloc(fx.src_size);
		assert_non_null(before);
		apply(&fx);
		for (int i = 0; i < 60; i++) {
			uint8_t dirty[4 * 3] = { 0 };

			memcpy(before, fx.src, fx.src_size);
			scribble(&fx);
			expected_damage(&fx, before, dirty, 4);
			d = apply(&fx);
			assert_int_equal(d->cols * d->rows, sizeof(dirty));
			assert_memory_equal(d->dirty, dirty, sizeof(dirty));
			check_fb(&fx);
		}
		free(before);
		fixture_done(&fx);
	}
}

/* A tiled plane: a picture whose edges cut hardware tiles, in a buffer of whole tile rows. */
struct tiled_case {
	uint64_t modifier;
	uint32_t fourcc;
	uint32_t tw_bytes, th, cpp; /* hardware tile, from the layout descriptions */
};

static const struct tiled_case tiled_cases[] = {
	{ I915_FORMAT_MOD_X_TILED, DRM_FORMAT_XRGB8888, 512, 8, 4 },
	{ I915_FORMAT_MOD_X_TILED, DRM_FORMAT_XBGR8888, 512, 8, 4 },
	{ I915_FORMAT_MOD_Y_TILED, DRM_FORMAT_RGB565, 128, 32, 2 },
	{ I915_FORMAT_MOD_Y_TILED, DRM_FORMAT_ARGB8888, 128, 32, 4 },
	{ I915_FORMAT_MOD_Yf_TILED, DRM_FORMAT_C8, 64, 64, 1 },
	{ I915_FORMAT_MOD_Yf_TILED, DRM_FORMAT_YUYV, 128, 32, 2 },
};

#define TW 333u /* not a multiple of any tile width */
#define TH 97u  /* nor of any tile height */

/* Changes one byte of hardware tile (col, band); returns the pixels that tile covers. */
static struct rect touch_hw_tile(const struct tiled_case *c, uint8_t *src, uint32_t stride,
				 uint32_t col, uint32_t band)
{
	size_t tile = (size_t)band * stride * c->th + (size_t)col * 4096;

	src[tile + rnd() % 4096] ^= 0x24;
	return (struct rect){ col * c->tw_bytes / c->cpp, band * c->th, c->tw_bytes / c->cpp, c->th };
}

/* The 64x64 tiles a rectangle touches inside a TW x TH picture. */
static uint32_t expected_tiles(struct rect r, uint8_t *dirty, uint32_t cols)
{
	uint32_t n = 0;

	for (uint32_t ty = 0; ty * DAMAGE_TILE < TH; ty++)
		for (uint32_t tx = 0; tx < cols; tx++) {
			bool hit = r.x < (tx + 1) * DAMAGE_TILE && tx * DAMAGE_TILE < r.x + r.width &&
				   r.y < (ty + 1) * DAMAGE_TILE && ty * DAMAGE_TILE < r.y + r.height &&
				   r.x < TW && r.y < TH;

			dirty[ty * cols + tx] = hit;
			n += hit;
		}
	return n;
}

/*
 * Tiled planes are compared hardware tile by hardware tile: no change writes
 * nothing, one changed hardware tile damages and rewrites exactly the 64x64
 * tiles its pixels fall in, and the picture stays the whole conversion.
 */
static void test_tiled(void **state)
{
	for (size_t k = 0; k < sizeof(tiled_cases) / sizeof(tiled_cases[0]); k++) {
		const struct tiled_case *c = &tiled_cases[k];
		uint32_t stride = (TW * c->cpp / c->tw_bytes + 2) * c->tw_bytes; /* a spare tile */
		uint32_t bands = (TH + c->th - 1) / c->th, hw_cols = stride / c->tw_bytes;
		struct pixel_layout l = { c->fourcc, c->modifier, TW, TH, stride };
		size_t size = (size_t)stride * c->th * bands, fb_size = (size_t)TW * 4 * TH;
		uint8_t *src = malloc(size), *want = malloc(fb_size);
		uint8_t *fb = mmap(NULL, fb_size, PROT_READ | PROT_WRITE,
				   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		struct frame_diff *diff = frame_diff_new();
		const uint32_t cols = (TW + 63) / 64;
		const struct damage_map *d;
		const char *why;

		assert_true(src && want && fb != MAP_FAILED && diff);
		assert_int_equal(convert_check(&l, size, &why), 0);
		fill_random(src, size);
		d = frame_diff_apply(diff, &l, src, size, fb, TW * 4);
		assert_non_null(d);
		assert_full(d);
		for (int round = 0; round < 12; round++) {
			uint8_t dirty[(TW + 63) / 64 * 2];
			uint32_t col = rnd() % hw_cols, band = rnd() % bands;
			struct rect hw = touch_hw_tile(c, src, stride, col, band);
			uint32_t n = expected_tiles(hw, dirty, cols);

			/* Outside the damage the framebuffer must keep what it had. */
			convert_rect(&l, src, want, TW * 4, (struct rect){ 0, 0, TW, TH });
			for (uint32_t i = 0; i < cols * 2; i++)
				if (dirty[i])
					for (uint32_t y = i / cols * 64; y < TH && y < i / cols * 64 + 64; y++)
						memset(fb + (size_t)y * TW * 4 + i % cols * 256, POISON,
						       (i % cols == cols - 1 ? TW % 64 : 64) * 4);
			d = frame_diff_apply(diff, &l, src, size, fb, TW * 4);
			assert_non_null(d);
			assert_int_equal(d->dirty_count, n);
			assert_memory_equal(d->dirty, dirty, cols * 2);
			assert_memory_equal(fb, want, fb_size);

			mprotect(fb, fb_size, PROT_READ);
			d = frame_diff_apply(diff, &l, src, size, fb, TW * 4);
			mprotect(fb, fb_size, PROT_READ | PROT_WRITE);
			assert_true(d && damage_map_empty(d));
		}
		frame_diff_free(diff);
		munmap(fb, fb_size);
		free(want);
		free(src);
	}
}

/*
 * A YUYV row of odd width ends in half a macropixel: the V byte past the
 * last pixel colours it, so a change there alone damages the last tile, and
 * is then remembered (the next frame is quiet).
 */
static void test_odd_width_422_chroma(void **state)
{
	const uint32_t width = 201, height = 70, stride = 416;
	struct pixel_layout l = { DRM_FORMAT_YUYV, DRM_FORMAT_MOD_LINEAR, width, height, stride };
	size_t size = (size_t)stride * height, fb_size = (size_t)width * 4 * height;
	uint8_t *src = malloc(size), *want = malloc(fb_size), *fb = malloc(fb_size);
	struct frame_diff *diff = frame_diff_new();
	const struct damage_map *d;
	const char *why;

	assert_true(src && want && fb && diff);
	assert_int_equal(convert_check(&l, size, &why), 0);
	fill_random(src, size);
	assert_non_null(frame_diff_apply(diff, &l, src, size, fb, width * 4));
	for (uint32_t y = 3; y < height; y += 61) {
		src[(size_t)y * stride + width * 2 + 1] ^= 0x40; /* V of the pair 200, 201 */
		d = frame_diff_apply(diff, &l, src, size, fb, width * 4);
		assert_non_null(d);
		assert_int_equal(d->dirty_count, 1);
		assert_true(d->dirty[(y / 64) * d->cols + d->cols - 1]);
		convert_rect(&l, src, want, width * 4, (struct rect){ 0, 0, width, height });
		assert_memory_equal(fb, want, fb_size);
		assert_true(damage_map_empty(frame_diff_apply(diff, &l, src, size, fb, width * 4)));
	}
	frame_diff_free(diff);
	free(fb);
	free(want);
	free(src);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_first_then_same),
		cmocka_unit_test(test_one_pixel_per_tile),
		cmocka_unit_test(test_layout_change),
		cmocka_unit_test(test_reset_after_placeholder),
		cmocka_unit_test(test_partial_changes),
		cmocka_unit_test(test_tiled),
		cmocka_unit_test(test_odd_width_422_chroma),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
