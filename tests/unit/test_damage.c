// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The tile map against oracles computed here pixel by pixel or tile by tile:
 * which tiles a rectangle touches, which tiles two pictures differ in, and
 * whether damage_map_rects covers exactly the dirty tiles.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <xxhash.h>

#include "damage.h"

/* 200x150: three full tile columns and one of 8 pixels, two tile rows and one of 22. */
#define W 200u
#define H 150u

static uint64_t rng_state;

/* xorshift64*: the same sequence on every libc. */
static uint32_t rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint32_t)((rng_state * 0x2545F4914F6CDD1DULL) >> 32);
}

static uint32_t rnd_below(uint32_t n)
{
	return rnd() % n;
}

static bool tile_dirty(const struct damage_map *m, uint32_t col, uint32_t row)
{
	return m->dirty[(size_t)row * m->cols + col] != 0;
}

/* The counters the map keeps agree with its flags. */
static void check_counters(const struct damage_map *m)
{
	uint32_t total = 0;

	for (uint32_t row = 0; row < m->rows; row++) {
		uint32_t in_row = 0;

		for (uint32_t col = 0; col < m->cols; col++)
			in_row += tile_dirty(m, col, row);
		assert_int_equal(m->row_dirty[row], in_row);
		total += in_row;
	}
	assert_int_equal(m->dirty_count, total);
}

static struct damage_map map_new(uint32_t w, uint32_t h)
{
	struct damage_map m;

	assert_int_equal(damage_map_init(&m, w, h), 0);
	return m;
}

static void test_init(void **state)
{
	static const struct {
		uint32_t w, h, cols, rows;
	} sizes[] = {
		{ 1, 1, 1, 1 }, { 64, 64, 1, 1 }, { 65, 129, 2, 3 }, { W, H, 4, 3 },
		{ 1920, 1080, 30, 17 },
	};
	struct damage_map m;

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		m = map_new(sizes[i].w, sizes[i].h);
		assert_int_equal(m.cols, sizes[i].cols);
		assert_int_equal(m.rows, sizes[i].rows);
		assert_true(damage_map_empty(&m));
		check_counters(&m);
		damage_map_done(&m);
		assert_null(m.dirty);
		damage_map_done(&m); /* a second done is harmless */
	}
	assert_int_equal(damage_map_init(&m, 0, 10), -EINVAL);
	assert_int_equal(damage_map_init(&m, 10, 0), -EINVAL);
	damage_map_done(&m);
}

static void test_mark_all_and_clear(void **state)
{
	struct damage_map m = map_new(W, H);

	damage_map_mark_all(&m);
	assert_int_equal(m.dirty_count, m.cols * m.rows);
	check_counters(&m);
	damage_map_mark_rect(&m, (struct rect){ 0, 0, 10, 10 });
	check_counters(&m);
	damage_map_clear(&m);
	assert_true(damage_map_empty(&m));
	check_counters(&m);
	damage_map_done(&m);
}

/* Whether [a, a + n) clipped to [0, limit) meets [t, t + 64), in 64-bit arithmetic. */
static bool span_meets_tile(uint64_t a, uint64_t n, uint64_t limit, uint64_t t)
{
	uint64_t end = a + n < limit ? a + n : limit;
	uint64_t tile_end = t + DAMAGE_TILE < limit ? t + DAMAGE_TILE : limit;

	return a < end && a < tile_end && t < end;
}

/* Marks r on a fresh map and compares every tile with the oracle. */
static void check_mark_rect(struct rect r)
{
	struct damage_map m = map_new(W, H);

	damage_map_mark_rect(&m, r);
	damage_map_mark_rect(&m, r); /* marking again changes nothing */
	check_counters(&m);
	for (uint32_t row = 0; row < m.rows; row++) {
		for (uint32_t col = 0; col < m.cols; col++) {
			bool want = span_meets_tile(r.x, r.width, W, (uint64_t)col * DAMAGE_TILE) &&
				    span_meets_tile(r.y, r.height, H, (uint64_t)row * DAMAGE_TILE);

			if (tile_dirty(&m, col, row) != want)
				fail_msg("rect %u,%u %ux%u: tile %u,%u is %s", r.x, r.y, r.width,
					 r.height, col, row, want ? "clean" : "dirty");
		}
	}
	damage_map_done(&m);
}

