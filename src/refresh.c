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
/* Polling: at most 500 queries a second, however high refresh_hz is. */
#define POLL_TICK_MIN_US 2000
/* Polling: queries between reads go on this long after the last flip seen. */
#define QUICK_POLL_HOLD_US 1000000

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
	bool quick;                /* polling: the timer ticks REFRESH_QUERIES_PER_PERIOD a period */
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

static uint64_t poll_tick_us(const struct refresh *r)
{
	uint64_t tick = period_us(r) / REFRESH_QUERIES_PER_PERIOD;
	return tick < POLL_TICK_MIN_US ? POLL_TICK_MIN_US : tick;
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
 * count again. On the polling path the next poll is the retry.
 */
static void run(struct refresh *r, unsigned planes, bool is_retry)
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
	if (again && r->irq && r->active && r->retries < RETRY_MAX)
		schedule_retry(r, again);
}

static void start_timer(struct refresh *r)
{
	struct timeval tv;
	if (r->irq) {
		tv = (struct timeval){ .tv_sec = SAFETY_POLL_SEC };
	} else {
		uint64_t usec = r->quick ? poll_tick_us(r) : period_us(r);
		tv = (struct timeval){ .tv_sec = (time_t)(usec / 1000000),
				       .tv_usec = (suseconds_t)(usec % 1000000) };
	}
	evtimer_add(r->poll_timer, &tv);
}

/*
 * Polling: quick while the guest flipped within the last second; else one
 * tick a period, each a read, so a still picture costs what a plain poll
 * does (the first flip after a still spell waits up to a period, as there).
 */
static void pace_poll(struct refresh *r)
{
	bool quick = now_us() - r->last_flip_us < QUICK_POLL_HOLD_US;
	if (quick == r->quick)
		return;
	r->quick = quick;
	start_timer(r);
}

/*
 * Polling, one tick: a read when one is due whatever the query shows,
 * else the query alone, which reads on a flip (and queries the cursor with
 * it) once the rate cap allows. The timer fires on a fixed schedule: half
 * a tick of slack keeps a late tick from pushing a due read to the next.
 */
static void poll_tick(struct refresh *r)
{
	uint64_t since = now_us() - r->last_run_us + poll_tick_us(r) / 2;
	uint64_t due = r->last_read_flipped ? 2 * period_us(r) : period_us(r);
	if (since >= due) {
		run(r, ALL_PLANES, false);
		return;
	}
	if (since < min_interval_us(r))
		return;
	bool flipped;
	uint64_t queried = now_us();
	r->fn(r->ctx, DISPLAY_EVENT_PRIMARY, DISPLAY_READ_ON_FLIP, &flipped);
	if (!flipped)
		return;
	r->last_run_us = queried;
	r->last_read_flipped = true;
	r->last_flip_us = queried;
	bool unused;
	r->fn(r->ctx, DISPLAY_EVENT_CURSOR, DISPLAY_READ_ALWAYS, &unused);
}

static void on_poll(evutil_socket_t fd, short what, void *arg)
{
	struct refresh *r = arg;
	if (r->irq) {
		run(r, ALL_PLANES, false);
		return;
	}
	poll_tick(r);
	pace_poll(r);
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
	run(r, ALL_PLANES, false);
	r->quick = now_us() - r->last_flip_us < QUICK_POLL_HOLD_US;
	start_timer(r);
}

void refresh_set_rate(struct refresh *r, unsigned hz)
{
	r->hz = hz;
	if (r->active && !r->irq)
		start_timer(r);
}

bool refresh_uses_irq(const struct refresh *r)
{
	return r->irq != NULL;
}
