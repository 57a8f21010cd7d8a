// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Every format x modifier: a picture encoded pixel by pixel by the
 * reference encoder below (its own tile address functions, written from the
 * layout descriptions, not from src/detile.c), converted whole and in
 * pieces, compared with the reference decoding. Source buffers end on an
 * inaccessible page, so any read past them crashes the test.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <drm_fourcc.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "convert.h"

#define GUARD 0xa5
#define DST_PAD 3 /* guard pixels around the destination picture */

struct fmt_case {
	uint32_t fourcc;
	const char *name;
	unsigned cpp;
	unsigned tolerance; /* per channel: 0 exact; YUV: rounding */
};

static const struct fmt_case fmts[] = {
	{ DRM_FORMAT_XRGB8888, "XRGB8888", 4, 0 },
	{ DRM_FORMAT_ARGB8888, "ARGB8888", 4, 0 },
	{ DRM_FORMAT_XBGR8888, "XBGR8888", 4, 0 },
	{ DRM_FORMAT_ABGR8888, "ABGR8888", 4, 0 },
	{ DRM_FORMAT_RGB565, "RGB565", 2, 0 },
	{ DRM_FORMAT_XRGB2101010, "XRGB2101010", 4, 0 },
	{ DRM_FORMAT_XBGR2101010, "XBGR2101010", 4, 0 },
	/* libyuv's 6-bit fixed point against exact BT.601: off by up to 3. */
	{ DRM_FORMAT_YUYV, "YUYV", 2, 3 },
	{ DRM_FORMAT_UYVY, "UYVY", 2, 3 },
	{ DRM_FORMAT_YVYU, "YVYU", 2, 3 },
	{ DRM_FORMAT_VYUY, "VYUY", 2, 3 },
	{ DRM_FORMAT_C8, "C8", 1, 0 },
};

static const uint64_t mods[] = {
	DRM_FORMAT_MOD_LINEAR,
	I915_FORMAT_MOD_X_TILED,
	I915_FORMAT_MOD_Y_TILED,
	I915_FORMAT_MOD_Yf_TILED,
};

/* ---- reference tile layouts ---- */

struct ref_tile {
	uint32_t w, h; /* bytes, rows; 1 x 1 for linear */
};

static struct ref_tile ref_tile_size(uint64_t mod, unsigned cpp)
{
	if (mod == I915_FORMAT_MOD_X_TILED)
		return (struct ref_tile){ 512, 8 };
	if (mod == I915_FORMAT_MOD_Y_TILED)
		return (struct ref_tile){ 128, 32 };
	if (mod == I915_FORMAT_MOD_Yf_TILED)
		return cpp == 1 ? (struct ref_tile){ 64, 64 } : (struct ref_tile){ 128, 32 };
	return (struct ref_tile){ 1, 1 };
}

static uint32_t bit(uint32_t v, unsigned n)
{
	return (v >> n) & 1;
}

/* Offset inside a 4 KiB tile of byte column u, row v. */
static uint32_t ref_in_tile(uint64_t mod, unsigned cpp, uint32_t u, uint32_t v)
{
	if (mod == I915_FORMAT_MOD_X_TILED) /* rows of 512 bytes, one after the other */
		return v * 512 + u;
	if (mod == I915_FORMAT_MOD_Y_TILED) /* 16-byte columns of 32 rows, column-major */
		return (u / 16) * 512 + v * 16 + u % 16;
	if (cpp == 1) /* Yf 8 bpp: x5 y5 x4 y4..y0 x3..x0 */
		return (u & 15) | (v & 31) << 4 | bit(u, 4) << 9 | bit(v, 5) << 10 |
		       bit(u, 5) << 11;
	/* Yf 16/32 bpp: x6 y4 x5 y3 x4 y2 y1 y0 x3..x0 */
	return (u & 15) | (v & 7) << 4 | bit(u, 4) << 7 | bit(v, 3) << 8 | bit(u, 5) << 9 |
	       bit(v, 4) << 10 | bit(u, 6) << 11;
}

