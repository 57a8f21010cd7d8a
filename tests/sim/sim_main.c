// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libvgpusim: configuration, the table of fds that are sim objects, and the
 * exit report that proves the daemon released every one of them.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "sim_internal.h"

struct sim_state sim = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.device_memfd = -1,
	.eventfd = -1,
	.irq_user_fd = -1,
	.enomem_quirk = true,
	.recycle = true,
	.next_id = 1,
};

struct sim_real real;

static pthread_once_t resolve_once = PTHREAD_ONCE_INIT;

static void *next_symbol(const char *name)
{
	return dlsym(RTLD_NEXT, name);
}

static void resolve_all(void)
{
	real.open = next_symbol("open");
	real.openat = next_symbol("openat");
	real.close = next_symbol("close");
	real.ioctl = next_symbol("ioctl");
	real.readlink = next_symbol("readlink");
	real.readlinkat = next_symbol("readlinkat");
	real.mmap = next_symbol("mmap");
	real.lseek = next_symbol("lseek");
	real.read = next_symbol("read");
	real.opendir = next_symbol("opendir");
	real.access = next_symbol("access");
	real.stat = next_symbol("stat");
	real.lstat = next_symbol("lstat");
	real.xstat = next_symbol("__xstat");
	real.lxstat = next_symbol("__lxstat");
	real.fstat = next_symbol("fstat");
}

void sim_resolve(void)
{
	pthread_once(&resolve_once, resolve_all);
}

static bool same_file(int fd, const struct sim_fd *entry)
{
	struct stat st;

	return fstat(fd, &st) == 0 && st.st_dev == entry->dev && st.st_ino == entry->ino;
}

struct sim_fd *sim_fd_add(int fd, enum sim_fd_kind kind)
{
	struct stat st;
	struct sim_fd *entry;

	if (fstat(fd, &st) < 0)
		return NULL;
	if (sim.n_fds == sim.cap_fds) {
		size_t cap = sim.cap_fds ? sim.cap_fds * 2 : 32;
		struct sim_fd *grown = realloc(sim.fds, cap * sizeof(*grown));

		if (!grown)
			return NULL;
		sim.fds = grown;
		sim.cap_fds = cap;
	}
	entry = &sim.fds[sim.n_fds++];
	*entry = (struct sim_fd){ .fd = fd, .kind = kind, .dev = st.st_dev, .ino = st.st_ino };
	sim.used = true;
	return entry;
}

/*
 * An fd number the daemon closed behind our back (close_range, dup2 over it)
 * may now name another file: such an entry is stale and is dropped here.
 */
struct sim_fd *sim_fd_find(int fd)
{
	for (size_t i = 0; i < sim.n_fds; i++) {
		struct sim_fd *entry = &sim.fds[i];

		if (entry->fd != fd)
			continue;
		if (same_file(fd, entry))
			return entry;
		sim_fd_closed(entry);
		sim_fd_remove(entry);
		return NULL;
	}
	return NULL;
}

void sim_fd_remove(struct sim_fd *entry)
{
	*entry = sim.fds[--sim.n_fds];
}

size_t sim_fd_count(enum sim_fd_kind kind)
{
	size_t n = 0;

	for (size_t i = 0; i < sim.n_fds; i++)
		n += sim.fds[i].kind == kind;
	return n;
}

int sim_memfd(const char *name, off_t size)
{
	char full[64];
	int fd;

	snprintf(full, sizeof(full), SIM_MEMFD_PREFIX "%s", name);
	fd = memfd_create(full, MFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, size) < 0) {
		int err = -errno;

		real.close(fd);
		return err;
	}
	return fd;
}

