/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef MDEV_VNCD_EDID_REGION_H
#define MDEV_VNCD_EDID_REGION_H

#include <stdbool.h>
#include <stdint.h>

struct vfio_device;

/*
 * The vGPU's EDID region (VFIO_REGION_TYPE_GFX / SUBTYPE_GFX_EDID): the
 * host announces a preferred mode to the guest by taking the virtual link
 * down, writing an EDID blob and its size, and bringing the link up. The
 * object borrows the device; free it before the device.
 */
struct edid_region;

/* 0, -ENODEV when the device has no EDID region, or another -errno. */
int edid_region_new(const struct vfio_device *dev, struct edid_region **out);
void edid_region_free(struct edid_region *region);

/*
 * Whether the capability chain of a GET_REGION_INFO answer (info, len
 * bytes as the device wrote them; first = its cap_offset) names the GFX
 * EDID type. Every offset is checked against len and must move forward,
 * so a hostile chain can neither read out of bounds nor loop.
 */
bool edid_region_caps_name_edid(const uint8_t *info, uint32_t len, uint32_t first);

/*
 * Writes an EDID whose preferred mode is width x height, shrunk to fit the
 * region's max_xres/max_yres and what an EDID can describe; *out_width and
 * *out_height get the mode written. 0 or -errno; not thread-safe.
 */
int edid_region_set_mode(struct edid_region *region, uint32_t width, uint32_t height,
			 const char *name, uint32_t *out_width, uint32_t *out_height);

#endif
