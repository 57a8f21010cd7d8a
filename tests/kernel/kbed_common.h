/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef KBED_COMMON_H
#define KBED_COMMON_H

/*
 * What every part of the kernel bed's guest driver shares: the first failure
 * (the one the verdict line names) and a monotonic clock for deadlines.
 */

/*
 * Records the first failure only, so the verdict names the cause rather than
 * its consequences. Returns err when negative, otherwise -EIO.
 */
int kbed_fail(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The first failure recorded, or "" when none was. */
const char *kbed_failure(void);

/* Seconds on CLOCK_MONOTONIC. */
double kbed_now_s(void);

#endif
