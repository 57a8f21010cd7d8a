/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VGPU_TEST_SIM_H
#define VGPU_TEST_SIM_H

/* Shared by the sim's self-test files: a device opened the way a daemon would. */
#include <stdbool.h>
#include <stdint.h>

#include "simctl.h"

struct test_dev {
	int container, group, iommufd, device;
};

extern struct simctl *test_ctl;

/* Opens the device over the group path (or the cdev path); asserts on failure. */
void test_dev_open(struct test_dev *d, bool cdev);
void test_dev_close(struct test_dev *d);
/* ioctl's result: 0 or -errno. */
int test_ioctl(int fd, unsigned long req, void *arg);
struct vfio_device_gfx_plane_info;
/* A zeroed dmabuf query of plane (1 primary, 2 cursor): 0 or -errno. */
int test_dev_query(struct test_dev *d, uint32_t plane, struct vfio_device_gfx_plane_info *info);
/* GET_GFX_DMABUF: the fd or -errno. */
int test_dev_get_dmabuf(struct test_dev *d, uint32_t id);
/* A primary plane of w x h XRGB8888; the ENOMEM quirk is consumed. */
void test_set_primary(struct test_dev *d, uint32_t w, uint32_t h);

void test_irq_info(void **state);
void test_irq_eventfd(void **state);
void test_edid(void **state);
void test_region_mode(void **state);
void test_irq_variant(void **state);
void test_gvt_personality(void **state);
void test_mbochs_personality(void **state);
void test_removal_request(void **state);
void test_device_gone(void **state);

#endif
