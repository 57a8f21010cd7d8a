/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef MDEV_VNCD_IRQ_CAPS_H
#define MDEV_VNCD_IRQ_CAPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Parser for the capability chain of a VFIO_DEVICE_GET_IRQ_INFO answer
 * (include/vfio_display_irq.h). Pure: no I/O, no allocation; every offset
 * comes from the device and is bounds-checked.
 */

struct display_irq_caps {
	bool is_display_irq;   /* type GFX, subtype DISPLAY_IRQ */
	bool has_plane_values; /* CAP_DISPLAY present: the two masks below are valid */
	uint64_t primary_event; /* eventfd value bits meaning "primary plane changed" */
	uint64_t cursor_event;  /* eventfd value bits meaning "cursor plane changed" */
};

/*
 * buf/len: the whole GET_IRQ_INFO answer as the device wrote it (any
 * alignment). Returns:
 *   0        a display-event IRQ; *out filled;
 *   -ENOENT  well-formed but not a display IRQ (no CAPS flag, no chain,
 *            or no GFX/DISPLAY_IRQ type capability);
 *   -ENOSPC  CAPS is set but the device asks for more than len bytes
 *            (argsz > len): retry GET_IRQ_INFO with argsz bytes;
 *   -EINVAL  malformed: truncated struct or capability, offset out of
 *            bounds, inside the fixed struct or not 4-byte aligned, a chain
 *            that does not move forward, or a capability given twice.
 * On every error *why (if why is not NULL) gets a static explanation.
 * Unknown capability ids, and known ids with a version other than 1, are
 * skipped. Offsets are bounded by min(len, argsz); the first capability
 * may start right after the 20-byte fixed struct.
 */
int irq_caps_parse(const void *buf, size_t len, struct display_irq_caps *out, const char **why);

#endif
