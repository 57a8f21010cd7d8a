// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Guest side of the kernel test bed. It plays the VMM and the guest OS for
 * a real mbochs or mdpy instance: creates the mdev, opens it through its VFIO
 * group, programs the display and draws, hands the device fd to mdev-vncd
 * (inherited or over a unix socket), and after every step asks vnc_check
 * whether the VNC picture is exactly what was drawn.
 *
 * Usage: guest_driver stock|fixed|mdpy [DAEMON [CHECKER]]
 * Prints "KBED-RESULT: PASS <case>" or "KBED-RESULT: FAIL <case>: <why>".
 */

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <linux/vfio.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kbed_picture.h"

/* What the daemon announces through mbochs's EDID region (design notes: region 9). */
#define KBED_MBOCHS_EDID_REGION 9
#define KBED_EDID_W 1024
#define KBED_EDID_H 768
#define KBED_EDID_SIZE "1024x768"

#define STEP_TIMEOUT_S 60
#define MDPY_DISPLAY_REGION 16

/* bochs dispi registers, 16 bit each at BAR2 + 0x500 + 2 * index */
enum dispi {
	DISPI_ID,
	DISPI_XRES,
	DISPI_YRES,
	DISPI_BPP,
	DISPI_ENABLE,
	DISPI_BANK,
	DISPI_VIRT_WIDTH,
	DISPI_VIRT_HEIGHT,
	DISPI_X_OFFSET,
	DISPI_Y_OFFSET,
};
#define DISPI_ID5 0xb0c5
#define DISPI_ENABLED 0x01
#define DISPI_LFB_ENABLED 0x40

enum op {
	OP_MODE, /* draw the picture at yoff, then set the mode */
	OP_RECT, /* draw the picture's overlay rectangle only */
	OP_FLIP, /* draw the picture at yoff, then move Y_OFFSET there */
	OP_OFF,  /* display disabled */
	OP_ON,   /* set the mode again without drawing: memory still holds it */
};

enum check {
	CK_EXPECT, /* exact pixels */
	CK_FLIP,   /* exact pixels, old-or-new in between */
	CK_SIZE,   /* stock mbochs: the daemon cannot map, only the size is known */
	CK_CHANGE, /* "no signal": anything but the previous picture */
	CK_NONE,
};

struct step {
	const char *name;
	enum op op;
	enum check check;
	uint32_t yoff;
	struct kbed_picture pic;
};

#define PAT(w, h, s) {.kind = KBED_PATTERN, .width = w, .height = h, .seed = s}
#define PAT_RECT(w, h, s, x, y, rw_, rh_, s2) \
	{.kind = KBED_PATTERN, .width = w, .height = h, .seed = s, \
	 .rx = x, .ry = y, .rw = rw_, .rh = rh_, .seed2 = s2}

/*
 * Modes live in disjoint parts of video memory (offsets page-aligned, as
 * mbochs requires), so a later step never overwrites what an earlier mode
 * shows and going back to a mode finds its picture intact.
 */
static const struct step fixed_steps[] = {
	{"initial 800x600", OP_MODE, CK_EXPECT, 0, PAT(800, 600, 1)},
	{"partial change", OP_RECT, CK_EXPECT, 0, PAT_RECT(800, 600, 1, 100, 80, 200, 150, 2)},
	{"page flip", OP_FLIP, CK_FLIP, 608, PAT(800, 600, 3)},
	{"mode 1024x768", OP_MODE, CK_EXPECT, 1000, PAT(1024, 768, 4)},
	{"mode 640x480", OP_MODE, CK_EXPECT, 3200, PAT(640, 480, 5)},
	{"display off", OP_OFF, CK_CHANGE, 0, {0}},
	{"display on", OP_ON, CK_EXPECT, 3200, PAT(640, 480, 5)},
	{"back to 800x600 flipped", OP_ON, CK_EXPECT, 608, PAT(800, 600, 3)},
};

static const struct step stock_steps[] = {
	{"initial 800x600", OP_MODE, CK_SIZE, 0, PAT(800, 600, 1)},
	{"mode 1024x768", OP_MODE, CK_SIZE, 1000, PAT(1024, 768, 4)},
	{"display off", OP_OFF, CK_NONE, 0, {0}},
	{"display on 640x480", OP_MODE, CK_SIZE, 3200, PAT(640, 480, 5)},
};