static size_t ref_offset(uint64_t mod, unsigned cpp, uint32_t stride, uint32_t xb, uint32_t y)
{
	struct ref_tile t = ref_tile_size(mod, cpp);

	if (mod == DRM_FORMAT_MOD_LINEAR)
		return (size_t)y * stride + xb;
	return (size_t)(y / t.h) * stride * t.h + (size_t)(xb / t.w) * 4096 +
	       ref_in_tile(mod, cpp, xb % t.w, y % t.h);
}

/* ---- the picture: source bytes of each pixel, and what they mean ---- */

static uint32_t hash(uint32_t x, uint32_t y, uint32_t salt)
{
	uint32_t h = x * 0x9e3779b1u ^ y * 0x85ebca77u ^ salt * 0xc2b2ae3du;

	h ^= h >> 15;
	h *= 0x2c1b3c6du;
	h ^= h >> 12;
	return h;
}

static bool is_yuv(uint32_t fourcc)
{
	return fourcc == DRM_FORMAT_YUYV || fourcc == DRM_FORMAT_UYVY ||
	       fourcc == DRM_FORMAT_YVYU || fourcc == DRM_FORMAT_VYUY;
}

/* Source bytes of pixel x (for 4:2:2: of the macropixel holding x, 4 bytes). */
static void source_bytes(const struct fmt_case *f, uint32_t x, uint32_t y, uint8_t out[4])
{
	uint32_t v = is_yuv(f->fourcc) ? hash(x / 2, y, f->fourcc) : hash(x, y, f->fourcc);

	memcpy(out, &v, 4); /* little-endian host: the DRM byte order */
}

static uint8_t clamp255(double v)
{
	return v < 0 ? 0 : v > 255 ? 255 : (uint8_t)(v + 0.5);
}

/* BT.601 limited range, the matrix convert.c promises for YUV. */
static void yuv_to_bgr(int y, int u, int v, uint8_t bgr[3])
{
	double c = 1.164383 * (y - 16);

	bgr[0] = clamp255(c + 2.017232 * (u - 128));
	bgr[1] = clamp255(c - 0.391762 * (u - 128) - 0.812968 * (v - 128));
	bgr[2] = clamp255(c + 1.596027 * (v - 128));
}

static void decode_yuv(uint32_t fourcc, const uint8_t m[4], bool odd, uint8_t bgr[3])
{
	/* Byte positions of Y0, U, Y1, V in each macropixel order. */
	static const struct {
		uint32_t fourcc;
		uint8_t y0, u, y1, v;
	} order[] = {
		{ DRM_FORMAT_YUYV, 0, 1, 2, 3 },
		{ DRM_FORMAT_UYVY, 1, 0, 3, 2 },
		{ DRM_FORMAT_YVYU, 0, 3, 2, 1 },
		{ DRM_FORMAT_VYUY, 1, 2, 3, 0 },
	};

	for (size_t i = 0; i < 4; i++)
		if (order[i].fourcc == fourcc)
			yuv_to_bgr(m[odd ? order[i].y1 : order[i].y0], m[order[i].u],
				   m[order[i].v], bgr);
}

static void expected_bgr(const struct fmt_case *f, uint32_t x, uint32_t y, uint8_t bgr[3])
{
	uint8_t s[4];
	uint32_t w;

	source_bytes(f, x, y, s);
	w = s[0] | s[1] << 8 | s[2] << 16 | (uint32_t)s[3] << 24;
	switch (f->fourcc) {
	case DRM_FORMAT_XRGB8888:
	case DRM_FORMAT_ARGB8888:
		bgr[0] = s[0], bgr[1] = s[1], bgr[2] = s[2];
		break;
	case DRM_FORMAT_XBGR8888:
	case DRM_FORMAT_ABGR8888:
		bgr[0] = s[2], bgr[1] = s[1], bgr[2] = s[0];
		break;
	case DRM_FORMAT_RGB565:
		bgr[0] = (w & 31) << 3 | (w & 31) >> 2;
		bgr[1] = ((w >> 5) & 63) << 2 | ((w >> 5) & 63) >> 4;
		bgr[2] = ((w >> 11) & 31) << 3 | ((w >> 11) & 31) >> 2;
		break;
	case DRM_FORMAT_XRGB2101010:
		bgr[0] = (w & 0x3ff) >> 2, bgr[1] = ((w >> 10) & 0x3ff) >> 2;
		bgr[2] = ((w >> 20) & 0x3ff) >> 2;
		break;
	case DRM_FORMAT_XBGR2101010:
		bgr[2] = (w & 0x3ff) >> 2, bgr[1] = ((w >> 10) & 0x3ff) >> 2;
		bgr[0] = ((w >> 20) & 0x3ff) >> 2;
		break;
	case DRM_FORMAT_C8:
		bgr[0] = bgr[1] = bgr[2] = s[0];
		break;
	default:
		decode_yuv(f->fourcc, s, x & 1, bgr);
	}
}

