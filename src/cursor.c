// SPDX-License-Identifier: GPL-2.0-or-later
#include "cursor.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <rfb/rfb.h>

#include "drm_formats.h"
#include "frame_store.h"
#include "log.h"
#include "plane.h"

struct rect_box {
	uint32_t x0, y0, x1, y1; /* x1, y1 exclusive */
};

void cursor_image_done(struct cursor_image *image)
{
	free(image->argb);
	memset(image, 0, sizeof(*image));
}

/*
 * rfbSendCursorShape gives up (and fails the whole update) when header,
 * colours, pixels at the client's depth (at most 32 bpp) and mask exceed
 * one update buffer.
 */
bool cursor_size_fits_vnc(uint32_t width, uint32_t height)
{
	size_t mask = (size_t)(width + 7) / 8 * height;
	size_t data = (size_t)width * height * 4;
	return sz_rfbFramebufferUpdateRectHeader + sz_rfbXCursorColors + mask + data <=
	       UPDATE_BUF_SIZE;
}

static uint32_t pixel_at(const uint8_t *pixels, size_t stride, uint32_t x, uint32_t y)
{
	uint32_t p;
	memcpy(&p, pixels + y * stride + (size_t)x * 4, sizeof(p));
	return p;
}

/* The box of pixels with alpha != 0; empty (x1 == 0) when there is none. */
static struct rect_box visible_box(const uint8_t *pixels, size_t stride, uint32_t width,
				   uint32_t height)
{
	struct rect_box box = { .x0 = width, .y0 = height };
	for (uint32_t y = 0; y < height; y++) {
		for (uint32_t x = 0; x < width; x++) {
			if (!(pixel_at(pixels, stride, x, y) >> 24))
				continue;
			box.x0 = x < box.x0 ? x : box.x0;
			box.x1 = x + 1 > box.x1 ? x + 1 : box.x1;
			box.y0 = y < box.y0 ? y : box.y0;
			box.y1 = y + 1 > box.y1 ? y + 1 : box.y1;
		}
	}
	return box;
}

/* Premultiplied colours average correctly channel by channel, alpha included. */
static uint32_t box_average(const uint8_t *pixels, size_t stride, uint32_t x0, uint32_t y0,
			    uint32_t x1, uint32_t y1)
{
	uint32_t sum[4] = { 0 };
	for (uint32_t y = y0; y < y1; y++) {
		for (uint32_t x = x0; x < x1; x++) {
			uint32_t p = pixel_at(pixels, stride, x, y);
			for (int c = 0; c < 4; c++)
				sum[c] += (p >> (8 * c)) & 0xff;
		}
	}
	uint32_t n = (x1 - x0) * (y1 - y0), out = 0;
	for (int c = 0; c < 4; c++)
		out |= ((sum[c] + n / 2) / n) << (8 * c);
	return out;
}

static uint32_t div_up(uint32_t a, uint32_t b)
{
	return (a + b - 1) / b;
}

/* Unknown (0xFFFFFFFF) and out-of-image hotspots alike mean the top-left pixel. */
static void default_hotspot(uint32_t *x_hot, uint32_t *y_hot, uint32_t width, uint32_t height)
{
	if (*x_hot >= width || *y_hot >= height)
		*x_hot = *y_hot = 0;
}

