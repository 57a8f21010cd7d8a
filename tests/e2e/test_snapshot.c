// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * mdev-vncd --snapshot under the simulated vGPU: the PNG, decoded with
 * libpng, must equal the guest's frame pixel for pixel.
 *
 * The guest's frame must be on the plane before the snapshot's first query,
 * so the test plays the VMM: the device fd reaches the daemon over
 * device_socket only once the test has drawn the frame through the sim.
 */
#include <fcntl.h>
#include <png.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <cmocka.h>
#include <drm_fourcc.h>

#include "expected_placeholder.h"
#include "fdpass.h"
#include "harness.h"
#include "simctl.h"

#define PRIMARY 1

/* What the guest shows when the daemon gets its device: fourcc 0 = display off. */
struct guest {
	const struct daemon_proc *d;
	int listen_fd;
	uint32_t fourcc, width, height;
	const uint8_t *pixels; /* bytes as the plane holds them */
	const uint32_t *cursor; /* CURSOR_SIZE^2 premultiplied ARGB8888, or NULL */
	int32_t cursor_x, cursor_y;
	bool no_cursor; /* run with --no-cursor */
};

#define CURSOR_SIZE 32

static void send_device_fd(int conn)
{
	int fd = memfd_create("vgpu-sim-device", MFD_CLOEXEC); /* the sim's device, by name */
	int ret = fdpass_send(conn, fd);

	if (ret < 0)
		fprintf(stderr, "sendmsg: %s\n", strerror(-ret));
	if (fd >= 0)
		close(fd);
}

/* The daemon is connected and waits for its device: draw the frame first, then hand it over. */
static void *vmm(void *arg)
{
	struct guest *g = arg;
	int conn = accept(g->listen_fd, NULL, NULL);
	if (conn < 0)
		return NULL;
	struct simctl *sim = simctl_connect(g->d->control, 10000);
	if (sim && g->fourcc) {
		struct sim_plane_desc desc = { .fourcc = g->fourcc, .width = g->width,
					       .height = g->height, .stride = g->width * 4,
					       .size = g->width * g->height * 4 };
		if (simctl_set_plane(sim, PRIMARY, &desc) < 0 ||
		    simctl_flip(sim, PRIMARY, g->pixels, desc.size) < 0)
			fprintf(stderr, "the sim refused the guest's frame\n");
	}
	if (sim && g->cursor) {
		struct sim_plane_desc cur = { .fourcc = DRM_FORMAT_ARGB8888, .width = CURSOR_SIZE,
					      .height = CURSOR_SIZE, .stride = CURSOR_SIZE * 4,
					      .size = CURSOR_SIZE * CURSOR_SIZE * 4,
					      .x = g->cursor_x, .y = g->cursor_y };
		if (simctl_set_plane(sim, 2, &cur) < 0 ||
		    simctl_write(sim, 2, 0, g->cursor, cur.size) < 0)
			fprintf(stderr, "the sim refused the guest's cursor\n");
	}
	simctl_free(sim);
	send_device_fd(conn);
	close(conn);
	return NULL;
}