/* ---- buffers ---- */

/* A buffer of exactly size bytes that ends where an inaccessible page starts. */
struct fenced {
	uint8_t *map;
	size_t map_size;
	uint8_t *buf;
};

static void fenced_alloc(struct fenced *fb, size_t size)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t body = (size + page - 1) / page * page;

	fb->map_size = body + page;
	fb->map = mmap(NULL, fb->map_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		       -1, 0);
	assert_true(fb->map != MAP_FAILED);
	assert_int_equal(mprotect(fb->map + body, page, PROT_NONE), 0);
	fb->buf = fb->map + body - size;
}

static void fenced_free(struct fenced *fb)
{
	munmap(fb->map, fb->map_size);
}

struct plane {
	const struct fmt_case *f;
	struct pixel_layout layout;
	size_t size;
	struct fenced src;
};

/* Encodes the picture pixel by pixel, through the reference layout. */
static void plane_make(struct plane *p, const struct fmt_case *f, uint64_t mod, uint32_t width,
		       uint32_t height, uint32_t extra_stride)
{
	struct ref_tile t = ref_tile_size(mod, f->cpp);
	uint32_t row = (is_yuv(f->fourcc) ? (width + 1) / 2 * 2 : width) * f->cpp;
	uint32_t stride = (row + extra_stride + t.w - 1) / t.w * t.w;
	uint32_t rows = (height + t.h - 1) / t.h * t.h;

	p->f = f;
	p->layout = (struct pixel_layout){ f->fourcc, mod, width, height, stride };
	p->size = mod == DRM_FORMAT_MOD_LINEAR ? (size_t)stride * (height - 1) + row
					       : (size_t)stride * rows;
	fenced_alloc(&p->src, p->size);
	memset(p->src.buf, 0x5a, p->size);
	for (uint32_t y = 0; y < height; y++) {
		for (uint32_t x = 0; x < width; x++) {
			uint8_t s[4];
			unsigned n = f->cpp, from = 0;

			source_bytes(f, x, y, s);
			if (is_yuv(f->fourcc))
				from = (x & 1) * 2; /* this pixel's half of the macropixel */
			for (unsigned i = 0; i < n; i++)
				p->src.buf[ref_offset(mod, f->cpp, stride, x * n + i, y)] = s[from + i];
		}
		/* An odd-width 4:2:2 row ends on a whole macropixel. */
		if (is_yuv(f->fourcc) && (width & 1)) {
			uint8_t s[4];

			source_bytes(f, width - 1, y, s);
			for (unsigned i = 0; i < 2; i++)
				p->src.buf[ref_offset(mod, f->cpp, stride, width * 2 + i, y)] =
					s[2 + i];
		}
	}
}

struct target {
	uint8_t *mem;
	size_t stride;
	uint32_t width, height; /* picture, inside a DST_PAD border */
};

static void target_make(struct target *t, uint32_t width, uint32_t height)
{
	t->width = width;
	t->height = height;
	t->stride = ((size_t)width + 2 * DST_PAD) * 4 + 12;
	t->mem = malloc(t->stride * (height + 2 * DST_PAD));
	assert_non_null(t->mem);
	memset(t->mem, GUARD, t->stride * (height + 2 * DST_PAD));
}

static uint8_t *target_origin(const struct target *t)
{
	return t->mem + DST_PAD * t->stride + DST_PAD * 4;
}

