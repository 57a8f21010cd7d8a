// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Guest framebuffers, plane queries and dmabuf ids, with the quirks of real
 * drivers: ENOMEM after a mode change, ids recycled once their last fd
 * closes, and the stats that catch a daemon fetching an id twice.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/dma-buf.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sim_internal.h"
#include "sim_uapi.h"

#define PAGE_SIZE_SIM 4096u
#define CLOSED_IDS 64

/* Ids whose last fd was closed, so a later fetch of one can be counted. */
static uint32_t closed_ids[CLOSED_IDS];
static unsigned int closed_next;

static void closed_id_add(uint32_t id)
{
	closed_ids[closed_next++ % CLOSED_IDS] = id;
}

static bool closed_id_take(uint32_t id)
{
	for (unsigned int i = 0; i < CLOSED_IDS; i++) {
		if (closed_ids[i] == id) {
			closed_ids[i] = 0;
			return true;
		}
	}
	return false;
}

static struct sim_buffer *find_by_id(uint32_t id)
{
	for (size_t i = 0; id && i < sim.n_buffers; i++)
		if (sim.buffers[i]->id == id)
			return sim.buffers[i];
	return NULL;
}

static uint32_t alloc_id(void)
{
	uint32_t id = 1;

	if (!sim.recycle)
		id = sim.next_id++;
	else
		while (find_by_id(id))
			id++;
	closed_id_take(id);
	return id;
}

static void buffer_free(struct sim_buffer *buf)
{
	for (size_t i = 0; i < sim.n_buffers; i++) {
		if (sim.buffers[i] == buf) {
			sim.buffers[i] = sim.buffers[--sim.n_buffers];
			break;
		}
	}
	if (buf->owns_memfd)
		real.close(buf->memfd);
	free(buf);
}

static struct sim_buffer *buffer_new(const struct sim_plane_desc *desc)
{
	struct sim_buffer **grown;
	struct sim_buffer *buf = calloc(1, sizeof(*buf));

	if (!buf)
		return NULL;
	grown = realloc(sim.buffers, (sim.n_buffers + 1) * sizeof(*grown));
	if (!grown) {
		free(buf);
		return NULL;
	}
	sim.buffers = grown;
	buf->desc = *desc;
	buf->owns_memfd = !sim.cfg.region_mode;
	if (sim.cfg.region_mode) {
		buf->memfd = sim.device_memfd;
		buf->base = SIM_BAR0_OFFSET;
		fallocate(buf->memfd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, buf->base,
			  desc->alloc_size);
	} else {
		buf->memfd = sim_memfd("dmabuf", desc->alloc_size);
		if (buf->memfd < 0) {
			free(buf);
			return NULL;
		}
	}
	sim.buffers[sim.n_buffers++] = buf;
	return buf;
}

static void plane_retire(struct sim_plane *p)
{
	for (int i = 0; i < 2; i++) {
		struct sim_buffer *buf = p->buf[i];

		p->buf[i] = NULL;
		if (!buf)
			continue;
		buf->retired = true;
		if (!buf->open_fds)
			buffer_free(buf);
	}
	p->cur = 0;
}

static struct sim_buffer *current(int plane)
{
	return sim.planes[plane].buf[sim.planes[plane].cur];
}

int sim_plane_set(int plane, const struct sim_plane_desc *desc)
{
	struct sim_plane_desc d = *desc;
	struct sim_plane *p;

	if (plane != DRM_PLANE_TYPE_PRIMARY_SIM && plane != DRM_PLANE_TYPE_CURSOR_SIM)
		return -EINVAL;
	if (sim.cfg.region_mode && plane == DRM_PLANE_TYPE_CURSOR_SIM)
		return -EOPNOTSUPP;
	if (!d.alloc_size)
		d.alloc_size = d.size;
	if (d.fourcc && (!d.alloc_size || (sim.cfg.region_mode && d.alloc_size > SIM_BAR0_SIZE)))
		return -EINVAL;
	p = &sim.planes[plane];
	plane_retire(p);
	p->x = d.x;
	p->y = d.y;
	if (plane == DRM_PLANE_TYPE_PRIMARY_SIM)
		sim.enomem_armed = sim.enomem_quirk;
	if (!d.fourcc)
		return 0;
	p->buf[0] = buffer_new(&d);
	return p->buf[0] ? 0 : -ENOMEM;
}

