// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Self-test of libvgpusim, run under LD_PRELOAD: raw syscalls and ioctls,
 * exactly as the daemon makes them, against the kernel ABI.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libdrm/drm_fourcc.h>
#include <linux/dma-buf.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "sim_uapi.h"
#include "test_sim.h"

#define UUID "4b20d080-1b54-4048-85b3-a6a62d165c01"
#define SYSDEV "/sys/bus/mdev/devices/" UUID

struct simctl *test_ctl;

int test_ioctl(int fd, unsigned long req, void *arg)
{
	return ioctl(fd, req, arg) < 0 ? -errno : 0;
}

static int group_number(void)
{
	char link[128];
	ssize_t n = readlink(SYSDEV "/iommu_group", link, sizeof(link) - 1);
	const char *slash;

	assert_true(n > 0);
	link[n] = '\0';
	assert_non_null(strstr(link, "kernel/iommu_groups/"));
	slash = strrchr(link, '/');
	return atoi(slash + 1);
}

static void open_group_path(struct test_dev *d)
{
	struct vfio_group_status status = { .argsz = sizeof(status) };
	char path[64];
	int type = VFIO_TYPE1v2_IOMMU;

	snprintf(path, sizeof(path), "/dev/vfio/%d", group_number());
	d->container = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	assert_true(d->container >= 0);
	assert_int_equal(ioctl(d->container, VFIO_GET_API_VERSION), VFIO_API_VERSION);
	assert_int_equal(ioctl(d->container, VFIO_CHECK_EXTENSION, type), 1);
	d->group = open(path, O_RDWR | O_CLOEXEC);
	assert_true(d->group >= 0);
	assert_int_equal(test_ioctl(d->group, VFIO_GROUP_GET_STATUS, &status), 0);
	assert_true(status.flags & VFIO_GROUP_FLAGS_VIABLE);
	/* The IOMMU type needs a group in the container first. */
	assert_int_equal(ioctl(d->container, VFIO_SET_IOMMU, type) < 0 ? -errno : 0, -EINVAL);
	assert_int_equal(test_ioctl(d->group, VFIO_GROUP_SET_CONTAINER, &d->container), 0);
	assert_int_equal(ioctl(d->container, VFIO_SET_IOMMU, type), 0);
	assert_int_equal(test_ioctl(d->group, VFIO_GROUP_GET_DEVICE_FD, "not-our-uuid"), -ENODEV);
	d->device = ioctl(d->group, VFIO_GROUP_GET_DEVICE_FD, UUID);
	assert_true(d->device >= 0);
}

static void open_cdev_path(struct test_dev *d)
{
	struct vfio_device_bind_iommufd bind = { .argsz = sizeof(bind) };
	struct iommu_ioas_alloc ioas = { .size = sizeof(ioas) };
	struct vfio_device_attach_iommufd_pt attach = { .argsz = sizeof(attach) };
	struct vfio_device_info info = { .argsz = sizeof(info) };

	d->device = open("/dev/vfio/devices/vfio0", O_RDWR | O_CLOEXEC);
	assert_true(d->device >= 0);
	assert_int_equal(test_ioctl(d->device, VFIO_DEVICE_GET_INFO, &info), -EINVAL);
	d->iommufd = open("/dev/iommu", O_RDWR | O_CLOEXEC);
	assert_true(d->iommufd >= 0);
	bind.iommufd = d->iommufd;
	assert_int_equal(test_ioctl(d->device, VFIO_DEVICE_BIND_IOMMUFD, &bind), 0);
	assert_int_equal(test_ioctl(d->iommufd, IOMMU_IOAS_ALLOC, &ioas), 0);
	attach.pt_id = ioas.out_ioas_id + 1;
	assert_int_equal(test_ioctl(d->device, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &attach), -ENOENT);
	attach.pt_id = ioas.out_ioas_id;
	assert_int_equal(test_ioctl(d->device, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &attach), 0);
}

void test_dev_open(struct test_dev *d, bool cdev)
{
	*d = (struct test_dev){ -1, -1, -1, -1 };
	if (cdev)
		open_cdev_path(d);
	else
		open_group_path(d);
}

void test_dev_close(struct test_dev *d)
{
	int *fds[] = { &d->device, &d->iommufd, &d->group, &d->container };

	for (size_t i = 0; i < 4; i++) {
		if (*fds[i] >= 0)
			assert_int_equal(close(*fds[i]), 0);
		*fds[i] = -1;
	}
}

