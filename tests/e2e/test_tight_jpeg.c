// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * End to end: libvncclient asking for Tight with JPEG, as viewers do, is
 * served by the daemon's own encoder (src/tight_jpeg.c). On a picture of a
 * solid background, a few-colour area (text, widgets) and a photo-like
 * area, everything outside the photo's 32-pixel blocks must be exact (fills
 * and palettes), the photo within JPEG's error, for the daemon's pixel
 * format and for red in the low byte, after changes, and with the cursor's
 * shape and position sent beside the picture.
 */
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <drm_fourcc.h>

#include "harness.h"
#include "simctl.h"
#include "vnc_probe.h"

#define PRIMARY 1
#define CURSOR 2
#define WAIT_MS 10000
/* Not multiples of 32: the last band and the last blocks are partial. */
#define SCREEN_W 1296
#define SCREEN_H 808
#define BACKGROUND 0x204060u
#define TEXT_X 40
#define TEXT_Y 40
#define TEXT_W 200
#define TEXT_H 100
#define PHOTO_Y 200
/* Large enough for the encoder's helper threads to share it. */
#define PHOTO_W 768
#define PHOTO_H 320
/* JPEG at libvncclient's default quality (level 5: 77, 4:2:2) on a smooth picture. */
#define MAX_ERROR 40
#define MAX_MEAN_ERROR 4.0

static bool in_photo(uint32_t photo_x, uint32_t x, uint32_t y)
{
	return x >= photo_x && x < photo_x + PHOTO_W && y >= PHOTO_Y && y < PHOTO_Y + PHOTO_H;
}

/* Away from the photo's edges, where chroma subsampling mixes it with the background. */
static bool in_photo_inside(uint32_t photo_x, uint32_t x, uint32_t y)
{
	return x >= photo_x + 2 && x + 2 < photo_x + PHOTO_W && y >= PHOTO_Y + 2 &&
	       y + 2 < PHOTO_Y + PHOTO_H;
}

/* The photo's 32-pixel blocks: what JPEG may cover. */
static bool in_photo_blocks(uint32_t photo_x, uint32_t x, uint32_t y)
{
	return x >= photo_x / 32 * 32 && x < (photo_x + PHOTO_W + 31) / 32 * 32 &&
	       y >= PHOTO_Y / 32 * 32 && y < (PHOTO_Y + PHOTO_H + 31) / 32 * 32;
}

/* Background, three-colour "text" striped by seed, and a smooth gradient at photo_x. */
static void draw(uint8_t *pixels, uint32_t photo_x, uint32_t seed)
{
	static const uint32_t ink[3] = { 0x000000, 0xffffff, 0xd02020 };
	uint32_t *p = (uint32_t *)pixels;
	for (uint32_t y = 0; y < SCREEN_H; y++)
		for (uint32_t x = 0; x < SCREEN_W; x++) {
			uint32_t c = BACKGROUND;
			if (x >= TEXT_X && x < TEXT_X + TEXT_W && y >= TEXT_Y && y < TEXT_Y + TEXT_H)
				c = ink[(x / 3 + y / 5 + seed) % 3];
			if (in_photo(photo_x, x, y)) {
				uint32_t u = x - photo_x, v = y - PHOTO_Y;
				c = (u / 4 + seed * 8) << 16 | v * 3 / 4 << 8 | (u + v) / 8;
			}
			p[(size_t)y * SCREEN_W + x] = c;
		}
}

/*
 * Exact outside the photo's blocks; within JPEG's error inside: on average,
 * and at every pixel away from the photo's edges.
 */
static bool picture_near(const struct vnc_probe *probe, const uint8_t *pic, uint32_t photo_x)
{
	if (probe->client->width != SCREEN_W || probe->client->height != SCREEN_H)
		return false;
	const uint32_t *want = (const uint32_t *)pic;
	uint64_t error_sum = 0, photo_pixels = 0;
	for (uint32_t y = 0; y < SCREEN_H; y++)
		for (uint32_t x = 0; x < SCREEN_W; x++) {
			uint32_t got = vnc_probe_pixel(probe, x, y), w = want[(size_t)y * SCREEN_W + x];
			if (!in_photo_blocks(photo_x, x, y)) {
				if ((got & 0xffffff) != (w & 0xffffff))
					return false;
				continue;
			}
			for (int c = 0; c < 3; c++) {
				int d = abs((int)(got >> (8 * c) & 0xff) - (int)(w >> (8 * c) & 0xff));
				if (d > MAX_ERROR && in_photo_inside(photo_x, x, y))
					return false;
				error_sum += (uint64_t)d;
			}
			photo_pixels++;
		}
	return (double)error_sum / (3.0 * (double)photo_pixels) <= MAX_MEAN_ERROR;
}

static bool wait_near(struct vnc_probe *probe, const uint8_t *pic, uint32_t photo_x)
{
	uint64_t deadline = now_ms() + WAIT_MS;
	while (!picture_near(probe, pic, photo_x)) {
		if (now_ms() >= deadline || !vnc_probe_pump(probe, 50))
			return false;
	}
	return true;
}

static void show(struct daemon_proc *d, uint8_t *pic, uint32_t photo_x, uint32_t seed)
{
	draw(pic, photo_x, seed);
	assert_int_equal(simctl_flip(d->sim, PRIMARY, pic, (size_t)SCREEN_W * SCREEN_H * 4), 0);
}

