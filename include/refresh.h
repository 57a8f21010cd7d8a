/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef MDEV_VNCD_REFRESH_H
#define MDEV_VNCD_REFRESH_H

#include <stdbool.h>

struct event_base;
struct vfio_device;

/*
 * When to run the display pipeline. With the device's display-event IRQ,
 * a refresh follows each event (coalesced to at most two per refresh
 * period, so an event storm cannot starve the clients) and a slow safety
 * poll catches events that stop coming; without it, a timer polls at the
 * refresh rate. With no client watching, nothing runs: the IRQ is masked
 * or the timer stopped, so an idle VM costs no wakeups.
 */
struct refresh;

/*
 * Queries these planes (DISPLAY_EVENT_* of display_irq.h). Returns the
 * planes whose query failed for a moment (a mode set in progress), 0 when
 * done: on the IRQ path they are tried again within milliseconds, backing
 * off, a bounded number of times, before the safety poll takes over.
 */
typedef unsigned refresh_fn(void *ctx, unsigned planes);
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
 * chosen. dev is used only for the IRQ (NULL is fine when !use_irq). The poll keeps time only as well as base's clock: give it a base
 * from refresh_event_base_new().
 */
struct refresh *refresh_new(struct event_base *base, struct vfio_device *dev, bool use_irq,
			    unsigned hz, refresh_fn *fn, void *ctx);
void refresh_free(struct refresh *refresh);

/* Clients present (true) or gone (false). Going active refreshes at once. */
void refresh_set_active(struct refresh *refresh, bool active);
void refresh_set_rate(struct refresh *refresh, unsigned hz);
bool refresh_uses_irq(const struct refresh *refresh);

#endif
