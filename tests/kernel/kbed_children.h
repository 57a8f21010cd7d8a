/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef KBED_CHILDREN_H
#define KBED_CHILDREN_H

/*
 * The guest driver's children: mdev-vncd on a device the driver hands over,
 * and vnc_check, which answers one line per question about the VNC picture.
 * Every failure is recorded with kbed_fail().
 */

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define STEP_TIMEOUT_S 60

/* What the daemon announces through mbochs's EDID region when started BY_SOCKET. */
#define KBED_EDID_W 1024
#define KBED_EDID_H 768
#define KBED_EDID_SIZE "1024x768"

struct child {
	pid_t pid;    /* 0 once reaped */
	int in, out;  /* checker pipes; -1 for the daemon */
	char log[40]; /* the daemon's stderr; "" for a checker */
};

enum handover {
	BY_FD,     /* --device-fd, inherited across exec */
	BY_SOCKET, /* device_socket in the config file, SCM_RIGHTS */
	BY_UUID,   /* the daemon opens the mdev itself */
	BY_ATTACH, /* qemu_pid = DEV in the config: the daemon takes the device from that process */
	BY_ATTACH_UNPRIVILEGED, /* the same as user nobody, without CAP_SYS_PTRACE: refused */
	BY_PIDFILE, /* qemu_pidfile = KBED_QEMU_PIDFILE, on_device_loss = wait (DEV unused) */
	BY_PIDFILE_UNPRIVILEGED, /* the same as user nobody */
};

/* Where the kernel bed's QEMU writes its PID (kbed_attach.c). */
#define KBED_QEMU_PIDFILE "/tmp/kbed-qemu.pid"

/* Starts mdev-vncd listening on 127.0.0.1:PORT with device DEV (or UUID). */
int kbed_daemon_start(struct child *d, const char *bin, enum handover how, int dev,
		      const char *uuid, int port);

/*
 * Starts mdev-vncd on 127.0.0.1:PORT with device DEV inherited (--device-fd)
 * and a config file of the lines CONFIG ("key = value\n"...).
 */
int kbed_daemon_start_config(struct child *d, const char *bin, int dev, int port,
			     const char *config);

/* Waits up to timeout_s for the daemon to exit by itself, with this status. */
int kbed_daemon_wait_exit(struct child *c, double timeout_s, int status);

/* 0 while the daemon runs; a failure once it has exited (it is reaped then). */
int kbed_daemon_alive(struct child *c);

/* Starts vnc_check on PORT and waits until it is connected. */
int kbed_checker_start(struct child *c, const char *path, int port);

/*
 * Sends one command (vnc_check.c's syntax) and waits for the answer, printed
 * as "KBED: TAG 'STEP': CMD -> ANSWER". 0 when the answer is "ok".
 */
int kbed_checker_ask(struct child *c, const char *cmd, const char *tag, const char *step);

/* SIGTERM, then SIGKILL after 20 s; a daemon must end cleanly and in time. */
int kbed_child_stop(struct child *c, bool is_daemon);

/* Lines of LOG that contain NEEDLE, or a negative errno. */
int kbed_count_in_log(const char *log, const char *needle);

/* The same, with the first such line (without its newline) in FIRST when there is one. */
int kbed_find_in_log(const char *log, const char *needle, char *first, size_t len);

/* Prints the daemon's log to stdout (the guest's console). */
void kbed_dump_log(const struct child *d);

#endif