int cursor_image_fit(const uint8_t *pixels, size_t stride, uint32_t width, uint32_t height,
		     uint32_t x_hot, uint32_t y_hot, struct cursor_image *out)
{
	memset(out, 0, sizeof(*out));
	default_hotspot(&x_hot, &y_hot, width, height);
	struct rect_box box = visible_box(pixels, stride, width, height);
	if (box.x1 == 0)
		return 0;
	/* The hotspot must stay inside: RFB hotspots are unsigned. */
	box.x0 = x_hot < box.x0 ? x_hot : box.x0;
	box.y0 = y_hot < box.y0 ? y_hot : box.y0;
	box.x1 = x_hot + 1 > box.x1 ? x_hot + 1 : box.x1;
	box.y1 = y_hot + 1 > box.y1 ? y_hot + 1 : box.y1;

	uint32_t crop_w = box.x1 - box.x0, crop_h = box.y1 - box.y0, k = 1;
	while (!cursor_size_fits_vnc(div_up(crop_w, k), div_up(crop_h, k)))
		k++;
	out->width = div_up(crop_w, k);
	out->height = div_up(crop_h, k);
	out->argb = malloc((size_t)out->width * out->height * 4);
	if (!out->argb) {
		memset(out, 0, sizeof(*out));
		return -ENOMEM;
	}
	out->x_hot = (x_hot - box.x0) / k;
	out->y_hot = (y_hot - box.y0) / k;
	for (uint32_t y = 0; y < out->height; y++) {
		uint32_t sy = box.y0 + y * k, sy1 = sy + k < box.y1 ? sy + k : box.y1;
		for (uint32_t x = 0; x < out->width; x++) {
			uint32_t sx = box.x0 + x * k, sx1 = sx + k < box.x1 ? sx + k : box.x1;
			out->argb[y * out->width + x] =
				k == 1 ? pixel_at(pixels, stride, sx, sy)
				       : box_average(pixels, stride, sx, sy, sx1, sy1);
		}
	}
	return 0;
}

static uint32_t unpremultiply(uint32_t argb)
{
	uint32_t a = argb >> 24, out = 0;
	if (a == 0 || a == 255)
		return argb & 0x00ffffff;
	for (int c = 0; c < 3; c++) {
		uint32_t v = (((argb >> (8 * c)) & 0xff) * 255 + a / 2) / a;
		out |= (v > 255 ? 255 : v) << (8 * c);
	}
	return out;
}

struct rfbCursor *cursor_image_to_rfb(const struct cursor_image *image)
{
	uint32_t w = image->width, h = image->height, row = (w + 7) / 8;
	rfbCursorPtr c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	uint32_t *rich = malloc((size_t)w * h * 4);
	c->alphaSource = malloc((size_t)w * h);
	c->mask = calloc(row, h);
	c->richSource = (unsigned char *)rich;
	/* rfbFreeCursor frees what these flags name, and the struct itself. */
	c->cleanup = c->cleanupRichSource = c->cleanupMask = c->cleanupSource = TRUE;
	if (!rich || !c->alphaSource || !c->mask) {
		rfbFreeCursor(c);
		return NULL;
	}
	c->width = (unsigned short)w;
	c->height = (unsigned short)h;
	c->xhot = (unsigned short)image->x_hot;
	c->yhot = (unsigned short)image->y_hot;
	c->alphaPreMultiplied = FALSE;
	for (uint32_t y = 0; y < h; y++) {
		for (uint32_t x = 0; x < w; x++) {
			uint32_t p = image->argb[y * w + x];
			uint8_t a = (uint8_t)(p >> 24);
			/* The server format is XRGB8888 in host order: this store is its pixel. */
			rich[y * w + x] = unpremultiply(p);
			c->alphaSource[y * w + x] = a;
			if (a >= 128)
				c->mask[y * row + x / 8] |= (unsigned char)(0x80 >> (x % 8));
		}
	}
	return c;
}

/* What was last published, so only changes reach the clients. */
struct cursor_source {
	struct plane_source *planes;
	struct frame_store *store;
	uint8_t *raw;           /* the last shape's plane pixels, packed rows */
	size_t raw_cap;
	uint8_t *gpu_pixels;    /* a GPU-imported cursor read back, packed rows */
	size_t gpu_cap;
	uint32_t id, width, height, x_hot, y_hot;
	bool have_shape;
	int32_t x, y;
	bool visible, published;
	struct log_latch query_failed;
	struct log_latch bad_plane;
	struct log_latch bad_hotspot;
};

