// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The display-event IRQ path under the simulated vGPU: flips signalled by
 * the IRQ reach clients with no polling in between, a mode change shows
 * after one event however its first queries fail, a lasting failure logged
 * once, the fallbacks, the idle path and an event storm.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
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

#define PRIMARY_EVENT (1ull << 56)
#define W 640
#define H 480

static const char *const irq_env[] = { "VGPU_SIM_IRQ=display", NULL };

/* A new guest mode; returns a buffer for its pictures, owned by the caller. */
static uint8_t *set_mode_size(struct daemon_proc *d, uint32_t width, uint32_t height)
{
	struct sim_plane_desc desc = {
		.fourcc = DRM_FORMAT_XRGB8888, .width = width, .height = height,
		.stride = width * 4, .size = width * height * 4,
	};
	assert_int_equal(simctl_set_plane(d->sim, 1, &desc), 0);
	return malloc((size_t)width * height * 4);
}

static uint8_t *set_mode(struct daemon_proc *d)
{
	return set_mode_size(d, W, H);
}

static uint64_t primary_queries(struct daemon_proc *d)
{
	struct sim_stats stats;
	assert_int_equal(simctl_stats(d->sim, &stats), 0);
	return stats.query_primary;
}

/* Flips a picture of seed onto the plane and signals it; the client must show it. */
static void flip_signalled(struct daemon_proc *d, struct vnc_probe *probe, uint8_t *pixels,
			   uint32_t seed)
{
	picture_fill(pixels, W, H, seed);
	assert_int_equal(simctl_flip(d->sim, 1, pixels, W * H * 4), 0);
	assert_int_equal(simctl_irq(d->sim, PRIMARY_EVENT), 0);
	assert_true(vnc_probe_wait_picture(probe, pixels, W, H, 5000));
}

/* The daemon on the IRQ path with a client showing a W x H picture; *pixels is the caller's. */
static struct vnc_probe *start_showing(struct daemon_proc *d, uint8_t **pixels)
{
	struct daemon_options opts = { .extra_env = irq_env };
	daemon_start(d, &opts);
	*pixels = set_mode(d);
	struct vnc_probe *probe = vnc_probe_connect(d->port, "raw");
	assert_non_null(probe);
	flip_signalled(d, probe, *pixels, 1);
	return probe;
}

static void test_irq_flips_without_polling(void **state)
{
	struct daemon_proc d;
	uint8_t *pixels;
	struct vnc_probe *probe = start_showing(&d, &pixels);
	uint64_t before = primary_queries(&d), start = now_ms();
	const uint64_t flips = 10;
	for (uint32_t seed = 2; seed < 2 + flips; seed++) {
		flip_signalled(&d, probe, pixels, seed);
		usleep(100 * 1000);
	}
	/* One query per event; besides them only the 1 s safety poll, never 60 Hz polling. */
	uint64_t queries = primary_queries(&d) - before;
	uint64_t safety_polls = (now_ms() - start) / 1000 + 1;
	print_message("%llu flips signalled: %llu plane queries\n", (unsigned long long)flips,
		      (unsigned long long)queries);
	assert_true(queries >= flips && queries <= flips + safety_polls);
	assert_int_equal(daemon_log_count(&d, "display updates: on display events"), 1);
	vnc_probe_free(probe);
	assert_int_equal(daemon_stop(&d, SIGTERM), 0);
	assert_int_equal(daemon_report_value(&d, "eventfds_held"), 0);
	free(pixels);
}

/*
 * A mode set whose first three queries fail (mbochs' ENOMEM, then GVT-g's
 * EFAULT twice) reaches the client after one event, well inside the 1 s
 * safety poll: within the deadline at most one safety poll can fire, so
 * only the daemon's own prompt retries can make the other queries.
 */
