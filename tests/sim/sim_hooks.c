// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The system-call boundary: libc entry points the daemon calls, diverted to
 * the sim when the path or fd is one of its objects, passed through otherwise.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "sim_internal.h"

#define SIM_EXPORT __attribute__((visibility("default")))

/* glibc's headers no longer declare these, but older binaries still call them. */
SIM_EXPORT int __open_2(const char *path, int flags);
SIM_EXPORT int __open64_2(const char *path, int flags);
SIM_EXPORT int __xstat(int ver, const char *path, struct stat *st);
SIM_EXPORT int __xstat64(int ver, const char *path, struct stat64 *st);
SIM_EXPORT int __lxstat(int ver, const char *path, struct stat *st);
SIM_EXPORT int __lxstat64(int ver, const char *path, struct stat64 *st);

enum sim_path {
	PATH_NONE,   /* not ours: pass through */
	PATH_ABSENT, /* ours, but absent in this configuration */
	PATH_SYSDEV,
	PATH_GROUP_LINK,
	PATH_VFIODEV_DIR,
	PATH_VFIODEV_ENTRY,
	PATH_DEV_VFIO,
	PATH_DEV_VFIO_DEVICES,
	PATH_CONTAINER,
	PATH_GROUP,
	PATH_CDEV,
	PATH_IOMMU,
};

static const char *after_prefix(const char *path, const char *prefix)
{
	size_t n = strlen(prefix);

	return strncmp(path, prefix, n) == 0 ? path + n : NULL;
}

static enum sim_path cdev_only(enum sim_path p)
{
	return sim.cfg.cdev ? p : PATH_ABSENT;
}

static enum sim_path classify_sysfs(const char *rest)
{
	const char *tail = after_prefix(rest, sim.cfg.uuid);

	if (!tail)
		return PATH_NONE;
	if (sim_loss_absent())
		return PATH_ABSENT;
	if (!*tail || strcmp(tail, "/") == 0)
		return PATH_SYSDEV;
	if (strcmp(tail, "/iommu_group") == 0)
		return PATH_GROUP_LINK;
	if (strcmp(tail, "/vfio-dev") == 0)
		return cdev_only(PATH_VFIODEV_DIR);
	if (strcmp(tail, "/vfio-dev/vfio0") == 0)
		return cdev_only(PATH_VFIODEV_ENTRY);
	return PATH_NONE;
}

static enum sim_path classify(const char *path)
{
	const char *rest;
	char group[16];

	if (!path)
		return PATH_NONE;
	rest = after_prefix(path, "/sys/bus/mdev/devices/");
	if (rest)
		return classify_sysfs(rest);
	if (strcmp(path, "/dev/iommu") == 0)
		return cdev_only(PATH_IOMMU);
	if (strcmp(path, "/dev/vfio") == 0)
		return PATH_DEV_VFIO;
	rest = after_prefix(path, "/dev/vfio/");
	if (!rest)
		return PATH_NONE;
	if (strcmp(rest, "vfio") == 0)
		return PATH_CONTAINER;
	if (strcmp(rest, "devices") == 0)
		return cdev_only(PATH_DEV_VFIO_DEVICES);
	if (strcmp(rest, "devices/vfio0") == 0)
		return cdev_only(PATH_CDEV);
	snprintf(group, sizeof(group), "%d", sim.cfg.group);
	return strcmp(rest, group) == 0 ? PATH_GROUP : PATH_NONE;
}

