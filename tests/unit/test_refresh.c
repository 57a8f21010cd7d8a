// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The refresh scheduler under the simulated vGPU: polling at the rate and
 * reading on page flips, nothing while idle, refreshes on display events
 * naming their planes, an event storm coalesced, and a query that failed
 * for a moment retried at once, a bounded number of times.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <event2/event.h>

#include "display_irq.h"
#include "refresh.h"
#include "simctl.h"
#include "sim_child.h"
#include "vfio_device.h"

#define SIM_UUID "4b20d080-1b54-4048-85b3-a6a62d165c01"
#define PRIMARY_EVENT (1ull << 56)
#define CURSOR_EVENT (1ull << 48)

struct fixture {
	struct event_base *base;
	struct vfio_device *dev;
	struct simctl *sim;
	struct refresh *refresh;
	unsigned calls;         /* refreshes with DISPLAY_READ_ALWAYS (a cursor-only one too) */
	unsigned queries;       /* refreshes with DISPLAY_READ_ON_FLIP */
	unsigned flip_reads;    /* those that read the picture because it flipped */
	unsigned last_planes;
	unsigned failures_left; /* primary queries still to fail for a moment */
	bool drawing;           /* the guest's picture changes between any two refreshes */
	bool flip_pending;      /* the guest flipped since the last read */
	bool always_flipping;   /* every query shows a new flip */
	struct timespec flip_read_at;
};

static unsigned on_refresh(void *ctx, unsigned planes, enum display_read read, bool *flipped)
{
	struct fixture *f = ctx;
	*flipped = (planes & DISPLAY_EVENT_PRIMARY) && (f->flip_pending || f->always_flipping);
	if (read == DISPLAY_READ_ON_FLIP) {
		f->queries++;
		if (*flipped) {
			f->flip_reads++;
			clock_gettime(CLOCK_MONOTONIC, &f->flip_read_at);
		}
	} else {
		f->calls++;
		f->last_planes = planes;
	}
	if (*flipped)
		f->flip_pending = false;
	if (!(planes & DISPLAY_EVENT_PRIMARY))
		return 0;
	if (!f->failures_left)
		return f->drawing ? REFRESH_CHANGED : 0;
	f->failures_left--;
	return DISPLAY_EVENT_PRIMARY;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	const char *why;
	f->base = refresh_event_base_new();
	f->sim = simctl_connect(getenv("VGPU_SIM_CONTROL"), 2000);
	if (!f->base || !f->sim || vfio_device_open_uuid(SIM_UUID, &f->dev, &why) < 0)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	refresh_free(f->refresh);
	vfio_device_free(f->dev);
	simctl_free(f->sim);
	event_base_free(f->base);
	free(f);
	return 0;
}

/* Runs the loop for ms milliseconds. */
static void run_for(struct fixture *f, long ms)
{
	struct timeval tv = { .tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000 };
	event_base_loopexit(f->base, &tv);
	event_base_dispatch(f->base);
}

static void test_polls_only_while_active(void **state)
{
	struct fixture *f = *state;
	f->refresh = refresh_new(f->base, f->dev, true, 100, on_refresh, f);
	assert_non_null(f->refresh);
	assert_false(refresh_uses_irq(f->refresh));
	run_for(f, 100);
	assert_int_equal(f->calls, 0);

	refresh_set_active(f->refresh, true);
	assert_int_equal(f->calls, 1); /* at once, for the new client */
	assert_int_equal(f->last_planes, DISPLAY_EVENT_PRIMARY | DISPLAY_EVENT_CURSOR);
	run_for(f, 205);
	/* 100 Hz for ~0.2 s, with slack for a busy machine. */
	assert_in_range(f->calls, 12, 23);

	refresh_set_active(f->refresh, false);
	unsigned calls = f->calls;
	run_for(f, 100);
	assert_int_equal(f->calls, calls);
}

static double ms_between(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) * 1e3 + (double)(b->tv_nsec - a->tv_nsec) / 1e6;
}

/*
 * While the guest flips, a flip is read at the next query (from 3/4 of a
 * period after the last read, every eighth), not at the next period; a
 * second without flips, and the queries between reads stop.
 */
static void test_poll_reads_a_flip_soon(void **state)
{
	struct fixture *f = *state;
	f->refresh = refresh_new(f->base, f->dev, false, 10, on_refresh, f);
	/* The client arrives to a picture the guest just flipped. */
	f->flip_pending = true;
	refresh_set_active(f->refresh, true);
	assert_int_equal(f->calls, 1);
	assert_false(f->flip_pending);
	/* Before the first query (75 ms), far from the next due read (200 ms). */
	run_for(f, 70);
	struct timespec flipped;
	clock_gettime(CLOCK_MONOTONIC, &flipped);
	f->flip_pending = true;
	for (int ms = 0; ms < 1000 && f->flip_pending; ms++)
		run_for(f, 1);
	assert_false(f->flip_pending);
	assert_int_equal(f->flip_reads, 1);
	/* The query at 75 ms, with slack for a busy machine. */
	assert_true(ms_between(&flipped, &f->flip_read_at) < 60.0);
	/* Besides the activation's read, only the cursor's query that goes with the flip's. */
	assert_int_equal(f->calls, 2);
	assert_int_equal(f->last_planes, DISPLAY_EVENT_CURSOR);

	/* A still picture after a second: one read a period (100 ms), no query between. */
	run_for(f, 1300);
	f->calls = 0;
	f->queries = 0;
	run_for(f, 510);
	assert_int_equal(f->queries, 0);
	assert_in_range(f->calls, 3, 6);
}

