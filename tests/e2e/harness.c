// SPDX-License-Identifier: GPL-2.0-or-later
#include "harness.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <drm_fourcc.h>

#include "simctl.h"
#include "vnc_probe.h"

#define SIM_UUID "4b20d080-1b54-4048-85b3-a6a62d165c01"

uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

uint16_t free_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in addr = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(addr);
	assert_int_equal(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&addr, &len), 0);
	close(fd);
	return ntohs(addr.sin_port);
}

static bool port_open(uint16_t port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in addr = {
		.sin_family = AF_INET,
		.sin_port = htons(port),
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	};
	bool ok = connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0;
	close(fd);
	return ok;
}

static void exec_daemon(const struct daemon_proc *d, const struct daemon_options *opts)
{
	char port[32], env_preload[512], env_control[192], env_report[192];
	snprintf(port, sizeof(port), "127.0.0.1:%u", d->port);
#ifdef PRELOAD_FIRST
	snprintf(env_preload, sizeof(env_preload), "LD_PRELOAD=%s %s", PRELOAD_FIRST, SIM_LIBRARY);
	putenv("LSAN_OPTIONS=suppressions=" LSAN_SUPPRESSIONS);
	/* The daemon's leaks count even where a test's own (libvncclient's) are not checked. */
	putenv("ASAN_OPTIONS=detect_leaks=1:verify_asan_link_order=0");
#else
	snprintf(env_preload, sizeof(env_preload), "LD_PRELOAD=%s", SIM_LIBRARY);
#endif
#ifdef TSAN_SUPPRESSIONS
	/* A race report makes the daemon exit with status 66: the test fails on it. */
	putenv("TSAN_OPTIONS=suppressions=" TSAN_SUPPRESSIONS);
#endif
	snprintf(env_control, sizeof(env_control), "VGPU_SIM_CONTROL=%s", d->control);
	snprintf(env_report, sizeof(env_report), "VGPU_SIM_REPORT=%s", d->report);
	putenv(env_preload);
	putenv(env_control);
	putenv(env_report);
	/* Not a wrapper such as valgrind's launcher: the daemon itself serves the sim's socket. */
	putenv("VGPU_SIM_PROGRAM=mdev-vncd");
	/* VGPU_SIM_DRIVER and VGPU_SIM_MMAP come from the test's environment (ctest variants). */
	/* Flips in most tests are not signalled: they run on the polling path unless they ask. */
	putenv("VGPU_SIM_IRQ=none");
	for (const char *const *e = opts && opts->extra_env ? opts->extra_env : NULL; e && *e; e++)
		putenv((char *)*e);

	const char *daemon_argv[] = { DAEMON_BINARY, "--foreground", "--instance", "e2e",
				      "--listen", port, "--uuid", SIM_UUID };
	const char *argv[64];
	int argc = 0;
	/* E2E_DAEMON_WRAPPER runs the daemon under a tool, e.g. valgrind, split at spaces. */
	char wrapper[512];
	snprintf(wrapper, sizeof(wrapper), "%s", getenv("E2E_DAEMON_WRAPPER") ? getenv("E2E_DAEMON_WRAPPER") : "");
	for (char *save, *word = strtok_r(wrapper, " ", &save); word && argc < 32;
	     word = strtok_r(NULL, " ", &save))
		argv[argc++] = word;
	int daemon_args = opts && opts->no_uuid ? 6 : 8;
	for (int i = 0; i < daemon_args; i++)
		argv[argc++] = daemon_argv[i];
	for (const char *const *a = opts && opts->extra_args ? opts->extra_args : NULL;
	     a && *a && argc < 61; a++)
		argv[argc++] = *a;
	if (d->import_config[0]) {
		argv[argc++] = "--config";
		argv[argc++] = d->import_config;
	}
	argv[argc] = NULL;

	if (opts && opts->own_session)
		setsid();
	/* A failed assertion must not leave daemons behind. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	int log = open(d->log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	dup2(log, STDERR_FILENO);
	close(log);
	execvp(argv[0], (char **)argv);
	_exit(127);
}

/*
 * E2E_GPU_IMPORT=egl or auto (set by tests/egl/CMakeLists.txt): the daemon
 * reads the display through the GPU import, with its CPU mapping of dmabufs
 * refused as GVT-g refuses it (ENODEV, set once the sim answers). For test
 * programs whose daemons take no --config of their own.
 */
static void write_import_config(struct daemon_proc *d)
{
	const char *import = getenv("E2E_GPU_IMPORT");
	if (!import)
		return;
	snprintf(d->import_config, sizeof(d->import_config), "%s/import.conf", d->dir);
	FILE *f = fopen(d->import_config, "w");
	assert_non_null(f);
	fprintf(f, "import = %s\n", import);
	assert_int_equal(fclose(f), 0);
}

static void daemon_spawn(struct daemon_proc *d, const struct daemon_options *opts)
{
	memset(d, 0, sizeof(*d));
	snprintf(d->dir, sizeof(d->dir), "/tmp/mdev-vncd-e2e.XXXXXX");
	assert_non_null(mkdtemp(d->dir));
	snprintf(d->control, sizeof(d->control), "%s/sim.sock", d->dir);
	snprintf(d->report, sizeof(d->report), "%s/report", d->dir);
	snprintf(d->log, sizeof(d->log), "%s/daemon.log", d->dir);
	d->port = free_port();
	write_import_config(d);

	d->pid = fork();
	assert_true(d->pid >= 0);
	if (d->pid == 0)
		exec_daemon(d, opts);
}

/*
 * Every test fails when the daemon broke a real driver's rule (the sim says
 * so on the daemon's stderr and counts it in its report): checked each time
 * a daemon ends, so no test can forget it. The log catches a daemon killed
 * before the sim could write its report.
 */
static void check_rules(const struct daemon_proc *d)
{
	long broken = daemon_report_value(d, "rules_broken");
	int said = daemon_log_count(d, "vgpu-sim: RULE BROKEN");

	if (broken <= 0 && said == 0)
		return;
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "grep 'RULE BROKEN' %s >&2", d->log);
	if (system(cmd) < 0)
		perror("system");
	fail_msg("the daemon broke %ld rule(s) of the simulated %s driver (see above)",
		 broken > said ? broken : (long)said, sim_driver());
}

