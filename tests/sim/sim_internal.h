/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VGPU_SIM_INTERNAL_H
#define VGPU_SIM_INTERNAL_H

/*
 * State shared by the modules of libvgpusim. One process-wide instance,
 * guarded by sim.lock: the daemon calls in from many threads, and the control
 * and scene threads change planes underneath it.
 */
#include <dirent.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <linux/vfio.h>

#include "simctl.h"

#define SIM_DEFAULT_UUID "4b20d080-1b54-4048-85b3-a6a62d165c01"
#define SIM_MEMFD_PREFIX "vgpu-sim-"
#define SIM_DMABUF_NAME SIM_MEMFD_PREFIX "dmabuf"

/* DRM_PLANE_TYPE_* as the VFIO query numbers them. */
#define DRM_PLANE_TYPE_PRIMARY_SIM 1
#define DRM_PLANE_TYPE_CURSOR_SIM 2

enum sim_irq_mode {
	SIM_IRQ_NONE,
	SIM_IRQ_DISPLAY,
	SIM_IRQ_DISPLAY_NOCAP,
	SIM_IRQ_MALFORMED_LOOP,
	SIM_IRQ_MALFORMED_OOB,
	SIM_IRQ_MALFORMED_TRUNCATED,
};

/* Which real driver the sim answers like (VGPU_SIM_DRIVER); sim_driver.c. */
enum sim_driver {
	SIM_DRIVER_GENERIC,
	SIM_DRIVER_GVT,
	SIM_DRIVER_MBOCHS,
	SIM_DRIVER_COUNT,
};

enum sim_fd_kind {
	SIM_FD_CONTAINER,
	SIM_FD_GROUP,
	SIM_FD_DEVICE,
	SIM_FD_DMABUF,
	SIM_FD_IOMMUFD,
};

struct sim_config {
	char uuid[64];
	int group;
	bool region_mode;
	bool cdev;
	bool edid;
	bool demo;
	enum sim_irq_mode irq;
	enum sim_driver driver;
	bool mmap_allow; /* VGPU_SIM_MMAP=allow: the fixed mbochs, or a GPU import to come */
	const char *control;
	const char *report;
};

/* Device memory: BAR0 is video memory; region-mode planes live at its start. */
#define SIM_BAR0_OFFSET 0x100000
#define SIM_BAR0_SIZE (64u << 20)

/*
 * A guest framebuffer: bytes [base, base + alloc_size) of memfd. A dmabuf
 * buffer owns its memfd and the daemon gets dups of it; a region-mode buffer
 * lives in the device memory.
 */
struct sim_buffer {
	struct sim_plane_desc desc; /* alloc_size always resolved */
	int memfd;
	off_t base;
	bool owns_memfd;
	uint32_t id;             /* 0 until a query hands one out */
	unsigned int open_fds;   /* dmabuf fds the daemon holds */
	bool fetched;            /* GET_GFX_DMABUF was called for it before */
	bool retired;            /* no plane uses it any more */
	bool initref;            /* gvt: queried, not fetched yet: the id stays taken */
	int slot;                /* mbochs: 0, or 1 for the flip buffer (its Y offset) */
};

struct sim_plane {
	struct sim_buffer *buf[2]; /* double buffering; buf[1] made on first flip */
	int cur;
	int32_t x, y;
};

struct sim_fd {
	int fd;
	enum sim_fd_kind kind;
	dev_t dev;
	ino_t ino;
	struct sim_buffer *buf; /* SIM_FD_DMABUF */
	bool cdev;              /* SIM_FD_DEVICE opened as /dev/vfio/devices/vfio0 */
	bool bound;             /* SIM_FD_DEVICE: usable (group path, or cdev after BIND) */
	bool attached;          /* SIM_FD_DEVICE: IOMMU attached */
	ino_t iommufd_ino;      /* SIM_FD_DEVICE over cdev: the iommufd it is bound to */
	uint32_t ioas_count;    /* SIM_FD_IOMMUFD: IOAS ids handed out, 1..count */
};

struct sim_state {
	pthread_mutex_t lock;
	struct sim_config cfg;
	pid_t pid;
	bool used; /* this process touched a sim path: it owns the report */