/*
 * A guest flipping faster than the rate: reads follow the flips, two per
 * period at most, and none is spent on a front buffer between flips.
 */
static void test_poll_follows_flips(void **state)
{
	struct fixture *f = *state;
	f->refresh = refresh_new(f->base, f->dev, false, 25, on_refresh, f);
	f->always_flipping = true;
	refresh_set_active(f->refresh, true);
	f->calls = 0;
	f->flip_reads = 0;
	run_for(f, 410);
	/* Ten periods of 40 ms: at most 4/3 reads each, and a busy machine may skip queries. */
	assert_in_range(f->flip_reads, 8, 21);
	/*
	 * Each flip's read brings one cursor query, and nothing else comes: a
	 * read whatever the query shows waits for two periods without a flip.
	 */
	assert_int_equal(f->calls, f->flip_reads);
	assert_int_equal(f->last_planes, DISPLAY_EVENT_CURSOR);
}

/* At 240 Hz the queries are held 2 ms apart; reads still stay 3/4 of a period apart. */
static void test_poll_reads_capped_at_high_rate(void **state)
{
	struct fixture *f = *state;
	f->refresh = refresh_new(f->base, f->dev, false, 240, on_refresh, f);
	f->always_flipping = true;
	refresh_set_active(f->refresh, true);
	f->flip_reads = 0;
	run_for(f, 500);
	/* 500 ms / 3.1 ms: 160 at most, where 2 ms apart would make 250. */
	assert_in_range(f->flip_reads, 20, 165);
}

static void test_rate_change(void **state)
{
	struct fixture *f = *state;
	f->refresh = refresh_new(f->base, f->dev, true, 200, on_refresh, f);
	refresh_set_active(f->refresh, true);
	refresh_set_rate(f->refresh, 20);
	f->calls = 0;
	run_for(f, 210);
	assert_in_range(f->calls, 2, 6);
}

static void test_events_drive_refreshes(void **state)
{
	struct fixture *f = *state;
	f->refresh = refresh_new(f->base, f->dev, true, 60, on_refresh, f);
	assert_non_null(f->refresh);
	assert_true(refresh_uses_irq(f->refresh));

	/* Idle: the IRQ is masked, events cause nothing. */
	assert_int_equal(simctl_irq(f->sim, PRIMARY_EVENT), 0);
	run_for(f, 50);
	assert_int_equal(f->calls, 0);

	refresh_set_active(f->refresh, true);
	run_for(f, 20);
	/* The activation refresh; the event held while masked may add one. */
	unsigned calls = f->calls;
	assert_in_range(calls, 1, 2);

	/* No events, no refreshes: nothing polls (the safety poll is 1 s away). */
	run_for(f, 200);
	assert_int_equal(f->calls, calls);

	assert_int_equal(simctl_irq(f->sim, CURSOR_EVENT), 0);
	run_for(f, 30);
	assert_int_equal(f->calls, calls + 1);
	assert_int_equal(f->last_planes, DISPLAY_EVENT_CURSOR);

	usleep(20 * 1000);
	assert_int_equal(simctl_irq(f->sim, PRIMARY_EVENT), 0);
	run_for(f, 30);
	assert_int_equal(f->calls, calls + 2);
	assert_int_equal(f->last_planes, DISPLAY_EVENT_PRIMARY);
}

