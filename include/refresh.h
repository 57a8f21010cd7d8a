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

/* Which planes a refresh should query (DISPLAY_EVENT_* of display_irq.h). */
typedef void refresh_fn(void *ctx, unsigned planes);

/* Tries the IRQ when use_irq, else (or when that fails) polls; logs the mode chosen. */
struct refresh *refresh_new(struct event_base *base, struct vfio_device *dev, bool use_irq,
			    unsigned hz, refresh_fn *fn, void *ctx);
void refresh_free(struct refresh *refresh);

/* Clients present (true) or gone (false). Going active refreshes at once. */
void refresh_set_active(struct refresh *refresh, bool active);
void refresh_set_rate(struct refresh *refresh, unsigned hz);
bool refresh_uses_irq(const struct refresh *refresh);

#endif
