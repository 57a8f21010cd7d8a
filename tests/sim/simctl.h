/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VGPU_SIMCTL_H
#define VGPU_SIMCTL_H

/*
 * Client of the simulated vGPU's control socket ($VGPU_SIM_CONTROL): tests
 * play the guest's part through it, frame by frame. One request at a time
 * per struct simctl; every call waits for the sim's answer.
 */
#include <stddef.h>
#include <stdint.h>

struct simctl;

struct sim_plane_desc {
	uint32_t fourcc; /* DRM_FORMAT_*; 0 = plane disabled */
	uint64_t modifier;
	uint32_t width, height, stride;
	uint32_t size;       /* size reported to the daemon */
	uint32_t alloc_size; /* real buffer size; 0 = same as size (set differently to lie) */
	int32_t x, y;        /* cursor position */
	uint32_t x_hot, y_hot;
};

struct sim_stats {
	uint64_t query_primary, query_cursor, query_probe, get_dmabuf, set_irqs, irq_signals,
		dmabuf_double_fetch, dmabuf_refetch_after_close;
	uint32_t open_dmabuf_fds, device_fds_open;
	/* Appended: a real driver's rule broken (sim_driver.c); the most dmabuf fds held at once. */
	uint32_t rules_broken, peak_open_dmabuf_fds;
	/* Appended: calls the SYNC, LSEEK and IRQ_READ faults below made fail. */
	uint64_t injected_failures;
};

enum sim_fault {
	SIM_FAULT_ENOMEM_AFTER_MODESET, /* arg 0/1: quirk off/on (default on) */
	SIM_FAULT_QUERY_EIO,            /* arg N: the next N queries fail with EIO */
	SIM_FAULT_MMAP_EINVAL,          /* arg 0/1: refuse dmabuf mmap like stock mbochs */
	SIM_FAULT_MMAP_ENODEV,          /* arg 0/1: refuse dmabuf mmap like GVT-g */
	SIM_FAULT_DMABUF_EIO,           /* arg N: next N GET_GFX_DMABUF fail with EIO */
	/* Extensions beyond the agreed list; appended so the values above hold. */
	SIM_FAULT_ID_RECYCLE, /* arg 0/1: release an id when its last fd closes (default on) */
	/*
	 * arg = errno | count << 16: the next count primary-plane queries fail with
	 * that errno (EFAULT as GVT-g gives during a mode set, ENOMEM, EAGAIN...);
	 * count 0 ends a fault still pending. Cursor queries are unaffected.
	 */
	SIM_FAULT_QUERY_ERRNO,
	/*
	 * arg ENODEV or EIO: the device is gone, every device ioctl fails with
	 * it and the mdev's sysfs node is absent; 0: the device is back.
	 */
	SIM_FAULT_DEVICE_GONE,
	/*
	 * A removal (mdevctl stop): new opens fail, the request IRQ is signalled
	 * and open fds work until released. -ENOENT: no request eventfd was set.
	 * SIM_FAULT_DEVICE_GONE 0 brings the device back.
	 */
	SIM_FAULT_DEVICE_REQUEST,
	/* arg ENODEV or EIO: gone as SIM_FAULT_DEVICE_GONE, and poll() on the device fd says POLLHUP. */
	SIM_FAULT_DEVICE_HANGUP,
	/*
	 * arg 0/1: another process reads the display too (QEMU with display=on):
	 * it queries every plane the guest sets or flips to, at once, so each
	 * gets its id then, whether the daemon ever queries it or not.
	 */
	SIM_FAULT_SECOND_READER,
	/*
	 * arg = errno | count << 16, as SIM_FAULT_QUERY_ERRNO, at the system-call
	 * boundary: the next count DMA_BUF_IOCTL_SYNC ioctls on a dmabuf fd, lseek
	 * calls on a dmabuf fd, or read calls on the display IRQ's eventfd (the fd
	 * the daemon gave SET_IRQS) fail with that errno. Each failure made counts
	 * in injected_failures.
	 */
	SIM_FAULT_SYNC_ERRNO,
	SIM_FAULT_LSEEK_ERRNO,
	SIM_FAULT_IRQ_READ_ERRNO,
};
/* The count of an *_ERRNO fault that fails every call until the fault is set again. */
#define SIM_FAULT_COUNT_ENDLESS 0xffffu

/* Connects, retrying until the sim answers or timeout_ms passes. NULL on failure. */
struct simctl *simctl_connect(const char *socket_path, int timeout_ms);
void simctl_free(struct simctl *ctl);
/*
 * New mode: a new zero-filled buffer (new dmabuf id) with this geometry becomes
 * the plane's current buffer (arms the ENOMEM quirk for primary). fourcc 0
 * disables the plane (the query then returns all zeros). plane: 1 primary,
 * 2 cursor.
 */
int simctl_set_plane(struct simctl *ctl, int plane, const struct sim_plane_desc *desc);
/* Writes bytes into the current buffer of the plane at offset (same dmabuf id). */
/*
 * A device breaking its id rule: the plane's current buffer keeps its dmabuf
 * id and its pixels but is described with this geometry from now on (its
 * memory grown or cut to the new alloc_size). Dmabuf mode only.
 */
int simctl_reshape_plane(struct simctl *ctl, int plane, const struct sim_plane_desc *desc);
int simctl_write(struct simctl *ctl, int plane, size_t offset, const void *data, size_t len);
/*
 * Page flip: the plane's other buffer (double buffering, same geometry; ids
 * alternate like mbochs: going back returns the old id) gets these bytes
 * (len <= alloc size) and becomes current.
 */
int simctl_flip(struct simctl *ctl, int plane, const void *data, size_t len);
int simctl_move_cursor(struct simctl *ctl, int32_t x, int32_t y);
int simctl_fault(struct simctl *ctl, enum sim_fault fault, uint32_t arg);
/* Fires the display-event IRQ with this value (OR of plane bits). */
int simctl_irq(struct simctl *ctl, uint64_t value);
int simctl_stats(struct simctl *ctl, struct sim_stats *out);
/* Reads back the EDID blob last written (link state, size), for EDID tests. */
/*
 * The guest's side of the plane's buffers, for writing frames straight into
 * them (a benchmark that must not charge the daemon for the guest's drawing):
 * out[0] is the current buffer, out[1] the one the next flip shows (a flip
 * with no bytes just switches; region mode has one buffer). The caller owns
 * the fds. Returns the number of buffers or a negative errno.
 */
struct simctl_buffer {
	int fd;        /* the buffer's memfd */
	uint64_t base; /* where the pixels start in it */
	uint64_t size;
};
int simctl_buffers(struct simctl *ctl, int plane, struct simctl_buffer out[2]);
int simctl_edid(struct simctl *ctl, void *buf, size_t cap, uint32_t *size, uint32_t *link_up);

#endif