int sim_plane_target(int plane, bool flip, struct sim_target *t)
{
	struct sim_plane *p;
	struct sim_buffer *buf;
	int other;

	if (plane != DRM_PLANE_TYPE_PRIMARY_SIM && plane != DRM_PLANE_TYPE_CURSOR_SIM)
		return -EINVAL;
	p = &sim.planes[plane];
	buf = p->buf[p->cur];
	if (!buf)
		return -ENODEV;
	if (flip && !sim.cfg.region_mode) {
		other = !p->cur;
		if (!p->buf[other])
			p->buf[other] = buffer_new(&buf->desc);
		buf = p->buf[other];
		if (!buf)
			return -ENOMEM;
	}
	t->fd = fcntl(buf->memfd, F_DUPFD_CLOEXEC, 0);
	if (t->fd < 0)
		return -errno;
	t->base = buf->base;
	t->cap = buf->desc.alloc_size;
	t->buf = buf;
	return 0;
}

int sim_plane_flip_commit(int plane, const struct sim_buffer *target)
{
	struct sim_plane *p = &sim.planes[plane];

	if (sim.cfg.region_mode)
		return p->buf[p->cur] == target ? 0 : -ESTALE;
	if (p->buf[!p->cur] != target)
		return -ESTALE;
	p->cur = !p->cur;
	return 0;
}

int sim_plane_move_cursor(int32_t x, int32_t y)
{
	sim.planes[DRM_PLANE_TYPE_CURSOR_SIM].x = x;
	sim.planes[DRM_PLANE_TYPE_CURSOR_SIM].y = y;
	return 0;
}

uint64_t sim_fb_region_size(void)
{
	const struct sim_buffer *buf = current(DRM_PLANE_TYPE_PRIMARY_SIM);

	if (!buf)
		return 0;
	return ((uint64_t)buf->desc.alloc_size + PAGE_SIZE_SIM - 1) & ~(uint64_t)(PAGE_SIZE_SIM - 1);
}

static void fill_plane(struct vfio_device_gfx_plane_info *info, int plane)
{
	struct sim_buffer *buf = current(plane);
	const struct sim_plane *p = &sim.planes[plane];

	if (!buf)
		return;
	info->drm_format = buf->desc.fourcc;
	info->drm_format_mod = buf->desc.modifier;
	info->width = buf->desc.width;
	info->height = buf->desc.height;
	info->stride = buf->desc.stride;
	info->size = buf->desc.size;
	if (plane == DRM_PLANE_TYPE_CURSOR_SIM) {
		info->x_pos = (uint32_t)p->x;
		info->y_pos = (uint32_t)p->y;
		info->x_hot = buf->desc.x_hot;
		info->y_hot = buf->desc.y_hot;
	}
	if (sim.cfg.region_mode) {
		info->region_index = SIM_REGION_FB_INDEX;
		return;
	}
	if (!buf->id)
		buf->id = alloc_id();
	info->dmabuf_id = buf->id;
}

/* SIM_FAULT_QUERY_ERRNO: primary queries still to fail, and with which errno. */
static struct {
	uint32_t count;
	int err;
} primary_fault;

long sim_query_plane(void *arg)
{
	struct vfio_device_gfx_plane_info *info = arg;
	const uint32_t mode = sim.cfg.region_mode ? VFIO_GFX_PLANE_TYPE_REGION :
						    VFIO_GFX_PLANE_TYPE_DMABUF;
	const size_t out = offsetof(struct vfio_device_gfx_plane_info, drm_format);
	const size_t end = offsetof(struct vfio_device_gfx_plane_info, dmabuf_id) + 4;
	uint32_t plane;

	if (info->argsz < end)
		return -EINVAL;
	if (info->flags & VFIO_GFX_PLANE_TYPE_PROBE) {
		sim.stats.query_probe++;
		return info->flags == (VFIO_GFX_PLANE_TYPE_PROBE | mode) ? 0 : -EINVAL;
	}
	plane = info->drm_plane_type;
	if (info->flags != mode ||
	    (plane != DRM_PLANE_TYPE_PRIMARY_SIM && plane != DRM_PLANE_TYPE_CURSOR_SIM))
		return -EINVAL;
	if (plane == DRM_PLANE_TYPE_PRIMARY_SIM)
		sim.stats.query_primary++;
	else
		sim.stats.query_cursor++;
	if (sim.query_eio) {
		sim.query_eio--;
		return -EIO;
	}
	if (plane == DRM_PLANE_TYPE_PRIMARY_SIM && primary_fault.count) {
		primary_fault.count--;
		return -primary_fault.err;
	}
	if (plane == DRM_PLANE_TYPE_PRIMARY_SIM && sim.enomem_armed) {
		sim.enomem_armed = false;
		return -ENOMEM;
	}
	memset((char *)info + out, 0, end - out);
	fill_plane(info, (int)plane);
	return 0;
}

