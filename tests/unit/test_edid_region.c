// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * edid_region against the simulated vGPU: finding the region through its
 * capability chain (also a hostile chain, played between the module and the
 * sim), clamping, and what the sim recorded: blob, size and link state. The
 * sim has the region or not from the start, so each case runs in its own child.
 */
#include <dlfcn.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include <cmocka.h>
#include <linux/vfio.h>

#include "edid.h"
#include "edid_region.h"
#include "sim_child.h"
#include "simctl.h"
#include "vfio_device.h"

#define SIM_UUID "4b20d080-1b54-4048-85b3-a6a62d165c01"

/* How the capability chain is spoiled on its way back from the sim. */
static enum { CHAIN_AS_IS, CHAIN_LOOP, CHAIN_PAST_END, CHAIN_BELOW_HEADER } chain;

int ioctl(int fd, unsigned long req, ...)
{
	static int (*next)(int, unsigned long, ...);
	struct vfio_region_info *info;
	va_list ap;
	void *arg;
	int ret;

	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (!next)
		next = (int (*)(int, unsigned long, ...))dlsym(RTLD_NEXT, "ioctl");
	ret = next(fd, req, arg);
	info = arg;
	if (ret < 0 || req != VFIO_DEVICE_GET_REGION_INFO || !info->cap_offset)
		return ret;
	struct vfio_info_cap_header *hdr = (void *)((char *)info + info->cap_offset);

	if (chain == CHAIN_LOOP) {
		hdr->id = 0x7777; /* not the type capability: the walk must go on, and stop */
		hdr->next = info->cap_offset;
	} else if (chain == CHAIN_PAST_END) {
		info->cap_offset = info->argsz - 2;
	} else if (chain == CHAIN_BELOW_HEADER) {
		info->cap_offset = 4;
	}
	return ret;
}

struct fixture {
	struct vfio_device *dev;
	struct simctl *ctl;
	struct edid_region *region;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	const char *why = NULL;

	chain = CHAIN_AS_IS;
	if (!f)
		return -1;
	*state = f;
	if (vfio_device_open_uuid(SIM_UUID, &f->dev, &why) < 0) {
		fprintf(stderr, "cannot open the sim device: %s\n", why);
		return -1;
	}
	f->ctl = simctl_connect(getenv("VGPU_SIM_CONTROL"), 2000);
	return f->ctl ? 0 : -1;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	edid_region_free(f->region);
	simctl_free(f->ctl);
	vfio_device_free(f->dev);
	free(f);
	return 0;
}

/* What the sim holds now: the preferred mode of the blob, its size and the link. */
static void recorded(struct fixture *f, uint32_t *w, uint32_t *h, uint32_t *size, uint32_t *up)
{
	static const uint8_t header[8] = { 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0 };
	uint8_t blob[512];
	uint8_t sum = 0;

	assert_int_equal(simctl_edid(f->ctl, blob, sizeof(blob), size, up), 0);
	*w = *h = 0;
	if (*size < EDID_BLOCK_SIZE)
		return;
	assert_memory_equal(blob, header, sizeof(header));
	for (int i = 0; i < EDID_BLOCK_SIZE; i++)
		sum += blob[i];
	assert_int_equal(sum, 0);
	/* Detailed timing descriptor 1, at 54: hactive and vactive, 12 bits each. */
	*w = blob[56] | (uint32_t)(blob[58] & 0xf0) << 4;
	*h = blob[59] | (uint32_t)(blob[61] & 0xf0) << 4;
}

static void set_and_check(struct fixture *f, uint32_t w, uint32_t h, uint32_t want_w,
			  uint32_t want_h)
{
	uint32_t out_w = 0, out_h = 0, rec_w, rec_h, size, up;

	assert_int_equal(edid_region_set_mode(f->region, w, h, "test", &out_w, &out_h), 0);
	assert_int_equal(out_w, want_w);
	assert_int_equal(out_h, want_h);
	recorded(f, &rec_w, &rec_h, &size, &up);
	assert_int_equal(size, EDID_BLOCK_SIZE);
	assert_int_equal(up, 1);
	assert_int_equal(rec_w, want_w);
	assert_int_equal(rec_h, want_h);
}

static void test_writes_preferred_mode(void **state)
{
	struct fixture *f = *state;
	uint32_t w, h, size, up;

	recorded(f, &w, &h, &size, &up);
	assert_int_equal(size, 0); /* nothing before the first write */
	assert_int_equal(edid_region_new(f->dev, &f->region), 0);
	set_and_check(f, 1280, 800, 1280, 800);
	set_and_check(f, 1920, 1080, 1920, 1080);
}

/* The sim offers at most 4096x2160; the descriptor ends at 4095; tiny sizes grow. */
static void test_clamps(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(edid_region_new(f->dev, &f->region), 0);
	set_and_check(f, 8000, 5000, EDID_MAX_SIDE, 2160);
	set_and_check(f, 3000, 2500, 3000, 2160);
	set_and_check(f, 10, 20, EDID_MIN_SIDE, EDID_MIN_SIDE);
}

static void expect_no_region(struct fixture *f)
{
	uint32_t w, h, size, up;

	assert_int_equal(edid_region_new(f->dev, &f->region), -ENODEV);
	assert_null(f->region);
	recorded(f, &w, &h, &size, &up);
	assert_int_equal(size, 0);
}

static void test_hostile_chains(void **state)
{
	struct fixture *f = *state;

	chain = CHAIN_LOOP;
	expect_no_region(f);
	chain = CHAIN_PAST_END;
	expect_no_region(f);
	chain = CHAIN_BELOW_HEADER;
	expect_no_region(f);
}

static void test_no_region(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(edid_region_new(f->dev, &f->region), -ENODEV);
	assert_null(f->region);
}

static const struct CMUnitTest edid_tests[] = {
	cmocka_unit_test_setup_teardown(test_writes_preferred_mode, setup, teardown),
	cmocka_unit_test_setup_teardown(test_clamps, setup, teardown),
};

/* Its own process: the sim must not hold an EDID from an earlier test. */
static const struct CMUnitTest hostile_tests[] = {
	cmocka_unit_test_setup_teardown(test_hostile_chains, setup, teardown),
};

static const struct CMUnitTest no_edid_tests[] = {
	cmocka_unit_test_setup_teardown(test_no_region, setup, teardown),
};

static const char *const no_edid_env[] = { "VGPU_SIM_NO_EDID=1", NULL };

static const struct sim_child_run runs[] = {
	{ "edid", NULL, SIM_CHILD_TESTS(edid_tests) },
	{ "hostile", NULL, SIM_CHILD_TESTS(hostile_tests) },
	{ "no_edid", no_edid_env, SIM_CHILD_TESTS(no_edid_tests) },
};

int main(void)
{
	return sim_child_main(runs, sizeof(runs) / sizeof(runs[0]));
}
