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

#endif
