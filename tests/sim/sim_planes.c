// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Guest framebuffers, plane queries and dmabuf ids, with the quirks of real
 * drivers: ENOMEM after a mode change, ids recycled once their last fd
 * closes, and the stats that catch a daemon fetching an id twice. The gvt
 * and mbochs personalities answer as those drivers do (sim_driver.c) and
 * count the rules a daemon breaks.
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

static void second_reader_query(int plane);

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

/*
 * gvt/dmabuf.c intel_vgpu_query_plane takes idr_alloc(..., 1, 0, ...): the
 * lowest free id. mbochs.c mbochs_dmabuf_alloc counts next_id up, never back.
 */
static uint32_t alloc_id(void)
{
	uint32_t id = 1;

	if (sim.cfg.driver == SIM_DRIVER_MBOCHS ||
	    (sim.cfg.driver == SIM_DRIVER_GENERIC && !sim.recycle))
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

/*
 * Whether a buffer no plane shows can go. mbochs keeps every dmabuf it made
 * on its list for the device's life (mbochs_dmabuf_alloc; only
 * mbochs_close_device frees them), so nothing bounds their number but the
 * modes a guest sets. A gvt object lives while an fd or its query
 * reference (initref) holds it.
 */
static bool buffer_gone(const struct sim_buffer *buf)
{
	if (!buf->retired || buf->open_fds)
		return false;
	if (sim.cfg.driver == SIM_DRIVER_MBOCHS)
		return buf->slot < 0;
	return sim.cfg.driver != SIM_DRIVER_GVT || !buf->initref;
}

static struct sim_buffer *buffer_new(const struct sim_plane_desc *desc, int slot)
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
	buf->slot = slot;
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
		if (buffer_gone(buf))
			buffer_free(buf);
	}
	p->cur = 0;
}

static struct sim_buffer *current(int plane)
{
	return sim.planes[plane].buf[sim.planes[plane].cur];
}

static bool same_mode(const struct sim_plane_desc *a, const struct sim_plane_desc *b)
{
	return a->fourcc == b->fourcc && a->modifier == b->modifier && a->width == b->width &&
	       a->height == b->height && a->stride == b->stride && a->size == b->size &&
	       a->alloc_size == b->alloc_size;
}

/*
 * The buffer a primary plane of this mode shows from. On mbochs a mode seen
 * before (mbochs_dmabuf_find_by_mode: same geometry and offset; slot stands
 * for the Y offset of a page flip) is the same dmabuf, with its old id and
 * the same video memory.
 */
static struct sim_buffer *plane_buffer(int plane, const struct sim_plane_desc *desc, int slot)
{
	if (sim.cfg.driver != SIM_DRIVER_MBOCHS || plane != DRM_PLANE_TYPE_PRIMARY_SIM)
		return buffer_new(desc, -1);
	for (size_t i = 0; i < sim.n_buffers; i++) {
		struct sim_buffer *buf = sim.buffers[i];

		if (buf->slot == slot && same_mode(&buf->desc, desc)) {
			buf->retired = false;
			return buf;
		}
	}
	return buffer_new(desc, slot);
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
	p->buf[0] = plane_buffer(plane, &d, 0);
	if (!p->buf[0])
		return -ENOMEM;
	second_reader_query(plane);
	/* A mode set again starts as a new one does: cleared. */
	if (!p->buf[0]->owns_memfd)
		return 0;
	return fallocate(p->buf[0]->memfd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0,
			 d.alloc_size) < 0 ? -errno : 0;
}

