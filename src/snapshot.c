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
#include "display.h"
#include "frame_store.h"
#include "import.h"
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
};

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

static int grab_picture(struct frame_store *store, struct display *display, unsigned refresh_hz,
			struct grab *g, bool *guest)
{
	struct frame_reader *reader = frame_reader_new(store);
	if (!reader)
		return -ENOMEM;
	*guest = refresh_until_picture(display, refresh_hz);
	const struct frame_copy_target target = {
		.ctx = g,
		.resize = grab_resize,
		.copied = grab_copied,
	};
	frame_reader_sync(reader, g->pixels, &target);
	frame_reader_free(reader);
	return g->pixels ? 0 : -EIO;
}

int snapshot_grab(struct plane_source *planes, const char *instance, unsigned refresh_hz,
		  const char *png_path)
{
	struct frame_store *store = frame_store_new();
	struct display *display = store ? display_new(planes, store, instance) : NULL;
	struct grab g = { 0 };
	bool guest = false;
	int ret = display ? grab_picture(store, display, refresh_hz, &g, &guest) : -ENOMEM;
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
	display_free(display);
	frame_store_free(store);
	return ret;
}

/* The device the configuration names, as the daemon opens it. */
int snapshot_run(const struct config *cfg, const char *png_path)
{
	struct vfio_device *dev = NULL;
	struct plane_source *planes = NULL;
	int ret = vfio_device_open_configured(cfg->uuid, cfg->device_fd, cfg->device_socket, &dev);
	if (ret == 0)
		ret = plane_source_new(dev, &import_cpu_mmap, &planes);
	if (ret == 0)
		ret = snapshot_grab(planes, cfg->instance, cfg->refresh_hz, png_path);
	plane_source_free(planes);
	vfio_device_free(dev);
	if (ret == SNAPSHOT_PLACEHOLDER)
		return 3;
	return ret == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
