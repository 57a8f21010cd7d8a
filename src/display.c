// SPDX-License-Identifier: GPL-2.0-or-later
#include "display.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "convert.h"
#include "drm_formats.h"
#include "frame_diff.h"
#include "frame_store.h"
#include "log.h"
#include "placeholder.h"
#include "plane.h"

/* How long a transient query failure may last before it is worth a warning. */
#define TRANSIENT_GRACE_SEC 1.0

/* What clients currently see, so a state is drawn and logged once. */
struct shown {
	bool guest;
	enum placeholder_kind kind;
	char detail[128];
	uint32_t width, height;
};

struct display {
	struct plane_source *planes;
	struct frame_store *store;
	struct frame_diff *diff;
	char instance[64];
	struct shown shown;
	bool shown_anything;
	uint32_t width, height;          /* size of the picture clients have */
	struct pixel_layout guest_layout; /* last guest mode shown, for the mode-change log */
	/* The failed queries since the last one that worked, logged once however long they last. */
	struct {
		int err; /* 0: the last query worked */
		double since;
		bool warned;
	} query_failure;
	/* An exporter that refuses maps refuses them for every mode: say so once until a frame shows. */
	struct log_latch cannot_map;
	/* DMA_BUF_IOCTL_SYNC refused before a read: said once until a read is allowed again. */
	struct log_latch sync_failed;
	/* The store holds the last frame a GPU import read back (and the CPU diff's is stale). */
	bool gpu_frame_shown;
	/* The primary plane's query at the last picture read, for DISPLAY_READ_ON_FLIP. */
	struct vfio_device_gfx_plane_info last_read;
	bool have_last_read;
	struct display_stats stats;
};

struct display *display_new(struct plane_source *planes, struct frame_store *store,
			    const char *instance)
{
	struct display *display = calloc(1, sizeof(*display));
	if (!display)
		return NULL;
	display->planes = planes;
	display->store = store;
	display->diff = frame_diff_new();
	if (!display->diff) {
		free(display);
		return NULL;
	}
	snprintf(display->instance, sizeof(display->instance), "%s", instance);
	display->width = PLACEHOLDER_WIDTH;
	display->height = PLACEHOLDER_HEIGHT;
	return display;
}

void display_free(struct display *display)
{
	if (!display)
		return;
	frame_diff_free(display->diff);
	free(display);
}

static double seconds_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Charges the time since *since to a stage and restarts the clock. */
static void stage_done(struct display *display, enum metrics_stage stage, double *since)
{
	double now = seconds_now();
	metrics_histogram_observe(&display->stats.stages[stage], now - *since);
	*since = now;
}

const struct display_stats *display_stats(const struct display *display)
{
	return &display->stats;
}

static const char *const placeholder_log_text[] = {
	[PLACEHOLDER_NO_SIGNAL] = "the guest turned its display off",
	[PLACEHOLDER_CANNOT_MAP] = "cannot map the display buffer",
	[PLACEHOLDER_UNSUPPORTED_FORMAT] = "unsupported pixel format",
	[PLACEHOLDER_BAD_PLANE] = "the device described an invalid plane",
	[PLACEHOLDER_DEVICE_LOST] = "the device is gone",
};

/*
 * Shows a daemon-drawn picture, keeping the clients' current size so a
 * blip does not resize every viewer. Logged and drawn once per state.
 */
static void show_placeholder(struct display *display, enum placeholder_kind kind,
			     const char *detail)
{
	struct shown want = {
		.guest = false,
		.kind = kind,
		.width = display->width,
		.height = display->height,
	};
	snprintf(want.detail, sizeof(want.detail), "%s", detail ? detail : "");
	bool same_state = display->shown_anything && !display->shown.guest &&
			  display->shown.kind == kind && strcmp(display->shown.detail, want.detail) == 0;
	if (same_state && display->shown.width == want.width && display->shown.height == want.height)
		return;

	uint8_t *pixels;
	size_t stride;
	bool resized;
	if (frame_store_begin_write(display->store, display->width, display->height, &pixels,
				    &stride, &resized) < 0) {
		log_error("out of memory drawing the %ux%u placeholder; will retry next frame",
			  display->width, display->height);
		return;
	}
	placeholder_draw(pixels, stride, display->width, display->height, kind, display->instance,
			 detail);
	frame_store_end_write(display->store, NULL);
	/* The framebuffer no longer holds the guest's last frame. */
	frame_diff_reset(display->diff);
	display->gpu_frame_shown = false;

	/*
	 * A new guest mode in the same state redraws at the new size, without a
	 * new log line. A lost device is logged by whoever handles the loss.
	 */
	bool quiet = same_state || (kind == PLACEHOLDER_CANNOT_MAP && display->cannot_map.raised) ||
		     kind == PLACEHOLDER_DEVICE_LOST;
	if (kind == PLACEHOLDER_CANNOT_MAP)
		display->cannot_map.raised = true;
	if (!quiet)
		log_warning("%s%s%s; clients see a placeholder until it recovers",
			    placeholder_log_text[kind], detail ? ": " : "", detail ? detail : "");
	display->shown = want;
	display->shown_anything = true;
}