int test_dev_query(struct test_dev *d, uint32_t plane, struct vfio_device_gfx_plane_info *info)
{
	memset(info, 0, sizeof(*info));
	info->argsz = sizeof(*info);
	info->flags = VFIO_GFX_PLANE_TYPE_DMABUF;
	info->drm_plane_type = plane;
	return test_ioctl(d->device, VFIO_DEVICE_QUERY_GFX_PLANE, info);
}

void test_set_primary(struct test_dev *d, uint32_t w, uint32_t h)
{
	struct sim_plane_desc desc = { .fourcc = DRM_FORMAT_XRGB8888, .width = w, .height = h,
				       .stride = w * 4, .size = w * h * 4 };
	struct vfio_device_gfx_plane_info info;

	assert_int_equal(simctl_set_plane(test_ctl, 1, &desc), 0);
	assert_int_equal(test_dev_query(d, 1, &info), -ENOMEM);
}

static void test_group_path(void **state)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };
	struct test_dev d;
	struct stat st;

	assert_int_equal(stat("/dev/vfio/vfio", &st), 0);
	assert_true(S_ISCHR(st.st_mode));
	assert_int_equal(lstat(SYSDEV "/iommu_group", &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	assert_int_equal(access("/dev/iommu", F_OK) < 0 ? errno : 0, ENOENT);
	test_dev_open(&d, false);
	/* A group is open in one place at a time. */
	assert_int_equal(open("/dev/vfio/42", O_RDWR) < 0 ? errno : 0, EBUSY);
	assert_int_equal(test_ioctl(d.device, VFIO_DEVICE_GET_INFO, &info), 0);
	assert_true(info.flags & VFIO_DEVICE_FLAGS_PCI);
	assert_int_equal(info.num_regions, 10);
	assert_int_equal(info.num_irqs, 6);
	test_dev_close(&d);
	d.group = open("/dev/vfio/42", O_RDWR | O_CLOEXEC);
	assert_true(d.group >= 0);
	assert_int_equal(close(d.group), 0);
}

static void test_cdev_path(void **state)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };
	struct dirent *e;
	struct test_dev d;
	bool found = false;
	DIR *dir;

	assert_int_equal(access("/dev/iommu", F_OK), 0);
	assert_int_equal(access("/dev/vfio/devices/vfio0", R_OK | W_OK), 0);
	dir = opendir(SYSDEV "/vfio-dev");
	assert_non_null(dir);
	while ((e = readdir(dir)))
		found |= strcmp(e->d_name, "vfio0") == 0;
	closedir(dir);
	assert_true(found);
	test_dev_open(&d, true);
	assert_int_equal(open("/dev/vfio/42", O_RDWR) < 0 ? errno : 0, EBUSY);
	assert_int_equal(test_ioctl(d.device, VFIO_DEVICE_GET_INFO, &info), 0);
	assert_int_equal(info.num_regions, 10);
	test_dev_close(&d);
}

static void test_region_info(void **state)
{
	struct vfio_region_info info = { .argsz = sizeof(info), .index = 0 };
	uint16_t ids[2];
	struct test_dev d;
	void *bar;

	test_dev_open(&d, false);
	assert_int_equal(test_ioctl(d.device, VFIO_DEVICE_GET_REGION_INFO, &info), 0);
	assert_true(info.flags & VFIO_REGION_INFO_FLAG_MMAP);
	assert_true(info.size >= 16u << 20);
	assert_true(info.offset != 0);
	bar = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, d.device, (off_t)info.offset);
	assert_true(bar != MAP_FAILED);
	munmap(bar, 4096);
	/* Only mmap-able regions map. */
	info.index = VFIO_PCI_CONFIG_REGION_INDEX;
	assert_int_equal(test_ioctl(d.device, VFIO_DEVICE_GET_REGION_INFO, &info), 0);
	assert_true(mmap(NULL, 4096, PROT_READ, MAP_SHARED, d.device, (off_t)info.offset) ==
		    MAP_FAILED);
	assert_int_equal(pread(d.device, ids, sizeof(ids), (off_t)info.offset), sizeof(ids));
	assert_int_equal(ids[0], 0x1234);
	info.argsz = sizeof(info) - 1;
	assert_int_equal(test_ioctl(d.device, VFIO_DEVICE_GET_REGION_INFO, &info), -EINVAL);
	info = (struct vfio_region_info){ .argsz = sizeof(info), .index = 10 };
	assert_int_equal(test_ioctl(d.device, VFIO_DEVICE_GET_REGION_INFO, &info), -EINVAL);
	test_dev_close(&d);
}

