// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Self-test of the driver personalities (sim_driver.c): each answers as the
 * real driver's source says, and breaking a rule is counted.
 */
#include <errno.h>
#include <libdrm/drm_fourcc.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "sim_uapi.h"
#include "test_sim.h"

#define PRIMARY 1
#define CURSOR 2

static void expect_pci_ids(struct test_dev *d, uint16_t vendor, uint16_t device)
{
	struct vfio_region_info config = { .argsz = sizeof(config),
					   .index = VFIO_PCI_CONFIG_REGION_INDEX };
	uint16_t ids[2];

	assert_int_equal(test_ioctl(d->device, VFIO_DEVICE_GET_REGION_INFO, &config), 0);
	assert_true(config.flags & VFIO_REGION_INFO_FLAG_READ);
	assert_int_equal(pread(d->device, ids, sizeof(ids), (off_t)config.offset), sizeof(ids));
	assert_int_equal(ids[0], vendor);
	assert_int_equal(ids[1], device);
}

static void expect_probes_dmabuf_only(struct test_dev *d)
{
	struct vfio_device_gfx_plane_info info = { .argsz = sizeof(info) };

	info.flags = VFIO_GFX_PLANE_TYPE_PROBE | VFIO_GFX_PLANE_TYPE_DMABUF;
	assert_int_equal(test_ioctl(d->device, VFIO_DEVICE_QUERY_GFX_PLANE, &info), 0);
	info.flags = VFIO_GFX_PLANE_TYPE_PROBE | VFIO_GFX_PLANE_TYPE_REGION;
	assert_int_equal(test_ioctl(d->device, VFIO_DEVICE_QUERY_GFX_PLANE, &info), -EINVAL);
}

static void set_plane(int plane, uint32_t fourcc, uint32_t w, uint32_t h)
{
	const uint32_t cpp = fourcc == DRM_FORMAT_NV12 ? 1 : 4;
	struct sim_plane_desc desc = { .fourcc = fourcc, .width = w, .height = h,
				       .stride = w * cpp, .size = w * h * cpp };

	assert_int_equal(simctl_set_plane(test_ctl, plane, &desc), 0);
}

static uint32_t rules_broken(void)
{
	struct sim_stats s;

	assert_int_equal(simctl_stats(test_ctl, &s), 0);
	return s.rules_broken;
}

/* A query after a mode set: the transient error first, then the id. */
static uint32_t id_after_mode_set(struct test_dev *d, int transient)
{
	struct vfio_device_gfx_plane_info info;

	assert_int_equal(test_dev_query(d, PRIMARY, &info), transient);
	assert_int_equal(test_dev_query(d, PRIMARY, &info), 0);
	return info.dmabuf_id;
}

static void expect_mmap_refused(int fd, int err)
{
	errno = 0;
	assert_true(mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0) == MAP_FAILED);
	assert_int_equal(errno, err);
}

/* GVT-g: the caller's struct comes back untouched for a disabled plane. */
static void gvt_echo(struct test_dev *d)
{
	struct vfio_device_gfx_plane_info info, sent;
	const size_t in = offsetof(struct vfio_device_gfx_plane_info, drm_format);

	memset(&sent, 0xa5, sizeof(sent));
	sent.argsz = sizeof(sent);
	sent.flags = VFIO_GFX_PLANE_TYPE_DMABUF;
	sent.drm_plane_type = PRIMARY;
	info = sent;
	assert_int_equal(test_ioctl(d->device, VFIO_DEVICE_QUERY_GFX_PLANE, &info), 0);
	assert_memory_equal((char *)&info + in, (char *)&sent + in, sizeof(info) - in);
}

