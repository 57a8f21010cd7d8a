// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A second reader of the display (QEMU with vfio-pci display=on beside the
 * daemon), told from the dmabuf ids on the gvt and mbochs personalities:
 * while nobody watches the daemon leaves the device alone, the guest sets
 * two modes, and the other reader's queries give both of them ids; the
 * daemon, back on its clients' behalf, meets an id two above the highest it
 * saw and warns once. Without the other reader the same steps give the next
 * id and no warning.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>
#include <drm_fourcc.h>

#include "harness.h"
#include "simctl.h"
#include "vnc_probe.h"

#define DEADLINE_MS 10000
#define WARNING "another process reads this vGPU's display"
#define PAUSED "no clients: display updates paused"

static void set_mode(struct daemon_proc *d, uint32_t w, uint32_t h)
{
	struct sim_plane_desc desc = {
		.fourcc = DRM_FORMAT_XRGB8888, .width = w, .height = h,
		.stride = w * 4, .size = w * h * 4,
	};
	assert_int_equal(simctl_set_plane(d->sim, 1, &desc), 0);
}

/* A client connects, the daemon queries what the guest shows now, the client leaves. */
static void look_once(struct daemon_proc *d, int times_paused)
{
	struct vnc_probe *probe = vnc_probe_connect(d->port, "raw");
	assert_non_null(probe);
	assert_true(daemon_wait_queries(d, 3, DEADLINE_MS));
	vnc_probe_free(probe);
	assert_true(daemon_wait_log(d, PAUSED, times_paused, DEADLINE_MS));
}

static void run(const char *driver_env, bool second_reader)
{
	const char *const env[] = { driver_env, "VGPU_SIM_MMAP=allow", NULL };
	struct daemon_options opts = { .extra_env = env };
	struct daemon_proc d;
	daemon_start(&d, &opts);
	set_mode(&d, 320, 240);
	look_once(&d, 1);
	assert_int_equal(simctl_fault(d.sim, SIM_FAULT_SECOND_READER, second_reader), 0);
	/* Nobody watches: the daemon queries neither mode. */
	struct sim_stats before, after;
	assert_int_equal(simctl_stats(d.sim, &before), 0);
	set_mode(&d, 400, 300);
	set_mode(&d, 480, 360);
	assert_int_equal(simctl_stats(d.sim, &after), 0);
	assert_int_equal(after.query_primary, before.query_primary);
	look_once(&d, 2);
	assert_int_equal(daemon_log_count(&d, WARNING), second_reader ? 1 : 0);
	/* More modes behind the daemon's back: still one warning. */
	set_mode(&d, 560, 420);
	set_mode(&d, 640, 480);
	look_once(&d, 3);
	assert_int_equal(daemon_log_count(&d, WARNING), second_reader ? 1 : 0);
	assert_int_equal(daemon_stop(&d, SIGTERM), 0);
}

static void test_gvt_alone(void **state)
{
	run("VGPU_SIM_DRIVER=gvt", false);
}

static void test_gvt_second_reader(void **state)
{
	run("VGPU_SIM_DRIVER=gvt", true);
}

static void test_mbochs_alone(void **state)
{
	run("VGPU_SIM_DRIVER=mbochs", false);
}

static void test_mbochs_second_reader(void **state)
{
	run("VGPU_SIM_DRIVER=mbochs", true);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gvt_alone),
		cmocka_unit_test(test_gvt_second_reader),
		cmocka_unit_test(test_mbochs_alone),
		cmocka_unit_test(test_mbochs_second_reader),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
