// SPDX-License-Identifier: GPL-2.0-or-later
#include "irq_caps.h"

#include <errno.h>
#include <string.h>

#include "vfio_display_irq.h"

/* Strictly increasing offsets already end every chain; this bounds the work too. */
#define MAX_CAPS 64

struct chain {
	const unsigned char *buf;
	size_t end; /* min(len, argsz) */
	const char *why;
	bool seen_type, seen_display;
};

static int malformed(struct chain *c, const char *why)
{
	c->why = why;
	return -EINVAL;
}

/*
 * Copies a known capability out of the buffer (the device gives no
 * alignment); each may appear once.
 */
static int read_once(struct chain *c, size_t off, void *dst, size_t size, bool *seen)
{
	if (size > c->end - off)
		return malformed(c, "capability truncated by the end of the answer");
	if (*seen)
		return malformed(c, "a capability given twice");
	*seen = true;
	memcpy(dst, c->buf + off, size);
	return 0;
}

static int take_type(struct chain *c, size_t off, struct display_irq_caps *out)
{
	struct vfio_irq_info_cap_type cap;
	int r = read_once(c, off, &cap, sizeof(cap), &c->seen_type);

	if (r < 0)
		return r;
	out->is_display_irq = cap.type == VFIO_IRQ_TYPE_GFX &&
			      cap.subtype == VFIO_IRQ_SUBTYPE_GFX_DISPLAY_IRQ;
	return (int)sizeof(cap);
}

static int take_display(struct chain *c, size_t off, struct display_irq_caps *out)
{
	struct vfio_irq_info_cap_display cap;
	int r = read_once(c, off, &cap, sizeof(cap), &c->seen_display);

	if (r < 0)
		return r;
	out->has_plane_values = true;
	out->primary_event = cap.pri_event_val;
	out->cursor_event = cap.cur_event_val;
	return (int)sizeof(cap);
}

/* Returns the capability's size in the buffer (at least its header), or -EINVAL. */
static int take_cap(struct chain *c, size_t off, const struct vfio_info_cap_header *hdr,
		    struct display_irq_caps *out)
{
	if (hdr->version == 1 && hdr->id == VFIO_IRQ_INFO_CAP_TYPE)
		return take_type(c, off, out);
	if (hdr->version == 1 && hdr->id == VFIO_IRQ_INFO_CAP_DISPLAY)
		return take_display(c, off, out);
	return (int)sizeof(*hdr);
}

static int walk(struct chain *c, size_t off, struct display_irq_caps *out)
{
	for (unsigned n = 0; off; n++) {
		struct vfio_info_cap_header hdr;
		int size;

		if (n == MAX_CAPS)
			return malformed(c, "more capabilities than any device has");
		if (off < sizeof(struct vfio_irq_info_v6))
			return malformed(c, "capability offset inside the fixed struct");
		if (off % 4)
			return malformed(c, "capability offset not 4-byte aligned");
		if (off >= c->end || sizeof(hdr) > c->end - off)
			return malformed(c, "capability header beyond the end of the answer");
		memcpy(&hdr, c->buf + off, sizeof(hdr));
		size = take_cap(c, off, &hdr, out);
		if (size < 0)
			return size;
		/* Capabilities do not overlap, so next moves forward: no loops. */
		if (hdr.next && hdr.next < off + (size_t)size)
			return malformed(c, "next capability overlaps this one or loops back");
		off = hdr.next;
	}
	return 0;
}

static int parse(struct chain *c, size_t len, struct display_irq_caps *out)
{
	struct vfio_irq_info_v6 info = { .argsz = 0 };
	int r;

	if (len < sizeof(struct vfio_irq_info))
		return malformed(c, "answer shorter than struct vfio_irq_info");
	memcpy(&info, c->buf, len < sizeof(info) ? len : sizeof(info));
	if (!(info.flags & VFIO_IRQ_INFO_FLAG_CAPS)) {
		c->why = "no capabilities (flag CAPS unset)";
		return -ENOENT;
	}
	if (info.argsz > len) {
		c->why = "the device asks for a larger buffer (argsz)";
		return -ENOSPC;
	}
	if (info.argsz < sizeof(info))
		return malformed(c, "flag CAPS set but argsz leaves no room for cap_offset");
	c->end = info.argsz;
	r = walk(c, info.cap_offset, out);
	if (r == 0 && !out->is_display_irq) {
		c->why = "no GFX display-event type capability";
		return -ENOENT;
	}
	return r;
}

int irq_caps_parse(const void *buf, size_t len, struct display_irq_caps *out, const char **why)
{
	struct chain c = { .buf = buf };
	int r;

	memset(out, 0, sizeof(*out));
	r = parse(&c, len, out);
	if (r < 0) {
		memset(out, 0, sizeof(*out));
		if (why)
			*why = c.why;
	}
	return r;
}
