// SPDX-License-Identifier: GPL-2.0-or-later
#include "display_irq.h"

#include <errno.h>
#include <event2/event.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "fd_util.h"
#include "irq_caps.h"
#include "log.h"
#include "vfio_device.h"
#include "vfio_display_irq.h"

/* A device may ask for a larger answer; beyond this it is broken, not generous. */
#define IRQ_INFO_MAX (64u << 10)
/* The device raises argsz once; a few more rounds allow for a chain that changed. */
#define IRQ_INFO_TRIES 4

#define BOTH_PLANES (DISPLAY_EVENT_PRIMARY | DISPLAY_EVENT_CURSOR)

struct display_irq {
	int device_fd;
	uint32_t index;
	bool maskable;
	bool masked;
	bool failed; /* a read failed: the eventfd is not watched until display_irq_rearm */
	struct display_irq_caps caps;
	int eventfd;
	struct event *ev;
	display_irq_cb *cb;
	void *ctx;
	uint64_t events;
	struct log_latch read_failed;
};

/* One SET_IRQS on the display IRQ; efd is the eventfd for DATA_EVENTFD, else ignored. */
static int set_irqs(const struct display_irq *irq, uint32_t flags, uint32_t count, int32_t efd)
{
	return vfio_set_irqs(irq->device_fd, irq->index, flags, count, efd);
}

static int enable_trigger(const struct display_irq *irq)
{
	return set_irqs(irq, VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER, 1,
			irq->eventfd);
}

static int disable_trigger(const struct display_irq *irq)
{
	return set_irqs(irq, VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER, 0, -1);
}

/*
 * GET_IRQ_INFO at index, growing the buffer while the device raises argsz.
 * 0 (display IRQ, *caps and *flags set), -ENOENT (another kind of IRQ),
 * -EINVAL (malformed, *why says how) or the ioctl's -errno.
 */
static int query_index(int fd, uint32_t index, struct display_irq_caps *caps, uint32_t *flags,
		       const char **why)
{
	struct vfio_irq_info_v6 info;
	size_t size = sizeof(info);
	void *buf = NULL;
	int r = -EINVAL;

	for (int tries = 0; tries < IRQ_INFO_TRIES; tries++) {
		void *grown = realloc(buf, size);

		if (!grown) {
			r = -ENOMEM;
			break;
		}
		buf = grown;
		memset(buf, 0, size);
		info = (struct vfio_irq_info_v6){ .argsz = size, .index = index };
		memcpy(buf, &info, sizeof(info));
		if (ioctl(fd, VFIO_DEVICE_GET_IRQ_INFO, buf) < 0) {
			r = -errno;
			break;
		}
		memcpy(&info, buf, sizeof(info));
		*flags = info.flags;
		r = irq_caps_parse(buf, size, caps, why);
		if (r != -ENOSPC)
			break;
		r = -EINVAL;
		*why = "the device keeps raising argsz";
		if (info.argsz > IRQ_INFO_MAX) {
			*why = "argsz asks for more than 64 KiB";
			break;
		}
		size = info.argsz;
	}
	free(buf);
	return r;
}

/* The first display IRQ wins; a malformed chain elsewhere only matters if none is found. */
static int find_display_irq(struct vfio_device *dev, struct display_irq *irq)
{
	const uint32_t n = vfio_device_num_irqs(dev);
	bool malformed = false;

	for (uint32_t i = VFIO_IRQ_DEVICE_SPECIFIC_BASE; i < n; i++) {
		const char *why = NULL;
		uint32_t flags = 0;
		int r = query_index(irq->device_fd, i, &irq->caps, &flags, &why);

		if (r == 0) {
			irq->index = i;
			irq->maskable = flags & VFIO_IRQ_INFO_MASKABLE;
			return 0;
		}
		if (r == -ENOMEM)
			return r;
		if (r == -EINVAL) {
			log_warning("IRQ index %u: malformed capability chain: %s", i, why);
			malformed = true;
		} else if (r != -ENOENT) {
			log_debug("IRQ index %u: GET_IRQ_INFO: %s", i, strerror(-r));
		}
	}
	if (malformed)
		return -EINVAL;
	log_info("no display-event IRQ among %u IRQs: polling the planes", n);
	return -ENOENT;
}