long sim_get_dmabuf(void *arg)
{
	uint32_t id;
	struct sim_buffer *buf;
	struct sim_fd *f;
	int fd;

	if (sim.cfg.region_mode)
		return -ENOTTY;
	memcpy(&id, arg, sizeof(id));
	sim.stats.get_dmabuf++;
	if (sim.dmabuf_eio) {
		sim.dmabuf_eio--;
		return -EIO;
	}
	buf = find_by_id(id);
	if (buf && buf->open_fds)
		sim.stats.dmabuf_double_fetch++;
	else if ((buf && buf->fetched) || (!buf && closed_id_take(id)))
		sim.stats.dmabuf_refetch_after_close++;
	if (!buf)
		return -ENOENT;
	fd = sim_fd_hand_out(buf->memfd, SIM_FD_DMABUF, &f);
	if (fd < 0)
		return fd;
	f->buf = buf;
	buf->open_fds++;
	buf->fetched = true;
	sim.stats.open_dmabuf_fds++;
	return fd;
}

void sim_dmabuf_closed(struct sim_buffer *buf)
{
	if (--buf->open_fds)
		return;
	if (buf->id && (sim.recycle || buf->retired)) {
		closed_id_add(buf->id);
		buf->id = 0;
	}
	if (buf->retired)
		buffer_free(buf);
}

long sim_dmabuf_ioctl(struct sim_fd *f, unsigned long req, void *arg)
{
	struct dma_buf_sync *sync = arg;

	if (req != DMA_BUF_IOCTL_SYNC)
		return -ENOTTY;
	if (!sync)
		return -EFAULT;
	if (sync->flags & ~(unsigned long long)DMA_BUF_SYNC_VALID_FLAGS_MASK)
		return -EINVAL;
	if (!(sync->flags & DMA_BUF_SYNC_RW))
		return -EINVAL;
	return 0;
}

int sim_dmabuf_mmap_check(struct sim_fd *f, off_t off, size_t len)
{
	uint64_t pages = ((uint64_t)f->buf->desc.alloc_size + PAGE_SIZE_SIM - 1) / PAGE_SIZE_SIM;

	if (sim.mmap_errno)
		return -sim.mmap_errno;
	if (off < 0 || (uint64_t)off + len > pages * PAGE_SIZE_SIM)
		return -EINVAL;
	return 1;
}

static void set_mmap_refusal(int err, uint64_t on)
{
	if (on)
		sim.mmap_errno = err;
	else if (sim.mmap_errno == err)
		sim.mmap_errno = 0;
}

int sim_fault(uint32_t fault, uint64_t arg)
{
	switch (fault) {
	case SIM_FAULT_ENOMEM_AFTER_MODESET:
		sim.enomem_quirk = arg != 0;
		sim.enomem_armed &= sim.enomem_quirk;
		return 0;
	case SIM_FAULT_QUERY_EIO:
		sim.query_eio = (uint32_t)arg;
		return 0;
	case SIM_FAULT_MMAP_EINVAL:
		set_mmap_refusal(EINVAL, arg);
		return 0;
	case SIM_FAULT_MMAP_ENODEV:
		set_mmap_refusal(ENODEV, arg);
		return 0;
	case SIM_FAULT_DMABUF_EIO:
		sim.dmabuf_eio = (uint32_t)arg;
		return 0;
	case SIM_FAULT_ID_RECYCLE:
		sim.recycle = arg != 0;
		return 0;
	case SIM_FAULT_QUERY_ERRNO:
		if ((arg & 0xffff) == 0 && arg >> 16)
			return -EINVAL;
		primary_fault.err = (int)(arg & 0xffff);
		primary_fault.count = (uint32_t)(arg >> 16) & 0xffff;
		return 0;
	default:
		return -EINVAL;
	}
}