static const struct step mdpy_steps[] = {
	{"initial 1024x768", OP_MODE, CK_EXPECT, 0, PAT(1024, 768, 6)},
	{"partial change", OP_RECT, CK_EXPECT, 0, PAT_RECT(1024, 768, 6, 512, 300, 300, 200, 7)},
};

struct region {
	uint64_t offset, size;
};

struct device {
	int fd;
	bool bochs;
	struct region mmio;
	uint8_t *vram;
	uint64_t vram_size;
};

struct child {
	pid_t pid;
	int in, out; /* checker pipes; -1 for the daemon */
	const char *log;
};

static char failure[512];

static int fail(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(int err, const char *fmt, ...)
{
	va_list ap;

	if (!failure[0]) {
		va_start(ap, fmt);
		vsnprintf(failure, sizeof(failure), fmt, ap);
		va_end(ap);
	}
	return err < 0 ? err : -EIO;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return fail(-errno, "open %s: %m", path);
	n = write(fd, text, strlen(text));
	close(fd);
	if (n < 0)
		return fail(-errno, "write %s to %s: %m", text, path);
	return 0;
}

static int mdev_create(const char *parent, const char *type, const char *uuid)
{
	char path[256];

	snprintf(path, sizeof(path), "/sys/class/mdev_bus/%s/mdev_supported_types/%s/create",
		 parent, type);
	return write_file(path, uuid);
}

/* The legacy group path, as a VMM does it; the fd keeps group and container alive. */
static int vfio_open(const char *uuid)
{
	struct vfio_group_status st = {.argsz = sizeof(st)};
	char link[256], target[256];
	int container, group, dev = -1;
	ssize_t n;

	snprintf(link, sizeof(link), "/sys/bus/mdev/devices/%s/iommu_group", uuid);
	n = readlink(link, target, sizeof(target) - 1);
	if (n < 0)
		return fail(-errno, "readlink %s: %m", link);
	target[n] = 0;
	snprintf(link, sizeof(link), "/dev/vfio/%s", basename(target));
	container = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	group = open(link, O_RDWR | O_CLOEXEC);
	if (container < 0 || group < 0) {
		fail(-errno, "open /dev/vfio/vfio or %s: %m", link);
		goto out;
	}
	if (ioctl(group, VFIO_GROUP_GET_STATUS, &st) || !(st.flags & VFIO_GROUP_FLAGS_VIABLE) ||
	    ioctl(group, VFIO_GROUP_SET_CONTAINER, &container) ||
	    ioctl(container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU)) {
		fail(-errno, "setting up %s: %m", link);
		goto out;
	}
	dev = ioctl(group, VFIO_GROUP_GET_DEVICE_FD, uuid);
	if (dev < 0)
		fail(-errno, "VFIO_GROUP_GET_DEVICE_FD %s: %m", uuid);
out:
	if (group >= 0)
		close(group);
	if (container >= 0)
		close(container);
	return dev;
}

static int region_get(int fd, uint32_t index, struct region *r)
{
	/* mbochs refuses an argsz larger than its own struct */
	struct vfio_region_info info = {.argsz = sizeof(info), .index = index};

	if (ioctl(fd, VFIO_DEVICE_GET_REGION_INFO, &info))
		return fail(-errno, "GET_REGION_INFO %u: %m", index);
	r->offset = info.offset;
	r->size = info.size;
	return 0;
}

static int dispi_write(struct device *d, enum dispi reg, uint16_t val)
{
	if (pwrite(d->fd, &val, 2, d->mmio.offset + 0x500 + 2 * reg) != 2)
		return fail(-errno, "dispi write %d: %m", reg);
	return 0;
}

static int device_open(struct device *d, const char *uuid, bool bochs)
{
	struct region vram;
	uint16_t id = 0;
	int ret;

	d->bochs = bochs;
	d->fd = vfio_open(uuid);
	if (d->fd < 0)
		return d->fd;
	ret = region_get(d->fd, bochs ? VFIO_PCI_BAR0_REGION_INDEX : MDPY_DISPLAY_REGION, &vram);
	if (!ret && bochs)
		ret = region_get(d->fd, VFIO_PCI_BAR2_REGION_INDEX, &d->mmio);
	if (ret)
		return ret;
	if (bochs && (pread(d->fd, &id, 2, d->mmio.offset + 0x500) != 2 || id != DISPI_ID5))
		return fail(-EIO, "dispi id reads %#x, not %#x", id, DISPI_ID5);
	d->vram = mmap(NULL, vram.size, PROT_READ | PROT_WRITE, MAP_SHARED, d->fd, vram.offset);
	if (d->vram == MAP_FAILED)
		return fail(-errno, "mmap video memory: %m");
	d->vram_size = vram.size;
	return 0;
}

static int draw(struct device *d, const struct step *s)
{
	const struct kbed_picture *p = &s->pic;
	uint64_t stride = (uint64_t)p->width * 4, base = s->yoff * stride;
	bool rect = s->op == OP_RECT;
	uint32_t x0 = rect ? p->rx : 0, y0 = rect ? p->ry : 0;
	uint32_t x1 = rect ? p->rx + p->rw : p->width, y1 = rect ? p->ry + p->rh : p->height;

	if (base + stride * p->height > d->vram_size)
		return fail(-EINVAL, "%s does not fit video memory", s->name);
	for (uint32_t y = y0; y < y1; y++) {
		uint32_t *row = (uint32_t *)(d->vram + base + y * stride);

		for (uint32_t x = x0; x < x1; x++)
			row[x] = kbed_pixel(p, x, y);
	}
	return 0;
}

/* The order bochs-drm uses: disable, program, enable. */
static int set_mode(struct device *d, const struct step *s)
{
	const uint16_t regs[][2] = {
		{DISPI_ENABLE, 0},
		{DISPI_BPP, 32},
		{DISPI_XRES, s->pic.width},
		{DISPI_YRES, s->pic.height},
		{DISPI_BANK, 0},
		{DISPI_VIRT_WIDTH, s->pic.width},
		{DISPI_VIRT_HEIGHT, d->vram_size / (s->pic.width * 4) > 0xffff ? 0xffff : d->vram_size / (s->pic.width * 4)},
		{DISPI_X_OFFSET, 0},
		{DISPI_Y_OFFSET, s->yoff},
		{DISPI_ENABLE, DISPI_ENABLED | DISPI_LFB_ENABLED},
	};
	int ret = 0;

	for (size_t i = 0; i < sizeof(regs) / sizeof(regs[0]) && !ret; i++)
		ret = dispi_write(d, regs[i][0], regs[i][1]);
	return ret;
}

static int apply(struct device *d, const struct step *s)
{
	int ret = 0;

	if (s->op == OP_MODE || s->op == OP_RECT || s->op == OP_FLIP)
		ret = draw(d, s);
	if (ret || !d->bochs)
		return ret;
	switch (s->op) {
	case OP_MODE:
	case OP_ON:
		return set_mode(d, s);
	case OP_FLIP:
		return dispi_write(d, DISPI_Y_OFFSET, s->yoff);
	case OP_OFF:
		return dispi_write(d, DISPI_ENABLE, 0);
	default:
		return 0;
	}
}

static int get_dmabuf(struct device *d, uint32_t id)
{
	int fd = ioctl(d->fd, VFIO_DEVICE_GET_GFX_DMABUF, &id);

	return fd < 0 ? fail(-errno, "GET_GFX_DMABUF %u: %m", id) : fd;
}

/*
 * Checks our mbochs patch before the daemon relies on it, doing what each
 * stock bug punishes: the first query after a mode change, a CPU mapping of
 * an 800x600 (not page-sized) buffer, two fds for one id, and re-fetching an
 * id after closing it. A stock module fails here or splats in dmesg.
 */
static int dmabuf_selftest(struct device *d, const struct kbed_picture *p)
{
	struct vfio_device_gfx_plane_info pl = {
		.argsz = sizeof(pl), .flags = VFIO_GFX_PLANE_TYPE_DMABUF, .drm_plane_type = 1};
	int fd[3] = {-1, -1, -1}, ret = 0;
	uint32_t *map;

	if (ioctl(d->fd, VFIO_DEVICE_QUERY_GFX_PLANE, &pl))
		return fail(-errno, "first QUERY_GFX_PLANE after the mode change: %m");
	if (pl.width != p->width || pl.height != p->height || !pl.dmabuf_id)
		return fail(-EIO, "plane %ux%u id %u, want %ux%u", pl.width, pl.height,
			    pl.dmabuf_id, p->width, p->height);
	for (int i = 0; i < 2 && !ret; i++) {
		fd[i] = get_dmabuf(d, pl.dmabuf_id);
		ret = fd[i] < 0 ? fd[i] : 0;
	}
	map = ret ? MAP_FAILED : mmap(NULL, pl.size, PROT_READ, MAP_SHARED, fd[1], 0);
	if (!ret && map == MAP_FAILED)
		ret = fail(-errno, "mmap of a %ux%u dmabuf: %m", pl.width, pl.height);
	for (uint32_t y = 0; !ret && y < p->height; y++) {
		for (uint32_t x = 0; x < p->width; x++) {
			uint32_t got = map[(size_t)y * pl.stride / 4 + x] & 0xffffffu;

			if (got != kbed_pixel(p, x, y)) {
				ret = fail(-EIO, "dmabuf pixel %u,%u is %06x", x, y, got);
				break;
			}
		}
	}
	if (map != MAP_FAILED)
		munmap(map, pl.size);
	for (int i = 0; i < 2; i++)
		if (fd[i] >= 0)
			close(fd[i]);
	if (!ret)
		fd[2] = get_dmabuf(d, pl.dmabuf_id);
	if (fd[2] >= 0)
		close(fd[2]);
	return ret ? ret : fd[2] < 0 ? fd[2] : 0;
}

static pid_t spawn(char *const argv[], int keep_fd, int in, int out, const char *log)
{
	pid_t pid = fork();

	if (pid)
		return pid < 0 ? fail(-errno, "fork: %m") : pid;
	if (keep_fd >= 0)
		fcntl(keep_fd, F_SETFD, 0);
	if (in >= 0)
		dup2(in, 0);
	if (out >= 0)
		dup2(out, 1);
	if (log) {
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

		if (fd >= 0)
			dup2(fd, 2);
	}
	execv(argv[0], argv);
	fprintf(stderr, "exec %s: %m\n", argv[0]);
	_exit(127);
}

/* Waits for one line from fd (nothing else is ever pending on it). */
static int read_line(int fd, char *buf, size_t len, double timeout)
{
	double deadline = now_s() + timeout;
	size_t n = 0;

	while (n + 1 < len) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		int left = (deadline - now_s()) * 1000;

		if (left <= 0 || poll(&pfd, 1, left) <= 0)
			return -ETIMEDOUT;
		if (read(fd, buf + n, 1) != 1)
			return -EPIPE;
		if (buf[n++] == '\n')
			break;
	}
	buf[n - (n && buf[n - 1] == '\n')] = 0;
	return 0;
}

