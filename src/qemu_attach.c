// SPDX-License-Identifier: GPL-2.0-or-later
#include "qemu_attach.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/pidfd.h>
#include <sys/stat.h>
#include <unistd.h>
#include <event2/event.h>
#include <linux/vfio.h>

#include "fd_util.h"
#include "log.h"
#include "vfio_device.h"

/* Linux's PID_MAX_LIMIT. */
#define QEMU_PID_MAX 4194304

struct qemu_attach {
	pid_t pid;
	int pidfd;
	struct event *exit_event;
	void (*exited)(void *ctx);
	void *ctx;
};

int qemu_attach_read_pidfile(const char *path, pid_t *out, const char **why)
{
	char text[32];
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		*why = "cannot open the pidfile";
		return -errno;
	}
	ssize_t n = read(fd, text, sizeof(text) - 1);
	if (n < 0) {
		*why = "cannot read the pidfile";
		return -errno;
	}
	text[n] = '\0';
	size_t digits = strspn(text, "0123456789");
	const char *rest = text + digits;
	long pid = digits && digits < 8 ? strtol(text, NULL, 10) : 0;
	if (pid <= 0 || pid > QEMU_PID_MAX || (*rest && strcmp(rest, "\n") != 0)) {
		*why = "the pidfile holds no PID";
		return -EINVAL;
	}
	*out = (pid_t)pid;
	return 0;
}

int qemu_attach_find_fd(pid_t pid, const char *target, int *fd_out)
{
	char dir_path[64];
	snprintf(dir_path, sizeof(dir_path), "/proc/%d/fd", (int)pid);
	DIR *dir = opendir(dir_path);
	if (!dir)
		return -errno;
	int found = -1;
	struct dirent *entry;
	while ((entry = readdir(dir))) {
		char *end;
		long fd = strtol(entry->d_name, &end, 10);
		if (*end || end == entry->d_name || fd < 0 || fd > INT_MAX ||
		    (found >= 0 && fd >= found))
			continue;
		char path[sizeof(dir_path) + sizeof(entry->d_name)], link[PATH_MAX];
		snprintf(path, sizeof(path), "%s/%s", dir_path, entry->d_name);
		ssize_t n = readlink(path, link, sizeof(link) - 1);
		if (n < 0)
			continue; /* closed meanwhile */
		link[n] = '\0';
		if (strcmp(link, target) == 0)
			found = (int)fd;
	}
	closedir(dir);
	if (found < 0)
		return -ENOENT;
	*fd_out = found;
	return 0;
}

/* QEMU's fd table size (FDSize in /proc/PID/status, readable by anyone): where a probe stops. */
static int fd_table_size(pid_t pid)
{
	char path[64], line[128];
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "re");
	if (!f)
		return -errno;
	int size = -ENOENT;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "FDSize: %d", &size) == 1)
			break;
	fclose(f);
	return size;
}