static void test_storm_is_coalesced(void **state)
{
	struct fixture *f = *state;
	f->refresh = refresh_new(f->base, f->dev, true, 60, on_refresh, f);
	refresh_set_active(f->refresh, true);
	run_for(f, 20);
	f->calls = 0;
	struct timespec start, now;
	clock_gettime(CLOCK_MONOTONIC, &start);
	unsigned events = 0;
	do {
		simctl_irq(f->sim, PRIMARY_EVENT);
		events++;
		event_base_loop(f->base, EVLOOP_NONBLOCK);
		clock_gettime(CLOCK_MONOTONIC, &now);
	} while ((now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000 < 500);
	run_for(f, 20);
	/* At most two refreshes per 60 Hz period: ~60 in 0.5 s, however many events came. */
	assert_true(events > 200);
	assert_in_range(f->calls, 20, 64);
}

/* A client arrives while the next `failures` primary queries fail for a moment. */
static void activate_failing(struct fixture *f, bool use_irq, unsigned hz, unsigned failures)
{
	f->refresh = refresh_new(f->base, f->dev, use_irq, hz, on_refresh, f);
	assert_non_null(f->refresh);
	assert_int_equal(refresh_uses_irq(f->refresh), use_irq);
	f->failures_left = failures;
	refresh_set_active(f->refresh, true);
	assert_int_equal(f->calls, 1);
}

/* A mode set's failed query is retried within milliseconds, not at the 1 s safety poll. */
static void test_failed_query_retried_at_once(void **state)
{
	struct fixture *f = *state;
	activate_failing(f, true, 60, 3);
	/* Far below the safety poll: only the retries can make these calls. */
	run_for(f, 300);
	assert_int_equal(f->failures_left, 0);
	assert_int_equal(f->calls, 4);
	assert_int_equal(f->last_planes, DISPLAY_EVENT_PRIMARY);

	/* The same after an event: one failure, one retry. */
	f->failures_left = 1;
	assert_int_equal(simctl_irq(f->sim, PRIMARY_EVENT), 0);
	run_for(f, 300);
	assert_int_equal(f->failures_left, 0);
	assert_int_equal(f->calls, 6);
}

/* A failure that lasts gets a few retries, then waits for events and the safety poll. */
static void test_retries_are_bounded(void **state)
{
	struct fixture *f = *state;
	activate_failing(f, true, 60, 1000);
	run_for(f, 300);
	unsigned calls = f->calls;
	assert_in_range(calls, 3, 10);
	run_for(f, 300);
	assert_int_equal(f->calls, calls);

	/* Going idle drops a pending retry. */
	f->calls = 0;
	assert_int_equal(simctl_irq(f->sim, PRIMARY_EVENT), 0);
	for (int ms = 0; ms < 5000 && !f->calls; ms++)
		run_for(f, 1);
	/* The event's refresh, and perhaps its first retry: more are still due. */
	calls = f->calls;
	assert_in_range(calls, 1, 2);
	refresh_set_active(f->refresh, false);
	run_for(f, 200);
	assert_int_equal(f->calls, calls);
}

/* Polling needs no retries: the next poll is one. */
static void test_polling_does_not_retry(void **state)
{
	struct fixture *f = *state;
	activate_failing(f, false, 5, 1000);
	run_for(f, 100);
	assert_int_equal(f->calls, 1);
}

static void test_display_event_off_polls(void **state)
{
	struct fixture *f = *state;
	f->refresh = refresh_new(f->base, f->dev, false, 100, on_refresh, f);
	assert_false(refresh_uses_irq(f->refresh));
	refresh_set_active(f->refresh, true);
	run_for(f, 105);
	assert_in_range(f->calls, 6, 13);
}

/* Refreshes in ms of the loop. */
static unsigned calls_in(struct fixture *f, long ms)
{
	unsigned before = f->calls;
	run_for(f, ms);
	return f->calls - before;
}

/*
 * A guest that draws without events: the safety poll finds the change and
 * polling at the refresh rate takes over; the next event hands back.
 */
static void test_silent_changes_turn_to_polling(void **state)
{
	struct fixture *f = *state;
	f->refresh = refresh_new(f->base, f->dev, true, 60, on_refresh, f);
	refresh_set_active(f->refresh, true);
	f->drawing = true;
	run_for(f, 1100);
	assert_in_range(calls_in(f, 500), 20, 40);
	assert_int_equal(simctl_irq(f->sim, PRIMARY_EVENT), 0);
	run_for(f, 30);
	assert_in_range(calls_in(f, 500), 0, 1);
}

/* Changes the events announce keep the daemon on events, however often the poll sees one. */
static void test_announced_changes_keep_events(void **state)
{
	struct fixture *f = *state;
	f->refresh = refresh_new(f->base, f->dev, true, 60, on_refresh, f);
	refresh_set_active(f->refresh, true);
	f->drawing = true;
	for (int i = 0; i < 25; i++) {
		assert_int_equal(simctl_irq(f->sim, PRIMARY_EVENT), 0);
		run_for(f, 100);
	}
	f->drawing = false;
	assert_in_range(calls_in(f, 500), 0, 1);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
static const struct CMUnitTest poll_tests[] = {
	T(test_polls_only_while_active),
	T(test_rate_change),
	T(test_poll_reads_a_flip_soon),
	T(test_poll_follows_flips),
	T(test_poll_reads_capped_at_high_rate),
};
static const struct CMUnitTest irq_tests[] = {
	T(test_events_drive_refreshes),
	T(test_storm_is_coalesced),
	T(test_failed_query_retried_at_once),
	T(test_retries_are_bounded),
	T(test_polling_does_not_retry),
	T(test_display_event_off_polls),
	T(test_silent_changes_turn_to_polling),
	T(test_announced_changes_keep_events),
};

#define RUN(name, mode, tests) \
	{ name, (const char *const[]){ "VGPU_SIM_IRQ=" mode, NULL }, SIM_CHILD_TESTS(tests) }
static const struct sim_child_run runs[] = {
	RUN("poll", "none", poll_tests),
	RUN("irq", "display", irq_tests),
};

int main(void)
{
	return sim_child_main(runs, sizeof(runs) / sizeof(runs[0]));
}