static int checker_start(struct child *c, const char *path, int port)
{
	char portstr[16], line[256], *argv[] = {(char *)path, "127.0.0.1", portstr, "30", NULL};
	int to[2], from[2];

	snprintf(portstr, sizeof(portstr), "%d", port);
	if (pipe2(to, O_CLOEXEC) || pipe2(from, O_CLOEXEC))
		return fail(-errno, "pipe: %m");
	c->pid = spawn(argv, -1, to[0], from[1], NULL);
	close(to[0]);
	close(from[1]);
	c->in = to[1];
	c->out = from[0];
	if (c->pid < 0)
		return c->pid;
	if (read_line(c->out, line, sizeof(line), STEP_TIMEOUT_S) || strcmp(line, "ready"))
		return fail(-EIO, "vnc_check on port %d did not connect: '%s'", port, line);
	return 0;
}

static int checker_ask(struct child *c, const char *cmd, const char *step)
{
	char line[512];

	if (dprintf(c->in, "%s\n", cmd) < 0)
		return fail(-errno, "%s: vnc_check gone: %m", step);
	if (read_line(c->out, line, sizeof(line), STEP_TIMEOUT_S + 10))
		return fail(-ETIMEDOUT, "%s: no answer from vnc_check to '%s'", step, cmd);
	printf("KBED: step '%s': %s -> %s\n", step, cmd, line);
	if (strncmp(line, "ok ", 3))
		return fail(-EIO, "%s: '%s' -> %s", step, cmd, line);
	return 0;
}

