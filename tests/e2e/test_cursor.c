// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * End to end: the guest's cursor plane under the simulated vGPU, seen by
 * a libvncclient client with cursor encodings (shape, mask, hotspot,
 * PointerPos; a move never re-sends the shape) and by one without them
 * (the cursor drawn into its picture, the picture restored after a move).
 */
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <drm_fourcc.h>
#include <rfb/rfbclient.h>

#include "harness.h"
#include "simctl.h"
#include "vnc_probe.h"

#define PRIMARY 1
#define CURSOR 2
#define WAIT_MS 5000
#define SCREEN_W 640
#define SCREEN_H 480
#define CURSOR_EVENT (1ULL << 48) /* the sim's cursor bit of the display IRQ */
#define HOT_UNKNOWN 0xFFFFFFFFu /* the device does not know the hotspot */

/* What a client with cursor encodings was told. */
struct cursor_client {
	struct vnc_probe *probe;
	int shapes; /* non-empty shapes received */
	int xhot, yhot, width, height;
	uint32_t *pixels; /* the last shape, XRGB8888 */
	uint8_t *mask;    /* one byte a pixel */
	int positions;
	int x, y;
};

static int cursor_tag;

static struct cursor_client *cursor_client_of(rfbClient *client)
{
	return rfbClientGetClientData(client, &cursor_tag);
}

static void got_shape(rfbClient *client, int xhot, int yhot, int width, int height, int bpp)
{
	struct cursor_client *cc = cursor_client_of(client);
	size_t n = (size_t)width * height;

	assert_int_equal(bpp, 4);
	cc->shapes++;
	cc->xhot = xhot;
	cc->yhot = yhot;
	cc->width = width;
	cc->height = height;
	free(cc->pixels);
	free(cc->mask);
	cc->pixels = malloc(n * 4);
	cc->mask = malloc(n);
	assert_true(cc->pixels && cc->mask);
	/* In the client's pixel format: decoded, so every check reads XRGB8888. */
	for (size_t i = 0; i < n; i++)
		cc->pixels[i] = vnc_probe_decode(client, client->rcSource + i * 4);
	memcpy(cc->mask, client->rcMask, n);
}

static rfbBool got_position(rfbClient *client, int x, int y)
{
	struct cursor_client *cc = cursor_client_of(client);

	cc->positions++;
	cc->x = x;
	cc->y = y;
	return TRUE;
}

static struct cursor_client *cursor_client_connect_format(uint16_t port,
							 const rfbPixelFormat *format)
{
	const struct vnc_probe_opts opts = {
		.encodings = "raw", .remote_cursor = true, .format = format
	};
	struct cursor_client *cc = calloc(1, sizeof(*cc));

	assert_non_null(cc);
	cc->probe = vnc_probe_connect_opts(port, &opts);
	assert_non_null(cc->probe);
	/* Nothing is handled before the first pump: the callbacks are in time. */
	cc->probe->client->GotCursorShape = got_shape;
	cc->probe->client->HandleCursorPos = got_position;
	rfbClientSetClientData(cc->probe->client, &cursor_tag, cc);
	return cc;
}

static struct cursor_client *cursor_client_connect(uint16_t port)
{
	return cursor_client_connect_format(port, NULL);
}

static void cursor_client_free(struct cursor_client *cc)
{
	vnc_probe_free(cc->probe);
	free(cc->pixels);
	free(cc->mask);
	free(cc);
}

/* One wait for a message, handled if one came. */
static bool pump_once(const struct cursor_client *cc)
{
	return vnc_probe_pump(cc->probe, 0);
}

/* Pumps until the client is at x, y, or the timeout. */
static bool wait_position(struct cursor_client *cc, int x, int y)
{
	uint64_t deadline = now_ms() + WAIT_MS;

	while (cc->x != x || cc->y != y || cc->positions == 0) {
		if (now_ms() >= deadline || !pump_once(cc))
			return false;
	}
	return true;
}

static void pump_for(struct cursor_client *cc, int ms)
{
	assert_true(vnc_probe_pump(cc->probe, ms));
}

