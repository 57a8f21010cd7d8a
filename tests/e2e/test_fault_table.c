// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The fault table of issue 12, the rows the simulator injects today: with
 * two clients connected, each fault leaves the daemon up and the clients
 * connected, says what happened in at most one warning however many frames
 * it lasts, and once it ends the clients see the guest's picture again and
 * the daemon holds as many fds (beside the dmabuf fds its id cache keeps)
 * and threads as before.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <drm_fourcc.h>

#include "harness.h"
#include "simctl.h"
#include "vnc_probe.h"

#define W 640
#define H 480
#define DEADLINE_MS 10000
/* A lasting fault: about two seconds of frames at the default 60 Hz. */
#define LASTING_FRAMES 120
/*
 * A lasting query fault: two seconds, past the daemon's 1 s grace before
 * a warning. Timed, not counted in queries: the poll queries several times
 * a frame while the guest flips, once a frame when it does not.
 */
#define LASTING_MS 2000
/* A query fault's count that outlasts LASTING_MS however often the daemon queries. */
#define QUERY_FAULT_MAX 0xffffu
/* A bad plane is left in place this long before the guest recovers. */
#define BAD_PLANE_MS 1000

enum fault_kind {
	QUERY_FAILS,   /* the next `frames` primary queries fail with err */
	QUERY_FAILS_LASTING, /* primary queries fail with err for LASTING_MS */
	DMABUF_FAILS,  /* the next `frames` GET_GFX_DMABUF fail (on a new mode) */
	MMAP_REFUSED,  /* a new mode whose dmabuf cannot be mapped */
	ABSURD_PLANE,  /* the guest's plane becomes `plane` */
};

struct fault_row {
	const char *name;
	enum fault_kind kind;
	int err;
	unsigned frames;
	struct sim_plane_desc plane;
	int warnings; /* lines at warning level or worse the row must log */
};

#define XRGB(w, h, s, sz, alloc) \
	{ .fourcc = DRM_FORMAT_XRGB8888, .width = (w), .height = (h), .stride = (s), \
	  .size = (sz), .alloc_size = (alloc) }

static const struct fault_row rows[] = {
	/* A moment's ENODEV or EIO is checked against the device, then waits out the grace. */
	{ "query EIO, one frame", QUERY_FAILS, EIO, 1, { 0 }, 0 },
	{ "query ENODEV, one frame", QUERY_FAILS, ENODEV, 1, { 0 }, 0 },
	{ "query EINVAL, one frame", QUERY_FAILS, EINVAL, 1, { 0 }, 1 },
	{ "query EFAULT, one frame", QUERY_FAILS, EFAULT, 1, { 0 }, 0 },
	{ "query ENOMEM, one frame", QUERY_FAILS, ENOMEM, 1, { 0 }, 0 },
	{ "query EAGAIN, one frame", QUERY_FAILS, EAGAIN, 1, { 0 }, 0 },
	{ "query EIO, lasting", QUERY_FAILS_LASTING, EIO, 0, { 0 }, 1 },
	{ "query ENODEV, lasting", QUERY_FAILS_LASTING, ENODEV, 0, { 0 }, 1 },
	{ "query EINVAL, lasting", QUERY_FAILS_LASTING, EINVAL, 0, { 0 }, 1 },
	{ "query EFAULT, lasting", QUERY_FAILS_LASTING, EFAULT, 0, { 0 }, 1 },
	{ "query ENOMEM, lasting", QUERY_FAILS_LASTING, ENOMEM, 0, { 0 }, 1 },
	{ "query EAGAIN, lasting", QUERY_FAILS_LASTING, EAGAIN, 0, { 0 }, 1 },
	{ "GET_GFX_DMABUF EIO, once", DMABUF_FAILS, EIO, 1, XRGB(800, 600, 3200, 1920000, 0), 1 },
	{ "GET_GFX_DMABUF EIO, lasting", DMABUF_FAILS, EIO, LASTING_FRAMES,
	  XRGB(800, 600, 3200, 1920000, 0), 1 },
	{ "mmap refused", MMAP_REFUSED, EINVAL, 0, XRGB(800, 600, 3200, 1920000, 0), 1 },
	{ "0x0 plane", ABSURD_PLANE, 0, 0, XRGB(0, 0, 0, 4096, 0), 1 },
	{ "65536x65536 plane", ABSURD_PLANE, 0, 0, XRGB(65536, 65536, 262144, 4096, 0), 1 },
	{ "stride smaller than a row", ABSURD_PLANE, 0, 0, XRGB(W, H, W * 4 - 4, W * H * 4, 0), 1 },
	{ "size smaller than stride x height", ABSURD_PLANE, 0, 0,
	  XRGB(W, H, W * 4, W * 4 * (H - 1), 0), 1 },
	{ "dmabuf smaller than the plane claims", ABSURD_PLANE, 0, 0,
	  XRGB(W, H, W * 4, W * H * 4, W * H * 2), 1 },
	/* 262144 x 16385 = 2^32 + 262144: wrapped to 32 bits, the size would look right. */
	{ "stride x height overflowing 32 bits", ABSURD_PLANE, 0, 0,
	  XRGB(65536, 16385, 262144, 262144, 0), 1 },
	{ "unknown format", ABSURD_PLANE, 0, 0,
	  { .fourcc = fourcc_code('Z', 'Z', 'Z', 'Z'), .width = W, .height = H, .stride = W * 4,
	    .size = W * H * 4 }, 1 },
	{ "unknown modifier", ABSURD_PLANE, 0, 0,
	  { .fourcc = DRM_FORMAT_XRGB8888, .modifier = 0x00ffffffffffff01ull, .width = W,
	    .height = H, .stride = W * 4, .size = W * H * 4 }, 1 },
};