struct cursor_source *cursor_source_new(struct plane_source *planes, struct frame_store *store)
{
	struct cursor_source *cs = calloc(1, sizeof(*cs));
	if (!cs)
		return NULL;
	cs->planes = planes;
	cs->store = store;
	return cs;
}

void cursor_source_free(struct cursor_source *cs)
{
	if (!cs)
		return;
	free(cs->raw);
	free(cs->gpu_pixels);
	free(cs);
}

static void publish_position(struct cursor_source *cs, int32_t x, int32_t y, bool visible)
{
	if (cs->published && cs->x == x && cs->y == y && cs->visible == visible)
		return;
	frame_store_set_cursor_pos(cs->store, x, y, visible);
	cs->x = x;
	cs->y = y;
	cs->visible = visible;
	cs->published = true;
}

static void hide(struct cursor_source *cs)
{
	publish_position(cs, cs->x, cs->y, false);
}

/* Every number from the device is checked against the others and against the buffer. */
static const char *check_plane(const struct vfio_device_gfx_plane_info *info)
{
	if (info->drm_format != DRM_FORMAT_ARGB8888)
		return "format is not ARGB8888";
	if (info->drm_format_mod != DRM_FORMAT_MOD_LINEAR)
		return "buffer is not linear";
	if (info->width > CURSOR_MAX_SIZE || info->height > CURSOR_MAX_SIZE)
		return "larger than 256x256";
	if (info->stride < info->width * 4)
		return "stride shorter than a row";
	if ((uint64_t)info->stride * (info->height - 1) + info->width * 4 > info->size)
		return "size smaller than stride x height";
	return NULL;
}

static bool same_shape(const struct cursor_source *cs, const struct vfio_device_gfx_plane_info *info,
		       const uint8_t *pixels, size_t stride)
{
	if (!cs->have_shape || cs->id != info->dmabuf_id || cs->width != info->width ||
	    cs->height != info->height || cs->x_hot != info->x_hot || cs->y_hot != info->y_hot)
		return false;
	size_t row = (size_t)info->width * 4;
	for (uint32_t y = 0; y < info->height; y++)
		if (memcmp(cs->raw + y * row, pixels + (size_t)y * stride, row) != 0)
			return false;
	return true;
}

/* Keeps a copy of the plane's pixels and publishes the image made of them. */
static int take_shape(struct cursor_source *cs, const struct vfio_device_gfx_plane_info *info,
		      const uint8_t *pixels, size_t stride)
{
	size_t row = (size_t)info->width * 4, need = row * info->height;
	if (need > cs->raw_cap) {
		uint8_t *bigger = realloc(cs->raw, need);
		if (!bigger)
			return -ENOMEM;
		cs->raw = bigger;
		cs->raw_cap = need;
	}
	for (uint32_t y = 0; y < info->height; y++)
		memcpy(cs->raw + y * row, pixels + (size_t)y * stride, row);
	struct cursor_image image;
	int ret = cursor_image_fit(cs->raw, row, info->width, info->height, info->x_hot,
				  info->y_hot, &image);
	if (ret < 0) {
		cs->have_shape = false;
		return ret;
	}
	frame_store_set_cursor_shape(cs->store, &image);
	cs->have_shape = true;
	cs->id = info->dmabuf_id;
	cs->width = info->width;
	cs->height = info->height;
	cs->x_hot = info->x_hot;
	cs->y_hot = info->y_hot;
	return 0;
}

