// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * display_irq against the simulated vGPU. The sim reads its IRQ mode once,
 * when it loads, so the test runs itself once per mode under the sim (see
 * sim_child.h); each child runs the tests of its mode.
 */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <event2/event.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cmocka.h>

#include "display_irq.h"
#include "vfio_device.h"
#include "vfio_display_irq.h"

/*
 * The unit tests link only mdevvncd_core and cmocka: the sim's control
 * client is compiled in from its source.
 */
#include "sim_child.h"
#include "simctl.h"

#define SIM_UUID_DEFAULT "4b20d080-1b54-4048-85b3-a6a62d165c01"
#define PRI (1ull << 56)
#define CUR (1ull << 48)
#define BOTH (DISPLAY_EVENT_PRIMARY | DISPLAY_EVENT_CURSOR)

/*
 * ioctl() as the module sees it: this definition in the executable comes
 * before the preloaded sim, which it forwards to. It records GET_IRQ_INFO
 * sizes and plays device behaviours the sim does not have.
 */
static struct {
	uint32_t want_argsz; /* answer argsz = this to any smaller GET_IRQ_INFO */
	bool keep_raising;   /* always answer argsz = what was sent + 64 */
	bool hide_maskable;  /* clear VFIO_IRQ_INFO_MASKABLE in answers */
	int set_irqs_errno;  /* fail every SET_IRQS with this */
	unsigned n_info;     /* GET_IRQ_INFO calls on the display index */
	uint32_t sent[8], answered[8];
} dev_fake;

int ioctl(int fd, unsigned long req, ...)
{
	static int (*next)(int, unsigned long, ...);
	struct vfio_irq_info_v6 *info;
	uint32_t sent;
	va_list ap;
	void *arg;
	int r;

	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (!next)
		next = (int (*)(int, unsigned long, ...))dlsym(RTLD_NEXT, "ioctl");
	if (req == VFIO_DEVICE_SET_IRQS && dev_fake.set_irqs_errno) {
		errno = dev_fake.set_irqs_errno;
		return -1;
	}
	if (req != VFIO_DEVICE_GET_IRQ_INFO)
		return next(fd, req, arg);
	info = arg;
	sent = info->argsz;
	r = next(fd, req, arg);
	if (r < 0)
		return r;
	if (info->index == VFIO_IRQ_DEVICE_SPECIFIC_BASE && dev_fake.n_info < 8) {
		dev_fake.sent[dev_fake.n_info] = sent;
		if (info->argsz < dev_fake.want_argsz)
			info->argsz = dev_fake.want_argsz;
		if (dev_fake.keep_raising)
			info->argsz = sent + 64;
		dev_fake.answered[dev_fake.n_info++] = info->argsz;
	}
	if (dev_fake.hide_maskable)
		info->flags &= ~VFIO_IRQ_INFO_MASKABLE;
	return r;
}

struct fixture {
	struct vfio_device *dev;
	struct event_base *base;
	struct simctl *ctl;
	struct display_irq *irq;
	unsigned calls, planes;
};

static void on_event(void *ctx, unsigned planes)
{
	struct fixture *f = ctx;

	f->calls++;
	f->planes = planes;
}

static int setup(void **state)
{
	const char *uuid = getenv("VGPU_SIM_UUID");
	struct fixture *f = calloc(1, sizeof(*f));
	const char *why = NULL;
	struct sim_stats stats;

	memset(&dev_fake, 0, sizeof(dev_fake));
	if (!f)
		return -1;
	*state = f;
	if (vfio_device_open_uuid(uuid ? uuid : SIM_UUID_DEFAULT, &f->dev, &why) < 0) {
		fprintf(stderr, "cannot open the sim device: %s\n", why);
		return -1;
	}
	f->base = event_base_new();
	f->ctl = simctl_connect(getenv("VGPU_SIM_CONTROL"), 2000);
	/* One round trip: the sim has accepted the connection before fds are counted. */
	return f->base && f->ctl && simctl_stats(f->ctl, &stats) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	display_irq_free(f->irq);
	if (f->base)
		event_base_free(f->base);
	simctl_free(f->ctl);
	vfio_device_free(f->dev);
	free(f);
	return 0;
}

static int open_irq(struct fixture *f)
{
	return display_irq_open(f->dev, f->base, on_event, f, &f->irq);
}

static void no_op(evutil_socket_t fd, short what, void *arg)
{
}

