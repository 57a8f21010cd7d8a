// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The demo scene (VGPU_SIM_SCENE=demo): a guest that keeps drawing, for
 * trying the daemon by hand. 1024x768 XRGB8888 at 30 fps, written into the
 * current buffer (same id), with a moving cursor in dmabuf mode.
 */
#include <errno.h>
#include <libdrm/drm_fourcc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sim_font.h"
#include "sim_internal.h"
#include "sim_uapi.h"

#define SCENE_W 1024
#define SCENE_H 768
#define SCENE_FPS 30
#define CURSOR_SIZE 64

static void rect(const struct sim_canvas *c, int x, int y, int w, int h, uint32_t color)
{
	for (int row = y < 0 ? 0 : y; row < y + h && row < c->height; row++)
		for (int col = x < 0 ? 0 : x; col < x + w && col < c->width; col++)
			c->px[(long)row * c->stride + col] = color;
}

/* Bounces a coordinate between 0 and span. */
static int bounce(long t, int speed, int span)
{
	long p = t * speed % (2L * span);

	return (int)(p < span ? p : 2L * span - p);
}

static void render(const struct sim_canvas *c, unsigned long frame)
{
	static const uint32_t colors[] = { 0xffe04040, 0xff40c040, 0xff4060e0, 0xffe0c020 };
	char text[64];
	time_t now = time(NULL);
	struct tm tm;

	for (int y = 0; y < c->height; y++) {
		uint32_t shade = (uint32_t)((y + frame) & 0xff) / 4;

		for (int x = 0; x < c->width; x++)
			c->px[(long)y * c->stride + x] = 0xff000000 | shade << 16 | shade << 8 | 0x30;
	}
	for (int i = 0; i < 4; i++)
		rect(c, bounce((long)frame, 3 + 2 * i, c->width - 120),
		     bounce((long)frame + 40 * i, 2 + i, c->height - 90), 120, 90, colors[i]);
	localtime_r(&now, &tm);
	strftime(text, sizeof(text), "%H:%M:%S", &tm);
	sim_font_draw(c, 40, 40, 12, 0xffffffff, text);
	snprintf(text, sizeof(text), "VGPU SIM FRAME %lu", frame);
	sim_font_draw(c, 40, c->height - 80, 5, 0xffffff80, text);
}

/* An arrow with a one-pixel outline; ARGB8888, hotspot at the tip. */
static void draw_cursor(uint32_t *px)
{
	for (int y = 0; y < CURSOR_SIZE; y++)
		for (int x = 0; x < CURSOR_SIZE; x++)
			px[y * CURSOR_SIZE + x] = x > y / 2 || y > 40 ? 0 :
						  x == 0 || x == y / 2 || y == 40 ? 0xff000000 :
										  0xffffffff;
}

static int scene_planes(void)
{
	struct sim_plane_desc primary = {
		.fourcc = DRM_FORMAT_XRGB8888,
		.width = SCENE_W,
		.height = SCENE_H,
		.stride = SCENE_W * 4,
		.size = SCENE_W * SCENE_H * 4,
	};
	struct sim_plane_desc cursor = {
		.fourcc = DRM_FORMAT_ARGB8888,
		.width = CURSOR_SIZE,
		.height = CURSOR_SIZE,
		.stride = CURSOR_SIZE * 4,
		.size = CURSOR_SIZE * CURSOR_SIZE * 4,
	};
	uint32_t pixels[CURSOR_SIZE * CURSOR_SIZE];
	struct sim_target t;
	int ret;

	ret = sim_plane_set(DRM_PLANE_TYPE_PRIMARY_SIM, &primary);
	if (ret < 0 || sim.cfg.region_mode)
		return ret;
	ret = sim_plane_set(DRM_PLANE_TYPE_CURSOR_SIM, &cursor);
	if (ret == 0)
		ret = sim_plane_target(DRM_PLANE_TYPE_CURSOR_SIM, false, &t);
	if (ret < 0)
		return ret;
	draw_cursor(pixels);
	if (pwrite(t.fd, pixels, sizeof(pixels), t.base) != sizeof(pixels))
		ret = -EIO;
	real.close(t.fd);
	return ret;
}

/* Writes the frame if the plane still has the scene's geometry (a test may have changed it). */
static void present(const uint32_t *frame, unsigned long n)
{
	const size_t size = (size_t)SCENE_W * SCENE_H * 4;
	struct sim_target t;

	pthread_mutex_lock(&sim.lock);
	if (sim_plane_target(DRM_PLANE_TYPE_PRIMARY_SIM, false, &t) == 0) {
		if (t.cap == size && pwrite(t.fd, frame, size, t.base) == (ssize_t)size)
			sim_irq_fire(SIM_EVENT_PRIMARY);
		real.close(t.fd);
	}
	if (!sim.cfg.region_mode) {
		sim_plane_move_cursor(bounce((long)n, 5, SCENE_W - 1), bounce((long)n, 4, SCENE_H - 1));
		sim_irq_fire(SIM_EVENT_CURSOR);
	}
	pthread_mutex_unlock(&sim.lock);
}

static void *scene_thread(void *unused)
{
	uint32_t *frame = malloc((size_t)SCENE_W * SCENE_H * 4);
	struct sim_canvas c = { frame, SCENE_W, SCENE_H, SCENE_W };
	struct timespec next;

	if (!frame)
		return NULL;
	clock_gettime(CLOCK_MONOTONIC, &next);
	for (unsigned long n = 0;; n++) {
		render(&c, n);
		present(frame, n);
		next.tv_nsec += 1000000000L / SCENE_FPS;
		if (next.tv_nsec >= 1000000000L) {
			next.tv_nsec -= 1000000000L;
			next.tv_sec++;
		}
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
	}
	return NULL;
}

int sim_scene_start(void)
{
	int ret;

	pthread_mutex_lock(&sim.lock);
	ret = scene_planes();
	/* The scene's planes are set up before the daemon can query: no mode-change ENOMEM. */
	sim.enomem_armed = false;
	pthread_mutex_unlock(&sim.lock);
	return ret < 0 ? ret : sim_start_thread(scene_thread);
}