/* A fake inode: directories, the group symlink, and the character devices. */
static int fake_stat(enum sim_path p, bool follow, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = 0x5157000 + p;
	st->st_nlink = 1;
	st->st_blksize = 4096;
	switch (p) {
	case PATH_GROUP_LINK:
		st->st_mode = follow ? S_IFDIR | 0755 : S_IFLNK | 0777;
		return 0;
	case PATH_SYSDEV:
	case PATH_VFIODEV_DIR:
	case PATH_VFIODEV_ENTRY:
	case PATH_DEV_VFIO:
	case PATH_DEV_VFIO_DEVICES:
		st->st_mode = S_IFDIR | 0755;
		return 0;
	case PATH_CONTAINER:
		st->st_mode = S_IFCHR | 0666;
		st->st_rdev = makedev(10, 196);
		return 0;
	case PATH_GROUP:
		st->st_mode = S_IFCHR | 0600;
		st->st_rdev = makedev(243, sim.cfg.group);
		return 0;
	case PATH_CDEV:
		st->st_mode = S_IFCHR | 0600;
		st->st_rdev = makedev(242, 0);
		return 0;
	case PATH_IOMMU:
		st->st_mode = S_IFCHR | 0666;
		st->st_rdev = makedev(10, 123);
		return 0;
	default:
		errno = ENOENT;
		return -1;
	}
}

static int set_errno(long ret)
{
	if (ret >= 0)
		return (int)ret;
	errno = (int)-ret;
	return -1;
}

static int open_sim_path(enum sim_path p, int flags)
{
	int fd;

	pthread_mutex_lock(&sim.lock);
	switch (p) {
	case PATH_CONTAINER:
		fd = sim_container_open();
		break;
	case PATH_GROUP:
		fd = sim_group_open();
		break;
	case PATH_CDEV:
		fd = sim_cdev_open();
		break;
	case PATH_IOMMU:
		fd = sim_iommufd_open();
		break;
	case PATH_ABSENT:
		fd = -ENOENT;
		break;
	default:
		fd = -EISDIR;
		break;
	}
	pthread_mutex_unlock(&sim.lock);
	if (fd >= 0 && !(flags & O_CLOEXEC))
		fcntl(fd, F_SETFD, 0);
	return set_errno(fd);
}

static mode_t open_mode(int flags, va_list ap)
{
	return (flags & (O_CREAT | O_TMPFILE)) ? va_arg(ap, mode_t) : 0;
}

SIM_EXPORT int open(const char *path, int flags, ...)
{
	enum sim_path p;
	va_list ap;
	mode_t mode;

	va_start(ap, flags);
	mode = open_mode(flags, ap);
	va_end(ap);
	sim_resolve();
	p = classify(path);
	if (p != PATH_NONE)
		return open_sim_path(p, flags);
	return real.open(path, flags, mode);
}

SIM_EXPORT int open64(const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	va_start(ap, flags);
	mode = open_mode(flags, ap);
	va_end(ap);
	return open(path, flags | O_LARGEFILE, mode);
}

SIM_EXPORT int __open_2(const char *path, int flags)
{
	return open(path, flags);
}

SIM_EXPORT int __open64_2(const char *path, int flags)
{
	return open(path, flags | O_LARGEFILE);
}

SIM_EXPORT int openat(int dirfd, const char *path, int flags, ...)
{
	enum sim_path p;
	va_list ap;
	mode_t mode;

	va_start(ap, flags);
	mode = open_mode(flags, ap);
	va_end(ap);
	sim_resolve();
	p = path[0] == '/' ? classify(path) : PATH_NONE;
	if (p != PATH_NONE)
		return open_sim_path(p, flags);
	return real.openat(dirfd, path, flags, mode);
}

SIM_EXPORT int openat64(int dirfd, const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	va_start(ap, flags);
	mode = open_mode(flags, ap);
	va_end(ap);
	return openat(dirfd, path, flags | O_LARGEFILE, mode);
}

SIM_EXPORT int close(int fd)
{
	struct sim_fd *entry;
	int ret;

	sim_resolve();
	pthread_mutex_lock(&sim.lock);
	entry = sim_fd_find(fd);
	if (!entry) {
		pthread_mutex_unlock(&sim.lock);
		return real.close(fd);
	}
	/* Forget the entry before the number can be reused by another open. */
	sim_fd_closed(entry);
	sim_fd_remove(entry);
	ret = real.close(fd);
	pthread_mutex_unlock(&sim.lock);
	return ret;
}