int sim_plane_reshape(int plane, const struct sim_plane_desc *desc)
{
	struct sim_plane_desc d = *desc;

	if (plane != DRM_PLANE_TYPE_PRIMARY_SIM && plane != DRM_PLANE_TYPE_CURSOR_SIM)
		return -EINVAL;
	struct sim_buffer *buf = current(plane);
	if (!buf)
		return -ENODEV;
	if (!buf->owns_memfd)
		return -EOPNOTSUPP;
	if (!d.alloc_size)
		d.alloc_size = d.size;
	if (!d.fourcc || !d.alloc_size)
		return -EINVAL;
	if (ftruncate(buf->memfd, d.alloc_size) < 0)
		return -errno;
	buf->desc = d;
	return 0;
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
			p->buf[other] = plane_buffer(plane, &buf->desc, 1);
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
	second_reader_query(plane);
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

#define OUT_START offsetof(struct vfio_device_gfx_plane_info, drm_format)
#define OUT_END (offsetof(struct vfio_device_gfx_plane_info, dmabuf_id) + 4)

static void clear_answer(struct vfio_device_gfx_plane_info *info)
{
	memset((char *)info + OUT_START, 0, OUT_END - OUT_START);
}

/*
 * gvt/dmabuf.c intel_vgpu_query_plane. The decoder's -ENODEV for a disabled
 * plane becomes success with the caller's struct copied back as it came. A
 * framebuffer seen before keeps its object and id (pick_dmabuf_by_info), and
 * every query takes the object's query reference again (initref).
 */
static long gvt_query(struct vfio_device_gfx_plane_info *info, int plane)
{
	struct sim_buffer *buf = current(plane);

	sim.latest_id[plane] = 0;
	if (!buf)
		return 0;
	/* fb_decoder.c: a format or tiling it cannot decode is -EINVAL. */
	if (!sim_gvt_plane_ok(plane, &buf->desc))
		return -EINVAL;
	/* vgpu_get_plane_info, after decoding: a surface caught mid mode set is unaligned
	 * or outside the vGPU's range. */
	if (plane == DRM_PLANE_TYPE_PRIMARY_SIM && sim.enomem_armed) {
		sim.enomem_armed = false;
		return -EFAULT;
	}
	clear_answer(info);
	if (!buf->id)
		buf->id = alloc_id();
	buf->initref = true;
	fill_plane(info, plane);
	/* validate_hotspot: a hotspot outside the cursor is unknown. */
	if (info->x_hot > info->width || info->y_hot > info->height)
		info->x_hot = info->y_hot = UINT32_MAX;
	sim.latest_id[plane] = buf->id;
	return 0;
}

/*
 * mbochs.c mbochs_query_gfx_plane: any plane but the primary, and a mode
 * mbochs_check_framebuffer rejects, are success with every field zero. A new
 * mode's dmabuf is made, but the pointer to it is dropped (the return value
 * of mbochs_dmabuf_alloc is ignored): that query fails with ENOMEM and the
 * next finds the dmabuf by its mode.
 */
static long mbochs_query(struct vfio_device_gfx_plane_info *info, bool primary)
{
	struct sim_buffer *buf = primary ? current(DRM_PLANE_TYPE_PRIMARY_SIM) : NULL;

	clear_answer(info);
	if (!buf || !sim_mbochs_mode_ok(&buf->desc))
		return 0;
	if (!buf->id) {
		buf->id = alloc_id();
		if (sim.enomem_quirk)
			return -ENOMEM;
	}
	fill_plane(info, DRM_PLANE_TYPE_PRIMARY_SIM);
	return 0;
}

/*
 * The other reader's query of a plane that just changed, answered as the
 * daemon's would be: the id is allocated now (gvt: the query reference
 * keeps it taken; mbochs: it meets the ENOMEM of a new mode itself; gvt's
 * EFAULT of a surface caught mid mode set is met the same way, and it
 * queries again). Never counted in the daemon's stats.
 */
static void second_reader_query(int plane)
{
	struct vfio_device_gfx_plane_info info = { .argsz = sizeof(info) };

	if (!sim.second_reader || sim.cfg.region_mode)
		return;
	info.drm_plane_type = (uint32_t)plane;
	if (sim.cfg.driver == SIM_DRIVER_MBOCHS) {
		mbochs_query(&info, plane == DRM_PLANE_TYPE_PRIMARY_SIM);
	} else if (sim.cfg.driver == SIM_DRIVER_GVT) {
		if (gvt_query(&info, plane) == -EFAULT)
			gvt_query(&info, plane);
	} else {
		sim.enomem_armed = false;
		fill_plane(&info, plane);
	}
}

long sim_query_plane(void *arg)
{
	struct vfio_device_gfx_plane_info *info = arg;
	const uint32_t mode = sim.cfg.region_mode ? VFIO_GFX_PLANE_TYPE_REGION :
						    VFIO_GFX_PLANE_TYPE_DMABUF;
	uint32_t plane = info->drm_plane_type;
	long ret;

	if (info->argsz < OUT_END)
		return -EINVAL;
	ret = sim_driver_check_flags(info->flags, mode);
	if (ret <= 0)
		return ret;
	if (sim.cfg.driver != SIM_DRIVER_MBOCHS && plane != DRM_PLANE_TYPE_PRIMARY_SIM &&
	    plane != DRM_PLANE_TYPE_CURSOR_SIM)
		return -EINVAL;
	if (plane == DRM_PLANE_TYPE_PRIMARY_SIM)
		sim.stats.query_primary++;
	else
		sim.stats.query_cursor++;
	if (sim.query_eio) {
		sim.query_eio--;
		return -EIO;
	}
	if (plane == DRM_PLANE_TYPE_PRIMARY_SIM) {
		ret = sim_inject_take(SIM_INJECT_QUERY);
		if (ret < 0)
			return ret;
	}
	if (sim.cfg.driver == SIM_DRIVER_MBOCHS)
		return mbochs_query(info, plane == DRM_PLANE_TYPE_PRIMARY_SIM);
	if (sim.cfg.driver == SIM_DRIVER_GVT)
		return gvt_query(info, (int)plane);
	if (plane == DRM_PLANE_TYPE_PRIMARY_SIM && sim.enomem_armed) {
		sim.enomem_armed = false;
		return -ENOMEM;
	}
	clear_answer(info);
	fill_plane(info, (int)plane);
	return 0;
}

/* What the real drivers' GET_GFX_DMABUF does with an id; the rules they need kept. */
static long driver_get(uint32_t id, struct sim_buffer *buf)
{
	switch (sim.cfg.driver) {
	case SIM_DRIVER_GVT:
		/* intel_vgpu_get_dmabuf: an id with no object is "invalid dmabuf id". */
		if (!buf)
			return -EINVAL;
		if (id != sim.latest_id[DRM_PLANE_TYPE_PRIMARY_SIM] &&
		    id != sim.latest_id[DRM_PLANE_TYPE_CURSOR_SIM])
			sim_rule_broken("GET_GFX_DMABUF of id %u, which no plane's latest query "
					"returned: GVT frees ids and gives them to other "
					"framebuffers", id);
		buf->initref = false;
		return 0;
	case SIM_DRIVER_MBOCHS:
		if (!buf)
			return -ENOENT;
		/* mbochs_get_gfx_dmabuf: dma_buf_fd() on the one exported buffer, no reference taken. */
		if (buf->open_fds)
			sim_rule_broken("GET_GFX_DMABUF of id %u while an fd for it is open: mbochs "
					"installs one file in two fds without a reference "
					"(kernel BUG once both close)", id);
		/* mbochs_release_dmabuf put the pages; a new export puts them again. */
		else if (buf->fetched)
			sim_rule_broken("GET_GFX_DMABUF of id %u after its fd was closed: mbochs "
					"puts the video memory pages twice (memory corruption)", id);
		return 0;
	default:
		return buf ? 0 : -ENOENT;
	}
}

long sim_get_dmabuf(void *arg)
{
	uint32_t id;
	struct sim_buffer *buf;
	struct sim_fd *f;
	long ret;
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
	ret = driver_get(id, buf);
	if (ret < 0)
		return ret;
	fd = sim_fd_hand_out(buf->memfd, SIM_FD_DMABUF, &f);
	if (fd < 0)
		return fd;
	f->buf = buf;
	buf->open_fds++;
	buf->fetched = true;
	if (++sim.stats.open_dmabuf_fds > sim.stats.peak_open_dmabuf_fds)
		sim.stats.peak_open_dmabuf_fds = sim.stats.open_dmabuf_fds;
	return fd;
}

/*
 * When the last fd goes: generic frees the id when recycling; a gvt object
 * goes unless a query took it again since its last GET (dmabuf_obj_put);
 * mbochs ids are permanent.
 */
static bool id_freed_on_close(const struct sim_buffer *buf)
{
	switch (sim.cfg.driver) {
	case SIM_DRIVER_GVT:
		return !buf->initref;
	case SIM_DRIVER_MBOCHS:
		return false;
	default:
		return sim.recycle || buf->retired;
	}
}

void sim_dmabuf_closed(struct sim_buffer *buf)
{
	if (--buf->open_fds)
		return;
	if (buf->id && id_freed_on_close(buf)) {
		closed_id_add(buf->id);
		buf->id = 0;
	}
	if (buffer_gone(buf))
		buffer_free(buf);
}

/*
 * The last device fd closed: mbochs_close_device unlinks every dmabuf (its
 * next_id keeps counting up), GVT's intel_vgpu_dmabuf_cleanup frees every
 * object. A new open starts without ids; the guest's framebuffers stay.
 */
void sim_planes_device_closed(void)
{
	if (sim.cfg.driver == SIM_DRIVER_GENERIC)
		return;
	memset(sim.latest_id, 0, sizeof(sim.latest_id));
	for (size_t i = sim.n_buffers; i-- > 0;) {
		struct sim_buffer *buf = sim.buffers[i];

		buf->id = 0;
		buf->fetched = false;
		buf->initref = false;
		if (!buf->retired)
			continue;
		buf->slot = -1; /* unlinked: no mode finds it again */
		if (!buf->open_fds)
			buffer_free(buf);
	}
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
	return sim_inject_take(SIM_INJECT_SYNC);
}

int sim_dmabuf_mmap_check(struct sim_fd *f, off_t off, size_t len, bool gpu_driver)
{
	uint64_t pages = ((uint64_t)f->buf->desc.alloc_size + PAGE_SIZE_SIM - 1) / PAGE_SIZE_SIM;

	if (sim.mmap_errno && !gpu_driver)
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
	case SIM_FAULT_SECOND_READER:
		sim.second_reader = arg != 0;
		return 0;
	case SIM_FAULT_QUERY_ERRNO:
		return sim_inject_arm(SIM_INJECT_QUERY, arg);
	case SIM_FAULT_SYNC_ERRNO:
		return sim_inject_arm(SIM_INJECT_SYNC, arg);
	case SIM_FAULT_LSEEK_ERRNO:
		return sim_inject_arm(SIM_INJECT_LSEEK, arg);
	case SIM_FAULT_IRQ_READ_ERRNO:
		return sim_inject_arm(SIM_INJECT_IRQ_READ, arg);
	default:
		return sim_loss_fault(fault, arg);
	}
}