/* Checks that r holds the picture and every other byte still holds GUARD. */
static void target_verify(const struct target *t, const struct plane *p, struct rect r,
			  const char *what)
{
	size_t total = t->stride * (t->height + 2 * DST_PAD);

	for (size_t off = 0; off < total; off++) {
		long py = (long)(off / t->stride) - DST_PAD;
		long px = (long)(off % t->stride / 4) - DST_PAD;
		unsigned ch = off % t->stride % 4;
		bool inside = py >= (long)r.y && py < (long)(r.y + r.height) && px >= (long)r.x &&
			      px < (long)(r.x + r.width);
		uint8_t bgr[3];

		if (!inside) {
			if (t->mem[off] != GUARD)
				fail_msg("%s: wrote outside the rect at x=%ld y=%ld", what, px, py);
			continue;
		}
		if (ch == 3)
			continue; /* X: unspecified */
		expected_bgr(p->f, (uint32_t)px, (uint32_t)py, bgr);
		if (abs((int)t->mem[off] - (int)bgr[ch]) > (int)p->f->tolerance)
			fail_msg("%s: pixel x=%ld y=%ld channel %u is %u, expected %u", what, px,
				 py, ch, t->mem[off], bgr[ch]);
	}
}

/* ---- tests ---- */

struct size_case {
	uint32_t width, height, extra_stride;
};

/* Odd widths, heights that end inside a tile row, padded strides, a span
 * longer than convert.c's staging chunk, exact tile multiples, one pixel. */
static const struct size_case sizes[] = {
	{ 203, 45, 100 },
	{ 4133, 5, 0 },
	{ 256, 64, 0 },
	{ 1, 1, 0 },
};

static void convert_and_verify(const struct plane *p, struct rect r, const char *what)
{
	struct target t;

	target_make(&t, p->layout.width, p->layout.height);
	convert_rect(&p->layout, p->src.buf, target_origin(&t), t.stride, r);
	target_verify(&t, p, r, what);
	free(t.mem);
}

static void check_pieces(const struct plane *p, const char *name)
{
	uint32_t w = p->layout.width, h = p->layout.height;
	/* Odd starts (second half of a macropixel), odd widths, tile edges. */
	const struct rect rects[] = {
		{ 1, 1, 1, 1 },     { 3, 2, 50, 17 },  { 0, 0, w, 1 },     { w - 1, h - 1, 1, 1 },
		{ w / 2 | 1, 0, w, h }, { 130, 7, 70, 30 }, { 64, 32, 64, 64 }, { 2047, 0, 3, h },
	};
	char what[96];

	for (size_t i = 0; i < sizeof(rects) / sizeof(rects[0]); i++) {
		struct rect r = rects[i];

		if (r.x >= w || r.y >= h)
			continue;
		if (r.width > w - r.x)
			r.width = w - r.x;
		if (r.height > h - r.y)
			r.height = h - r.y;
		snprintf(what, sizeof(what), "%s rect %u,%u %ux%u", name, r.x, r.y, r.width,
			 r.height);
		convert_and_verify(p, r, what);
	}
}

static void test_every_format_and_tiling(void **state)
{
	static const char *const mod_names[] = { "linear", "x", "y", "yf" };

	for (size_t fi = 0; fi < sizeof(fmts) / sizeof(fmts[0]); fi++) {
		for (size_t mi = 0; mi < 4; mi++) {
			for (size_t si = 0; si < sizeof(sizes) / sizeof(sizes[0]); si++) {
				const struct size_case *sc = &sizes[si];
				struct plane p;
				const char *why;
				char name[64];

				snprintf(name, sizeof(name), "%s/%s %ux%u", fmts[fi].name,
					 mod_names[mi], sc->width, sc->height);
				plane_make(&p, &fmts[fi], mods[mi], sc->width, sc->height,
					   sc->extra_stride);
				if (convert_check(&p.layout, p.size, &why) != 0)
					fail_msg("%s: rejected: %s", name, why);
				if (convert_check(&p.layout, p.size - 1, &why) != -EINVAL)
					fail_msg("%s: accepted a buffer one byte short", name);
				convert_and_verify(&p,
						   (struct rect){ 0, 0, sc->width, sc->height },
						   name);
				check_pieces(&p, name);
				fenced_free(&p.src);
			}
		}
	}
}

