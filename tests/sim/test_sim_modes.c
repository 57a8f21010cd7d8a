// SPDX-License-Identifier: GPL-2.0-or-later
/* Self-test of the sim's other configurations: region planes and IRQ chain variants. */
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

void test_region_mode(void **state)
{
	struct vfio_device_gfx_plane_info q = { .argsz = sizeof(q) };
	struct vfio_region_info info = { .argsz = sizeof(info), .index = SIM_REGION_FB_INDEX };
	struct sim_plane_desc cursor = { .fourcc = DRM_FORMAT_ARGB8888, .width = 64,
					 .height = 64, .stride = 256, .size = 16384 };
	static const uint32_t px[2] = { 0xff00ff00, 0xff0000ff };
	struct test_dev d;
	uint32_t *fb, id = 1;

	test_dev_open(&d, false);
	q.flags = VFIO_GFX_PLANE_TYPE_PROBE | VFIO_GFX_PLANE_TYPE_REGION;
	assert_int_equal(test_ioctl(d.device, VFIO_DEVICE_QUERY_GFX_PLANE, &q), 0);
	q.flags = VFIO_GFX_PLANE_TYPE_PROBE | VFIO_GFX_PLANE_TYPE_DMABUF;
	assert_int_equal(test_ioctl(d.device, VFIO_DEVICE_QUERY_GFX_PLANE, &q), -EINVAL);
	assert_int_equal(simctl_set_plane(test_ctl, 2, &cursor), -EOPNOTSUPP);
	assert_int_equal(simctl_set_plane(test_ctl, 1,
					  &(struct sim_plane_desc){ .fourcc = DRM_FORMAT_XRGB8888,
								    .width = 640, .height = 480,
								    .stride = 2560,
								    .size = 640 * 480 * 4 }),
			 0);
	q = (struct vfio_device_gfx_plane_info){ .argsz = sizeof(q), .drm_plane_type = 1,
						 .flags = VFIO_GFX_PLANE_TYPE_REGION };
	assert_int_equal(test_ioctl(d.device, VFIO_DEVICE_QUERY_GFX_PLANE, &q), -ENOMEM);
	assert_int_equal(test_ioctl(d.device, VFIO_DEVICE_QUERY_GFX_PLANE, &q), 0);
	assert_int_equal(q.region_index, SIM_REGION_FB_INDEX);
	assert_int_equal(q.width, 640);
	assert_int_equal(test_ioctl(d.device, VFIO_DEVICE_GET_REGION_INFO, &info), 0);
	assert_true(info.flags & VFIO_REGION_INFO_FLAG_MMAP);
	assert_true(info.size >= 640 * 480 * 4);
	fb = mmap(NULL, info.size, PROT_READ, MAP_SHARED, d.device, (off_t)info.offset);
	assert_true(fb != MAP_FAILED);
	assert_int_equal(fb[10], 0);
	assert_int_equal(simctl_write(test_ctl, 1, 40, px, sizeof(px)), 0);
	assert_int_equal(fb[10], px[0]);
	assert_int_equal(simctl_flip(test_ctl, 1, px + 1, sizeof(uint32_t)), 0);
	assert_int_equal(fb[0], px[1]);
	munmap(fb, info.size);
	assert_int_equal(test_ioctl(d.device, VFIO_DEVICE_GET_GFX_DMABUF, &id), -ENOTTY);
	test_dev_close(&d);
}

/* Fetches index 5's info with the argsz the sim asks for; returns that argsz. */
static uint32_t irq_info(struct test_dev *d, uint8_t *buf, size_t cap)
{
	struct vfio_irq_info_caps *info = (void *)buf;

	memset(buf, 0, cap);
	*info = (struct vfio_irq_info_caps){ .argsz = sizeof(*info), .index = 5 };
	assert_int_equal(test_ioctl(d->device, VFIO_DEVICE_GET_IRQ_INFO, info), 0);
	assert_true(info->argsz <= cap);
	*info = (struct vfio_irq_info_caps){ .argsz = info->argsz, .index = 5 };
	assert_int_equal(test_ioctl(d->device, VFIO_DEVICE_GET_IRQ_INFO, info), 0);
	return info->argsz;
}

static struct vfio_info_cap_header header_at(const uint8_t *buf, uint32_t at)
{
	struct vfio_info_cap_header h;

	memcpy(&h, buf + at, sizeof(h));
	return h;
}

/* Each VGPU_SIM_IRQ variant breaks (or trims) the chain in its own way. */
void test_irq_variant(void **state)
{
	const char *mode = getenv("VGPU_SIM_IRQ");
	struct vfio_device_info dev = { .argsz = sizeof(dev) };
	uint8_t buf[256];
	struct vfio_info_cap_header type;
	uint32_t argsz, first;
	struct test_dev d;

	assert_non_null(mode);
	test_dev_open(&d, false);
	assert_int_equal(test_ioctl(d.device, VFIO_DEVICE_GET_INFO, &dev), 0);
	if (strcmp(mode, "none") == 0) {
		assert_int_equal(dev.num_irqs, 5);
		assert_int_equal(dev.num_regions, getenv("VGPU_SIM_NO_EDID") ? 9 : 10);
		test_dev_close(&d);
		return;
	}
	assert_int_equal(dev.num_irqs, 6);
	argsz = irq_info(&d, buf, sizeof(buf));
	first = ((struct vfio_irq_info_caps *)buf)->cap_offset;
	assert_true(first && first + sizeof(type) <= argsz);
	type = header_at(buf, first);
	assert_int_equal(type.id, VFIO_IRQ_INFO_CAP_TYPE);
	if (strcmp(mode, "display-nocap") == 0) {
		assert_int_equal(type.next, 0);
	} else if (strcmp(mode, "malformed-loop") == 0) {
		assert_true(type.next + sizeof(type) <= argsz);
		assert_int_equal(header_at(buf, type.next).next, first);
	} else if (strcmp(mode, "malformed-oob") == 0) {
		assert_true(type.next >= argsz);
	} else if (strcmp(mode, "malformed-truncated") == 0) {
		assert_true(type.next + sizeof(struct vfio_irq_info_cap_display) > argsz);
		assert_true(type.next + sizeof(type) <= argsz);
	} else {
		fail_msg("unknown VGPU_SIM_IRQ=%s", mode);
	}
	test_dev_close(&d);
}