/* A primary plane of a fixed picture; returns the picture clients must see. */
static uint8_t *primary_show(struct daemon_proc *d, uint32_t seed)
{
	size_t size = (size_t)SCREEN_W * SCREEN_H * 4;
	uint8_t *pic = malloc(size);
	struct sim_plane_desc desc = {
		.fourcc = DRM_FORMAT_XRGB8888,
		.width = SCREEN_W,
		.height = SCREEN_H,
		.stride = SCREEN_W * 4,
		.size = (uint32_t)size,
	};

	assert_non_null(pic);
	picture_fill(pic, SCREEN_W, SCREEN_H, seed);
	assert_int_equal(simctl_set_plane(d->sim, PRIMARY, &desc), 0);
	assert_int_equal(simctl_flip(d->sim, PRIMARY, pic, size), 0);
	return pic;
}

/* Premultiplied ARGB test cursors: alpha varies so the mask has both bits. */
static uint32_t cursor_pixel(uint32_t x, uint32_t y, uint32_t seed)
{
	static const uint32_t alphas[] = { 0xff, 0x00, 0xff, 0x80, 0xff, 0x7f };
	uint32_t a = alphas[(x / 3 + y + seed) % 6];
	uint32_t rgb = ((x * 7 + seed) & 0xff) << 16 | ((y * 5) & 0xff) << 8 | ((x ^ y) & 0xff);

	if (a == 0xff)
		return 0xff000000u | rgb;
	/* Premultiplied: no channel above alpha. */
	uint32_t out = a << 24;
	for (int c = 0; c < 3; c++)
		out |= (((rgb >> (8 * c)) & 0xff) * a / 255) << (8 * c);
	return out;
}

static uint32_t *cursor_picture(uint32_t size, uint32_t seed)
{
	uint32_t *px = malloc((size_t)size * size * 4);

	assert_non_null(px);
	for (uint32_t y = 0; y < size; y++)
		for (uint32_t x = 0; x < size; x++)
			px[y * size + x] = cursor_pixel(x, y, seed);
	/* Corners opaque: the visible box is the whole plane. */
	px[0] = px[size - 1] = px[(size - 1) * size] = px[size * size - 1] = 0xff102030;
	return px;
}

static void cursor_set(struct daemon_proc *d, uint32_t size, const uint32_t *px, int32_t x,
		       int32_t y, uint32_t x_hot, uint32_t y_hot)
{
	struct sim_plane_desc desc = {
		.fourcc = DRM_FORMAT_ARGB8888,
		.width = size,
		.height = size,
		.stride = size * 4,
		.size = size * size * 4,
		.x = x,
		.y = y,
		.x_hot = x_hot,
		.y_hot = y_hot,
	};

	assert_int_equal(simctl_set_plane(d->sim, CURSOR, &desc), 0);
	assert_int_equal(simctl_flip(d->sim, CURSOR, px, (size_t)size * size * 4), 0);
}

/* The client's shape equals the plane's pixels (un-premultiplied) and alpha >= 128 mask. */
static bool shape_matches(const struct cursor_client *cc, const uint32_t *px, uint32_t size)
{
	if (cc->shapes == 0 || (uint32_t)cc->width != size || (uint32_t)cc->height != size)
		return false;
	for (uint32_t i = 0; i < size * size; i++) {
		uint32_t a = px[i] >> 24, got = cc->pixels[i] & 0xffffff;
		if (cc->mask[i] != (a >= 128))
			return false;
		if (a == 0xff && got != (px[i] & 0xffffff))
			return false;
		/* Un-premultiplied: each channel times alpha gives back the plane's, within rounding. */
		for (int c = 0; a && a < 0xff && c < 3; c++) {
			int want = (int)((px[i] >> (8 * c)) & 0xff);
			int back = (int)(((got >> (8 * c)) & 0xff) * a / 255);
			if (back < want - 1 || back > want + 1)
				return false;
		}
	}
	return true;
}

static bool wait_shape(struct cursor_client *cc, const uint32_t *px, uint32_t size)
{
	uint64_t deadline = now_ms() + WAIT_MS;

	while (!shape_matches(cc, px, size)) {
		if (now_ms() >= deadline || !pump_once(cc))
			return false;
	}
	return true;
}

