// SPDX-License-Identifier: GPL-2.0-or-later
#include "fault_bed.h"

#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <drm_fourcc.h>

#include "proc_stats.h"

/*
 * The daemon's allocator is told to map every block of 128 KiB or more on
 * its own (a fixed mmap threshold): frames, the diff's copy of the last one
 * and libvncserver's framebuffer go back to the kernel when freed, so a
 * frame still held shows in RssAnon. glibc's default raises the threshold
 * after each large free and keeps freed frames in its heap: going 640x480 ->
 * 800x600 and back, RssAnon rose by three 800x600 frames, by more with two
 * tests running side by side, without any leak.
 */
static const char fixed_mmap_threshold[] = "MALLOC_MMAP_THRESHOLD_=131072";

/*
 * How far RssAnon (the daemon's private memory; its shared mappings of the
 * guest's buffers are the id cache's, which the fd check covers) may stay
 * above the baseline after a row: the heap's small blocks, fragmented by
 * the client threads' arenas, and a page of a frame's last tile rows. A
 * frame held per row, or anything held per frame (120 frames a lasting row,
 * 1800 for a switched-off plane), exceeds it within a row or two.
 */
#define RSS_SLACK_KB 1024

/* ASan's quarantine and valgrind keep freed memory by design; they check leaks themselves. */
static bool rss_comparable(void)
{
#ifdef MDEV_VNCD_SANITIZED
	return false;
#else
	return !getenv("E2E_DAEMON_WRAPPER");
#endif
}

void fault_bed_set_mode(struct fault_bed *b, uint32_t w, uint32_t h)
{
	const struct sim_plane_desc desc = {
		.fourcc = DRM_FORMAT_XRGB8888, .width = w, .height = h, .stride = w * 4,
		.size = w * h * 4,
	};
	assert_int_equal(simctl_set_plane(b->d.sim, 1, &desc), 0);
}

bool fault_bed_clients_show(struct fault_bed *b, const uint8_t *expected, uint32_t w, uint32_t h)
{
	for (int i = 0; i < 2; i++)
		if (!vnc_probe_wait_picture(b->probe[i], expected, w, h, FAULT_DEADLINE_MS))
			return false;
	return true;
}

void fault_bed_show(struct fault_bed *b, uint32_t w, uint32_t h)
{
	assert_true((size_t)w * h <= FAULT_MAX_PICTURE);
	picture_fill(b->pixels, w, h, ++b->seed);
	assert_int_equal(simctl_write(b->d.sim, 1, 0, b->pixels, (size_t)w * h * 4), 0);
	if (b->signalled)
		assert_int_equal(simctl_irq(b->d.sim, FAULT_PRIMARY_EVENT), 0);
	assert_true(fault_bed_clients_show(b, b->pixels, w, h));
}

void fault_bed_guest_shows(struct fault_bed *b)
{
	fault_bed_set_mode(b, FAULT_W, FAULT_H);
	fault_bed_show(b, FAULT_W, FAULT_H);
}

void fault_bed_watch(struct fault_bed *b, int ms)
{
	for (uint64_t start = now_ms(); now_ms() - start < (uint64_t)ms;)
		for (int i = 0; i < 2; i++)
			assert_true(vnc_probe_pump(b->probe[i], 10));
}

struct sim_stats fault_bed_stats(struct fault_bed *b)
{
	struct sim_stats s;
	assert_int_equal(simctl_stats(b->d.sim, &s), 0);
	return s;
}

int fault_bed_warnings(const struct fault_bed *b)
{
	return daemon_log_count(&b->d, "<4>e2e: ") + daemon_log_count(&b->d, "<3>e2e: ");
}

int fault_bed_lines(const struct fault_bed *b)
{
	return daemon_log_count(&b->d, "e2e: ");
}

void fault_bed_wait_injected(struct fault_bed *b, const struct fault_mark *mark, unsigned n)
{
	uint64_t deadline = now_ms() + FAULT_DEADLINE_MS;
	while (fault_bed_stats(b).injected_failures < mark->stats.injected_failures + n) {
		if (now_ms() > deadline)
			fail_msg("the daemon met %llu of the %u failures injected",
				 (unsigned long long)(fault_bed_stats(b).injected_failures -
						      mark->stats.injected_failures), n);
		fault_bed_watch(b, 20);
	}
}

