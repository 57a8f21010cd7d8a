// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * End to end: viewers asking for pixel formats other than the daemon's
 * XRGB8888. Red in the low byte (libvncclient, noVNC, Remmina) is made by
 * the daemon's own copy into the client's framebuffer, so libvncserver
 * logs "no translation needed" for it; other formats go through
 * libvncserver's translation. Every one must show the guest's picture
 * pixel for pixel (16-bit within a level) with raw, ZRLE and lossless Tight
 * (the probe turns JPEG off), after partial changes, and after the client
 * changes its format mid-session.
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

#include "harness.h"
#include "simctl.h"
#include "vnc_probe.h"

#define PRIMARY 1
#define WAIT_MS 5000
#define SCREEN_W 640
#define SCREEN_H 480

struct shown {
	struct daemon_proc d;
	uint8_t *pic;
};

static void show(struct shown *s, uint32_t seed)
{
	size_t size = (size_t)SCREEN_W * SCREEN_H * 4;
	const struct sim_plane_desc desc = {
		.fourcc = DRM_FORMAT_XRGB8888,
		.width = SCREEN_W,
		.height = SCREEN_H,
		.stride = SCREEN_W * 4,
		.size = (uint32_t)size,
	};
	if (!s->pic) {
		s->pic = malloc(size);
		assert_non_null(s->pic);
		assert_int_equal(simctl_set_plane(s->d.sim, PRIMARY, &desc), 0);
	}
	picture_fill(s->pic, SCREEN_W, SCREEN_H, seed);
	assert_int_equal(simctl_flip(s->d.sim, PRIMARY, s->pic, size), 0);
}

/* A band across the middle changes in place (same buffer): only its tiles are copied. */
static void change_band(struct shown *s, uint32_t seed)
{
	const uint32_t y0 = 100, rows = 70;
	uint8_t *band = s->pic + (size_t)y0 * SCREEN_W * 4;
	for (size_t i = 0; i < (size_t)rows * SCREEN_W * 4; i++)
		band[i] = (uint8_t)(band[i] * 7 + seed);
	assert_int_equal(simctl_write(s->d.sim, PRIMARY, (size_t)y0 * SCREEN_W * 4, band,
				      (size_t)rows * SCREEN_W * 4),
			 0);
}

static void check_format(const rfbPixelFormat *format, const char *encodings)
{
	struct shown s = { 0 };
	daemon_start(&s.d, NULL);
	show(&s, 11);
	const struct vnc_probe_opts opts = { .encodings = encodings, .format = format };
	struct vnc_probe *probe = vnc_probe_connect_opts(s.d.port, &opts);
	assert_non_null(probe);
	assert_true(vnc_probe_wait_picture(probe, s.pic, SCREEN_W, SCREEN_H, WAIT_MS));
	change_band(&s, 3);
	assert_true(vnc_probe_wait_picture(probe, s.pic, SCREEN_W, SCREEN_H, WAIT_MS));
	show(&s, 12);
	assert_true(vnc_probe_wait_picture(probe, s.pic, SCREEN_W, SCREEN_H, WAIT_MS));
	vnc_probe_free(probe);
	assert_int_equal(daemon_stop(&s.d, SIGTERM), 0);
	free(s.pic);
}

static void test_red_low_raw(void **state)
{
	check_format(&vnc_probe_red_low, "raw");
}

static void test_red_low_tight(void **state)
{
	check_format(&vnc_probe_red_low, "tight");
}

static void test_red_low_zrle(void **state)
{
	check_format(&vnc_probe_red_low, "zrle");
}

static void test_big_endian(void **state)
{
	check_format(&vnc_probe_big_endian, "raw");
}

static void test_red_in_top_byte(void **state)
{
	check_format(&vnc_probe_rgbx_high, "tight");
}

static void test_rgb565(void **state)
{
	check_format(&vnc_probe_rgb565, "raw");
}

