// SPDX-License-Identifier: GPL-2.0-or-later
#include "refresh.h"

#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <event2/event.h>

#include "display_irq.h"
#include "log.h"

#define ALL_PLANES (DISPLAY_EVENT_PRIMARY | DISPLAY_EVENT_CURSOR)
/* Catches a guest whose events stopped (driver changed) while clients watch. */
#define SAFETY_POLL_SEC 1
/*
 * A query that failed for a moment (a mode set in progress) is tried again
 * after 2, 4, ... 64 ms, 126 ms in all, rather than waiting for the next
 * event or the safety poll: mbochs answers the second query, GVT-g within
 * a frame or two.
 */
#define RETRY_FIRST_MS 2
#define RETRY_MAX 6
/* Polling: queries between reads go on this long after the last flip seen. */
#define QUICK_POLL_HOLD_US 1000000
/* Polling: at most 500 queries a second, however high refresh_hz is. */
#define QUERY_STEP_MIN_US 2000

struct refresh {
	struct event_base *base;
	refresh_fn *fn;
	void *ctx;
	unsigned hz;
	bool active;
	struct display_irq *irq;   /* NULL: polling */
	struct event *poll_timer;  /* polling: the query tick; IRQ: the slow safety poll */
	struct event *defer_timer; /* IRQ: a coalesced refresh waiting for the rate cap */
	struct event *retry_timer; /* IRQ: planes whose query failed for a moment, tried again */
	unsigned pending;          /* planes named by events not yet refreshed */
	unsigned retry_planes;     /* planes the retry timer will query */
	unsigned retries;          /* retries since the last run that was not one */
	uint64_t last_run_us;      /* the last run that read the picture */
	bool last_read_flipped;    /* polling: that read followed a page flip */
	uint64_t last_flip_us;     /* polling: the last read that did */
	bool quick;                /* polling: querying between reads (the guest flips) */
	/*
	 * IRQ: events stopped coming, or the eventfd failed; the poll timer then
	 * runs at the refresh rate until an event arrives again.
	 */
	bool events_down;
	unsigned events_since_poll; /* events since the last safety poll */
	uint64_t rearm_at_us;       /* events_down: when to watch a failed eventfd again */
};

static uint64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static uint64_t period_us(const struct refresh *r)
{
	return 1000000 / (uint64_t)r->hz;
}

/* Events may come faster than any client takes frames: two refreshes per period at most. */
static uint64_t min_interval_us(const struct refresh *r)
{
	return period_us(r) / 2;
}

/* Polling while the guest flips: the spacing of the queries. */
static uint64_t query_step_us(const struct refresh *r)
{
	uint64_t step = period_us(r) / REFRESH_QUERY_STEPS;
	return step < QUERY_STEP_MIN_US ? QUERY_STEP_MIN_US : step;
}

/* A read due whatever the query shows: after two periods without a flip while it flips. */
static uint64_t read_due_us(const struct refresh *r)
{
	return r->last_run_us + (r->last_read_flipped ? 2 : 1) * period_us(r);
}

static void schedule_retry(struct refresh *r, unsigned planes)
{
	long ms = RETRY_FIRST_MS << r->retries;
	struct timeval tv = { .tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000 };
	r->retries++;
	r->retry_planes = planes;
	evtimer_add(r->retry_timer, &tv);
}

/*
 * Any run also does what a deferred refresh or a pending retry would have.
 * Retries back off and stop after RETRY_MAX; an event or a poll starts the
 * count again. On the polling path the next poll is the retry. Returns
 * whether the primary plane's picture changed.
 */
static bool run(struct refresh *r, unsigned planes, bool is_retry)
{
	planes |= r->pending | r->retry_planes;
	r->pending = 0;
	r->retry_planes = 0;
	event_del(r->defer_timer);
	event_del(r->retry_timer);
	if (!is_retry)
		r->retries = 0;
	r->last_run_us = now_us();
	unsigned again = r->fn(r->ctx, planes, DISPLAY_READ_ALWAYS, &r->last_read_flipped);
	if (r->last_read_flipped)
		r->last_flip_us = r->last_run_us;
	bool changed = again & REFRESH_CHANGED;
	again &= ~REFRESH_CHANGED;
	if (again && r->irq && r->active && r->retries < RETRY_MAX)
		schedule_retry(r, again);
	return changed;
}