const char *sim_driver(void)
{
	const char *driver = getenv("VGPU_SIM_DRIVER");
	return driver && *driver ? driver : "generic";
}

bool sim_driver_is(const char *name)
{
	return strcmp(sim_driver(), name) == 0;
}

int daemon_run_to_exit(struct daemon_proc *d, const struct daemon_options *opts, int timeout_ms)
{
	daemon_spawn(d, opts);
	uint64_t deadline = now_ms() + (uint64_t)timeout_ms;
	int status;
	while (waitpid(d->pid, &status, WNOHANG) != d->pid) {
		if (now_ms() > deadline) {
			kill(d->pid, SIGKILL);
			waitpid(d->pid, &status, 0);
			fail_msg("daemon did not exit within %d ms", timeout_ms);
		}
		usleep(10000);
	}
	check_rules(d);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

void daemon_start(struct daemon_proc *d, const struct daemon_options *opts)
{
	daemon_spawn(d, opts);
	d->sim = simctl_connect(d->control, 10000);
	assert_non_null(d->sim);
	if (d->import_config[0])
		assert_int_equal(simctl_fault(d->sim, SIM_FAULT_MMAP_ENODEV, 1), 0);
	uint64_t deadline = now_ms() + 10000;
	while (!port_open(d->port)) {
		int status;
		if (waitpid(d->pid, &status, WNOHANG) == d->pid) {
			char cmd[256];
			snprintf(cmd, sizeof(cmd), "cat %s >&2", d->log);
			if (system(cmd) < 0)
				perror("system");
			fail_msg("daemon exited during start (status 0x%x)", status);
		}
		assert_true(now_ms() < deadline);
		usleep(10000);
	}
}

int daemon_stop(struct daemon_proc *d, int sig)
{
	simctl_free(d->sim);
	d->sim = NULL;
	kill(d->pid, sig);
	int status = 0;
	while (waitpid(d->pid, &status, 0) < 0 && errno == EINTR)
		;
	check_rules(d);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

long daemon_report_value(const struct daemon_proc *d, const char *key)
{
	FILE *f = fopen(d->report, "r");
	if (!f)
		return -1;
	char line[256];
	long value = -1;
	size_t len = strlen(key);
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, key, len) == 0 && line[len] == '=')
			value = strtol(line + len + 1, NULL, 10);
	}
	fclose(f);
	return value;
}

int daemon_log_count(const struct daemon_proc *d, const char *needle)
{
	FILE *f = fopen(d->log, "r");
	if (!f)
		return 0;
	char line[1024];
	int n = 0;
	while (fgets(line, sizeof(line), f))
		n += strstr(line, needle) != NULL;
	fclose(f);
	return n;
}

void picture_fill(uint8_t *pixels, uint32_t width, uint32_t height, uint32_t seed)
{
	uint32_t *p = (uint32_t *)pixels;
	uint32_t state = seed * 2654435761u + 1;
	for (size_t i = 0; i < (size_t)width * height; i++) {
		/* xorshift: every pixel different, the same for the same seed */
		state ^= state << 13;
		state ^= state >> 17;
		state ^= state << 5;
		p[i] = state & 0x00ffffff;
	}
}