int sim_fd_hand_out(int memfd, enum sim_fd_kind kind, struct sim_fd **entry)
{
	int fd = fcntl(memfd, F_DUPFD_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	*entry = sim_fd_add(fd, kind);
	if (!*entry) {
		real.close(fd);
		return -ENOMEM;
	}
	return fd;
}

static const char *const irq_names[] = {
	[SIM_IRQ_NONE] = "none",
	[SIM_IRQ_DISPLAY] = "display",
	[SIM_IRQ_DISPLAY_NOCAP] = "display-nocap",
	[SIM_IRQ_MALFORMED_LOOP] = "malformed-loop",
	[SIM_IRQ_MALFORMED_OOB] = "malformed-oob",
	[SIM_IRQ_MALFORMED_TRUNCATED] = "malformed-truncated",
};

/* Unknown values are reported and fall back to the default: a typo must be seen. */
static int env_choice(const char *key, const char *const *names, int n, int def)
{
	const char *v = getenv(key);

	if (!v || !*v)
		return def;
	for (int i = 0; i < n; i++)
		if (names[i] && strcmp(v, names[i]) == 0)
			return i;
	fprintf(stderr, "vgpu-sim: %s=%s is not valid, using %s\n", key, v, names[def]);
	return def;
}

static void read_config(struct sim_config *cfg)
{
	static const char *const modes[] = { "dmabuf", "region" };
	static const char *const bools[] = { "0", "1" };
	static const char *const scenes[] = { "none", "demo" };
	/* "driver": mmap refused as the personality's stock driver does; "allow": a test
	 * relaxation standing for the fixed mbochs module or a GPU import to come. */
	static const char *const mmap_choices[] = { "driver", "allow" };
	const char *uuid = getenv("VGPU_SIM_UUID");
	const char *group = getenv("VGPU_SIM_GROUP");
	char *end;

	snprintf(cfg->uuid, sizeof(cfg->uuid), "%s", uuid && *uuid ? uuid : SIM_DEFAULT_UUID);
	cfg->group = 42;
	if (group && *group) {
		long n = strtol(group, &end, 10);

		if (*end || n < 0 || n > 65535)
			fprintf(stderr, "vgpu-sim: VGPU_SIM_GROUP=%s is not valid, using 42\n", group);
		else
			cfg->group = (int)n;
	}
	cfg->region_mode = env_choice("VGPU_SIM_MODE", modes, 2, 0);
	cfg->cdev = env_choice("VGPU_SIM_CDEV", bools, 2, 0);
	cfg->edid = !env_choice("VGPU_SIM_NO_EDID", bools, 2, 0);
	cfg->demo = env_choice("VGPU_SIM_SCENE", scenes, 2, 0);
	cfg->irq = env_choice("VGPU_SIM_IRQ", irq_names, 6, SIM_IRQ_DISPLAY);
	cfg->driver = env_choice("VGPU_SIM_DRIVER", sim_driver_names, SIM_DRIVER_COUNT,
				 SIM_DRIVER_GENERIC);
	cfg->mmap_allow = env_choice("VGPU_SIM_MMAP", mmap_choices, 2, 0);
	cfg->control = getenv("VGPU_SIM_CONTROL");
	cfg->report = getenv("VGPU_SIM_REPORT");
	if (cfg->driver == SIM_DRIVER_GENERIC)
		return;
	/* GVT-g and mbochs hand out dmabuf planes only; mbochs has no IRQs at all. */
	if (cfg->region_mode)
		fprintf(stderr, "vgpu-sim: %s has no region planes, using dmabuf\n",
			sim_driver_names[cfg->driver]);
	cfg->region_mode = false;
	if (cfg->driver == SIM_DRIVER_MBOCHS && cfg->irq != SIM_IRQ_NONE && getenv("VGPU_SIM_IRQ"))
		fprintf(stderr, "vgpu-sim: mbochs has no IRQs, VGPU_SIM_IRQ=%s ignored\n",
			irq_names[cfg->irq]);
	if (cfg->driver == SIM_DRIVER_MBOCHS)
		cfg->irq = SIM_IRQ_NONE;
}

/*
 * A wrapper that starts the program under test (valgrind's launcher)
 * inherits LD_PRELOAD too: were it to serve the control socket, a test
 * could connect to it just before it execs and lose the connection.
 * VGPU_SIM_PROGRAM names the one program that serves.
 */
static bool serves_here(void)
{
	const char *program = getenv("VGPU_SIM_PROGRAM");

	return !program || !*program || strcmp(program, program_invocation_short_name) == 0;
}

__attribute__((constructor)) static void sim_init(void)
{
	int ret;

	sim_resolve();
	read_config(&sim.cfg);
	sim.mmap_errno = sim_driver_mmap_errno();
	sim.pid = getpid();
	ret = sim_device_init();
	if (ret < 0) {
		fprintf(stderr, "vgpu-sim: device memory: %s\n", strerror(-ret));
		return;
	}
	if (sim.cfg.control && *sim.cfg.control && serves_here()) {
		ret = sim_control_start(sim.cfg.control);
		/* EADDRINUSE: a process we spawned, while its parent serves the socket. */
		if (ret < 0 && ret != -EADDRINUSE)
			fprintf(stderr, "vgpu-sim: control socket %s: %s\n", sim.cfg.control,
				strerror(-ret));
	}
	if (sim.cfg.demo) {
		ret = sim_scene_start();
		if (ret < 0)
			fprintf(stderr, "vgpu-sim: demo scene: %s\n", strerror(-ret));
	}
}

static unsigned int count_mappings(const char *name)
{
	char line[512];
	unsigned int n = 0;
	FILE *maps = fopen("/proc/self/maps", "re");

	if (!maps)
		return 0;
	while (fgets(line, sizeof(line), maps))
		n += strstr(line, name) != NULL;
	fclose(maps);
	return n;
}

static size_t count_live_fds(void)
{
	size_t n = 0;

	for (size_t i = 0; i < sim.n_fds; i++)
		n += same_file(sim.fds[i].fd, &sim.fds[i]);
	return n;
}

static void write_report(FILE *out)
{
	const struct sim_stats *s = &sim.stats;

	fprintf(out, "open_sim_fds=%zu\n", count_live_fds());
	fprintf(out, "mapped_sim_buffers=%u\n", count_mappings("memfd:" SIM_MEMFD_PREFIX));
	fprintf(out, "mapped_sim_dmabufs=%u\n", count_mappings("memfd:" SIM_DMABUF_NAME));
	fprintf(out, "eventfds_held=%d\n", sim.eventfd >= 0);
	fprintf(out, "query_primary=%llu\n", (unsigned long long)s->query_primary);
	fprintf(out, "query_cursor=%llu\n", (unsigned long long)s->query_cursor);
	fprintf(out, "query_probe=%llu\n", (unsigned long long)s->query_probe);
	fprintf(out, "get_dmabuf=%llu\n", (unsigned long long)s->get_dmabuf);
	fprintf(out, "set_irqs=%llu\n", (unsigned long long)s->set_irqs);
	fprintf(out, "irq_signals=%llu\n", (unsigned long long)s->irq_signals);
	fprintf(out, "dmabuf_double_fetch=%llu\n", (unsigned long long)s->dmabuf_double_fetch);
	fprintf(out, "dmabuf_refetch_after_close=%llu\n",
		(unsigned long long)s->dmabuf_refetch_after_close);
	fprintf(out, "open_dmabuf_fds=%u\n", s->open_dmabuf_fds);
	fprintf(out, "device_fds_open=%u\n", s->device_fds_open);
	fprintf(out, "peak_open_dmabuf_fds=%u\n", s->peak_open_dmabuf_fds);
	fprintf(out, "rules_broken=%u\n", s->rules_broken);
}

/*
 * A child the daemon forks inherits this library but is not the process
 * under test: only the process that used the sim writes the report.
 */
__attribute__((destructor)) static void sim_exit(void)
{
	FILE *out;

	sim_control_stop();
	if (!sim.cfg.report || !*sim.cfg.report || getpid() != sim.pid || !sim.used)
		return;
	pthread_mutex_lock(&sim.lock);
	out = fopen(sim.cfg.report, "we");
	if (out) {
		write_report(out);
		fclose(out);
	} else {
		fprintf(stderr, "vgpu-sim: report %s: %s\n", sim.cfg.report, strerror(errno));
	}
	pthread_mutex_unlock(&sim.lock);
}
