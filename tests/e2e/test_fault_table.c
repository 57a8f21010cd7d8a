// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The fault table of issue 12, the rows the simulator injects through its
 * planes and at the system-call boundary: with two clients connected, each
 * fault leaves the daemon up and the clients connected, says what happened
 * in one warning however many frames it lasts (or none where nothing went
 * wrong), and once it ends the clients see the guest's picture again and the
 * daemon holds as many fds (beside the dmabuf fds its id cache keeps),
 * threads and memory as before (fault_bed.c). Run on the gvt and mbochs
 * personalities too, without the rows the driver cannot express.
 *
 * With the argument "reboot": the plane switched off for 30 s, a VM
 * reboot, then back at another size (its own ctest, run beside the others).
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

#include "fault_bed.h"
#include "proc_stats.h"

#define W FAULT_W
#define H FAULT_H
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
/* A mode rows move to. */
#define NEW_W 800
#define NEW_H 600

enum fault_kind {
	QUERY_FAILS,   /* the next `frames` primary queries fail with err */
	QUERY_FAILS_LASTING, /* primary queries fail with err for LASTING_MS */
	DMABUF_FAILS,  /* the next `frames` GET_GFX_DMABUF fail (on a new mode) */
	MMAP_REFUSED,  /* a new mode whose dmabuf cannot be mapped */
	SYNC_FAILS,    /* the next `frames` DMA_BUF_IOCTL_SYNC fail with err */
	LSEEK_FAILS,   /* a new mode `plane` whose dmabuf's size cannot be read for `frames` lseeks */
	ABSURD_PLANE,  /* the guest's plane becomes `plane` */
	SHOWN_PLANE,   /* the guest's plane becomes `plane`, an odd mode that is shown */
	ID_REUSED,     /* the plane's buffer keeps its id but is described as `plane` */
	BIG_CURSOR,    /* a cursor plane `plane` that is refused: no cursor drawn */
	HOTSPOT_OFF,   /* an opaque cursor plane `plane` whose hotspot is off the cursor */
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
#define ARGB_CURSOR(side, x_, y_, xh, yh) \
	{ .fourcc = DRM_FORMAT_ARGB8888, .width = (side), .height = (side), .stride = (side) * 4, \
	  .size = (side) * (side) * 4, .x = (x_), .y = (y_), .x_hot = (xh), .y_hot = (yh) }
#define ENDLESS SIM_FAULT_COUNT_ENDLESS

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
	/*
	 * Rows that need a new buffer each set a mode no row set before: mbochs
	 * finds a mode seen before by its old id, which the daemon holds already.
	 */
	{ "mmap refused", MMAP_REFUSED, EINVAL, 0, XRGB(720, 400, 2880, 1152000, 0), 1 },
	/* The frame waits (the last picture stays) until the exporter lets the CPU read. */
	{ "DMA_BUF_IOCTL_SYNC EIO, once", SYNC_FAILS, EIO, 1, { 0 }, 1 },
	{ "DMA_BUF_IOCTL_SYNC EIO, lasting", SYNC_FAILS, EIO, LASTING_FRAMES, { 0 }, 1 },
	/* drmIoctl would retry this one for ever, holding the loop: refreshes must go on. */
	{ "DMA_BUF_IOCTL_SYNC EAGAIN, without end", SYNC_FAILS, EAGAIN, ENDLESS, { 0 }, 1 },
	{ "lseek on the dmabuf EIO, once", LSEEK_FAILS, EIO, 1, XRGB(768, 576, 3072, 1769472, 0),
	  1 },
	{ "lseek on the dmabuf EIO, lasting", LSEEK_FAILS, EIO, LASTING_FRAMES,
	  XRGB(704, 528, 2816, 1486848, 0), 1 },
	{ "0x0 plane", ABSURD_PLANE, 0, 0, XRGB(0, 0, 0, 4096, 0), 1 },
	/* A real, if tiny, mode: shown as it is, nothing to warn about. */
	{ "1x1 plane", SHOWN_PLANE, 0, 0, XRGB(1, 1, 4, 4, 0), 0 },
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
	/* The held buffer is what the id names: shown as the device describes it now. */
	{ "id reused, larger geometry", ID_REUSED, 0, 0, XRGB(NEW_W, NEW_H, NEW_W * 4,
	  NEW_W * NEW_H * 4, 0), 1 },
	{ "id reused, other format and stride", ID_REUSED, 0, 0,
	  { .fourcc = DRM_FORMAT_XBGR8888, .width = 320, .height = 240, .stride = 320 * 4 + 64,
	    .size = (320 * 4 + 64) * 240 }, 1 },
	{ "cursor plane larger than 256x256", BIG_CURSOR, 0, 0, ARGB_CURSOR(512, 100, 100, 0, 0), 1 },
	{ "cursor hotspot outside the cursor", HOTSPOT_OFF, 0, 0,
	  ARGB_CURSOR(64, 100, 100, 1000, 1000), 1 },
};