static long dispatch_ioctl(struct sim_fd *f, unsigned long req, void *arg)
{
	switch (f->kind) {
	case SIM_FD_CONTAINER:
		return sim_container_ioctl(f, req, arg);
	case SIM_FD_GROUP:
		return sim_group_ioctl(f, req, arg);
	case SIM_FD_DEVICE:
		return sim_device_ioctl(f, req, arg);
	case SIM_FD_DMABUF:
		return sim_dmabuf_ioctl(f, req, arg);
	case SIM_FD_IOMMUFD:
		return sim_iommufd_ioctl(f, req, arg);
	}
	return -ENOTTY;
}

SIM_EXPORT int ioctl(int fd, unsigned long req, ...)
{
	struct sim_fd *entry;
	va_list ap;
	void *arg;
	long ret;

	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	sim_resolve();
	pthread_mutex_lock(&sim.lock);
	entry = sim_fd_find(fd);
	if (!entry)
		entry = sim_adopt_foreign(fd);
	if (!entry) {
		pthread_mutex_unlock(&sim.lock);
		return real.ioctl(fd, req, arg);
	}
	ret = dispatch_ioctl(entry, req, arg);
	pthread_mutex_unlock(&sim.lock);
	return set_errno(ret);
}

/* 0, or the -errno an injected fault makes this call on fd fail with. */
static long injected_on(int fd, enum sim_inject which, bool (*ours)(int fd))
{
	long ret = 0;

	if (!sim_inject_pending(which))
		return 0;
	pthread_mutex_lock(&sim.lock);
	if (ours(fd))
		ret = sim_inject_take(which);
	pthread_mutex_unlock(&sim.lock);
	return ret;
}

static bool is_dmabuf(int fd)
{
	const struct sim_fd *entry = sim_fd_find(fd);

	return entry && entry->kind == SIM_FD_DMABUF;
}

static bool is_irq_eventfd(int fd)
{
	return fd >= 0 && fd == sim.irq_user_fd;
}

/* A dmabuf's size comes from lseek(SEEK_END): SIM_FAULT_LSEEK_ERRNO fails it. */
SIM_EXPORT off_t lseek(int fd, off_t off, int whence)
{
	sim_resolve();
	long ret = injected_on(fd, SIM_INJECT_LSEEK, is_dmabuf);
	if (ret < 0) {
		errno = (int)-ret;
		return -1;
	}
	return real.lseek(fd, off, whence);
}

SIM_EXPORT off64_t lseek64(int fd, off64_t off, int whence)
{
	return lseek(fd, off, whence);
}

/* The display IRQ's eventfd as the daemon reads it: SIM_FAULT_IRQ_READ_ERRNO fails the read. */
SIM_EXPORT ssize_t read(int fd, void *buf, size_t len)
{
	sim_resolve();
	long ret = injected_on(fd, SIM_INJECT_IRQ_READ, is_irq_eventfd);
	if (ret < 0) {
		errno = (int)-ret;
		return -1;
	}
	return real.read(fd, buf, len);
}

static ssize_t group_link(char *buf, size_t size)
{
	char target[64];
	int n = snprintf(target, sizeof(target), "../../../kernel/iommu_groups/%d", sim.cfg.group);

	if ((size_t)n > size)
		n = (int)size;
	memcpy(buf, target, (size_t)n);
	return n;
}

static ssize_t readlink_sim(enum sim_path p, char *buf, size_t size)
{
	if (p == PATH_GROUP_LINK)
		return group_link(buf, size);
	errno = p == PATH_ABSENT ? ENOENT : EINVAL;
	return -1;
}

SIM_EXPORT ssize_t readlink(const char *path, char *buf, size_t size)
{
	enum sim_path p;

	sim_resolve();
	p = classify(path);
	if (p != PATH_NONE)
		return readlink_sim(p, buf, size);
	if (sim_is_fd_link(path))
		return sim_fd_link_read(path, buf, size);
	return real.readlink(path, buf, size);
}

