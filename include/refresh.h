/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef MDEV_VNCD_REFRESH_H
#define MDEV_VNCD_REFRESH_H

#include <stdbool.h>

#include "display.h"

struct event_base;
struct vfio_device;

/*
 * When to run the display pipeline. With the device's display-event IRQ,
 * a refresh follows each event (coalesced to at most two per refresh
 * period, so an event storm cannot starve the clients) and a slow safety
 * poll catches events that stop coming.
 *
 * Without it, the display is read once a period, unless the guest
 * page-flips. A poll reading at the guest's own rate loses every frame
 * whose flip lands in the same period as the next one (a guest's frame
 * times jitter). So while the guest flips (a flip seen within the last
 * second), the primary plane is queried (an ioctl) every
 * 1/REFRESH_QUERY_STEPS of a period from REFRESH_QUERY_LEAD steps before a
 * period has passed since the last read, and its picture read when the
 * query shows a flip: for a guest flipping at the refresh rate, 3 queries
 * a frame, phased to its flips, an eighth of a period of latency at most,
 * and no frame lost while its flips come at least 3/4 of a period apart (a
 * 60 fps guest's frame times may jitter by 2 ms either way); 4/3 reads a
 * period at most. Its front buffer, not drawn into between flips, is read
 * whatever the query shows only after two periods without a flip; a guest
 * that does not flip (it draws in place) is read every period, the timer
 * ticking once a period: a still picture costs one wakeup and one read a
 * period, as a plain poll does, and the first flip after a still spell
 * waits up to a period, as there.
 *
 * With no client watching, nothing runs: the IRQ is masked or the timer
 * stopped, so an idle VM costs no wakeups.
 */
struct refresh;

#define REFRESH_QUERY_STEPS 8
#define REFRESH_QUERY_LEAD 2

/*
 * Queries these planes (DISPLAY_EVENT_* of display_irq.h); the primary
 * plane's picture is read as `read` says, and *flipped tells whether its
 * query showed another buffer or layout than the last picture read (see
 * display_poll). Returns the planes whose query failed for a moment (a
 * mode set in progress), 0 when done: on the IRQ path they are tried again
 * within milliseconds, backing off, a bounded number of times, before the
 * safety poll takes over; polling, the next query is the retry.
 */
typedef unsigned refresh_fn(void *ctx, unsigned planes, enum display_read read, bool *flipped);
/*
 * Or'ed into refresh_fn's answer when the primary plane's picture changed:
 * a change the safety poll finds with no event since the last one means
 * events stopped, and polling at the refresh rate takes over (said once)
 * until an event comes again.
 */
#define REFRESH_CHANGED (1u << 8)

/*
 * An event base whose timers keep time to the microsecond
 * (EVENT_BASE_FLAG_PRECISE_TIMER), as a poll at the guest's frame rate
 * needs; the caller owns it (event_base_free). NULL if out of memory.
 */
struct event_base *refresh_event_base_new(void);

/*
 * Tries the IRQ when use_irq, else (or when that fails) polls; logs the mode
 * chosen. dev is used only for the IRQ (NULL is fine when !use_irq). The
 * poll keeps time only as well as base's clock: give it a base from
 * refresh_event_base_new().
 */
struct refresh *refresh_new(struct event_base *base, struct vfio_device *dev, bool use_irq,
			    unsigned hz, refresh_fn *fn, void *ctx);
void refresh_free(struct refresh *refresh);

/* Clients present (true) or gone (false). Going active refreshes at once. */
void refresh_set_active(struct refresh *refresh, bool active);
void refresh_set_rate(struct refresh *refresh, unsigned hz);
bool refresh_uses_irq(const struct refresh *refresh);

#endif