/* Rows a driver cannot express, and why. */
static const struct {
	const char *row, *driver, *why;
} gaps[] = {
	{ "1x1 plane", "mbochs", "mbochs_check_framebuffer takes no mode under 64x64 (the answer "
	  "is the 0x0 row's)" },
	{ "id reused, larger geometry", "gvt", "GVT-g picks a buffer's id by its geometry "
	  "(pick_dmabuf_by_info)" },
	{ "id reused, other format and stride", "gvt", "GVT-g picks a buffer's id by its "
	  "geometry (pick_dmabuf_by_info)" },
	{ "id reused, larger geometry", "mbochs", "mbochs finds a buffer by its mode "
	  "(mbochs_dmabuf_find_by_mode)" },
	{ "id reused, other format and stride", "mbochs", "mbochs finds a buffer by its mode "
	  "(mbochs_dmabuf_find_by_mode)" },
	{ "cursor plane larger than 256x256", "mbochs", "mbochs has no cursor plane" },
	{ "cursor hotspot outside the cursor", "mbochs", "mbochs has no cursor plane" },
	{ "cursor hotspot outside the cursor", "gvt", "GVT-g's validate_hotspot makes a hotspot "
	  "outside the cursor unknown (0xFFFFFFFF) before the daemon sees it" },
};

static const char *gap(const struct fault_row *row)
{
	for (size_t i = 0; i < sizeof(gaps) / sizeof(gaps[0]); i++)
		if (strcmp(gaps[i].row, row->name) == 0 && sim_driver_is(gaps[i].driver))
			return gaps[i].why;
	return NULL;
}

static void wait_queries(struct fault_bed *b, unsigned n)
{
	assert_true(daemon_wait_queries(&b->d, n, FAULT_DEADLINE_MS));
}

static void fault(struct fault_bed *b, enum sim_fault f, int err, unsigned count)
{
	assert_int_equal(simctl_fault(b->d.sim, f, (uint32_t)err | count << 16), 0);
}

/* A fault every refresh meets: lasting ones for their count, endless ones for a while. */
static void meet(struct fault_bed *b, const struct fault_mark *mark, enum sim_fault f,
		 const struct fault_row *row)
{
	if (row->frames != ENDLESS) {
		fault_bed_wait_injected(b, mark, row->frames);
		return;
	}
	/* The daemon keeps refreshing through it: its loop is not held by the failing call. */
	fault_bed_wait_injected(b, mark, 1);
	wait_queries(b, LASTING_FRAMES / 2);
	fault(b, f, 0, 0);
}