SIM_EXPORT ssize_t readlinkat(int dirfd, const char *path, char *buf, size_t size)
{
	enum sim_path p;

	sim_resolve();
	p = path[0] == '/' ? classify(path) : PATH_NONE;
	if (p != PATH_NONE)
		return readlink_sim(p, buf, size);
	return real.readlinkat(dirfd, path, buf, size);
}

/*
 * A real GVT-g dmabuf is refused to every CPU mapping, yet the GPU driver
 * imports it: i915 reads it through the GPU's page tables, with no CPU map
 * of the dma-buf. Here the GPU is Mesa's llvmpipe, which imports a dmabuf
 * by mapping it. So the sim tells the two apart by who maps: a mapping made
 * from inside the GPU driver's library (libgallium-*.so, Mesa's drivers;
 * VGPU_SIM_GPU_DRIVER names another) is the GPU's access and is allowed;
 * any other (the daemon's own CPU map) gets the exporter's refusal.
 */
static bool from_gpu_driver(const void *caller)
{
	const char *lib = getenv("VGPU_SIM_GPU_DRIVER");
	Dl_info info;

	if (!lib || !*lib)
		lib = "libgallium";
	if (!dladdr(caller, &info) || !info.dli_fname)
		return false;
	const char *base = strrchr(info.dli_fname, '/');
	return strncmp(base ? base + 1 : info.dli_fname, lib, strlen(lib)) == 0;
}

/*
 * Before a software GPU imports a dmabuf the daemon asks, on that GPU's
 * behalf, whether it may map it (import_egl.c software_map_refused): a
 * PROT_NONE mapping, answered as the GPU driver's own.
 */
static int mmap_check(int fd, off_t off, size_t len, int prot, const void *caller)
{
	struct sim_fd *entry;
	int ret = 1;

	pthread_mutex_lock(&sim.lock);
	entry = sim_fd_find(fd);
	if (entry && entry->kind == SIM_FD_DMABUF)
		ret = sim_dmabuf_mmap_check(entry, off, len,
					    prot == PROT_NONE || from_gpu_driver(caller));
	else if (entry && entry->kind == SIM_FD_DEVICE)
		ret = sim_device_mmap_check(off, len);
	else if (entry)
		ret = -ENODEV;
	pthread_mutex_unlock(&sim.lock);
	return ret;
}

static void *mmap_from(void *addr, size_t len, int prot, int flags, int fd, off_t off,
		       const void *caller)
{
	int ret;

	/* malloc maps anonymous memory, possibly while dlsym is still resolving. */
	if (!real.mmap)
		return (void *)syscall(SYS_mmap, addr, len, prot, flags, fd, off);
	if (!(flags & MAP_ANONYMOUS) && fd >= 0) {
		ret = mmap_check(fd, off, len, prot, caller);
		if (ret < 0) {
			errno = -ret;
			return MAP_FAILED;
		}
	}
	return real.mmap(addr, len, prot, flags, fd, off);
}

SIM_EXPORT void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	return mmap_from(addr, len, prot, flags, fd, off, __builtin_return_address(0));
}

SIM_EXPORT void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off64_t off)
{
	return mmap_from(addr, len, prot, flags, fd, off, __builtin_return_address(0));
}

static char vfiodev_dir[64];
static pid_t vfiodev_owner;

/* A real directory holding "vfio0", so readdir works unchanged on the DIR *. */
static const char *vfiodev_listing(void)
{
	char entry[96];

	if (vfiodev_dir[0])
		return vfiodev_dir;
	snprintf(vfiodev_dir, sizeof(vfiodev_dir), "/tmp/vgpu-sim-vfio-dev-XXXXXX");
	if (!mkdtemp(vfiodev_dir)) {
		vfiodev_dir[0] = '\0';
		return NULL;
	}
	snprintf(entry, sizeof(entry), "%s/vfio0", vfiodev_dir);
	mkdir(entry, 0755);
	vfiodev_owner = getpid();
	return vfiodev_dir;
}

