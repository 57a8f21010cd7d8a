// SPDX-License-Identifier: GPL-2.0-or-later
#include "qemu_attach.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <linux/capability.h>
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
	char group_node[32]; /* /dev/vfio/N, or empty where sysfs names no group */
	char cdev_node[64];  /* /dev/vfio/devices/vfioX, or empty without a cdev */
	bool cdev;           /* QEMU holds the device through cdev_node, not the group */
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
		return errno == ENOENT ? -ESRCH : -errno;
	int found = -1, refused = 0;
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
		if (n < 0) {
			/* ENOENT: closed meanwhile. */
			refused = errno == EACCES || errno == EPERM ? -EPERM : refused;
			continue;
		}
		link[n] = '\0';
		if (strcmp(link, target) == 0)
			found = (int)fd;
	}
	closedir(dir);
	if (found < 0)
		return refused ? refused : -ENOENT;
	*fd_out = found;
	return 0;
}

/* A line "Name:\t<value>" of /proc/self/status, parsed with scanf format fmt. */
static bool self_status(const char *name, const char *fmt, void *value)
{
	FILE *f = fopen("/proc/self/status", "re");
	if (!f)
		return false;
	char line[256];
	bool found = false;
	size_t len = strlen(name);
	while (!found && fgets(line, sizeof(line), f))
		found = strncmp(line, name, len) == 0 && line[len] == ':' &&
			sscanf(line + len + 1, fmt, value) == 1;
	fclose(f);
	return found;
}

static bool holds_ptrace(void)
{
	unsigned long long effective = 0;
	return self_status("CapEff", "%llx", &effective) && (effective >> CAP_SYS_PTRACE & 1);
}

/*
 * Both the kernel's ptrace check and a seccomp filter (systemd's
 * SystemCallFilter= with SystemCallErrorNumber=EPERM) refuse pidfd_getfd with
 * EPERM. Holding CAP_SYS_PTRACE under a filter, the filter is the one.
 */
static bool refused_by_syscall_filter(void)
{
	int seccomp = 0;
	return holds_ptrace() && self_status("Seccomp", "%d", &seccomp) && seccomp == 2;
}

/* Signal 0 checks only: EPERM (another user's QEMU) means it is there too. */
static bool qemu_alive(const struct qemu_attach *attach)
{
	return pidfd_send_signal(attach->pidfd, 0, NULL, 0) == 0 || errno == EPERM;
}

static void explain_find_failure(const struct qemu_attach *attach, int ret, char *why, size_t len)
{
	int pid = (int)attach->pid;
	if (ret == -ESRCH && qemu_alive(attach))
		snprintf(why, len, "QEMU's (PID %d) /proc entry is hidden from this process "
			 "(systemd's ProtectProc=invisible shows only processes it may ptrace: "
			 "needs CAP_SYS_PTRACE)", pid);
	else if (ret == -ESRCH)
		snprintf(why, len, "QEMU (PID %d) has exited", pid);
	else if (ret == -EACCES)
		snprintf(why, len, "listing QEMU's (PID %d) fds needs CAP_DAC_READ_SEARCH: its "
			 "/proc/PID/fd is its user's alone%s", pid,
			 holds_ptrace() ? "" : " (and copying one, CAP_SYS_PTRACE)");
	else if (ret == -EPERM)
		snprintf(why, len, "reading QEMU's (PID %d) fds needs CAP_SYS_PTRACE (or its user, "
			 "where Yama allows it)", pid);
	else if (ret == -ENOENT)
		snprintf(why, len, "QEMU (PID %d) holds neither %s nor %s: not this VM's QEMU?", pid,
			 attach->group_node[0] ? attach->group_node : "the mdev's group (none)",
			 attach->cdev_node[0] ? attach->cdev_node : "an iommufd cdev (none)");
	else
		snprintf(why, len, "cannot read QEMU's (PID %d) fds", pid);
}

/*
 * QEMU's fd of the mdev: its VFIO group /dev/vfio/N, else (Linux 6.6+, QEMU
 * on iommufd) its cdev /dev/vfio/devices/vfioX. Sets attach->cdev and the nodes.
 */
static int find_qemu_fd(struct qemu_attach *attach, const char *uuid, int *qemu_fd, char *why,
			size_t len)
{
	char group[VFIO_GROUP_NUMBER_MAX + 1], cdev[32];
	const char *step = "";
	if (vfio_device_group_number(uuid, group, &step) == 0)
		snprintf(attach->group_node, sizeof(attach->group_node), "/dev/vfio/%s", group);
	if (vfio_device_cdev_name(uuid, cdev, sizeof(cdev)) == 0)
		snprintf(attach->cdev_node, sizeof(attach->cdev_node), "/dev/vfio/devices/%s", cdev);
	if (!attach->group_node[0] && !attach->cdev_node[0]) {
		snprintf(why, len, "%s", step);
		return -ENOENT;
	}
	int ret = -ENOENT;
	if (attach->group_node[0])
		ret = qemu_attach_find_fd(attach->pid, attach->group_node, qemu_fd);
	if (ret == -ENOENT && attach->cdev_node[0]) {
		ret = qemu_attach_find_fd(attach->pid, attach->cdev_node, qemu_fd);
		attach->cdev = ret == 0;
	}
	if (ret < 0)
		explain_find_failure(attach, ret, why, len);
	return ret;
}