/* Runs `mdev-vncd --snapshot png` with the device behind device_socket; returns its status. */
static int run_snapshot(struct guest *g, const char *png)
{
	char dir[] = "/tmp/mdev-vncd-snap.XXXXXX", config[128];
	assert_non_null(mkdtemp(dir));
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s/vmm.sock", dir);
	g->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_int_equal(bind(g->listen_fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	assert_int_equal(listen(g->listen_fd, 1), 0);
	snprintf(config, sizeof(config), "%s/vm.conf", dir);
	FILE *f = fopen(config, "w");
	assert_non_null(f);
	fprintf(f, "device_socket = %s\n", addr.sun_path);
	fclose(f);

	struct daemon_proc d;
	g->d = &d;
	pthread_t thread;
	assert_int_equal(pthread_create(&thread, NULL, vmm, g), 0);
	const char *args[] = { "--config", config, "--snapshot", png,
			       g->no_cursor ? "--no-cursor" : NULL, NULL };
	struct daemon_options opts = { .extra_args = args, .no_uuid = true };
	int status = daemon_run_to_exit(&d, &opts, 20000);
	pthread_join(thread, NULL);
	close(g->listen_fd);
	unlink(addr.sun_path);
	unlink(config);
	rmdir(dir);
	return status;
}

/* Decodes a PNG into XRGB8888 (B,G,R,0 bytes); NULL if it is not one. */
static uint32_t *read_png(const char *path, uint32_t *width, uint32_t *height)
{
	png_image image = { .version = PNG_IMAGE_VERSION };
	if (!png_image_begin_read_from_file(&image, path))
		return NULL;
	image.format = PNG_FORMAT_BGRA;
	uint32_t *pixels = malloc(PNG_IMAGE_SIZE(image));
	if (!png_image_finish_read(&image, NULL, pixels, 0, NULL)) {
		free(pixels);
		return NULL;
	}
	*width = image.width;
	*height = image.height;
	/* An RGB file decodes with alpha 0xff: XRGB8888 compares with X = 0. */
	for (size_t i = 0; i < (size_t)image.width * image.height; i++)
		pixels[i] &= 0x00ffffff;
	return pixels;
}

static void assert_png_equals(const char *png, const uint8_t *want, uint32_t width,
			      uint32_t height)
{
	uint32_t w, h;
	uint32_t *got = read_png(png, &w, &h);
	assert_non_null(got);
	assert_int_equal(w, width);
	assert_int_equal(h, height);
	size_t differ = 0;
	for (size_t i = 0; i < (size_t)w * h; i++)
		differ += got[i] != ((const uint32_t *)want)[i];
	if (differ)
		fail_msg("%zu of %u pixels differ", differ, w * h);
	free(got);
}

static void test_snapshot_is_the_guest_frame(void **state)
{
	struct guest g = { .fourcc = DRM_FORMAT_XRGB8888, .width = 800, .height = 600 };
	uint8_t *frame = malloc(800 * 600 * 4);
	picture_fill(frame, 800, 600, 77);
	g.pixels = frame;
	assert_int_equal(run_snapshot(&g, "snap.png"), 0);
	assert_png_equals("snap.png", frame, 800, 600);
	/* Written through a temporary file renamed into place. */
	assert_int_equal(access("snap.png.tmp", F_OK), -1);
	unlink("snap.png");
	free(frame);
}

/* A format that needs converting: the PNG holds the colours, not the bytes. */
static void test_snapshot_converts_xbgr(void **state)
{
	struct guest g = { .fourcc = DRM_FORMAT_XBGR8888, .width = 640, .height = 480 };
	uint8_t *want = malloc(640 * 480 * 4), *plane = malloc(640 * 480 * 4);
	picture_fill(want, 640, 480, 78);
	for (size_t i = 0; i < 640 * 480; i++) {
		plane[i * 4 + 0] = want[i * 4 + 2];
		plane[i * 4 + 1] = want[i * 4 + 1];
		plane[i * 4 + 2] = want[i * 4 + 0];
		plane[i * 4 + 3] = 0x5a;
	}
	g.pixels = plane;
	assert_int_equal(run_snapshot(&g, "snap-bgr.png"), 0);
	assert_png_equals("snap-bgr.png", want, 640, 480);
	unlink("snap-bgr.png");
	free(want);
	free(plane);
}

/* Display off: status 3 and the "No signal" placeholder clients would see, at its default size. */
static void test_display_off_writes_the_placeholder(void **state)
{
	struct guest g = { .fourcc = 0 };
	assert_int_equal(run_snapshot(&g, "snap-off.png"), 3);
	uint8_t *no_signal = expected_placeholder(PLACEHOLDER_NO_SIGNAL, NULL, 1024, 768);
	assert_non_null(no_signal);
	assert_png_equals("snap-off.png", no_signal, 1024, 768);
	free(no_signal);
	unlink("snap-off.png");
}

static void test_unwritable_path_fails(void **state)
{
	struct guest g = { .fourcc = DRM_FORMAT_XRGB8888, .width = 64, .height = 64 };
	uint8_t frame[64 * 64 * 4] = { 0 };
	g.pixels = frame;
	assert_int_equal(run_snapshot(&g, "/nonexistent-dir/snap.png"), 1);
	assert_int_equal(access("/nonexistent-dir/snap.png", F_OK), -1);
}

/* The cursor plane is drawn in at its place, alpha-blended; --no-cursor leaves it out. */
static void test_snapshot_draws_the_cursor(void **state)
{
	uint32_t cursor[CURSOR_SIZE * CURSOR_SIZE] = { 0 };
	for (int y = 8; y < 24; y++)
		for (int x = 8; x < 24; x++)
			cursor[y * CURSOR_SIZE + x] = x < 16 ? 0xffff0000 : 0x80004000;
	struct guest g = { .fourcc = DRM_FORMAT_XRGB8888, .width = 320, .height = 200,
			   .cursor = cursor, .cursor_x = 100, .cursor_y = 50 };
	uint8_t *frame = malloc(320 * 200 * 4);
	picture_fill(frame, 320, 200, 5);
	g.pixels = frame;

	g.no_cursor = true;
	assert_int_equal(run_snapshot(&g, "snap-nocursor.png"), 0);
	assert_png_equals("snap-nocursor.png", frame, 320, 200);
	unlink("snap-nocursor.png");

	/* Opaque red on the left half; half-transparent premultiplied green on the right. */
	uint8_t *want = malloc(320 * 200 * 4);
	memcpy(want, frame, 320 * 200 * 4);
	for (int y = 8; y < 24; y++) {
		for (int x = 8; x < 24; x++) {
			uint8_t *p = want + ((size_t)(50 + y) * 320 + 100 + x) * 4;
			if (x < 16) {
				p[0] = 0, p[1] = 0, p[2] = 0xff;
			} else {
				for (int i = 0; i < 3; i++)
					p[i] = (uint8_t)((i == 1 ? 0x40 : 0) + (p[i] * 0x7f + 127) / 255);
			}
		}
	}
	g.no_cursor = false;
	assert_int_equal(run_snapshot(&g, "snap-cursor.png"), 0);
	assert_png_equals("snap-cursor.png", want, 320, 200);
	unlink("snap-cursor.png");
	free(want);
	free(frame);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_snapshot_is_the_guest_frame),
		cmocka_unit_test(test_snapshot_converts_xbgr),
		cmocka_unit_test(test_display_off_writes_the_placeholder),
		cmocka_unit_test(test_unwritable_path_fails),
		cmocka_unit_test(test_snapshot_draws_the_cursor),
	};
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
