/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef KBED_COMMON_H
#define KBED_COMMON_H

#include <stddef.h>

/*
 * What every part of the kernel bed's guest driver shares: the first failure
 * (the one the verdict line names), a monotonic clock for deadlines, sysfs
 * writes, and an mdev's VFIO group node.
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

/* Writes text to a sysfs file; 0 or a failure recorded. */
int kbed_write_file(const char *path, const char *text);

/* The mdev's VFIO group node, /dev/vfio/N, into out. */
int kbed_mdev_group(const char *uuid, char *out, size_t len);

#endif
