/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef MDEV_VNCD_FD_UTIL_H
#define MDEV_VNCD_FD_UTIL_H

#include <errno.h>
#include <stdbool.h>
#include <unistd.h>

/* Closes fd if it is one, keeping errno: for cleanup paths. */
static inline void close_fd(int fd)
{
	if (fd >= 0) {
		int saved = errno;
		close(fd);
		errno = saved;
	}
}

static inline void close_fdp(int *fd)
{
	close_fd(*fd);
}

/* An fd local to a function, closed when it goes out of scope unless taken. */
#define _cleanup_close_ __attribute__((cleanup(close_fdp)))

/* Moves ownership out of a _cleanup_close_ variable. */
static inline int take_fd(int *fd)
{
	int ret = *fd;
	*fd = -1;
	return ret;
}

#endif
