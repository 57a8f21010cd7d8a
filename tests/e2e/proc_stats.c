// SPDX-License-Identifier: GPL-2.0-or-later
#include "proc_stats.h"

#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "harness.h"
#include "sim_protocol.h"

static int count_entries(pid_t pid, const char *what)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, what);
	DIR *dir = opendir(path);
	if (!dir)
		return -1;
	int n = 0;
	for (struct dirent *e = readdir(dir); e; e = readdir(dir))
		n += e->d_name[0] != '.';
	closedir(dir);
	return n;
}

long proc_status_field_kb(pid_t pid, const char *field)
{
	char path[64], line[128];
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	long kb = -1;
	size_t len = strlen(field);
	while (kb < 0 && fgets(line, sizeof(line), f))
		if (strncmp(line, field, len) == 0 && line[len] == ':')
			sscanf(line + len + 1, "%ld", &kb);
	fclose(f);
	return kb;
}

/* Whether task tid of pid is the sim's control thread. */
static bool is_sim_control(pid_t pid, const char *tid)
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

/* The number in /proc/PID/task/TID/file: the first one, or the one after "field:". */
static uint64_t task_number(pid_t pid, const char *tid, const char *file, const char *field)
{
	char path[320], line[128];
	snprintf(path, sizeof(path), "/proc/%d/task/%s/%s", pid, tid, file);
	FILE *f = fopen(path, "r");
	unsigned long long n = 0;
	size_t len = field ? strlen(field) : 0;
	bool found = false;
	while (f && !found && fgets(line, sizeof(line), f)) {
		if (!field)
			found = sscanf(line, "%llu", &n) == 1;
		else if (strncmp(line, field, len) == 0 && line[len] == ':')
			found = sscanf(line + len + 1, "%llu", &n) == 1;
	}
	if (f)
		fclose(f);
	return found ? n : 0;
}

/* That number summed over pid's threads, the sim's control thread left out or not. */
static uint64_t sum_over_tasks(pid_t pid, const char *file, const char *field, bool beside_sim)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	DIR *dir = opendir(path);
	uint64_t total = 0;
	struct dirent *e;
	while (dir && (e = readdir(dir))) {
		if (e->d_name[0] == '.' || (beside_sim && is_sim_control(pid, e->d_name)))
			continue;
		total += task_number(pid, e->d_name, file, field);
	}
	if (dir)
		closedir(dir);
	return total;
}

uint64_t proc_cpu_ns_beside_sim(pid_t pid)
{
	return sum_over_tasks(pid, "schedstat", NULL, true);
}

uint64_t proc_voluntary_switches(pid_t pid)
{
	return sum_over_tasks(pid, "status", "voluntary_ctxt_switches", false);
}

int proc_usage_read(pid_t pid, struct proc_usage *out)
{
	out->fds = count_entries(pid, "fd");
	out->threads = count_entries(pid, "task");
	out->rss_kb = proc_status_field_kb(pid, "VmRSS");
	return out->fds < 0 || out->threads < 0 || out->rss_kb < 0 ? -1 : 0;
}

bool proc_usage_wait_at_most(pid_t pid, const struct proc_usage *want, int timeout_ms,
			     struct proc_usage *last)
{
	uint64_t deadline = now_ms() + (uint64_t)timeout_ms;
	for (;;) {
		if (proc_usage_read(pid, last) < 0)
			return false;
		if (last->fds <= want->fds && last->threads <= want->threads)
			return true;
		if (now_ms() >= deadline)
			return false;
		nanosleep(&(struct timespec){ .tv_nsec = 20 * 1000 * 1000 }, NULL);
	}
}
