// SPDX-License-Identifier: GPL-2.0-or-later
#include "plane.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "fd_util.h"
#include "id_watch.h"
#include "log.h"
#include "vfio_device.h"

struct cached_buffer {
	struct plane_buffer buf;
	int fd;            /* owned dmabuf fd; -1 for a region or a free slot */
	bool used;
	bool imported;     /* buf.map (or buf.import_error) is the import of buf.real_size bytes */
	struct pixel_layout layout; /* the geometry the device gave the id when it was imported */
	uint64_t last_use;
};

struct plane_source {
	struct vfio_device *dev;
	const struct import_method *import;
	enum plane_transport transport;
	uint64_t use_clock;
	enum plane_id_lifetime id_lifetime;
	unsigned capacity;               /* slots in dmabufs; 0 for region planes */
	struct cached_buffer *dmabufs;
	struct log_latch ids_exhausted;
	bool ids_from_bottom; /* GVT-g or mbochs: id_watch.h can tell a second reader */
	struct id_watch ids;
	struct log_latch second_reader;
	struct log_latch id_reshaped;
	struct cached_buffer region; /* the one region a region plane points at */
};

static bool probe(int fd, uint32_t flags)
{
	struct vfio_device_gfx_plane_info info = {
		.argsz = sizeof(info),
		.flags = VFIO_GFX_PLANE_TYPE_PROBE | flags,
	};
	return ioctl(fd, VFIO_DEVICE_QUERY_GFX_PLANE, &info) == 0;
}

/*
 * PCI ids: GVT-g copies the host iGPU's config space (i915 gvt/cfg_space.c,
 * intel_vgpu_init_cfg_space), so any Intel device; mbochs presents QEMU's
 * stdvga 1234:1111 (samples/vfio-mdev/mbochs.c, mbochs_create); mdpy
 * 1b36:000f (mdpy-defs.h) has region planes only.
 */
enum plane_id_lifetime plane_id_lifetime_of(uint16_t vendor, uint16_t device, const char **why)
{
	if (vendor == 0x8086) {
		*why = "Intel GVT-g: an id is freed when its last fd closes, so closing is safe "
		       "and keeps memory bounded";
		return PLANE_IDS_RECYCLED;
	}
	if (vendor == 0x1234 && device == 0x1111)
		*why = "mbochs: ids are permanent per mode, and fetching one again after "
		       "closing it corrupts guest memory";
	else if (vendor == 0x1b36 && device == 0x000f)
		*why = "mdpy: its planes are regions";
	else
		*why = "unknown driver: its ids may be permanent, and closing one that comes "
		       "back could corrupt guest memory";
	return PLANE_IDS_KEPT;
}

/* Decides when dmabuf fds may be closed, from what the device is; says so once. */
static int choose_id_lifetime(struct plane_source *src)
{
	if (src->transport != PLANE_TRANSPORT_DMABUF) {
		/* Region planes have no ids: nothing to read, keep or log. */
		src->id_lifetime = PLANE_IDS_KEPT;
		return 0;
	}
	uint16_t vendor = 0, device = 0;
	const char *why;
	int ret = vfio_device_pci_ids(src->dev, &vendor, &device);
	if (ret < 0)
		log_warning("device (%s): cannot read its PCI ids (%s); treating it as an "
			    "unknown driver", vfio_device_origin(src->dev), strerror(-ret));
	src->id_lifetime = plane_id_lifetime_of(vendor, device, &why);
	src->ids_from_bottom = vendor == 0x8086 || (vendor == 0x1234 && device == 0x1111);
	src->capacity = src->id_lifetime == PLANE_IDS_RECYCLED ? PLANE_DMABUF_CACHE_SIZE
								: PLANE_DMABUF_KEEP_MAX;
	src->dmabufs = calloc(src->capacity, sizeof(*src->dmabufs));
	if (!src->dmabufs)
		return -ENOMEM;
	for (unsigned i = 0; i < src->capacity; i++)
		src->dmabufs[i].fd = -1;
	if (src->id_lifetime == PLANE_IDS_RECYCLED)
		log_info("dmabuf ids: the %u most recently used are kept (device %04x:%04x, %s)",
			 src->capacity, vendor, device, why);
	else
		log_info("dmabuf ids: kept for the device's life, at most %u (device %04x:%04x, %s)",
			 src->capacity, vendor, device, why);
	return 0;
}

