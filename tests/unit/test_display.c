// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * display: one refresh at a time against the simulated vGPU, with a real
 * plane source and frame store, judged by what a client copies out of the
 * store through a frame_reader. The test re-executes itself under the sim
 * (see sim_child.h).
 */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <drm_fourcc.h>

#include "display.h"
#include "frame_store.h"
#include "import.h"
#include "log.h"
#include "placeholder.h"
#include "plane.h"
#include "sim_child.h"
#include "simctl.h"
#include "vfio_device.h"

#define SIM_UUID "4b20d080-1b54-4048-85b3-a6a62d165c01"
#define INSTANCE "unit"
#define PRIMARY 1

/* What a VNC client thread holds: its own copy of the picture. */
struct client {
	uint8_t *fb;
	uint32_t width, height;
};

struct fixture {
	struct vfio_device *dev;
	struct simctl *ctl;
	struct plane_source *planes;
	struct frame_store *store;
	struct frame_reader *reader;
	struct display *display;
	struct client client;
	uint8_t *source; /* the guest's current picture */
	size_t source_size;
};

static uint8_t *client_resize(void *ctx, uint32_t width, uint32_t height)
{
	struct client *c = ctx;

	free(c->fb);
	c->fb = calloc((size_t)width * height, 4);
	c->width = c->fb ? width : 0;
	c->height = c->fb ? height : 0;
	return c->fb;
}

static void client_copied(void *ctx, struct rect r)
{
	(void)ctx;
	(void)r;
}

/* Copies what changed into the client's picture; returns the rectangles copied. */
static size_t client_sync(struct fixture *f)
{
	const struct frame_copy_target target = {
		.ctx = &f->client,
		.resize = client_resize,
		.copied = client_copied,
	};

	return frame_reader_sync(f->reader, f->client.fb, &target);
}

static bool wake_pending(struct fixture *f)
{
	struct pollfd p = { .fd = frame_reader_wake_fd(f->reader), .events = POLLIN };

	return poll(&p, 1, 0) == 1;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	const char *why = NULL;

	if (!f)
		return -1;
	*state = f;
	if (vfio_device_open_uuid(SIM_UUID, &f->dev, &why) < 0) {
		fprintf(stderr, "cannot open the sim device: %s\n", why);
		return -1;
	}
	f->ctl = simctl_connect(getenv("VGPU_SIM_CONTROL"), 2000);
	if (!f->ctl || plane_source_new(f->dev, &import_cpu_mmap, &f->planes) < 0)
		return -1;
	f->store = frame_store_new();
	f->reader = f->store ? frame_reader_new(f->store) : NULL;
	f->display = f->store ? display_new(f->planes, f->store, INSTANCE) : NULL;
	return f->reader && f->display ? 0 : -1;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	const struct sim_plane_desc off = { 0 };

	display_free(f->display);
	frame_reader_free(f->reader);
	frame_store_free(f->store);
	plane_source_free(f->planes);
	if (f->ctl) {
		simctl_set_plane(f->ctl, PRIMARY, &off);
		simctl_fault(f->ctl, SIM_FAULT_MMAP_EINVAL, 0);
		simctl_fault(f->ctl, SIM_FAULT_ENOMEM_AFTER_MODESET, 1);
		simctl_fault(f->ctl, SIM_FAULT_QUERY_ERRNO, 0);
	}
	simctl_free(f->ctl);
	vfio_device_free(f->dev);
	free(f->client.fb);
	free(f->source);
	free(f);
	return 0;
}

static void fill(uint8_t *p, size_t len, unsigned seed)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(i * 13 + seed * 29 + (i >> 9));
}

/* A new guest mode, XRGB8888 linear, showing the pattern of seed. */
static void set_mode(struct fixture *f, uint32_t w, uint32_t h, uint32_t alloc, unsigned seed)
{
	struct sim_plane_desc desc = {
		.fourcc = DRM_FORMAT_XRGB8888,
		.width = w,
		.height = h,
		.stride = w * 4,
		.size = w * h * 4,
		.alloc_size = alloc,
	};

	free(f->source);
	f->source_size = desc.size;
	f->source = malloc(desc.size);
	assert_non_null(f->source);
	fill(f->source, desc.size, seed);
	assert_int_equal(simctl_set_plane(f->ctl, PRIMARY, &desc), 0);
	if (!alloc || alloc >= desc.size)
		assert_int_equal(simctl_write(f->ctl, PRIMARY, 0, f->source, desc.size), 0);
}