/* A device node is matched by its number: QEMU may see it under another /dev (libvirt's namespace). */
static bool same_file(const struct stat *a, const struct stat *b)
{
	if (S_ISCHR(a->st_mode) || S_ISCHR(b->st_mode))
		return S_ISCHR(a->st_mode) && S_ISCHR(b->st_mode) && a->st_rdev == b->st_rdev;
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

int qemu_attach_probe_fd(struct qemu_attach *attach, const char *target, int *copy_out)
{
	struct stat want, got;
	if (stat(target, &want) < 0)
		return -errno;
	int size = fd_table_size(attach->pid);
	if (size < 0)
		return size;
	for (int fd = 0; fd < size; fd++) {
		int copy = pidfd_getfd(attach->pidfd, fd, 0);
		if (copy < 0 && errno == EBADF)
			continue;
		if (copy < 0)
			return -errno;
		if (fstat(copy, &got) == 0 && same_file(&got, &want)) {
			*copy_out = copy;
			return 0;
		}
		close(copy);
	}
	return -ENOENT;
}

/*
 * QEMU's fd for target, copied. /proc/PID/fd is 0500 and QEMU's user's:
 * another user lists it only with CAP_DAC_READ_SEARCH, which the daemon
 * does not ask for; then QEMU's fds are copied in turn (qemu_attach_probe_fd),
 * which CAP_SYS_PTRACE alone allows.
 */
static int copy_fd(struct qemu_attach *attach, const char *target, int *copy)
{
	int qemu_fd;
	int ret = qemu_attach_find_fd(attach->pid, target, &qemu_fd);
	if (ret == -EACCES || ret == -EPERM)
		return qemu_attach_probe_fd(attach, target, copy);
	if (ret < 0)
		return ret;
	*copy = pidfd_getfd(attach->pidfd, qemu_fd, 0);
	return *copy < 0 ? -errno : 0;
}

int qemu_attach_device_fd(struct qemu_attach *attach, const char *uuid, int *device_fd,
			  char *why, size_t len)
{
	char group[VFIO_GROUP_NUMBER_MAX + 1], target[32];
	const char *step = "";
	int ret = vfio_device_group_number(uuid, group, &step);
	if (ret < 0) {
		snprintf(why, len, "%s", step);
		return ret;
	}
	snprintf(target, sizeof(target), "/dev/vfio/%s", group);
	_cleanup_close_ int group_fd = -1;
	ret = copy_fd(attach, target, &group_fd);
	if (ret == -EPERM || ret == -EACCES) {
		snprintf(why, len, "pidfd_getfd refused: copying QEMU's (PID %d) fds needs "
			 "CAP_SYS_PTRACE (or its user, where Yama allows it)", (int)attach->pid);
		return ret;
	}
	if (ret < 0) {
		snprintf(why, len, ret == -ENOENT ? "QEMU (PID %d) holds no %s: not this VM's QEMU?"
						  : "cannot copy QEMU's (PID %d) fd for %s",
			 (int)attach->pid, target);
		return ret;
	}
	*device_fd = ioctl(group_fd, VFIO_GROUP_GET_DEVICE_FD, uuid);
	if (*device_fd < 0) {
		ret = -errno;
		snprintf(why, len, "VFIO_GROUP_GET_DEVICE_FD(%s) on QEMU's group %s failed", uuid,
			 group);
		return ret;
	}
	return 0;
}

static int attach_pid(pid_t pid, const char *pidfile, pid_t *out, char *why, size_t len)
{
	if (pid > 0) {
		*out = pid;
		return 0;
	}
	const char *step = "";
	int ret = qemu_attach_read_pidfile(pidfile, out, &step);
	if (ret < 0)
		snprintf(why, len, "%s %s", step, pidfile);
	return ret;
}

int qemu_attach_new(pid_t pid, const char *pidfile, struct qemu_attach **out, char *why,
		    size_t len)
{
	struct qemu_attach *attach = calloc(1, sizeof(*attach));
	if (!attach) {
		snprintf(why, len, "out of memory");
		return -ENOMEM;
	}
	attach->pidfd = -1;
	int ret = attach_pid(pid, pidfile, &attach->pid, why, len);
	if (ret == 0) {
		attach->pidfd = pidfd_open(attach->pid, 0);
		ret = attach->pidfd < 0 ? -errno : 0;
		if (ret < 0)
			snprintf(why, len, "no QEMU process %d", (int)attach->pid);
	}
	if (ret < 0) {
		qemu_attach_free(attach);
		return ret;
	}
	*out = attach;
	return 0;
}

int qemu_attach_device(struct qemu_attach *attach, const char *uuid, struct vfio_device **dev,
		       char *why, size_t len)
{
	int device_fd = -1;
	int ret = qemu_attach_device_fd(attach, uuid, &device_fd, why, len);
	if (ret < 0)
		return ret;
	char origin[64];
	snprintf(origin, sizeof(origin), "QEMU PID %d", (int)attach->pid);
	const char *step = "";
	ret = vfio_device_adopt_fd(device_fd, origin, dev, &step);
	if (ret < 0)
		snprintf(why, len, "%s", step);
	return ret;
}

int qemu_attach_open(pid_t pid, const char *pidfile, const char *uuid, struct vfio_device **dev,
		     struct qemu_attach **out)
{
	char why[256] = "";
	struct qemu_attach *attach = NULL;
	int ret = qemu_attach_new(pid, pidfile, &attach, why, sizeof(why));
	if (ret == 0)
		ret = qemu_attach_device(attach, uuid, dev, why, sizeof(why));
	if (ret < 0) {
		log_error("cannot attach to QEMU for mdev %s: %s (%s); giving up", uuid, why,
			  strerror(-ret));
		qemu_attach_free(attach);
		return ret;
	}
	log_info("attached to QEMU (PID %d): mdev %s opened again from its VFIO group",
		 (int)attach->pid, uuid);
	*out = attach;
	return 0;
}

int qemu_attach_adopt(pid_t pid, int pidfd, struct qemu_attach **out)
{
	struct qemu_attach *attach = calloc(1, sizeof(*attach));
	if (!attach) {
		close_fd(pidfd);
		return -ENOMEM;
	}
	attach->pid = pid;
	attach->pidfd = pidfd;
	*out = attach;
	return 0;
}

static void on_exit_readable(evutil_socket_t fd, short what, void *arg)
{
	struct qemu_attach *attach = arg;
	attach->exited(attach->ctx);
}

int qemu_attach_watch(struct qemu_attach *attach, struct event_base *base,
		      void (*exited)(void *ctx), void *ctx)
{
	attach->exited = exited;
	attach->ctx = ctx;
	/* A pidfd turns readable when its process exits. */
	attach->exit_event = event_new(base, attach->pidfd, EV_READ, on_exit_readable, attach);
	if (!attach->exit_event)
		return -ENOMEM;
	return event_add(attach->exit_event, NULL) < 0 ? -EINVAL : 0;
}

pid_t qemu_attach_pid(const struct qemu_attach *attach)
{
	return attach->pid;
}

int qemu_attach_pidfd(const struct qemu_attach *attach)
{
	return attach->pidfd;
}

void qemu_attach_free(struct qemu_attach *attach)
{
	if (!attach)
		return;
	if (attach->exit_event)
		event_free(attach->exit_event);
	close_fd(attach->pidfd);
	free(attach);
}
