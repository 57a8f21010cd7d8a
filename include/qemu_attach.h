/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef MDEV_VNCD_QEMU_ATTACH_H
#define MDEV_VNCD_QEMU_ATTACH_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct event_base;
struct vfio_device;

/*
 * Beside a running VM: the vGPU from the QEMU process that holds it. A VFIO
 * group opens in one process at a time, and QEMU (under libvirt or not)
 * hands its fds to nobody; but a process with ptrace rights over QEMU can
 * copy them (pidfd_getfd). The daemon copies QEMU's group fd and asks it for
 * a device fd of its own (VFIO_GROUP_GET_DEVICE_FD: on the group path a
 * device may be opened again while open, and the vendor's open hook, GVT's
 * KVM check, runs only for the first); on the iommufd cdev path, where a
 * second open is refused, it uses its copy of QEMU's device fd. Its copy
 * keeps the vGPU alive after QEMU exits, so the daemon watches QEMU's pidfd
 * and lets go when it exits.
 */
struct qemu_attach;

/* The PID in a pidfile (a decimal number, then optionally a newline). 0 or -errno, why set. */
int qemu_attach_read_pidfile(const char *path, pid_t *out, const char **why);

/*
 * The lowest fd of process pid whose /proc/PID/fd link reads target, into
 * *fd_out. 0, -ENOENT (none), -ESRCH (no /proc/PID: gone, or hidden from
 * us), -EACCES (/proc/PID/fd not ours to list), -EPERM (its links not ours
 * to read: no ptrace rights) or -errno.
 */
int qemu_attach_find_fd(pid_t pid, const char *target, int *fd_out);

/* QEMU's process (pid, or the PID in pidfile when pid is 0), held by a pidfd. 0 or -errno, why set. */
int qemu_attach_new(pid_t pid, const char *pidfile, struct qemu_attach **out, char *why,
		    size_t len);

/*
 * The mdev uuid from that QEMU: its group fd copied and a device opened from
 * it, or where QEMU holds the device through its iommufd cdev instead (Linux
 * 6.6+), QEMU's device fd copied and used as it is. Needs CAP_SYS_PTRACE (or
 * the same user where Yama allows), and CAP_DAC_READ_SEARCH where QEMU runs
 * as another user (its /proc/PID/fd is mode 0500). 0 or -errno, why set.
 */
int qemu_attach_device(struct qemu_attach *attach, const char *uuid, struct vfio_device **dev,
		       char *why, size_t len);

/*
 * The device fd alone, as qemu_attach_device gets it (the caller owns
 * *device_fd). With probe, a /proc/PID/fd closed to this process (QEMU runs
 * as another user, and no CAP_DAC_READ_SEARCH) is no refusal: QEMU's fds are
 * copied in turn instead (qemu_attach_probe_fd), which CAP_SYS_PTRACE alone
 * allows. 0 or -errno, why set.
 */
int qemu_attach_device_fd(struct qemu_attach *attach, const char *uuid, bool probe,
			  int *device_fd, char *why, size_t len);

/*
 * QEMU's lowest fd open on target, copied into *copy_out (the caller owns
 * it), found without /proc/PID/fd: every fd below QEMU's fd table size
 * (FDSize in /proc/PID/status) is copied with pidfd_getfd in turn and
 * compared with target (a device node by its device number: QEMU may see it
 * under another /dev, libvirt's namespace), the others closed again at once.
 * 0, -ENOENT (none) or -errno (-EPERM: pidfd_getfd refused).
 */
int qemu_attach_probe_fd(struct qemu_attach *attach, const char *target, int *copy_out);

/*
 * QEMU's process from a pidfd another process opened for it (attach_helper.h):
 * the object owns pidfd from here on, even on failure. 0 or -ENOMEM.
 */
int qemu_attach_adopt(pid_t pid, int pidfd, struct qemu_attach **out);

/*
 * Both: attaches to QEMU (pid, or the PID in pidfile when pid is 0) for the mdev
 * uuid: the pidfd, QEMU's group fd copied, the device opened from it. Must
 * run while the daemon still has CAP_SYS_PTRACE. Logs the outcome: one line,
 * naming the capability and QEMU's PID on a refusal.
 */
int qemu_attach_open(pid_t pid, const char *pidfile, const char *uuid, struct vfio_device **dev,
		     struct qemu_attach **out);

/* Calls exited(ctx) on base's loop once QEMU has exited. 0 or -errno. */
int qemu_attach_watch(struct qemu_attach *attach, struct event_base *base,
		      void (*exited)(void *ctx), void *ctx);

pid_t qemu_attach_pid(const struct qemu_attach *attach);

/* The pidfd, still owned by the object. */
int qemu_attach_pidfd(const struct qemu_attach *attach);

/* After qemu_attach_device: the node QEMU holds the mdev by, /dev/vfio/N or /dev/vfio/devices/vfioX. */
const char *qemu_attach_node(const struct qemu_attach *attach);

/* Closes the pidfd and stops watching; NULL is fine. */
void qemu_attach_free(struct qemu_attach *attach);

#endif
