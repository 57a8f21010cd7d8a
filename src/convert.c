// SPDX-License-Identifier: GPL-2.0-or-later
#include "convert.h"

#include <drm_fourcc.h>
#include <errno.h>
#include <libyuv.h>
#include <string.h>

#include "detile.h"

#define MAX_DIMENSION 16384u
#define MAX_STRIDE (1u << 30) /* libyuv takes int strides */
#define STAGING_BYTES 32768u  /* detiled block awaiting conversion */
#define SHUFFLE_BYTES 8192u   /* 4:2:2 row piece being reordered */

/* libyuv's shape: (src, src_stride, dst, dst_stride, width, height). */
typedef int (*rows_fn)(const uint8_t *src, int src_stride, uint8_t *dst, int dst_stride,
		       int width, int height);

struct format {
	uint32_t fourcc;
	uint8_t cpp;   /* bytes per pixel */
	uint8_t group; /* pixels sharing bytes: 2 for packed 4:2:2 */
	rows_fn rows;
};

/*
 * libyuv lacks YVYU and VYUY: reorder each 4-byte macropixel into YUY2 or
 * UYVY order (U and V trade places), then convert that.
 */
static const uint8_t yvyu_to_yuy2[16] = { 0, 3, 2, 1, 4, 7, 6, 5, 8, 11, 10, 9, 12, 15, 14, 13 };
static const uint8_t vyuy_to_uyvy[16] = { 2, 1, 0, 3, 6, 5, 4, 7, 10, 9, 8, 11, 14, 13, 12, 15 };

static int swapped_422_rows(const uint8_t *src, int src_stride, uint8_t *dst, int dst_stride,
			    int width, int height, const uint8_t *shuffler, rows_fn rows)
{
	uint8_t tmp[SHUFFLE_BYTES] __attribute__((aligned(64)));
	const int chunk = SHUFFLE_BYTES / 2;

	for (int y = 0; y < height; y++) {
		const uint8_t *s = src + (ptrdiff_t)y * src_stride;
		uint8_t *d = dst + (ptrdiff_t)y * dst_stride;

		for (int x = 0; x < width; x += chunk) {
			int n = width - x < chunk ? width - x : chunk;

			ARGBShuffle(s + x * 2, 0, tmp, 0, shuffler, (n + 1) / 2, 1);
			rows(tmp, 0, d + x * 4, 0, n, 1);
		}
	}
	return 0;
}

static int yvyu_rows(const uint8_t *src, int src_stride, uint8_t *dst, int dst_stride, int width,
		     int height)
{
	return swapped_422_rows(src, src_stride, dst, dst_stride, width, height, yvyu_to_yuy2,
				YUY2ToARGB);
}

static int vyuy_rows(const uint8_t *src, int src_stride, uint8_t *dst, int dst_stride, int width,
		     int height)
{
	return swapped_422_rows(src, src_stride, dst, dst_stride, width, height, vyuy_to_uyvy,
				UYVYToARGB);
}

/* libyuv's ARGBCopy costs about 3x glibc's memcpy on 64-pixel rows. */
static int copy_rows(const uint8_t *src, int src_stride, uint8_t *dst, int dst_stride, int width,
		     int height)
{
	size_t row = (size_t)width * 4;

	if (src_stride == dst_stride && (size_t)src_stride == row) {
		memcpy(dst, src, row * (size_t)height);
		return 0;
	}
	for (int y = 0; y < height; y++)
		memcpy(dst + (ptrdiff_t)y * dst_stride, src + (ptrdiff_t)y * src_stride, row);
	return 0;
}

/*
 * 10-bit RGB keeps the top 8 bits of each channel. libyuv has AR30ToARGB,
 * but only as a scalar C row (about 3x a memcpy at 4K); four pixels at a
 * time in GCC/Clang vector types bring it to memcpy speed.
 */
typedef uint32_t u32x4 __attribute__((vector_size(16)));

static inline u32x4 rgb30_pixels(u32x4 w, unsigned r_shift, unsigned b_shift)
{
	return (w >> (b_shift + 2) & 0xff) | (w >> 12 & 0xff) << 8 |
	       (w >> (r_shift + 2) & 0xff) << 16 | 0xff000000u;
}

static inline void rgb30_rows(const uint8_t *src, int src_stride, uint8_t *dst, int dst_stride,
			      int width, int height, unsigned r_shift, unsigned b_shift)
{
	for (int y = 0; y < height; y++) {
		const uint8_t *s = src + (ptrdiff_t)y * src_stride;
		uint8_t *d = dst + (ptrdiff_t)y * dst_stride;
		int x = 0;
		u32x4 w = { 0 }, px;

		for (; x + 4 <= width; x += 4) {
			memcpy(&w, s + x * 4, sizeof(w));
			px = rgb30_pixels(w, r_shift, b_shift);
			memcpy(d + x * 4, &px, sizeof(px));
		}
		if (x < width) {
			memcpy(&w, s + x * 4, (size_t)(width - x) * 4);
			px = rgb30_pixels(w, r_shift, b_shift);
			memcpy(d + x * 4, &px, (size_t)(width - x) * 4);
		}
	}
}

