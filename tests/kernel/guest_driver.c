// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Guest side of the kernel test bed. It plays the VMM and the guest OS for
 * a real mbochs or mdpy instance: creates the mdev, opens it through its VFIO
 * group, programs the display and draws, hands the device fd to mdev-vncd
 * (inherited or over a unix socket), and after every step asks vnc_check
 * whether the VNC picture is exactly what was drawn.
 *
 * Usage: guest_driver stock|fixed|mdpy|qemu|egl [DAEMON [CHECKER]]
 * Prints "KBED-RESULT: PASS <case>" or "KBED-RESULT: FAIL <case>: <why>".
 * "guest_driver kernel-log" judges the kernel log alone (exit 0 when clean).
 */

#include <errno.h>
#include <fcntl.h>
#include <linux/vfio.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kbed_attach.h"
#include "kbed_children.h"
#include "kbed_common.h"
#include "kbed_egl.h"
#include "kbed_guest.h"
#include "kbed_klog.h"
#include "kbed_picture.h"

/* mbochs's EDID region (design notes), where the daemon writes edid_size. */
#define KBED_MBOCHS_EDID_REGION 9
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

int mdev_remove(const char *uuid)
{
	char path[256];

	snprintf(path, sizeof(path), "/sys/bus/mdev/devices/%s/remove", uuid);
	return kbed_write_file(path, "1");
}

int mdev_create(const char *parent, const char *type, const char *uuid)
{
	char path[256];

	snprintf(path, sizeof(path), "/sys/class/mdev_bus/%s/mdev_supported_types/%s/create",
		 parent, type);
	return kbed_write_file(path, uuid);
}

/*
 * The legacy group path, as a VMM does it; the fd keeps group and container
 * alive. With keep_group, the group fd stays open too and goes there, as QEMU
 * keeps it (what the daemon finds when it attaches).
 */
static int vfio_open(const char *uuid, int *keep_group)
{
	struct vfio_group_status st = {.argsz = sizeof(st)};
	char link[64];
	int container, group, dev = -1;

	if (kbed_mdev_group(uuid, link, sizeof(link)))
		return -EIO;
	container = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	group = open(link, O_RDWR | O_CLOEXEC);
	if (container < 0 || group < 0) {
		kbed_fail(-errno, "open /dev/vfio/vfio or %s: %m", link);
		goto out;
	}
	if (ioctl(group, VFIO_GROUP_GET_STATUS, &st) || !(st.flags & VFIO_GROUP_FLAGS_VIABLE) ||
	    ioctl(group, VFIO_GROUP_SET_CONTAINER, &container) ||
	    ioctl(container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU)) {
		kbed_fail(-errno, "setting up %s: %m", link);
		goto out;
	}
	dev = ioctl(group, VFIO_GROUP_GET_DEVICE_FD, uuid);
	if (dev < 0)
		kbed_fail(-errno, "VFIO_GROUP_GET_DEVICE_FD %s: %m", uuid);
out:
	if (keep_group && dev >= 0)
		*keep_group = group;
	else if (group >= 0)
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
		return kbed_fail(-errno, "GET_REGION_INFO %u: %m", index);
	r->offset = info.offset;
	r->size = info.size;
	return 0;
}

static int dispi_write(struct device *d, enum dispi reg, uint16_t val)
{
	if (pwrite(d->fd, &val, 2, d->mmio.offset + 0x500 + 2 * reg) != 2)
		return kbed_fail(-errno, "dispi write %d: %m", reg);
	return 0;
}

/* Video memory mapped and, on mbochs, the dispi registers found, on an open device fd (owned from here). */
static int device_setup(struct device *d, int fd, bool bochs)
{
	struct region vram;
	uint16_t id = 0;
	int ret;

	d->bochs = bochs;
	d->fd = fd;
	ret = region_get(d->fd, bochs ? VFIO_PCI_BAR0_REGION_INDEX : MDPY_DISPLAY_REGION, &vram);
	if (!ret && bochs)
		ret = region_get(d->fd, VFIO_PCI_BAR2_REGION_INDEX, &d->mmio);
	if (ret)
		return ret;
	if (bochs && (pread(d->fd, &id, 2, d->mmio.offset + 0x500) != 2 || id != DISPI_ID5))
		return kbed_fail(-EIO, "dispi id reads %#x, not %#x", id, DISPI_ID5);
	d->vram = mmap(NULL, vram.size, PROT_READ | PROT_WRITE, MAP_SHARED, d->fd, vram.offset);
	if (d->vram == MAP_FAILED)
		return kbed_fail(-errno, "mmap video memory: %m");
	d->vram_size = vram.size;
	return 0;
}