static void test_mode_change_shows_after_one_irq(void **state)
{
	const uint32_t w = 800, h = 600;
	const int deadline_ms = 900;
	struct daemon_proc d;
	uint8_t *pixels;
	struct vnc_probe *probe = start_showing(&d, &pixels);
	free(pixels);
	pixels = set_mode_size(&d, w, h);
	picture_fill(pixels, w, h, 61);
	assert_int_equal(simctl_flip(d.sim, 1, pixels, (size_t)w * h * 4), 0);
	assert_int_equal(simctl_fault(d.sim, SIM_FAULT_QUERY_ERRNO, EFAULT | 2u << 16), 0);
	uint64_t before = primary_queries(&d), start = now_ms();
	assert_int_equal(simctl_irq(d.sim, PRIMARY_EVENT), 0);
	bool shown = vnc_probe_wait_picture(probe, pixels, w, h, deadline_ms);
	uint64_t took = now_ms() - start, queries = primary_queries(&d) - before;
	print_message("new mode after one event: %s in %llu ms, %llu plane queries\n",
		      shown ? "shown" : "NOT shown", (unsigned long long)took,
		      (unsigned long long)queries);
	assert_true(shown);
	assert_true(queries >= 4);
	/* A moment's failure is no operator's concern: nothing at the default log level. */
	assert_int_equal(daemon_log_count(&d, "querying the primary plane"), 0);
	vnc_probe_free(probe);
	assert_int_equal(daemon_stop(&d, SIGTERM), 0);
	free(pixels);
}

/*
 * GVT-g's EFAULT lasting through a stream of events: clients keep the last
 * picture, the log gets one warning (not one per event or retry) and one
 * line when queries work again, and the new picture then shows.
 */
static void test_lasting_failure_logged_once(void **state)
{
	struct daemon_proc d;
	uint8_t *pixels;
	struct vnc_probe *probe = start_showing(&d, &pixels);
	uint8_t *kept = malloc(W * H * 4);
	assert_non_null(kept);
	memcpy(kept, pixels, W * H * 4);
	assert_int_equal(simctl_fault(d.sim, SIM_FAULT_QUERY_ERRNO, EFAULT | 0xffffu << 16), 0);
	picture_fill(pixels, W, H, 70);
	assert_int_equal(simctl_flip(d.sim, 1, pixels, W * H * 4), 0);
	for (uint64_t start = now_ms(); now_ms() - start < 1500;) {
		assert_int_equal(simctl_irq(d.sim, PRIMARY_EVENT), 0);
		assert_true(vnc_probe_pump(probe, 20));
	}
	assert_true(daemon_wait_log(&d, "querying the primary plane has failed for", 1, 5000));
	assert_true(vnc_probe_matches(probe, kept, W, H));

	assert_int_equal(simctl_fault(d.sim, SIM_FAULT_QUERY_ERRNO, 0), 0);
	assert_int_equal(simctl_irq(d.sim, PRIMARY_EVENT), 0);
	assert_true(vnc_probe_wait_picture(probe, pixels, W, H, 5000));
	assert_int_equal(daemon_log_count(&d, "querying the primary plane"), 1);
	assert_int_equal(daemon_log_count(&d, "primary plane queries work again"), 1);
	vnc_probe_free(probe);
	assert_int_equal(daemon_stop(&d, SIGTERM), 0);
	free(kept);
	free(pixels);
}

static void test_idle_costs_nothing(void **state)
{
	struct daemon_options opts = { .extra_env = irq_env };
	struct daemon_proc d;
	daemon_start(&d, &opts);
	uint8_t *pixels = set_mode(&d);
	/* The harness's readiness probe was a client too: wait until it is gone. */
	assert_true(daemon_wait_log(&d, "no clients: display updates paused", 1, 5000));
	uint64_t before = primary_queries(&d);
	/* No client: events are masked, so they cause no query. */
	for (int i = 0; i < 20; i++)
		assert_int_equal(simctl_irq(d.sim, PRIMARY_EVENT), 0);
	usleep(1500 * 1000);
	assert_int_equal(primary_queries(&d), before);

	/* The first client resumes delivery and gets the picture. */
	picture_fill(pixels, W, H, 3);
	assert_int_equal(simctl_flip(d.sim, 1, pixels, W * H * 4), 0);
	struct vnc_probe *probe = vnc_probe_connect(d.port, "raw");
	assert_non_null(probe);
	assert_int_equal(simctl_irq(d.sim, PRIMARY_EVENT), 0);
	assert_true(vnc_probe_wait_picture(probe, pixels, W, H, 5000));
	vnc_probe_free(probe);
	assert_int_equal(daemon_stop(&d, SIGTERM), 0);
	free(pixels);
}

