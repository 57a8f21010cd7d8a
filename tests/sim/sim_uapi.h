/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VGPU_SIM_UAPI_H
#define VGPU_SIM_UAPI_H

/*
 * Kernel ABI the sim implements but Debian 12's headers lack: the iommufd
 * cdev path (mainline include/uapi/linux/vfio.h, iommufd.h) and the
 * never-merged v6 display-event IRQ capability chain.
 *
 * Written here on purpose rather than shared with the daemon's copies
 * (src/vfio_device.c, include/vfio_display_irq.h): the simulator stands in
 * for the kernel, and a second, independent reading of the ABI is what lets
 * the tests catch a mistake in the daemon's.
 */
#include <linux/types.h>
#include <linux/ioctl.h>
#include <linux/vfio.h>

#ifndef VFIO_DEVICE_BIND_IOMMUFD
struct vfio_device_bind_iommufd {
	__u32 argsz;
	__u32 flags;
	__s32 iommufd;
	__u32 out_devid;
};
#define VFIO_DEVICE_BIND_IOMMUFD _IO(VFIO_TYPE, VFIO_BASE + 18)
#endif

#ifndef VFIO_DEVICE_ATTACH_IOMMUFD_PT
struct vfio_device_attach_iommufd_pt {
	__u32 argsz;
	__u32 flags;
	__u32 pt_id;
};
#define VFIO_DEVICE_ATTACH_IOMMUFD_PT _IO(VFIO_TYPE, VFIO_BASE + 19)
#endif

#ifndef VFIO_DEVICE_DETACH_IOMMUFD_PT
struct vfio_device_detach_iommufd_pt {
	__u32 argsz;
	__u32 flags;
};
#define VFIO_DEVICE_DETACH_IOMMUFD_PT _IO(VFIO_TYPE, VFIO_BASE + 20)
#endif

#ifndef IOMMU_IOAS_ALLOC
#define IOMMUFD_TYPE (';')
#define IOMMUFD_CMD_IOAS_ALLOC 0x81
struct iommu_ioas_alloc {
	__u32 size;
	__u32 flags;
	__u32 out_ioas_id;
};
#define IOMMU_IOAS_ALLOC _IO(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_ALLOC)
#endif

/* v6 display-event IRQ: cap_offset follows count in struct vfio_irq_info. */
#ifndef VFIO_IRQ_INFO_FLAG_CAPS
#define VFIO_IRQ_INFO_FLAG_CAPS (1 << 4)
#define VFIO_IRQ_INFO_CAP_TYPE 1
#define VFIO_IRQ_INFO_CAP_DISPLAY 2
#define VFIO_IRQ_TYPE_GFX 1
#define VFIO_IRQ_SUBTYPE_GFX_DISPLAY_IRQ 1
struct vfio_irq_info_caps {
	__u32 argsz;
	__u32 flags;
	__u32 index;
	__u32 count;
	__u32 cap_offset;
};
struct vfio_irq_info_cap_type {
	struct vfio_info_cap_header header;
	__u32 type;
	__u32 subtype;
};
struct vfio_irq_info_cap_display {
	struct vfio_info_cap_header header;
	__u64 cur_event_val;
	__u64 pri_event_val;
};
#endif

#define SIM_IRQ_DISPLAY_INDEX 5
#define SIM_EVENT_PRIMARY (1ULL << 56)
#define SIM_EVENT_CURSOR (1ULL << 48)

/* mdpy's framebuffer region index (samples/vfio-mdev/mdpy.c). */
#define SIM_REGION_FB_INDEX 16

#endif