static int update_shape(struct cursor_source *cs, const struct vfio_device_gfx_plane_info *info,
			struct plane_buffer *buf)
{
	const uint8_t *pixels = buf->map.data;
	size_t stride = info->stride;
	if (!pixels) {
		/* Imported on the GPU (GVT-g refuses CPU maps of cursors too): read it back whole. */
		const char *why = NULL;
		size_t need = (size_t)info->width * 4 * info->height;
		if (need > cs->gpu_cap) {
			uint8_t *bigger = realloc(cs->gpu_pixels, need);
			if (!bigger)
				return -ENOMEM;
			cs->gpu_pixels = bigger;
			cs->gpu_cap = need;
		}
		int ret = plane_source_read_argb(cs->planes, buf, cs->gpu_pixels, &why);
		if (ret < 0) {
			log_debug("reading the cursor back from the GPU failed: %s", why);
			return ret;
		}
		pixels = cs->gpu_pixels;
		stride = (size_t)info->width * 4;
	}
	int ret = plane_source_begin_read(cs->planes, buf);
	if (ret < 0)
		return ret;
	if (!same_shape(cs, info, pixels, stride))
		ret = take_shape(cs, info, pixels, stride);
	plane_source_end_read(cs->planes, buf);
	return ret;
}

static int32_t pointer_coord(uint32_t pos, uint32_t hot)
{
	int64_t p = (int64_t)(int32_t)pos + hot;
	return p < 0 ? 0 : p > UINT16_MAX ? UINT16_MAX : (int32_t)p;
}

static void reject(struct cursor_source *cs, const struct vfio_device_gfx_plane_info *info,
		   const char *why)
{
	log_once(&cs->bad_plane, LOG_LEVEL_WARNING,
		 "cursor plane %ux%u stride %u size %u ignored: %s; no cursor is shown",
		 info->width, info->height, info->stride, info->size, why);
	hide(cs);
}

/* 0xFFFFFFFF is the driver's "unknown" (GVT-g); any other hotspot off the image is a bug. */
static void check_hotspot(struct cursor_source *cs, const struct vfio_device_gfx_plane_info *info)
{
	bool unknown = info->x_hot == UINT32_MAX && info->y_hot == UINT32_MAX;
	if (unknown || (info->x_hot < info->width && info->y_hot < info->height)) {
		log_latch_clear(&cs->bad_hotspot);
		return;
	}
	log_once(&cs->bad_hotspot, LOG_LEVEL_WARNING,
		 "cursor hotspot %u,%u lies outside the %ux%u cursor; using its top-left pixel",
		 info->x_hot, info->y_hot, info->width, info->height);
}

void cursor_refresh(struct cursor_source *cs)
{
	if (plane_source_transport(cs->planes) != PLANE_TRANSPORT_DMABUF)
		return;
	struct vfio_device_gfx_plane_info info;
	int ret = plane_source_query(cs->planes, DRM_PLANE_TYPE_CURSOR, &info);
	if (ret < 0) {
		log_once(&cs->query_failed, LOG_LEVEL_WARNING,
			 "querying the cursor plane failed: %s; keeping the last cursor",
			 strerror(-ret));
		return;
	}
	log_latch_clear(&cs->query_failed);
	if (!plane_info_enabled(&info)) {
		hide(cs);
		return;
	}
	const char *why = check_plane(&info);
	if (why) {
		reject(cs, &info, why);
		return;
	}
	struct plane_buffer *buf;
	ret = plane_source_buffer(cs->planes, &info, &buf);
	if (ret < 0) {
		reject(cs, &info, strerror(-ret));
		return;
	}
	if (info.size > buf->real_size) {
		reject(cs, &info, "size larger than the buffer");
		return;
	}
	if (buf->import_error) {
		reject(cs, &info, buf->import_why ? buf->import_why : strerror(-buf->import_error));
		return;
	}
	ret = update_shape(cs, &info, buf);
	if (ret < 0) {
		reject(cs, &info, strerror(-ret));
		return;
	}
	log_latch_clear(&cs->bad_plane);
	check_hotspot(cs, &info);
	uint32_t x_hot = info.x_hot, y_hot = info.y_hot;
	default_hotspot(&x_hot, &y_hot, info.width, info.height);
	publish_position(cs, pointer_coord(info.x_pos, x_hot), pointer_coord(info.y_pos, y_hot),
			 true);
}
