/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef MDEV_VNCD_DAEMON_H
#define MDEV_VNCD_DAEMON_H

#include "config.h"

/*
 * The daemon: opens the device and the listeners, then runs one libevent
 * loop that owns the refresh timer, the signals (SIGTERM/SIGINT: clean
 * exit; SIGHUP: reload the config) and the VNC listening sockets.
 *
 * config_path may be NULL (everything came from the command line); on
 * SIGHUP the configuration is built again from it and the overrides
 * (borrowed for the daemon's lifetime).
 * ready_fd, when >= 0, gets one byte once the daemon serves clients and is
 * closed (the parent of a daemonized process waits on it).
 * Returns the process exit status.
 */
int daemon_run(const struct config *cfg, const char *config_path,
	       const struct config_override *overrides, size_t n_overrides, int ready_fd);

#endif
