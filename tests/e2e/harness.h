/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef MDEV_VNCD_E2E_HARNESS_H
#define MDEV_VNCD_E2E_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * Runs the production daemon under the simulated vGPU (LD_PRELOAD) in a
 * private temporary directory, and talks to it as a user would: over VNC.
 */
struct daemon_proc {
	pid_t pid;
	uint16_t port;
	char dir[64];       /* temporary directory: control socket, report, log */
	char control[128];  /* the sim's control socket */
	char report[128];   /* written by the sim at exit */
	char log[128];      /* the daemon's stderr */
	char import_config[96]; /* "" unless E2E_GPU_IMPORT is set: see harness.c */
	struct simctl *sim;
};

struct daemon_options {
	const char *const *extra_args; /* NULL-terminated, may be NULL */
	const char *const *extra_env;  /* "NAME=value", NULL-terminated, may be NULL */
	bool no_uuid;                  /* the device comes another way (fd, socket) */
	/* A session of its own (setsid), so a scheduling group (autogroup) of its own, as a service has. */
	bool own_session;
};

/* Starts the daemon and connects to the sim; fails the test on error. */
void daemon_start(struct daemon_proc *d, const struct daemon_options *opts);
/*
 * The simulated driver's personality the daemon runs against
 * (VGPU_SIM_DRIVER from the test's environment: gvt, mbochs or generic).
 * daemon_stop and daemon_run_to_exit fail the test when the daemon broke one
 * of that driver's rules.
 */
const char *sim_driver(void);
bool sim_driver_is(const char *name);

/* Runs the daemon expecting it to exit by itself; returns its exit status. */
int daemon_run_to_exit(struct daemon_proc *d, const struct daemon_options *opts, int timeout_ms);
/* Sends sig, waits for exit, returns the exit status (or 128+signal). */
int daemon_stop(struct daemon_proc *d, int sig);
/* Value of key=N in the sim's exit report, -1 if absent. */
long daemon_report_value(const struct daemon_proc *d, const char *key);
/* Number of lines of the daemon's log containing needle. */
int daemon_log_count(const struct daemon_proc *d, const char *needle);

/* Waits until the daemon's log has at least count lines containing needle. */
bool daemon_wait_log(const struct daemon_proc *d, const char *needle, int count, int timeout_ms);

/*
 * Waits until the daemon queried the primary plane n more times: it has
 * seen what the sim shows now.
 */
bool daemon_wait_queries(struct daemon_proc *d, unsigned n, int timeout_ms);

/* Entries of /proc/PID/<what> of the daemon: "fd" for its fds, "task" for its threads. */
int daemon_proc_entries(const struct daemon_proc *d, const char *what);
/*
 * The daemon's fds apart from the sim's objects (device, dmabufs, and the
 * sim's own buffers, which live in the daemon's process): those the sim
 * counts itself (simctl_stats).
 */
int daemon_fds_beside_sim(const struct daemon_proc *d);
/*
 * Waits until the daemon is back to fds (daemon_fds_beside_sim) and threads;
 * false, with what it has instead printed, at the timeout.
 */
bool daemon_wait_counts(const struct daemon_proc *d, int fds, int threads, int timeout_ms);

/* Display events fired as fast as the sim takes them, on a connection and thread of their own. */
struct irq_storm;
struct irq_storm *irq_storm_start(const struct daemon_proc *d, uint64_t value);
/* Stops the storm; returns how many events it fired. */
uint64_t irq_storm_stop(struct irq_storm *storm);

/* A free TCP port on 127.0.0.1 (bound then released). */
uint16_t free_port(void);
uint64_t now_ms(void);

/* Deterministic test pictures: XRGB8888, stride width*4. */
void picture_fill(uint8_t *pixels, uint32_t width, uint32_t height, uint32_t seed);

/* The guest shows picture_fill(seed) at 640x480; a raw VNC client sees exactly it. */
void daemon_check_serves_picture(struct daemon_proc *d, uint32_t seed);

#endif
