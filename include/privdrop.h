/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef MDEV_VNCD_PRIVDROP_H
#define MDEV_VNCD_PRIVDROP_H

#include <stddef.h>

/*
 * Started as root outside systemd, the daemon gives root up once the
 * device and the listening sockets are open: it takes the user's groups,
 * group and user, then checks that root cannot be regained.
 *
 * Not root: no user to switch to (systemd's User= already chose it, or an
 * unprivileged user started it), but capabilities granted for the setup
 * (CAP_SYS_PTRACE to attach beside QEMU) are given up. An empty user keeps root.
 * Returns 0 or -errno; err gets one sentence saying what failed (a user
 * that does not exist names the user and how to create it). After a
 * failure part-way the process must exit: its identity is undefined.
 */
int privdrop_to_user(const char *user, char *err, size_t errlen);

/*
 * The same for the attach helper (attach_helper.h), except that it keeps
 * CAP_SYS_PTRACE where it holds it, and nothing else: root switches to user
 * with the capability kept; not root, every other capability and the
 * ambient set go. Then no new privileges and not dumpable. A process
 * without CAP_SYS_PTRACE ends with no capability at all (it may still
 * attach to a QEMU of its own user, where Yama allows). 0 or -errno, err set.
 */
int privdrop_keep_ptrace(const char *user, char *err, size_t errlen);

#endif
