/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef MDEVVNCD_BENCH_PROC_H
#define MDEVVNCD_BENCH_PROC_H

/*
 * What a daemon under the simulated vGPU costs, read from /proc (header
 * only, for the end-to-end benches). The sim's control thread inside the
 * daemon (the bench's flips and IRQs, the kernel's work on a real device)
 * is left out.
 */
#include <dirent.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "sim_protocol.h"

/* Whether task tid of pid is the sim's control thread. */
static inline bool bench_is_sim_control(pid_t pid, const char *tid)
{
	char path[320], comm[32] = "";
	snprintf(path, sizeof(path), "/proc/%d/task/%s/comm", pid, tid);
	FILE *f = fopen(path, "r");
	if (f && fgets(comm, sizeof(comm), f))
		comm[strcspn(comm, "\n")] = '\0';
	if (f)
		fclose(f);
	return strcmp(comm, SIM_CONTROL_THREAD_NAME) == 0;
}

/* One number read from /proc/PID/task/TID/<file>. */
typedef uint64_t bench_task_reader(FILE *f);

/* The sum over every thread of pid (but the sim's control thread when skip_sim). */
static inline uint64_t bench_tasks_sum(pid_t pid, const char *file, bench_task_reader *read_task,
				       bool skip_sim)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	DIR *dir = opendir(path);
	uint64_t total = 0;
	struct dirent *e;
	while (dir && (e = readdir(dir))) {
		if (e->d_name[0] == '.' || (skip_sim && bench_is_sim_control(pid, e->d_name)))
			continue;
		char task_path[320];
		snprintf(task_path, sizeof(task_path), "/proc/%d/task/%s/%s", pid, e->d_name, file);
		FILE *f = fopen(task_path, "r");
		if (f) {
			total += read_task(f);
			fclose(f);
		}
	}
	if (dir)
		closedir(dir);
	return total;
}

static inline uint64_t bench_read_schedstat_ns(FILE *f)
{
	unsigned long long ns;
	return fscanf(f, "%llu", &ns) == 1 ? ns : 0;
}

/*
 * CPU time of every thread of pid but the sim's control thread, in
 * nanoseconds, from schedstat (/proc/PID/stat's utime+stime tick at 10 ms,
 * too coarse for 0.3 ms a frame).
 */
static inline uint64_t bench_cpu_ns(pid_t pid)
{
	return bench_tasks_sum(pid, "schedstat", bench_read_schedstat_ns, true);
}

static inline uint64_t bench_read_voluntary_switches(FILE *f)
{
	char line[128];
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, "voluntary_ctxt_switches:", 24) == 0)
			return strtoull(line + 24, NULL, 10);
	return 0;
}

/* Voluntary context switches of every thread of pid: each is a wakeup. */
static inline uint64_t bench_wakeups(pid_t pid)
{
	return bench_tasks_sum(pid, "status", bench_read_voluntary_switches, false);
}

#endif