static void assert_store_size(struct fixture *f, uint32_t w, uint32_t h)
{
	uint32_t sw, sh;

	frame_store_size(f->store, &sw, &sh);
	assert_int_equal(sw, w);
	assert_int_equal(sh, h);
}

/* The client got a whole new picture of w x h. */
static void assert_client_synced(struct fixture *f, uint32_t w, uint32_t h)
{
	assert_true(wake_pending(f));
	assert_true(client_sync(f) > 0);
	assert_int_equal(f->client.width, w);
	assert_int_equal(f->client.height, h);
	assert_false(wake_pending(f));
}

static void assert_client_shows_source(struct fixture *f)
{
	assert_int_equal((size_t)f->client.width * f->client.height * 4, f->source_size);
	assert_memory_equal(f->client.fb, f->source, f->source_size);
}

/* The client shows exactly this placeholder, drawn at its size. */
static void assert_client_shows(struct fixture *f, enum placeholder_kind kind, const char *detail)
{
	size_t size = (size_t)f->client.width * f->client.height * 4;
	uint8_t *want = malloc(size);

	assert_non_null(want);
	placeholder_draw(want, (size_t)f->client.width * 4, f->client.width, f->client.height, kind,
			 INSTANCE, detail);
	assert_memory_equal(f->client.fb, want, size);
	free(want);
}

static bool all_zero(const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i])
			return false;
	return true;
}

/* The mode's first query fails (the mbochs quirk); the next one shows the guest. */
static void show_mode(struct fixture *f, uint32_t w, uint32_t h, unsigned seed)
{
	set_mode(f, w, h, 0, seed);
	display_refresh(f->display);
	display_refresh(f->display);
	assert_client_synced(f, w, h);
	assert_client_shows_source(f);
}

static void test_no_signal_then_mode(void **state)
{
	struct fixture *f = *state;
	const struct display_stats *stats = display_stats(f->display);

	display_refresh(f->display);
	assert_store_size(f, PLACEHOLDER_WIDTH, PLACEHOLDER_HEIGHT);
	assert_client_synced(f, PLACEHOLDER_WIDTH, PLACEHOLDER_HEIGHT);
	assert_false(all_zero(f->client.fb, (size_t)PLACEHOLDER_WIDTH * PLACEHOLDER_HEIGHT * 4));
	assert_client_shows(f, PLACEHOLDER_NO_SIGNAL, NULL);
	assert_int_equal(stats->refreshes, 1);
	assert_int_equal(stats->frames_changed, 0);

	show_mode(f, 64, 48, 1);
	assert_int_equal(stats->refreshes, 3);
	assert_int_equal(stats->query_errors, 1);
	assert_int_equal(stats->frames_changed, 1);
	assert_true(stats->tiles_changed > 0);
}

/* The failed query after a modeset keeps what clients see; the next refresh recovers. */
static void test_enomem_keeps_picture(void **state)
{
	struct fixture *f = *state;
	const struct display_stats *stats = display_stats(f->display);

	show_mode(f, 64, 48, 2);
	set_mode(f, 80, 60, 0, 3);
	display_refresh(f->display);
	assert_int_equal(stats->query_errors, 2);
	assert_store_size(f, 64, 48);
	assert_false(wake_pending(f));
	assert_int_equal(client_sync(f), 0);

	display_refresh(f->display);
	assert_store_size(f, 80, 60);
	assert_client_synced(f, 80, 60);
	assert_client_shows_source(f);
	assert_int_equal(stats->query_errors, 2);
}

/* stderr into a temporary file while a test counts the log lines a refresh writes. */
static struct {
	FILE *file;
	int saved;
} log_capture;

static void capture_begin(void)
{
	fflush(stderr);
	log_capture.file = tmpfile();
	assert_non_null(log_capture.file);
	log_capture.saved = dup(STDERR_FILENO);
	assert_true(log_capture.saved >= 0);
	assert_true(dup2(fileno(log_capture.file), STDERR_FILENO) >= 0);
}

/* Restores stderr; returns how many lines written since capture_begin contain needle. */
static int capture_end(const char *needle)
{
	char line[1024];
	int count = 0;

	fflush(stderr);
	assert_true(dup2(log_capture.saved, STDERR_FILENO) >= 0);
	close(log_capture.saved);
	rewind(log_capture.file);
	while (fgets(line, sizeof(line), log_capture.file)) {
		fputs(line, stderr);
		count += strstr(line, needle) != NULL;
	}
	fclose(log_capture.file);
	return count;
}

