// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The fault table of issue 12, its display-IRQ rows (fault_bed.c has the
 * checks every row ends with): the eventfd failing to read, once and
 * without end; a storm of thousands of events a second; and events that
 * stop while the guest keeps drawing. Each time the clients keep seeing the
 * guest's pictures, the daemon neither spins nor logs per event, and once
 * the fault ends it is back on events. The gvt personality runs it too;
 * mbochs has no display IRQ.
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
#include <cmocka.h>

#include "fault_bed.h"

#define W FAULT_W
#define H FAULT_H
/* How long a lasting fault lasts. */
#define LASTING_MS 2000
/* The safety poll's period (src/refresh.c): the slowest the daemon looks without events. */
#define SAFETY_POLL_MS 1000

static const char *const irq_env[] = { "VGPU_SIM_IRQ=display", NULL };

static uint64_t primary_queries(struct fault_bed *b)
{
	return fault_bed_stats(b).query_primary;
}

/* Primary-plane queries the daemon makes in ms of an idle guest. */
static uint64_t queries_in(struct fault_bed *b, int ms)
{
	uint64_t before = primary_queries(b);
	fault_bed_watch(b, ms);
	return primary_queries(b) - before;
}

/*
 * Back on events: with the guest idle the daemon queries at the safety poll
 * alone, where polling would make sixty a second.
 */
static void wait_back_on_events(struct fault_bed *b)
{
	uint64_t deadline = now_ms() + FAULT_DEADLINE_MS;
	while (queries_in(b, SAFETY_POLL_MS) > 3)
		if (now_ms() > deadline)
			fail_msg("the daemon still polls after the fault ended");
}

static void fault_read(struct fault_bed *b, int err, unsigned count)
{
	assert_int_equal(simctl_fault(b->d.sim, SIM_FAULT_IRQ_READ_ERRNO, (uint32_t)err | count << 16),
			 0);
}

static void row_done(struct fault_bed *b, const struct fault_mark *mark, const char *name,
		     int warnings)
{
	fault_bed_guest_shows(b);
	wait_back_on_events(b);
	fault_bed_row_done(b, mark, name, warnings);
}

/* One read fails: the pictures go on by polling, and events take over again. */
static void read_fails_once(struct fault_bed *b)
{
	struct fault_mark mark = fault_bed_mark(b);
	fault_read(b, EIO, 1);
	fault_bed_show(b, W, H);
	fault_bed_wait_injected(b, &mark, 1);
	row_done(b, &mark, "display eventfd read EIO, once", 1);
}

/*
 * Every read fails: the eventfd stays readable, so a daemon that kept
 * watching it would read it in a loop, thousands of times a second. It is
 * tried again once a safety period, and the pictures go on meanwhile.
 */
static void read_fails_lasting(struct fault_bed *b)
{
	struct fault_mark mark = fault_bed_mark(b);
	fault_read(b, EIO, SIM_FAULT_COUNT_ENDLESS);
	uint64_t start = now_ms();
	int pictures = 0;
	for (; now_ms() - start < LASTING_MS; pictures++)
		fault_bed_show(b, W, H);
	double seconds = (double)(now_ms() - start) / 1000.0;
	uint64_t reads = fault_bed_stats(b).injected_failures - mark.stats.injected_failures;
	fault_read(b, 0, 0);
	print_message("eventfd failing %.1f s: %d pictures shown, %llu reads tried\n", seconds,
		      pictures, (unsigned long long)reads);
	assert_true(reads >= 1);
	assert_true((double)reads <= seconds * 2.0 + 3.0);
	row_done(b, &mark, "display eventfd read EIO, lasting", 1);
}

/* Thousands of events a second: refreshes stay capped, nothing is logged, pictures go on. */
static void storm(struct fault_bed *b)
{
	struct fault_mark mark = fault_bed_mark(b);
	uint64_t start = now_ms();
	struct irq_storm *s = irq_storm_start(&b->d, FAULT_PRIMARY_EVENT);
	while (now_ms() - start < LASTING_MS)
		fault_bed_show(b, W, H);
	uint64_t sent = irq_storm_stop(s);
	double seconds = (double)(now_ms() - start) / 1000.0;
	uint64_t queries = primary_queries(b) - mark.stats.query_primary;
	int lines = fault_bed_lines(b) - mark.lines;
	print_message("storm: %.0f events/s, %.0f plane queries/s, %d line(s) logged\n",
		      (double)sent / seconds, (double)queries / seconds, lines);
	/* Two refreshes per 60 Hz period at most, the safety poll and timer slack. */
	assert_true((double)queries <= seconds * 130.0 + 10.0);
	assert_true((double)sent >= seconds * 1000.0);
	assert_int_equal(lines, 0);
	row_done(b, &mark, "display IRQ storm", 0);
}

/*
 * The guest keeps drawing with no events: the safety poll finds it, says so
 * once and polls at the refresh rate until events come again.
 */
static void events_stop(struct fault_bed *b)
{
	struct fault_mark mark = fault_bed_mark(b);
	b->signalled = false;
	uint64_t start = now_ms();
	while (now_ms() - start < LASTING_MS + SAFETY_POLL_MS)
		fault_bed_show(b, W, H);
	uint64_t polled = queries_in(b, SAFETY_POLL_MS);
	print_message("events stopped: %llu plane queries in the next second\n",
		      (unsigned long long)polled);
	assert_true(polled >= 30);
	b->signalled = true;
	row_done(b, &mark, "display IRQ stops firing", 1);
}

static void test_irq_faults(void **state)
{
	struct fault_bed b;
	fault_bed_start(&b, irq_env, true);
	wait_back_on_events(&b);
	read_fails_once(&b);
	read_fails_lasting(&b);
	storm(&b);
	events_stop(&b);
	fault_bed_stop(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_irq_faults),
	};
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