static int daemon_alive(struct child *c)
{
	int st;

	if (waitpid(c->pid, &st, WNOHANG) != c->pid)
		return 0;
	c->pid = 0;
	if (WIFSIGNALED(st))
		return fail(-EIO, "daemon died from signal %d", WTERMSIG(st));
	return fail(-EIO, "daemon exited with status %d", WEXITSTATUS(st));
}

/* SIGTERM must end the daemon cleanly and soon. */
static int child_stop(struct child *c, bool is_daemon)
{
	double deadline = now_s() + 20;
	int st;

	if (c->pid <= 0)
		return 0;
	kill(c->pid, SIGTERM);
	while (waitpid(c->pid, &st, WNOHANG) == 0) {
		if (now_s() > deadline) {
			kill(c->pid, SIGKILL);
			waitpid(c->pid, &st, 0);
			c->pid = 0;
			return is_daemon ? fail(-ETIMEDOUT, "daemon ignored SIGTERM for 20 s") : 0;
		}
		usleep(20 * 1000);
	}
	c->pid = 0;
	if (!is_daemon || (WIFEXITED(st) && !WEXITSTATUS(st)) ||
	    (WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM))
		return 0;
	return fail(-EIO, "daemon ended badly on SIGTERM: status %#x", st);
}

enum handover {
	BY_FD,     /* --device-fd, inherited across exec */
	BY_SOCKET, /* device_socket in the config file, SCM_RIGHTS */
	BY_UUID,   /* the daemon opens the mdev itself */
};

