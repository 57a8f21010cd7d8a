/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef MDEV_VNCD_VFIO_DISPLAY_IRQ_H
#define MDEV_VNCD_VFIO_DISPLAY_IRQ_H

/*
 * The display-event IRQ ABI of the VFIO "device specific IRQ" series, v6
 * (Sept 2019), never merged. Each definition yields to the kernel's header
 * if a later kernel ever defines it. GET_IRQ_INFO on such an IRQ answers
 * with the v6 struct below followed by a capability chain, laid out like
 * vfio_region_info's: cap_offset and each header's next are offsets from
 * the start of the answer, 0 ends the chain.
 */

#include <linux/types.h>
#include <linux/vfio.h>

#ifndef VFIO_IRQ_INFO_FLAG_CAPS
#define VFIO_IRQ_INFO_FLAG_CAPS (1 << 4) /* cap_offset is valid */
#endif

/* struct vfio_irq_info as v6 extends it: cap_offset appended after count. */
struct vfio_irq_info_v6 {
	__u32 argsz;
	__u32 flags;
	__u32 index;
	__u32 count;
	__u32 cap_offset; /* first capability, from the start of this struct; 0 = none */
};

#ifndef VFIO_IRQ_INFO_CAP_TYPE
#define VFIO_IRQ_INFO_CAP_TYPE 1
struct vfio_irq_info_cap_type {
	struct vfio_info_cap_header header;
	__u32 type;    /* VFIO_IRQ_TYPE_* */
	__u32 subtype; /* type specific */
};
#endif

#ifndef VFIO_IRQ_TYPE_GFX
#define VFIO_IRQ_TYPE_GFX 1
#endif
#ifndef VFIO_IRQ_SUBTYPE_GFX_DISPLAY_IRQ
#define VFIO_IRQ_SUBTYPE_GFX_DISPLAY_IRQ 1
#endif

/*
 * Optional: the eventfd's counter value is a mask of the planes that
 * changed; these name the bits (GVT-g used 1 << 56 primary, 1 << 48 cursor).
 */
#ifndef VFIO_IRQ_INFO_CAP_DISPLAY
#define VFIO_IRQ_INFO_CAP_DISPLAY 2
struct vfio_irq_info_cap_display {
	struct vfio_info_cap_header header;
	__u64 cur_event_val;
	__u64 pri_event_val;
};
#endif

/*
 * Device-specific IRQ indexes start here. VFIO_PCI_NUM_IRQS is an enum
 * constant (not testable with #ifdef) and was 4 before Linux 4.1; v6 fixed
 * it at 5, so use this name and check the header agrees.
 */
#define VFIO_IRQ_DEVICE_SPECIFIC_BASE 5
_Static_assert(VFIO_PCI_NUM_IRQS == VFIO_IRQ_DEVICE_SPECIFIC_BASE,
	       "linux/vfio.h disagrees on the first device-specific IRQ index");

#endif