static void test_shape_hotspot_positions(void **state)
{
	struct daemon_proc d;
	daemon_start(&d, NULL);
	uint8_t *pic = primary_show(&d, 1);
	uint32_t *px = cursor_picture(64, 0);
	cursor_set(&d, 64, px, 100, 50, 3, 5);

	struct cursor_client *cc = cursor_client_connect(d.port);
	assert_true(wait_shape(cc, px, 64));
	assert_true(cc->xhot == 3 && cc->yhot == 5);
	/* The pointer is the plane's top-left plus the hotspot. */
	assert_true(wait_position(cc, 103, 55));

	/* Moves arrive as positions only: the shape is not sent again. */
	pump_for(cc, 300);
	int shapes = cc->shapes;
	for (int i = 1; i <= 10; i++) {
		assert_int_equal(simctl_move_cursor(d.sim, 100 + 20 * i, 50 + 10 * i), 0);
		assert_true(wait_position(cc, 103 + 20 * i, 55 + 10 * i));
	}
	pump_for(cc, 300);
	assert_int_equal(cc->shapes, shapes);

	/* New content in the same buffer (same dmabuf id) is a new shape. */
	uint32_t *next = cursor_picture(64, 1);
	assert_int_equal(simctl_write(d.sim, CURSOR, 0, next, 64 * 64 * 4), 0);
	assert_true(wait_shape(cc, next, 64));
	/* A flip to the other buffer too. */
	assert_int_equal(simctl_flip(d.sim, CURSOR, px, 64 * 64 * 4), 0);
	assert_true(wait_shape(cc, px, 64));
	assert_true(cc->shapes > shapes + 1);

	cursor_client_free(cc);
	assert_int_equal(daemon_stop(&d, SIGTERM), 0);
	free(next);
	free(px);
	free(pic);
}

/* Exact where the cursor is opaque or clear; other pixels blend and are not checked. */
static bool composited(const struct vnc_probe *probe, const uint8_t *pic, const uint32_t *px,
		       uint32_t size, int32_t cx, int32_t cy)
{
	const rfbClient *client = probe->client;
	if (client->width != SCREEN_W || client->height != SCREEN_H)
		return false;
	const uint32_t *bg = (const uint32_t *)pic;
	for (int32_t y = 0; y < SCREEN_H; y++) {
		for (int32_t x = 0; x < SCREEN_W; x++) {
			uint32_t want = bg[y * SCREEN_W + x];
			bool in = px && x >= cx && y >= cy && x < cx + (int32_t)size &&
				  y < cy + (int32_t)size;
			if (in) {
				uint32_t c = px[(y - cy) * size + (x - cx)];
				if (c >> 24 != 0 && c >> 24 != 0xff)
					continue;
				want = c >> 24 ? c : want;
			}
			if ((vnc_probe_pixel(probe, (uint32_t)x, (uint32_t)y) ^ want) & 0xffffff)
				return false;
		}
	}
	return true;
}

static bool wait_composited(struct vnc_probe *probe, const uint8_t *pic, const uint32_t *px,
			    uint32_t size, int32_t cx, int32_t cy)
{
	uint64_t deadline = now_ms() + WAIT_MS;

	while (!composited(probe, pic, px, size, cx, cy)) {
		if (now_ms() >= deadline || !vnc_probe_pump(probe, 20))
			return false;
	}
	return true;
}

static void drawn_for_plain_client(const rfbPixelFormat *format)
{
	/* GVT-g's smallest cursor plane is 64x64 (fb_decoder.c cursor_pixel_formats). */
	const uint32_t size = sim_driver_is("gvt") ? 64 : 32;
	struct daemon_proc d;
	daemon_start(&d, NULL);
	uint8_t *pic = primary_show(&d, 2);
	uint32_t *px = cursor_picture(size, 3);
	cursor_set(&d, size, px, 200, 150, 4, 6);

	const struct vnc_probe_opts opts = { .encodings = "raw", .format = format };
	struct vnc_probe *probe = vnc_probe_connect_opts(d.port, &opts);
	assert_non_null(probe);
	/* Drawn where the guest put the plane, whatever its hotspot. */
	assert_true(wait_composited(probe, pic, px, size, 200, 150));
	assert_int_equal(simctl_move_cursor(d.sim, 400, 300), 0);
	assert_true(wait_composited(probe, pic, px, size, 400, 300));
	/* Overlapping its old place: what it uncovers is the picture again. */
	assert_int_equal(simctl_move_cursor(d.sim, 410, 290), 0);
	assert_true(wait_composited(probe, pic, px, size, 410, 290));

	/* The plane switched off: no cursor, the picture whole. */
	struct sim_plane_desc off = { 0 };
	assert_int_equal(simctl_set_plane(d.sim, CURSOR, &off), 0);
	assert_true(wait_composited(probe, pic, NULL, 0, 0, 0));

	vnc_probe_free(probe);
	assert_int_equal(daemon_stop(&d, SIGTERM), 0);
	free(px);
	free(pic);
}