/* An opaque ARGB cursor of one colour; the expected picture is the guest's with it pasted. */
static void cursor_case(struct fault_bed *b, const struct fault_row *row, bool drawn)
{
	const struct sim_plane_desc *c = &row->plane;
	size_t n = (size_t)c->width * c->height;
	uint32_t *px = malloc(n * 4);
	uint8_t *expected = malloc((size_t)W * H * 4);
	assert_true(px && expected);
	for (size_t i = 0; i < n; i++)
		px[i] = 0xff2040c0;
	memcpy(expected, b->pixels, (size_t)W * H * 4);
	for (uint32_t y = 0; drawn && y < c->height; y++)
		for (uint32_t x = 0; x < c->width; x++)
			((uint32_t *)expected)[(c->y + y) * W + c->x + x] = 0x2040c0;
	assert_int_equal(simctl_set_plane(b->d.sim, 2, c), 0);
	assert_int_equal(simctl_write(b->d.sim, 2, 0, px, n * 4), 0);
	fault_bed_watch(b, BAD_PLANE_MS);
	/* Refused: no cursor at all; an unusable hotspot: the top-left pixel, drawn where it points. */
	assert_true(fault_bed_clients_show(b, expected, W, H));
	const struct sim_plane_desc off = { 0 };
	assert_int_equal(simctl_set_plane(b->d.sim, 2, &off), 0);
	free(px);
	free(expected);
}

/* The plane's buffer described anew; the guest draws into it as it is now. */
static void id_reused(struct fault_bed *b, const struct fault_row *row)
{
	const struct sim_plane_desc *p = &row->plane;
	assert_int_equal(simctl_reshape_plane(b->d.sim, 1, p), 0);
	uint8_t *raw = calloc(p->size, 1);
	assert_non_null(raw);
	picture_fill(b->pixels, p->width, p->height, ++b->seed);
	for (uint32_t y = 0; y < p->height; y++) {
		for (uint32_t x = 0; x < p->width; x++) {
			uint32_t v = ((const uint32_t *)b->pixels)[y * p->width + x];
			if (p->fourcc == DRM_FORMAT_XBGR8888)
				v = (v & 0xff00) | (v >> 16 & 0xff) | (v & 0xff) << 16;
			memcpy(raw + (size_t)y * p->stride + x * 4, &v, 4);
		}
	}
	assert_int_equal(simctl_write(b->d.sim, 1, 0, raw, p->size), 0);
	free(raw);
	assert_true(fault_bed_clients_show(b, b->pixels, p->width, p->height));
}

static void inject(struct fault_bed *b, const struct fault_row *row, const struct fault_mark *mark)
{
	struct simctl *sim = b->d.sim;
	switch (row->kind) {
	case QUERY_FAILS:
		fault(b, SIM_FAULT_QUERY_ERRNO, row->err, row->frames);
		/* Every failing query made, and one that worked. */
		wait_queries(b, row->frames + 1);
		break;
	case QUERY_FAILS_LASTING:
		fault(b, SIM_FAULT_QUERY_ERRNO, row->err, QUERY_FAULT_MAX);
		fault_bed_watch(b, LASTING_MS);
		fault(b, SIM_FAULT_QUERY_ERRNO, 0, 0);
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
		fault_bed_watch(b, BAD_PLANE_MS);
		assert_int_equal(simctl_fault(sim, SIM_FAULT_MMAP_EINVAL, 0), 0);
		break;
	case SYNC_FAILS:
		fault(b, SIM_FAULT_SYNC_ERRNO, row->err, row->frames);
		meet(b, mark, SIM_FAULT_SYNC_ERRNO, row);
		break;
	case LSEEK_FAILS:
		fault(b, SIM_FAULT_LSEEK_ERRNO, row->err, row->frames);
		fault_bed_set_mode(b, row->plane.width, row->plane.height);
		fault_bed_wait_injected(b, mark, row->frames);
		/* The buffer held through the fault shows once its size can be read. */
		fault_bed_show(b, row->plane.width, row->plane.height);
		break;
	case ABSURD_PLANE:
		assert_int_equal(simctl_set_plane(sim, 1, &row->plane), 0);
		fault_bed_watch(b, BAD_PLANE_MS);
		break;
	case SHOWN_PLANE:
		assert_int_equal(simctl_set_plane(sim, 1, &row->plane), 0);
		fault_bed_show(b, row->plane.width, row->plane.height);
		break;
	case ID_REUSED:
		id_reused(b, row);
		break;
	case BIG_CURSOR:
	case HOTSPOT_OFF:
		cursor_case(b, row, row->kind == HOTSPOT_OFF);
		break;
	}
}

