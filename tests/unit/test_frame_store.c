// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The frame store as its clients see it: what a sync copies (checked pixel
 * by pixel against what the writer wrote, and against what it reported as
 * damage), when the wake fd is readable, and, with a writer and three
 * reader threads, that no reader ever holds a picture mixing two frames.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>

#include "cursor_image.h"
#include "frame_store.h"

#define W 150u /* 3 tile columns, the last of 22 pixels */
#define H 100u /* 2 tile rows, the last of 36 */
#define UNSEEN 0xeeeeeeeeu /* a client pixel nothing was copied to */

/* A VNC client's side: its framebuffer and what the store told it. */
struct client {
	uint32_t *px;
	uint32_t w, h;
	int resizes;
	bool refuse_resize;
	uint8_t *copied; /* per pixel, for the last sync */
	size_t rects;	 /* copied calls in the last sync */
	bool outside;	 /* a copied rect reached outside the picture */
};

static uint8_t *client_resize(void *ctx, uint32_t w, uint32_t h)
{
	struct client *c = ctx;

	if (c->refuse_resize)
		return NULL;
	free(c->px);
	free(c->copied);
	c->px = malloc((size_t)w * h * 4);
	c->copied = calloc((size_t)w * h, 1);
	if (!c->px || !c->copied)
		abort();
	for (size_t i = 0; i < (size_t)w * h; i++)
		c->px[i] = UNSEEN;
	c->w = w;
	c->h = h;
	c->resizes++;
	return (uint8_t *)c->px;
}

static void client_copied(void *ctx, struct rect r)
{
	struct client *c = ctx;

	c->rects++;
	if (r.width == 0 || r.height == 0 || r.x + r.width > c->w || r.y + r.height > c->h) {
		c->outside = true;
		return;
	}
	for (uint32_t y = r.y; y < r.y + r.height; y++)
		memset(c->copied + (size_t)y * c->w + r.x, 1, r.width);
}

static void client_done(struct client *c)
{
	free(c->px);
	free(c->copied);
}

static size_t sync_client(struct frame_reader *reader, struct client *c)
{
	const struct frame_copy_target target = {
		.ctx = c, .resize = client_resize, .copied = client_copied
	};
	size_t n;

	if (c->copied)
		memset(c->copied, 0, (size_t)c->w * c->h);
	c->rects = 0;
	n = frame_reader_sync(reader, (uint8_t *)c->px, &target);
	assert_false(c->outside);
	assert_int_equal(n, c->rects);
	return n;
}

static uint32_t pattern(uint32_t x, uint32_t y)
{
	return 0x01000000u | y << 12 | x;
}

/* Writes value (pattern where 0) into r of a w x h picture, reporting damage. */
static bool write_rect(struct frame_store *s, uint32_t w, uint32_t h, struct rect r, uint32_t value,
		       const struct damage_map *damage)
{
	uint8_t *px;
	size_t stride;
	bool resized;

	assert_int_equal(frame_store_begin_write(s, w, h, &px, &stride, &resized), 0);
	assert_true(stride >= (size_t)w * 4);
	for (uint32_t y = r.y; y < r.y + r.height && y < h; y++) {
		for (uint32_t x = r.x; x < r.x + r.width && x < w; x++) {
			uint32_t v = value ? value : pattern(x, y);

			memcpy(px + y * stride + (size_t)x * 4, &v, 4);
		}
	}
	frame_store_end_write(s, damage);
	return resized;
}