static void test_drawn_for_plain_client(void **state)
{
	drawn_for_plain_client(NULL);
}

/* The daemon keeps this client's picture and cursor image with red in the low byte. */
static void test_drawn_for_red_low_client(void **state)
{
	drawn_for_plain_client(&vnc_probe_red_low);
}

/* A shape in the client's format, before and after it asks for another one. */
static void test_shape_red_low(void **state)
{
	struct daemon_proc d;
	daemon_start(&d, NULL);
	uint8_t *pic = primary_show(&d, 1);
	uint32_t *px = cursor_picture(64, 0);
	cursor_set(&d, 64, px, 100, 50, 3, 5);

	struct cursor_client *cc = cursor_client_connect_format(d.port, &vnc_probe_red_low);
	assert_true(wait_shape(cc, px, 64));
	uint32_t *next = cursor_picture(64, 1);
	assert_int_equal(simctl_write(d.sim, CURSOR, 0, next, 64 * 64 * 4), 0);
	assert_true(wait_shape(cc, next, 64));

	/* The daemon's format now: the image libvncserver holds is put back in it. */
	assert_true(vnc_probe_set_format(cc->probe, &vnc_probe_xrgb8888));
	pump_for(cc, 200);
	assert_int_equal(simctl_write(d.sim, CURSOR, 0, px, 64 * 64 * 4), 0);
	assert_true(wait_shape(cc, px, 64));

	cursor_client_free(cc);
	assert_int_equal(daemon_stop(&d, SIGTERM), 0);
	free(next);
	free(px);
	free(pic);
}

/* A cursor plane that is off from the start shows nothing to either kind of client. */
static void test_disabled_shows_none(void **state)
{
	struct daemon_proc d;
	daemon_start(&d, NULL);
	uint8_t *pic = primary_show(&d, 4);
	struct sim_plane_desc off = { 0 };
	assert_int_equal(simctl_set_plane(d.sim, CURSOR, &off), 0);

	struct cursor_client *cc = cursor_client_connect(d.port);
	struct vnc_probe *probe = vnc_probe_connect(d.port, "raw");
	assert_non_null(probe);
	assert_true(vnc_probe_wait_picture(probe, pic, SCREEN_W, SCREEN_H, WAIT_MS));
	pump_for(cc, 500);
	assert_true(vnc_probe_pump(probe, 200));
	assert_int_equal(cc->shapes, 0);
	assert_true(vnc_probe_matches(probe, pic, SCREEN_W, SCREEN_H));

	/* A non-ARGB8888 cursor is refused the same way. */
	struct sim_plane_desc xrgb = { .fourcc = DRM_FORMAT_XRGB8888, .width = 64, .height = 64,
				       .stride = 256, .size = 64 * 256, .x = 10, .y = 10 };
	assert_int_equal(simctl_set_plane(d.sim, CURSOR, &xrgb), 0);
	uint32_t *px = cursor_picture(64, 5);
	assert_int_equal(simctl_flip(d.sim, CURSOR, px, 64 * 64 * 4), 0);
	pump_for(cc, 500);
	assert_true(vnc_probe_pump(probe, 200));
	assert_int_equal(cc->shapes, 0);
	assert_true(vnc_probe_matches(probe, pic, SCREEN_W, SCREEN_H));
	/* GVT-g refuses a cursor it cannot decode at the query (EINVAL); others hand it out. */
	assert_int_equal(daemon_log_count(&d, sim_driver_is("gvt") ?
					  "querying the cursor plane failed: Invalid argument" :
					  "cursor plane 64x64 stride 256 size 16384 ignored"),
			 1);

	vnc_probe_free(probe);
	cursor_client_free(cc);
	assert_int_equal(daemon_stop(&d, SIGTERM), 0);
	free(px);
	free(pic);
}