static void format_name(uint32_t fourcc, char out[5])
{
	for (int i = 0; i < 4; i++) {
		char c = (char)((fourcc >> (8 * i)) & 0xff);
		out[i] = c >= 32 && c < 127 ? c : '?';
	}
	out[4] = '\0';
}

static void note_guest_mode(struct display *display, const struct pixel_layout *layout)
{
	const struct pixel_layout *old = &display->guest_layout;
	if (display->shown.guest && display->shown_anything && old->width == layout->width &&
	    old->height == layout->height && old->fourcc == layout->fourcc &&
	    old->modifier == layout->modifier)
		return;
	char name[5];
	format_name(layout->fourcc, name);
	log_info("display on: %ux%u %s modifier 0x%llx stride %u", layout->width, layout->height,
		 name, (unsigned long long)layout->modifier, layout->stride);
	display->guest_layout = *layout;
}

/* Every number from the device must agree with the buffer before a pixel is read. */
static int check_plane(struct display *display, const struct vfio_device_gfx_plane_info *info,
		       const struct plane_buffer *buf, const struct pixel_layout *layout)
{
	const char *why = NULL;
	char detail[128];
	if (info->size > buf->real_size) {
		snprintf(detail, sizeof(detail), "plane size %u exceeds the buffer's %zu bytes",
			 info->size, buf->real_size);
		show_placeholder(display, PLACEHOLDER_BAD_PLANE, detail);
		return -EINVAL;
	}
	int ret = convert_check(layout, info->size, &why);
	if (ret == -ENOTSUP) {
		placeholder_format_detail(detail, sizeof(detail), layout->fourcc, layout->modifier);
		show_placeholder(display, PLACEHOLDER_UNSUPPORTED_FORMAT, detail);
	} else if (ret < 0) {
		snprintf(detail, sizeof(detail), "%ux%u stride %u size %u: %s", layout->width,
			 layout->height, layout->stride, info->size, why);
		show_placeholder(display, PLACEHOLDER_BAD_PLANE, detail);
	}
	return ret;
}

/*
 * Writes the changes since the last frame into the store's pixels: from a
 * CPU mapping by frame_diff, or by the GPU import itself. NULL with *why
 * when a GPU read failed.
 */
static const struct damage_map *write_frame(struct display *display,
					    const struct pixel_layout *layout,
					    struct plane_buffer *buf, size_t size, uint8_t *pixels,
					    size_t stride, bool resized, const char **why)
{
	const struct damage_map *damage = NULL;
	if (buf->map.data) {
		if (resized || display->gpu_frame_shown)
			frame_diff_reset(display->diff);
		display->gpu_frame_shown = false;
		return frame_diff_apply(display->diff, layout, buf->map.data, size, pixels, stride);
	}
	struct import_frame frame = {
		.layout = layout,
		.fb = pixels,
		.fb_stride = stride,
		.fb_current = display->gpu_frame_shown && !resized,
	};
	display->gpu_frame_shown = false;
	if (plane_source_read_frame(display->planes, buf, &frame, &damage, why) < 0)
		return NULL;
	display->gpu_frame_shown = true;
	return damage;
}

static void show_guest(struct display *display, const struct pixel_layout *layout,
		       struct plane_buffer *buf, size_t size, double *since)
{
	int ret = plane_source_begin_read(display->planes, buf);
	stage_done(display, METRICS_STAGE_IMPORT, since);
	if (ret < 0) {
		log_once(&display->sync_failed, LOG_LEVEL_WARNING,
			 "DMA_BUF_IOCTL_SYNC (start of a CPU read) on dmabuf id %u failed: %s; "
			 "keeping the last picture and trying again each frame", buf->id,
			 strerror(-ret));
		return;
	}
	if (display->sync_failed.raised)
		log_info("DMA_BUF_IOCTL_SYNC on dmabuf id %u works again", buf->id);
	log_latch_clear(&display->sync_failed);
	uint8_t *pixels;
	size_t stride;
	bool resized;
	if (frame_store_begin_write(display->store, layout->width, layout->height, &pixels, &stride,
				    &resized) < 0) {
		plane_source_end_read(display->planes, buf);
		log_error("out of memory for a %ux%u framebuffer; will retry next frame",
			  layout->width, layout->height);
		return;
	}
	const char *why = NULL;
	const struct damage_map *damage =
		write_frame(display, layout, buf, size, pixels, stride, resized, &why);
	frame_store_end_write(display->store, damage);
	plane_source_end_read(display->planes, buf);
	stage_done(display, METRICS_STAGE_CONVERT, since);
	if (!damage && buf->map.data == NULL) {
		/* The read may have written part of the picture: draw the placeholder whole. */
		buf->read_failed = why;
		display->shown_anything = false;
		show_placeholder(display, PLACEHOLDER_CANNOT_MAP, why);
		return;
	}
	if (damage)
		display->stats.tiles_compared += (uint64_t)damage->cols * damage->rows;