static void arm_poll_timer(struct refresh *r, uint64_t usec)
{
	struct timeval tv = { .tv_sec = (time_t)(usec / 1000000),
			      .tv_usec = (suseconds_t)(usec % 1000000) };
	evtimer_add(r->poll_timer, &tv);
}

/*
 * Polling while the guest flips: the next query, on a grid of steps from
 * the last read, starting REFRESH_QUERY_LEAD steps of a period (a step
 * unless the step is held at its minimum) before a period has passed, so
 * reads stay 3/4 of a period apart. A flip read at a query comes at most a
 * step after the flip, so the next flip of a guest at the refresh rate
 * lands between the same two queries of the next period: the queries stay
 * phased to the guest's flips with a step of latency at most, however the
 * two clocks drift. At the latest the read due whatever the query shows.
 */
static uint64_t next_query_us(const struct refresh *r, uint64_t now)
{
	uint64_t step = query_step_us(r), period = period_us(r);
	uint64_t at = r->last_run_us + period - REFRESH_QUERY_LEAD * period / REFRESH_QUERY_STEPS;
	if (at <= now)
		at += ((now - at) / step + 1) * step;
	uint64_t due = read_due_us(r);
	return at < due ? at : due;
}

/*
 * Polling: queries while the guest flipped within the last second; else a
 * persistent timer, one tick and one read a period, so a still picture
 * costs what a plain poll does (and the first flip after a still spell
 * waits up to a period, as there).
 */
static void schedule_poll(struct refresh *r)
{
	uint64_t now = now_us();
	bool quick = now - r->last_flip_us < QUICK_POLL_HOLD_US;
	if (quick) {
		uint64_t at = next_query_us(r, now);
		arm_poll_timer(r, at > now ? at - now : 0);
	} else if (r->quick || !evtimer_pending(r->poll_timer, NULL)) {
		arm_poll_timer(r, period_us(r));
	}
	r->quick = quick;
}

static void start_timer(struct refresh *r)
{
	if (r->irq) {
		/* Events stopped: a plain poll at the refresh rate until they come again. */
		arm_poll_timer(r, r->events_down ? period_us(r) : (uint64_t)SAFETY_POLL_SEC * 1000000);
		return;
	}
	event_del(r->poll_timer);
	schedule_poll(r);
}

/* why: NULL when the IRQ module said it already. */
static void events_lost(struct refresh *r, const char *why)
{
	r->events_down = true;
	r->rearm_at_us = now_us() + SAFETY_POLL_SEC * 1000000ull;
	if (why)
		log_warning("display events stopped: %s; polling at %u Hz until they come again",
			    why, r->hz);
	start_timer(r);
}

static void events_back(struct refresh *r)
{
	r->events_down = false;
	log_info("display events come again: refreshing on events, safety poll every %d s",
		 SAFETY_POLL_SEC);
	start_timer(r);
}

/*
 * Polling, one tick: a read on every tick of the slow timer, and when one
 * is due whatever the query shows (half a step of slack for a timer firing
 * a little early); else the query alone, which reads on a flip and queries
 * the cursor with it.
 */
static void poll_tick(struct refresh *r)
{
	uint64_t now = now_us();
	if (!r->quick || now + query_step_us(r) / 2 >= read_due_us(r)) {
		run(r, ALL_PLANES, false);
		return;
	}
	bool flipped;
	r->fn(r->ctx, DISPLAY_EVENT_PRIMARY, DISPLAY_READ_ON_FLIP, &flipped);
	if (!flipped)
		return;
	r->last_run_us = now;
	r->last_read_flipped = true;
	r->last_flip_us = now;
	bool unused;
	r->fn(r->ctx, DISPLAY_EVENT_CURSOR, DISPLAY_READ_ALWAYS, &unused);
}

/*
 * Polling: a tick (poll_tick). IRQ: the safety poll; a new picture with no
 * event since the last poll means the guest's events stopped (its driver
 * changed, or the device's IRQ broke), and polling takes over. While it
 * has, a failed eventfd is tried again once in a safety period.
 */
static void on_poll(evutil_socket_t fd, short what, void *arg)
{
	struct refresh *r = arg;
	if (!r->irq) {
		poll_tick(r);
		schedule_poll(r);
		return;
	}
	bool changed = run(r, ALL_PLANES, false);
	if (r->events_down) {
		if (now_us() >= r->rearm_at_us) {
			r->rearm_at_us = now_us() + SAFETY_POLL_SEC * 1000000ull;
			display_irq_rearm(r->irq);
		}
		return;
	}
	bool silent = r->events_since_poll == 0;
	r->events_since_poll = 0;
	if (changed && silent)
		events_lost(r, "the safety poll found a new picture that no event announced");
}

