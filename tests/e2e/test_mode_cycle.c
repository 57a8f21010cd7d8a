// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * End to end: many framebuffers over a device's life, against the drivers'
 * own rules. On mbochs a guest cycles through more modes than any fd cache
 * holds and back again: every id is permanent, so each is fetched once and
 * its fd never closed (the sim counts a broken rule otherwise and the
 * harness fails the test), and a kept fd shows what the guest draws now.
 * On GVT-g a guest reallocating its framebuffer gets a new object each
 * time: the daemon's held fds stay bounded.
 *
 * CPU mmap is allowed (VGPU_SIM_MMAP=allow, standing for the fixed mbochs
 * module or a GPU import) so the pictures can be compared pixel by pixel;
 * without it both refuse, as their stock modules do.
 */
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>
#include <drm_fourcc.h>

#include "harness.h"
#include "simctl.h"
#include "vnc_probe.h"

#define PRIMARY 1
#define WAIT_MS 30000 /* generous: under valgrind a GPU import attempt alone takes seconds */
#define MODES 20
#define REALLOCATIONS 40
/* The daemon's fd cache on drivers that recycle ids (PLANE_DMABUF_CACHE_SIZE). */
#define RECYCLING_CACHE 8

/* Sets a mode, draws the picture of seed into it in place, waits for the client to show it. */
static void show_mode(struct daemon_proc *d, struct vnc_probe *probe, uint32_t width,
		      uint32_t height, uint32_t seed)
{
	const size_t size = (size_t)width * height * 4;
	uint8_t *pixels = malloc(size);
	struct sim_plane_desc desc = {
		.fourcc = DRM_FORMAT_XRGB8888,
		.width = width,
		.height = height,
		.stride = width * 4,
		.size = (uint32_t)size,
	};

	assert_non_null(pixels);
	picture_fill(pixels, width, height, seed);
	assert_int_equal(simctl_set_plane(d->sim, PRIMARY, &desc), 0);
	assert_int_equal(simctl_write(d->sim, PRIMARY, 0, pixels, size), 0);
	if (!vnc_probe_wait_picture(probe, pixels, width, height, WAIT_MS))
		fail_msg("%ux%u (seed %u): the client's picture is not the guest's", width, height,
			 seed);
	free(pixels);
}

static uint32_t mode_width(unsigned i)
{
	return 320 + 16 * i;
}

static uint32_t mode_height(unsigned i)
{
	return 200 + 8 * i;
}

/* The daemon on this driver personality (VGPU_SIM_DRIVER=...), and a raw client. */
static struct vnc_probe *start_on(struct daemon_proc *d, const char *driver_env, bool mmap)
{
	const char *const env[] = { driver_env, mmap ? "VGPU_SIM_MMAP=allow" : NULL, NULL };

	daemon_start(d, &(struct daemon_options){ .extra_env = env });
	struct vnc_probe *probe = vnc_probe_connect(d->port, "raw");
	assert_non_null(probe);
	return probe;
}

static void test_mbochs_modes_and_back(void **state)
{
	struct daemon_proc d;
	struct sim_stats stats;
	struct vnc_probe *probe = start_on(&d, "VGPU_SIM_DRIVER=mbochs", true);

	for (unsigned i = 0; i < MODES; i++)
		show_mode(&d, probe, mode_width(i), mode_height(i), 1 + i);
	/* Back again, newest first: every mode returns with its old id and a new picture. */
	for (unsigned i = MODES; i-- > 0;)
		show_mode(&d, probe, mode_width(i), mode_height(i), 100 + i);
	assert_int_equal(simctl_stats(d.sim, &stats), 0);
	assert_int_equal(stats.get_dmabuf, MODES);
	assert_int_equal(stats.open_dmabuf_fds, MODES);
	assert_int_equal(stats.rules_broken, 0);
	assert_int_equal(daemon_log_count(&d, "dmabuf ids: kept for the device's life"), 1);

	vnc_probe_free(probe);
	assert_int_equal(daemon_stop(&d, SIGTERM), 0);
	assert_int_equal(daemon_report_value(&d, "rules_broken"), 0);
	assert_int_equal(daemon_report_value(&d, "open_dmabuf_fds"), 0);
}

static void test_gvt_reallocations_bounded(void **state)
{
	struct daemon_proc d;
	struct sim_stats stats;
	struct vnc_probe *probe = start_on(&d, "VGPU_SIM_DRIVER=gvt", true);

	/* One geometry, a new framebuffer (a new GVT object and id) each time. */
	for (unsigned i = 0; i <= REALLOCATIONS; i++) {
		show_mode(&d, probe, 640, 480, 200 + i);
		assert_int_equal(simctl_stats(d.sim, &stats), 0);
		if (stats.open_dmabuf_fds > RECYCLING_CACHE)
			fail_msg("after %u reallocations the daemon holds %u dmabuf fds", i,
				 stats.open_dmabuf_fds);
	}
	assert_int_equal(stats.get_dmabuf, REALLOCATIONS + 1);
	assert_int_equal(daemon_log_count(&d, "dmabuf ids: the 8 most recently used are kept"), 1);

	vnc_probe_free(probe);
	assert_int_equal(daemon_stop(&d, SIGTERM), 0);
	assert_int_equal(daemon_report_value(&d, "peak_open_dmabuf_fds"), RECYCLING_CACHE);
	assert_int_equal(daemon_report_value(&d, "open_dmabuf_fds"), 0);
}

/* The accent colour of the daemon's "Cannot map" placeholder (src/placeholder.c). */
#define CANNOT_MAP_ACCENT 0xe8a33du

/* Without the relaxation each driver refuses CPU mmap as its stock module does. */
static void refused_by_default(const char *driver_env, const char *said)
{
	struct daemon_proc d;
	struct vnc_probe *probe = start_on(&d, driver_env, false);
	struct sim_plane_desc desc = {
		.fourcc = DRM_FORMAT_XRGB8888, .width = 640, .height = 480,
		.stride = 640 * 4, .size = 640 * 480 * 4,
	};
	assert_int_equal(simctl_set_plane(d.sim, PRIMARY, &desc), 0);
	assert_true(daemon_wait_log(&d, said, 1, WAIT_MS));
	assert_true(vnc_probe_wait_colour(probe, CANNOT_MAP_ACCENT, WAIT_MS));
	assert_true(vnc_probe_pump(probe, 200));
	assert_int_equal(daemon_log_count(&d, said), 1);
	vnc_probe_free(probe);
	assert_int_equal(daemon_stop(&d, SIGTERM), 0);
}

static void test_stock_drivers_refuse_mmap(void **state)
{
	refused_by_default("VGPU_SIM_DRIVER=gvt", "ENODEV: as GVT-g");
	refused_by_default("VGPU_SIM_DRIVER=mbochs", "EINVAL: read-only export");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mbochs_modes_and_back),
		cmocka_unit_test(test_gvt_reallocations_bounded),
		cmocka_unit_test(test_stock_drivers_refuse_mmap),
	};
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