int plane_source_new(struct vfio_device *dev, const struct import_method *import,
		     struct plane_source **out)
{
	int fd = vfio_device_fd(dev);
	bool dmabuf = probe(fd, VFIO_GFX_PLANE_TYPE_DMABUF);
	bool region = probe(fd, VFIO_GFX_PLANE_TYPE_REGION);

	log_info("device (%s) offers display planes: dmabuf %s, region %s",
		 vfio_device_origin(dev), dmabuf ? "yes" : "no", region ? "yes" : "no");
	if (!dmabuf && !region) {
		log_error("device (%s) has no display planes (QUERY_GFX_PLANE probe failed for "
			  "both dmabuf and region): not a vGPU with a display, exiting",
			  vfio_device_origin(dev));
		return -ENODEV;
	}

	struct plane_source *src = calloc(1, sizeof(*src));
	if (!src)
		return -ENOMEM;
	src->dev = dev;
	src->import = import;
	/* Dmabuf planes can be imported on a GPU later; prefer them when both exist. */
	src->transport = dmabuf ? PLANE_TRANSPORT_DMABUF : PLANE_TRANSPORT_REGION;
	src->region.fd = -1;
	int ret = choose_id_lifetime(src);
	if (ret < 0) {
		plane_source_free(src);
		return ret;
	}
	*out = src;
	return 0;
}

static void drop_import(struct plane_source *src, struct cached_buffer *entry)
{
	if (entry->imported && entry->buf.import_error == 0)
		src->import->unmap(&entry->buf.map);
	entry->imported = false;
	entry->buf.import_error = 0;
	entry->buf.import_why = NULL;
	entry->buf.read_failed = NULL;
	memset(&entry->buf.map, 0, sizeof(entry->buf.map));
}

static void cached_buffer_release(struct plane_source *src, struct cached_buffer *entry)
{
	if (!entry->used)
		return;
	drop_import(src, entry);
	close_fd(entry->fd);
	memset(entry, 0, sizeof(*entry));
	entry->fd = -1;
}

void plane_source_free(struct plane_source *src)
{
	if (!src)
		return;
	for (unsigned i = 0; src->dmabufs && i < src->capacity; i++)
		cached_buffer_release(src, &src->dmabufs[i]);
	cached_buffer_release(src, &src->region);
	free(src->dmabufs);
	free(src);
}

enum plane_transport plane_source_transport(const struct plane_source *src)
{
	return src->transport;
}

/* Says once when the ids show another process querying the planes (id_watch.h). */
static void watch_ids(struct plane_source *src, uint32_t id)
{
	uint32_t from;
	if (id_watch_note(&src->ids, id, &from))
		log_once(&src->second_reader, LOG_LEVEL_WARNING,
			 "dmabuf id %u came after id %u: ids %u..%u went to plane queries this "
			 "daemon did not make, so another process reads this vGPU's display, most "
			 "likely its QEMU with vfio-pci display=on (keep display=off beside "
			 "mdev-vncd; an earlier run of mdev-vncd on this VM leaves such ids too); "
			 "serving on", id, from - 1, from, id - 1);
}

