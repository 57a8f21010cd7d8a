// SPDX-License-Identifier: GPL-2.0-or-later
/* Self-test of the sim's display-event IRQ (v6 ABI) and EDID region. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cmocka.h>

#include "sim_uapi.h"
#include "test_sim.h"

/* Walks the chain as a careful daemon would: every offset bounds-checked. */
static void check_chain(const uint8_t *buf, uint32_t argsz)
{
	const struct vfio_irq_info_caps *info = (const void *)buf;
	struct vfio_irq_info_cap_type type;
	struct vfio_irq_info_cap_display display;
	uint32_t at = info->cap_offset;

	assert_true(at >= sizeof(*info) && at + sizeof(type) <= argsz);
	memcpy(&type, buf + at, sizeof(type));
	assert_int_equal(type.header.id, VFIO_IRQ_INFO_CAP_TYPE);
	assert_int_equal(type.type, VFIO_IRQ_TYPE_GFX);
	assert_int_equal(type.subtype, VFIO_IRQ_SUBTYPE_GFX_DISPLAY_IRQ);
	at = type.header.next;
	assert_true(at > info->cap_offset && at + sizeof(display) <= argsz);
	memcpy(&display, buf + at, sizeof(display));
	assert_int_equal(display.header.id, VFIO_IRQ_INFO_CAP_DISPLAY);
	assert_int_equal(display.header.next, 0);
	assert_true(display.pri_event_val == SIM_EVENT_PRIMARY);
	assert_true(display.cur_event_val == SIM_EVENT_CURSOR);
}

void test_irq_info(void **state)
{
	union {
		struct vfio_irq_info_caps info;
		uint8_t raw[256];
	} u = { .info = { .argsz = sizeof(u.info), .index = 0 } };
	struct test_dev d;
	uint32_t need;

	test_dev_open(&d, false);
	for (uint32_t i = 0; i < 5; i++) {
		u.info = (struct vfio_irq_info_caps){ .argsz = sizeof(u.info), .index = i };
		assert_int_equal(test_ioctl(d.device, VFIO_DEVICE_GET_IRQ_INFO, &u), 0);
		assert_int_equal(u.info.count, 0);
	}
	u.info = (struct vfio_irq_info_caps){ .argsz = sizeof(u.info), .index = 5 };
	assert_int_equal(test_ioctl(d.device, VFIO_DEVICE_GET_IRQ_INFO, &u), 0);
	assert_true(u.info.flags & VFIO_IRQ_INFO_FLAG_CAPS);
	assert_true(u.info.flags & VFIO_IRQ_INFO_EVENTFD);
	assert_true(u.info.flags & VFIO_IRQ_INFO_MASKABLE);
	assert_int_equal(u.info.count, 1);
	assert_int_equal(u.info.cap_offset, 0);
	need = u.info.argsz;
	assert_true(need > sizeof(u.info) && need <= sizeof(u));
	memset(&u, 0, sizeof(u));
	u.info = (struct vfio_irq_info_caps){ .argsz = need, .index = 5 };
	assert_int_equal(test_ioctl(d.device, VFIO_DEVICE_GET_IRQ_INFO, &u), 0);
	assert_int_equal(u.info.argsz, need);
	check_chain(u.raw, need);
	u.info = (struct vfio_irq_info_caps){ .argsz = sizeof(u.info), .index = 6 };
	assert_int_equal(test_ioctl(d.device, VFIO_DEVICE_GET_IRQ_INFO, &u), -EINVAL);
	test_dev_close(&d);
}

static int set_irq(struct test_dev *d, uint32_t flags, int32_t efd, uint32_t count)
{
	union {
		struct vfio_irq_set set;
		uint8_t raw[sizeof(struct vfio_irq_set) + sizeof(int32_t)];
	} u = { .set = { .argsz = sizeof(u), .flags = flags, .index = 5, .count = count } };

	memcpy(u.set.data, &efd, sizeof(efd));
	return test_ioctl(d->device, VFIO_DEVICE_SET_IRQS, &u);
}

static uint64_t read_event(int efd)
{
	uint64_t v = 0;

	if (read(efd, &v, sizeof(v)) != sizeof(v))
		return 0;
	return v;
}

