// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The kernel bed's EGL case (issue 11), in three parts, each on a device of
 * its own with a daemon of its own:
 * - fixed mbochs through import = egl: the guest's pixels exactly (a partial
 *   change, page flips, a mode change) read back through llvmpipe, and the
 *   daemon says EGL serves them;
 * - mdpy through import = auto: a region plane stays on the CPU path, with
 *   EGL at hand and never loaded;
 * - stock mbochs through import = auto: its dmabufs refuse a CPU mapping,
 *   and llvmpipe imports a dmabuf by mapping it too: the placeholder naming
 *   both refusals, and the daemon keeps serving.
 * Stock and fixed mbochs share a module name: the case swaps in the stock
 * one after the fixed one's part.
 */
#include "kbed_egl.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "kbed_common.h"
#include "kbed_guest.h"

/* Where guest-init.sh's initramfs keeps the stock build (run-kernel-tests.sh). */
#define STOCK_MBOCHS_KO "/lib/modules/kbed/stock/mbochs.ko"

/* The daemon's log lines this case judges (src/import_egl.c, import_auto.c, display.c). */
#define LOG_EGL_READY "GPU import ready: EGL"
#define LOG_AUTO_CPU "import = auto: display buffers are mapped by the CPU"
#define LOG_GPU "GPU import"
#define LOG_CANNOT_MAP "cannot map the display buffer"
#define LOG_CPU_REFUSAL "cannot map the display buffer: CPU: the exporter refused a CPU mapping"
#define LOG_GPU_REFUSAL "; GPU: the GPU (llvmpipe"
#define LOG_SOFTWARE_NEEDS_MAP "renders in software and needs a CPU mapping of the dmabuf, " \
			       "which the exporter refused"

static const struct step fixed_egl_steps[] = {
	{"egl: initial 800x600", OP_MODE, CK_EXPECT, 0, PAT(800, 600, 21)},
	{"egl: partial change", OP_RECT, CK_EXPECT, 0,
	 PAT_RECT(800, 600, 21, 100, 80, 200, 150, 22)},
	{"egl: page flip", OP_FLIP, CK_FLIP, 608, PAT(800, 600, 23)},
	{"egl: flip back, redrawn", OP_FLIP, CK_FLIP, 0, PAT(800, 600, 24)},
	{"egl: mode 1024x768", OP_MODE, CK_EXPECT, 1000, PAT(1024, 768, 25)},
};

static const struct step mdpy_auto_steps[] = {
	{"egl: mdpy region 1024x768", OP_MODE, CK_EXPECT, 0, PAT(1024, 768, 26)},
};

/* The last step asks once more after every buffer was refused: the daemon still answers. */
static const struct step stock_auto_steps[] = {
	{"egl: stock 800x600", OP_MODE, CK_SIZE, 0, PAT(800, 600, 27)},
	{"egl: stock mode 1024x768", OP_MODE, CK_SIZE, 1000, PAT(1024, 768, 28)},
	{"egl: stock still serving, 640x480", OP_MODE, CK_SIZE, 3200, PAT(640, 480, 29)},
};

/* A line the daemon's log must hold exactly WANT times once the steps passed. */
struct log_rule {
	const char *needle;
	int want;
};

struct egl_part {
	const char *name;
	const char *parent, *type, *uuid;
	bool bochs;
	const char *config; /* the daemon's config lines besides listen and instance */
	const struct step *steps;
	size_t n_steps;
	int port;
	struct log_rule log[4]; /* unused ones have no needle */
	const char *log_verdict;
};

static const struct egl_part fixed_egl = {
	"fixed mbochs, import = egl", "mbochs", "mbochs-medium",
	"6b3fbc10-4f43-4c55-9f3e-0000000000e1", true, "import = egl\n",
	fixed_egl_steps, sizeof(fixed_egl_steps) / sizeof(fixed_egl_steps[0]), 5910,
	{{LOG_EGL_READY, 1}, {LOG_CANNOT_MAP, 0}},
	"EGL serves the display ('" LOG_EGL_READY "' once), no placeholder",
};

static const struct egl_part mdpy_auto = {
	"mdpy, import = auto", "mdpy", "mdpy-xga",
	"6b3fbc10-4f43-4c55-9f3e-0000000000e2", false, "import = auto\n",
	mdpy_auto_steps, sizeof(mdpy_auto_steps) / sizeof(mdpy_auto_steps[0]), 5911,
	{{LOG_AUTO_CPU, 1}, {LOG_GPU, 0}},
	"the region stays on the CPU ('" LOG_AUTO_CPU "' once), EGL never loaded",
};

