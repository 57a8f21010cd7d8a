// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * End to end: a client's SetDesktopSize reaches the simulated vGPU's EDID
 * region (decoded here from what the sim recorded), edid_size is written at
 * start, and without follow_client_size or without the region the request
 * is refused and nothing is written.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <drm_fourcc.h>

#include "harness.h"
#include "simctl.h"
#include "vnc_probe.h"

#define PRIMARY 1
#define WAIT_MS 5000
#define WIDTH 640
#define HEIGHT 480

struct edid_daemon {
	struct daemon_proc d;
	char config[64];
	uint8_t *pixels;
	struct vnc_probe *probe;
};

/* Starts the daemon with this config text and env, and shows it a picture. */
static void start(struct edid_daemon *e, const char *config, const char *const *env)
{
	snprintf(e->config, sizeof(e->config), "/tmp/mdev-vncd-edid.XXXXXX.conf");
	int fd = mkstemps(e->config, 5);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, config, strlen(config)), (ssize_t)strlen(config));
	close(fd);
	const char *args[] = { "--config", e->config, NULL };
	daemon_start(&e->d, &(struct daemon_options){ .extra_args = args, .extra_env = env });

	struct sim_plane_desc desc = { .fourcc = DRM_FORMAT_XRGB8888, .width = WIDTH,
				       .height = HEIGHT, .stride = WIDTH * 4,
				       .size = WIDTH * HEIGHT * 4 };
	assert_int_equal(simctl_set_plane(e->d.sim, PRIMARY, &desc), 0);
	e->pixels = calloc((size_t)WIDTH * HEIGHT, 4);
	picture_fill(e->pixels, WIDTH, HEIGHT, 5);
	assert_int_equal(simctl_flip(e->d.sim, PRIMARY, e->pixels, (size_t)WIDTH * HEIGHT * 4), 0);
}

/* A client that has its first picture: the server has offered ExtendedDesktopSize by then. */
static void connect_client(struct edid_daemon *e)
{
	e->probe = vnc_probe_connect(e->d.port, "raw");
	assert_non_null(e->probe);
	assert_true(vnc_probe_wait_picture(e->probe, e->pixels, WIDTH, HEIGHT, WAIT_MS));
}

static void stop(struct edid_daemon *e)
{
	vnc_probe_free(e->probe);
	assert_int_equal(daemon_stop(&e->d, SIGTERM), 0);
	unlink(e->config);
	free(e->pixels);
}

/* The sim's record: blob size, link state, and the preferred mode of descriptor 1. */
static int recorded(struct edid_daemon *e, uint32_t *size, uint32_t *link_up, uint32_t *w,
		    uint32_t *h)
{
	static const uint8_t header[8] = { 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0 };
	uint8_t blob[512];
	int ret = simctl_edid(e->d.sim, blob, sizeof(blob), size, link_up);
	*w = *h = 0;
	if (ret < 0 || *size < 128)
		return ret;
	assert_memory_equal(blob, header, sizeof(header));
	uint8_t sum = 0;
	for (int i = 0; i < 128; i++)
		sum += blob[i];
	assert_int_equal(sum, 0);
	*w = blob[56] | (uint32_t)(blob[58] & 0xf0) << 4;
	*h = blob[59] | (uint32_t)(blob[61] & 0xf0) << 4;
	return 0;
}

static void expect_mode(struct edid_daemon *e, uint32_t want_w, uint32_t want_h)
{
	uint32_t size, up, w, h;
	assert_int_equal(recorded(e, &size, &up, &w, &h), 0);
	assert_int_equal(size, 128);
	assert_int_equal(up, 1);
	assert_int_equal(w, want_w);
	assert_int_equal(h, want_h);
}

static void request(struct edid_daemon *e, uint16_t w, uint16_t h, const char *log_needle)
{
	assert_true(SendExtDesktopSize(e->probe->client, w, h));
	assert_true(vnc_probe_pump(e->probe, 100));
	assert_true(daemon_wait_log(&e->d, log_needle, 1, WAIT_MS));
}

static void test_client_size_written(void **state)
{
	struct edid_daemon e = { 0 };
	start(&e, "follow_client_size = yes\n", NULL);
	uint32_t size, up, w, h;
	assert_int_equal(recorded(&e, &size, &up, &w, &h), 0);
	assert_int_equal(size, 0); /* no edid_size: the device's EDID is left alone */
	connect_client(&e);

	request(&e, 1280, 800, "asked for 1280x800; preferred mode 1280x800 written");
	expect_mode(&e, 1280, 800);
	/* The guest takes the mode: the client is resized by the normal mode-change path. */
	struct sim_plane_desc desc = { .fourcc = DRM_FORMAT_XRGB8888, .width = 1280, .height = 800,
				       .stride = 1280 * 4, .size = 1280 * 800 * 4 };
	assert_int_equal(simctl_set_plane(e.d.sim, PRIMARY, &desc), 0);
	for (uint64_t end = now_ms() + WAIT_MS; e.probe->client->width != 1280 && now_ms() < end;)
		assert_true(vnc_probe_pump(e.probe, 50));
	assert_int_equal(e.probe->client->width, 1280);
	assert_int_equal(e.probe->client->height, 800);
	/* The sim's region offers at most 4096x2160; a descriptor ends at 4095. */
	request(&e, 8000, 5000, "asked for 8000x5000; preferred mode 4095x2160 written");
	expect_mode(&e, 4095, 2160);
	assert_int_equal(daemon_log_count(&e.d, "refused"), 0);
	stop(&e);
}

static void expect_refused(const char *config, const char *const *env)
{
	struct edid_daemon e = { 0 };
	start(&e, config, env);
	connect_client(&e);
	request(&e, 1280, 800, "desktop size 1280x800 refused");
	/* The client is still served after the refusal. */
	picture_fill(e.pixels, WIDTH, HEIGHT, 9);
	assert_int_equal(simctl_flip(e.d.sim, PRIMARY, e.pixels, (size_t)WIDTH * HEIGHT * 4), 0);
	assert_true(vnc_probe_wait_picture(e.probe, e.pixels, WIDTH, HEIGHT, WAIT_MS));
	uint32_t size = 0, up, w, h;
	/* Without the region the sim has nothing to read back. */
	if (recorded(&e, &size, &up, &w, &h) == 0)
		assert_int_equal(size, 0);
	assert_int_equal(daemon_log_count(&e.d, "EDID: client"), 0);
	stop(&e);
}

static void test_refused_without_follow(void **state)
{
	expect_refused("follow_client_size = no\n", NULL);
}

static void test_refused_without_region(void **state)
{
	static const char *const env[] = { "VGPU_SIM_NO_EDID=1", NULL };
	expect_refused("follow_client_size = yes\n", env);
}

/* Written before the daemon is ready: no client has connected. */
static void test_edid_size_at_start(void **state)
{
	struct edid_daemon e = { 0 };
	start(&e, "edid_size = 1600x900\n", NULL);
	expect_mode(&e, 1600, 900);
	assert_int_equal(daemon_log_count(&e.d, "edid_size asked for 1600x900"), 1);
	connect_client(&e);
	stop(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_client_size_written),
		cmocka_unit_test(test_refused_without_follow),
		cmocka_unit_test(test_refused_without_region),
		cmocka_unit_test(test_edid_size_at_start),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
