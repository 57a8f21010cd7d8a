/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef MDEV_VNCD_ATTACH_HELPER_H
#define MDEV_VNCD_ATTACH_HELPER_H

#include <stddef.h>

struct qemu_attach;
struct vfio_device;

/*
 * qemu_pidfile with on_device_loss = wait: when the VM's QEMU exits, the
 * daemon lets go of the vGPU and waits for the next QEMU to take the device
 * from. Taking it needs CAP_SYS_PTRACE (pidfd_getfd), which the daemon must
 * not keep while it serves the network. So, OpenSSH-style, a helper process
 * forked while the daemon is still privileged keeps that one capability
 * (privdrop_keep_ptrace: the daemon's user, no other capability, no new
 * privileges, not dumpable) and does one thing: on the one request there
 * is, it reads the configured pidfile, copies the configured mdev's group
 * fd from that QEMU and answers with a device fd and QEMU's pidfd (or why
 * not). The request carries nothing: a daemon taken over can only ask for
 * the device it was configured for, which it could take anyway. The
 * daemon, with no capability left, cannot ptrace the helper (its
 * permitted set is not a superset of the helper's). Anything unexpected on
 * the socket ends the helper; the helper ends with the daemon
 * (PR_SET_PDEATHSIG) or when its socket closes.
 */
struct attach_helper;

/*
 * Forks the helper. Call it before the daemon opens anything: the helper
 * keeps what is open then (stdin, stdout, stderr) but closes parent_fd (the
 * start-up pipe to the daemon's parent, or -1). user: the user the daemon
 * drops to ("" keeps the uid). 0 or -errno (logged).
 */
int attach_helper_start(const char *pidfile, const char *uuid, const char *user, int parent_fd,
			struct attach_helper **out);

/*
 * Asks the helper for the device: *dev and *qemu (which owns QEMU's pidfd)
 * on success. The helper's -errno with why set while there is no QEMU to
 * take it from (no pidfile, a dead PID, a QEMU that does not hold the group
 * yet, a refusal: qemu_attach_device's reasons); -EPIPE when the helper is
 * gone or answered out of protocol (it cannot come back).
 * Blocks for the helper's answer: a few milliseconds, at most
 * ATTACH_HELPER_TIMEOUT_MS.
 */
int attach_helper_request(struct attach_helper *h, const char *uuid, struct vfio_device **dev,
			  struct qemu_attach **qemu, char *why, size_t len);

#define ATTACH_HELPER_TIMEOUT_MS 5000

/* Closes the socket, which ends the helper, and reaps it. NULL is fine. */
void attach_helper_free(struct attach_helper *h);

#endif