static const struct egl_part stock_auto = {
	"stock mbochs, import = auto", "mbochs", "mbochs-medium",
	"6b3fbc10-4f43-4c55-9f3e-0000000000e3", true, "import = auto\n",
	stock_auto_steps, sizeof(stock_auto_steps) / sizeof(stock_auto_steps[0]), 5912,
	{{LOG_EGL_READY, 1}, {LOG_CPU_REFUSAL, 1}, {LOG_GPU_REFUSAL, 1},
	 {LOG_SOFTWARE_NEEDS_MAP, 1}},
	"EGL up, one placeholder naming both refusals",
};

static int judge_log(const struct child *d, const struct egl_part *p)
{
	char line[512], shown[512] = "";

	for (size_t i = 0; i < sizeof(p->log) / sizeof(p->log[0]) && p->log[i].needle; i++) {
		int n = kbed_find_in_log(d->log, p->log[i].needle, line, sizeof(line));

		if (n < 0)
			return n;
		if (n != p->log[i].want)
			return kbed_fail(-EIO, "%s: the daemon logged '%s' %d times, want %d", p->name,
					 p->log[i].needle, n, p->log[i].want);
		if (n && strcmp(line, shown)) {
			printf("KBED: step 'egl: %s': logged: %s\n", p->name, line);
			snprintf(shown, sizeof(shown), "%s", line);
		}
	}
	printf("KBED: step 'egl: %s': %s\n", p->name, p->log_verdict);
	return 0;
}

/* Creates the part's device, serves it, checks every step and the log, and removes it. */
static int run_part(const char *daemon, const char *checker, const struct egl_part *p)
{
	struct device dev = {.fd = -1};
	struct child d = {0}, ck = {0};
	double t0 = kbed_now_s();
	int err, ret = mdev_create(p->parent, p->type, p->uuid);
	bool created = !ret;

	if (!ret)
		ret = device_open(&dev, p->uuid, p->bochs);
	if (!ret)
		ret = kbed_daemon_start_config(&d, daemon, dev.fd, p->port, p->config);
	if (!ret)
		ret = kbed_checker_start(&ck, checker, p->port);
	if (!ret)
		ret = run_steps(&dev, &d, &ck, p->steps, p->n_steps, "step");
	if (!ret)
		ret = judge_log(&d, p);
	kbed_child_stop(&ck, false);
	/* a clean exit on SIGTERM: the daemon was still up after the last step */
	err = kbed_child_stop(&d, true);
	ret = ret ? ret : err;
	if (ret)
		kbed_dump_log(&d);
	device_close(&dev);
	err = created ? mdev_remove(p->uuid) : 0;
	ret = ret ? ret : err;
	if (!ret)
		printf("KBED: step 'egl: %s': passed in %.1f s\n", p->name, kbed_now_s() - t0);
	return ret;
}

/*
 * The fixed module goes once nothing holds it: a dmabuf the daemon closed
 * can keep it busy a moment longer (the kernel puts files late).
 */
static int swap_in_stock_mbochs(void)
{
	double deadline = kbed_now_s() + STEP_TIMEOUT_S;
	int fd, ret;

	while (syscall(SYS_delete_module, "mbochs", O_NONBLOCK)) {
		if ((errno != EBUSY && errno != EAGAIN) || kbed_now_s() > deadline)
			return kbed_fail(-errno, "removing the fixed mbochs module: %m");
		usleep(50 * 1000);
	}
	fd = open(STOCK_MBOCHS_KO, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return kbed_fail(-errno, "%s: %m", STOCK_MBOCHS_KO);
	ret = syscall(SYS_finit_module, fd, "", 0) ? kbed_fail(-errno, "loading %s: %m",
							      STOCK_MBOCHS_KO) : 0;
	close(fd);
	if (!ret)
		printf("KBED: step 'egl: module swap': stock mbochs in place of the fixed one\n");
	return ret;
}

/* Seconds since the guest booted: what unpacking the Mesa archive costs shows here. */
static double guest_uptime_s(void)
{
	double up = -1;
	FILE *f = fopen("/proc/uptime", "re");

	if (f && fscanf(f, "%lf", &up) != 1)
		up = -1;
	if (f)
		fclose(f);
	return up;
}

int kbed_egl_case(const char *daemon, const char *checker)
{
	const char *vendor = getenv("__EGL_VENDOR_LIBRARY_FILENAMES");
	int ret;

	if (!vendor || access(vendor, R_OK))
		return kbed_fail(-ENOENT, "the backports Mesa is not in this guest (%s): "
					  "run-kernel-tests.sh --mesa DIR puts it there",
				 vendor ? vendor : "__EGL_VENDOR_LIBRARY_FILENAMES unset");
	printf("KBED: step 'egl: Mesa in the guest': %s, guest up %.1f s\n", vendor,
	       guest_uptime_s());
	ret = run_part(daemon, checker, &fixed_egl);
	if (!ret)
		ret = run_part(daemon, checker, &mdpy_auto);
	if (!ret)
		ret = swap_in_stock_mbochs();
	if (!ret)
		ret = run_part(daemon, checker, &stock_auto);
	return ret;
}