void test_irq_eventfd(void **state)
{
	const uint32_t trigger = VFIO_IRQ_SET_ACTION_TRIGGER;
	const uint32_t none = VFIO_IRQ_SET_DATA_NONE;
	int efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	struct sim_stats stats;
	struct test_dev d;

	assert_true(efd >= 0);
	test_dev_open(&d, false);
	assert_int_equal(set_irq(&d, trigger | VFIO_IRQ_SET_DATA_EVENTFD, 1, 1), -EINVAL);
	assert_int_equal(set_irq(&d, trigger | VFIO_IRQ_SET_DATA_EVENTFD, efd, 1), 0);
	assert_int_equal(simctl_irq(test_ctl, SIM_EVENT_PRIMARY), 0);
	assert_true(read_event(efd) == SIM_EVENT_PRIMARY);
	assert_int_equal(set_irq(&d, VFIO_IRQ_SET_ACTION_MASK | none, -1, 1), 0);
	assert_int_equal(simctl_irq(test_ctl, SIM_EVENT_PRIMARY), 0);
	assert_int_equal(simctl_irq(test_ctl, SIM_EVENT_CURSOR), 0);
	assert_int_equal(simctl_irq(test_ctl, SIM_EVENT_PRIMARY), 0);
	assert_true(read_event(efd) == 0);
	assert_int_equal(set_irq(&d, VFIO_IRQ_SET_ACTION_UNMASK | none, -1, 1), 0);
	assert_true(read_event(efd) == (SIM_EVENT_PRIMARY | SIM_EVENT_CURSOR));
	assert_int_equal(simctl_stats(test_ctl, &stats), 0);
	assert_int_equal(stats.irq_signals, 2);
	assert_int_equal(set_irq(&d, trigger | none, -1, 0), 0);
	assert_int_equal(simctl_irq(test_ctl, SIM_EVENT_PRIMARY), 0);
	assert_true(read_event(efd) == 0);
	/* The device's release drops the trigger too. */
	assert_int_equal(set_irq(&d, trigger | VFIO_IRQ_SET_DATA_EVENTFD, efd, 1), 0);
	test_dev_close(&d);
	test_dev_open(&d, false);
	assert_int_equal(simctl_irq(test_ctl, SIM_EVENT_PRIMARY), 0);
	assert_true(read_event(efd) == 0);
	test_dev_close(&d);
	close(efd);
}

static void edid_region(struct test_dev *d, struct vfio_region_info *info)
{
	union {
		struct vfio_region_info info;
		uint8_t raw[128];
	} u = { .info = { .argsz = sizeof(u.info), .index = VFIO_PCI_NUM_REGIONS } };
	struct vfio_region_info_cap_type cap;

	assert_int_equal(test_ioctl(d->device, VFIO_DEVICE_GET_REGION_INFO, &u), 0);
	assert_true(u.info.flags & VFIO_REGION_INFO_FLAG_CAPS);
	assert_int_equal(u.info.cap_offset, 0);
	assert_true(u.info.argsz > sizeof(u.info) && u.info.argsz <= sizeof(u));
	assert_int_equal(test_ioctl(d->device, VFIO_DEVICE_GET_REGION_INFO, &u), 0);
	assert_true(u.info.cap_offset >= sizeof(u.info));
	memcpy(&cap, u.raw + u.info.cap_offset, sizeof(cap));
	assert_int_equal(cap.header.id, VFIO_REGION_INFO_CAP_TYPE);
	assert_int_equal(cap.type, VFIO_REGION_TYPE_GFX);
	assert_int_equal(cap.subtype, VFIO_REGION_SUBTYPE_GFX_EDID);
	*info = u.info;
}

static void put32(struct test_dev *d, off_t base, size_t field, uint32_t v)
{
	assert_int_equal(pwrite(d->device, &v, sizeof(v), base + (off_t)field), sizeof(v));
}

void test_edid(void **state)
{
	struct vfio_region_gfx_edid regs;
	struct vfio_region_info info;
	uint8_t blob[128], back[512];
	uint32_t size = 0, link_up = 1;
	struct test_dev d;
	off_t base;

	for (size_t i = 0; i < sizeof(blob); i++)
		blob[i] = (uint8_t)(i * 7 + 1);
	test_dev_open(&d, false);
	edid_region(&d, &info);
	base = (off_t)info.offset;
	assert_int_equal(pread(d.device, &regs, sizeof(regs), base), sizeof(regs));
	assert_int_equal(regs.max_xres, 4096);
	assert_int_equal(regs.max_yres, 2160);
	assert_int_equal(regs.edid_max_size, 512);
	put32(&d, base, offsetof(struct vfio_region_gfx_edid, link_state),
	      VFIO_DEVICE_GFX_LINK_STATE_DOWN);
	assert_int_equal(simctl_edid(test_ctl, back, sizeof(back), &size, &link_up), 0);
	assert_int_equal(link_up, 0);
	assert_int_equal(pwrite(d.device, blob, sizeof(blob), base + regs.edid_offset),
			 sizeof(blob));
	put32(&d, base, offsetof(struct vfio_region_gfx_edid, edid_size), sizeof(blob));
	put32(&d, base, offsetof(struct vfio_region_gfx_edid, link_state),
	      VFIO_DEVICE_GFX_LINK_STATE_UP);
	assert_int_equal(simctl_edid(test_ctl, back, sizeof(back), &size, &link_up), 0);
	assert_int_equal(size, sizeof(blob));
	assert_int_equal(link_up, 1);
	assert_memory_equal(back, blob, sizeof(blob));
	test_dev_close(&d);
}
