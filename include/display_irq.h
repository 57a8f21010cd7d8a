/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef MDEV_VNCD_DISPLAY_IRQ_H
#define MDEV_VNCD_DISPLAY_IRQ_H

/*
 * The display-event IRQ of the v6 VFIO series (include/vfio_display_irq.h):
 * the device signals an eventfd when the guest changed a plane, so the
 * daemon queries on change instead of polling. No mainline driver has it;
 * on a device without it display_irq_open() says -ENOENT and the caller
 * keeps polling.
 */

#include <stdbool.h>
#include <stdint.h>

#define DISPLAY_EVENT_PRIMARY (1u << 0)
#define DISPLAY_EVENT_CURSOR (1u << 1)
/*
 * Alone in a callback: reading the eventfd failed (said once, until a read
 * works again). Events may have been lost, and the eventfd is no longer
 * watched, since it would wake the loop without end: nothing more comes
 * until display_irq_rearm().
 */
#define DISPLAY_EVENT_FAILED (1u << 2)

struct display_irq;
struct event_base;
struct vfio_device;

/*
 * Called on the loop thread with DISPLAY_EVENT_* bits: which planes to
 * query. Both bits when the device gave no plane values, or when the
 * eventfd counter held more than the plane bits (signals summed up).
 * Must not free the display_irq it was called for.
 */
typedef void display_irq_cb(void *ctx, unsigned planes);

/*
 * Finds the first device-specific IRQ (index >= 5) that is a display-event
 * IRQ, enables it on a new eventfd and watches that on base (persistent
 * EV_READ). dev and base must outlive the object. Returns:
 *   0        *out is owned by the caller (display_irq_free);
 *   -ENOENT  the device has no display IRQ (logged at info level);
 *   -EINVAL  a capability chain is malformed, or asks for more than 64 KiB
 *            (logged as a warning with the index and the reason);
 *   -ENOMEM  out of memory;
 *   -errno   eventfd, event or SET_IRQS failed (logged).
 * On failure nothing stays enabled or open.
 */
int display_irq_open(struct vfio_device *dev, struct event_base *base, display_irq_cb *cb,
		     void *ctx, struct display_irq **out);

/* Disables the IRQ on the device, frees the event, closes the eventfd. NULL is fine. */
void display_irq_free(struct display_irq *irq);

/*
 * Pauses (masked) or resumes delivery; idempotent. A MASKABLE IRQ is masked
 * on the device and keeps what it signals for after the unmask. Otherwise
 * the trigger is disabled and re-enabled, and events in between are lost:
 * query both planes after resuming. No callback runs while masked.
 * 0 or -errno (the state is then unchanged).
 */
int display_irq_set_masked(struct display_irq *irq, bool masked);

/* Watches the eventfd again after DISPLAY_EVENT_FAILED (no-op otherwise, or while masked). */
void display_irq_rearm(struct display_irq *irq);
/* The device names the plane bits (CAP_DISPLAY): callbacks can tell planes apart. */
bool display_irq_has_plane_values(const struct display_irq *irq);

/* How many times the eventfd was read (each read may sum several signals), for stats. */
uint64_t display_irq_events(const struct display_irq *irq);

#endif