/* The daemon's own copy makes red-low: libvncserver says it has nothing to translate. */
static void test_red_low_not_translated(void **state)
{
	static const char *const verbose[] = { "--verbose", NULL };
	const struct daemon_options daemon_opts = { .extra_args = verbose };
	struct shown s = { 0 };
	daemon_start(&s.d, &daemon_opts);
	show(&s, 5);
	int before = daemon_log_count(&s.d, "no translation needed");
	const struct vnc_probe_opts opts = { .encodings = "raw", .format = &vnc_probe_red_low };
	struct vnc_probe *probe = vnc_probe_connect_opts(s.d.port, &opts);
	assert_non_null(probe);
	assert_true(vnc_probe_wait_picture(probe, s.pic, SCREEN_W, SCREEN_H, WAIT_MS));
	assert_true(daemon_wait_log(&s.d, "no translation needed", before + 1, WAIT_MS));
	vnc_probe_free(probe);
	assert_int_equal(daemon_stop(&s.d, SIGTERM), 0);
	free(s.pic);
}

/* SetPixelFormat mid-session, each way, with changes between. */
static void test_format_changes(void **state)
{
	static const rfbPixelFormat *const sequence[] = {
		&vnc_probe_xrgb8888, &vnc_probe_red_low,   &vnc_probe_big_endian,
		&vnc_probe_red_low,  &vnc_probe_xrgb8888, &vnc_probe_red_low,
		&vnc_probe_rgb565, /* last: the client's framebuffer is sized for 32 bits */
	};
	struct shown s = { 0 };
	daemon_start(&s.d, NULL);
	show(&s, 21);
	const struct vnc_probe_opts opts = { .encodings = "raw", .format = &vnc_probe_red_low };
	struct vnc_probe *probe = vnc_probe_connect_opts(s.d.port, &opts);
	assert_non_null(probe);
	assert_true(vnc_probe_wait_picture(probe, s.pic, SCREEN_W, SCREEN_H, WAIT_MS));
	for (size_t i = 0; i < sizeof(sequence) / sizeof(sequence[0]); i++) {
		assert_true(vnc_probe_set_format(probe, sequence[i]));
		assert_true(vnc_probe_wait_picture(probe, s.pic, SCREEN_W, SCREEN_H, WAIT_MS));
		change_band(&s, (uint32_t)i);
		assert_true(vnc_probe_wait_picture(probe, s.pic, SCREEN_W, SCREEN_H, WAIT_MS));
	}
	vnc_probe_free(probe);
	assert_int_equal(daemon_stop(&s.d, SIGTERM), 0);
	free(s.pic);
}

/* Two clients of different formats side by side, and a resize. */
static void test_two_clients_and_resize(void **state)
{
	struct shown s = { 0 };
	daemon_start(&s.d, NULL);
	show(&s, 31);
	const struct vnc_probe_opts red = { .encodings = "raw", .format = &vnc_probe_red_low };
	const struct vnc_probe_opts own = { .encodings = "raw" };
	struct vnc_probe *a = vnc_probe_connect_opts(s.d.port, &red);
	struct vnc_probe *b = vnc_probe_connect_opts(s.d.port, &own);
	assert_true(a && b);
	assert_true(vnc_probe_wait_picture(a, s.pic, SCREEN_W, SCREEN_H, WAIT_MS));
	assert_true(vnc_probe_wait_picture(b, s.pic, SCREEN_W, SCREEN_H, WAIT_MS));

	const uint32_t w = 320, h = 200;
	const struct sim_plane_desc small = {
		.fourcc = DRM_FORMAT_XRGB8888, .width = w, .height = h, .stride = w * 4,
		.size = w * h * 4,
	};
	uint8_t *pic = malloc((size_t)w * h * 4);
	assert_non_null(pic);
	picture_fill(pic, w, h, 32);
	assert_int_equal(simctl_set_plane(s.d.sim, PRIMARY, &small), 0);
	assert_int_equal(simctl_flip(s.d.sim, PRIMARY, pic, (size_t)w * h * 4), 0);
	assert_true(vnc_probe_wait_picture(a, pic, w, h, WAIT_MS));
	assert_true(vnc_probe_wait_picture(b, pic, w, h, WAIT_MS));

	vnc_probe_free(a);
	vnc_probe_free(b);
	assert_int_equal(daemon_stop(&s.d, SIGTERM), 0);
	free(pic);
	free(s.pic);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_red_low_raw),
		cmocka_unit_test(test_red_low_tight),
		cmocka_unit_test(test_red_low_zrle),
		cmocka_unit_test(test_big_endian),
		cmocka_unit_test(test_red_in_top_byte),
		cmocka_unit_test(test_rgb565),
		cmocka_unit_test(test_red_low_not_translated),
		cmocka_unit_test(test_format_changes),
		cmocka_unit_test(test_two_clients_and_resize),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