static void test_query_plane(void **state)
{
	struct sim_plane_desc cursor = { .fourcc = DRM_FORMAT_ARGB8888, .width = 64, .height = 64,
					 .stride = 256, .size = 16384, .x = 10, .y = -5,
					 .x_hot = 0xFFFFFFFF, .y_hot = 0xFFFFFFFF };
	struct sim_plane_desc off = { 0 };
	struct vfio_device_gfx_plane_info info = { .argsz = sizeof(info) };
	struct test_dev d;

	test_dev_open(&d, false);
	info.flags = VFIO_GFX_PLANE_TYPE_PROBE | VFIO_GFX_PLANE_TYPE_DMABUF;
	assert_int_equal(test_ioctl(d.device, VFIO_DEVICE_QUERY_GFX_PLANE, &info), 0);
	info.flags = VFIO_GFX_PLANE_TYPE_PROBE | VFIO_GFX_PLANE_TYPE_REGION;
	assert_int_equal(test_ioctl(d.device, VFIO_DEVICE_QUERY_GFX_PLANE, &info), -EINVAL);
	test_set_primary(&d, 800, 600);
	assert_int_equal(test_dev_query(&d, 1, &info), 0);
	assert_int_equal(info.drm_format, DRM_FORMAT_XRGB8888);
	assert_int_equal(info.width, 800);
	assert_int_equal(info.height, 600);
	assert_int_equal(info.stride, 3200);
	assert_int_equal(info.size, 800 * 600 * 4);
	assert_true(info.dmabuf_id != 0);
	assert_int_equal(simctl_set_plane(test_ctl, 2, &cursor), 0);
	assert_int_equal(simctl_move_cursor(test_ctl, 100, 200), 0);
	assert_int_equal(test_dev_query(&d, 2, &info), 0);
	assert_int_equal(info.x_pos, 100);
	assert_int_equal(info.y_pos, 200);
	assert_int_equal(info.x_hot, 0xFFFFFFFF);
	assert_int_equal(info.width, 64);
	/* A disabled plane: success with every output zero. */
	assert_int_equal(simctl_set_plane(test_ctl, 2, &off), 0);
	memset(&info, 0xab, sizeof(info));
	info.argsz = sizeof(info);
	info.flags = VFIO_GFX_PLANE_TYPE_DMABUF;
	info.drm_plane_type = 2;
	assert_int_equal(test_ioctl(d.device, VFIO_DEVICE_QUERY_GFX_PLANE, &info), 0);
	assert_int_equal(info.drm_format | info.width | info.height | info.size | info.dmabuf_id,
			 0);
	assert_int_equal(info.drm_format_mod, 0);
	info.drm_plane_type = 3;
	assert_int_equal(test_ioctl(d.device, VFIO_DEVICE_QUERY_GFX_PLANE, &info), -EINVAL);
	test_dev_close(&d);
}

int test_dev_get_dmabuf(struct test_dev *d, uint32_t id)
{
	int fd = ioctl(d->device, VFIO_DEVICE_GET_GFX_DMABUF, &id);

	return fd < 0 ? -errno : fd;
}

static uint32_t primary_id(struct test_dev *d)
{
	struct vfio_device_gfx_plane_info info;

	assert_int_equal(test_dev_query(d, 1, &info), 0);
	return info.dmabuf_id;
}

static void test_dmabuf(void **state)
{
	struct dma_buf_sync sync = { .flags = DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ };
	static const uint32_t pixels[4] = { 0x11223344, 0x55667788, 1, 2 };
	struct test_dev d;
	uint32_t *map;
	int fd;

	test_dev_open(&d, false);
	test_set_primary(&d, 64, 32);
	fd = test_dev_get_dmabuf(&d, primary_id(&d));
	assert_true(fd >= 0);
	assert_int_equal(lseek(fd, 0, SEEK_END), 64 * 32 * 4);
	map = mmap(NULL, 64 * 32 * 4, PROT_READ, MAP_SHARED, fd, 0);
	assert_true(map != MAP_FAILED);
	assert_int_equal(simctl_write(test_ctl, 1, 64 * 4, pixels, sizeof(pixels)), 0);
	assert_int_equal(test_ioctl(fd, DMA_BUF_IOCTL_SYNC, &sync), 0);
	assert_memory_equal(map + 64, pixels, sizeof(pixels));
	sync.flags = DMA_BUF_SYNC_END | DMA_BUF_SYNC_RW;
	assert_int_equal(test_ioctl(fd, DMA_BUF_IOCTL_SYNC, &sync), 0);
	sync.flags = DMA_BUF_SYNC_START;
	assert_int_equal(test_ioctl(fd, DMA_BUF_IOCTL_SYNC, &sync), -EINVAL);
	sync.flags = DMA_BUF_SYNC_READ | 8;
	assert_int_equal(test_ioctl(fd, DMA_BUF_IOCTL_SYNC, &sync), -EINVAL);
	/* Writes beyond the buffer are refused. */
	assert_int_equal(simctl_write(test_ctl, 1, 64 * 32 * 4 - 4, pixels, 8), -EINVAL);
	munmap(map, 64 * 32 * 4);
	assert_int_equal(close(fd), 0);
	assert_int_equal(test_dev_get_dmabuf(&d, 9999), -ENOENT);
	test_dev_close(&d);
}

