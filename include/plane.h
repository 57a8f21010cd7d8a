/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef MDEV_VNCD_PLANE_H
#define MDEV_VNCD_PLANE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/vfio.h>

#include "import.h"

struct vfio_device;

/*
 * The plane source: asks the device what its display planes show and
 * hands out readable buffers for them. It owns every dmabuf fd the device
 * gives and every mapping made of them or of a region.
 *
 * Each dmabuf id is fetched once, only right after a query returned it,
 * and its fd is cached by id: a flip back to an old id finds it there, and
 * an id is forgotten exactly when its fd is closed. When an fd may be
 * closed depends on the driver, told apart by the PCI ids the device
 * presents (plane_id_lifetime_of), and is logged once:
 * - GVT-g (Intel) frees an id when its last fd closes and allocates a new
 *   object whenever the guest reallocates its framebuffer: the fds are a
 *   cache of the PLANE_DMABUF_CACHE_SIZE most recently used, which keeps
 *   memory bounded, and closing one is safe.
 * - mbochs keeps one id per mode (and Y offset) for the device's life, and
 *   fetching an id again after closing its fd, or twice while it is open,
 *   corrupts memory in the stock kernel: no fd is ever closed while the
 *   device is open.
 * - Any other device is treated like mbochs: keeping an fd costs memory,
 *   closing one whose id comes back could corrupt the guest's memory.
 * Memory stays bounded there too: at most PLANE_DMABUF_KEEP_MAX ids are
 * held; a further new id is not fetched (-EMFILE, logged once) and the
 * display shows a placeholder for it, while every id already held still
 * shows.
 */
#define PLANE_DMABUF_CACHE_SIZE 8
#define PLANE_DMABUF_KEEP_MAX 64

enum plane_id_lifetime {
	PLANE_IDS_RECYCLED, /* freed with their last fd: a most-recently-used cache */
	PLANE_IDS_KEPT,     /* permanent or unknown: kept while the device is open */
};

/*
 * The lifetime of a device's dmabuf ids from its PCI vendor and device
 * (0, 0 when unreadable); *why names the driver and the reason, for the log.
 */
enum plane_id_lifetime plane_id_lifetime_of(uint16_t vendor, uint16_t device, const char **why);

/* drm_plane_type values of the VFIO query (libdrm's xf86drmMode.h, without its weight). */
#ifndef DRM_PLANE_TYPE_PRIMARY
#define DRM_PLANE_TYPE_PRIMARY 1
#define DRM_PLANE_TYPE_CURSOR 2
#endif

enum plane_transport {
	PLANE_TRANSPORT_DMABUF,
	PLANE_TRANSPORT_REGION,
};

struct plane_buffer {
	uint32_t id;           /* dmabuf_id, or region index */
	size_t real_size;      /* lseek(SEEK_END) of the dmabuf, or the region's size */
	int import_error;      /* 0 when map is valid, else -errno of the import */
	const char *import_why;
	struct mapped_buffer map;
	/*
	 * Set by the display when reading a frame of a GPU-imported buffer
	 * failed (an import can succeed and still fail to sample): it is not
	 * tried again until the buffer leaves the cache.
	 */
	const char *read_failed;
};

struct plane_source;

/* Probes which plane transport the device offers and logs it once. */
int plane_source_new(struct vfio_device *dev, const struct import_method *import,
		     struct plane_source **out);
void plane_source_free(struct plane_source *src);

enum plane_transport plane_source_transport(const struct plane_source *src);

/*
 * Queries a plane (DRM_PLANE_TYPE_PRIMARY or _CURSOR) with a zeroed struct.
 * Returns 0 with *info filled (possibly a disabled plane: see
 * plane_info_enabled) or -errno from the device.
 */
int plane_source_query(struct plane_source *src, uint32_t drm_plane_type,
		       struct vfio_device_gfx_plane_info *info);

/* A disabled plane is success with the picture's numbers all zero. */
bool plane_info_enabled(const struct vfio_device_gfx_plane_info *info);

/*
 * The buffer behind an enabled plane, fetched and imported at most once per
 * id. A refused import is cached too (see import_error): it is not retried
 * every frame. The buffer stays valid until the next call.
 */
int plane_source_buffer(struct plane_source *src, const struct vfio_device_gfx_plane_info *info,
			struct plane_buffer **out);

/* Brackets CPU reads of buf->map.data (dmabuf sync). */
int plane_source_begin_read(struct plane_source *src, struct plane_buffer *buf);
void plane_source_end_read(struct plane_source *src, struct plane_buffer *buf);

/*
 * For a buffer imported on a GPU (buf->map.data NULL): writes the picture's
 * changes into frame->fb; see import_method.read_frame.
 */
int plane_source_read_frame(struct plane_source *src, struct plane_buffer *buf,
			    const struct import_frame *frame, const struct damage_map **damage,
			    const char **why);

/* For a small GPU-imported buffer: its pixels as ARGB8888; see import_method.read_argb. */
int plane_source_read_argb(struct plane_source *src, struct plane_buffer *buf, uint8_t *dst,
			   const char **why);

enum plane_id_lifetime plane_source_id_lifetime(const struct plane_source *src);

/* Number of dmabuf fds held, for tests and metrics. */
unsigned plane_source_cached_dmabufs(const struct plane_source *src);

#endif