/* One loop turn that waits for an event, at most a few seconds. */
static void loop_once(struct fixture *f)
{
	struct timeval tv = { .tv_sec = 3 };
	struct event *timeout = evtimer_new(f->base, no_op, NULL);

	assert_non_null(timeout);
	evtimer_add(timeout, &tv);
	event_base_loop(f->base, EVLOOP_ONCE);
	event_free(timeout);
}

/* Signals the IRQ, runs the loop until the callback; returns the planes it got. */
static unsigned deliver(struct fixture *f, uint64_t value)
{
	unsigned calls = f->calls;

	assert_int_equal(simctl_irq(f->ctl, value), 0);
	loop_once(f);
	assert_int_equal(f->calls, calls + 1);
	return f->planes;
}

/* Handles what is ready without waiting: nothing may reach the callback. */
static void assert_no_callback(struct fixture *f)
{
	unsigned calls = f->calls;

	event_base_loop(f->base, EVLOOP_NONBLOCK);
	assert_int_equal(f->calls, calls);
}

/* Masked: nothing reaches the callback; the unmask delivers what was held, once. */
static void assert_held_until_unmask(struct fixture *f, unsigned planes)
{
	unsigned calls = f->calls;

	assert_no_callback(f);
	assert_int_equal(display_irq_set_masked(f->irq, false), 0);
	loop_once(f);
	assert_int_equal(f->calls, calls + 1);
	assert_int_equal(f->planes, planes);
}

static uint64_t sim_stat(struct fixture *f, size_t offset)
{
	struct sim_stats stats;
	uint64_t value;

	assert_int_equal(simctl_stats(f->ctl, &stats), 0);
	memcpy(&value, (const char *)&stats + offset, sizeof(value));
	return value;
}

#define STAT(f, field) sim_stat(f, offsetof(struct sim_stats, field))

/* The device's trigger holds no eventfd: a signal goes nowhere. */
static void assert_trigger_off(struct fixture *f)
{
	uint64_t signals = STAT(f, irq_signals);

	assert_int_equal(simctl_irq(f->ctl, PRI), 0);
	assert_int_equal(STAT(f, irq_signals), signals);
}

/* A failed open leaves no fd behind and no trigger on the device. */
static void assert_open_fails(struct fixture *f, int expected)
{
	unsigned fds = sim_child_count_fds();

	assert_int_equal(open_irq(f), expected);
	assert_null(f->irq);
	assert_int_equal(sim_child_count_fds(), fds);
}

static void test_discovery(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(open_irq(f), 0);
	assert_true(display_irq_has_plane_values(f->irq));
	assert_int_equal(display_irq_events(f->irq), 0);
	/* The chain did not fit the first answer: the device raised argsz and got it. */
	assert_int_equal(dev_fake.n_info, 2);
	assert_true(dev_fake.answered[0] > dev_fake.sent[0]);
	assert_int_equal(dev_fake.sent[1], dev_fake.answered[0]);
}

static void test_argsz_growth(void **state)
{
	struct fixture *f = *state;

	dev_fake.want_argsz = 4096;
	assert_int_equal(open_irq(f), 0);
	assert_true(display_irq_has_plane_values(f->irq));
	assert_int_equal(dev_fake.sent[dev_fake.n_info - 1], 4096);
}

static void test_argsz_too_large(void **state)
{
	struct fixture *f = *state;

	dev_fake.want_argsz = (64u << 10) + 4;
	assert_open_fails(f, -EINVAL);
}

static void test_argsz_keeps_growing(void **state)
{
	struct fixture *f = *state;

	dev_fake.keep_raising = true;
	assert_open_fails(f, -EINVAL);
	assert_true(dev_fake.n_info >= 2 && dev_fake.n_info <= 8);
}

static void test_plane_bits(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(open_irq(f), 0);
	assert_int_equal(deliver(f, PRI), DISPLAY_EVENT_PRIMARY);
	assert_int_equal(deliver(f, CUR), DISPLAY_EVENT_CURSOR);
	assert_int_equal(deliver(f, PRI | CUR), BOTH);
	/* Bits the device never named: cannot tell, so both. */
	assert_int_equal(deliver(f, 1), BOTH);
	assert_int_equal(display_irq_events(f->irq), 4);
}

static void test_summed_signals(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(open_irq(f), 0);
	/* 1<<56 + 1<<56 = 1<<57: neither plane bit, so both planes, in one call. */
	assert_int_equal(simctl_irq(f->ctl, PRI), 0);
	assert_int_equal(deliver(f, PRI), BOTH);
	assert_int_equal(display_irq_events(f->irq), 1);
	assert_no_callback(f);
	/* 2 primary + 1 cursor: the cursor bit is set, but the carry says primary changed too. */
	assert_int_equal(simctl_irq(f->ctl, PRI), 0);
	assert_int_equal(simctl_irq(f->ctl, PRI), 0);
	assert_int_equal(deliver(f, CUR), BOTH);
	assert_int_equal(display_irq_events(f->irq), 2);
}

