/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef KBED_ATTACH_H
#define KBED_ATTACH_H

/*
 * The kernel bed's "qemu" case: a real qemu-system-x86_64 inside the guest
 * holds an mbochs mdev as libvirt starts one (vfio-pci sysfsdev=,
 * display=off, -pidfile), paused before its first instruction (-S), so
 * software emulation inside software emulation costs nothing. The guest's
 * driver takes a device fd from that QEMU (pidfd_getfd, as the daemon does)
 * and draws through it; mdev-vncd attaches by pidfile with on_device_loss =
 * wait and must serve exact pixels, let go when QEMU is killed (the mdev is
 * then removed at once), pick up the next QEMU (as another user: the
 * daemon's helper holds CAP_SYS_PTRACE alone), and, started as user nobody,
 * fail with one clear error naming the refused pidfd_getfd.
 */

#include <stddef.h>

#include "kbed_children.h"

/*
 * The guest's side: sets up the device fd (owned from here), draws picture
 * 0 or 1 and writes the vnc_check command that expects it into cmd.
 */
typedef int kbed_draw_fn(int device_fd, unsigned picture, char *cmd, size_t len);

/* Runs the case with daemons in d[0..1] and checkers in ck[0..1] (the caller stops them). */
int kbed_attach_qemu(const char *daemon, const char *checker, kbed_draw_fn *draw,
		     struct child d[2], struct child ck[2]);

#endif