/* Rectangles reaching past the plane are clipped; empty ones write nothing. */
static void test_rect_clipping(void **state)
{
	static const struct rect cases[] = {
		{ 150, 40, 1000, 1000 }, /* clipped to 150,40 53x5 */
		{ 203, 0, 5, 5 },	 /* starts past the right edge */
		{ 0, 45, 5, 5 },	 /* starts past the bottom */
		{ 10, 10, 0, 7 },
		{ 10, 10, 7, 0 },
	};

	for (size_t mi = 0; mi < 4; mi++) {
		struct plane p;

		plane_make(&p, &fmts[0], mods[mi], 203, 45, 0);
		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			struct target t;
			struct rect r = cases[i];

			target_make(&t, 203, 45);
			convert_rect(&p.layout, p.src.buf, target_origin(&t), t.stride, r);
			r.width = r.x >= 203 ? 0 : r.width > 203 - r.x ? 203 - r.x : r.width;
			r.height = r.y >= 45 ? 0 : r.height > 45 - r.y ? 45 - r.y : r.height;
			target_verify(&t, &p, r, "clipped rect");
			free(t.mem);
		}
		fenced_free(&p.src);
	}
}

static void check_case(uint32_t fourcc, uint64_t mod, uint32_t w, uint32_t h, uint32_t stride,
			 size_t size, int expected)
{
	struct pixel_layout l = { fourcc, mod, w, h, stride };
	const char *why = NULL;
	int ret = convert_check(&l, size, &why);

	if (ret != expected)
		fail_msg("%ux%u stride %u size %zu: got %d, expected %d (%s)", w, h, stride, size,
			 ret, expected, why ? why : "-");
	assert_non_null(why);
	assert_true(why[0] != '\0');
}

static void test_check_rejects(void **state)
{
	const uint32_t xrgb = DRM_FORMAT_XRGB8888;
	const uint64_t lin = DRM_FORMAT_MOD_LINEAR, x = I915_FORMAT_MOD_X_TILED;
	const uint64_t y = I915_FORMAT_MOD_Y_TILED;

	check_case(DRM_FORMAT_NV12, lin, 64, 64, 256, 1 << 20, -ENOTSUP);
	check_case(xrgb, I915_FORMAT_MOD_Y_TILED_CCS, 64, 64, 256, 1 << 20, -ENOTSUP);
	check_case(xrgb, 0x123456789ull, 64, 64, 256, 1 << 20, -ENOTSUP);
	check_case(xrgb, lin, 0, 64, 256, 1 << 20, -EINVAL);
	check_case(xrgb, lin, 64, 0, 256, 1 << 20, -EINVAL);
	check_case(xrgb, lin, 16385, 1, 65540, 1 << 20, -EINVAL);
	check_case(xrgb, lin, 1, 16385, 4, 1 << 20, -EINVAL);
	check_case(xrgb, lin, 16384, 16384, 65536, (size_t)65536 * 16384, 0);
	check_case(xrgb, lin, 16384, 16384, 65536, (size_t)65536 * 16384 - 1, -EINVAL);
	check_case(xrgb, lin, 64, 2, 255, 1 << 20, -EINVAL);
	check_case(DRM_FORMAT_RGB565, lin, 64, 2, 128, 256, 0);
	/* An odd 4:2:2 row still needs its whole last macropixel. */
	check_case(DRM_FORMAT_YUYV, lin, 3, 1, 6, 6, -EINVAL);
	check_case(DRM_FORMAT_YUYV, lin, 3, 1, 8, 8, 0);
	check_case(xrgb, lin, 64, 2, 0xffffffffu, SIZE_MAX, -EINVAL);
	check_case(xrgb, x, 64, 8, 1000, 1 << 20, -EINVAL);
	check_case(xrgb, y, 33, 32, 256, 1 << 20, 0);
	check_case(xrgb, y, 33, 32, 132, 1 << 20, -EINVAL);
	/* Tiled: the buffer covers whole tile rows. */
	check_case(xrgb, y, 64, 45, 256, 256 * 45, -EINVAL);
	check_case(xrgb, y, 64, 45, 256, 256 * 64 - 1, -EINVAL);
	check_case(xrgb, y, 64, 45, 256, 256 * 64, 0);
	check_case(xrgb, x, 64, 9, 512, 512 * 16, 0);
	check_case(xrgb, x, 64, 9, 512, 512 * 9, -EINVAL);
	/* Overflow-prone numbers fail cleanly. */
	check_case(xrgb, lin, 16384, 16384, 1u << 30, SIZE_MAX, 0);
	check_case(xrgb, y, 16384, 16384, (1u << 30) + 128, SIZE_MAX, -EINVAL);
}