static void on_deferred(evutil_socket_t fd, short what, void *arg)
{
	run(arg, 0, false);
}

static void on_retry(evutil_socket_t fd, short what, void *arg)
{
	run(arg, 0, true);
}

static void on_display_event(void *ctx, unsigned planes)
{
	struct refresh *r = ctx;
	if (!r->active)
		return;
	if (planes & DISPLAY_EVENT_FAILED) {
		if (!r->events_down)
			events_lost(r, NULL);
		/* What the failed read held is lost: look at every plane now. */
		run(r, ALL_PLANES, false);
		return;
	}
	r->events_since_poll++;
	if (r->events_down)
		events_back(r);
	r->pending |= planes;
	if (evtimer_pending(r->defer_timer, NULL))
		return;
	uint64_t elapsed = now_us() - r->last_run_us;
	uint64_t wait = min_interval_us(r);
	if (elapsed >= wait) {
		run(r, 0, false);
		return;
	}
	struct timeval tv = { .tv_sec = 0, .tv_usec = (suseconds_t)(wait - elapsed) };
	evtimer_add(r->defer_timer, &tv);
}

/*
 * libevent keeps time with the coarse monotonic clock by default (4 ms
 * steps here), so a 60 Hz poll wandered between 14 and 21 ms and dropped
 * frames of a 60 fps guest.
 */
struct event_base *refresh_event_base_new(void)
{
	struct event_config *cfg = event_config_new();
	if (!cfg)
		return NULL;
	struct event_base *base = NULL;
	if (event_config_set_flag(cfg, EVENT_BASE_FLAG_PRECISE_TIMER) == 0)
		base = event_base_new_with_config(cfg);
	event_config_free(cfg);
	return base;
}

struct refresh *refresh_new(struct event_base *base, struct vfio_device *dev, bool use_irq,
			    unsigned hz, refresh_fn *fn, void *ctx)
{
	struct refresh *r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->base = base;
	r->fn = fn;
	r->ctx = ctx;
	r->hz = hz;
	r->poll_timer = event_new(base, -1, EV_PERSIST, on_poll, r);
	r->defer_timer = evtimer_new(base, on_deferred, r);
	r->retry_timer = evtimer_new(base, on_retry, r);
	if (!r->poll_timer || !r->defer_timer || !r->retry_timer) {
		refresh_free(r);
		return NULL;
	}

	if (!use_irq) {
		log_info("display updates: polling at %u Hz (display_event = off)", hz);
		return r;
	}
	/* display_irq_open logs why when the device has no usable IRQ. */
	if (display_irq_open(dev, base, on_display_event, r, &r->irq) < 0) {
		r->irq = NULL;
		log_info("display updates: polling at %u Hz (no display-event IRQ)", hz);
		return r;
	}
	/* Nobody watches yet: hold events back until the first client. */
	display_irq_set_masked(r->irq, true);
	log_info("display updates: on display events, safety poll every %d s", SAFETY_POLL_SEC);
	return r;
}

void refresh_free(struct refresh *r)
{
	if (!r)
		return;
	display_irq_free(r->irq);
	if (r->poll_timer)
		event_free(r->poll_timer);
	if (r->defer_timer)
		event_free(r->defer_timer);
	if (r->retry_timer)
		event_free(r->retry_timer);
	free(r);
}

void refresh_set_active(struct refresh *r, bool active)
{
	if (active == r->active)
		return;
	r->active = active;
	if (!active) {
		event_del(r->poll_timer);
		event_del(r->defer_timer);
		event_del(r->retry_timer);
		r->retry_planes = 0;
		if (r->irq)
			display_irq_set_masked(r->irq, true);
		return;
	}
	if (r->irq)
		display_irq_set_masked(r->irq, false);
	r->events_since_poll = 0;
	run(r, ALL_PLANES, false);
	start_timer(r);
}

void refresh_set_rate(struct refresh *r, unsigned hz)
{
	r->hz = hz;
	if (r->active && (!r->irq || r->events_down))
		start_timer(r);
}

bool refresh_uses_irq(const struct refresh *r)
{
	return r->irq != NULL;
}
