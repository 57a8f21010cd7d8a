// SPDX-License-Identifier: GPL-2.0-or-later
#include "snapshot.h"

#include <errno.h>
#include <png.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "cursor.h"
#include "cursor_image.h"
#include "display.h"
#include "frame_store.h"
#include "import_auto.h"
#include "log.h"
#include "plane.h"
#include "vfio_device.h"

int snapshot_write_png(const char *path, const uint8_t *pixels, size_t stride, uint32_t width,
		       uint32_t height)
{
	size_t row = (size_t)width * 3;
	uint8_t *rgb = malloc(row * height);
	if (!rgb)
		return -ENOMEM;
	for (uint32_t y = 0; y < height; y++) {
		const uint8_t *src = pixels + y * stride;
		uint8_t *dst = rgb + y * row;
		for (uint32_t x = 0; x < width; x++, src += 4, dst += 3) {
			dst[0] = src[2];
			dst[1] = src[1];
			dst[2] = src[0];
		}
	}
	png_image image = {
		.version = PNG_IMAGE_VERSION,
		.width = width,
		.height = height,
		.format = PNG_FORMAT_RGB,
	};
	char tmp[4096];
	int ret = 0;
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp)) {
		ret = -ENAMETOOLONG;
	} else if ((errno = 0, !png_image_write_to_file(&image, tmp, 0, rgb, (png_int_32)row, NULL))) {
		/* libpng's simplified API keeps errno from the failed fopen/fwrite. */
		ret = errno ? -errno : -EIO;
		log_error("cannot write %s: %s", tmp, image.message);
		unlink(tmp);
	} else if (rename(tmp, path) < 0) {
		ret = -errno;
		unlink(tmp);
	}
	free(rgb);
	return ret;
}

/* The reader's copy of the picture: what a VNC client would hold. */
struct grab {
	uint8_t *pixels;
	uint32_t width, height;
	struct cursor_image cursor; /* a copy; width 0: none shown */
	int32_t cursor_x, cursor_y; /* where the hotspot is */
};

static void grab_cursor_shape(void *ctx, const struct cursor_image *image)
{
	struct grab *g = ctx;
	cursor_image_done(&g->cursor);
	if (!image || !image->width)
		return;
	size_t bytes = (size_t)image->width * image->height * 4;
	g->cursor.argb = malloc(bytes);
	if (!g->cursor.argb)
		return;
	memcpy(g->cursor.argb, image->argb, bytes);
	g->cursor.width = image->width;
	g->cursor.height = image->height;
	g->cursor.x_hot = image->x_hot;
	g->cursor.y_hot = image->y_hot;
}

static void grab_cursor_moved(void *ctx, int32_t x, int32_t y)
{
	struct grab *g = ctx;
	g->cursor_x = x;
	g->cursor_y = y;
}

/* Blends the premultiplied ARGB cursor over the picture, clipped to it. */
static void draw_cursor(struct grab *g)
{
	const struct cursor_image *c = &g->cursor;
	int64_t left = (int64_t)g->cursor_x - c->x_hot, top = (int64_t)g->cursor_y - c->y_hot;
	for (uint32_t cy = 0; cy < c->height; cy++) {
		int64_t y = top + cy;
		if (y < 0 || y >= g->height)
			continue;
		for (uint32_t cx = 0; cx < c->width; cx++) {
			int64_t x = left + cx;
			if (x < 0 || x >= g->width)
				continue;
			uint32_t src = c->argb[(size_t)cy * c->width + cx];
			uint32_t alpha = src >> 24;
			uint8_t *dst = g->pixels + ((size_t)y * g->width + (size_t)x) * 4;
			for (int i = 0; i < 3; i++) {
				uint32_t s_chan = (src >> (8 * i)) & 0xff;
				dst[i] = (uint8_t)(s_chan + (dst[i] * (255 - alpha) + 127) / 255);
			}
		}
	}
}

static uint8_t *grab_resize(void *ctx, uint32_t width, uint32_t height)
{
	struct grab *g = ctx;
	uint8_t *pixels = realloc(g->pixels, (size_t)width * height * 4);
	if (!pixels)
		return NULL;
	g->pixels = pixels;
	g->width = width;
	g->height = height;
	return pixels;
}

