// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * End to end: the production daemon under the simulated vGPU, checked by
 * libvncclient clients that compare every pixel.
 */
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <cmocka.h>
#include <drm_fourcc.h>

#include "expected_placeholder.h"
#include "harness.h"
#include "simctl.h"
#include "vnc_probe.h"

#define PRIMARY 1
#define WAIT_MS 30000 /* generous: .ci/run runs this with the daemon under valgrind */

struct mode {
	uint32_t width, height;
	uint8_t *pixels;
};

static void mode_set(struct daemon_proc *d, struct mode *m, uint32_t width, uint32_t height,
		     uint32_t fourcc)
{
	free(m->pixels);
	m->width = width;
	m->height = height;
	m->pixels = calloc((size_t)width * height, 4);
	struct sim_plane_desc desc = {
		.fourcc = fourcc,
		.width = width,
		.height = height,
		.stride = width * 4,
		.size = width * height * 4,
	};
	assert_int_equal(simctl_set_plane(d->sim, PRIMARY, &desc), 0);
}

/* Puts a new picture on the plane by page flip; m->pixels is what clients must see. */
static void flip_picture(struct daemon_proc *d, struct mode *m, uint32_t seed)
{
	picture_fill(m->pixels, m->width, m->height, seed);
	assert_int_equal(simctl_flip(d->sim, PRIMARY, m->pixels, (size_t)m->width * m->height * 4), 0);
}

static void test_flip_reaches_client_exactly(void **state)
{
	struct daemon_proc d;
	struct mode m = { 0 };
	daemon_start(&d, NULL);
	mode_set(&d, &m, 1024, 768, DRM_FORMAT_XRGB8888);
	flip_picture(&d, &m, 1);

	struct vnc_probe *probe = vnc_probe_connect(d.port, "raw");
	assert_non_null(probe);
	assert_true(vnc_probe_wait_picture(probe, m.pixels, m.width, m.height, WAIT_MS));
	for (uint32_t seed = 2; seed < 6; seed++) {
		flip_picture(&d, &m, seed);
		assert_true(vnc_probe_wait_picture(probe, m.pixels, m.width, m.height, WAIT_MS));
	}
	/* The same buffer drawn in place (no new id) must reach the client too. */
	picture_fill(m.pixels, m.width, m.height, 42);
	assert_int_equal(simctl_write(d.sim, PRIMARY, 0, m.pixels, (size_t)m.width * m.height * 4), 0);
	assert_true(vnc_probe_wait_picture(probe, m.pixels, m.width, m.height, WAIT_MS));

	vnc_probe_free(probe);
	assert_int_equal(daemon_stop(&d, SIGTERM), 0);
	free(m.pixels);
}

/* XBGR8888 and ABGR8888 sources: the picture the client sees is the same colours. */
static void test_bgr_formats(void **state)
{
	static const uint32_t formats[] = { DRM_FORMAT_XBGR8888, DRM_FORMAT_ABGR8888,
					    DRM_FORMAT_ARGB8888 };
	struct daemon_proc d;
	daemon_start(&d, NULL);
	struct vnc_probe *probe = vnc_probe_connect(d.port, "raw");
	assert_non_null(probe);
	for (size_t f = 0; f < sizeof(formats) / sizeof(formats[0]); f++) {
		struct mode m = { 0 };
		mode_set(&d, &m, 640, 480, formats[f]);
		uint8_t *expected = malloc((size_t)m.width * m.height * 4);
		picture_fill(expected, m.width, m.height, 7 + (uint32_t)f);
		for (size_t i = 0; i < (size_t)m.width * m.height; i++) {
			uint8_t *src = &m.pixels[i * 4], *want = &expected[i * 4];
			bool bgr = formats[f] != DRM_FORMAT_ARGB8888;
			src[0] = bgr ? want[2] : want[0];
			src[1] = want[1];
			src[2] = bgr ? want[0] : want[2];
			src[3] = 0x80; /* alpha must not leak into the picture */
		}
		assert_int_equal(simctl_flip(d.sim, PRIMARY, m.pixels, (size_t)m.width * m.height * 4), 0);
		/* mbochs scans out XRGB8888 only: anything else is no framebuffer, "No signal". */
		if (sim_driver_is("mbochs")) {
			assert_true(daemon_wait_queries(&d, 2, WAIT_MS));
			assert_true(vnc_probe_wait_colour(probe, NO_SIGNAL_ACCENT, WAIT_MS));
		} else {
			assert_true(vnc_probe_wait_picture(probe, expected, m.width, m.height, WAIT_MS));
		}
		free(expected);
		free(m.pixels);
	}
	vnc_probe_free(probe);
	assert_int_equal(daemon_stop(&d, SIGTERM), 0);
}