int device_open(struct device *d, const char *uuid, bool bochs)
{
	int fd = vfio_open(uuid, NULL);

	return fd < 0 ? fd : device_setup(d, fd, bochs);
}

static int draw(struct device *d, const struct step *s)
{
	const struct kbed_picture *p = &s->pic;
	uint64_t stride = (uint64_t)p->width * 4, base = s->yoff * stride;
	bool rect = s->op == OP_RECT;
	uint32_t x0 = rect ? p->rx : 0, y0 = rect ? p->ry : 0;
	uint32_t x1 = rect ? p->rx + p->rw : p->width, y1 = rect ? p->ry + p->rh : p->height;

	if (base + stride * p->height > d->vram_size)
		return kbed_fail(-EINVAL, "%s does not fit video memory", s->name);
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

	return fd < 0 ? kbed_fail(-errno, "GET_GFX_DMABUF %u: %m", id) : fd;
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
		return kbed_fail(-errno, "first QUERY_GFX_PLANE after the mode change: %m");
	if (pl.width != p->width || pl.height != p->height || !pl.dmabuf_id)
		return kbed_fail(-EIO, "plane %ux%u id %u, want %ux%u", pl.width, pl.height,
				 pl.dmabuf_id, p->width, p->height);
	for (int i = 0; i < 2 && !ret; i++) {
		fd[i] = get_dmabuf(d, pl.dmabuf_id);
		ret = fd[i] < 0 ? fd[i] : 0;
	}
	map = ret ? MAP_FAILED : mmap(NULL, pl.size, PROT_READ, MAP_SHARED, fd[1], 0);
	if (!ret && map == MAP_FAILED)
		ret = kbed_fail(-errno, "mmap of a %ux%u dmabuf: %m", pl.width, pl.height);
	for (uint32_t y = 0; !ret && y < p->height; y++) {
		for (uint32_t x = 0; x < p->width; x++) {
			uint32_t got = map[(size_t)y * pl.stride / 4 + x] & 0xffffffu;

			if (got != kbed_pixel(p, x, y)) {
				ret = kbed_fail(-EIO, "dmabuf pixel %u,%u is %06x", x, y, got);
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

void device_close(struct device *d)
{
	if (d->vram && d->vram != MAP_FAILED)
		munmap(d->vram, d->vram_size);
	if (d->fd >= 0)
		close(d->fd);
	d->vram = NULL;
	d->fd = -1;
}

int run_steps(struct device *dev, struct child *d, struct child *ck,
	      const struct step *steps, size_t n, const char *tag)
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
			ret = kbed_checker_ask(ck, cmd, tag, s->name);
		if (!ret)
			ret = kbed_daemon_alive(d);
	}
	return ret;
}

struct bed {
	const char *daemon, *checker;
	struct device dev;
	struct child d[2], ck[2];
};

/* One daemon on the device the driver holds, one check per step. */
static int run_held(struct bed *b, enum handover how, const struct step *steps, size_t n)
{
	int ret = kbed_daemon_start(&b->d[0], b->daemon, how, b->dev.fd, NULL, 5900);

	if (!ret)
		ret = kbed_checker_start(&b->ck[0], b->checker, 5900);
	if (!ret)
		ret = run_steps(&b->dev, &b->d[0], &b->ck[0], steps, n, "step");
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
		return kbed_fail(-EIO, "EDID region registers: %m");
	if (regs.link_state != VFIO_DEVICE_GFX_LINK_STATE_UP || regs.edid_size < sizeof(blob))
		return kbed_fail(-EIO, "EDID region: link %u, %u bytes: the daemon wrote no EDID",
				 regs.link_state, regs.edid_size);
	if (pread(d->fd, blob, sizeof(blob), (off_t)(r.offset + regs.edid_offset)) !=
	    (ssize_t)sizeof(blob))
		return kbed_fail(-EIO, "EDID blob: %m");
	/* The first detailed timing descriptor (byte 54) holds the preferred mode. */
	unsigned w = blob[56] | ((blob[58] & 0xf0u) << 4);
	unsigned h = blob[59] | ((blob[61] & 0xf0u) << 4);
	if (w != want_w || h != want_h)
		return kbed_fail(-EIO, "EDID preferred mode %ux%u, want %ux%u", w, h, want_w, want_h);
	printf("KBED: step 'EDID': preferred mode %ux%u read back from mbochs's EDID region\n", w,
	       h);
	return 0;
}

/*
 * Judges the whole kernel log (kbed_klog.h) and prints the verdict as a step.
 * With DEVICE, that device's traced dmabufs must show every one of its
 * WANT_IDS modes exported, and none exported again after its release.
 */
static int klog_judge(const char *device, unsigned want_ids, const char *when)
{
	struct kbed_klog_verdict v;
	double t0 = kbed_now_s();
	int ret = kbed_klog_scan(device, &v);

	if (ret)
		return kbed_fail(ret, "reading the kernel log %s: %s", when, strerror(-ret));
	if (v.splats || v.refetches) {
		printf("KBED: step 'kernel log %s': %u offending lines, %u re-fetched dmabuf ids\n",
		       when, v.splats, v.refetches);
		return kbed_fail(-EIO, "kernel log %s: %u offending lines, %u ids fetched again "
				      "after their fd was closed",
				 when, v.splats, v.refetches);
	}
	if (device && v.exports < want_ids)
		return kbed_fail(-EIO, "kernel log %s: %u dmabuf exports traced for %u modes: "
				      "is mbochs's dynamic debug on?",
				 when, v.exports, want_ids);
	printf("KBED: step 'kernel log %s': clean", when);
	if (device)
		printf(", %u dmabuf exports traced, no id fetched again", v.exports);
	printf(" (read in %.1f s)\n", kbed_now_s() - t0);
	return 0;
}

/*
 * The mode cycle: more modes than any dmabuf cache the daemon could keep,
 * visited CYCLE_ROUNDS times on a device of its own, so every return is to
 * an id mbochs still lists (it keeps one per mode for the device's life).
 * A daemon that closes an id's fd and fetches the id again makes stock
 * mbochs put the mode's pages once more each time: in the third round they
 * are freed while the guest still maps them, and the kernel says "BUG: Bad
 * page state" once it checks them (a kernel without DEBUG_VM does so when
 * it moves free pages between its lists: later, not at once). The fixed
 * module survives the re-fetch; mbochs's trace of its exports and releases
 * shows it on both, at once.
 */
#define CYCLE_MODES 20
#define CYCLE_ROUNDS 3
#define CYCLE_UUID "6b3fbc10-4f43-4c55-9f3e-0000000000b2"

struct cycle {
	struct step steps[CYCLE_MODES];
	char names[CYCLE_MODES][40];
};

static uint64_t gcd(uint64_t a, uint64_t b)
{
	while (b) {
		uint64_t r = a % b;

		a = b;
		b = r;
	}
	return a;
}

/*
 * Round R: every mode a size of its own, drawn with a new seed each round
 * (the daemon must show what the guest drew, not what it saw before), in a
 * part of video memory of its own that starts on a page, as mbochs exports
 * only page-aligned framebuffers.
 */
static void cycle_round(struct cycle *c, bool fixed, unsigned r)
{
	uint64_t next = 0;

	for (unsigned i = 0; i < CYCLE_MODES; i++) {
		uint32_t w = 320 + 16 * i, h = 240 + 8 * i;
		uint64_t stride = w * 4, rows = 4096 / gcd(4096, stride);
		uint32_t yoff = (next + rows * stride - 1) / (rows * stride) * rows;

		next = (uint64_t)(yoff + h) * stride;
		snprintf(c->names[i], sizeof(c->names[i]), "round %u, %ux%u", r + 1, w, h);
		c->steps[i] = (struct step){c->names[i], OP_MODE, fixed ? CK_EXPECT : CK_SIZE, yoff,
					   PAT(w, h, 1000 * (r + 1) + i)};
	}
}

/* Set-up, the rounds, and the daemon's health after them. */
static int cycle_run(struct bed *b, struct device *dev, bool fixed)
{
	struct cycle c;
	double t0 = kbed_now_s();
	int ret = mdev_create("mbochs", "mbochs-large", CYCLE_UUID);

	if (!ret)
		ret = device_open(dev, CYCLE_UUID, true);
	if (!ret) {
		ret = kbed_klog_trace_mbochs();
		if (ret)
			return kbed_fail(ret, "turning on mbochs's dynamic debug: %s", strerror(-ret));
	}
	if (!ret)
		ret = kbed_daemon_start(&b->d[1], b->daemon, BY_FD, dev->fd, NULL, 5901);
	if (!ret)
		ret = kbed_checker_start(&b->ck[1], b->checker, 5901);
	if (!ret)
		printf("KBED: step 'mode cycle set-up': mbochs-large, daemon and checker in %.1f s\n",
		       kbed_now_s() - t0);
	for (unsigned r = 0; r < CYCLE_ROUNDS && !ret; r++) {
		t0 = kbed_now_s();
		cycle_round(&c, fixed, r);
		ret = run_steps(dev, &b->d[1], &b->ck[1], c.steps, CYCLE_MODES, "cycle");
		if (!ret)
			printf("KBED: step 'mode cycle round %u': %u modes %s in %.1f s\n", r + 1,
			       CYCLE_MODES, fixed ? "exact" : "sized", kbed_now_s() - t0);
	}
	if (!ret)
		ret = kbed_daemon_alive(&b->d[1]);
	if (!ret && !fixed) {
		int n = kbed_count_in_log(b->d[1].log, "cannot map");

		if (n >= 0 && n != 1)
			ret = kbed_fail(-EIO, "daemon logged 'cannot map' %d times in the cycle, "
					      "want once", n);
	}
	return ret;
}

static int mode_cycle(struct bed *b, bool fixed)
{
	struct device dev = {.fd = -1};
	int err, ret = cycle_run(b, &dev, fixed);
	double t0;

	/* judged after a failed step too: the kernel log may say why it failed */
	err = klog_judge(CYCLE_UUID, CYCLE_MODES, "after the mode cycle, daemon running");
	ret = ret ? ret : err;
	t0 = kbed_now_s();
	kbed_child_stop(&b->ck[1], false);
	err = kbed_child_stop(&b->d[1], true);
	ret = ret ? ret : err;
	device_close(&dev);
	printf("KBED: step 'mode cycle tear-down': daemon stopped, device closed in %.1f s\n",
	       kbed_now_s() - t0);
	err = klog_judge(NULL, 0, "after the daemon stopped and the device closed");
	return ret ? ret : err;
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
	} else {
		ret = run_held(b, BY_FD, stock_steps,
			       sizeof(stock_steps) / sizeof(stock_steps[0]));
		if (!ret) {
			int n = kbed_count_in_log(b->d[0].log, "cannot map");

			if (n >= 0 && n != 1)
				ret = kbed_fail(-EIO, "daemon logged 'cannot map' %d times, want once",
						n);
		}
	}
	/* the cycle has a device and a daemon of its own: let this one go first */
	kbed_child_stop(&b->ck[0], false);
	if (!ret)
		ret = kbed_child_stop(&b->d[0], true);
	return ret ? ret : mode_cycle(b, fixed);
}

/* Plays QEMU: a child holding the mdev's VFIO group and device until killed. */
static pid_t qemu_player_start(const char *uuid)
{
	int ready[2];

	if (pipe2(ready, O_CLOEXEC))
		return kbed_fail(-errno, "pipe: %m");
	pid_t pid = fork();
	if (pid == 0) {
		int group = -1;
		char ok = vfio_open(uuid, &group) >= 0 ? '1' : '0';

		if (write(ready[1], &ok, 1) != 1 || ok != '1')
			_exit(1);
		for (;;)
			pause();
	}
	close(ready[1]);
	char ok = 0;
	if (pid < 0 || read(ready[0], &ok, 1) != 1 || ok != '1')
		pid = kbed_fail(-EIO, "the QEMU player could not open %s", uuid);
	close(ready[0]);
	return pid;
}

/*
 * Beside a running QEMU: the daemon attaches to the process that holds the
 * group (qemu_pid), serves the picture, and when that process dies lets go
 * of the device and exits by itself, so the mdev can be removed at once.
 */
static int attach_case(struct bed *b, const char *uuid)
{
	kbed_child_stop(&b->ck[1], false);
	int ret = kbed_child_stop(&b->d[1], true);
	pid_t qemu = ret ? ret : qemu_player_start(uuid);

	if (qemu < 0)
		return qemu;
	/*
	 * Without privileges: one clear refusal naming QEMU's PID and the first
	 * capability missing (for root's QEMU, CAP_DAC_READ_SEARCH to list its
	 * /proc/PID/fd, before CAP_SYS_PTRACE to copy from it).
	 */
	char pid_text[32];
	snprintf(pid_text, sizeof(pid_text), "PID %d", (int)qemu);
	ret = kbed_daemon_start(&b->d[1], b->daemon, BY_ATTACH_UNPRIVILEGED, qemu, uuid, 5903);
	if (!ret)
		ret = kbed_daemon_wait_exit(&b->d[1], STEP_TIMEOUT_S, 1);
	if (!ret && (kbed_count_in_log(b->d[1].log, "needs CAP_DAC_READ_SEARCH") != 1 ||
		     kbed_count_in_log(b->d[1].log, pid_text) != 1))
		ret = kbed_fail(-EIO, "the refused attach did not name CAP_DAC_READ_SEARCH and %s once",
				pid_text);
	if (!ret)
		printf("KBED: step 'attach refused': as user nobody: one error naming "
		       "CAP_DAC_READ_SEARCH and %s\n", pid_text);
	if (!ret)
		ret = kbed_daemon_start(&b->d[1], b->daemon, BY_ATTACH, qemu, uuid, 5902);
	if (!ret)
		ret = kbed_checker_start(&b->ck[1], b->checker, 5902);
	if (!ret)
		ret = kbed_checker_ask(&b->ck[1], "expect gray 640 480", "step", "attach to QEMU");
	kill(qemu, SIGKILL);
	waitpid(qemu, NULL, 0);
	double t0 = kbed_now_s();
	if (!ret)
		ret = kbed_daemon_wait_exit(&b->d[1], STEP_TIMEOUT_S, 0);
	if (!ret && kbed_count_in_log(b->d[1].log, "exited: letting go of its vGPU") != 1)
		ret = kbed_fail(-EIO, "the daemon did not say once that QEMU exited");
	if (!ret)
		ret = mdev_remove(uuid);
	if (!ret)
		printf("KBED: step 'QEMU exits': daemon gone %.1f s after QEMU, mdev removed\n",
		       kbed_now_s() - t0);
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
		ret = kbed_daemon_start(&b->d[1], b->daemon, BY_UUID, -1, free_uuid, 5901);
	if (!ret)
		ret = kbed_checker_start(&b->ck[1], b->checker, 5901);
	if (!ret)
		ret = kbed_checker_ask(&b->ck[1], "expect gray 640 480", "step", "open by uuid");
	if (!ret)
		ret = kbed_daemon_alive(&b->d[1]);
	return ret ? ret : attach_case(b, free_uuid);
}

/* What QEMU's guest shows through the device fd the driver took from QEMU (kbed_attach.c). */
static const struct step qemu_steps[] = {
	{"QEMU's guest, 800x600", OP_MODE, CK_EXPECT, 0, PAT(800, 600, 11)},
	{"the next QEMU's guest, 1024x768", OP_MODE, CK_EXPECT, 0, PAT(1024, 768, 12)},
};

static int draw_through(int fd, unsigned picture, char *cmd, size_t len)
{
	const struct step *s = &qemu_steps[picture % 2];
	struct device dev = {.fd = -1};
	char pic[128];
	int ret = device_setup(&dev, fd, true);

	if (!ret)
		ret = apply(&dev, s);
	device_close(&dev);
	kbed_picture_format(&s->pic, pic, sizeof(pic));
	snprintf(cmd, len, "expect %s", pic);
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
	/* guest-init.sh's last word on a case, after every device is closed */
	if (!strcmp(name, "kernel-log"))
		return klog_judge(NULL, 0, "at the end of the case") ? 1 : 0;
	if (!strcmp(name, "stock") || !strcmp(name, "fixed"))
		ret = case_mbochs(&b, !strcmp(name, "fixed"));
	else if (!strcmp(name, "mdpy"))
		ret = case_mdpy(&b);
	else if (!strcmp(name, "qemu"))
		ret = kbed_attach_qemu(b.daemon, b.checker, draw_through, b.d, b.ck);
	else if (!strcmp(name, "egl"))
		ret = kbed_egl_case(b.daemon, b.checker);
	else
		ret = kbed_fail(-EINVAL, "unknown case '%s' (stock, fixed, mdpy, qemu or egl)", name);
	for (int i = 0; i < 2; i++) {
		kbed_child_stop(&b.ck[i], false);
		if (kbed_child_stop(&b.d[i], true) && !ret)
			ret = -EIO;
		kbed_dump_log(&b.d[i]);
	}
	if (ret)
		printf("KBED-RESULT: FAIL %s: %s\n", name, kbed_failure());
	else
		printf("KBED-RESULT: PASS %s\n", name);
	return ret ? 1 : 0;
}