static int xrgb30_rows(const uint8_t *src, int src_stride, uint8_t *dst, int dst_stride,
		       int width, int height)
{
	rgb30_rows(src, src_stride, dst, dst_stride, width, height, 20, 0);
	return 0;
}

static int xbgr30_rows(const uint8_t *src, int src_stride, uint8_t *dst, int dst_stride,
		       int width, int height)
{
	rgb30_rows(src, src_stride, dst, dst_stride, width, height, 0, 20);
	return 0;
}

/*
 * libyuv names formats after the little-endian 32-bit word, as DRM does:
 * libyuv "ARGB" is DRM ARGB8888 (B, G, R, A bytes), "ABGR" is DRM ABGR8888,
 * "RGB565" is DRM RGB565.
 *
 * YUV: libyuv's YUY2ToARGB and UYVYToARGB use BT.601 limited range (Y
 * 16..235). That is what i915 (and so GVT-g) planes scan out unless the
 * guest sets the plane's COLOR_ENCODING / COLOR_RANGE properties, which the
 * VFIO plane query does not report, so BT.601 limited is the best guess.
 *
 * C8: the palette lives in the guest's CRTC gamma/LUT registers and the
 * VFIO plane query does not carry it, so index i is shown as the gray
 * (i, i, i): a fixed, readable ramp (J400 is full-range gray). A guest
 * that programs a colour palette shows in grays, not in false colours.
 *
 * The fourth byte of the output (X) is not specified: converters copy the
 * source alpha or write 0xff.
 */
static const struct format formats[] = {
	{ DRM_FORMAT_XRGB8888, 4, 1, copy_rows },
	{ DRM_FORMAT_ARGB8888, 4, 1, copy_rows },
	{ DRM_FORMAT_XBGR8888, 4, 1, ABGRToARGB },
	{ DRM_FORMAT_ABGR8888, 4, 1, ABGRToARGB },
	{ DRM_FORMAT_RGB565, 2, 1, RGB565ToARGB },
	{ DRM_FORMAT_XRGB2101010, 4, 1, xrgb30_rows },
	{ DRM_FORMAT_XBGR2101010, 4, 1, xbgr30_rows },
	{ DRM_FORMAT_YUYV, 2, 2, YUY2ToARGB },
	{ DRM_FORMAT_UYVY, 2, 2, UYVYToARGB },
	{ DRM_FORMAT_YVYU, 2, 2, yvyu_rows },
	{ DRM_FORMAT_VYUY, 2, 2, vyuy_rows },
	{ DRM_FORMAT_C8, 1, 1, J400ToARGB },
};

static const struct format *format_find(uint32_t fourcc)
{
	for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++)
		if (formats[i].fourcc == fourcc)
			return &formats[i];
	return NULL;
}

unsigned convert_bytes_per_pixel(uint32_t fourcc)
{
	const struct format *f = format_find(fourcc);

	return f ? f->cpp : 0;
}

bool convert_is_copy(const struct pixel_layout *layout)
{
	return layout->modifier == DRM_FORMAT_MOD_LINEAR &&
	       (layout->fourcc == DRM_FORMAT_XRGB8888 || layout->fourcc == DRM_FORMAT_ARGB8888);
}

struct tile_geometry convert_tile_geometry(const struct pixel_layout *layout)
{
	struct tile_geometry g = { 1, 1 };
	const struct tiling *t =
		tiling_get(layout->modifier, convert_bytes_per_pixel(layout->fourcc));

	if (t) {
		g.width_bytes = t->width_bytes;
		g.height_rows = t->height_rows;
	}
	return g;
}

static uint32_t round_up(uint32_t v, uint32_t to)
{
	return (v + to - 1) / to * to;
}

/* Bytes a row needs: a 4:2:2 row of odd width still ends on a whole macropixel. */
static uint32_t row_bytes(const struct format *f, uint32_t width)
{
	return round_up(width, f->group) * f->cpp;
}

static int check_size(const struct pixel_layout *l, const struct format *f,
		      const struct tile_geometry *g, size_t buffer_size, const char **why)
{
	size_t need;

	if (g->height_rows > 1) {
		/* The last tile row is allocated whole even when the picture
		 * ends inside it. */
		if (__builtin_mul_overflow((size_t)round_up(l->height, g->height_rows),
					   (size_t)l->stride, &need)) {
			*why = "buffer size overflows";
			return -EINVAL;
		}
	} else if (__builtin_mul_overflow((size_t)(l->height - 1), (size_t)l->stride, &need) ||
		   __builtin_add_overflow(need, (size_t)row_bytes(f, l->width), &need)) {
		*why = "buffer size overflows";
		return -EINVAL;
	}
	if (buffer_size < need) {
		*why = g->height_rows > 1 ? "buffer too small for the last tile row"
					  : "buffer too small for the last row";
		return -EINVAL;
	}
	return 0;
}