static void test_one_tile_change_sends_one_tile(void **state)
{
	struct daemon_proc d;
	struct mode m = { 0 };
	daemon_start(&d, NULL);
	mode_set(&d, &m, 1024, 768, DRM_FORMAT_XRGB8888);
	flip_picture(&d, &m, 3);
	struct vnc_probe *probe = vnc_probe_connect(d.port, "raw");
	assert_non_null(probe);
	assert_true(vnc_probe_wait_picture(probe, m.pixels, m.width, m.height, WAIT_MS));
	/* Let any trailing update drain, then count only what the change causes. */
	assert_true(vnc_probe_pump(probe, 200));
	vnc_probe_reset_counts(probe);

	/* Change pixels inside the tile at column 5, row 3 only. */
	for (uint32_t y = 3 * 64 + 10; y < 3 * 64 + 50; y++)
		for (uint32_t x = 5 * 64 + 1; x < 5 * 64 + 63; x++)
			((uint32_t *)m.pixels)[y * m.width + x] ^= 0x00ffffff;
	assert_int_equal(simctl_write(d.sim, PRIMARY, 0, m.pixels, (size_t)m.width * m.height * 4), 0);
	assert_true(vnc_probe_wait_picture(probe, m.pixels, m.width, m.height, WAIT_MS));
	assert_true(vnc_probe_pump(probe, 200));

	assert_int_equal(probe->pixels, 64 * 64);
	assert_int_equal(probe->min_x, 5 * 64);
	assert_int_equal(probe->min_y, 3 * 64);
	assert_int_equal(probe->max_x, 6 * 64);
	assert_int_equal(probe->max_y, 4 * 64);

	vnc_probe_free(probe);
	assert_int_equal(daemon_stop(&d, SIGTERM), 0);
	free(m.pixels);
}

static void test_mode_change_resizes_client(void **state)
{
	static const uint32_t sizes[][2] = { { 800, 600 }, { 1024, 768 }, { 640, 480 }, { 1000, 700 } };
	struct daemon_proc d;
	struct mode m = { 0 };
	daemon_start(&d, NULL);
	mode_set(&d, &m, 800, 600, DRM_FORMAT_XRGB8888);
	flip_picture(&d, &m, 10);
	struct vnc_probe *probe = vnc_probe_connect(d.port, "raw");
	assert_non_null(probe);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		if (i > 0) {
			mode_set(&d, &m, sizes[i][0], sizes[i][1], DRM_FORMAT_XRGB8888);
			flip_picture(&d, &m, 11 + (uint32_t)i);
		}
		assert_true(vnc_probe_wait_picture(probe, m.pixels, m.width, m.height, WAIT_MS));
	}
	vnc_probe_free(probe);
	assert_int_equal(daemon_stop(&d, SIGTERM), 0);
	free(m.pixels);
}

