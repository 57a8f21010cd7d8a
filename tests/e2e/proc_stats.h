/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef MDEV_VNCD_E2E_PROC_STATS_H
#define MDEV_VNCD_E2E_PROC_STATS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * What a process holds, read from /proc: the leak checks of the reliability
 * tests compare these before and after. -1 when the process is gone.
 */
struct proc_usage {
	int fds;
	int threads;
	long rss_kb;
};

int proc_usage_read(pid_t pid, struct proc_usage *out);
/* A "Name: N kB" line of /proc/PID/status (VmRSS, RssAnon...); -1 when absent. */
long proc_status_field_kb(pid_t pid, const char *field);
/*
 * CPU time of every thread of pid but the sim's control thread (the tests'
 * instrument, which runs inside the daemon), in nanoseconds.
 */
uint64_t proc_cpu_ns_beside_sim(pid_t pid);
/* Voluntary context switches of every thread of pid: each is a wakeup. */
uint64_t proc_voluntary_switches(pid_t pid);

/*
 * Waits until pid holds at most want's fds and threads (clients leave
 * asynchronously: their threads are joined on the next loop turn). True
 * when it did within timeout_ms; *last gets the final reading.
 */
bool proc_usage_wait_at_most(pid_t pid, const struct proc_usage *want, int timeout_ms,
			     struct proc_usage *last);

#endif