void daemon_check_serves_picture(struct daemon_proc *d, uint32_t seed)
{
	struct sim_plane_desc desc = {
		.fourcc = DRM_FORMAT_XRGB8888, .width = 640, .height = 480,
		.stride = 640 * 4, .size = 640 * 480 * 4,
	};
	assert_int_equal(simctl_set_plane(d->sim, 1, &desc), 0);
	uint8_t *pixels = malloc(desc.size);
	assert_non_null(pixels);
	picture_fill(pixels, 640, 480, seed);
	assert_int_equal(simctl_flip(d->sim, 1, pixels, desc.size), 0);
	struct vnc_probe *probe = vnc_probe_connect(d->port, "raw");
	assert_non_null(probe);
	assert_true(vnc_probe_wait_picture(probe, pixels, 640, 480, 5000));
	vnc_probe_free(probe);
	free(pixels);
}

bool daemon_wait_log(const struct daemon_proc *d, const char *needle, int count, int timeout_ms)
{
	uint64_t deadline = now_ms() + (uint64_t)timeout_ms;
	while (daemon_log_count(d, needle) < count) {
		if (now_ms() > deadline)
			return false;
		usleep(10000);
	}
	return true;
}

bool daemon_wait_queries(struct daemon_proc *d, unsigned n, int timeout_ms)
{
	struct sim_stats first, now;
	uint64_t deadline = now_ms() + (uint64_t)timeout_ms;
	if (simctl_stats(d->sim, &first) < 0)
		return false;
	do {
		if (simctl_stats(d->sim, &now) < 0)
			return false;
		if (now.query_primary >= first.query_primary + n)
			return true;
		usleep(5000);
	} while (now_ms() < deadline);
	return false;
}

/* Counts the entries of /proc/PID/what, those whose link names a sim object left out if asked. */
static int proc_entries(pid_t pid, const char *what, bool beside_sim)
{
	char dir_path[64], target[128];
	snprintf(dir_path, sizeof(dir_path), "/proc/%d/%s", (int)pid, what);
	DIR *dir = opendir(dir_path);
	assert_non_null(dir);
	int n = 0;
	for (struct dirent *e; (e = readdir(dir));) {
		if (e->d_name[0] == '.')
			continue;
		ssize_t len = beside_sim ? readlinkat(dirfd(dir), e->d_name, target,
						      sizeof(target) - 1) : 0;
		target[len > 0 ? len : 0] = '\0';
		n += strstr(target, "memfd:vgpu-sim-") == NULL;
	}
	closedir(dir);
	return n;
}

int daemon_proc_entries(const struct daemon_proc *d, const char *what)
{
	return proc_entries(d->pid, what, false);
}

int daemon_fds_beside_sim(const struct daemon_proc *d)
{
	return proc_entries(d->pid, "fd", true);
}

bool daemon_wait_counts(const struct daemon_proc *d, int fds, int threads, int timeout_ms)
{
	uint64_t deadline = now_ms() + (uint64_t)timeout_ms;
	int now_fds, now_threads;
	do {
		now_fds = daemon_fds_beside_sim(d);
		now_threads = daemon_proc_entries(d, "task");
		if (now_fds == fds && now_threads == threads)
			return true;
		usleep(10000);
	} while (now_ms() < deadline);
	print_message("daemon holds %d fds beside the sim's (were %d) and %d threads (were %d)\n",
		      now_fds, fds, now_threads, threads);
	return false;
}

struct irq_storm {
	struct simctl *ctl;
	uint64_t value;
	atomic_bool stop;
	uint64_t sent;
	pthread_t thread;
};

static void *storm_thread(void *arg)
{
	struct irq_storm *s = arg;
	while (!atomic_load(&s->stop))
		if (simctl_irq(s->ctl, s->value) == 0)
			s->sent++;
	return NULL;
}

struct irq_storm *irq_storm_start(const struct daemon_proc *d, uint64_t value)
{
	struct irq_storm *s = calloc(1, sizeof(*s));
	assert_non_null(s);
	s->ctl = simctl_connect(d->control, 2000);
	assert_non_null(s->ctl);
	s->value = value;
	assert_int_equal(pthread_create(&s->thread, NULL, storm_thread, s), 0);
	return s;
}

uint64_t irq_storm_stop(struct irq_storm *s)
{
	atomic_store(&s->stop, true);
	pthread_join(s->thread, NULL);
	simctl_free(s->ctl);
	uint64_t sent = s->sent;
	free(s);
	return sent;
}
