/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef MDEV_VNCD_DISPLAY_H
#define MDEV_VNCD_DISPLAY_H

#include <stdbool.h>
#include <stdint.h>

#include "metrics.h"

struct frame_store;
struct plane_source;

/*
 * The display pipeline, one refresh at a time: query the primary plane,
 * get its buffer, convert what changed into the frame store. When there is
 * no guest picture to show, it draws a placeholder saying why. It logs each
 * state change once, never once per frame.
 */
struct display;

struct display_stats {
	uint64_t refreshes;      /* plane queries made */
	uint64_t frames_changed; /* refreshes that changed pixels */
	uint64_t query_errors;
	uint64_t tiles_changed;
	uint64_t tiles_compared; /* tiles of every frame that was compared or converted */
	/* Time spent per stage: METRICS_STAGE_QUERY, _IMPORT and _CONVERT. */
	struct metrics_histogram stages[METRICS_STAGE_COUNT];
};

/* Borrows planes and store; both must outlive the display. */
struct display *display_new(struct plane_source *planes, struct frame_store *store,
			    const char *instance);
void display_free(struct display *display);

/*
 * One refresh. 0: clients see the guest's picture or a placeholder saying
 * why not. -EAGAIN: the query failed the way drivers do for a moment
 * around a mode set (GVT-g's EFAULT, mbochs' ENOMEM): clients keep the last
 * picture and a retry within milliseconds is likely to work. Another
 * -errno: the query failed otherwise; clients keep the last picture and the
 * next scheduled refresh tries again. Failures are logged once, not per call;
 * ENODEV and EIO only once they outlast a second, as the transient ones: the
 * caller first finds out whether the whole device is gone.
 */
int display_refresh(struct display *display);

/* Whether a refresh reads the picture after its query. */
enum display_read {
	DISPLAY_READ_ALWAYS,
	/*
	 * Only when the query shows another buffer or layout than the last
	 * picture read: a page flip, a mode set, the display turned on or off.
	 * Otherwise the refresh is the query alone (an ioctl), and a change the
	 * guest drew in place waits for the next DISPLAY_READ_ALWAYS.
	 */
	DISPLAY_READ_ON_FLIP,
};

/*
 * display_refresh with a choice of reading. *flipped: the query showed
 * another buffer or layout than the last picture read (always true before
 * the first); with DISPLAY_READ_ON_FLIP, exactly when the picture was read.
 * Returns as display_refresh; *flipped is false when the query failed.
 */
int display_poll(struct display *display, enum display_read read, bool *flipped);

const struct display_stats *display_stats(const struct display *display);

/*
 * The device went away: planes is gone (no refresh may run until
 * display_set_planes), clients see the "Device lost" placeholder at their
 * current size with detail (may be NULL). The caller logs the event.
 */
void display_device_lost(struct display *display, const char *detail);

/* The device is open again: refreshes read planes (borrowed) from now on. */
void display_set_planes(struct display *display, struct plane_source *planes);

#endif
