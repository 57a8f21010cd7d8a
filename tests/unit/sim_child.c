// SPDX-License-Identifier: GPL-2.0-or-later
#include "sim_child.h"

#include <dirent.h>
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* Set in the child only: the name of the run it is to perform. */
#define RUN_ENV "SIM_CHILD_RUN"

bool sim_child_active(void)
{
	return getenv(RUN_ENV) != NULL;
}

static int run_named(const struct sim_child_run *runs, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(runs[i].name, name) == 0)
			return _cmocka_run_group_tests(name, runs[i].tests, runs[i].count, NULL,
						       NULL);
	fprintf(stderr, "unknown %s=%s\n", RUN_ENV, name);
	return 1;
}

/*
 * The path, not /proc/self/exe itself: under valgrind that is the tool. The
 * simulator is built next door, in ../sim.
 */
static int locate(char self[PATH_MAX], char *sim, size_t sim_len)
{
	char copy[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, PATH_MAX - 1);

	if (n < 0)
		return -errno;
	self[n] = '\0';
	memcpy(copy, self, (size_t)n + 1);
	snprintf(sim, sim_len, "%s/../sim/libvgpusim.so", dirname(copy));
	if (access(sim, R_OK) < 0) {
		fprintf(stderr, "%s: %s (build target vgpusim first)\n", sim, strerror(errno));
		return -ENOENT;
	}
	return 0;
}

static void set_pair(const char *pair)
{
	const char *eq = strchr(pair, '=');
	char key[128];

	if (!eq || (size_t)(eq - pair) >= sizeof(key)) {
		fprintf(stderr, "bad environment entry %s\n", pair);
		_exit(127);
	}
	memcpy(key, pair, (size_t)(eq - pair));
	key[eq - pair] = '\0';
	setenv(key, eq + 1, 1);
}

/* Called in the forked child, just before it executes the test again. */
static void child_env(const struct sim_child_run *run, const char *sim, const char *dir)
{
	const char *asan = getenv("ASAN_OPTIONS");
	char buf[PATH_MAX + 64];

	setenv("LD_PRELOAD", sim, 1);
	setenv(RUN_ENV, run->name, 1);
	snprintf(buf, sizeof(buf), "%s/control-%s.sock", dir, run->name);
	setenv("VGPU_SIM_CONTROL", buf, 1);
	/* ASan must accept a preload it did not put first. */
	snprintf(buf, sizeof(buf), "%s%sverify_asan_link_order=0", asan ? asan : "",
		 asan ? ":" : "");
	setenv("ASAN_OPTIONS", buf, 1);
	for (const char *const *e = run->env; e && *e; e++)
		set_pair(*e);
}

static int run_child(const struct sim_child_run *run, const char *self, const char *sim,
		     const char *dir)
{
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return -errno;
	if (pid == 0) {
		child_env(run, sim, dir);
		execl(self, self, (char *)NULL);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) != pid)
		return -errno;
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		fprintf(stderr, "run %s failed (status 0x%x)\n", run->name, status);
		return -1;
	}
	return 0;
}

int sim_child_main(const struct sim_child_run *runs, size_t n)
{
	char self[PATH_MAX], sim[PATH_MAX + 32], dir[PATH_MAX + 16];
	const char *name = getenv(RUN_ENV);
	int failed = 0;

	if (name)
		return run_named(runs, n, name);
	if (locate(self, sim, sizeof(sim)) < 0)
		return 1;
	snprintf(dir, sizeof(dir), "/tmp/%s.XXXXXX", strrchr(self, '/') + 1);
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	for (size_t i = 0; i < n; i++)
		failed |= run_child(&runs[i], self, sim, dir) < 0;
	rmdir(dir);
	return failed;
}

unsigned sim_child_count_fds(void)
{
	DIR *dir = opendir("/proc/self/fd");
	unsigned n = 0;

	assert_non_null(dir);
	while (readdir(dir))
		n++;
	closedir(dir);
	return n;
}
