// SPDX-License-Identifier: GPL-2.0-or-later
/* Self-test of the sim's device loss: the request IRQ of a removal, and a device gone. */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cmocka.h>

#include "sim_uapi.h"
#include "test_sim.h"

#define SYSFS_NODE "/sys/bus/mdev/devices/4b20d080-1b54-4048-85b3-a6a62d165c01"

static int set_request_eventfd(int device, int32_t efd)
{
	union {
		struct vfio_irq_set set;
		uint8_t raw[sizeof(struct vfio_irq_set) + sizeof(int32_t)];
	} u = { .set = { .argsz = sizeof(u), .index = VFIO_PCI_REQ_IRQ_INDEX, .count = 1,
			 .flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER } };
	memcpy(u.set.data, &efd, sizeof(efd));
	return test_ioctl(device, VFIO_DEVICE_SET_IRQS, &u);
}

static int device_info(struct test_dev *d)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };
	return test_ioctl(d->device, VFIO_DEVICE_GET_INFO, &info);
}

/*
 * A removal, as vfio_unregister_group_dev: the request eventfd is signalled,
 * the sysfs node is gone, and the open device works until it is closed.
 */
void test_removal_request(void **state)
{
	struct vfio_irq_info info = { .argsz = sizeof(info), .index = VFIO_PCI_REQ_IRQ_INDEX };
	struct test_dev d;
	uint64_t count = 0;

	test_dev_open(&d, false);
	assert_int_equal(test_ioctl(d.device, VFIO_DEVICE_GET_IRQ_INFO, &info), 0);
	assert_int_equal(info.count, 1);
	assert_true(info.flags & VFIO_IRQ_INFO_EVENTFD);
	/* Nobody listens yet: the sim says so. */
	assert_int_equal(simctl_fault(test_ctl, SIM_FAULT_DEVICE_REQUEST, 0), -ENOENT);
	assert_int_equal(simctl_fault(test_ctl, SIM_FAULT_DEVICE_GONE, 0), 0);

	int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	assert_true(efd >= 0);
	assert_int_equal(set_request_eventfd(d.device, efd), 0);
	assert_int_equal(set_request_eventfd(d.device, 0), -EINVAL); /* not an eventfd */
	assert_int_equal(simctl_fault(test_ctl, SIM_FAULT_DEVICE_REQUEST, 0), 0);
	assert_int_equal(read(efd, &count, sizeof(count)), sizeof(count));
	assert_int_equal(count, 1);
	assert_int_equal(access(SYSFS_NODE, F_OK), -1);
	assert_int_equal(device_info(&d), 0);
	test_dev_close(&d);

	assert_int_equal(simctl_fault(test_ctl, SIM_FAULT_DEVICE_GONE, 0), 0);
	assert_int_equal(access(SYSFS_NODE, F_OK), 0);
	test_dev_open(&d, false);
	/* The closed device took its request eventfd with it. */
	assert_int_equal(simctl_fault(test_ctl, SIM_FAULT_DEVICE_REQUEST, 0), -ENOENT);
	assert_int_equal(simctl_fault(test_ctl, SIM_FAULT_DEVICE_GONE, 0), 0);
	test_dev_close(&d);
	close(efd);
}

/*
 * A device gone under its open fds: every ioctl fails, no new open, the fd
 * hangs up when asked, then it is back.
 */
void test_device_gone(void **state)
{
	struct vfio_device_gfx_plane_info plane;
	struct test_dev d;

	test_dev_open(&d, false);
	assert_int_equal(simctl_fault(test_ctl, SIM_FAULT_DEVICE_GONE, EINVAL), -EINVAL);
	assert_int_equal(simctl_fault(test_ctl, SIM_FAULT_DEVICE_GONE, EIO), 0);
	assert_int_equal(device_info(&d), -EIO);
	assert_int_equal(test_dev_query(&d, 1, &plane), -EIO);
	assert_int_equal(access(SYSFS_NODE, F_OK), -1);
	assert_int_equal(simctl_fault(test_ctl, SIM_FAULT_DEVICE_GONE, ENODEV), 0);
	assert_int_equal(device_info(&d), -ENODEV);
	struct pollfd pfd = { .fd = d.device };
	assert_int_equal(poll(&pfd, 1, 0), 0);
	assert_int_equal(simctl_fault(test_ctl, SIM_FAULT_DEVICE_HANGUP, EIO), 0);
	assert_int_equal(poll(&pfd, 1, 0), 1);
	assert_true(pfd.revents & POLLHUP);
	assert_int_equal(device_info(&d), -EIO);
	assert_int_equal(simctl_fault(test_ctl, SIM_FAULT_DEVICE_GONE, 0), 0);
	pfd.revents = 0;
	assert_int_equal(poll(&pfd, 1, 0), 0);
	assert_int_equal(device_info(&d), 0);
	assert_int_equal(test_dev_query(&d, 1, &plane), 0);
	test_dev_close(&d);
}
