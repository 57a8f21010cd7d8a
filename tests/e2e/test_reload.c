// SPDX-License-Identifier: GPL-2.0-or-later
/* SIGHUP: the daemon re-reads its config file, applies what can change live, and says what cannot. */
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <cmocka.h>
#include <drm_fourcc.h>

#include "harness.h"
#include "simctl.h"
#include "vnc_probe.h"

static void write_config(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_sighup_reloads(void **state)
{
	char path[] = "/tmp/mdev-vncd-reload.XXXXXX.conf";
	int fd = mkstemps(path, 5);
	assert_true(fd >= 0);
	close(fd);
	write_config(path, "refresh_hz = 30\nlog_level = info\n");
	const char *args[] = { "--config", path, NULL };
	struct daemon_options opts = { .extra_args = args };
	struct daemon_proc d;
	daemon_start(&d, &opts);

	/* Live keys change; a key that needs a restart is named; --listen still wins over the file. */
	write_config(path, "refresh_hz = 10\nlog_level = debug\ndisplay_event = off\n"
			   "listen = 127.0.0.1:1\n");
	kill(d.pid, SIGHUP);
	assert_true(daemon_wait_log(&d, "configuration reloaded (log_level debug, refresh_hz 10,", 1,
				    5000));
	assert_int_equal(
		daemon_log_count(&d, "changes to display_event take effect only after a restart"), 1);

	/* A broken file changes nothing and the daemon keeps serving. */
	write_config(path, "refresh_hz = fast\n");
	kill(d.pid, SIGHUP);
	assert_true(daemon_wait_log(&d, "keeping the running configuration", 1, 5000));
	assert_int_equal(daemon_log_count(&d, ":1: key 'refresh_hz'"), 1);

	struct sim_plane_desc desc = {
		.fourcc = DRM_FORMAT_XRGB8888, .width = 320, .height = 200,
		.stride = 320 * 4, .size = 320 * 200 * 4,
	};
	assert_int_equal(simctl_set_plane(d.sim, 1, &desc), 0);
	uint8_t *pixels = malloc(desc.size);
	picture_fill(pixels, 320, 200, 9);
	assert_int_equal(simctl_flip(d.sim, 1, pixels, desc.size), 0);
	struct vnc_probe *probe = vnc_probe_connect(d.port, "raw");
	assert_non_null(probe);
	assert_true(vnc_probe_wait_picture(probe, pixels, 320, 200, 5000));
	/* debug level took effect: libvncserver's detail is now in the log. */
	assert_true(daemon_log_count(&d, "debug:") > 0);
	vnc_probe_free(probe);
	assert_int_equal(daemon_stop(&d, SIGTERM), 0);
	unlink(path);
	free(pixels);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sighup_reloads),
	};
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