static void test_properties(void **state)
{
	struct pixel_layout l = { DRM_FORMAT_XRGB8888, DRM_FORMAT_MOD_LINEAR, 8, 8, 32 };
	struct tile_geometry g;

	assert_true(convert_is_copy(&l));
	l.fourcc = DRM_FORMAT_ARGB8888;
	assert_true(convert_is_copy(&l));
	l.modifier = I915_FORMAT_MOD_X_TILED;
	assert_false(convert_is_copy(&l));
	l.modifier = DRM_FORMAT_MOD_LINEAR;
	l.fourcc = DRM_FORMAT_XBGR8888;
	assert_false(convert_is_copy(&l));

	assert_int_equal(convert_bytes_per_pixel(DRM_FORMAT_C8), 1);
	assert_int_equal(convert_bytes_per_pixel(DRM_FORMAT_UYVY), 2);
	assert_int_equal(convert_bytes_per_pixel(DRM_FORMAT_XBGR2101010), 4);
	assert_int_equal(convert_bytes_per_pixel(DRM_FORMAT_NV12), 0);

	for (size_t fi = 0; fi < sizeof(fmts) / sizeof(fmts[0]); fi++) {
		for (size_t mi = 0; mi < 4; mi++) {
			struct ref_tile t = ref_tile_size(mods[mi], fmts[fi].cpp);

			l.fourcc = fmts[fi].fourcc;
			l.modifier = mods[mi];
			g = convert_tile_geometry(&l);
			assert_int_equal(g.width_bytes, t.w);
			assert_int_equal(g.height_rows, t.h);
		}
	}
}

/* The reference layouts against hand-worked addresses from the descriptions. */
static void test_reference_layouts(void **state)
{
	const uint64_t x = I915_FORMAT_MOD_X_TILED, y = I915_FORMAT_MOD_Y_TILED;
	const uint64_t yf = I915_FORMAT_MOD_Yf_TILED;

	assert_int_equal(ref_offset(x, 4, 1024, 511, 7), 7 * 512 + 511);
	assert_int_equal(ref_offset(x, 4, 1024, 512, 0), 4096);
	assert_int_equal(ref_offset(x, 4, 1024, 0, 8), 8192);
	assert_int_equal(ref_offset(y, 4, 256, 16, 0), 512);
	assert_int_equal(ref_offset(y, 4, 256, 0, 31), 31 * 16);
	assert_int_equal(ref_offset(y, 4, 256, 127, 31), 4095);
	assert_int_equal(ref_offset(y, 4, 256, 128, 0), 4096);
	assert_int_equal(ref_offset(y, 4, 256, 0, 32), 8192);
	assert_int_equal(ref_offset(yf, 4, 256, 16, 0), 128);
	assert_int_equal(ref_offset(yf, 4, 256, 0, 8), 256);
	assert_int_equal(ref_offset(yf, 4, 256, 64, 16), 2048 + 1024);
	assert_int_equal(ref_offset(yf, 1, 128, 16, 0), 512);
	assert_int_equal(ref_offset(yf, 1, 128, 0, 32), 1024);
	assert_int_equal(ref_offset(yf, 1, 128, 63, 63), 4095);
	assert_int_equal(ref_offset(yf, 1, 128, 64, 0), 4096);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reference_layouts),
		cmocka_unit_test(test_properties),
		cmocka_unit_test(test_check_rejects),
		cmocka_unit_test(test_every_format_and_tiling),
		cmocka_unit_test(test_rect_clipping),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