int convert_check(const struct pixel_layout *l, size_t buffer_size, const char **why)
{
	const struct format *f = format_find(l->fourcc);
	struct tile_geometry g;

	*why = "ok";
	if (!f) {
		*why = "unsupported pixel format";
		return -ENOTSUP;
	}
	if (l->modifier != DRM_FORMAT_MOD_LINEAR && !tiling_get(l->modifier, f->cpp)) {
		*why = "unsupported format modifier";
		return -ENOTSUP;
	}
	g = convert_tile_geometry(l);
	if (l->width == 0 || l->height == 0) {
		*why = "empty plane";
		return -EINVAL;
	}
	if (l->width > MAX_DIMENSION || l->height > MAX_DIMENSION) {
		*why = "plane larger than 16384x16384";
		return -EINVAL;
	}
	if (l->stride < row_bytes(f, l->width)) {
		*why = "stride shorter than a row";
		return -EINVAL;
	}
	if (l->stride > MAX_STRIDE) {
		*why = "stride too large";
		return -EINVAL;
	}
	if (l->stride % g.width_bytes) {
		*why = "stride not a multiple of the tile width";
		return -EINVAL;
	}
	return check_size(l, f, &g, buffer_size, why);
}

/*
 * Tiled, converting formats: detile a block of at most one tile row into
 * a staging buffer, then convert the block with one libyuv call.
 */
static void convert_tiled(const struct detiler *d, const struct format *f, struct rect r,
			  uint8_t *dst, size_t dst_stride)
{
	uint8_t tmp[STAGING_BYTES] __attribute__((aligned(64)));
	uint32_t th = d->tiling->height_rows;
	uint32_t chunk = STAGING_BYTES / th / f->cpp / 2 * 2;

	for (uint32_t y = r.y; y < r.y + r.height;) {
		uint32_t rows = th - y % th;

		if (rows > r.y + r.height - y)
			rows = r.y + r.height - y;
		for (uint32_t i = 0; i < r.width; i += chunk) {
			uint32_t n = r.width - i < chunk ? r.width - i : chunk;
			uint32_t bytes = row_bytes(f, n);

			detile_rect(d, y, rows, (r.x + i) * f->cpp, bytes, tmp, bytes);
			f->rows(tmp, (int)bytes, dst + (size_t)(y - r.y) * dst_stride + (size_t)i * 4,
				(int)dst_stride, (int)n, (int)rows);
		}
		y += rows;
	}
}

/*
 * A 4:2:2 rectangle starting on the second pixel of a macropixel: convert
 * each row's pair, keep the second pixel.
 */
static void convert_lead_column(const struct pixel_layout *l, const struct format *f,
				const struct detiler *d, const uint8_t *src, struct rect r,
				uint8_t *dst, size_t dst_stride)
{
	uint32_t bx = (r.x - 1) * f->cpp;

	for (uint32_t y = r.y; y < r.y + r.height; y++, dst += dst_stride) {
		uint8_t macropixel[4], pair[8];
		const uint8_t *s = src + (size_t)y * l->stride + bx;

		if (d) {
			detile_rect(d, y, 1, bx, sizeof(macropixel), macropixel, 0);
			s = macropixel;
		}
		f->rows(s, 0, pair, 0, 2, 1);
		memcpy(dst, pair + 4, 4);
	}
}

void convert_rect(const struct pixel_layout *l, const uint8_t *src, uint8_t *dst,
		  size_t dst_stride, struct rect r)
{
	const struct format *f = format_find(l->fourcc);
	struct detiler detiler, *d = NULL;
	const struct tiling *t;

	/* Clip, so a caller's slip cannot reach past the plane. */
	if (!f || r.x >= l->width || r.y >= l->height)
		return;
	if (r.width > l->width - r.x)
		r.width = l->width - r.x;
	if (r.height > l->height - r.y)
		r.height = l->height - r.y;
	if (r.width == 0 || r.height == 0)
		return;

	if (l->modifier != DRM_FORMAT_MOD_LINEAR) {
		t = tiling_get(l->modifier, f->cpp);
		if (!t)
			return;
		detile_init(&detiler, t, src, l->stride);
		d = &detiler;
	}
	dst += (size_t)r.y * dst_stride + (size_t)r.x * 4;
	if (r.x % f->group) {
		convert_lead_column(l, f, d, src, r, dst, dst_stride);
		if (--r.width == 0)
			return;
		r.x++;
		dst += 4;
	}

	if (!d)
		f->rows(src + (size_t)r.y * l->stride + (size_t)r.x * f->cpp, (int)l->stride, dst,
			(int)dst_stride, (int)r.width, (int)r.height);
	else if (f->rows == copy_rows)
		detile_rect(d, r.y, r.height, r.x * 4, r.width * 4, dst, dst_stride);
	else
		convert_tiled(d, f, r, dst, dst_stride);
}