int plane_source_query(struct plane_source *src, uint32_t drm_plane_type,
		       struct vfio_device_gfx_plane_info *info)
{
	/* Some drivers copy the input back untouched for a disabled plane: start from zero. */
	memset(info, 0, sizeof(*info));
	info->argsz = sizeof(*info);
	info->flags = src->transport == PLANE_TRANSPORT_DMABUF ? VFIO_GFX_PLANE_TYPE_DMABUF
							       : VFIO_GFX_PLANE_TYPE_REGION;
	info->drm_plane_type = drm_plane_type;
	if (ioctl(vfio_device_fd(src->dev), VFIO_DEVICE_QUERY_GFX_PLANE, info) < 0) {
		int err = -errno;
		id_watch_failed(&src->ids);
		return err;
	}
	if (src->ids_from_bottom && plane_info_enabled(info))
		watch_ids(src, info->dmabuf_id);
	return 0;
}

bool plane_info_enabled(const struct vfio_device_gfx_plane_info *info)
{
	return info->drm_format != 0 && info->width != 0 && info->height != 0 && info->size != 0;
}

enum plane_id_lifetime plane_source_id_lifetime(const struct plane_source *src)
{
	return src->id_lifetime;
}

unsigned plane_source_cached_dmabufs(const struct plane_source *src)
{
	unsigned n = 0;
	for (unsigned i = 0; i < src->capacity; i++)
		n += src->dmabufs[i].used;
	return n;
}

static void import_entry(struct plane_source *src, struct cached_buffer *entry,
			 const struct import_request *req)
{
	entry->buf.import_error =
		src->import->map(src->import, req, &entry->buf.map, &entry->buf.import_why);
	entry->imported = true;
}

static struct pixel_layout layout_of(const struct vfio_device_gfx_plane_info *info)
{
	return (struct pixel_layout){
		.fourcc = info->drm_format,
		.modifier = info->drm_format_mod,
		.width = info->width,
		.height = info->height,
		.stride = info->stride,
	};
}

static bool same_layout(const struct pixel_layout *a, const struct pixel_layout *b)
{
	return a->fourcc == b->fourcc && a->modifier == b->modifier && a->width == b->width &&
	       a->height == b->height && a->stride == b->stride;
}

/* The id's slot, a free one, or the least recently used; NULL when none may be taken. */
static struct cached_buffer *dmabuf_slot(struct plane_source *src, uint32_t id)
{
	struct cached_buffer *oldest = NULL;
	for (unsigned i = 0; i < src->capacity; i++) {
		struct cached_buffer *entry = &src->dmabufs[i];
		if (entry->used && entry->buf.id == id)
			return entry;
		if (!oldest || !entry->used || (oldest->used && entry->last_use < oldest->last_use))
			oldest = entry;
	}
	if (oldest->used && src->id_lifetime == PLANE_IDS_KEPT) {
		log_once(&src->ids_exhausted, LOG_LEVEL_WARNING,
			 "dmabuf id %u not fetched: %u ids are held already and this device's "
			 "ids must not be closed; new framebuffers show a placeholder", id,
			 src->capacity);
		return NULL;
	}
	/* Closing the least recently used fd lets the driver recycle that id. */
	cached_buffer_release(src, oldest);
	return oldest;
}

/*
 * Reads the held dmabuf's real size and imports it as the device describes
 * it now. Without the size no pixel of it can be trusted: the caller shows a
 * placeholder, the fd stays held and the next frame asks again, since closing it and fetching the id anew
 * is what a kept-id driver must never see.
 */
static int size_and_import(struct plane_source *src, struct cached_buffer *entry,
			   const struct vfio_device_gfx_plane_info *info)
{
	off_t end = lseek(entry->fd, 0, SEEK_END);
	if (end <= 0)
		return end < 0 ? -errno : -EINVAL;
	entry->buf.real_size = (size_t)end;
	entry->layout = layout_of(info);
	struct import_request req = {
		.fd = entry->fd, .is_dmabuf = true, .size = (size_t)end, .layout = &entry->layout,
	};
	import_entry(src, entry, &req);
	return 0;
}

static int fetch_dmabuf(struct plane_source *src, struct cached_buffer *entry,
			const struct vfio_device_gfx_plane_info *info)
{
	uint32_t id = info->dmabuf_id, dmabuf_id = id;
	int fd = ioctl(vfio_device_fd(src->dev), VFIO_DEVICE_GET_GFX_DMABUF, &dmabuf_id);
	if (fd < 0)
		return -errno;
	entry->used = true;
	entry->fd = fd;
	entry->buf.id = id;
	log_latch_clear(&src->id_reshaped);
	return size_and_import(src, entry, info);
}