	display->width = layout->width;
	display->height = layout->height;
	if (damage && !damage_map_empty(damage)) {
		display->stats.frames_changed++;
		display->stats.tiles_changed += damage->dirty_count;
	}
	note_guest_mode(display, layout);
	log_latch_clear(&display->cannot_map);
	display->shown.guest = true;
	display->shown_anything = true;
}

/*
 * Failures real drivers give for a moment around a mode set: GVT-g's EFAULT
 * while the guest has programmed half of a new surface (i915 gvt/dmabuf.c,
 * fb_decoder.c), mbochs' ENOMEM on the first query after one.
 */
static bool query_error_is_transient(int err)
{
	return err == -EFAULT || err == -ENOMEM || err == -EAGAIN;
}

/*
 * Clients keep the last picture through a failed query. A transient
 * failure is an operator's concern only once it outlasts the grace; any
 * other is logged when it starts. Either way one line, however many
 * frames fail. -EAGAIN: worth retrying soon.
 */
static int note_query_failure(struct display *display, int err)
{
	double now = seconds_now();
	bool transient = query_error_is_transient(err);
	/* The caller tells a lost device from a failing query: no warning for it meanwhile. */
	bool graced = transient || err == -ENODEV || err == -EIO;
	display->stats.query_errors++;
	if (!display->query_failure.err) {
		display->query_failure.since = now;
		if (transient)
			log_debug("querying the primary plane failed: %s; keeping the last picture "
				  "and retrying (a mode set in progress?)", strerror(-err));
	}
	display->query_failure.err = err;
	int ret = transient ? -EAGAIN : err;
	double lasted = now - display->query_failure.since;
	if (display->query_failure.warned || (graced && lasted < TRANSIENT_GRACE_SEC))
		return ret;
	display->query_failure.warned = true;
	if (graced)
		log_warning("querying the primary plane has failed for %.1f s: %s; keeping the "
			    "last picture and retrying", lasted, strerror(-err));
	else
		log_warning("querying the primary plane failed: %s; keeping the last picture and "
			    "retrying", strerror(-err));
	return ret;
}

static void note_query_success(struct display *display)
{
	if (!display->query_failure.err)
		return;
	double lasted = seconds_now() - display->query_failure.since;
	if (display->query_failure.warned)
		log_info("primary plane queries work again after %.1f s", lasted);
	else
		log_debug("primary plane queries work again after %.3f s", lasted);
	display->query_failure.err = 0;
	display->query_failure.warned = false;
}

void display_device_lost(struct display *display, const char *detail)
{
	display->planes = NULL;
	display->have_last_read = false;
	display->query_failure.err = 0;
	display->query_failure.warned = false;
	show_placeholder(display, PLACEHOLDER_DEVICE_LOST, detail);
}

void display_set_planes(struct display *display, struct plane_source *planes)
{
	display->planes = planes;
}

/*
 * The query's every field, the buffer's id included, against the last
 * read's: any difference is news, so nothing the query can show is missed.
 */
static bool plane_changed(const struct display *display,
			  const struct vfio_device_gfx_plane_info *info)
{
	return !display->have_last_read ||
	       memcmp(&display->last_read, info, sizeof(*info)) != 0;
}

int display_refresh(struct display *display)
{
	bool flipped;
	return display_poll(display, DISPLAY_READ_ALWAYS, &flipped);
}

int display_poll(struct display *display, enum display_read read, bool *flipped)
{
	struct vfio_device_gfx_plane_info info;
	double since = seconds_now();
	*flipped = false;
	display->stats.refreshes++;
	int ret = plane_source_query(display->planes, DRM_PLANE_TYPE_PRIMARY, &info);
	if (ret < 0)
		return note_query_failure(display, ret);
	note_query_success(display);
	*flipped = plane_changed(display, &info);
	if (read == DISPLAY_READ_ON_FLIP && !*flipped)
		return 0;
	display->last_read = info;
	display->have_last_read = true;
	if (!plane_info_enabled(&info)) {
		show_placeholder(display, PLACEHOLDER_NO_SIGNAL, NULL);
		return 0;
	}

	struct pixel_layout layout = {
		.fourcc = info.drm_format,
		.modifier = info.drm_format_mod,
		.width = info.width,
		.height = info.height,
		.stride = info.stride,
	};
	struct plane_buffer *buf;
	ret = plane_source_buffer(display->planes, &info, &buf);
	if (ret < 0) {
		char detail[96];
		snprintf(detail, sizeof(detail), "cannot get or size buffer %u: %s", info.dmabuf_id,
			 strerror(-ret));
		show_placeholder(display, PLACEHOLDER_BAD_PLANE, detail);
		return 0;
	}
	stage_done(display, METRICS_STAGE_QUERY, &since);
	if (check_plane(display, &info, buf, &layout) < 0)
		return 0;
	if (buf->import_error || buf->read_failed) {
		/* The plane's numbers passed the checks: clients get the guest's mode size. */
		display->width = layout.width;
		display->height = layout.height;
		show_placeholder(display, PLACEHOLDER_CANNOT_MAP,
				 buf->import_error ? buf->import_why : buf->read_failed);
		return 0;
	}
	show_guest(display, &layout, buf, info.size, &since);
	return 0;
}