static void explain_copy_failure(const struct qemu_attach *attach, int ret, char *why,
				 size_t len)
{
	if (ret == -EPERM && refused_by_syscall_filter())
		snprintf(why, len, "pidfd_getfd of QEMU's (PID %d) fd refused by this process's "
			 "system call filter (systemd's SystemCallFilter=: the attach drop-in "
			 "allows pidfd_getfd)", (int)attach->pid);
	else if (ret == -EPERM)
		snprintf(why, len, "pidfd_getfd refused: copying QEMU's (PID %d) fds needs "
			 "CAP_SYS_PTRACE (or its user, where Yama allows it)", (int)attach->pid);
	else
		snprintf(why, len, "pidfd_getfd of QEMU's (PID %d) fd failed", (int)attach->pid);
}

static int copy_qemu_fd(const struct qemu_attach *attach, int qemu_fd, int *out, char *why,
			size_t len)
{
	*out = pidfd_getfd(attach->pidfd, qemu_fd, 0);
	if (*out >= 0)
		return 0;
	int ret = -errno;
	explain_copy_failure(attach, ret, why, len);
	return ret;
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

/* Where /proc/PID/fd cannot be listed: the group node, else the cdev, found by probing. */
static int probe_qemu_fd(struct qemu_attach *attach, int *copy, char *why, size_t len)
{
	int ret = -ENOENT;
	if (attach->group_node[0])
		ret = qemu_attach_probe_fd(attach, attach->group_node, copy);
	if (ret == -ENOENT && attach->cdev_node[0]) {
		ret = qemu_attach_probe_fd(attach, attach->cdev_node, copy);
		attach->cdev = ret == 0;
	}
	if (ret == -ENOENT)
		explain_find_failure(attach, ret, why, len);
	else if (ret < 0)
		explain_copy_failure(attach, ret, why, len);
	return ret;
}

/*
 * A device fd of our own, from QEMU's. The group path opens the device
 * again from QEMU's group (VFIO_GROUP_GET_DEVICE_FD). The cdev path cannot:
 * a cdev opens once while open (vfio_df_open in drivers/vfio/vfio_main.c:
 * "Only the group path allows the device to be opened multiple times"). So
 * there the copy of QEMU's device fd is used as it is. It is QEMU's open
 * file itself, already bound: BIND_IOMMUFD grants access per open file
 * (df->access_granted, set in vfio_df_ioctl_bind_iommufd of
 * drivers/vfio/device_cdev.c, checked by every ioctl, read, write and mmap),
 * and binding it again fails ("one device cannot be bound twice").
 */
int qemu_attach_device_fd(struct qemu_attach *attach, const char *uuid, bool probe,
			  int *device_fd, char *why, size_t len)
{
	int qemu_fd;
	_cleanup_close_ int copy = -1;
	int ret = find_qemu_fd(attach, uuid, &qemu_fd, why, len);
	if (ret == -EACCES && probe)
		ret = probe_qemu_fd(attach, &copy, why, len);
	else if (ret == 0)
		ret = copy_qemu_fd(attach, qemu_fd, &copy, why, len);
	if (ret < 0)
		return ret;
	if (attach->cdev) {
		*device_fd = take_fd(&copy);
		return 0;
	}
	*device_fd = ioctl(copy, VFIO_GROUP_GET_DEVICE_FD, uuid);
	if (*device_fd < 0) {
		ret = -errno;
		snprintf(why, len, "VFIO_GROUP_GET_DEVICE_FD(%s) on QEMU's group %s failed", uuid,
			 attach->group_node);
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
	int ret = qemu_attach_device_fd(attach, uuid, false, &device_fd, why, len);
	if (ret < 0)
		return ret;
	char origin[96];
	snprintf(origin, sizeof(origin), "QEMU PID %d, %s", (int)attach->pid,
		 qemu_attach_node(attach));
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
	log_info(attach->cdev ? "attached to QEMU (PID %d): mdev %s, QEMU's own fd of %s copied"
			      : "attached to QEMU (PID %d): mdev %s opened again from %s",
		 (int)attach->pid, uuid, qemu_attach_node(attach));
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

const char *qemu_attach_node(const struct qemu_attach *attach)
{
	return attach->cdev ? attach->cdev_node : attach->group_node;
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