void test_gvt_personality(void **state)
{
	struct vfio_device_gfx_plane_info info;
	uint32_t broken = rules_broken(), a, b;
	struct test_dev d;
	int f1, f2;

	test_dev_open(&d, false);
	expect_pci_ids(&d, 0x8086, 0x3e92);
	expect_probes_dmabuf_only(&d);
	set_plane(PRIMARY, 0, 0, 0);
	gvt_echo(&d);

	/* Mid mode set the surface is briefly out of range: EFAULT, then the id (lowest free). */
	set_plane(PRIMARY, DRM_FORMAT_XRGB8888, 64, 64);
	a = id_after_mode_set(&d, -EFAULT);
	assert_int_equal(a, 1);
	/* Two GETs of one id: two independent fds, both legal. */
	f1 = test_dev_get_dmabuf(&d, a);
	f2 = test_dev_get_dmabuf(&d, a);
	assert_true(f1 >= 0 && f2 >= 0 && f1 != f2);
	expect_mmap_refused(f1, ENODEV);
	assert_int_equal(close(f1), 0);
	assert_int_equal(rules_broken(), broken);

	/* A new framebuffer: the next free id. Fetching the old one now breaks the rule. */
	set_plane(PRIMARY, DRM_FORMAT_XRGB8888, 64, 64);
	b = id_after_mode_set(&d, -EFAULT);
	assert_int_equal(b, 2);
	f1 = test_dev_get_dmabuf(&d, a);
	assert_true(f1 >= 0);
	assert_int_equal(rules_broken(), broken + 1);
	/* The last fds of id 1 close: it is freed, a GET of it is EINVAL, and it is reused. */
	assert_int_equal(close(f1), 0);
	assert_int_equal(close(f2), 0);
	assert_int_equal(test_dev_get_dmabuf(&d, a), -EINVAL);
	set_plane(PRIMARY, DRM_FORMAT_XRGB8888, 128, 64);
	assert_int_equal(id_after_mode_set(&d, -EFAULT), a);

	/* What the decoder cannot decode is EINVAL, plane and cursor alike. */
	set_plane(PRIMARY, DRM_FORMAT_NV12, 64, 64);
	assert_int_equal(test_dev_query(&d, PRIMARY, &info), -EINVAL);
	set_plane(CURSOR, DRM_FORMAT_ARGB8888, 32, 32);
	assert_int_equal(test_dev_query(&d, CURSOR, &info), -EINVAL);
	set_plane(CURSOR, DRM_FORMAT_ARGB8888, 64, 64);
	assert_int_equal(test_dev_query(&d, CURSOR, &info), 0);
	assert_int_equal(info.width, 64);
	test_dev_close(&d);
}

void test_mbochs_personality(void **state)
{
	struct vfio_device_gfx_plane_info info, zero = { 0 };
	const size_t out = offsetof(struct vfio_device_gfx_plane_info, drm_format);
	uint32_t broken = rules_broken(), a, b;
	struct test_dev d;
	int f1, f2;

	test_dev_open(&d, false);
	expect_pci_ids(&d, 0x1234, 0x1111);
	expect_probes_dmabuf_only(&d);
	/* No cursor plane, and no scan-out but XRGB8888: success with every field zero. */
	set_plane(CURSOR, DRM_FORMAT_ARGB8888, 64, 64);
	assert_int_equal(test_dev_query(&d, CURSOR, &info), 0);
	assert_memory_equal((char *)&info + out, (char *)&zero + out, sizeof(info) - out);
	set_plane(PRIMARY, DRM_FORMAT_ARGB8888, 64, 64);
	assert_int_equal(test_dev_query(&d, PRIMARY, &info), 0);
	assert_memory_equal((char *)&info + out, (char *)&zero + out, sizeof(info) - out);

	/* A new mode: ENOMEM once, then its id; the old mode comes back with its old id. */
	set_plane(PRIMARY, DRM_FORMAT_XRGB8888, 64, 64);
	a = id_after_mode_set(&d, -ENOMEM);
	set_plane(PRIMARY, DRM_FORMAT_XRGB8888, 80, 64);
	b = id_after_mode_set(&d, -ENOMEM);
	assert_int_equal(b, a + 1);
	set_plane(PRIMARY, DRM_FORMAT_XRGB8888, 64, 64);
	assert_int_equal(id_after_mode_set(&d, 0), a);

	f1 = test_dev_get_dmabuf(&d, a);
	assert_true(f1 >= 0);
	expect_mmap_refused(f1, EINVAL);
	assert_int_equal(rules_broken(), broken);
	f2 = test_dev_get_dmabuf(&d, a);
	assert_int_equal(rules_broken(), broken + 1);
	assert_int_equal(close(f1), 0);
	assert_int_equal(close(f2), 0);
	f1 = test_dev_get_dmabuf(&d, a);
	assert_int_equal(rules_broken(), broken + 2);
	assert_int_equal(close(f1), 0);
	test_dev_close(&d);

	/* Closing the device drops every dmabuf; ids keep counting up. */
	test_dev_open(&d, false);
	assert_int_equal(id_after_mode_set(&d, -ENOMEM), b + 1);
	test_dev_close(&d);
}