	int device_memfd;
	struct sim_plane planes[3]; /* indexed by drm_plane_type: 1 primary, 2 cursor */
	struct sim_buffer **buffers;
	size_t n_buffers;
	uint32_t next_id;

	bool group_open;
	bool group_adopted; /* the group came from the process that opened it (QEMU) */
	bool container_set;
	bool iommu_set;
	unsigned int cdev_open;

	bool enomem_quirk;
	bool enomem_armed;
	bool recycle;
	bool second_reader; /* SIM_FAULT_SECOND_READER */
	uint32_t query_eio;
	uint32_t dmabuf_eio;
	int mmap_errno; /* 0, EINVAL or ENODEV */
	uint32_t latest_id[3]; /* gvt: the id each plane's latest query returned */

	int eventfd;
	int irq_user_fd; /* the daemon's own number of that eventfd, -1 = none */
	bool masked;
	uint64_t pending;

	struct sim_stats stats;

	struct sim_fd *fds;
	size_t n_fds;
	size_t cap_fds;
};

extern struct sim_state sim;

/* Real libc entry points, resolved with dlsym(RTLD_NEXT). */
struct sim_real {
	int (*open)(const char *, int, ...);
	int (*openat)(int, const char *, int, ...);
	int (*close)(int);
	int (*ioctl)(int, unsigned long, ...);
	ssize_t (*readlink)(const char *, char *, size_t);
	ssize_t (*readlinkat)(int, const char *, char *, size_t);
	void *(*mmap)(void *, size_t, int, int, int, off_t);
	off_t (*lseek)(int, off_t, int);
	ssize_t (*read)(int, void *, size_t);
	DIR *(*opendir)(const char *);
	int (*access)(const char *, int);
	int (*stat)(const char *, struct stat *);
	int (*lstat)(const char *, struct stat *);
	int (*xstat)(int, const char *, struct stat *);
	int (*lxstat)(int, const char *, struct stat *);
	int (*fstat)(int, struct stat *);
};
extern struct sim_real real;
void sim_resolve(void);

/* sim_main.c: fd table; callers hold sim.lock. */
struct sim_fd *sim_fd_add(int fd, enum sim_fd_kind kind);
struct sim_fd *sim_fd_find(int fd);
void sim_fd_remove(struct sim_fd *entry);
size_t sim_fd_count(enum sim_fd_kind kind);
/* A sim-private memfd of this size named SIM_MEMFD_PREFIX name, or -errno. */
int sim_memfd(const char *name, off_t size);
/* A CLOEXEC dup of a sim memfd registered as kind, or -errno. */
int sim_fd_hand_out(int memfd, enum sim_fd_kind kind, struct sim_fd **entry);

/* sim_group.c: container, group and iommufd ioctls; lock held. */
int sim_group_open(void);
int sim_container_open(void);
int sim_iommufd_open(void);
int sim_cdev_open(void);
long sim_container_ioctl(struct sim_fd *f, unsigned long req, void *arg);
long sim_group_ioctl(struct sim_fd *f, unsigned long req, void *arg);
long sim_iommufd_ioctl(struct sim_fd *f, unsigned long req, void *arg);
long sim_cdev_ioctl(struct sim_fd *f, unsigned long req, void *arg);
void sim_fd_closed(struct sim_fd *f);

/* sim_device.c: the device fd; lock held. */
int sim_device_init(void);
long sim_device_ioctl(struct sim_fd *f, unsigned long req, void *arg);
int sim_device_mmap_check(off_t off, size_t len);
void sim_irq_fire(uint64_t value);
void sim_irq_release(void);
int sim_edid_read(void *buf, size_t cap, uint32_t *size, uint32_t *link_up);

/* sim_planes.c: framebuffers; lock held. */
long sim_query_plane(void *arg);
long sim_get_dmabuf(void *arg);
long sim_dmabuf_ioctl(struct sim_fd *f, unsigned long req, void *arg);
/*
 * gpu_driver: the mapping is made by the GPU driver importing the dmabuf
 * (see sim_hooks.c's mmap), which the exporter's CPU-mmap refusal does not
 * concern.
 */
