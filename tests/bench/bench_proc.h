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

/*
 * CPU time of every thread of pid but the sim's control thread, in
 * nanoseconds, from /proc/PID/task/TID/schedstat (/proc/PID/stat's
 * utime+stime tick at 10 ms, too coarse for 0.3 ms a frame).
 */
static inline uint64_t bench_cpu_ns(pid_t pid)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	DIR *dir = opendir(path);
	uint64_t total = 0;
	struct dirent *e;
	while (dir && (e = readdir(dir))) {
		if (e->d_name[0] == '.' || bench_is_sim_control(pid, e->d_name))
			continue;
		char stat_path[320];
		snprintf(stat_path, sizeof(stat_path), "/proc/%d/task/%s/schedstat", pid, e->d_name);
		FILE *f = fopen(stat_path, "r");
		unsigned long long ns;
		if (f && fscanf(f, "%llu", &ns) == 1)
			total += ns;
		if (f)
			fclose(f);
	}
	if (dir)
		closedir(dir);
	return total;
}

#endif
