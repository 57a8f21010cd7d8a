// SPDX-License-Identifier: GPL-2.0-or-later
#include "kbed_attach.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/vfio.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/pidfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kbed_common.h"
#include "kbed_guest.h"

#define QEMU_BIN "/usr/bin/qemu-system-x86_64"
#define QEMU_LOG "/tmp/qemu.log"
#define QEMU_UUID "6b3fbc10-4f43-4c55-9f3e-0000000000e1"
#define NOBODY 65534
/* mdev removal must not wait for the daemon: a few seconds of TCG guest are plenty. */
#define REMOVE_LIMIT_S 10

struct qemu {
	pid_t pid;
	char group[32]; /* /dev/vfio/N of the mdev */
};

/* The lowest fd of pid whose /proc link reads target, or -1 (the driver is root: it may list). */
static int fd_linked_to(pid_t pid, const char *target)
{
	char dir_path[64], path[320], link[256];
	struct dirent *e;
	int found = -1;
	DIR *dir;

	snprintf(dir_path, sizeof(dir_path), "/proc/%d/fd", (int)pid);
	dir = opendir(dir_path);
	if (!dir)
		return -1;
	while ((e = readdir(dir))) {
		ssize_t n;
		int fd = atoi(e->d_name);

		snprintf(path, sizeof(path), "%s/%s", dir_path, e->d_name);
		n = readlink(path, link, sizeof(link) - 1);
		if (n < 0)
			continue;
		link[n] = 0;
		if (!strcmp(link, target) && (found < 0 || fd < found))
			found = fd;
	}
	closedir(dir);
	return found;
}

static void print_qemu_log(void)
{
	char line[512];
	FILE *f = fopen(QEMU_LOG, "re");

	while (f && fgets(line, sizeof(line), f))
		printf("[qemu] %s", line);
	if (f)
		fclose(f);
}

static _Noreturn void exec_qemu(const char *uuid, bool as_nobody)
{
	char dev[160];
	char *argv[] = {QEMU_BIN, "-S", "-nodefaults", "-display", "none", "-accel",
			"tcg,tb-size=16", "-m", "64", "-pidfile", KBED_QEMU_PIDFILE, "-device", dev,
			NULL};
	int log = open(QEMU_LOG, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);

	snprintf(dev, sizeof(dev), "vfio-pci,sysfsdev=/sys/bus/mdev/devices/%s,display=off", uuid);
	if (log >= 0) {
		dup2(log, 1);
		dup2(log, 2);
	}
	if (as_nobody && (setgroups(0, NULL) || setgid(NOBODY) || setuid(NOBODY)))
		_exit(127);
	execv(argv[0], argv);
	fprintf(stderr, "exec %s: %m\n", argv[0]);
	_exit(127);
}

/*
 * Starts QEMU holding the mdev and waits until it has realized the device
 * (its group and a VFIO device fd open). As nobody, the group node is
 * given to nobody first, and the pidfile made readable once written, as
 * libvirt's pidfiles are (QEMU's own -pidfile is 0600).
 */
static int qemu_start(struct qemu *q, const char *uuid, bool as_nobody)
{
	double deadline = kbed_now_s() + STEP_TIMEOUT_S;
	int ret = kbed_mdev_group(uuid, q->group, sizeof(q->group));

	if (ret)
		return ret;
	unlink(KBED_QEMU_PIDFILE);
	if (as_nobody && chown(q->group, NOBODY, NOBODY))
		return kbed_fail(-errno, "chown %s: %m", q->group);
	q->pid = fork();
	if (q->pid == 0)
		exec_qemu(uuid, as_nobody);
	if (q->pid < 0)
		return kbed_fail(-errno, "fork: %m");
	while (fd_linked_to(q->pid, q->group) < 0 ||
	       fd_linked_to(q->pid, "anon_inode:[vfio-device]") < 0) {
		if (waitpid(q->pid, NULL, WNOHANG) == q->pid || kbed_now_s() > deadline) {
			q->pid = 0;
			print_qemu_log();
			return kbed_fail(-EIO, "QEMU did not come up holding %s", q->group);
		}
		usleep(50 * 1000);
	}
	if (as_nobody && chmod(KBED_QEMU_PIDFILE, 0644))
		return kbed_fail(-errno, "chmod %s: %m", KBED_QEMU_PIDFILE);
	return 0;
}

static void qemu_kill(struct qemu *q)
{
	if (q->pid <= 0)
		return;
	kill(q->pid, SIGKILL);
	waitpid(q->pid, NULL, 0);
	q->pid = 0;
}

/* The driver's own device fd, taken from QEMU as the daemon takes it. */
static int device_from_qemu(const struct qemu *q, const char *uuid)
{
	int pidfd = pidfd_open(q->pid, 0), qemu_fd = fd_linked_to(q->pid, q->group);
	int group = pidfd < 0 || qemu_fd < 0 ? -1 : pidfd_getfd(pidfd, qemu_fd, 0);
	int dev = group < 0 ? -1 : ioctl(group, VFIO_GROUP_GET_DEVICE_FD, uuid);

	if (dev < 0)
		kbed_fail(-errno, "taking %s from QEMU (PID %d): %m", uuid, (int)q->pid);
	if (group >= 0)
		close(group);
	if (pidfd >= 0)
		close(pidfd);
	return dev;
}

static int wait_in_log(const char *log, const char *needle, int count)
{
	double deadline = kbed_now_s() + STEP_TIMEOUT_S;

	while (kbed_count_in_log(log, needle) < count) {
		if (kbed_now_s() > deadline)
			return kbed_fail(-ETIMEDOUT, "the daemon never logged '%s' %d times", needle,
					 count);
		usleep(50 * 1000);
	}
	return 0;
}