int sim_dmabuf_mmap_check(struct sim_fd *f, off_t off, size_t len, bool gpu_driver);
void sim_dmabuf_closed(struct sim_buffer *buf);
void sim_planes_device_closed(void);
int sim_plane_set(int plane, const struct sim_plane_desc *desc);
/* Where a write or flip goes: a private dup of the buffer's memfd (caller closes it). */
struct sim_target {
	int fd;
	off_t base;
	uint64_t cap;
	struct sim_buffer *buf;
};
int sim_plane_target(int plane, bool flip, struct sim_target *t);
int sim_plane_flip_commit(int plane, const struct sim_buffer *target);
int sim_plane_move_cursor(int32_t x, int32_t y);
int sim_fault(uint32_t fault, uint64_t arg);
uint64_t sim_fb_region_size(void);

/* sim_driver.c: the personalities' tables and the rule check; lock held. */
extern const char *const sim_driver_names[SIM_DRIVER_COUNT];
/* Says a real driver's rule was broken (stderr) and counts it. */
void sim_rule_broken(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* vendor, device, subsystem vendor, subsystem device of the PCI config space. */
void sim_driver_pci_ids(uint16_t ids[4]);
int sim_driver_mmap_errno(void);
bool sim_gvt_plane_ok(int plane, const struct sim_plane_desc *d);
bool sim_mbochs_mode_ok(const struct sim_plane_desc *d);
/* PROBE answers (0 or -EINVAL); 1 for a real query with valid flags. */
long sim_driver_check_flags(uint32_t flags, uint32_t mode);

/* sim_inject.c: SIM_FAULT_QUERY_ERRNO and the *_ERRNO faults of the hooks; lock held. */
enum sim_inject {
	SIM_INJECT_QUERY,
	SIM_INJECT_SYNC,
	SIM_INJECT_LSEEK,
	SIM_INJECT_IRQ_READ,
	SIM_INJECT_COUNT,
};
/* arg = errno | count << 16; count 0 ends the fault. */
int sim_inject_arm(enum sim_inject which, uint64_t arg);
/* 0, or the -errno this call fails with (counted in injected_failures). */
long sim_inject_take(enum sim_inject which);
/* Whether calls of this kind are to fail; without the lock, for the hooks' fast path. */
bool sim_inject_pending(enum sim_inject which);
/* sim_planes.c: a current buffer described anew under its id (SIM_OP_RESHAPE_PLANE). */
int sim_plane_reshape(int plane, const struct sim_plane_desc *desc);

/*
 * sim_attach.c: sim objects this process did not open (inherited, received,
 * or copied from a process playing QEMU with pidfd_getfd).
 */
/* fd as one of ours when it is a sim device or group memfd of any process, else NULL; lock held. */
struct sim_fd *sim_adopt_foreign(int fd);
/* path is /proc/PID/fd/N. */
bool sim_is_fd_link(const char *path);
/* readlink of /proc/PID/fd/N, a sim object read as the node it stands for. */
ssize_t sim_fd_link_read(const char *path, char *buf, size_t size);
/* Whether fd is a sim object that stands for a node under /dev; its path in node. */
bool sim_fd_node(int fd, char *node, size_t size);

/* sim_loss.c: the device going away (request IRQ, ioctls failing); lock held. */
bool sim_loss_offers_request(void);
/* 0, or the -errno every device ioctl fails with. */
long sim_loss_ioctl_gate(void);
/* Removed or gone: the sysfs node and new opens are refused. */
bool sim_loss_absent(void);
long sim_loss_request_info(struct vfio_irq_info *info);
long sim_loss_set_request(const struct vfio_irq_set *set);
void sim_loss_device_closed(void);
int sim_loss_fault(uint32_t fault, uint64_t arg);

/* sim_control.c, sim_scene.c */
/* A detached sim thread that never takes the daemon's signals. */
int sim_start_thread(void *(*fn)(void *));
int sim_control_start(const char *path);
void sim_control_stop(void);
int sim_scene_start(void);

#endif