struct fault_mark fault_bed_mark(struct fault_bed *b)
{
	return (struct fault_mark){
		.start_ms = now_ms(),
		.warnings = fault_bed_warnings(b),
		.lines = fault_bed_lines(b),
		.stats = fault_bed_stats(b),
	};
}

static struct fault_usage usage(const struct fault_bed *b)
{
	return (struct fault_usage){
		.fds = daemon_fds_beside_sim(&b->d),
		.threads = daemon_proc_entries(&b->d, "task"),
		.rss_anon_kb = proc_status_field_kb(b->d.pid, "RssAnon"),
	};
}

/* Clients' threads are joined and their memory freed a loop turn after they go. */
static bool wait_usage_back(struct fault_bed *b, struct fault_usage *now)
{
	uint64_t deadline = now_ms() + FAULT_DEADLINE_MS;
	for (;;) {
		*now = usage(b);
		if (now->fds == b->baseline.fds && now->threads == b->baseline.threads &&
		    (!rss_comparable() ||
		     now->rss_anon_kb <= b->baseline.rss_anon_kb + RSS_SLACK_KB))
			return true;
		if (now_ms() > deadline)
			return false;
		fault_bed_watch(b, 20);
	}
}

void fault_bed_row_done(struct fault_bed *b, const struct fault_mark *mark, const char *name,
			int warnings)
{
	int logged = fault_bed_warnings(b) - mark->warnings;
	struct fault_usage now;
	bool back = wait_usage_back(b, &now);
	struct sim_stats s = fault_bed_stats(b);
	print_message("%-44s %5llu ms, %d warning(s), RssAnon %+ld kB, %u dmabuf fds held\n", name,
		      (unsigned long long)(now_ms() - mark->start_ms), logged,
		      now.rss_anon_kb - b->baseline.rss_anon_kb, s.open_dmabuf_fds);
	if (logged != warnings)
		fail_msg("%s: %d warnings logged, expected %d", name, logged, warnings);
	if (!back)
		fail_msg("%s: the daemon holds %d fds beside the sim's (were %d), %d threads (were "
			 "%d), RssAnon %ld kB (was %ld, slack %d)", name, now.fds, b->baseline.fds,
			 now.threads, b->baseline.threads, now.rss_anon_kb,
			 b->baseline.rss_anon_kb, RSS_SLACK_KB);
	/* GVT-g frees an id with its last fd: fetching it again later is how it is used. */
	if (!sim_driver_is("gvt") &&
	    s.dmabuf_refetch_after_close != mark->stats.dmabuf_refetch_after_close)
		fail_msg("%s: an id was fetched again after its fd was closed", name);
}

void fault_bed_start(struct fault_bed *b, const char *const *env, bool signalled)
{
	memset(b, 0, sizeof(*b));
	b->seed = 100;
	b->signalled = signalled;
	const char *daemon_env[8] = { fixed_mmap_threshold };
	for (size_t i = 1; env && *env && i < 7; i++)
		daemon_env[i] = *env++;
	/* The CPU path alone: with import = auto a refused map goes on to the GPU, if it can. */
	char config[] = "/tmp/mdev-vncd-faults.XXXXXX.conf";
	int fd = mkstemps(config, 5);
	assert_true(fd >= 0);
	dprintf(fd, "import = mmap\n");
	close(fd);
	const char *const args[] = { "--config", config, NULL };
	const struct daemon_options opts = { .extra_args = args, .extra_env = daemon_env };
	daemon_start(&b->d, &opts);
	unlink(config);
	b->pixels = malloc((size_t)FAULT_MAX_PICTURE * 4);
	assert_non_null(b->pixels);
	for (int i = 0; i < 2; i++) {
		b->probe[i] = vnc_probe_connect(b->d.port, "raw");
		assert_non_null(b->probe[i]);
	}
	fault_bed_guest_shows(b);
	b->baseline = usage(b);
	if (!rss_comparable())
		print_message("RssAnon is not compared under a sanitizer or valgrind\n");
}

void fault_bed_stop(struct fault_bed *b)
{
	for (int i = 0; i < 2; i++)
		vnc_probe_free(b->probe[i]);
	assert_int_equal(daemon_stop(&b->d, SIGTERM), 0);
	assert_int_equal(daemon_report_value(&b->d, "open_sim_fds"), 0);
	free(b->pixels);
}