static void test_flip_ids(void **state)
{
	static const uint32_t red = 0xffff0000;
	struct sim_stats before, after;
	uint32_t a, b, px = 0;
	struct test_dev d;
	int fa, fb, again;

	test_dev_open(&d, false);
	test_set_primary(&d, 16, 16);
	assert_int_equal(simctl_stats(test_ctl, &before), 0);
	a = primary_id(&d);
	fa = test_dev_get_dmabuf(&d, a);
	assert_int_equal(simctl_flip(test_ctl, 1, &red, sizeof(red)), 0);
	b = primary_id(&d);
	assert_int_not_equal(a, b);
	fb = test_dev_get_dmabuf(&d, b);
	assert_int_equal(pread(fb, &px, sizeof(px), 0), sizeof(px));
	assert_int_equal(px, red);
	assert_int_equal(simctl_flip(test_ctl, 1, NULL, 0), 0);
	assert_int_equal(primary_id(&d), a);
	/* mbochs would corrupt the kernel here; the sim counts it. */
	again = test_dev_get_dmabuf(&d, a);
	assert_true(again >= 0);
	close(again);
	/* Last fd closed: the id is free and may name another buffer later. */
	assert_int_equal(close(fa), 0);
	assert_int_equal(test_dev_get_dmabuf(&d, a), -ENOENT);
	assert_int_equal(simctl_stats(test_ctl, &after), 0);
	assert_int_equal(after.dmabuf_double_fetch - before.dmabuf_double_fetch, 1);
	assert_int_equal(after.dmabuf_refetch_after_close - before.dmabuf_refetch_after_close, 1);
	assert_int_equal(after.open_dmabuf_fds, 1);
	assert_int_equal(primary_id(&d), a);
	assert_int_equal(close(fb), 0);
	test_dev_close(&d);
}

/* The guest's side of the buffers: what is written there is what the dmabufs hold. */
static void test_buffers_handed_over(void **state)
{
	static const uint32_t front = 0x00123456, back = 0x00abcdef;
	struct simctl_buffer bufs[2];
	uint32_t *map[2], px = 0;
	size_t len[2];
	struct test_dev d;

	test_dev_open(&d, false);
	test_set_primary(&d, 64, 32);
	assert_int_equal(simctl_buffers(test_ctl, 1, bufs), 2);
	for (int i = 0; i < 2; i++) {
		assert_true(bufs[i].size >= 64 * 32 * 4);
		len[i] = (size_t)(bufs[i].base + bufs[i].size);
		map[i] = mmap(NULL, len[i], PROT_READ | PROT_WRITE, MAP_SHARED, bufs[i].fd, 0);
		assert_true(map[i] != MAP_FAILED);
		assert_int_equal(close(bufs[i].fd), 0);
	}
	map[0][bufs[0].base / 4 + 5] = front;
	map[1][bufs[1].base / 4 + 7] = back;

	int fd = test_dev_get_dmabuf(&d, primary_id(&d));
	assert_int_equal(pread(fd, &px, sizeof(px), 5 * 4), sizeof(px));
	assert_int_equal(px, front);
	assert_int_equal(close(fd), 0);
	/* A flip without bytes shows the other buffer as it was written. */
	assert_int_equal(simctl_flip(test_ctl, 1, NULL, 0), 0);
	fd = test_dev_get_dmabuf(&d, primary_id(&d));
	assert_int_equal(pread(fd, &px, sizeof(px), 7 * 4), sizeof(px));
	assert_int_equal(px, back);
	assert_int_equal(close(fd), 0);

	for (int i = 0; i < 2; i++)
		munmap(map[i], len[i]);
	assert_int_equal(simctl_buffers(test_ctl, 3, bufs), -EINVAL);
	test_dev_close(&d);
}