static void start(struct daemon_proc *d, uint8_t **pic)
{
	static const char *const verbose[] = { "--verbose", NULL };
	const struct daemon_options opts = { .extra_args = verbose };
	const struct sim_plane_desc desc = {
		.fourcc = DRM_FORMAT_XRGB8888, .width = SCREEN_W, .height = SCREEN_H,
		.stride = SCREEN_W * 4, .size = SCREEN_W * SCREEN_H * 4,
	};
	daemon_start(d, &opts);
	*pic = malloc((size_t)SCREEN_W * SCREEN_H * 4);
	assert_non_null(*pic);
	assert_int_equal(simctl_set_plane(d->sim, PRIMARY, &desc), 0);
}

static void check_format(const rfbPixelFormat *format)
{
	struct daemon_proc d;
	uint8_t *pic;
	start(&d, &pic);
	show(&d, pic, 300, 0);
	const struct vnc_probe_opts opts = { .encodings = "tight", .jpeg = true, .format = format };
	struct vnc_probe *probe = vnc_probe_connect_opts(d.port, &opts);
	assert_non_null(probe);
	assert_true(wait_near(probe, pic, 300));
	/* The photo moves off the grid, the text changes colours. */
	show(&d, pic, 333, 1);
	assert_true(wait_near(probe, pic, 333));
	/* The first update after SetEncodings is libvncserver's (its once-only pseudo-rectangles). */
	assert_true(daemon_wait_log(&d, "encoded by the daemon", 1, WAIT_MS));
	/* With more than one CPU, helper threads shared the photo. */
	assert_true(daemon_wait_log(&d, "JPEG helper threads", 1, WAIT_MS));
	if (sysconf(_SC_NPROCESSORS_ONLN) > 1)
		assert_int_equal(daemon_log_count(&d, ": 0 JPEG helper threads"), 0);
	show(&d, pic, 64, 2);
	assert_true(wait_near(probe, pic, 64));
	vnc_probe_free(probe);
	assert_int_equal(daemon_stop(&d, SIGTERM), 0);
	free(pic);
}

static void test_own_format(void **state)
{
	check_format(NULL);
}

static void test_red_low(void **state)
{
	check_format(&vnc_probe_red_low);
}

static int cursor_tag;

struct cursor_seen {
	int shapes, positions, x, y;
};

static void got_shape(rfbClient *client, int xhot, int yhot, int width, int height, int bpp)
{
	struct cursor_seen *seen = rfbClientGetClientData(client, &cursor_tag);
	seen->shapes++;
}

static rfbBool got_position(rfbClient *client, int x, int y)
{
	struct cursor_seen *seen = rfbClientGetClientData(client, &cursor_tag);
	seen->positions++;
	seen->x = x;
	seen->y = y;
	return TRUE;
}

static bool wait_cursor(struct vnc_probe *probe, const struct cursor_seen *seen, int x, int y)
{
	uint64_t deadline = now_ms() + WAIT_MS;
	while (seen->shapes == 0 || seen->positions == 0 || seen->x != x || seen->y != y) {
		if (now_ms() >= deadline || !vnc_probe_pump(probe, 50))
			return false;
	}
	return true;
}

/* The cursor's shape and position go in the daemon's own updates, with the picture. */
static void test_cursor_beside_picture(void **state)
{
	struct daemon_proc d;
	uint8_t *pic;
	start(&d, &pic);
	show(&d, pic, 300, 0);
	const struct vnc_probe_opts opts = { .encodings = "tight", .jpeg = true,
					     .remote_cursor = true };
	struct vnc_probe *probe = vnc_probe_connect_opts(d.port, &opts);
	assert_non_null(probe);
	struct cursor_seen seen = { 0 };
	probe->client->GotCursorShape = got_shape;
	probe->client->HandleCursorPos = got_position;
	rfbClientSetClientData(probe->client, &cursor_tag, &seen);
	assert_true(wait_near(probe, pic, 300));

	uint32_t shape[32 * 32];
	for (size_t i = 0; i < 32 * 32; i++)
		shape[i] = i % 7 ? 0xff10e010 : 0;
	const struct sim_plane_desc desc = {
		.fourcc = DRM_FORMAT_ARGB8888, .width = 32, .height = 32, .stride = 32 * 4,
		.size = 32 * 32 * 4, .x = 100, .y = 120,
	};
	assert_int_equal(simctl_set_plane(d.sim, CURSOR, &desc), 0);
	assert_int_equal(simctl_flip(d.sim, CURSOR, shape, sizeof(shape)), 0);
	/* Picture and cursor change together: both reach the client. */
	show(&d, pic, 333, 1);
	assert_true(wait_cursor(probe, &seen, 100, 120));
	assert_true(wait_near(probe, pic, 333));
	assert_int_equal(simctl_move_cursor(d.sim, 200, 220), 0);
	show(&d, pic, 64, 2);
	assert_true(wait_cursor(probe, &seen, 200, 220));
	assert_true(wait_near(probe, pic, 64));
	vnc_probe_free(probe);
	assert_int_equal(daemon_stop(&d, SIGTERM), 0);
	free(pic);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_own_format),
		cmocka_unit_test(test_red_low),
		cmocka_unit_test(test_cursor_beside_picture),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