/* The whole picture is written at once, so which parts were copied does not matter. */
static void grab_copied(void *ctx, struct rect r)
{
}

static void sleep_ms(long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* Refreshes until the guest shows a picture or the wait is over; true: guest picture. */
static bool refresh_until_picture(struct display *display, unsigned refresh_hz)
{
	long interval = 1000 / (long)(refresh_hz ? refresh_hz : 1);
	long tries = SNAPSHOT_WAIT_MS / (interval ? interval : 1);
	for (long i = 0;; i++) {
		display_refresh(display);
		if (display_stats(display)->frames_changed > 0)
			return true;
		if (i >= tries)
			return false;
		sleep_ms(interval);
	}
}

static int grab_picture(struct frame_store *store, struct display *display,
			struct cursor_source *cursor, unsigned refresh_hz, struct grab *g, bool *guest)
{
	struct frame_reader *reader = frame_reader_new(store);
	if (!reader)
		return -ENOMEM;
	*guest = refresh_until_picture(display, refresh_hz);
	if (cursor)
		cursor_refresh(cursor);
	const struct frame_copy_target target = {
		.ctx = g,
		.resize = grab_resize,
		.copied = grab_copied,
		.cursor_shape = cursor ? grab_cursor_shape : NULL,
		.cursor_moved = cursor ? grab_cursor_moved : NULL,
	};
	frame_reader_sync(reader, g->pixels, &target);
	frame_reader_free(reader);
	if (g->pixels && g->cursor.width)
		draw_cursor(g);
	return g->pixels ? 0 : -EIO;
}

/*
 * Refreshes the display at refresh_hz until a guest frame arrives or
 * SNAPSHOT_WAIT_MS pass, then writes the picture to png_path; with
 * with_cursor the cursor plane is blended in, as a client without cursor
 * support sees it. Returns 0 (guest picture), SNAPSHOT_PLACEHOLDER, or
 * -errno (nothing was ever drawn, or the file could not be written; logged).
 */
static int snapshot_grab(struct plane_source *planes, const char *instance, unsigned refresh_hz,
			 bool with_cursor, const char *png_path)
{
	struct frame_store *store = frame_store_new();
	struct display *display = store ? display_new(planes, store, instance) : NULL;
	struct cursor_source *cursor = display && with_cursor ? cursor_source_new(planes, store)
							      : NULL;
	struct grab g = { 0 };
	bool guest = false;
	int ret = -ENOMEM;
	if (display && (cursor || !with_cursor))
		ret = grab_picture(store, display, cursor, refresh_hz, &g, &guest);
	if (ret == -EIO)
		log_error("the device answered no query of its primary plane: no picture to write");
	else if (ret == 0)
		ret = snapshot_write_png(png_path, g.pixels, (size_t)g.width * 4, g.width, g.height);
	if (ret == 0) {
		log_info("wrote %s: %ux%u, %s", png_path, g.width, g.height,
			 guest ? "the guest's picture" : "the placeholder clients see (no guest picture)");
		ret = guest ? 0 : SNAPSHOT_PLACEHOLDER;
	} else if (ret != -EIO) {
		log_error("cannot write the snapshot %s: %s", png_path, strerror(-ret));
	}
	free(g.pixels);
	cursor_image_done(&g.cursor);
	cursor_source_free(cursor);
	display_free(display);
	frame_store_free(store);
	return ret;
}

/* The device the configuration names, as the daemon opens it. */
int snapshot_run(const struct config *cfg, const char *png_path, bool with_cursor)
{
	struct vfio_device *dev = NULL;
	struct plane_source *planes = NULL;
	struct import_choice choice;
	const struct import_method *import = import_choose(&choice, cfg->import, cfg->uuid);
	int ret = import ? vfio_device_open_configured(cfg->uuid, cfg->device_fd,
						       cfg->device_socket, &dev) : -ENOMEM;
	if (ret == 0)
		ret = plane_source_new(dev, import, &planes);
	if (ret == 0)
		ret = snapshot_grab(planes, cfg->instance, cfg->refresh_hz, with_cursor, png_path);
	plane_source_free(planes);
	import_choice_done(&choice);
	vfio_device_free(dev);
	if (ret == SNAPSHOT_PLACEHOLDER)
		return 3;
	return ret == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