static void fail_queries(struct fixture *f, int err, unsigned count)
{
	assert_int_equal(simctl_fault(f->ctl, SIM_FAULT_QUERY_ERRNO, (uint32_t)err | count << 16), 0);
}

/*
 * GVT-g's EFAULT during a mode set: clients keep the last picture, the caller
 * hears "retry soon", one debug line for the whole run of failures, and the
 * new mode shows once the query works.
 */
static void test_transient_failure_keeps_picture(void **state)
{
	struct fixture *f = *state;
	const struct display_stats *stats = display_stats(f->display);

	show_mode(f, 64, 48, 8);
	uint64_t errors = stats->query_errors;
	set_mode(f, 80, 60, 0, 9);
	assert_int_equal(simctl_fault(f->ctl, SIM_FAULT_ENOMEM_AFTER_MODESET, 0), 0);
	fail_queries(f, EFAULT, 20);
	log_set_level(LOG_LEVEL_DEBUG);
	capture_begin();
	for (int i = 0; i < 20; i++)
		assert_int_equal(display_refresh(f->display), -EAGAIN);
	int failed_lines = capture_end("querying the primary plane");
	assert_int_equal(failed_lines, 1);
	assert_int_equal(stats->query_errors, errors + 20);
	assert_store_size(f, 64, 48);
	assert_false(wake_pending(f));

	capture_begin();
	assert_int_equal(display_refresh(f->display), 0);
	int recovered_lines = capture_end("queries work again");
	log_set_level(LOG_LEVEL_INFO);
	assert_int_equal(recovered_lines, 1);
	assert_client_synced(f, 80, 60);
	assert_client_shows_source(f);
}

/*
 * A transient failure that outlasts its grace is one warning; a real error
 * warns at once, except ENODEV and EIO: the daemon first checks whether
 * the whole device is gone, and says that instead.
 */
static void test_lasting_failure_warns_once(void **state)
{
	struct fixture *f = *state;
	const struct timespec past_grace = { .tv_sec = 1, .tv_nsec = 100 * 1000 * 1000 };

	show_mode(f, 64, 48, 10);
	fail_queries(f, EFAULT, 1000);
	capture_begin();
	assert_int_equal(display_refresh(f->display), -EAGAIN);
	nanosleep(&past_grace, NULL);
	for (int i = 0; i < 30; i++)
		assert_int_equal(display_refresh(f->display), -EAGAIN);
	int warnings = capture_end("querying the primary plane has failed for");
	assert_int_equal(warnings, 1);
	fail_queries(f, EFAULT, 0);
	capture_begin();
	display_refresh(f->display);
	display_refresh(f->display);
	assert_int_equal(capture_end("queries work again"), 1);

	fail_queries(f, EIO, 30);
	capture_begin();
	for (int i = 0; i < 30; i++)
		assert_int_equal(display_refresh(f->display), -EIO);
	assert_int_equal(capture_end("querying the primary plane"), 0);
	fail_queries(f, EINVAL, 30);
	capture_begin();
	for (int i = 0; i < 30; i++)
		assert_int_equal(display_refresh(f->display), -EINVAL);
	assert_int_equal(capture_end("querying the primary plane failed: Invalid argument"), 1);
	assert_false(wake_pending(f));
	assert_client_shows_source(f);
	assert_int_equal(display_refresh(f->display), 0);
}

static void test_unchanged_frame(void **state)
{
	struct fixture *f = *state;
	const struct display_stats *stats = display_stats(f->display);
	uint64_t changed, refreshes;
	const uint8_t dot[4] = { 1, 2, 3, 0 };

	show_mode(f, 64, 48, 4);
	changed = stats->frames_changed;
	refreshes = stats->refreshes;
	display_refresh(f->display);
	display_refresh(f->display);
	assert_int_equal(stats->refreshes, refreshes + 2);
	assert_int_equal(stats->frames_changed, changed);
	assert_false(wake_pending(f));
	assert_int_equal(client_sync(f), 0);

	/* One pixel changes: one damaged frame, and the client gets it. */
	assert_int_equal(simctl_write(f->ctl, PRIMARY, 64 * 4 * 10 + 40, dot, sizeof(dot)), 0);
	memcpy(f->source + 64 * 4 * 10 + 40, dot, sizeof(dot));
	display_refresh(f->display);
	assert_int_equal(stats->frames_changed, changed + 1);
	assert_true(wake_pending(f));
	assert_int_equal(client_sync(f), 1);
	assert_client_shows_source(f);
}

/*
 * DISPLAY_READ_ON_FLIP reads the picture only when the query shows another
 * buffer: a change drawn in place waits for a DISPLAY_READ_ALWAYS refresh,
 * a page flip is read at once, and read once.
 */