static int send_fd(int sock, int fd)
{
	char byte = 'F', cbuf[CMSG_SPACE(sizeof(int))] = {0};
	struct iovec iov = {.iov_base = &byte, .iov_len = 1};
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf)};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);

	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	return sendmsg(sock, &msg, 0) == 1 ? 0 : fail(-errno, "sendmsg: %m");
}

/* Serves one connection on a fresh socket, as a VMM handing out its device. */
static int hand_over_socket(struct child *d, int lsock, int dev)
{
	double deadline = now_s() + STEP_TIMEOUT_S;
	int conn, ret;

	for (;;) {
		struct pollfd pfd = {.fd = lsock, .events = POLLIN};

		ret = daemon_alive(d);
		if (ret)
			return ret;
		if (now_s() > deadline)
			return fail(-ETIMEDOUT, "daemon never connected to device_socket");
		if (poll(&pfd, 1, 100) > 0)
			break;
	}
	conn = accept4(lsock, NULL, NULL, SOCK_CLOEXEC);
	if (conn < 0)
		return fail(-errno, "accept: %m");
	ret = send_fd(conn, dev);
	close(conn);
	return ret;
}

static int socket_listen(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	unlink(path);
	if (s < 0 || bind(s, (struct sockaddr *)&sa, sizeof(sa)) || listen(s, 1)) {
		fail(-errno, "unix socket %s: %m", path);
		if (s >= 0)
			close(s);
		return -EIO;
	}
	return s;
}

static int daemon_start(struct child *d, const char *bin, enum handover how, int dev,
			const char *uuid, int port)
{
	static char logs[3][32];
	char listen[32], arg[64], conf[32], sock[32];
	char *argv[] = {(char *)bin, "--foreground", "--listen", listen, arg, arg, NULL};
	int lsock = -1, ret = 0;
	FILE *f;

	snprintf(listen, sizeof(listen), "127.0.0.1:%d", port);
	snprintf(logs[how], sizeof(logs[how]), "/tmp/daemon-%d.log", port);
	d->log = logs[how];
	d->in = d->out = -1;
	if (how == BY_FD) {
		argv[4] = "--device-fd";
		snprintf(arg, sizeof(arg), "%d", dev);
	} else if (how == BY_UUID) {
		argv[4] = "--uuid";
		snprintf(arg, sizeof(arg), "%s", uuid);
	} else {
		snprintf(conf, sizeof(conf), "/tmp/kbed-%d.conf", port);
		snprintf(sock, sizeof(sock), "/tmp/kbed-%d.sock", port);
		f = fopen(conf, "we");
		if (!f)
			return fail(-errno, "%s: %m", conf);
		fprintf(f, "device_socket = %s\nlisten = %s\nrefresh_hz = 60\ninstance = kbed\n"
			   "edid_size = " KBED_EDID_SIZE "\n",
			sock, listen);
		fclose(f);
		lsock = socket_listen(sock);
		if (lsock < 0)
			return lsock;
		argv[2] = "--config";
		argv[3] = conf;
		argv[4] = NULL;
	}
	d->pid = spawn(argv, how == BY_FD ? dev : -1, -1, -1, d->log);
	if (d->pid < 0)
		ret = d->pid;
	else if (how == BY_SOCKET)
		ret = hand_over_socket(d, lsock, dev);
	if (lsock >= 0)
		close(lsock);
	return ret;
}

