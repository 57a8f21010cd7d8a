// SPDX-License-Identifier: GPL-2.0-or-later
#include "kbed_common.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <time.h>

static char failure[512];

int kbed_fail(int err, const char *fmt, ...)
{
	va_list ap;

	if (!failure[0]) {
		va_start(ap, fmt);
		vsnprintf(failure, sizeof(failure), fmt, ap);
		va_end(ap);
	}
	return err < 0 ? err : -EIO;
}

const char *kbed_failure(void)
{
	return failure;
}

double kbed_now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}