static void run_row(struct fault_bed *b, const struct fault_row *row)
{
	const char *why = gap(row);
	if (why) {
		print_message("%-44s skipped on %s: %s\n", row->name, sim_driver(), why);
		return;
	}
	struct fault_mark mark = fault_bed_mark(b);
	inject(b, row, &mark);
	fault_bed_guest_shows(b);
	fault_bed_row_done(b, &mark, row->name, row->warnings);
}

static void test_fault_table(void **state)
{
	struct fault_bed b;
	fault_bed_start(&b, NULL, false);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		run_row(&b, &rows[i]);
	fault_bed_stop(&b);
}

/* The figure for a VM reboot. */
#define REBOOT_OFF_MS 30000
#define REBOOT_W 1024
#define REBOOT_H 768

/*
 * A VM reboot: the plane off for 30 s, then back at another size. The
 * daemon says so once, and neither spins nor logs while it waits: no line
 * at all after the warning, and little CPU (a spinning loop takes a core).
 */
static void test_plane_off_for_a_reboot(void **state)
{
	struct fault_bed b;
	fault_bed_start(&b, NULL, false);
	struct fault_mark mark = fault_bed_mark(&b);
	const struct sim_plane_desc off = { 0 };
	assert_int_equal(simctl_set_plane(b.d.sim, 1, &off), 0);
	for (int i = 0; i < 2; i++)
		assert_true(vnc_probe_wait_colour(b.probe[i], NO_SIGNAL_ACCENT, FAULT_DEADLINE_MS));
	int lines = fault_bed_lines(&b);
	uint64_t cpu = proc_cpu_ns_beside_sim(b.d.pid);
	uint64_t queries = fault_bed_stats(&b).query_primary, start = now_ms();
	fault_bed_watch(&b, REBOOT_OFF_MS);
	double seconds = (double)(now_ms() - start) / 1000.0;
	double cpu_share = (double)(proc_cpu_ns_beside_sim(b.d.pid) - cpu) / 1e9 / seconds;
	queries = fault_bed_stats(&b).query_primary - queries;
	print_message("plane off %.1f s: %llu primary queries, %.1f %% of a core, %d line(s) "
		      "logged\n", seconds, (unsigned long long)queries, cpu_share * 100.0,
		      fault_bed_lines(&b) - lines);
	assert_int_equal(fault_bed_lines(&b), lines);
	/* Polling at 60 Hz, with room for timer slack; a spinning loop makes thousands a second. */
	assert_true((double)queries <= seconds * 70.0);
	assert_true(cpu_share < 0.25);
	fault_bed_set_mode(&b, REBOOT_W, REBOOT_H);
	fault_bed_show(&b, REBOOT_W, REBOOT_H);
	/* Memory is compared at the size the baseline was taken at. */
	fault_bed_guest_shows(&b);
	fault_bed_row_done(&b, &mark, "plane off 30 s, back at 1024x768", 1);
	fault_bed_stop(&b);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest table[] = {
		cmocka_unit_test(test_fault_table),
	};
	const struct CMUnitTest reboot[] = {
		cmocka_unit_test(test_plane_off_for_a_reboot),
	};
	signal(SIGPIPE, SIG_IGN);
	if (argc > 1 && strcmp(argv[1], "reboot") == 0)
		return cmocka_run_group_tests(reboot, NULL, NULL);
	return cmocka_run_group_tests(table, NULL, NULL);
}
