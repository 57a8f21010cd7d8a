// SPDX-License-Identifier: GPL-2.0-or-later
#include "edid_region.h"

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/vfio.h>

#include "edid.h"
#include "log.h"
#include "vfio_device.h"

/* Far more than any region's capability chain; a larger argsz is the device's error. */
#define REGION_INFO_MAX 4096

struct edid_region {
	int fd;          /* the device's, borrowed */
	uint64_t offset; /* of the region in the device fd */
	uint64_t size;
};

bool edid_region_caps_name_edid(const uint8_t *buf, uint32_t len, uint32_t first)
{
	uint32_t off = first;
	/* Each hop must move forward, so a cycle cannot loop for ever. */
	uint32_t floor = sizeof(struct vfio_region_info);

	while (off) {
		struct vfio_info_cap_header hdr;
		struct vfio_region_info_cap_type cap;

		if (off < floor || off > len || len - off < sizeof(hdr))
			return false;
		memcpy(&hdr, buf + off, sizeof(hdr));
		if (hdr.id == VFIO_REGION_INFO_CAP_TYPE && len - off >= sizeof(cap)) {
			memcpy(&cap, buf + off, sizeof(cap));
			if (cap.type == VFIO_REGION_TYPE_GFX &&
			    cap.subtype == VFIO_REGION_SUBTYPE_GFX_EDID)
				return true;
		}
		floor = off + sizeof(hdr);
		off = hdr.next;
	}
	return false;
}

/*
 * Asked first with the plain struct (mbochs refuses a larger argsz), then,
 * for a region with capabilities, with exactly the argsz the device asked for.
 */
static int region_is_edid(const struct vfio_device *dev, uint32_t index,
			  struct vfio_region_info *info)
{
	int ret = vfio_device_region_info(dev, index, info);

	if (ret < 0 || !(info->flags & VFIO_REGION_INFO_FLAG_CAPS))
		return 0;
	uint32_t len = info->argsz;

	if (len <= sizeof(*info) || len > REGION_INFO_MAX)
		return 0;
	uint8_t *buf = calloc(1, len);

	if (!buf)
		return -ENOMEM;
	struct vfio_region_info *full = (struct vfio_region_info *)buf;

	full->argsz = len;
	full->index = index;
	ret = 0;
	if (ioctl(vfio_device_fd(dev), VFIO_DEVICE_GET_REGION_INFO, full) == 0 &&
	    (full->flags & VFIO_REGION_INFO_FLAG_CAPS) && full->argsz <= len)
		ret = edid_region_caps_name_edid(buf, len, full->cap_offset);
	if (ret)
		*info = *full;
	free(buf);
	return ret;
}

int edid_region_new(const struct vfio_device *dev, struct edid_region **out)
{
	uint32_t n = vfio_device_num_regions(dev);

	for (uint32_t index = 0; index < n; index++) {
		struct vfio_region_info info;
		int ret = region_is_edid(dev, index, &info);

		if (ret < 0)
			return ret;
		if (!ret)
			continue;
		if (info.size < sizeof(struct vfio_region_gfx_edid)) {
			log_warning("EDID region %u is too small (%llu bytes): ignored", index,
				    (unsigned long long)info.size);
			return -ENODEV;
		}
		struct edid_region *region = calloc(1, sizeof(*region));

		if (!region)
			return -ENOMEM;
		region->fd = vfio_device_fd(dev);
		region->offset = info.offset;
		region->size = info.size;
		*out = region;
		return 0;
	}
	return -ENODEV;
}

void edid_region_free(struct edid_region *region)
{
	free(region);
}

static int region_io(const struct edid_region *region, bool write, void *data, size_t len,
		     uint64_t at)
{
	if (at > region->size || region->size - at < len)
		return -ERANGE;
	off_t pos = (off_t)(region->offset + at);
	ssize_t n = write ? pwrite(region->fd, data, len, pos) : pread(region->fd, data, len, pos);

	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EIO;
}

static int write_u32(const struct edid_region *region, size_t field, uint32_t value)
{
	return region_io(region, true, &value, sizeof(value), field);
}

int edid_region_set_mode(struct edid_region *region, uint32_t width, uint32_t height,
			 const char *name, uint32_t *out_width, uint32_t *out_height)
{
	struct vfio_region_gfx_edid regs;
	uint8_t blob[EDID_BLOCK_SIZE];
	int ret = region_io(region, false, &regs, sizeof(regs), 0);

	if (ret < 0)
		return ret;
	if (regs.edid_max_size < sizeof(blob))
		return -ENOSPC;
	uint32_t w = width, h = height;

	ret = edid_build_fitting(blob, &w, &h, regs.max_xres, regs.max_yres, name);
	if (ret < 0)
		return ret;
	/* The guest sees the new blob only across a link down/up, as QEMU does it. */
	ret = write_u32(region, offsetof(struct vfio_region_gfx_edid, link_state),
			VFIO_DEVICE_GFX_LINK_STATE_DOWN);
	if (!ret)
		ret = region_io(region, true, blob, sizeof(blob), regs.edid_offset);
	if (!ret)
		ret = write_u32(region, offsetof(struct vfio_region_gfx_edid, edid_size),
				sizeof(blob));
	if (!ret)
		ret = write_u32(region, offsetof(struct vfio_region_gfx_edid, link_state),
				VFIO_DEVICE_GFX_LINK_STATE_UP);
	if (ret < 0)
		return ret;
	*out_width = w;
	*out_height = h;
	return 0;
}
