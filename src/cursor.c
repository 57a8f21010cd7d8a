// SPDX-License-Identifier: GPL-2.0-or-later
#include "cursor.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cursor_image.h"
#include "drm_formats.h"
#include "frame_store.h"
#include "log.h"
#include "plane.h"

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
	cursor_hotspot_default(&x_hot, &y_hot, info.width, info.height);
	publish_position(cs, pointer_coord(info.x_pos, x_hot), pointer_coord(info.y_pos, y_hot),
			 true);
}