static void test_read_on_flip(void **state)
{
	struct fixture *f = *state;
	const struct display_stats *stats = display_stats(f->display);
	const uint8_t dot[4] = { 9, 8, 7, 0 };
	bool flipped = true;

	show_mode(f, 64, 48, 5);
	assert_int_equal(display_poll(f->display, DISPLAY_READ_ON_FLIP, &flipped), 0);
	assert_false(flipped);

	/* Drawn in place: the query alone shows nothing new. */
	assert_int_equal(simctl_write(f->ctl, PRIMARY, 64 * 4 * 20 + 80, dot, sizeof(dot)), 0);
	memcpy(f->source + 64 * 4 * 20 + 80, dot, sizeof(dot));
	uint64_t changed = stats->frames_changed;
	assert_int_equal(display_poll(f->display, DISPLAY_READ_ON_FLIP, &flipped), 0);
	assert_false(flipped);
	assert_int_equal(stats->frames_changed, changed);
	assert_false(wake_pending(f));
	assert_int_equal(display_poll(f->display, DISPLAY_READ_ALWAYS, &flipped), 0);
	assert_false(flipped);
	assert_int_equal(stats->frames_changed, changed + 1);
	assert_int_equal(client_sync(f), 1);
	assert_client_shows_source(f);

	/* A page flip to a new picture: read on the first query after it. */
	fill(f->source, f->source_size, 6);
	assert_int_equal(simctl_flip(f->ctl, PRIMARY, f->source, f->source_size), 0);
	assert_int_equal(display_poll(f->display, DISPLAY_READ_ON_FLIP, &flipped), 0);
	assert_true(flipped);
	assert_true(wake_pending(f));
	assert_true(client_sync(f) > 0);
	assert_client_shows_source(f);
	assert_int_equal(display_poll(f->display, DISPLAY_READ_ON_FLIP, &flipped), 0);
	assert_false(flipped);
	assert_false(wake_pending(f));
}

static void test_bad_plane(void **state)
{
	struct fixture *f = *state;
	const struct display_stats *stats = display_stats(f->display);
	uint64_t changed;

	show_mode(f, 64, 48, 5);
	changed = stats->frames_changed;
	/* The plane claims more bytes than its buffer has. */
	set_mode(f, 64, 48, 8192, 6);
	display_refresh(f->display);
	display_refresh(f->display);
	assert_store_size(f, 64, 48);
	assert_client_synced(f, 64, 48);
	assert_memory_not_equal(f->client.fb, f->source, f->source_size);
	assert_client_shows(f, PLACEHOLDER_BAD_PLANE,
			    "plane size 12288 exceeds the buffer's 8192 bytes");
	assert_int_equal(stats->frames_changed, changed);
	assert_int_equal(stats->query_errors, 2);

	/* Drawn once: the same state on the next refresh changes nothing. */
	display_refresh(f->display);
	assert_false(wake_pending(f));
}

static void test_cannot_map(void **state)
{
	struct fixture *f = *state;
	const struct display_stats *stats = display_stats(f->display);
	struct vfio_device_gfx_plane_info info;
	struct plane_buffer *buf;

	assert_int_equal(simctl_fault(f->ctl, SIM_FAULT_MMAP_EINVAL, 1), 0);
	set_mode(f, 320, 200, 0, 7);
	display_refresh(f->display);
	display_refresh(f->display);
	assert_store_size(f, 320, 200);
	assert_client_synced(f, 320, 200);
	/* The same buffer, cached by the plane source, says why. */
	assert_int_equal(plane_source_query(f->planes, PRIMARY, &info), 0);
	assert_int_equal(plane_source_buffer(f->planes, &info, &buf), 0);
	assert_non_null(buf->import_why);
	assert_client_shows(f, PLACEHOLDER_CANNOT_MAP, buf->import_why);
	assert_int_equal(stats->frames_changed, 0);

	display_refresh(f->display);
	assert_false(wake_pending(f));
}

int main(void)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_no_signal_then_mode, setup, teardown),
		cmocka_unit_test_setup_teardown(test_enomem_keeps_picture, setup, teardown),
		cmocka_unit_test_setup_teardown(test_transient_failure_keeps_picture, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lasting_failure_warns_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unchanged_frame, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_on_flip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_plane, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cannot_map, setup, teardown),
	};
	static const struct sim_child_run run = { "display", NULL, SIM_CHILD_TESTS(tests) };

	return sim_child_main(&run, 1);
}