static void test_mmap_faults(void **state)
{
	struct sim_plane_desc liar = { .fourcc = DRM_FORMAT_XRGB8888, .width = 64, .height = 64,
				       .stride = 256, .size = 16384, .alloc_size = 4096 };
	struct vfio_device_gfx_plane_info info;
	struct test_dev d;
	int fd;

	test_dev_open(&d, false);
	test_set_primary(&d, 32, 32);
	fd = test_dev_get_dmabuf(&d, primary_id(&d));
	assert_int_equal(simctl_fault(test_ctl, SIM_FAULT_MMAP_EINVAL, 1), 0);
	assert_true(mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0) == MAP_FAILED);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(simctl_fault(test_ctl, SIM_FAULT_MMAP_EINVAL, 0), 0);
	assert_int_equal(simctl_fault(test_ctl, SIM_FAULT_MMAP_ENODEV, 1), 0);
	assert_true(mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0) == MAP_FAILED);
	assert_int_equal(errno, ENODEV);
	assert_int_equal(simctl_fault(test_ctl, SIM_FAULT_MMAP_ENODEV, 0), 0);
	assert_int_equal(close(fd), 0);
	/* A buffer smaller than the size the query reports cannot be mapped whole. */
	assert_int_equal(simctl_set_plane(test_ctl, 1, &liar), 0);
	assert_int_equal(test_dev_query(&d, 1, &info), -ENOMEM);
	assert_int_equal(test_dev_query(&d, 1, &info), 0);
	fd = test_dev_get_dmabuf(&d, info.dmabuf_id);
	assert_int_equal(lseek(fd, 0, SEEK_END), 4096);
	assert_true(mmap(NULL, info.size, PROT_READ, MAP_SHARED, fd, 0) == MAP_FAILED);
	assert_int_equal(close(fd), 0);
	assert_int_equal(simctl_fault(test_ctl, SIM_FAULT_QUERY_EIO, 2), 0);
	assert_int_equal(test_dev_query(&d, 1, &info), -EIO);
	assert_int_equal(test_dev_query(&d, 2, &info), -EIO);
	assert_int_equal(test_dev_query(&d, 1, &info), 0);
	assert_int_equal(simctl_fault(test_ctl, SIM_FAULT_DMABUF_EIO, 1), 0);
	assert_int_equal(test_dev_get_dmabuf(&d, info.dmabuf_id), -EIO);
	fd = test_dev_get_dmabuf(&d, info.dmabuf_id);
	assert_true(fd >= 0);
	assert_int_equal(close(fd), 0);
	test_dev_close(&d);
}

/*
 * Child half of the exit-report test: a daemon's life against the demo
 * scene, leaving its fds and mapping behind when leak is set.
 */
static int child_main(bool leak)
{
	struct vfio_device_gfx_plane_info info;
	struct test_dev d;
	uint32_t *map;
	int fd;

	test_dev_open(&d, false);
	if (test_dev_query(&d, 1, &info) < 0 || info.width != 1024 || info.height != 768)
		return 10;
	fd = test_dev_get_dmabuf(&d, info.dmabuf_id);
	map = mmap(NULL, info.size, PROT_READ, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED)
		return 11;
	/* The scene draws a dark blue background (blue 0x30); slow under valgrind. */
	for (int tries = 0; (map[0] & 0xff) != 0x30; tries++) {
		if (tries == 100)
			return 12;
		usleep(50 * 1000);
	}
	if (leak)
		return 0;
	munmap(map, info.size);
	close(fd);
	test_dev_close(&d);
	return 0;
}

static char **child_env(const char *report)
{
	extern char **environ;
	size_t n = 0, out = 0;
	char **env;

	while (environ[n])
		n++;
	env = calloc(n + 3, sizeof(*env));
	assert_non_null(env);
	for (size_t i = 0; i < n; i++)
		if (strncmp(environ[i], "VGPU_SIM_", 9) != 0)
			env[out++] = environ[i];
	env[out++] = "VGPU_SIM_SCENE=demo";
	assert_true(asprintf(&env[out], "VGPU_SIM_REPORT=%s", report) > 0);
	return env;
}

static long report_value(const char *report, const char *key)
{
	char line[128];
	size_t len = strlen(key);
	long value = -1;
	FILE *f = fopen(report, "r");

	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, key, len) == 0 && line[len] == '=')
			value = strtol(line + len + 1, NULL, 10);
	fclose(f);
	return value;
}