static unsigned planes_of(const struct display_irq_caps *caps, uint64_t value)
{
	unsigned planes = 0;

	if (!caps->has_plane_values)
		return BOTH_PLANES;
	if (value & caps->primary_event)
		planes |= DISPLAY_EVENT_PRIMARY;
	if (value & caps->cursor_event)
		planes |= DISPLAY_EVENT_CURSOR;
	/* Sums of several signals carry into other bits: the planes can no longer be told apart. */
	if (!planes || (value & ~(caps->primary_event | caps->cursor_event)))
		return BOTH_PLANES;
	return planes;
}

static void on_readable(evutil_socket_t fd, short what, void *arg)
{
	struct display_irq *irq = arg;
	uint64_t value;

	if (read(fd, &value, sizeof(value)) != sizeof(value)) {
		if (errno == EAGAIN || errno == EINTR)
			return;
		log_once(&irq->read_failed, LOG_LEVEL_ERROR,
			 "display IRQ index %u: reading its eventfd failed: %s; polling the planes "
			 "and trying the eventfd again every second", irq->index, strerror(errno));
		/* Still readable: a persistent event would call us again at once, for ever. */
		event_del(irq->ev);
		irq->failed = true;
		irq->cb(irq->ctx, DISPLAY_EVENT_FAILED);
		return;
	}
	irq->failed = false;
	log_latch_clear(&irq->read_failed);
	irq->events++;
	irq->cb(irq->ctx, planes_of(&irq->caps, value));
}

int display_irq_open(struct vfio_device *dev, struct event_base *base, display_irq_cb *cb,
		     void *ctx, struct display_irq **out)
{
	struct display_irq *irq = calloc(1, sizeof(*irq));
	int r;

	if (!irq)
		return -ENOMEM;
	irq->device_fd = vfio_device_fd(dev);
	irq->cb = cb;
	irq->ctx = ctx;
	r = find_display_irq(dev, irq);
	if (r < 0)
		goto err_find;
	irq->eventfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (irq->eventfd < 0) {
		r = -errno;
		log_error("display IRQ: eventfd: %s", strerror(-r));
		goto err_find;
	}
	irq->ev = event_new(base, irq->eventfd, EV_READ | EV_PERSIST, on_readable, irq);
	if (!irq->ev || event_add(irq->ev, NULL) < 0) {
		r = -ENOMEM;
		log_error("display IRQ: cannot watch the eventfd");
		goto err_event;
	}
	r = enable_trigger(irq);
	if (r < 0) {
		log_error("display IRQ index %u: SET_IRQS (enable): %s", irq->index, strerror(-r));
		goto err_event;
	}
	log_info("display-event IRQ at index %u (%s)", irq->index,
		 irq->caps.has_plane_values ? "per-plane events" : "no plane values");
	*out = irq;
	return 0;

err_event:
	if (irq->ev)
		event_free(irq->ev);
	close_fd(irq->eventfd);
err_find:
	free(irq);
	return r;
}

void display_irq_free(struct display_irq *irq)
{
	int r;

	if (!irq)
		return;
	r = disable_trigger(irq);
	if (r < 0)
		log_warning("display IRQ index %u: SET_IRQS (disable): %s", irq->index,
			    strerror(-r));
	event_free(irq->ev);
	close_fd(irq->eventfd);
	free(irq);
}

static int device_set_masked(const struct display_irq *irq, bool masked)
{
	const uint32_t action = masked ? VFIO_IRQ_SET_ACTION_MASK : VFIO_IRQ_SET_ACTION_UNMASK;

	if (irq->maskable)
		return set_irqs(irq, VFIO_IRQ_SET_DATA_NONE | action, 1, -1);
	return masked ? disable_trigger(irq) : enable_trigger(irq);
}

/*
 * The event leaves the loop while masked, so a count the eventfd already
 * holds waits for the unmask instead of reaching the callback.
 */
int display_irq_set_masked(struct display_irq *irq, bool masked)
{
	int r;

	if (masked == irq->masked)
		return 0;
	if (!masked && event_add(irq->ev, NULL) < 0)
		return -ENOMEM;
	r = device_set_masked(irq, masked);
	if (r < 0) {
		if (!masked)
			event_del(irq->ev);
		return r;
	}
	if (masked)
		event_del(irq->ev);
	irq->masked = masked;
	return 0;
}

void display_irq_rearm(struct display_irq *irq)
{
	if (irq->failed && !irq->masked)
		event_add(irq->ev, NULL);
}

bool display_irq_has_plane_values(const struct display_irq *irq)
{
	return irq->caps.has_plane_values;
}

uint64_t display_irq_events(const struct display_irq *irq)
{
	return irq->events;
}
