// SPDX-License-Identifier: GPL-2.0-or-later
#include "kbed_common.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

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

int kbed_write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return kbed_fail(-errno, "open %s: %m", path);
	n = write(fd, text, strlen(text));
	close(fd);
	if (n < 0)
		return kbed_fail(-errno, "write %s to %s: %m", text, path);
	return 0;
}

int kbed_mdev_group(const char *uuid, char *out, size_t len)
{
	char link[128], target[256];
	ssize_t n;

	snprintf(link, sizeof(link), "/sys/bus/mdev/devices/%s/iommu_group", uuid);
	n = readlink(link, target, sizeof(target) - 1);
	if (n < 0)
		return kbed_fail(-errno, "readlink %s: %m", link);
	target[n] = 0;
	snprintf(out, len, "/dev/vfio/%s", basename(target));
	return 0;
}
