// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * End to end: every pixel format and tiling real vGPUs hand out, through the
 * production daemon under the simulated vGPU, checked by a VNC client.
 *
 * The source buffers are made here, by a reference encoder that knows
 * nothing of src/: each pixel is encoded on its own, and each byte placed
 * at the address the layout descriptions give (Intel X, Y and Yf tiles,
 * 4 KiB each, stored whole one after the other along a row of tiles).
 *
 * Tolerances: RGB and C8 must match exactly. 10-bit channels carry random
 * low bits, so a converter may truncate or round: 1 level. YUV is decoded
 * here in floating point (BT.601 limited range, the daemon's documented
 * guess); the daemon's converter (libyuv) works in fixed point with rounded
 * integer coefficients and was seen to stray from that by up to 2 levels
 * per channel: YUV_TOLERANCE allows one more. The largest deviation seen is
 * printed.
 *
 * Run against each driver personality (VGPU_SIM_DRIVER, see CMakeLists.txt):
 * what the driver does not hand out is checked for the driver's own answer
 * instead of the picture: mbochs shows XRGB8888 linear only, anything else
 * is no framebuffer (a disabled plane: the daemon's "No signal"); GVT-g
 * fails the query of a format or tiling it cannot decode with EINVAL (the
 * daemon keeps the last picture and says so once).
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <drm_fourcc.h>

#include "expected_placeholder.h"
#include "harness.h"
#include "simctl.h"
#include "vnc_probe.h"

#define PRIMARY 1
#define WAIT_MS 5000
#define DRAIN_MS 100
#define TILE 64 /* the daemon's damage tile */
#define YUV_TOLERANCE 3
#define TEN_BIT_TOLERANCE 1

struct format {
	uint32_t fourcc;
	const char *name;
	unsigned cpp;
	int tolerance;
};

static const struct format formats[] = {
	{ DRM_FORMAT_XRGB8888, "XRGB8888", 4, 0 },
	{ DRM_FORMAT_ARGB8888, "ARGB8888", 4, 0 },
	{ DRM_FORMAT_XBGR8888, "XBGR8888", 4, 0 },
	{ DRM_FORMAT_ABGR8888, "ABGR8888", 4, 0 },
	{ DRM_FORMAT_RGB565, "RGB565", 2, 0 },
	{ DRM_FORMAT_XRGB2101010, "XRGB2101010", 4, TEN_BIT_TOLERANCE },
	{ DRM_FORMAT_XBGR2101010, "XBGR2101010", 4, TEN_BIT_TOLERANCE },
	{ DRM_FORMAT_YUYV, "YUYV", 2, YUV_TOLERANCE },
	{ DRM_FORMAT_UYVY, "UYVY", 2, YUV_TOLERANCE },
	{ DRM_FORMAT_YVYU, "YVYU", 2, YUV_TOLERANCE },
	{ DRM_FORMAT_VYUY, "VYUY", 2, YUV_TOLERANCE },
	{ DRM_FORMAT_C8, "C8", 1, 0 },
};
#define NUM_FORMATS (sizeof(formats) / sizeof(formats[0]))

/* ---- Reference encoder: one pixel (or 4:2:2 pair) at a time. ---- */

static uint8_t clamp8(double v)
{
	return v <= 0 ? 0 : v >= 255 ? 255 : (uint8_t)(v + 0.5);
}

static void put32(uint8_t *out, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		out[i] = (uint8_t)(v >> (8 * i));
}

/* BT.601 limited range, from B, G, R bytes. */
static void rgb_to_yuv(const uint8_t *bgr, double *y, double *u, double *v)
{
	double r = bgr[2] / 255.0, g = bgr[1] / 255.0, b = bgr[0] / 255.0;

	*y = 16 + 65.481 * r + 128.553 * g + 24.966 * b;
	*u = 128 - 37.797 * r - 74.203 * g + 112.0 * b;
	*v = 128 + 112.0 * r - 93.786 * g - 18.214 * b;
}

static void yuv_to_bgr(uint8_t y, uint8_t u, uint8_t v, uint8_t *bgr)
{
	double c = 1.164383 * (y - 16), d = u - 128.0, e = v - 128.0;

	bgr[0] = clamp8(c + 2.017232 * d);
	bgr[1] = clamp8(c - 0.391762 * d - 0.812968 * e);
	bgr[2] = clamp8(c + 1.596027 * e);
}

/*
 * Encodes pixels x and x + 1 of a 4:2:2 format (a lone last pixel pairs with
 * itself) into out, and writes the colours they must come back as.
 */
static void encode_pair(uint32_t fourcc, const uint8_t *p0, const uint8_t *p1, uint8_t *out,
			uint8_t *want0, uint8_t *want1)
{
	double y0, y1, u0, u1, v0, v1;

	rgb_to_yuv(p0, &y0, &u0, &v0);
	rgb_to_yuv(p1, &y1, &u1, &v1);
	uint8_t Y0 = clamp8(y0), Y1 = clamp8(y1);
	uint8_t U = clamp8((u0 + u1) / 2), V = clamp8((v0 + v1) / 2);
	uint8_t yuyv[4] = { Y0, U, Y1, V };
	static const struct {
		uint32_t fourcc;
		uint8_t order[4]; /* which of Y0, U, Y1, V each byte holds */
	} orders[] = {
		{ DRM_FORMAT_YUYV, { 0, 1, 2, 3 } },
		{ DRM_FORMAT_UYVY, { 1, 0, 3, 2 } },
		{ DRM_FORMAT_YVYU, { 0, 3, 2, 1 } },
		{ DRM_FORMAT_VYUY, { 3, 0, 1, 2 } },
	};
	for (size_t i = 0; i < sizeof(orders) / sizeof(orders[0]); i++)
		if (orders[i].fourcc == fourcc)
			for (int b = 0; b < 4; b++)
				out[b] = yuyv[orders[i].order[b]];
	yuv_to_bgr(Y0, U, V, want0);
	yuv_to_bgr(Y1, U, V, want1);
}

/* 8-bit channel to 10 bits: the value's top 8 bits, noise in the low two. */
static uint32_t ten_bit(uint8_t c, uint32_t noise)
{
	return (uint32_t)c << 2 | (noise & 3);
}

/* Encodes one RGB or C8 pixel p (B, G, R bytes); want gets what it must come back as. */
static void encode_pixel(uint32_t fourcc, const uint8_t *p, uint32_t noise, uint8_t *out,
			 uint8_t *want)
{
	uint8_t b = p[0], g = p[1], r = p[2], a = (uint8_t)noise;
	uint32_t b5 = b >> 3, g6 = g >> 2, r5 = r >> 3;

	memcpy(want, p, 3);
	switch (fourcc) {
	case DRM_FORMAT_XRGB8888:
	case DRM_FORMAT_ARGB8888:
		put32(out, (uint32_t)a << 24 | (uint32_t)r << 16 | (uint32_t)g << 8 | b);
		break;
	case DRM_FORMAT_XBGR8888:
	case DRM_FORMAT_ABGR8888:
		put32(out, (uint32_t)a << 24 | (uint32_t)b << 16 | (uint32_t)g << 8 | r);
		break;
	case DRM_FORMAT_RGB565:
		out[0] = (uint8_t)(g6 << 5 | b5);
		out[1] = (uint8_t)(r5 << 3 | g6 >> 3);
		want[0] = (uint8_t)(b5 << 3 | b5 >> 2);
		want[1] = (uint8_t)(g6 << 2 | g6 >> 4);
		want[2] = (uint8_t)(r5 << 3 | r5 >> 2);
		break;
	case DRM_FORMAT_XRGB2101010:
		put32(out, noise << 30 | ten_bit(r, noise >> 2) << 20 | ten_bit(g, noise >> 4) << 10 |
				   ten_bit(b, noise >> 6));
		break;
	case DRM_FORMAT_XBGR2101010:
		put32(out, noise << 30 | ten_bit(b, noise >> 2) << 20 | ten_bit(g, noise >> 4) << 10 |
				   ten_bit(r, noise >> 6));
		break;
	case DRM_FORMAT_C8:
		/* The palette is not known to the daemon: index i shows as gray i. */
		out[0] = g;
		memset(want, g, 3);
		break;
	}
}

/* ---- Reference tiling: where byte bx of row y lives. ---- */

struct tiling {
	uint32_t tw; /* tile width in bytes; 1 for linear */
	uint32_t th; /* tile height in rows; 1 for linear */
};

static struct tiling tiling_of(uint64_t modifier, unsigned cpp)
{
	if (modifier == I915_FORMAT_MOD_X_TILED)
		return (struct tiling){ 512, 8 };
	if (modifier == I915_FORMAT_MOD_Y_TILED)
		return (struct tiling){ 128, 32 };
	if (modifier == I915_FORMAT_MOD_Yf_TILED)
		return cpp == 1 ? (struct tiling){ 64, 64 } : (struct tiling){ 128, 32 };
	return (struct tiling){ 1, 1 };
}

static uint32_t bit(uint32_t v, unsigned n, unsigned to)
{
	return (v >> n & 1) << to;
}

/* Offset inside a 4 KiB tile of byte x (column in the tile) of tile row r. */
static uint32_t in_tile(uint64_t modifier, unsigned cpp, uint32_t x, uint32_t r)
{
	if (modifier == I915_FORMAT_MOD_X_TILED) /* rows of 512 bytes */
		return r * 512 + x;
	if (modifier == I915_FORMAT_MOD_Y_TILED) /* 16-byte wide columns of 32 rows */
		return x / 16 * 512 + r * 16 + x % 16;
	if (cpp == 1) /* Yf 8 bpp, bits 11..0: x5 y5 x4 y4 y3 y2 y1 y0 x3 x2 x1 x0 */
		return (x & 15) | (r & 15) << 4 | bit(r, 4, 8) | bit(x, 4, 9) | bit(r, 5, 10) |
		       bit(x, 5, 11);
	/* Yf 16/32 bpp, bits 11..0: x6 y4 x5 y3 x4 y2 y1 y0 x3 x2 x1 x0 */
	return (x & 15) | (r & 7) << 4 | bit(x, 4, 7) | bit(r, 3, 8) | bit(x, 5, 9) | bit(r, 4, 10) |
	       bit(x, 6, 11);
}

struct plane {
	const struct format *fmt;
	uint64_t modifier;
	struct tiling tiling;
	uint32_t width, height, stride, size;
	uint8_t *bytes;    /* the buffer handed to the sim */
	uint8_t *expected; /* XRGB8888, width * 4 per row */
};

static size_t byte_offset(const struct plane *p, uint32_t bx, uint32_t y)
{
	const struct tiling *t = &p->tiling;

	if (t->th == 1)
		return (size_t)y * p->stride + bx;
	return (size_t)(y / t->th) * p->stride * t->th + (size_t)(bx / t->tw) * 4096 +
	       in_tile(p->modifier, p->fmt->cpp, bx % t->tw, y % t->th);
}

static uint32_t round_up(uint32_t v, uint32_t to)
{
	return (v + to - 1) / to * to;
}

/*
 * A plane of this format and modifier; extra_stride bytes (whole tiles when
 * tiled) widen the stride past the picture.
 */
static void plane_init(struct plane *p, const struct format *fmt, uint64_t modifier,
		       uint32_t width, uint32_t height, uint32_t extra_stride)
{
	uint32_t row = round_up(width, fmt->cpp == 2 ? 2 : 1) * fmt->cpp;

	p->fmt = fmt;
	p->modifier = modifier;
	p->tiling = tiling_of(modifier, fmt->cpp);
	p->width = width;
	p->height = height;
	p->stride = round_up(row, p->tiling.tw) + extra_stride;
	p->size = p->stride * round_up(height, p->tiling.th);
	p->bytes = malloc(p->size);
	p->expected = malloc((size_t)width * height * 4);
	assert_true(p->bytes && p->expected);
	/* Padding: a pattern that stays the same from frame to frame. */
	for (size_t i = 0; i < p->size; i++)
		p->bytes[i] = (uint8_t)(i * 7 + 0x5a);
}

static void plane_done(struct plane *p)
{
	free(p->bytes);
	free(p->expected);
}

static void place(struct plane *p, uint32_t x, uint32_t y, const uint8_t *px, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		p->bytes[byte_offset(p, x * p->fmt->cpp + i, y)] = px[i];
}

/* Encodes picture (XRGB8888, width * 4 per row) into the plane's bytes and expected picture. */
static void plane_encode(struct plane *p, const uint8_t *picture)
{
	const bool yuv = p->fmt->tolerance == YUV_TOLERANCE;

	for (uint32_t y = 0; y < p->height; y++) {
		const uint8_t *in = picture + (size_t)y * p->width * 4;
		uint8_t *want = p->expected + (size_t)y * p->width * 4;

		for (uint32_t x = 0; x < p->width; x += yuv ? 2 : 1) {
			uint8_t out[4], spare[4];
			uint32_t next = x + 1 < p->width ? x + 1 : x;

			if (yuv) {
				encode_pair(p->fmt->fourcc, in + x * 4, in + next * 4, out,
					    want + x * 4, next != x ? want + next * 4 : spare);
				place(p, x, y, out, 4);
			} else {
				encode_pixel(p->fmt->fourcc, in + x * 4, x * 131 + y * 17, out,
					     want + x * 4);
				place(p, x, y, out, p->fmt->cpp);
			}
		}
	}
}

/* ---- What the simulated driver does with a plane. ---- */

enum driver_answer {
	SHOWN,
	PLANE_OFF, /* mbochs: not a mode it can scan out */
	REFUSED,   /* GVT-g: the query fails with EINVAL */
};

static bool gvt_decodes(uint32_t fourcc, uint64_t modifier)
{
	bool known = false;

	for (size_t f = 0; f < NUM_FORMATS; f++)
		known |= formats[f].fourcc == fourcc;
	return known && (modifier == DRM_FORMAT_MOD_LINEAR || modifier == I915_FORMAT_MOD_X_TILED ||
			 modifier == I915_FORMAT_MOD_Y_TILED ||
			 modifier == I915_FORMAT_MOD_Yf_TILED);
}

static enum driver_answer driver_answer(uint32_t fourcc, uint64_t modifier)
{
	if (sim_driver_is("mbochs"))
		return fourcc == DRM_FORMAT_XRGB8888 && modifier == DRM_FORMAT_MOD_LINEAR ? SHOWN
											  : PLANE_OFF;
	if (sim_driver_is("gvt") && !gvt_decodes(fourcc, modifier))
		return REFUSED;
	return SHOWN;
}

/* ---- The client side. ---- */

/* Largest channel difference between the client's picture and want; 256 if sizes differ. */
static int deviation(const struct vnc_probe *probe, const uint8_t *want, uint32_t width,
		     uint32_t height)
{
	const rfbClient *client = probe->client;
	int worst = 0;

	if ((uint32_t)client->width != width || (uint32_t)client->height != height)
		return 256;
	for (size_t i = 0; i < (size_t)width * height * 4; i++) {
		int d = abs((int)client->frameBuffer[i] - (int)want[i]);

		if (i % 4 != 3 && d > worst)
			worst = d;
	}
	return worst;
}

/* Pumps until the client's picture is within tolerance of want; returns the deviation. */
static int wait_close(struct vnc_probe *probe, const uint8_t *want, uint32_t width,
		      uint32_t height, int tolerance)
{
	uint64_t deadline = now_ms() + WAIT_MS;
	int dev;

	while ((dev = deviation(probe, want, width, height)) > tolerance && now_ms() < deadline)
		assert_true(vnc_probe_pump(probe, 10));
	return dev;
}

struct bench {
	struct daemon_proc d;
	struct vnc_probe *probe;
	int worst_yuv; /* largest YUV deviation seen, for the log */
};

/* E2E_GPU_IMPORT=egl or auto: the GPU import (see harness.c). */
static const char *gpu_import(void)
{
	return getenv("E2E_GPU_IMPORT");
}

static void bench_start(struct bench *b)
{
	daemon_start(&b->d, NULL);
	b->probe = vnc_probe_connect(b->d.port, "raw");
	assert_non_null(b->probe);
	b->worst_yuv = 0;
}

static void bench_stop(struct bench *b)
{
	vnc_probe_free(b->probe);
	assert_int_equal(daemon_stop(&b->d, SIGTERM), 0);
	if (b->worst_yuv)
		print_message("largest YUV channel deviation from the float BT.601 decode: %d\n",
			      b->worst_yuv);
}

static void show(struct bench *b, struct plane *p)
{
	struct sim_plane_desc desc = {
		.fourcc = p->fmt->fourcc,
		.modifier = p->modifier,
		.width = p->width,
		.height = p->height,
		.stride = p->stride,
		.size = p->size,
	};
	assert_int_equal(simctl_set_plane(b->d.sim, PRIMARY, &desc), 0);
	assert_int_equal(simctl_flip(b->d.sim, PRIMARY, p->bytes, p->size), 0);
}

/* mbochs has no framebuffer for the plane: clients see "No signal". */
static void expect_plane_off(struct bench *b, const struct plane *p)
{
	assert_true(daemon_wait_queries(&b->d, 2, WAIT_MS));
	if (!vnc_probe_wait_colour(b->probe, NO_SIGNAL_ACCENT, WAIT_MS))
		fail_msg("%s modifier 0x%llx on %s: no \"No signal\" placeholder", p->fmt->name,
			 (unsigned long long)p->modifier, sim_driver());
}

static void expect_picture(struct bench *b, const struct plane *p, const char *what)
{
	int dev = wait_close(b->probe, p->expected, p->width, p->height, p->fmt->tolerance);

	if (dev > p->fmt->tolerance)
		fail_msg("%s %s modifier 0x%llx %ux%u stride %u: %s picture off by %d (tolerance %d)",
			 p->fmt->name, p->tiling.th > 1 ? "tiled" : "linear",
			 (unsigned long long)p->modifier, p->width, p->height, p->stride, what, dev,
			 p->fmt->tolerance);
	if (p->fmt->tolerance == YUV_TOLERANCE && dev > b->worst_yuv)
		b->worst_yuv = dev;
}

/* ---- Damage oracle: changed bytes -> screen pixels -> 64x64 tiles. ---- */

struct damage {
	uint32_t cols, rows;
	uint8_t dirty[64 * 64];
};

static void mark(struct damage *dm, const struct plane *p, uint32_t x, uint32_t y, uint32_t w,
		 uint32_t h)
{
	for (uint32_t ty = y / TILE; ty * TILE < y + h && ty * TILE < p->height; ty++)
		for (uint32_t tx = x / TILE; tx * TILE < x + w && tx * TILE < p->width; tx++)
			dm->dirty[ty * dm->cols + tx] = 1;
}

/*
 * The tiles a new frame must damage: for each changed byte, the screen area
 * it belongs to (its pixel when linear, its whole hardware tile when tiled).
 */
static void expected_damage(const struct plane *p, const uint8_t *before, struct damage *dm)
{
	const struct tiling *t = &p->tiling;
	size_t band = (size_t)p->stride * t->th;

	memset(dm, 0, sizeof(*dm));
	dm->cols = (p->width + TILE - 1) / TILE;
	dm->rows = (p->height + TILE - 1) / TILE;
	assert_true(dm->cols * dm->rows <= sizeof(dm->dirty));
	for (size_t off = 0; off < p->size; off++) {
		if (before[off] == p->bytes[off])
			continue;
		if (t->th == 1) {
			uint32_t y = (uint32_t)(off / p->stride);
			uint32_t x = (uint32_t)(off % p->stride) / p->fmt->cpp;

			if (x < p->width && y < p->height)
				mark(dm, p, x, y, 1, 1);
		} else {
			uint32_t col = (uint32_t)(off % band / 4096);
			uint32_t px = t->tw / p->fmt->cpp;

			mark(dm, p, col * px, (uint32_t)(off / band) * t->th, px, t->th);
		}
	}
}

static uint64_t damage_area(const struct damage *dm, const struct plane *p)
{
	uint64_t area = 0;

	for (uint32_t i = 0; i < dm->cols * dm->rows; i++) {
		uint32_t x = i % dm->cols * TILE, y = i / dm->cols * TILE;

		if (dm->dirty[i])
			area += (uint64_t)(p->width - x < TILE ? p->width - x : TILE) *
				(p->height - y < TILE ? p->height - y : TILE);
	}
	return area;
}

/* Inverts a few small rectangles of the picture, one touching the bottom-right corner. */
static void scribble(uint8_t *picture, uint32_t width, uint32_t height)
{
	const uint32_t rects[][4] = {
		{ 70, 10, 20, 6 },
		{ width / 2, height / 2, 9, 12 },
		{ width - 5, height - 3, 5, 3 },
	};
	for (size_t i = 0; i < sizeof(rects) / sizeof(rects[0]); i++)
		for (uint32_t y = rects[i][1]; y < rects[i][1] + rects[i][3]; y++)
			for (uint32_t x = rects[i][0]; x < rects[i][0] + rects[i][2]; x++)
				((uint32_t *)picture)[(size_t)y * width + x] ^= 0x00ffffff;
}

/*
 * One format x modifier x geometry: the picture arrives; the same bytes
 * flipped again send nothing; a few changed rectangles arrive, and exactly
 * the 64x64 tiles the changed bytes cover are sent.
 */
static void check_case(struct bench *b, const struct format *fmt, uint64_t modifier,
		       uint32_t width, uint32_t height, uint32_t extra_stride, uint32_t seed)
{
	struct plane p;
	struct damage dm;
	uint8_t *picture = malloc((size_t)width * height * 4), *before;

	assert_non_null(picture);
	plane_init(&p, fmt, modifier, width, height, extra_stride);
	picture_fill(picture, width, height, seed);
	plane_encode(&p, picture);
	show(b, &p);
	if (driver_answer(fmt->fourcc, modifier) != SHOWN) {
		/* Every format and modifier here is one GVT-g decodes: only mbochs says no. */
		assert_int_equal(driver_answer(fmt->fourcc, modifier), PLANE_OFF);
		expect_plane_off(b, &p);
		free(picture);
		plane_done(&p);
		return;
	}
	expect_picture(b, &p, "first");

	assert_true(vnc_probe_pump(b->probe, DRAIN_MS));
	vnc_probe_reset_counts(b->probe);
	assert_int_equal(simctl_flip(b->d.sim, PRIMARY, p.bytes, p.size), 0);
	assert_true(vnc_probe_pump(b->probe, DRAIN_MS));
	assert_int_equal(b->probe->pixels, 0);

	before = malloc(p.size);
	assert_non_null(before);
	memcpy(before, p.bytes, p.size);
	scribble(picture, width, height);
	plane_encode(&p, picture);
	expected_damage(&p, before, &dm);
	assert_int_equal(simctl_flip(b->d.sim, PRIMARY, p.bytes, p.size), 0);
	expect_picture(b, &p, "changed");
	assert_true(vnc_probe_pump(b->probe, DRAIN_MS));
	if (b->probe->pixels != damage_area(&dm, &p))
		fail_msg("%s modifier 0x%llx %ux%u: %llu pixels sent, the damage covers %llu",
			 fmt->name, (unsigned long long)modifier, width, height,
			 (unsigned long long)b->probe->pixels,
			 (unsigned long long)damage_area(&dm, &p));
	free(before);
	free(picture);
	plane_done(&p);
}

/*
 * Every format with one modifier, at odd geometries: 333x97 cuts tiles at
 * the right and bottom edge and makes a size that is not page-aligned;
 * every other format also gets a stride wider than the picture.
 */
static void check_modifier(uint64_t modifier)
{
	struct bench b;

	bench_start(&b);
	for (size_t f = 0; f < NUM_FORMATS; f++) {
		const struct format *fmt = &formats[f];
		uint32_t extra = f % 2 ? tiling_of(modifier, fmt->cpp).tw * (modifier ? 1 : 36) : 0;

		if (modifier == DRM_FORMAT_MOD_LINEAR && f % 4 == 0)
			check_case(&b, fmt, modifier, 320, 200, 0, (uint32_t)f + 1);
		else
			check_case(&b, fmt, modifier, 333, 97, extra, (uint32_t)f + 1);
	}
	bench_stop(&b);
}

static void test_linear(void **state)
{
	check_modifier(DRM_FORMAT_MOD_LINEAR);
}

static void test_x_tiled(void **state)
{
	check_modifier(I915_FORMAT_MOD_X_TILED);
}

static void test_y_tiled(void **state)
{
	check_modifier(I915_FORMAT_MOD_Y_TILED);
}

static void test_yf_tiled(void **state)
{
	check_modifier(I915_FORMAT_MOD_Yf_TILED);
}

/* One large picture per tiling family. */
static void test_1024x768(void **state)
{
	struct bench b;

	bench_start(&b);
	check_case(&b, &formats[2], I915_FORMAT_MOD_Y_TILED, 1024, 768, 0, 50);
	check_case(&b, &formats[8], I915_FORMAT_MOD_X_TILED, 1024, 768, 512, 51);
	bench_stop(&b);
}

/*
 * GVT-g refuses to decode the plane: the query fails, the last picture
 * stays, and the daemon says so once.
 */
static void expect_refused(struct bench *b, const struct plane *shown, int logged)
{
	const char *said = "querying the primary plane failed: Invalid argument";

	if (!daemon_wait_log(&b->d, said, logged + 1, WAIT_MS))
		fail_msg("no \"%s\" in the daemon's log", said);
	assert_true(vnc_probe_pump(b->probe, 300));
	assert_int_equal(daemon_log_count(&b->d, said), logged + 1);
	assert_int_equal(deviation(b->probe, shown->expected, shown->width, shown->height), 0);
}

/*
 * Sets a plane the daemon cannot convert; clients keep their size and see a
 * placeholder. A driver that cannot hand such a plane out answers its own way.
 */
static void expect_unsupported(struct bench *b, const struct plane *shown, uint32_t fourcc,
			       uint64_t modifier, uint32_t size)
{
	/* The daemon has seen the plane shown before (the same picture may be on screen already). */
	assert_true(daemon_wait_queries(&b->d, 2, WAIT_MS));
	int logged = daemon_log_count(&b->d, "unsupported pixel format");
	int refused = daemon_log_count(&b->d, "querying the primary plane failed: Invalid argument");
	struct sim_plane_desc desc = {
		.fourcc = fourcc,
		.modifier = modifier,
		.width = shown->width,
		.height = shown->height,
		.stride = shown->width * (fourcc == DRM_FORMAT_NV12 ? 1 : 4),
		.size = size,
	};
	uint64_t deadline = now_ms() + WAIT_MS;

	assert_int_equal(simctl_set_plane(b->d.sim, PRIMARY, &desc), 0);
	switch (driver_answer(fourcc, modifier)) {
	case REFUSED:
		expect_refused(b, shown, refused);
		return;
	case PLANE_OFF:
		expect_plane_off(b, shown);
		return;
	case SHOWN:
		break;
	}
	/* The "Unsupported format" placeholder at the clients' size, naming what it logged. */
	char why[256];
	while (daemon_log_count(&b->d, "unsupported pixel format") == logged && now_ms() < deadline)
		assert_true(vnc_probe_pump(b->probe, 10));
	assert_true(placeholder_logged_detail(&b->d, "unsupported pixel format", why, sizeof(why)));
	uint8_t *unsupported = expected_placeholder(PLACEHOLDER_UNSUPPORTED_FORMAT, why,
						    shown->width, shown->height);
	assert_non_null(unsupported);
	assert_true(vnc_probe_wait_picture(b->probe, unsupported, shown->width, shown->height,
					   WAIT_MS));
	free(unsupported);
	assert_int_equal(b->probe->client->width, shown->width);
	assert_int_equal(b->probe->client->height, shown->height);
	/* Said once, not once per frame. */
	assert_true(vnc_probe_pump(b->probe, 300));
	assert_int_equal(daemon_log_count(&b->d, "unsupported pixel format"), logged + 1);
}

static void test_unsupported_then_recovers(void **state)
{
	struct bench b;
	struct plane p;
	uint8_t *picture = malloc(320 * 200 * 4);

	assert_non_null(picture);
	bench_start(&b);
	plane_init(&p, &formats[0], DRM_FORMAT_MOD_LINEAR, 320, 200, 0);
	picture_fill(picture, 320, 200, 60);
	plane_encode(&p, picture);
	show(&b, &p);
	expect_picture(&b, &p, "first");

	expect_unsupported(&b, &p, DRM_FORMAT_NV12, DRM_FORMAT_MOD_LINEAR, 320 * 200 * 3 / 2);
	show(&b, &p);
	expect_picture(&b, &p, "after NV12");

	expect_unsupported(&b, &p, DRM_FORMAT_XRGB8888, fourcc_mod_code(INTEL, 0xfe), p.size);
	picture_fill(picture, 320, 200, 61);
	plane_encode(&p, picture);
	show(&b, &p);
	expect_picture(&b, &p, "after an unknown modifier");

	bench_stop(&b);
	plane_done(&p);
	free(picture);
}

/*
 * Through the GPU import: a tiling the GPU cannot import (llvmpipe has no
 * Intel tiling) shows the placeholder naming the GPU's refusal, the daemon
 * keeps running, and a linear plane afterwards shows again.
 */
static void test_gpu_refuses_tiling(void **state)
{
	struct bench b;
	struct plane p;
	uint8_t *picture = malloc(320 * 200 * 4);

	assert_non_null(picture);
	bench_start(&b);
	plane_init(&p, &formats[0], I915_FORMAT_MOD_X_TILED, 320, 200, 0);
	picture_fill(picture, 320, 200, 70);
	plane_encode(&p, picture);
	show(&b, &p);
	assert_true(daemon_wait_log(&b.d, "cannot import XR24 modifier 0x100000000000001", 1,
				    WAIT_MS));
	if (strcmp(gpu_import(), "auto") == 0)
		assert_true(daemon_wait_log(&b.d, "CPU: the exporter has no CPU-mappable backing", 1,
					    WAIT_MS));
	plane_done(&p);
	plane_init(&p, &formats[0], DRM_FORMAT_MOD_LINEAR, 320, 200, 0);
	plane_encode(&p, picture);
	show(&b, &p);
	expect_picture(&b, &p, "linear after a refused tiling");
	/* auto says once why the GPU serves: the daemon's own CPU mapping was refused. */
	if (strcmp(gpu_import(), "auto") == 0)
		assert_int_equal(daemon_log_count(&b.d, "imported on the GPU (EGL): the CPU mapping "
						  "was refused: the exporter has no CPU-mappable"), 1);
	bench_stop(&b);
	plane_done(&p);
	free(picture);
}

/*
 * The EGL context lives as long as the daemon: a SIGHUP reload and a mode
 * change keep it (set up once), and the pictures keep coming.
 */
static void test_gpu_context_kept(void **state)
{
	struct bench b;
	struct plane p;
	uint8_t *picture = malloc(640 * 480 * 4);

	assert_non_null(picture);
	bench_start(&b);
	plane_init(&p, &formats[0], DRM_FORMAT_MOD_LINEAR, 320, 200, 0);
	picture_fill(picture, 320, 200, 80);
	plane_encode(&p, picture);
	show(&b, &p);
	expect_picture(&b, &p, "before SIGHUP");
	assert_int_equal(kill(b.d.pid, SIGHUP), 0);
	assert_true(daemon_wait_log(&b.d, "SIGHUP: configuration reloaded", 1, WAIT_MS));
	plane_done(&p);
	plane_init(&p, &formats[2], DRM_FORMAT_MOD_LINEAR, 640, 480, 0);
	picture_fill(picture, 640, 480, 81);
	plane_encode(&p, picture);
	show(&b, &p);
	expect_picture(&b, &p, "a new mode after SIGHUP");
	assert_int_equal(daemon_log_count(&b.d, "GPU import ready"), 1);
	bench_stop(&b);
	plane_done(&p);
	free(picture);
}

int main(void)
{
	const struct CMUnitTest gpu_tests[] = {
		cmocka_unit_test(test_linear),
		cmocka_unit_test(test_gpu_refuses_tiling),
		cmocka_unit_test(test_gpu_context_kept),
	};
	signal(SIGPIPE, SIG_IGN);
	if (gpu_import())
		return cmocka_run_group_tests(gpu_tests, NULL, NULL);

	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_linear),
		cmocka_unit_test(test_x_tiled),
		cmocka_unit_test(test_y_tiled),
		cmocka_unit_test(test_yf_tiled),
		cmocka_unit_test(test_1024x768),
		cmocka_unit_test(test_unsupported_then_recovers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