/*
 * Drivers keep an id only while format, size and stride stay the same (GVT-g's
 * pick_dmabuf_by_info, mbochs_dmabuf_find_by_mode): an id the device now
 * describes otherwise is still the object the held fd names, so it is
 * imported again, its size read anew, as the device describes it now.
 */
static int check_held(struct plane_source *src, struct cached_buffer *entry,
		      const struct vfio_device_gfx_plane_info *info)
{
	if (!entry->imported)
		return size_and_import(src, entry, info);
	struct pixel_layout now = layout_of(info);
	if (same_layout(&entry->layout, &now))
		return 0;
	log_once(&src->id_reshaped, LOG_LEVEL_WARNING,
		 "dmabuf id %u came back as %ux%u stride %u (was %ux%u stride %u): the device "
		 "changed the buffer under its id; importing it again as described now",
		 entry->buf.id, now.width, now.height, now.stride, entry->layout.width,
		 entry->layout.height, entry->layout.stride);
	drop_import(src, entry);
	return size_and_import(src, entry, info);
}

static int region_buffer(struct plane_source *src, uint32_t index, size_t needed)
{
	struct cached_buffer *entry = &src->region;
	/* A region may grow with the guest's mode under the same index: map it again then. */
	if (entry->used && entry->buf.id == index && entry->buf.real_size >= needed)
		return 0;
	cached_buffer_release(src, entry);

	struct vfio_region_info region;
	int ret = vfio_device_region_info(src->dev, index, &region);
	if (ret < 0)
		return ret;
	if (!(region.flags & VFIO_REGION_INFO_FLAG_MMAP) || region.size == 0)
		return -ENOTSUP;
	entry->used = true;
	entry->buf.id = index;
	entry->buf.real_size = region.size;
	struct import_request req = {
		.fd = vfio_device_fd(src->dev),
		.offset = (off_t)region.offset,
		.size = region.size,
	};
	import_entry(src, entry, &req);
	return 0;
}

int plane_source_buffer(struct plane_source *src, const struct vfio_device_gfx_plane_info *info,
			struct plane_buffer **out)
{
	if (src->transport == PLANE_TRANSPORT_REGION) {
		int ret = region_buffer(src, info->region_index, info->size);
		if (ret < 0)
			return ret;
		*out = &src->region.buf;
		return 0;
	}

	struct cached_buffer *entry = dmabuf_slot(src, info->dmabuf_id);
	if (!entry)
		return -EMFILE;
	entry->last_use = ++src->use_clock;
	int ret = entry->used ? check_held(src, entry, info) : fetch_dmabuf(src, entry, info);
	if (ret < 0)
		return ret;
	*out = &entry->buf;
	return 0;
}

int plane_source_begin_read(struct plane_source *src, struct plane_buffer *buf)
{
	return src->import->begin_read(&buf->map);
}

void plane_source_end_read(struct plane_source *src, struct plane_buffer *buf)
{
	src->import->end_read(&buf->map);
}

int plane_source_read_frame(struct plane_source *src, struct plane_buffer *buf,
			    const struct import_frame *frame, const struct damage_map **damage,
			    const char **why)
{
	if (!src->import->read_frame) {
		*why = "the import method gave no CPU mapping and cannot read frames itself";
		return -ENOTSUP;
	}
	return src->import->read_frame(&buf->map, frame, damage, why);
}

int plane_source_read_argb(struct plane_source *src, struct plane_buffer *buf, uint8_t *dst,
			   const char **why)
{
	if (!src->import->read_argb) {
		*why = "the import method gave no CPU mapping and cannot read pixels itself";
		return -ENOTSUP;
	}
	return src->import->read_argb(&buf->map, dst, why);
}