/* The removal in a child: a daemon still holding the device would block it. */
static int remove_within_limit(const char *uuid, double *took)
{
	double t0 = kbed_now_s();
	int st = 0;
	pid_t pid = fork();

	if (pid == 0)
		_exit(mdev_remove(uuid) ? 1 : 0);
	if (pid < 0)
		return kbed_fail(-errno, "fork: %m");
	while (waitpid(pid, &st, WNOHANG) == 0) {
		if (kbed_now_s() - t0 > REMOVE_LIMIT_S)
			return kbed_fail(-ETIMEDOUT, "removing mdev %s still blocks after %d s: "
						     "something holds it",
					 uuid, REMOVE_LIMIT_S);
		usleep(20 * 1000);
	}
	*took = kbed_now_s() - t0;
	return WIFEXITED(st) && !WEXITSTATUS(st) ? 0 : kbed_fail(-EIO, "removing %s failed", uuid);
}

/* QEMU killed: the daemon lets go at once and keeps running; the mdev is removed. */
static int qemu_exit_lets_go(struct qemu *q, struct child *d, int nth)
{
	char needle[96];
	double t0 = kbed_now_s(), removed = 0;
	pid_t pid = q->pid;
	int ret;

	qemu_kill(q);
	snprintf(needle, sizeof(needle), "device lost: QEMU (PID %d) exited; released it", (int)pid);
	ret = wait_in_log(d->log, needle, 1);
	if (!ret)
		ret = kbed_daemon_alive(d);
	if (!ret)
		ret = remove_within_limit(QEMU_UUID, &removed);
	if (!ret)
		printf("KBED: step 'QEMU killed (%d)': the daemon let go %.1f s after, mdev removed "
		       "in %.2f s\n", nth, kbed_now_s() - t0 - removed, removed);
	return ret;
}

/* As nobody: QEMU's fds are the daemon's user's, but Yama refuses pidfd_getfd to a non-parent. */
static int attach_refused(const char *daemon, struct child *d, const struct qemu *q)
{
	char error[256];
	int ret = kbed_write_file("/proc/sys/kernel/yama/ptrace_scope", "1");

	snprintf(error, sizeof(error),
		 "error: cannot attach to QEMU for mdev %s: pidfd_getfd refused: copying QEMU's "
		 "(PID %d) fds needs CAP_SYS_PTRACE", QEMU_UUID, (int)q->pid);
	if (!ret)
		ret = kbed_daemon_start(d, daemon, BY_PIDFILE_UNPRIVILEGED, -1, QEMU_UUID, 5905);
	if (!ret)
		ret = kbed_daemon_wait_exit(d, STEP_TIMEOUT_S, 1);
	if (!ret && (kbed_count_in_log(d->log, "error:") != 1 ||
		     kbed_count_in_log(d->log, error) != 1))
		ret = kbed_fail(-EIO, "the refused attach did not log one error: '%s'", error);
	if (!ret)
		printf("KBED: step 'attach refused': as nobody beside QEMU as nobody (Yama "
		       "ptrace_scope 1): exit 1, one error naming pidfd_getfd, CAP_SYS_PTRACE and "
		       "PID %d\n", (int)q->pid);
	return ret;
}

static int start_and_draw(struct qemu *q, bool as_nobody, kbed_draw_fn *draw, unsigned picture,
			  char *cmd, size_t len)
{
	double t0 = kbed_now_s();
	int ret = mdev_create("mbochs", "mbochs-medium", QEMU_UUID);
	int fd;

	if (!ret)
		ret = qemu_start(q, QEMU_UUID, as_nobody);
	if (ret)
		return ret;
	printf("KBED: step 'QEMU started': PID %d%s holds %s (-S, display=off) after %.1f s\n",
	       (int)q->pid, as_nobody ? " (user nobody)" : "", q->group, kbed_now_s() - t0);
	fd = device_from_qemu(q, QEMU_UUID);
	return fd < 0 ? fd : draw(fd, picture, cmd, len);
}

int kbed_attach_qemu(const char *daemon, const char *checker, kbed_draw_fn *draw,
		     struct child d[2], struct child ck[2])
{
	struct qemu q = {0};
	char cmd[160];
	int ret = start_and_draw(&q, false, draw, 0, cmd, sizeof(cmd));

	if (!ret)
		ret = kbed_daemon_start(&d[0], daemon, BY_PIDFILE, -1, QEMU_UUID, 5904);
	if (!ret)
		ret = kbed_checker_start(&ck[0], checker, 5904);
	if (!ret)
		ret = kbed_checker_ask(&ck[0], cmd, "step", "attached by pidfile");
	if (!ret)
		ret = qemu_exit_lets_go(&q, &d[0], 1);
	if (!ret)
		ret = kbed_checker_ask(&ck[0], "change", "step", "device lost picture");
	if (!ret)
		ret = start_and_draw(&q, true, draw, 1, cmd, sizeof(cmd));
	if (!ret)
		ret = wait_in_log(d[0].log, "device back: opened the vGPU through QEMU PID", 1);
	if (!ret)
		ret = kbed_checker_ask(&ck[0], cmd, "step", "QEMU restarted");
	if (!ret)
		ret = attach_refused(daemon, &d[1], &q);
	if (!ret)
		ret = kbed_daemon_alive(&d[0]);
	if (!ret)
		ret = qemu_exit_lets_go(&q, &d[0], 2);
	qemu_kill(&q);
	return ret;
}