static void test_mark_rect_clipping(void **state)
{
	static const struct rect cases[] = {
		{ 0, 0, 1, 1 },	     { 63, 63, 2, 2 },	    { 64, 64, 64, 64 },
		{ 199, 149, 1, 1 },  { 199, 149, 50, 50 },  { 190, 10, 100, 1 },
		{ 0, 0, W, H },	     { 0, 0, W + 1, H + 1 }, { 200, 0, 1, 1 },
		{ 0, 150, 1, 1 },    { 5000, 5000, 9, 9 },  { 0, 0, 0, 10 },
		{ 0, 0, 10, 0 },     { 128, 127, 1, 2 },    { 0, 64, W, 1 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check_mark_rect(cases[i]);
}

/* A size reaching past 2^32 (a device-supplied position plus size) still clips. */
static void test_mark_rect_huge_size(void **state)
{
	check_mark_rect((struct rect){ 100, 20, UINT32_MAX, 1 });
	check_mark_rect((struct rect){ 10, 100, 1, UINT32_MAX });
	check_mark_rect((struct rect){ UINT32_MAX, 0, 1, 1 });
}

static void test_merge(void **state)
{
	struct damage_map a = map_new(W, H), b = map_new(W, H);

	damage_map_mark_rect(&a, (struct rect){ 0, 0, 1, 1 });
	damage_map_mark_rect(&b, (struct rect){ 0, 0, 1, 1 });
	damage_map_mark_rect(&b, (struct rect){ 199, 149, 1, 1 });
	damage_map_mark_rect(&b, (struct rect){ 70, 70, 1, 1 });
	damage_map_merge(&a, &b);
	check_counters(&a);
	check_counters(&b);
	assert_int_equal(a.dirty_count, 3);
	assert_int_equal(b.dirty_count, 3);
	assert_true(tile_dirty(&a, 0, 0) && tile_dirty(&a, 3, 2) && tile_dirty(&a, 1, 1));

	damage_map_clear(&b);
	damage_map_merge(&a, &b);
	assert_int_equal(a.dirty_count, 3);
	damage_map_merge(&b, &a);
	assert_memory_equal(a.dirty, b.dirty, (size_t)a.cols * a.rows);
	check_counters(&b);
	damage_map_done(&a);
	damage_map_done(&b);
}

/* Two copies of one random picture, in buffers of different strides. */
struct pictures {
	unsigned bpp;
	size_t cur_stride, prev_stride;
	uint8_t *cur, *prev;
};

static struct pictures pictures_new(unsigned bpp)
{
	struct pictures p = {
		.bpp = bpp,
		.cur_stride = (size_t)W * bpp + 13,
		.prev_stride = (size_t)W * bpp + 64 * bpp + 3,
	};

	p.cur = malloc(p.cur_stride * H);
	p.prev = malloc(p.prev_stride * H);
	assert_non_null(p.cur);
	assert_non_null(p.prev);
	for (size_t i = 0; i < p.prev_stride * H; i++)
		p.prev[i] = (uint8_t)rnd();
	for (size_t i = 0; i < p.cur_stride * H; i++)
		p.cur[i] = (uint8_t)rnd(); /* padding differs from prev's */
	for (uint32_t y = 0; y < H; y++)
		memcpy(p.cur + y * p.cur_stride, p.prev + y * p.prev_stride, (size_t)W * bpp);
	return p;
}

static void pictures_free(struct pictures *p)
{
	free(p->cur);
	free(p->prev);
}

static uint8_t *cur_byte(struct pictures *p, uint32_t x, uint32_t y, unsigned byte)
{
	return p->cur + y * p->cur_stride + (size_t)x * p->bpp + byte;
}

static void compare(struct damage_map *m, const struct pictures *p)
{
	damage_compare_linear(m, p->cur, p->cur_stride, p->prev, p->prev_stride, p->bpp);
	check_counters(m);
}

/* One byte of pixel (x, y) changed: only its tile is dirty. */
static void check_single_change(struct pictures *p, uint32_t x, uint32_t y, unsigned byte)
{
	struct damage_map m = map_new(W, H);
	uint8_t *b = cur_byte(p, x, y, byte);

	*b ^= 0x80;
	compare(&m, p);
	*b ^= 0x80;
	if (m.dirty_count != 1 || !tile_dirty(&m, x / DAMAGE_TILE, y / DAMAGE_TILE))
		fail_msg("bpp %u: byte %u of pixel %u,%u changed: %u tiles dirty, its own %s",
			 p->bpp, byte, x, y, m.dirty_count,
			 tile_dirty(&m, x / DAMAGE_TILE, y / DAMAGE_TILE) ? "too" : "not");
	damage_map_done(&m);
}

static void test_compare_each_tile(void **state)
{
	static const unsigned bpps[] = { 1, 2, 4 };

	for (size_t i = 0; i < 3; i++) {
		struct pictures p = pictures_new(bpps[i]);
		struct damage_map m = map_new(W, H);

		compare(&m, &p);
		assert_true(damage_map_empty(&m));
		for (uint32_t ty = 0; ty < H; ty += DAMAGE_TILE) {
			for (uint32_t tx = 0; tx < W; tx += DAMAGE_TILE) {
				uint32_t x2 = tx + DAMAGE_TILE > W ? W - 1 : tx + DAMAGE_TILE - 1;
				uint32_t y2 = ty + DAMAGE_TILE > H ? H - 1 : ty + DAMAGE_TILE - 1;

				/* Corners and a middle pixel, first and last byte. */
				check_single_change(&p, tx, ty, 0);
				check_single_change(&p, x2, ty, bpps[i] - 1);
				check_single_change(&p, tx, y2, bpps[i] - 1);
				check_single_change(&p, x2, y2, bpps[i] - 1);
				check_single_change(&p, x2, y2, 0);
				check_single_change(&p, (tx + x2) / 2, (ty + y2) / 2, 0);
			}
		}
		damage_map_done(&m);
		pictures_free(&p);
	}
}

static void test_compare_ignores_padding(void **state)
{
	static const unsigned bpps[] = { 1, 2, 4 };

	for (size_t i = 0; i < 3; i++) {
		struct pictures p = pictures_new(bpps[i]);
		struct damage_map m = map_new(W, H);

		for (uint32_t y = 0; y < H; y++)
			for (size_t b = (size_t)W * p.bpp; b < p.cur_stride; b++)
				p.cur[y * p.cur_stride + b] ^= 0xff;
		compare(&m, &p);
		assert_true(damage_map_empty(&m));

		memset(p.cur, 0, p.cur_stride * H);
		memset(p.prev, 0xff, p.prev_stride * H);
		compare(&m, &p);
		assert_int_equal(m.dirty_count, m.cols * m.rows);
		damage_map_done(&m);
		pictures_free(&p);
	}
}

/* Hashes of prev's rows, as frame_diff holds them for the picture it last converted. */
static struct strip_hashes hashes_of_prev(const struct pictures *p)
{
	struct strip_hashes h = { 0 };
	assert_int_equal(strip_hashes_resize(&h, H), 0);
	strip_hashes_fill(&h, p->prev, p->prev_stride, (size_t)W * p->bpp);
	return h;
}

/* Every single-byte change is found by its row's hash, in its own tile only. */
static void test_hashed_each_tile(void **state)
{
	static const unsigned bpps[] = { 1, 2, 4 };

	for (size_t i = 0; i < 3; i++) {
		struct pictures p = pictures_new(bpps[i]);
		struct strip_hashes h = hashes_of_prev(&p);
		for (uint32_t y = 0; y < H; y += 37) {
			for (uint32_t x = 0; x < W; x += 29) {
				struct damage_map m = map_new(W, H);
				uint8_t *b = cur_byte(&p, x, y, bpps[i] - 1);
				*b ^= 0x01;
				damage_compare_hashed(&m, &h, p.cur, p.cur_stride, p.prev,
						      p.prev_stride, p.bpp);
				check_counters(&m);
				assert_int_equal(m.dirty_count, 1);
				assert_true(tile_dirty(&m, x / DAMAGE_TILE, y / DAMAGE_TILE));
				/* Back as prev holds it: the hash changed again, the row compares equal. */
				*b ^= 0x01;
				damage_map_clear(&m);
				damage_compare_hashed(&m, &h, p.cur, p.cur_stride, p.prev,
						      p.prev_stride, p.bpp);
				assert_true(damage_map_empty(&m));
				damage_map_done(&m);
			}
		}
		/* Padding is not hashed. */
		struct damage_map m = map_new(W, H);
		for (uint32_t y = 0; y < H; y++)
			p.cur[y * p.cur_stride + (size_t)W * p.bpp] ^= 0xff;
		damage_compare_hashed(&m, &h, p.cur, p.cur_stride, p.prev, p.prev_stride, p.bpp);
		assert_true(damage_map_empty(&m));
		damage_map_done(&m);
		strip_hashes_done(&h);
		pictures_free(&p);
	}
}

/*
 * A row whose hash matches is trusted, even where prev differs (what a
 * collision would look like), but only until the row is due for its byte
 * comparison: within STRIP_VERIFY_PERIOD calls.
 */
static void test_hashed_verifies_every_row(void **state)
{
	struct pictures p = pictures_new(4);
	struct strip_hashes h = hashes_of_prev(&p);
	const uint32_t y = 77, x = 130;
	/* prev changes behind the hashes' back. */
	p.prev[y * p.prev_stride + x * 4] ^= 0x40;
	unsigned found_at = 0;
	for (unsigned calls = 1; calls <= STRIP_VERIFY_PERIOD + 1; calls++) {
		struct damage_map m = map_new(W, H);
		damage_compare_hashed(&m, &h, p.cur, p.cur_stride, p.prev, p.prev_stride, 4);
		if (!damage_map_empty(&m)) {
			assert_int_equal(m.dirty_count, 1);
			assert_true(tile_dirty(&m, x / DAMAGE_TILE, y / DAMAGE_TILE));
			if (!found_at)
				found_at = calls;
		} else {
			/* Once found, the row is compared byte for byte until it matches. */
			assert_int_equal(found_at, 0);
		}
		damage_map_done(&m);
	}
	/* Not before its turn in the period. */
	assert_int_equal(found_at, y % STRIP_VERIFY_PERIOD + 1);
	strip_hashes_done(&h);
	pictures_free(&p);
}

/*
 * Rows of tile rows already dirty are not read (every pixel changing costs
 * no hashing), and are compared byte for byte the next time.
 */
static void test_hashed_dirty_rows_forgotten(void **state)
{
	struct pictures p = pictures_new(4);
	struct strip_hashes h = hashes_of_prev(&p);
	const uint32_t y = 70; /* not due on either call */
	struct damage_map m = map_new(W, H);
	damage_map_mark_all(&m);
	damage_compare_hashed(&m, &h, p.cur, p.cur_stride, p.prev, p.prev_stride, 4);
	assert_int_equal(h.hash[y], 0);
	/* prev changed behind the hashes' back: found, as the row's hash is not known. */
	p.prev[y * p.prev_stride + 8] ^= 0x10;
	damage_map_clear(&m);
	damage_compare_hashed(&m, &h, p.cur, p.cur_stride, p.prev, p.prev_stride, 4);
	assert_int_equal(m.dirty_count, 1);
	assert_true(tile_dirty(&m, 0, y / DAMAGE_TILE));
	/* Equal again: learned, then trusted. */
	p.prev[y * p.prev_stride + 8] ^= 0x10;
	damage_map_clear(&m);
	damage_compare_hashed(&m, &h, p.cur, p.cur_stride, p.prev, p.prev_stride, 4);
	assert_true(damage_map_empty(&m));
	assert_int_equal(h.hash[y], XXH3_64bits(p.cur + y * p.cur_stride, (size_t)W * 4));
	damage_map_done(&m);
	strip_hashes_done(&h);
	pictures_free(&p);
}

/* Tiles dirty before the compare stay dirty; clean ones in the same rows are still compared. */
static void test_compare_with_dirty_tiles(void **state)
{
	struct pictures p = pictures_new(4);
	struct damage_map m = map_new(W, H);

	damage_map_mark_rect(&m, (struct rect){ 64, 0, 1, 1 });	 /* tile 1,0 */
	damage_map_mark_rect(&m, (struct rect){ 0, 130, W, 1 }); /* tile row 2 */
	*cur_byte(&p, 70, 5, 1) ^= 1;	 /* tile 1,0: already dirty */
	*cur_byte(&p, 199, 63, 3) ^= 1;	 /* tile 3,0 */
	*cur_byte(&p, 0, 63, 0) ^= 1;	 /* tile 0,0 */
	*cur_byte(&p, 10, 140, 0) ^= 1;	 /* tile 0,2: row already dirty */
	*cur_byte(&p, 191, 127, 2) ^= 1; /* tile 2,1 */
	compare(&m, &p);
	assert_int_equal(m.dirty_count, 5 + 3); /* marked before, found */
	assert_true(tile_dirty(&m, 0, 0) && tile_dirty(&m, 1, 0) && tile_dirty(&m, 3, 0));
	assert_false(tile_dirty(&m, 2, 0));
	assert_true(tile_dirty(&m, 2, 1));
	assert_int_equal(m.row_dirty[2], m.cols);
	damage_map_done(&m);
	pictures_free(&p);
}

/* Horizontal runs of dirty tiles: an upper bound for a good cover. */
static size_t count_runs(const struct damage_map *m)
{
	size_t runs = 0;

	for (uint32_t row = 0; row < m->rows; row++)
		for (uint32_t col = 0; col < m->cols; col++)
			if (tile_dirty(m, col, row) && (col == 0 || !tile_dirty(m, col - 1, row)))
				runs++;
	return runs;
}

static bool on_grid(uint32_t start, uint32_t len, uint32_t limit)
{
	return start % DAMAGE_TILE == 0 && len > 0 && start + len <= limit &&
	       ((start + len) % DAMAGE_TILE == 0 || start + len == limit);
}

/*
 * Rectangles from the map: on the tile grid, inside the picture, each dirty
 * tile covered once and no clean one, no more than the map has runs, and
 * the map left as it was. Returns their number.
 */
static size_t check_rects(struct damage_map *m)
{
	size_t tiles = (size_t)m->cols * m->rows;
	struct rect *out = calloc(tiles, sizeof(*out));
	uint8_t *before = malloc(tiles), *cover = calloc(tiles, 1);
	size_t n;

	assert_true(out && before && cover);
	memcpy(before, m->dirty, tiles);
	n = damage_map_rects(m, out);
	assert_memory_equal(before, m->dirty, tiles);
	check_counters(m);
	assert_true(n <= count_runs(m));
	for (size_t i = 0; i < n; i++) {
		struct rect r = out[i];

		if (!on_grid(r.x, r.width, m->width) || !on_grid(r.y, r.height, m->height))
			fail_msg("%ux%u map: rect %u,%u %ux%u off the grid or picture", m->width,
				 m->height, r.x, r.y, r.width, r.height);
		for (uint32_t row = r.y / DAMAGE_TILE; row * DAMAGE_TILE < r.y + r.height; row++)
			for (uint32_t col = r.x / DAMAGE_TILE; col * DAMAGE_TILE < r.x + r.width;
			     col++)
				cover[(size_t)row * m->cols + col]++;
	}
	for (size_t t = 0; t < tiles; t++)
		if (cover[t] != m->dirty[t])
			fail_msg("%ux%u map: tile %zu,%zu dirty %u covered %u times", m->width,
				 m->height, t % m->cols, t / m->cols, m->dirty[t], cover[t]);
	free(cover);
	free(before);
	free(out);
	return n;
}

static void mark_tiles(struct damage_map *m, uint32_t col, uint32_t row, uint32_t cols,
		       uint32_t rows)
{
	damage_map_mark_rect(m, (struct rect){ col * DAMAGE_TILE, row * DAMAGE_TILE,
					       cols * DAMAGE_TILE, rows * DAMAGE_TILE });
}

static void test_rects_shapes(void **state)
{
	struct damage_map m = map_new(600, 450); /* 10 x 8 tiles, partial last ones */
	struct rect one;

	assert_int_equal(check_rects(&m), 0);
	damage_map_mark_all(&m);
	assert_int_equal(check_rects(&m), 1);

	damage_map_clear(&m); /* L: a column, then a row along its foot */
	mark_tiles(&m, 2, 1, 1, 5);
	mark_tiles(&m, 2, 5, 6, 1);
	assert_int_equal(check_rects(&m), 2);

	damage_map_clear(&m); /* an upside-down L: a row, then a column from its left end */
	mark_tiles(&m, 1, 0, 9, 1);
	mark_tiles(&m, 1, 1, 1, 7);
	assert_int_equal(check_rects(&m), 2);

	damage_map_clear(&m);
	for (uint32_t row = 0; row < m.rows; row++)
		for (uint32_t col = row % 2; col < m.cols; col += 2)
			mark_tiles(&m, col, row, 1, 1);
	assert_int_equal(check_rects(&m), m.dirty_count);

	damage_map_clear(&m);
	mark_tiles(&m, 3, 2, 4, 3);
	assert_int_equal(check_rects(&m), 1);

	damage_map_clear(&m); /* the partial corner tile is clipped */
	mark_tiles(&m, 9, 7, 1, 1);
	assert_int_equal(damage_map_rects(&m, &one), 1);
	assert_int_equal(one.x, 576);
	assert_int_equal(one.y, 448);
	assert_int_equal(one.width, 24);
	assert_int_equal(one.height, 2);
	damage_map_done(&m);
}

static void test_rects_random_maps(void **state)
{
	rng_state = 0x9e3779b97f4a7c15ULL;
	for (int i = 0; i < 3000; i++) {
		struct damage_map m = map_new(1 + rnd_below(1100), 1 + rnd_below(800));
		uint32_t density = rnd_below(101);

		for (uint32_t t = 0; t < m.cols * m.rows; t++)
			if (rnd_below(100) < density)
				mark_tiles(&m, t % m.cols, t / m.cols, 1, 1);
		check_rects(&m);
		damage_map_done(&m);
	}
}

/* Blocks of tiles kept apart by clean tiles: one rectangle each. */
static void test_rects_separate_blocks(void **state)
{
	rng_state = 0x0123456789abcdefULL;
	for (int i = 0; i < 500; i++) {
		struct damage_map m = map_new(64 + rnd_below(1500), 64 + rnd_below(1000));
		size_t blocks = 0;

		/* Cells of 4x4 tiles; a block stays off its cell's last column and row. */
		for (uint32_t cy = 0; cy + 1 < m.rows; cy += 4) {
			for (uint32_t cx = 0; cx + 1 < m.cols; cx += 4) {
				uint32_t w = 1 + rnd_below(3), h = 1 + rnd_below(3);
				uint32_t ox = rnd_below(4 - w), oy = rnd_below(4 - h);

				if (cx + ox + w > m.cols || cy + oy + h > m.rows || rnd_below(3) == 0)
					continue;
				mark_tiles(&m, cx + ox, cy + oy, w, h);
				blocks++;
			}
		}
		assert_int_equal(check_rects(&m), blocks);
		damage_map_done(&m);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init),
		cmocka_unit_test(test_mark_all_and_clear),
		cmocka_unit_test(test_mark_rect_clipping),
		cmocka_unit_test(test_mark_rect_huge_size),
		cmocka_unit_test(test_merge),
		cmocka_unit_test(test_compare_each_tile),
		cmocka_unit_test(test_compare_ignores_padding),
		cmocka_unit_test(test_compare_with_dirty_tiles),
		cmocka_unit_test(test_hashed_each_tile),
		cmocka_unit_test(test_hashed_verifies_every_row),
		cmocka_unit_test(test_hashed_dirty_rows_forgotten),
		cmocka_unit_test(test_rects_shapes),
		cmocka_unit_test(test_rects_random_maps),
		cmocka_unit_test(test_rects_separate_blocks),
	};

	rng_state = 0x5eed5eed5eed5eedULL;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
