/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef MDEVVNCD_TESTS_FDPASS_H
#define MDEVVNCD_TESTS_FDPASS_H

/*
 * The VMM's side of a device handover: one byte on a connected unix socket,
 * carrying fd as SCM_RIGHTS when fd >= 0 and nothing when fd < 0 (a peer that
 * forgot the fd). The caller keeps fd. Returns 0 or a negative errno.
 */
int fdpass_send(int sock, int fd);

#endif
