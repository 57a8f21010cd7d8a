// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A SIGHUP storm: 100 reloads in one second while two clients watch. The
 * daemon stays up, keeps both clients, shows them the guest's next picture,
 * and ends up holding the fds and threads it held before the storm.
 */
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <drm_fourcc.h>

#include "harness.h"
#include "proc_stats.h"
#include "simctl.h"
#include "vnc_probe.h"

#define WIDTH 320
#define HEIGHT 200
#define RELOADS 100
#define STORM_MS 1000

/* Replaced whole (rename), as an operator's editor does: a reload never reads half a file. */
static void write_config(const char *path, unsigned refresh_hz)
{
	char tmp[128];
	snprintf(tmp, sizeof(tmp), "%s.new", path);
	FILE *f = fopen(tmp, "w");
	assert_non_null(f);
	fprintf(f, "refresh_hz = %u\nlog_level = info\n", refresh_hz);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(rename(tmp, path), 0);
}

static void show(struct daemon_proc *d, uint8_t *pixels, uint32_t seed)
{
	picture_fill(pixels, WIDTH, HEIGHT, seed);
	assert_int_equal(simctl_flip(d->sim, 1, pixels, WIDTH * HEIGHT * 4), 0);
}

/* Sends the storm, evenly over STORM_MS, pumping both clients between signals. */
static void storm(struct daemon_proc *d, const char *path, struct vnc_probe *probes[2])
{
	uint64_t start = now_ms();
	for (unsigned i = 0; i < RELOADS; i++) {
		/* Every other file differs, so some reloads change something. */
		write_config(path, i % 2 ? 30 : 60);
		assert_int_equal(kill(d->pid, SIGHUP), 0);
		uint64_t next = start + (uint64_t)(i + 1) * STORM_MS / RELOADS;
		while (now_ms() < next)
			for (unsigned p = 0; p < 2; p++)
				assert_true(vnc_probe_pump(probes[p], 1));
	}
	assert_true(now_ms() - start <= STORM_MS + 200);
}

static void test_sighup_storm(void **state)
{
	char path[] = "/tmp/mdev-vncd-storm.XXXXXX.conf";
	int fd = mkstemps(path, 5);
	assert_true(fd >= 0);
	close(fd);
	write_config(path, 60);
	const char *args[] = { "--config", path, NULL };
	struct daemon_options opts = { .extra_args = args };
	struct daemon_proc d;
	daemon_start(&d, &opts);

	struct sim_plane_desc desc = {
		.fourcc = DRM_FORMAT_XRGB8888, .width = WIDTH, .height = HEIGHT,
		.stride = WIDTH * 4, .size = WIDTH * HEIGHT * 4,
	};
	assert_int_equal(simctl_set_plane(d.sim, 1, &desc), 0);
	uint8_t *pixels = malloc(desc.size);
	assert_non_null(pixels);
	struct vnc_probe *probes[2];
	for (unsigned p = 0; p < 2; p++) {
		probes[p] = vnc_probe_connect(d.port, "raw");
		assert_non_null(probes[p]);
	}
	/* Both buffers of the double-buffered plane seen once: the daemon keeps a dmabuf fd for each. */
	for (uint32_t seed = 1; seed <= 2; seed++) {
		show(&d, pixels, seed);
		for (unsigned p = 0; p < 2; p++)
			assert_true(vnc_probe_wait_picture(probes[p], pixels, WIDTH, HEIGHT, 5000));
	}
	struct proc_usage before, after;
	assert_int_equal(proc_usage_read(d.pid, &before), 0);

	storm(&d, path, probes);
	/* Signals that arrive while one is pending merge: at least one reload, at most one each. */
	assert_true(daemon_wait_log(&d, "SIGHUP: configuration reloaded", 1, 5000));
	assert_true(daemon_log_count(&d, "SIGHUP: configuration reloaded") <= RELOADS);
	assert_int_equal(kill(d.pid, 0), 0);

	show(&d, pixels, 3);
	for (unsigned p = 0; p < 2; p++)
		assert_true(vnc_probe_wait_picture(probes[p], pixels, WIDTH, HEIGHT, 5000));
	bool settled = proc_usage_wait_at_most(d.pid, &before, 5000, &after);
	print_message("storm: %d reloads logged; fds %d -> %d, threads %d -> %d\n",
		      daemon_log_count(&d, "SIGHUP: configuration reloaded"), before.fds, after.fds,
		      before.threads, after.threads);
	assert_true(settled);
	assert_int_equal(daemon_log_count(&d, "keeping the running configuration"), 0);

	for (unsigned p = 0; p < 2; p++)
		vnc_probe_free(probes[p]);
	assert_int_equal(daemon_stop(&d, SIGTERM), 0);
	unlink(path);
	free(pixels);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sighup_storm),
	};
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