static void test_three_clients(void **state)
{
	struct daemon_proc d;
	struct mode m = { 0 };
	daemon_start(&d, NULL);
	mode_set(&d, &m, 1024, 768, DRM_FORMAT_XRGB8888);
	flip_picture(&d, &m, 20);
	struct vnc_probe *probes[3];
	const char *encodings[3] = { "raw", "zrle", "hextile" };
	for (int i = 0; i < 3; i++) {
		probes[i] = vnc_probe_connect(d.port, encodings[i]);
		assert_non_null(probes[i]);
	}
	for (uint32_t seed = 21; seed < 24; seed++) {
		flip_picture(&d, &m, seed);
		for (int i = 0; i < 3; i++)
			assert_true(vnc_probe_wait_picture(probes[i], m.pixels, m.width, m.height,
							   WAIT_MS));
	}
	for (int i = 0; i < 3; i++)
		vnc_probe_free(probes[i]);
	assert_int_equal(daemon_stop(&d, SIGTERM), 0);
	free(m.pixels);
}

/* Speaks just enough RFB to ask for many full updates, then never reads. */
static int connect_stalled_client(uint16_t port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	int small = 4096;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	struct sockaddr_in addr = {
		.sin_family = AF_INET,
		.sin_port = htons(port),
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	};
	assert_int_equal(connect(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	char version[12];
	assert_int_equal(recv(fd, version, 12, MSG_WAITALL), 12);
	assert_int_equal(send(fd, "RFB 003.008\n", 12, 0), 12);
	uint8_t count, types[16];
	assert_int_equal(recv(fd, &count, 1, MSG_WAITALL), 1);
	assert_true(count > 0 && count <= sizeof(types));
	assert_int_equal(recv(fd, types, count, MSG_WAITALL), count);
	uint8_t none = 1, shared = 1;
	assert_int_equal(send(fd, &none, 1, 0), 1);
	uint8_t result[4];
	assert_int_equal(recv(fd, result, 4, MSG_WAITALL), 4);
	assert_int_equal(send(fd, &shared, 1, 0), 1);
	uint8_t init[24];
	assert_int_equal(recv(fd, init, 24, MSG_WAITALL), 24);
	uint32_t name_len = ntohl(*(uint32_t *)&init[20]);
	char name[256];
	assert_true(name_len < sizeof(name));
	assert_int_equal(recv(fd, name, name_len, MSG_WAITALL), (ssize_t)name_len);
	uint16_t w = ntohs(*(uint16_t *)&init[0]), h = ntohs(*(uint16_t *)&init[2]);
	uint8_t request[10] = { 3, 0, 0, 0, 0, 0, (uint8_t)(w >> 8), (uint8_t)w, (uint8_t)(h >> 8),
				(uint8_t)h };
	for (int i = 0; i < 200; i++)
		assert_int_equal(send(fd, request, sizeof(request), MSG_DONTWAIT), 10);
	return fd;
}

static void test_stalled_client_does_not_delay_others(void **state)
{
	struct daemon_proc d;
	struct mode m = { 0 };
	daemon_start(&d, NULL);
	mode_set(&d, &m, 1024, 768, DRM_FORMAT_XRGB8888);
	flip_picture(&d, &m, 30);
	struct vnc_probe *probe = vnc_probe_connect(d.port, "raw");
	assert_non_null(probe);
	assert_true(vnc_probe_wait_picture(probe, m.pixels, m.width, m.height, WAIT_MS));

	int stalled = connect_stalled_client(d.port);
	/* Each flip changes every pixel: the stalled client's socket fills at once. */
	uint64_t worst = 0;
	for (uint32_t seed = 31; seed < 61; seed++) {
		flip_picture(&d, &m, seed);
		uint64_t start = now_ms();
		assert_true(vnc_probe_wait_picture(probe, m.pixels, m.width, m.height, WAIT_MS));
		if (now_ms() - start > worst)
			worst = now_ms() - start;
	}
	/*
	 * A server stalled on the other client would wait its 20 s write timeout;
	 * half of it tells the two apart even with the daemon under valgrind.
	 */
	print_message("worst flip-to-picture with a stalled client beside: %llu ms\n",
		      (unsigned long long)worst);
	assert_true(worst < 10000);
	close(stalled);
	vnc_probe_free(probe);
	assert_int_equal(daemon_stop(&d, SIGTERM), 0);
	free(m.pixels);
}

static void test_sigterm_releases_everything(void **state)
{
	struct daemon_proc d;
	struct mode m = { 0 };
	daemon_start(&d, NULL);
	mode_set(&d, &m, 800, 600, DRM_FORMAT_XRGB8888);
	struct vnc_probe *probe = vnc_probe_connect(d.port, "raw");
	assert_non_null(probe);
	for (uint32_t seed = 70; seed < 80; seed++) {
		flip_picture(&d, &m, seed);
		assert_true(vnc_probe_wait_picture(probe, m.pixels, m.width, m.height, WAIT_MS));
	}
	/* Stop with a client still connected: its thread and socket must go too. */
	assert_int_equal(daemon_stop(&d, SIGTERM), 0);
	vnc_probe_free(probe);
	assert_int_equal(daemon_report_value(&d, "open_sim_fds"), 0);
	assert_int_equal(daemon_report_value(&d, "mapped_sim_buffers"), 0);
	/* The driver rules: never two fds for one id, never a re-fetch after close. */
	assert_int_equal(daemon_report_value(&d, "dmabuf_double_fetch"), 0);
	assert_int_equal(daemon_report_value(&d, "dmabuf_refetch_after_close"), 0);
	free(m.pixels);
}

static void test_plane_off_shows_no_signal_then_recovers(void **state)
{
	struct daemon_proc d;
	struct mode m = { 0 };
	daemon_start(&d, NULL);
	mode_set(&d, &m, 800, 600, DRM_FORMAT_XRGB8888);
	flip_picture(&d, &m, 90);
	struct vnc_probe *probe = vnc_probe_connect(d.port, "raw");
	assert_non_null(probe);
	assert_true(vnc_probe_wait_picture(probe, m.pixels, m.width, m.height, WAIT_MS));

	/* The sim starts with the plane off: that start was logged already. */
	int logged = daemon_log_count(&d, "turned its display off");
	struct sim_plane_desc off = { 0 };
	assert_int_equal(simctl_set_plane(d.sim, PRIMARY, &off), 0);
	/* The "No signal" placeholder, at the guest's last size. */
	uint8_t *no_signal = expected_placeholder(PLACEHOLDER_NO_SIGNAL, NULL, 800, 600);
	assert_non_null(no_signal);
	assert_true(vnc_probe_wait_picture(probe, no_signal, 800, 600, WAIT_MS));
	free(no_signal);
	assert_true(daemon_wait_log(&d, "turned its display off", logged + 1, WAIT_MS));
	/* Said once, not once per frame. */
	assert_true(vnc_probe_pump(probe, 300));
	assert_int_equal(daemon_log_count(&d, "turned its display off"), logged + 1);

	mode_set(&d, &m, 800, 600, DRM_FORMAT_XRGB8888);
	flip_picture(&d, &m, 91);
	assert_true(vnc_probe_wait_picture(probe, m.pixels, m.width, m.height, WAIT_MS));
	vnc_probe_free(probe);
	assert_int_equal(daemon_stop(&d, SIGTERM), 0);
	free(m.pixels);
}

static void test_refused_mmap_is_one_log_line(void **state)
{
	struct daemon_proc d;
	struct mode m = { 0 };
	daemon_start(&d, NULL);
	assert_int_equal(simctl_fault(d.sim, SIM_FAULT_MMAP_EINVAL, 1), 0);
	mode_set(&d, &m, 800, 600, DRM_FORMAT_XRGB8888);
	flip_picture(&d, &m, 100);
	struct vnc_probe *probe = vnc_probe_connect(d.port, "raw");
	assert_non_null(probe);
	/* The "Cannot map" placeholder at the guest's size, with the reason it logged. */
	assert_true(daemon_wait_log(&d, "cannot map", 1, WAIT_MS));
	char why[256];
	assert_true(placeholder_logged_detail(&d, "cannot map the display buffer", why, sizeof(why)));
	uint8_t *cannot_map = expected_placeholder(PLACEHOLDER_CANNOT_MAP, why, 800, 600);
	assert_non_null(cannot_map);
	assert_true(vnc_probe_wait_picture(probe, cannot_map, 800, 600, WAIT_MS));
	free(cannot_map);
	assert_true(vnc_probe_pump(probe, 300));
	assert_int_equal(daemon_log_count(&d, "cannot map"), 1);

	/* A new mode on a mappable exporter recovers. */
	assert_int_equal(simctl_fault(d.sim, SIM_FAULT_MMAP_EINVAL, 0), 0);
	mode_set(&d, &m, 640, 480, DRM_FORMAT_XRGB8888);
	flip_picture(&d, &m, 101);
	assert_true(vnc_probe_wait_picture(probe, m.pixels, m.width, m.height, WAIT_MS));
	vnc_probe_free(probe);
	assert_int_equal(daemon_stop(&d, SIGTERM), 0);
	free(m.pixels);
}

/*
 * The "Bad plane" placeholder with the reason the daemon logged, at the size
 * clients had (no guest picture was shown yet: the default 1024x768); the
 * daemon has logged logs invalid planes by then, one line each.
 */
static void expect_bad_plane(struct daemon_proc *d, struct vnc_probe *probe, int logs)
{
	char why[256];
	assert_true(daemon_wait_log(d, "invalid plane", logs, WAIT_MS));
	assert_true(placeholder_logged_detail(d, "the device described an invalid plane", why,
					      sizeof(why)));
	uint8_t *bad_plane = expected_placeholder(PLACEHOLDER_BAD_PLANE, why, 1024, 768);
	assert_non_null(bad_plane);
	assert_true(vnc_probe_wait_picture(probe, bad_plane, 1024, 768, WAIT_MS));
	free(bad_plane);
	assert_true(vnc_probe_pump(probe, 300));
	assert_int_equal(daemon_log_count(d, "invalid plane"), logs);
}

static void test_lying_plane_is_skipped(void **state)
{
	struct daemon_proc d;
	daemon_start(&d, NULL);
	/* The device claims 1024x768 but the dmabuf holds only a quarter of it. */
	struct sim_plane_desc lie = {
		.fourcc = DRM_FORMAT_XRGB8888,
		.width = 1024,
		.height = 768,
		.stride = 4096,
		.size = 4096 * 768,
		.alloc_size = 4096 * 192,
	};
	assert_int_equal(simctl_set_plane(d.sim, PRIMARY, &lie), 0);
	struct vnc_probe *probe = vnc_probe_connect(d.port, "raw");
	assert_non_null(probe);
	expect_bad_plane(&d, probe, 1);

	/* A stride too small for the width, inside a big enough buffer. */
	struct sim_plane_desc narrow = lie;
	narrow.stride = 1000;
	narrow.size = narrow.alloc_size = 1000 * 768;
	assert_int_equal(simctl_set_plane(d.sim, PRIMARY, &narrow), 0);
	expect_bad_plane(&d, probe, 2);

	struct mode m = { 0 };
	mode_set(&d, &m, 1024, 768, DRM_FORMAT_XRGB8888);
	flip_picture(&d, &m, 110);
	assert_true(vnc_probe_wait_picture(probe, m.pixels, m.width, m.height, WAIT_MS));
	vnc_probe_free(probe);
	assert_int_equal(daemon_stop(&d, SIGTERM), 0);
	free(m.pixels);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_flip_reaches_client_exactly),
		cmocka_unit_test(test_bgr_formats),
		cmocka_unit_test(test_one_tile_change_sends_one_tile),
		cmocka_unit_test(test_mode_change_resizes_client),
		cmocka_unit_test(test_three_clients),
		cmocka_unit_test(test_stalled_client_does_not_delay_others),
		cmocka_unit_test(test_sigterm_releases_everything),
		cmocka_unit_test(test_plane_off_shows_no_signal_then_recovers),
		cmocka_unit_test(test_refused_mmap_is_one_log_line),
		cmocka_unit_test(test_lying_plane_is_skipped),
	};
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