__attribute__((destructor)) static void vfiodev_listing_done(void)
{
	char entry[96];

	if (!vfiodev_dir[0] || vfiodev_owner != getpid())
		return;
	snprintf(entry, sizeof(entry), "%s/vfio0", vfiodev_dir);
	rmdir(entry);
	rmdir(vfiodev_dir);
}

SIM_EXPORT DIR *opendir(const char *path)
{
	enum sim_path p;
	const char *dir;

	sim_resolve();
	p = classify(path);
	if (p == PATH_NONE)
		return real.opendir(path);
	if (p != PATH_VFIODEV_DIR) {
		errno = p == PATH_ABSENT ? ENOENT : ENOTDIR;
		return NULL;
	}
	pthread_mutex_lock(&sim.lock);
	dir = vfiodev_listing();
	pthread_mutex_unlock(&sim.lock);
	if (!dir) {
		errno = EIO;
		return NULL;
	}
	return real.opendir(dir);
}

/* 0 or -1 (errno set) for our paths; 1 when the path is not ours. */
static int sim_stat(const char *path, bool follow, struct stat *st)
{
	enum sim_path p;

	sim_resolve();
	p = classify(path);
	return p == PATH_NONE ? 1 : fake_stat(p, follow, st);
}

SIM_EXPORT int access(const char *path, int mode)
{
	struct stat st;
	int ret = sim_stat(path, true, &st);

	return ret == 1 ? real.access(path, mode) : ret;
}

SIM_EXPORT int stat(const char *path, struct stat *st)
{
	int ret = sim_stat(path, true, st);

	return ret == 1 ? real.stat(path, st) : ret;
}

SIM_EXPORT int lstat(const char *path, struct stat *st)
{
	int ret = sim_stat(path, false, st);

	return ret == 1 ? real.lstat(path, st) : ret;
}

/*
 * A sim object's fd is its node's character device, as the kernel's fstat
 * says (mode and rdev: the daemon matches QEMU's fds by them); its dev and
 * inode stay the memfd's, by which the sim knows its own files.
 */
SIM_EXPORT int fstat(int fd, struct stat *st)
{
	char node[64];
	struct stat as_node;

	sim_resolve();
	if (real.fstat(fd, st) < 0)
		return -1;
	if (sim_fd_node(fd, node, sizeof(node)) && fake_stat(classify(node), true, &as_node) == 0) {
		st->st_mode = as_node.st_mode;
		st->st_rdev = as_node.st_rdev;
	}
	return 0;
}

SIM_EXPORT int fstat64(int fd, struct stat64 *st)
{
	return fstat(fd, (struct stat *)st);
}

/* On x86_64 and aarch64 struct stat64 and struct stat are one layout. */
SIM_EXPORT int stat64(const char *path, struct stat64 *st)
{
	return stat(path, (struct stat *)st);
}

SIM_EXPORT int lstat64(const char *path, struct stat64 *st)
{
	return lstat(path, (struct stat *)st);
}

SIM_EXPORT int __xstat(int ver, const char *path, struct stat *st)
{
	int ret = sim_stat(path, true, st);

	if (ret != 1)
		return ret;
	return real.xstat ? real.xstat(ver, path, st) : real.stat(path, st);
}

SIM_EXPORT int __lxstat(int ver, const char *path, struct stat *st)
{
	int ret = sim_stat(path, false, st);

	if (ret != 1)
		return ret;
	return real.lxstat ? real.lxstat(ver, path, st) : real.lstat(path, st);
}

SIM_EXPORT int __xstat64(int ver, const char *path, struct stat64 *st)
{
	return __xstat(ver, path, (struct stat *)st);
}

SIM_EXPORT int __lxstat64(int ver, const char *path, struct stat64 *st)
{
	return __lxstat(ver, path, (struct stat *)st);
}
