// SPDX-License-Identifier: GPL-2.0-or-later
#include "proc_stats.h"

#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "harness.h"

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

static long rss_kb(pid_t pid)
{
	char path[64], line[128];
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	long kb = -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

int proc_usage_read(pid_t pid, struct proc_usage *out)
{
	out->fds = count_entries(pid, "fd");
	out->threads = count_entries(pid, "task");
	out->rss_kb = rss_kb(pid);
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