/*
 * 64, 128 and 256 pixel planes all arrive: a 128 plane whose arrow covers
 * 40x48 pixels is cropped to it; a 256 plane fully drawn is scaled by 3.
 */
static void test_big_cursors(void **state)
{
	struct daemon_proc d;
	daemon_start(&d, NULL);
	uint8_t *pic = primary_show(&d, 5);
	struct cursor_client *cc = cursor_client_connect(d.port);

	uint32_t *px = cursor_picture(64, 6);
	cursor_set(&d, 64, px, 10, 10, HOT_UNKNOWN, HOT_UNKNOWN);
	assert_true(wait_shape(cc, px, 64));
	assert_true(cc->xhot == 0 && cc->yhot == 0);
	free(px);

	uint32_t *big = calloc(128 * 128, 4), *arrow = cursor_picture(40, 7);
	for (uint32_t y = 0; y < 48; y++)
		for (uint32_t x = 0; x < 40; x++)
			big[(y + 16) * 128 + x + 8] = y < 40 ? arrow[y * 40 + x] : 0xffffffff;
	cursor_set(&d, 128, big, 20, 20, 10, 20);
	uint64_t deadline = now_ms() + WAIT_MS;
	while (!(cc->width == 40 && cc->height == 48 && cc->xhot == 2 && cc->yhot == 4))
		assert_true(now_ms() < deadline && pump_once(cc));
	for (uint32_t x = 0; x < 40; x++)
		assert_int_equal(cc->pixels[47 * 40 + x] & 0xffffff, 0xffffff);
	assert_true(wait_position(cc, 30, 40));
	free(arrow);
	free(big);

	uint32_t *huge = cursor_picture(256, 8);
	cursor_set(&d, 256, huge, 30, 30, 255, 128);
	deadline = now_ms() + WAIT_MS;
	while (!(cc->width == 86 && cc->height == 86 && cc->xhot == 85 && cc->yhot == 42))
		assert_true(now_ms() < deadline && pump_once(cc));
	/* Scaled corners stay opaque. */
	assert_true(cc->mask[0] && cc->mask[86 * 86 - 1]);
	assert_true(wait_position(cc, 30 + 255, 30 + 128));
	free(huge);

	cursor_client_free(cc);
	assert_int_equal(daemon_stop(&d, SIGTERM), 0);
	free(pic);
}

/* On the IRQ path a cursor event queries the cursor plane alone, and moves arrive by it. */
static void test_cursor_event(void **state)
{
	static const char *const env[] = { "VGPU_SIM_IRQ=display", NULL };
	struct daemon_options opts = { .extra_env = env };
	struct daemon_proc d;
	daemon_start(&d, &opts);
	uint8_t *pic = primary_show(&d, 6);
	uint32_t *px = cursor_picture(64, 9);
	cursor_set(&d, 64, px, 50, 60, 1, 1);
	struct cursor_client *cc = cursor_client_connect(d.port);
	assert_true(wait_shape(cc, px, 64));
	assert_true(wait_position(cc, 51, 61));

	struct sim_stats before, after;
	assert_int_equal(simctl_stats(d.sim, &before), 0);
	for (int i = 1; i <= 5; i++) {
		assert_int_equal(simctl_move_cursor(d.sim, 50 + i, 60 + 2 * i), 0);
		assert_int_equal(simctl_irq(d.sim, CURSOR_EVENT), 0);
		assert_true(wait_position(cc, 51 + i, 61 + 2 * i));
	}
	assert_int_equal(simctl_stats(d.sim, &after), 0);
	/* The 1 s safety poll queries both planes; each event the cursor alone. */
	uint64_t cursor = after.query_cursor - before.query_cursor;
	uint64_t primary = after.query_primary - before.query_primary;
	assert_true(cursor >= primary + 4);

	cursor_client_free(cc);
	assert_int_equal(daemon_stop(&d, SIGTERM), 0);
	free(px);
	free(pic);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shape_hotspot_positions),
		cmocka_unit_test(test_drawn_for_plain_client),
		cmocka_unit_test(test_drawn_for_red_low_client),
		cmocka_unit_test(test_shape_red_low),
		cmocka_unit_test(test_disabled_shows_none),
		cmocka_unit_test(test_big_cursors),
		cmocka_unit_test(test_cursor_event),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