static void run_child(const char *mode, const char *report)
{
	char *argv[] = { "test_sim", "--child", (char *)mode, NULL };
	char **env = child_env(report);
	char self[4096];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	int status;
	pid_t pid;

	/* The path, not /proc/self/exe itself: under valgrind that is the tool. */
	assert_true(n > 0);
	self[n] = '\0';
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		execve(self, argv, env);
		_exit(127);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	for (size_t i = 0; env[i]; i++)
		if (strncmp(env[i], "VGPU_SIM_REPORT=", 16) == 0)
			free(env[i]);
	free(env);
}

static void test_exit_report(void **state)
{
	char report[] = "/tmp/vgpu-sim-report-XXXXXX";
	int fd = mkstemp(report);

	assert_true(fd >= 0);
	close(fd);
	run_child("leak", report);
	assert_int_equal(report_value(report, "open_sim_fds"), 4);
	assert_int_equal(report_value(report, "mapped_sim_buffers"), 1);
	assert_int_equal(report_value(report, "device_fds_open"), 1);
	assert_int_equal(report_value(report, "get_dmabuf"), 1);
	run_child("clean", report);
	assert_int_equal(report_value(report, "open_sim_fds"), 0);
	assert_int_equal(report_value(report, "mapped_sim_buffers"), 0);
	assert_int_equal(report_value(report, "open_dmabuf_fds"), 0);
	assert_int_equal(report_value(report, "eventfds_held"), 0);
	unlink(report);
}

static int connect_ctl(void **state)
{
	test_ctl = simctl_connect(getenv("VGPU_SIM_CONTROL"), 2000);
	return test_ctl ? 0 : -1;
}

static int free_ctl(void **state)
{
	simctl_free(test_ctl);
	test_ctl = NULL;
	return 0;
}

int main(int argc, char **argv)
{
	const struct CMUnitTest group_tests[] = {
		cmocka_unit_test(test_group_path), cmocka_unit_test(test_region_info),
		cmocka_unit_test(test_query_plane),      cmocka_unit_test(test_dmabuf),
		cmocka_unit_test(test_flip_ids),   cmocka_unit_test(test_mmap_faults),
		cmocka_unit_test(test_irq_info),   cmocka_unit_test(test_irq_eventfd),
		cmocka_unit_test(test_edid),       cmocka_unit_test(test_exit_report),
		cmocka_unit_test(test_buffers_handed_over),
	};
	const struct CMUnitTest cdev_tests[] = {
		cmocka_unit_test(test_cdev_path),
	};
	const struct CMUnitTest region_tests[] = {
		cmocka_unit_test(test_region_mode),
	};
	const struct CMUnitTest gvt_tests[] = {
		cmocka_unit_test(test_gvt_personality),
	};
	const struct CMUnitTest mbochs_tests[] = {
		cmocka_unit_test(test_mbochs_personality),
	};
	const struct CMUnitTest irq_tests[] = {
		cmocka_unit_test(test_irq_variant),
	};
	const struct CMUnitTest loss_tests[] = {
		cmocka_unit_test(test_removal_request),
		cmocka_unit_test(test_device_gone),
	};

	if (argc == 3 && strcmp(argv[1], "--child") == 0)
		return child_main(strcmp(argv[2], "leak") == 0);
	if (argc == 2 && strcmp(argv[1], "--cdev") == 0)
		return cmocka_run_group_tests_name("sim_cdev", cdev_tests, connect_ctl, free_ctl);
	if (argc == 2 && strcmp(argv[1], "--region") == 0)
		return cmocka_run_group_tests_name("sim_region", region_tests, connect_ctl, free_ctl);
	if (argc == 2 && strcmp(argv[1], "--gvt") == 0)
		return cmocka_run_group_tests_name("sim_gvt", gvt_tests, connect_ctl, free_ctl);
	if (argc == 2 && strcmp(argv[1], "--mbochs") == 0)
		return cmocka_run_group_tests_name("sim_mbochs", mbochs_tests, connect_ctl, free_ctl);
	if (argc == 2 && strcmp(argv[1], "--loss") == 0)
		return cmocka_run_group_tests_name("sim_loss", loss_tests, connect_ctl, free_ctl);
	if (argc == 2 && strcmp(argv[1], "--irq") == 0)
		return cmocka_run_group_tests_name("sim_irq", irq_tests, connect_ctl, free_ctl);
	return cmocka_run_group_tests_name("sim", group_tests, connect_ctl, free_ctl);
}