static int run_steps(struct device *dev, struct child *d, struct child *ck,
		     const struct step *steps, size_t n)
{
	char cmd[160], pic[128];
	int ret = 0;

	for (size_t i = 0; i < n && !ret; i++) {
		const struct step *s = &steps[i];
		struct kbed_picture size = {
			.kind = KBED_SIZE, .width = s->pic.width, .height = s->pic.height};

		ret = apply(dev, s);
		kbed_picture_format(s->check == CK_SIZE ? &size : &s->pic, pic, sizeof(pic));
		if (ret)
			break;
		if (s->check == CK_EXPECT || s->check == CK_SIZE)
			snprintf(cmd, sizeof(cmd), "expect %s", pic);
		else if (s->check == CK_FLIP)
			snprintf(cmd, sizeof(cmd), "flip %s", pic);
		else
			snprintf(cmd, sizeof(cmd), "change");
		if (s->check != CK_NONE)
			ret = checker_ask(ck, cmd, s->name);
		if (!ret)
			ret = daemon_alive(d);
	}
	return ret;
}

static int count_in_log(const char *log, const char *needle)
{
	char line[1024];
	int n = 0;
	FILE *f = fopen(log, "re");

	if (!f)
		return fail(-errno, "%s: %m", log);
	while (fgets(line, sizeof(line), f))
		n += !!strstr(line, needle);
	fclose(f);
	return n;
}

static void dump_log(const struct child *d)
{
	char line[1024];
	FILE *f = d->log ? fopen(d->log, "re") : NULL;

	if (!f)
		return;
	printf("KBED: ---- %s ----\n", d->log);
	while (fgets(line, sizeof(line), f))
		printf("[daemon] %s", line);
	fclose(f);
}

struct bed {
	const char *daemon, *checker;
	struct device dev;
	struct child d[2], ck[2];
};

/* One daemon on the device the driver holds, one check per step. */
static int run_held(struct bed *b, enum handover how, const struct step *steps, size_t n)
{
	int ret = daemon_start(&b->d[0], b->daemon, how, b->dev.fd, NULL, 5900);

	if (!ret)
		ret = checker_start(&b->ck[0], b->checker, 5900);
	if (!ret)
		ret = run_steps(&b->dev, &b->d[0], &b->ck[0], steps, n);
	return ret;
}

/*
 * The preferred mode the daemon announced through mbochs's EDID region
 * (edid_size in its config): read back through the device the driver holds,
 * as the guest's EDID reader would see it.
 */
static int check_edid(struct device *d, unsigned want_w, unsigned want_h)
{
	struct region r;
	struct vfio_region_gfx_edid regs;
	uint8_t blob[128];
	int ret = region_get(d->fd, KBED_MBOCHS_EDID_REGION, &r);

	if (ret)
		return ret;
	if (pread(d->fd, &regs, sizeof(regs), (off_t)r.offset) != (ssize_t)sizeof(regs))
		return fail(-EIO, "EDID region registers: %m");
	if (regs.link_state != VFIO_DEVICE_GFX_LINK_STATE_UP || regs.edid_size < sizeof(blob))
		return fail(-EIO, "EDID region: link %u, %u bytes: the daemon wrote no EDID",
			    regs.link_state, regs.edid_size);
	if (pread(d->fd, blob, sizeof(blob), (off_t)(r.offset + regs.edid_offset)) !=
	    (ssize_t)sizeof(blob))
		return fail(-EIO, "EDID blob: %m");
	/* The first detailed timing descriptor (byte 54) holds the preferred mode. */
	unsigned w = blob[56] | ((blob[58] & 0xf0u) << 4);
	unsigned h = blob[59] | ((blob[61] & 0xf0u) << 4);
	if (w != want_w || h != want_h)
		return fail(-EIO, "EDID preferred mode %ux%u, want %ux%u", w, h, want_w, want_h);
	printf("KBED: step 'EDID': preferred mode %ux%u read back from mbochs's EDID region\n", w,
	       h);
	return 0;
}