static void test_mask(void **state)
{
	struct fixture *f = *state;
	uint64_t calls;

	assert_int_equal(open_irq(f), 0);
	assert_int_equal(display_irq_set_masked(f->irq, true), 0);
	calls = STAT(f, set_irqs);
	assert_int_equal(display_irq_set_masked(f->irq, true), 0);
	assert_int_equal(STAT(f, set_irqs), calls);
	assert_int_equal(simctl_irq(f->ctl, CUR), 0);
	assert_held_until_unmask(f, DISPLAY_EVENT_CURSOR);
	assert_int_equal(display_irq_set_masked(f->irq, false), 0);
	assert_int_equal(deliver(f, PRI), DISPLAY_EVENT_PRIMARY);
}

/* A count already in the eventfd when the mask comes waits for the unmask. */
static void test_mask_holds_pending_count(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(open_irq(f), 0);
	assert_int_equal(simctl_irq(f->ctl, PRI), 0);
	assert_int_equal(display_irq_set_masked(f->irq, true), 0);
	assert_held_until_unmask(f, DISPLAY_EVENT_PRIMARY);
}

static void test_mask_not_maskable(void **state)
{
	struct fixture *f = *state;

	dev_fake.hide_maskable = true;
	assert_int_equal(open_irq(f), 0);
	assert_int_equal(display_irq_set_masked(f->irq, true), 0);
	assert_trigger_off(f);
	assert_no_callback(f);
	assert_int_equal(display_irq_set_masked(f->irq, false), 0);
	assert_int_equal(deliver(f, CUR), DISPLAY_EVENT_CURSOR);
}

static void test_free_disables(void **state)
{
	struct fixture *f = *state;
	uint64_t calls;

	assert_int_equal(open_irq(f), 0);
	calls = STAT(f, set_irqs);
	display_irq_free(f->irq);
	f->irq = NULL;
	assert_int_equal(STAT(f, set_irqs), calls + 1);
	assert_trigger_off(f);
	display_irq_free(NULL);
}

static void test_set_irqs_fails(void **state)
{
	struct fixture *f = *state;

	dev_fake.set_irqs_errno = EPERM;
	assert_open_fails(f, -EPERM);
	dev_fake.set_irqs_errno = 0;
	assert_trigger_off(f);
}

static void test_nocap(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(open_irq(f), 0);
	assert_false(display_irq_has_plane_values(f->irq));
	assert_int_equal(deliver(f, PRI), BOTH);
	assert_int_equal(deliver(f, CUR), BOTH);
}

static void test_no_irq(void **state)
{
	assert_open_fails(*state, -ENOENT);
}

static void test_malformed(void **state)
{
	struct fixture *f = *state;

	assert_open_fails(f, -EINVAL);
	/* The chain is read once per attempt: a loop in it is not followed forever. */
	assert_true(dev_fake.n_info <= 4);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

static const struct CMUnitTest display_tests[] = {
	T(test_discovery),
	T(test_argsz_growth),
	T(test_argsz_too_large),
	T(test_argsz_keeps_growing),
	T(test_plane_bits),
	T(test_summed_signals),
	T(test_mask),
	T(test_mask_holds_pending_count),
	T(test_mask_not_maskable),
	T(test_free_disables),
	T(test_set_irqs_fails),
};
static const struct CMUnitTest nocap_tests[] = { T(test_nocap) };
static const struct CMUnitTest none_tests[] = { T(test_no_irq) };
static const struct CMUnitTest malformed_tests[] = { T(test_malformed) };

/* One child per IRQ mode: the sim reads it when it loads. */
#define RUN(mode, tests) \
	{ mode, (const char *const[]){ "VGPU_SIM_IRQ=" mode, NULL }, SIM_CHILD_TESTS(tests) }
static const struct sim_child_run runs[] = {
	RUN("display", display_tests),
	RUN("display-nocap", nocap_tests),
	RUN("none", none_tests),
	RUN("malformed-loop", malformed_tests),
	RUN("malformed-oob", malformed_tests),
	RUN("malformed-truncated", malformed_tests),
};
#undef RUN

int main(void)
{
	return sim_child_main(runs, sizeof(runs) / sizeof(runs[0]));
}
