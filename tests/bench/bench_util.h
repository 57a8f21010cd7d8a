/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef MDEVVNCD_BENCH_UTIL_H
#define MDEVVNCD_BENCH_UTIL_H

/* Timing and statistics shared by the benchmark programs (header only). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static inline double bench_now_ms(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static inline int bench_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static inline void bench_sort(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), bench_cmp_double);
}

/* Sorts v in place; n must not be 0. */
static inline double bench_median(double *v, size_t n)
{
	bench_sort(v, n);
	return v[n / 2];
}

/* A fixed pseudo-random pattern (xorshift), the same in every run. */
static inline void bench_fill_random(uint8_t *p, size_t n)
{
	uint64_t s = 0x9e3779b97f4a7c15ULL;

	for (size_t i = 0; i + 8 <= n; i += 8) {
		s ^= s << 13;
		s ^= s >> 7;
		s ^= s << 17;
		memcpy(p + i, &s, 8);
	}
}

/* More than this core's L2 (4 MiB on the machines the figures come from). */
#define BENCH_EVICT_BYTES (16u << 20)

/*
 * The guest draws the frame before the daemon reads it: src is written
 * again (its own bytes, so results stay comparable), then this core's
 * caches are filled with other data (evict, BENCH_EVICT_BYTES), so the
 * next read finds src where a guest's write on another CPU leaves it, and
 * not where the previous repetition's read left it. Not timed.
 */
static inline void bench_guest_draw(uint8_t *src, size_t n, uint8_t *evict)
{
	volatile uint64_t *p = (volatile uint64_t *)src;
	for (size_t i = 0; i < n / 8; i++)
		p[i] = p[i];
	static uint8_t pass;
	memset(evict, ++pass, BENCH_EVICT_BYTES);
	__asm__ volatile("" : : "r"(evict) : "memory");
}

#endif