static int case_mbochs(struct bed *b, bool fixed)
{
	const char *uuid = "6b3fbc10-4f43-4c55-9f3e-0000000000b1";
	int ret = mdev_create("mbochs", "mbochs-medium", uuid);

	if (!ret)
		ret = device_open(&b->dev, uuid, true);
	if (ret)
		return ret;
	if (fixed) {
		ret = apply(&b->dev, &fixed_steps[0]);
		if (!ret)
			ret = dmabuf_selftest(&b->dev, &fixed_steps[0].pic);
		if (!ret)
			printf("KBED: mbochs-fixes.patch self-test passed\n");
		if (!ret)
			ret = run_held(b, BY_SOCKET, fixed_steps,
				       sizeof(fixed_steps) / sizeof(fixed_steps[0]));
		if (!ret)
			ret = check_edid(&b->dev, KBED_EDID_W, KBED_EDID_H);
		return ret;
	}
	ret = run_held(b, BY_FD, stock_steps, sizeof(stock_steps) / sizeof(stock_steps[0]));
	if (!ret) {
		int n = count_in_log(b->d[0].log, "cannot map");

		if (n >= 0 && n != 1)
			ret = fail(-EIO, "daemon logged 'cannot map' %d times, want once", n);
	}
	return ret;
}

static int case_mdpy(struct bed *b)
{
	const char *held = "6b3fbc10-4f43-4c55-9f3e-0000000000d1";
	const char *free_uuid = "6b3fbc10-4f43-4c55-9f3e-0000000000d2";
	int ret = mdev_create("mdpy", "mdpy-xga", held);

	if (!ret)
		ret = mdev_create("mdpy", "mdpy-vga", free_uuid);
	if (!ret)
		ret = device_open(&b->dev, held, false);
	if (!ret)
		ret = run_held(b, BY_FD, mdpy_steps, sizeof(mdpy_steps) / sizeof(mdpy_steps[0]));
	/* nobody holds the second instance: the daemon opens it by UUID */
	if (!ret)
		ret = daemon_start(&b->d[1], b->daemon, BY_UUID, -1, free_uuid, 5901);
	if (!ret)
		ret = checker_start(&b->ck[1], b->checker, 5901);
	if (!ret)
		ret = checker_ask(&b->ck[1], "expect gray 640 480", "open by uuid");
	if (!ret)
		ret = daemon_alive(&b->d[1]);
	return ret;
}

int main(int argc, char **argv)
{
	struct bed b = {.daemon = "/bin/mdev-vncd", .checker = "/bin/vnc_check", .dev.fd = -1};
	const char *name = argc > 1 ? argv[1] : "";
	int ret;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc > 2)
		b.daemon = argv[2];
	if (argc > 3)
		b.checker = argv[3];
	signal(SIGPIPE, SIG_IGN);
	if (!strcmp(name, "stock") || !strcmp(name, "fixed"))
		ret = case_mbochs(&b, !strcmp(name, "fixed"));
	else if (!strcmp(name, "mdpy"))
		ret = case_mdpy(&b);
	else
		ret = fail(-EINVAL, "unknown case '%s' (stock, fixed or mdpy)", name);
	for (int i = 0; i < 2; i++) {
		child_stop(&b.ck[i], false);
		if (child_stop(&b.d[i], true) && !ret)
			ret = -EIO;
		dump_log(&b.d[i]);
	}
	if (ret)
		printf("KBED-RESULT: FAIL %s: %s\n", name, failure);
	else
		printf("KBED-RESULT: PASS %s\n", name);
	return ret ? 1 : 0;
}