struct bed {
	struct daemon_proc d;
	struct vnc_probe *probe[2];
	uint8_t *pixels;
	uint32_t seed;
};

static struct sim_stats stats(struct bed *b)
{
	struct sim_stats s;
	assert_int_equal(simctl_stats(b->d.sim, &s), 0);
	return s;
}

static int warnings_logged(const struct bed *b)
{
	return daemon_log_count(&b->d, "<4>e2e: ") + daemon_log_count(&b->d, "<3>e2e: ");
}

/* The guest in its normal W x H mode with a new picture, which both clients must show. */
static void guest_shows(struct bed *b)
{
	const struct sim_plane_desc desc = XRGB(W, H, W * 4, W * H * 4, 0);
	assert_int_equal(simctl_set_plane(b->d.sim, 1, &desc), 0);
	picture_fill(b->pixels, W, H, ++b->seed);
	assert_int_equal(simctl_write(b->d.sim, 1, 0, b->pixels, W * H * 4), 0);
	for (int i = 0; i < 2; i++)
		assert_true(vnc_probe_wait_picture(b->probe[i], b->pixels, W, H, DEADLINE_MS));
}

/* Keeps both clients reading while the daemon works through ms of frames. */
static void watch(struct bed *b, int ms)
{
	for (uint64_t start = now_ms(); now_ms() - start < (uint64_t)ms;)
		for (int i = 0; i < 2; i++)
			assert_true(vnc_probe_pump(b->probe[i], 10));
}

static void wait_queries(struct bed *b, unsigned n)
{
	assert_true(daemon_wait_queries(&b->d, n, DEADLINE_MS));
}

static void inject(struct bed *b, const struct fault_row *row)
{
	struct simctl *sim = b->d.sim;
	switch (row->kind) {
	case QUERY_FAILS:
		assert_int_equal(simctl_fault(sim, SIM_FAULT_QUERY_ERRNO,
					      (uint32_t)row->err | row->frames << 16), 0);
		/* Every failing query made, and one that worked. */
		wait_queries(b, row->frames + 1);
		break;
	case QUERY_FAILS_LASTING:
		assert_int_equal(simctl_fault(sim, SIM_FAULT_QUERY_ERRNO,
					      (uint32_t)row->err | QUERY_FAULT_MAX << 16), 0);
		watch(b, LASTING_MS);
		assert_int_equal(simctl_fault(sim, SIM_FAULT_QUERY_ERRNO, 0), 0);
		/* One that worked. */
		wait_queries(b, 1);
		break;
	case DMABUF_FAILS:
		assert_int_equal(simctl_fault(sim, SIM_FAULT_DMABUF_EIO, row->frames), 0);
		assert_int_equal(simctl_set_plane(sim, 1, &row->plane), 0);
		wait_queries(b, row->frames + 1);
		assert_int_equal(simctl_fault(sim, SIM_FAULT_DMABUF_EIO, 0), 0);
		break;
	case MMAP_REFUSED:
		assert_int_equal(simctl_fault(sim, SIM_FAULT_MMAP_EINVAL, 1), 0);
		assert_int_equal(simctl_set_plane(sim, 1, &row->plane), 0);
		watch(b, BAD_PLANE_MS);
		assert_int_equal(simctl_fault(sim, SIM_FAULT_MMAP_EINVAL, 0), 0);
		break;
	case ABSURD_PLANE:
		assert_int_equal(simctl_set_plane(sim, 1, &row->plane), 0);
		watch(b, BAD_PLANE_MS);
		break;
	}
}

static void run_row(struct bed *b, const struct fault_row *row)
{
	int fds = daemon_fds_beside_sim(&b->d), threads = daemon_proc_entries(&b->d, "task");
	int warned = warnings_logged(b);
	uint64_t start = now_ms();
	inject(b, row);
	guest_shows(b);
	int logged = warnings_logged(b) - warned;
	print_message("%-40s %5llu ms, %d warning(s), %u dmabuf fds held\n", row->name,
		      (unsigned long long)(now_ms() - start), logged, stats(b).open_dmabuf_fds);
	if (logged != row->warnings)
		fail_msg("%s: %d warnings logged, expected %d", row->name, logged, row->warnings);
	assert_true(daemon_wait_counts(&b->d, fds, threads, DEADLINE_MS));
}

static void test_fault_table(void **state)
{
	struct bed b = { .seed = 100 };
	/* The CPU path alone: with import = auto a refused map goes on to the GPU, if it can. */
	char config[] = "/tmp/mdev-vncd-faults.XXXXXX.conf";
	int fd = mkstemps(config, 5);
	assert_true(fd >= 0);
	dprintf(fd, "import = mmap\n");
	close(fd);
	const char *const args[] = { "--config", config, NULL };
	const struct daemon_options opts = { .extra_args = args };
	daemon_start(&b.d, &opts);
	unlink(config);
	b.pixels = malloc(W * H * 4);
	assert_non_null(b.pixels);
	for (int i = 0; i < 2; i++) {
		b.probe[i] = vnc_probe_connect(b.d.port, "raw");
		assert_non_null(b.probe[i]);
	}
	guest_shows(&b);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		run_row(&b, &rows[i]);
	for (int i = 0; i < 2; i++)
		vnc_probe_free(b.probe[i]);
	assert_int_equal(daemon_stop(&b.d, SIGTERM), 0);
	assert_int_equal(daemon_report_value(&b.d, "open_sim_fds"), 0);
	free(b.pixels);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fault_table),
	};
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