static void expect_polling(const char *const *env, const char *const *args, const char *why)
{
	struct daemon_options opts = { .extra_env = env, .extra_args = args };
	struct daemon_proc d;
	daemon_start(&d, &opts);
	uint8_t *pixels = set_mode(&d);
	struct vnc_probe *probe = vnc_probe_connect(d.port, "raw");
	assert_non_null(probe);
	for (uint32_t seed = 20; seed < 23; seed++) {
		picture_fill(pixels, W, H, seed);
		/* Not signalled: only polling can find these flips. */
		assert_int_equal(simctl_flip(d.sim, 1, pixels, W * H * 4), 0);
		assert_true(vnc_probe_wait_picture(probe, pixels, W, H, 5000));
	}
	assert_int_equal(daemon_log_count(&d, why), 1);
	vnc_probe_free(probe);
	assert_int_equal(daemon_stop(&d, SIGTERM), 0);
	free(pixels);
}

static void test_fallback_without_irq(void **state)
{
	static const char *const env[] = { "VGPU_SIM_IRQ=none", NULL };
	expect_polling(env, NULL, "polling at 60 Hz (no display-event IRQ)");
}

static void test_fallback_on_malformed_chain(void **state)
{
	static const char *const env[] = { "VGPU_SIM_IRQ=malformed-loop", NULL };
	expect_polling(env, NULL, "polling at 60 Hz (no display-event IRQ)");
}

static void test_display_event_off(void **state)
{
	static const char *const env[] = { "VGPU_SIM_IRQ=display", NULL };
	static const char *const args[] = { "--refresh-hz", "30", NULL };
	/* display_event has no flag: the config file turns it off. */
	char path[] = "/tmp/mdev-vncd-irq-off.XXXXXX.conf";
	int fd = mkstemps(path, 5);
	assert_true(fd >= 0);
	dprintf(fd, "display_event = off\n");
	close(fd);
	const char *const with_config[] = { args[0], args[1], "--config", path, NULL };
	expect_polling(env, with_config, "polling at 30 Hz (display_event = off)");
	unlink(path);
}

static void test_event_storm_is_coalesced(void **state)
{
	struct daemon_options opts = { .extra_env = irq_env };
	struct daemon_proc d;
	daemon_start(&d, &opts);
	uint8_t *pixels = set_mode(&d);
	struct vnc_probe *probe = vnc_probe_connect(d.port, "raw");
	assert_non_null(probe);

	uint64_t queries_before = primary_queries(&d);
	uint64_t start = now_ms();
	struct irq_storm *storm = irq_storm_start(&d, PRIMARY_EVENT);
	/* Through two seconds of storm, every flip still reaches the client. */
	for (uint32_t seed = 30; seed < 50 || now_ms() - start < 2000; seed++) {
		picture_fill(pixels, W, H, seed);
		assert_int_equal(simctl_flip(d.sim, 1, pixels, W * H * 4), 0);
		assert_true(vnc_probe_wait_picture(probe, pixels, W, H, 5000));
	}
	uint64_t sent = irq_storm_stop(storm);
	double seconds = (double)(now_ms() - start) / 1000.0;
	uint64_t queries = primary_queries(&d) - queries_before;
	print_message("storm: %llu events in %.2f s, %llu plane queries (%.0f/s)\n",
		      (unsigned long long)sent, seconds, (unsigned long long)queries,
		      (double)queries / seconds);
	/*
	 * Coalesced to two refreshes per 60 Hz period, plus the 1 s safety poll and timer
	 * slack: far below the thousands of events a second.
	 */
	assert_true((double)queries <= seconds * 130.0 + 10.0);
	assert_true(sent > queries);
	vnc_probe_free(probe);
	assert_int_equal(daemon_stop(&d, SIGTERM), 0);
	free(pixels);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_irq_flips_without_polling),
		cmocka_unit_test(test_mode_change_shows_after_one_irq),
		cmocka_unit_test(test_lasting_failure_logged_once),
		cmocka_unit_test(test_idle_costs_nothing),
		cmocka_unit_test(test_fallback_without_irq),
		cmocka_unit_test(test_fallback_on_malformed_chain),
		cmocka_unit_test(test_display_event_off),
		cmocka_unit_test(test_event_storm_is_coalesced),
	};
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
