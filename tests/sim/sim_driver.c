// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Driver personalities (VGPU_SIM_DRIVER=gvt|mbochs|generic): what each real
 * driver answers, read from its source (Linux 6.1), and the rules whose
 * breaking crashes or corrupts the real kernel. A broken rule is said on
 * stderr and counted (rules_broken in the report): the tests fail on it.
 */
#include <errno.h>
#include <libdrm/drm_fourcc.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "sim_internal.h"
#include "sim_uapi.h"

const char *const sim_driver_names[SIM_DRIVER_COUNT] = {
	[SIM_DRIVER_GENERIC] = "generic",
	[SIM_DRIVER_GVT] = "gvt",
	[SIM_DRIVER_MBOCHS] = "mbochs",
};

void sim_rule_broken(const char *fmt, ...)
{
	va_list ap;

	sim.stats.rules_broken++;
	fprintf(stderr, "vgpu-sim: RULE BROKEN (%s): ", sim_driver_names[sim.cfg.driver]);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/*
 * PCI config space as each driver presents it. GVT copies the host iGPU's
 * config (gvt/cfg_space.c intel_vgpu_init_cfg_space: gvt->firmware.cfg_space),
 * so the vendor is Intel and the device that of the host: a Coffee Lake GT2
 * here. mbochs writes QEMU's stdvga ids (samples/vfio-mdev/mbochs.c
 * mbochs_create_config_space: 1234:1111, subsystem 1af4:1100). The generic
 * device carries ids no real driver presents: the daemon's unknown device.
 */
void sim_driver_pci_ids(uint16_t ids[4])
{
	static const uint16_t table[SIM_DRIVER_COUNT][4] = {
		[SIM_DRIVER_GENERIC] = { 0x1234, 0x5157, 0x1af4, 0x1100 },
		[SIM_DRIVER_GVT] = { 0x8086, 0x3e92, 0x8086, 0x2212 },
		[SIM_DRIVER_MBOCHS] = { 0x1234, 0x1111, 0x1af4, 0x1100 },
	};

	memcpy(ids, table[sim.cfg.driver], sizeof(table[0]));
}

/* Stock GVT refuses CPU mmap (i915_gem_dmabuf_mmap: no shmem file), stock mbochs too. */
int sim_driver_mmap_errno(void)
{
	if (sim.cfg.mmap_allow)
		return 0;
	return sim.cfg.driver == SIM_DRIVER_GVT	   ? ENODEV :
	       sim.cfg.driver == SIM_DRIVER_MBOCHS ? EINVAL :
						     0;
}

/*
 * The primary formats fb_decoder.c decodes (bdw_format_to_drm,
 * skl_format_to_drm) and the tilings vgpu_get_plane_info maps to modifiers.
 */
static bool gvt_primary_ok(const struct sim_plane_desc *d)
{
	static const uint32_t formats[] = {
		DRM_FORMAT_C8,		DRM_FORMAT_RGB565,	DRM_FORMAT_XRGB8888,
		DRM_FORMAT_XBGR8888,	DRM_FORMAT_ARGB8888,	DRM_FORMAT_ABGR8888,
		DRM_FORMAT_XRGB2101010, DRM_FORMAT_XBGR2101010, DRM_FORMAT_YUYV,
		DRM_FORMAT_UYVY,	DRM_FORMAT_YVYU,	DRM_FORMAT_VYUY,
	};
	bool known = false;

	for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++)
		known |= formats[i] == d->fourcc;
	return known && (d->modifier == DRM_FORMAT_MOD_LINEAR ||
			 d->modifier == I915_FORMAT_MOD_X_TILED ||
			 d->modifier == I915_FORMAT_MOD_Y_TILED ||
			 d->modifier == I915_FORMAT_MOD_Yf_TILED);
}

/* fb_decoder.c cursor_pixel_formats: ARGB8888 64, 128 or 256 square, linear. */
static bool gvt_cursor_ok(const struct sim_plane_desc *d)
{
	return d->fourcc == DRM_FORMAT_ARGB8888 && d->modifier == 0 && d->width == d->height &&
	       (d->width == 64 || d->width == 128 || d->width == 256);
}

bool sim_gvt_plane_ok(int plane, const struct sim_plane_desc *d)
{
	return plane == DRM_PLANE_TYPE_CURSOR_SIM ? gvt_cursor_ok(d) : gvt_primary_ok(d);
}

/*
 * mbochs_check_framebuffer: only bpp 32 (XRGB8888, linear) and at least
 * 64x64; anything else is "no framebuffer", a success with all zeros.
 */
bool sim_mbochs_mode_ok(const struct sim_plane_desc *d)
{
	return d->fourcc == DRM_FORMAT_XRGB8888 && d->modifier == 0 && d->width >= 64 && d->height >= 64;
}

/*
 * Probe answers. gvt/dmabuf.c intel_vgpu_query_plane and mbochs.c
 * mbochs_query_gfx_plane accept PROBE|DMABUF only; a real query must carry
 * exactly DMABUF.
 */
long sim_driver_check_flags(uint32_t flags, uint32_t mode)
{
	if (flags & VFIO_GFX_PLANE_TYPE_PROBE) {
		sim.stats.query_probe++;
		return flags == (VFIO_GFX_PLANE_TYPE_PROBE | mode) ? 0 : -EINVAL;
	}
	return flags == mode ? 1 : -EINVAL;
}