static bool readable(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

static bool in_rect(struct rect r, uint32_t x, uint32_t y)
{
	return x >= r.x && x < r.x + r.width && y >= r.y && y < r.y + r.height;
}

/* A picture of the pattern, with value (pattern where 0) in r. */
static uint32_t *picture_new(void)
{
	uint32_t *pic = malloc((size_t)W * H * 4);

	assert_non_null(pic);
	for (uint32_t y = 0; y < H; y++)
		for (uint32_t x = 0; x < W; x++)
			pic[(size_t)y * W + x] = pattern(x, y);
	return pic;
}

static void fill(uint32_t *pic, struct rect r, uint32_t value)
{
	for (uint32_t y = r.y; y < r.y + r.height; y++)
		for (uint32_t x = r.x; x < r.x + r.width; x++)
			pic[(size_t)y * W + x] = value;
}

/* The last sync copied exactly the pixels of a and b, and the client's picture is want. */
static void check_client(const struct client *c, struct rect a, struct rect b, const uint32_t *want)
{
	assert_true(c->w == W && c->h == H);
	for (uint32_t y = 0; y < H; y++) {
		for (uint32_t x = 0; x < W; x++) {
			bool in = in_rect(a, x, y) || in_rect(b, x, y);
			size_t i = (size_t)y * W + x;

			if (c->copied[i] != in || c->px[i] != want[i])
				fail_msg("pixel %u,%u: %08x copied %u, want %08x copied %u", x, y,
					 c->px[i], c->copied[i], want[i], in);
		}
	}
}

static const struct rect none = { 0, 0, 0, 0 };
static const struct rect all = { 0, 0, W, H };
static const struct rect tile_a = { 0, 0, 64, 64 };
static const struct rect tile_b = { 64, 64, 64, 36 };
static const struct rect tile_c = { 128, 0, 22, 64 };

/* One frame of the pattern, synced by each client: the starting point. */
static void first_frame(struct frame_store *s, struct frame_reader **readers, struct client *c,
			size_t n)
{
	uint32_t *want = picture_new();

	write_rect(s, W, H, all, 0, NULL);
	for (size_t i = 0; i < n; i++) {
		assert_true(sync_client(readers[i], &c[i]) > 0);
		check_client(&c[i], all, none, want);
	}
	free(want);
}

static struct damage_map damage_of(struct rect r)
{
	struct damage_map d;

	assert_int_equal(damage_map_init(&d, W, H), 0);
	damage_map_mark_rect(&d, r);
	return d;
}

static void test_reader_before_first_frame(void **state)
{
	struct frame_store *s = frame_store_new();
	struct frame_reader *r = frame_reader_new(s);
	struct client c = { 0 };
	uint32_t *want = picture_new();
	uint32_t w, h;

	assert_non_null(r);
	assert_int_equal(sync_client(r, &c), 0);
	assert_int_equal(c.resizes, 0);
	frame_store_size(s, &w, &h);
	assert_true(w == 0 && h == 0);

	write_rect(s, W, H, all, 0, NULL);
	assert_true(readable(frame_reader_wake_fd(r)));
	assert_true(sync_client(r, &c) > 0);
	assert_int_equal(c.resizes, 1);
	assert_true(c.w == W && c.h == H);
	check_client(&c, all, none, want);
	assert_false(readable(frame_reader_wake_fd(r)));
	assert_int_equal(sync_client(r, &c), 0);
	assert_int_equal(c.resizes, 1);
	frame_store_size(s, &w, &h);
	assert_true(w == W && h == H);

	free(want);
	frame_reader_free(r);
	frame_store_free(s);
	client_done(&c);
}

/* Damage reported by several writes arrives in one sync; unreported changes do not. */
static void test_damage_merges(void **state)
{
	struct frame_store *s = frame_store_new();
	struct frame_reader *r = frame_reader_new(s);
	struct client c = { 0 };
	struct damage_map da = damage_of(tile_a), db = damage_of(tile_b), empty = damage_of(none);
	uint32_t *want = picture_new();

	first_frame(s, &r, &c, 1);
	write_rect(s, W, H, tile_a, 1, &da);
	write_rect(s, W, H, tile_b, 2, &db);
	write_rect(s, W, H, tile_c, 3, &empty);
	assert_true(sync_client(r, &c) > 0);
	fill(want, tile_a, 1);
	fill(want, tile_b, 2);
	check_client(&c, tile_a, tile_b, want);
	assert_int_equal(sync_client(r, &c), 0);
	free(want);

	damage_map_done(&da);
	damage_map_done(&db);
	damage_map_done(&empty);
	frame_reader_free(r);
	frame_store_free(s);
	client_done(&c);
}

static void test_two_readers(void **state)
{
	struct frame_store *s = frame_store_new();
	struct frame_reader *r[2] = { frame_reader_new(s), frame_reader_new(s) };
	struct client c[2] = { 0 };
	struct damage_map da = damage_of(tile_a), db = damage_of(tile_b);
	uint32_t *want = picture_new();

	first_frame(s, r, c, 2);
	write_rect(s, W, H, tile_a, 1, &da);
	fill(want, tile_a, 1);
	assert_true(sync_client(r[0], &c[0]) > 0);
	check_client(&c[0], tile_a, none, want);
	write_rect(s, W, H, tile_b, 2, &db);
	fill(want, tile_b, 2);
	assert_true(sync_client(r[0], &c[0]) > 0);
	check_client(&c[0], tile_b, none, want);
	assert_true(sync_client(r[1], &c[1]) > 0);
	check_client(&c[1], tile_a, tile_b, want);
	free(want);

	damage_map_done(&da);
	damage_map_done(&db);
	frame_reader_free(r[0]);
	frame_reader_free(r[1]);
	frame_store_free(s);
	client_done(&c[0]);
	client_done(&c[1]);
}

/* Every pixel of a w x h client picture was copied and is value. */
static void check_uniform(const struct client *c, uint32_t w, uint32_t h, uint32_t value)
{
	assert_true(c->w == w && c->h == h);
	for (size_t i = 0; i < (size_t)w * h; i++)
		if (!c->copied[i] || c->px[i] != value)
			fail_msg("pixel %zu: %08x copied %u, want %08x", i, c->px[i], c->copied[i],
				 value);
}

static void test_resize(void **state)
{
	struct frame_store *s = frame_store_new();
	struct frame_reader *r = frame_reader_new(s);
	struct client c = { 0 };
	struct damage_map d;
	uint32_t *want = picture_new();

	first_frame(s, &r, &c, 1);
	assert_false(write_rect(s, W, H, tile_a, 0, NULL));
	assert_int_equal(sync_client(r, &c), 1);

	/* Bigger, with only one tile reported: the client still gets all of it. */
	assert_int_equal(damage_map_init(&d, W + 30, H + 20), 0);
	damage_map_mark_rect(&d, tile_a);
	assert_true(write_rect(s, W + 30, H + 20, (struct rect){ 0, 0, W + 30, H + 20 }, 7, &d));
	assert_true(readable(frame_reader_wake_fd(r)));
	c.refuse_resize = true; /* the client cannot follow yet: nothing copied, tried again */
	assert_int_equal(sync_client(r, &c), 0);
	assert_int_equal(c.resizes, 1);
	c.refuse_resize = false;
	assert_true(sync_client(r, &c) > 0);
	assert_int_equal(c.resizes, 2);
	check_uniform(&c, W + 30, H + 20, 7);
	damage_map_done(&d);

	/* Back to the first size. */
	assert_true(write_rect(s, W, H, all, 0, NULL));
	assert_true(sync_client(r, &c) > 0);
	assert_int_equal(c.resizes, 3);
	check_client(&c, all, none, want);

	free(want);
	frame_reader_free(r);
	frame_store_free(s);
	client_done(&c);
}

static void test_wake_fd(void **state)
{
	struct frame_store *s = frame_store_new();
	struct frame_reader *r = frame_reader_new(s);
	struct client c = { 0 };
	struct damage_map da = damage_of(tile_a), empty = damage_of(none);
	int fd = frame_reader_wake_fd(r);

	first_frame(s, &r, &c, 1);
	assert_false(readable(fd));
	write_rect(s, W, H, tile_a, 5, &da);
	assert_true(readable(fd));
	assert_true(sync_client(r, &c) > 0);
	assert_false(readable(fd));
	write_rect(s, W, H, tile_a, 6, &empty);
	assert_false(readable(fd));
	assert_int_equal(sync_client(r, &c), 0);
	write_rect(s, W, H, tile_a, 6, NULL);
	assert_true(readable(fd));
	assert_true(sync_client(r, &c) > 0);
	assert_false(readable(fd));
	frame_reader_wake(r);
	assert_true(readable(fd));
	assert_int_equal(sync_client(r, &c), 0);
	assert_false(readable(fd));

	damage_map_done(&da);
	damage_map_done(&empty);
	frame_reader_free(r);
	frame_store_free(s);
	client_done(&c);
}

/* Readers leave in any order; the others keep getting their damage. */
static void test_reader_freed(void **state)
{
	struct frame_store *s = frame_store_new();
	struct frame_reader *r[3] = { frame_reader_new(s), frame_reader_new(s),
				      frame_reader_new(s) };
	struct client c[3] = { 0 };
	struct damage_map da = damage_of(tile_a), db = damage_of(tile_b);
	uint32_t *want = picture_new();

	first_frame(s, r, c, 3);
	frame_reader_free(r[1]);
	write_rect(s, W, H, tile_a, 1, &da);
	fill(want, tile_a, 1);
	for (size_t i = 0; i < 3; i += 2) {
		assert_true(readable(frame_reader_wake_fd(r[i])));
		assert_true(sync_client(r[i], &c[i]) > 0);
		check_client(&c[i], tile_a, none, want);
	}
	frame_reader_free(r[2]);
	write_rect(s, W, H, tile_b, 2, &db);
	fill(want, tile_b, 2);
	assert_true(sync_client(r[0], &c[0]) > 0);
	check_client(&c[0], tile_b, none, want);
	frame_reader_free(r[0]);
	write_rect(s, W, H, all, 3, NULL); /* no readers left */

	free(want);
	damage_map_done(&da);
	damage_map_done(&db);
	frame_store_free(s);
	for (size_t i = 0; i < 3; i++)
		client_done(&c[i]);
}

#define FRAMES 3000u
#define READERS 3

struct reader_thread {
	pthread_t thread;
	struct frame_reader *reader;
	struct client c;
	atomic_bool *done;
	uint32_t last;	/* frame number of the last picture seen */
	unsigned torn;	/* syncs that left a picture of two frames */
	unsigned older; /* syncs that went back to an older frame */
	unsigned syncs;
};

/* A picture from one frame has every pixel equal to the frame number. */
static void *reader_main(void *arg)
{
	struct reader_thread *t = arg;
	const struct frame_copy_target target = {
		.ctx = &t->c, .resize = client_resize, .copied = client_copied
	};
	struct pollfd p = { .fd = frame_reader_wake_fd(t->reader), .events = POLLIN };
	bool done;

	do {
		done = atomic_load(t->done);
		poll(&p, 1, 20);
		if (frame_reader_sync(t->reader, (uint8_t *)t->c.px, &target) == 0)
			continue;
		uint32_t v = t->c.px[0];

		for (size_t i = 1; i < (size_t)t->c.w * t->c.h; i++) {
			if (t->c.px[i] != v) {
				t->torn++;
				break;
			}
		}
		t->older += v < t->last;
		t->last = v;
		t->syncs++;
	} while (!done);
	return NULL;
}

/* Frame n: every pixel n, written slowly under the lock, the size changing now and then. */
static void write_frames(struct frame_store *s, struct damage_map full[2])
{
	static const uint32_t sizes[2][2] = { { 200, 90 }, { 130, 140 } };

	for (uint32_t n = 1; n <= FRAMES; n++) {
		unsigned k = n / 200 % 2;
		uint8_t *px;
		size_t stride;
		bool resized;

		assert_int_equal(frame_store_begin_write(s, sizes[k][0], sizes[k][1], &px, &stride,
							 &resized),
				 0);
		for (uint32_t y = 0; y < sizes[k][1]; y++) {
			for (uint32_t x = 0; x < sizes[k][0]; x++)
				memcpy(px + y * stride + x * 4, &n, 4);
			if (y % 16 == 0)
				sched_yield();
		}
		frame_store_end_write(s, n % 2 ? NULL : &full[k]);
		/* Between frames, as a display loop waits for the next flip: readers get the lock. */
		if (n % 4 == 0)
			nanosleep(&(struct timespec){ .tv_nsec = 50000 }, NULL);
	}
}

static void test_concurrent_no_torn_frames(void **state)
{
	struct frame_store *s = frame_store_new();
	struct reader_thread t[READERS] = { 0 };
	struct damage_map full[2];
	atomic_bool done = false;

	assert_int_equal(damage_map_init(&full[0], 200, 90), 0);
	assert_int_equal(damage_map_init(&full[1], 130, 140), 0);
	damage_map_mark_all(&full[0]);
	damage_map_mark_all(&full[1]);
	for (int i = 0; i < READERS; i++) {
		t[i].reader = frame_reader_new(s);
		t[i].done = &done;
		assert_non_null(t[i].reader);
		assert_int_equal(pthread_create(&t[i].thread, NULL, reader_main, &t[i]), 0);
	}
	write_frames(s, full);
	atomic_store(&done, true);
	for (int i = 0; i < READERS; i++)
		frame_reader_wake(t[i].reader);
	for (int i = 0; i < READERS; i++) {
		pthread_join(t[i].thread, NULL);
		print_message("reader %d: %u syncs, %u torn, %u went back\n", i, t[i].syncs,
			      t[i].torn, t[i].older);
		assert_int_equal(t[i].torn, 0);
		assert_int_equal(t[i].older, 0);
		assert_int_equal(t[i].last, FRAMES);
		assert_true(t[i].syncs > 10);
		frame_reader_free(t[i].reader);
		client_done(&t[i].c);
	}
	damage_map_done(&full[0]);
	damage_map_done(&full[1]);
	frame_store_free(s);
}

/* A client's side of the cursor: what the reader handed it. */
struct cursor_seen {
	struct client c;
	int shapes, moves;
	bool shown;
	uint32_t width, height, x_hot, y_hot, first_pixel;
	int32_t x, y;
};

static void seen_shape(void *ctx, const struct cursor_image *image)
{
	struct cursor_seen *cs = ctx;

	cs->shapes++;
	cs->shown = image != NULL;
	if (!image)
		return;
	cs->width = image->width;
	cs->height = image->height;
	cs->x_hot = image->x_hot;
	cs->y_hot = image->y_hot;
	cs->first_pixel = image->argb[0];
}

static void seen_move(void *ctx, int32_t x, int32_t y)
{
	struct cursor_seen *cs = ctx;

	cs->moves++;
	cs->x = x;
	cs->y = y;
}

static uint8_t *seen_resize(void *ctx, uint32_t w, uint32_t h)
{
	return client_resize(&((struct cursor_seen *)ctx)->c, w, h);
}

static void seen_copied(void *ctx, struct rect r)
{
	client_copied(&((struct cursor_seen *)ctx)->c, r);
}

static void cursor_sync(struct frame_reader *reader, struct cursor_seen *cs)
{
	const struct frame_copy_target target = {
		.ctx = cs,
		.resize = seen_resize,
		.copied = seen_copied,
		.cursor_shape = seen_shape,
		.cursor_moved = seen_move,
	};
	frame_reader_sync(reader, (uint8_t *)cs->c.px, &target);
}

static void set_shape(struct frame_store *s, uint32_t w, uint32_t h, uint32_t value)
{
	struct cursor_image image = { .width = w, .height = h, .x_hot = 1, .y_hot = 2 };

	if (w && h) {
		image.argb = malloc((size_t)w * h * 4);
		assert_non_null(image.argb);
	}
	for (size_t i = 0; i < (size_t)w * h; i++)
		image.argb[i] = value;
	frame_store_set_cursor_shape(s, &image);
	assert_null(image.argb);
	assert_int_equal(image.width, 0);
}

/* No cursor reaches a client before it has a picture to put it on. */
static void test_cursor_waits_for_picture(void **state)
{
	struct frame_store *s = frame_store_new();
	struct frame_reader *r = frame_reader_new(s);
	struct cursor_seen cs = { 0 };

	set_shape(s, 8, 4, 0xff112233);
	frame_store_set_cursor_pos(s, 30, 40, true);
	assert_true(readable(frame_reader_wake_fd(r)));
	cursor_sync(r, &cs);
	assert_int_equal(cs.shapes + cs.moves, 0);

	write_rect(s, W, H, all, 0, NULL);
	cursor_sync(r, &cs);
	assert_int_equal(cs.shapes, 1);
	assert_true(cs.shown);
	assert_true(cs.width == 8 && cs.height == 4 && cs.x_hot == 1 && cs.y_hot == 2);
	assert_int_equal(cs.first_pixel, 0xff112233);
	assert_int_equal(cs.moves, 1);
	assert_true(cs.x == 30 && cs.y == 40);

	frame_reader_free(r);
	frame_store_free(s);
	client_done(&cs.c);
}

/* A move wakes the reader and hands over the position only; the shape comes on change. */
static void test_cursor_move_keeps_shape(void **state)
{
	struct frame_store *s = frame_store_new();
	struct frame_reader *r = frame_reader_new(s);
	struct cursor_seen cs = { 0 };
	int fd = frame_reader_wake_fd(r);

	write_rect(s, W, H, all, 0, NULL);
	set_shape(s, 16, 16, 0x80404040);
	frame_store_set_cursor_pos(s, 1, 1, true);
	cursor_sync(r, &cs);
	assert_true(cs.shapes == 1 && cs.moves == 1);

	frame_store_set_cursor_pos(s, 1, 1, true);
	assert_false(readable(fd));
	for (int32_t i = 2; i < 6; i++) {
		frame_store_set_cursor_pos(s, i, 2 * i, true);
		assert_true(readable(fd));
		cursor_sync(r, &cs);
		assert_true(cs.x == i && cs.y == 2 * i);
	}
	assert_int_equal(cs.moves, 5);
	assert_int_equal(cs.shapes, 1);

	set_shape(s, 32, 32, 0xff00ff00);
	assert_true(readable(fd));
	cursor_sync(r, &cs);
	assert_int_equal(cs.shapes, 2);
	assert_true(cs.width == 32 && cs.first_pixel == 0xff00ff00);
	assert_int_equal(cs.moves, 5);

	frame_reader_free(r);
	frame_store_free(s);
	client_done(&cs.c);
}

/* Hidden means no cursor; shown again, the same shape comes back without a new one. */
static void test_cursor_hide_show(void **state)
{
	struct frame_store *s = frame_store_new();
	struct frame_reader *r = frame_reader_new(s);
	struct cursor_seen cs = { 0 }, late = { 0 };

	write_rect(s, W, H, all, 0, NULL);
	set_shape(s, 4, 4, 0xff0000ff);
	frame_store_set_cursor_pos(s, 10, 10, true);
	cursor_sync(r, &cs);
	frame_store_set_cursor_pos(s, 10, 10, false);
	assert_true(readable(frame_reader_wake_fd(r)));
	cursor_sync(r, &cs);
	assert_int_equal(cs.shapes, 2);
	assert_false(cs.shown);

	/* A client arriving now sees no cursor at all. */
	struct frame_reader *r2 = frame_reader_new(s);
	cursor_sync(r2, &late);
	assert_int_equal(late.shapes, 0);

	frame_store_set_cursor_pos(s, 10, 10, true);
	cursor_sync(r, &cs);
	cursor_sync(r2, &late);
	assert_int_equal(cs.shapes, 3);
	assert_true(cs.shown && cs.first_pixel == 0xff0000ff);
	assert_int_equal(late.shapes, 1);
	assert_true(late.shown && late.width == 4 && late.x == 10);

	/* An empty shape (nothing visible) shows no cursor either. */
	set_shape(s, 0, 0, 0);
	cursor_sync(r, &cs);
	assert_int_equal(cs.shapes, 4);
	assert_false(cs.shown);

	frame_reader_free(r2);
	frame_reader_free(r);
	frame_store_free(s);
	client_done(&cs.c);
	client_done(&late.c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reader_before_first_frame),
		cmocka_unit_test(test_damage_merges),
		cmocka_unit_test(test_two_readers),
		cmocka_unit_test(test_resize),
		cmocka_unit_test(test_wake_fd),
		cmocka_unit_test(test_reader_freed),
		cmocka_unit_test(test_concurrent_no_torn_frames),
		cmocka_unit_test(test_cursor_waits_for_picture),
		cmocka_unit_test(test_cursor_move_keeps_shape),
		cmocka_unit_test(test_cursor_hide_show),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
