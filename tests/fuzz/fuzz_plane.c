// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer harness for a plane's numbers as a guest sets them: format,
 * modifier, size, stride and the buffer's length go through convert_check
 * like display.c does; a layout it accepts is then converted (linear and
 * detiled), partly and whole, and run twice through the damage stage. The
 * source buffer is exactly as long as claimed and ends at an inaccessible
 * page, so one byte read past it crashes the run.
 */
#include <drm_fourcc.h>
#include <errno.h>

#include "convert.h"
#include "frame_diff.h"
#include "fuzz_util.h"

/* Beyond this the geometry is only checked: converting it would slow the search, not widen it. */
#define CONVERT_MAX_SOURCE (256u << 10)

static const uint32_t fourccs[] = {
	DRM_FORMAT_XRGB8888, DRM_FORMAT_ARGB8888, DRM_FORMAT_XBGR8888, DRM_FORMAT_ABGR8888,
	DRM_FORMAT_RGB565, DRM_FORMAT_XRGB2101010, DRM_FORMAT_XBGR2101010, DRM_FORMAT_YUYV,
	DRM_FORMAT_UYVY, DRM_FORMAT_YVYU, DRM_FORMAT_VYUY, DRM_FORMAT_C8,
};
static const uint64_t modifiers[] = {
	DRM_FORMAT_MOD_LINEAR, I915_FORMAT_MOD_X_TILED, I915_FORMAT_MOD_Y_TILED,
	I915_FORMAT_MOD_Yf_TILED,
};
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* Mostly the formats and modifiers we handle, sometimes any number at all. */
static void take_layout(struct fuzz_input *in, struct pixel_layout *l)
{
	uint8_t pick = (uint8_t)fuzz_take(in, 1);
	l->fourcc = pick < COUNT(fourccs) ? fourccs[pick] : (uint32_t)fuzz_take(in, 4);
	pick = (uint8_t)fuzz_take(in, 1);
	l->modifier = pick < COUNT(modifiers) ? modifiers[pick] : fuzz_take(in, 8);
	l->width = (uint32_t)fuzz_take(in, 2);
	l->height = (uint32_t)fuzz_take(in, 2);
	if (fuzz_take(in, 1) & 1) { /* the top bits too: 65536 and beyond */
		l->width |= (uint32_t)fuzz_take(in, 2) << 16;
		l->height |= (uint32_t)fuzz_take(in, 2) << 16;
	}
	/* A stride near a row's bytes, or any number. */
	uint32_t hint = (uint32_t)fuzz_take(in, 4);
	uint32_t cpp = convert_bytes_per_pixel(l->fourcc);
	l->stride = hint & 0x80000000u ? hint & 0x7fffffffu : l->width * cpp + (hint & 0xfff);
}

/* The length the plane claims: about what the layout needs, or any number. */
static size_t take_size(struct fuzz_input *in, const struct pixel_layout *l)
{
	uint32_t hint = (uint32_t)fuzz_take(in, 4);
	if (hint & 0x80000000u)
		return hint & 0x7fffffffu;
	struct tile_geometry g = { 1, 1 };
	if (convert_bytes_per_pixel(l->fourcc))
		g = convert_tile_geometry(l);
	uint64_t rows = ((uint64_t)l->height + g.height_rows - 1) / g.height_rows * g.height_rows;
	uint64_t need = rows * l->stride;
	int64_t delta = (int16_t)(hint & 0xffff);
	return need + delta > 0 ? (size_t)(need + delta) : 0;
}

/* The rest of the input, repeated: doubling copies keep a 256 KiB fill cheap. */
static void fill(uint8_t *buf, size_t size, struct fuzz_input *in)
{
	if (size == 0)
		return;
	size_t done = in->left < size ? in->left : size;
	if (done)
		memcpy(buf, in->data, done);
	else
		buf[done++] = 0xa5;
	while (done < size) {
		size_t n = done < size - done ? done : size - done;
		memcpy(buf + done, buf, n);
		done += n;
	}
}

static void convert_all(const struct pixel_layout *l, struct fuzz_input *in,
			const struct guarded_buffer *src, size_t size)
{
	size_t fb_stride = (size_t)l->width * 4;
	uint8_t *fb = malloc(fb_stride * l->height);
	if (!fb)
		abort();
	struct rect part = {
		(uint32_t)fuzz_take(in, 2), (uint32_t)fuzz_take(in, 2),
		(uint32_t)fuzz_take(in, 2), (uint32_t)fuzz_take(in, 2),
	};
	convert_rect(l, src->data, fb, fb_stride, part);
	convert_rect(l, src->data, fb, fb_stride, (struct rect){ 0, 0, l->width, l->height });

	struct frame_diff *diff = frame_diff_new();
	if (!diff)
		abort();
	if (!frame_diff_apply(diff, l, src->data, size, fb, fb_stride))
		abort();
	/* A second frame with some bytes changed: only those tiles are compared and converted. */
	size_t at = size ? (size_t)fuzz_take(in, 4) % size : 0;
	if (size)
		src->data[at] ^= 0x5a;
	const struct damage_map *damage = frame_diff_apply(diff, l, src->data, size, fb, fb_stride);
	if (!damage || damage->width != l->width || damage->height != l->height)
		abort();
	frame_diff_free(diff);
	free(fb);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_input in = { data, size };
	struct pixel_layout layout;
	const char *why = NULL;

	take_layout(&in, &layout);
	size_t claimed = take_size(&in, &layout);
	int r = convert_check(&layout, claimed, &why);
	if (r != 0 && r != -EINVAL && r != -ENOTSUP)
		abort();
	if (!why)
		abort();
	if (r != 0 || claimed > CONVERT_MAX_SOURCE)
		return 0;

	struct guarded_buffer src;
	guarded_alloc(&src, claimed, 0);
	if (!src.data)
		abort();
	struct fuzz_input rect_in = in;
	in.data += in.left > 16 ? 16 : in.left; /* the rectangle and the changed byte */
	in.left -= in.left > 16 ? 16 : in.left;
	fill(src.data, claimed, &in);
	convert_all(&layout, &rect_in, &src, claimed);
	guarded_free(&src);
	return 0;
}
