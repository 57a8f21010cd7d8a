// SPDX-License-Identifier: GPL-2.0-or-later
#include "vfio_device.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "fd_util.h"
#include "log.h"

/*
 * The iommufd cdev interface arrived after Debian 12's kernel headers
 * (6.1); these are the mainline values. A newer header wins.
 */
#ifndef VFIO_DEVICE_BIND_IOMMUFD
struct vfio_device_bind_iommufd {
	__u32 argsz;
	__u32 flags;
	__s32 iommufd;
	__u32 out_devid;
};
#define VFIO_DEVICE_BIND_IOMMUFD _IO(VFIO_TYPE, VFIO_BASE + 18)
#endif
#ifndef VFIO_DEVICE_ATTACH_IOMMUFD_PT
struct vfio_device_attach_iommufd_pt {
	__u32 argsz;
	__u32 flags;
	__u32 pt_id;
};
#define VFIO_DEVICE_ATTACH_IOMMUFD_PT _IO(VFIO_TYPE, VFIO_BASE + 19)
#endif
#ifndef IOMMU_IOAS_ALLOC
struct iommu_ioas_alloc {
	__u32 size;
	__u32 flags;
	__u32 out_ioas_id;
};
#define IOMMU_IOAS_ALLOC _IO(';', 0x81)
#endif

struct vfio_device {
	int device_fd;
	int group_fd;
	int container_fd;
	int iommufd;
	char origin[64];
	struct vfio_device_info info;
};

static struct vfio_device *vfio_device_alloc(const char *origin)
{
	struct vfio_device *dev = calloc(1, sizeof(*dev));
	if (!dev)
		return NULL;
	dev->device_fd = dev->group_fd = dev->container_fd = dev->iommufd = -1;
	snprintf(dev->origin, sizeof(dev->origin), "%s", origin);
	return dev;
}

void vfio_device_free(struct vfio_device *dev)
{
	if (!dev)
		return;
	/* Device first: the group and container outlive their device. */
	close_fd(dev->device_fd);
	close_fd(dev->group_fd);
	close_fd(dev->container_fd);
	close_fd(dev->iommufd);
	free(dev);
}

const char *vfio_device_origin(const struct vfio_device *dev)
{
	return dev->origin;
}

int vfio_device_fd(const struct vfio_device *dev)
{
	return dev->device_fd;
}

uint32_t vfio_device_num_regions(const struct vfio_device *dev)
{
	return dev->info.num_regions;
}

uint32_t vfio_device_num_irqs(const struct vfio_device *dev)
{
	return dev->info.num_irqs;
}

int vfio_device_region_info(const struct vfio_device *dev, uint32_t index,
			    struct vfio_region_info *out)
{
	memset(out, 0, sizeof(*out));
	out->argsz = sizeof(*out);
	out->index = index;
	if (ioctl(dev->device_fd, VFIO_DEVICE_GET_REGION_INFO, out) < 0)
		return -errno;
	return 0;
}

int vfio_device_pci_ids(const struct vfio_device *dev, uint16_t *vendor, uint16_t *device)
{
	struct vfio_region_info config;
	int ret = vfio_device_region_info(dev, VFIO_PCI_CONFIG_REGION_INDEX, &config);
	if (ret < 0)
		return ret;
	if (!(config.flags & VFIO_REGION_INFO_FLAG_READ) || config.size < 4)
		return -ENODEV;
	/* PCI config space is little-endian: vendor at 0, device at 2. */
	uint8_t ids[4];
	ssize_t n = pread(dev->device_fd, ids, sizeof(ids), (off_t)config.offset);
	if (n != (ssize_t)sizeof(ids))
		return n < 0 ? -errno : -EIO;
	*vendor = (uint16_t)(ids[0] | ids[1] << 8);
	*device = (uint16_t)(ids[2] | ids[3] << 8);
	return 0;
}

/* Every path ends here: the fd must answer GET_INFO like a VFIO device. */
static int vfio_device_finish(struct vfio_device *dev, struct vfio_device **out, const char **why)
{
	dev->info.argsz = sizeof(dev->info);
	if (ioctl(dev->device_fd, VFIO_DEVICE_GET_INFO, &dev->info) < 0) {
		int err = -errno;
		*why = "VFIO_DEVICE_GET_INFO failed: not a VFIO device fd?";
		vfio_device_free(dev);
		return err;
	}
	*out = dev;
	return 0;
}

int vfio_device_group_number(const char *uuid, char group[VFIO_GROUP_NUMBER_MAX + 1],
			     const char **why)
{
	char path[PATH_MAX], link[PATH_MAX];
	snprintf(path, sizeof(path), "/sys/bus/mdev/devices/%s/iommu_group", uuid);
	ssize_t n = readlink(path, link, sizeof(link) - 1);
	if (n < 0) {
		*why = "no iommu_group link in sysfs: is the mdev created?";
		return -errno;
	}
	link[n] = '\0';
	const char *name = strrchr(link, '/');
	name = name ? name + 1 : link;
	if (!*name || strlen(name) > VFIO_GROUP_NUMBER_MAX ||
	    strspn(name, "0123456789") != strlen(name)) {
		*why = "iommu_group link does not name a group number";
		return -EINVAL;
	}
	memcpy(group, name, strlen(name) + 1);
	return 0;
}

static int open_group_path(const char *uuid, struct vfio_device *dev, const char **why)
{
	char path[PATH_MAX], group[VFIO_GROUP_NUMBER_MAX + 1];
	int ret = vfio_device_group_number(uuid, group, why);
	if (ret < 0)
		return ret;

	dev->container_fd = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	if (dev->container_fd < 0) {
		*why = "cannot open /dev/vfio/vfio";
		return -errno;
	}
	if (ioctl(dev->container_fd, VFIO_GET_API_VERSION) != VFIO_API_VERSION) {
		*why = "unknown VFIO API version";
		return -EINVAL;
	}
	if (ioctl(dev->container_fd, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU) <= 0) {
		*why = "VFIO container lacks TYPE1v2 IOMMU support";
		return -ENOTSUP;
	}

	snprintf(path, sizeof(path), "/dev/vfio/%.10s", group);
	dev->group_fd = open(path, O_RDWR | O_CLOEXEC);
	if (dev->group_fd < 0) {
		*why = errno == EBUSY ? "VFIO group is held by another process (the VMM?): "
					"pass the device fd instead"
				      : "cannot open the VFIO group";
		return -errno;
	}
	struct vfio_group_status status = { .argsz = sizeof(status) };
	if (ioctl(dev->group_fd, VFIO_GROUP_GET_STATUS, &status) < 0) {
		*why = "VFIO_GROUP_GET_STATUS failed";
		return -errno;
	}
	if (!(status.flags & VFIO_GROUP_FLAGS_VIABLE)) {
		*why = "VFIO group is not viable (a device in it is bound to a host driver)";
		return -EPERM;
	}
	if (ioctl(dev->group_fd, VFIO_GROUP_SET_CONTAINER, &dev->container_fd) < 0) {
		*why = "VFIO_GROUP_SET_CONTAINER failed";
		return -errno;
	}
	if (ioctl(dev->container_fd, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU) < 0) {
		*why = "VFIO_SET_IOMMU(TYPE1v2) failed";
		return -errno;
	}
	dev->device_fd = ioctl(dev->group_fd, VFIO_GROUP_GET_DEVICE_FD, uuid);
	if (dev->device_fd < 0) {
		*why = "VFIO_GROUP_GET_DEVICE_FD failed";
		return -errno;
	}
	snprintf(dev->origin, sizeof(dev->origin), "group %.10s", group);
	return 0;
}

int vfio_device_cdev_name(const char *uuid, char *name, size_t len)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "/sys/bus/mdev/devices/%s/vfio-dev", uuid);
	DIR *dir = opendir(path);
	if (!dir)
		return -errno;
	int ret = -ENOENT;
	struct dirent *entry;
	while ((entry = readdir(dir))) {
		const char *digits = entry->d_name + 4;
		if (strncmp(entry->d_name, "vfio", 4) == 0 && *digits &&
		    strspn(digits, "0123456789") == strlen(digits) && strlen(entry->d_name) < len) {
			memcpy(name, entry->d_name, strlen(entry->d_name) + 1);
			ret = 0;
			break;
		}
	}
	closedir(dir);
	return ret;
}

static int open_cdev_path(const char *uuid, struct vfio_device *dev, const char **why)
{
	char name[64], path[PATH_MAX];
	int ret = vfio_device_cdev_name(uuid, name, sizeof(name));
	if (ret < 0) {
		*why = "no vfio-dev node in sysfs";
		return ret;
	}
	snprintf(path, sizeof(path), "/dev/vfio/devices/%.32s", name);
	dev->device_fd = open(path, O_RDWR | O_CLOEXEC);
	if (dev->device_fd < 0) {
		*why = "cannot open the VFIO cdev";
		return -errno;
	}
	dev->iommufd = open("/dev/iommu", O_RDWR | O_CLOEXEC);
	if (dev->iommufd < 0) {
		*why = "cannot open /dev/iommu";
		return -errno;
	}
	struct vfio_device_bind_iommufd bind = { .argsz = sizeof(bind), .iommufd = dev->iommufd };
	if (ioctl(dev->device_fd, VFIO_DEVICE_BIND_IOMMUFD, &bind) < 0) {
		*why = "VFIO_DEVICE_BIND_IOMMUFD failed";
		return -errno;
	}
	struct iommu_ioas_alloc ioas = { .size = sizeof(ioas) };
	if (ioctl(dev->iommufd, IOMMU_IOAS_ALLOC, &ioas) < 0) {
		*why = "IOMMU_IOAS_ALLOC failed";
		return -errno;
	}
	struct vfio_device_attach_iommufd_pt attach = { .argsz = sizeof(attach),
							.pt_id = ioas.out_ioas_id };
	if (ioctl(dev->device_fd, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &attach) < 0) {
		*why = "VFIO_DEVICE_ATTACH_IOMMUFD_PT failed";
		return -errno;
	}
	snprintf(dev->origin, sizeof(dev->origin), "cdev %.32s", name);
	return 0;
}

int vfio_device_open_uuid(const char *uuid, struct vfio_device **out, const char **why)
{
	struct vfio_device *dev = vfio_device_alloc("uuid");
	if (!dev) {
		*why = "out of memory";
		return -ENOMEM;
	}
	char node[PATH_MAX];
	snprintf(node, sizeof(node), "/sys/bus/mdev/devices/%s/vfio-dev", uuid);
	bool cdev = access("/dev/iommu", F_OK) == 0 && access(node, F_OK) == 0;

	int ret = cdev ? open_cdev_path(uuid, dev, why) : open_group_path(uuid, dev, why);
	if (ret < 0) {
		vfio_device_free(dev);
		return ret;
	}
	return vfio_device_finish(dev, out, why);
}

int vfio_device_adopt_fd(int fd, const char *origin, struct vfio_device **out, const char **why)
{
	struct vfio_device *dev = vfio_device_alloc(origin);
	if (!dev) {
		close_fd(fd);
		*why = "out of memory";
		return -ENOMEM;
	}
	dev->device_fd = fd;
	if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
		int err = -errno;
		*why = "the device fd is not open";
		vfio_device_free(dev);
		return err;
	}
	return vfio_device_finish(dev, out, why);
}

static int receive_fd(int sock, int *fd_out)
{
	char byte;
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int))];
	} control;
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = control.buf,
		.msg_controllen = sizeof(control.buf),
	};
	ssize_t n;
	do {
		n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
	if (n == 0 || !cmsg || cmsg->cmsg_level != SOL_SOCKET || cmsg->cmsg_type != SCM_RIGHTS ||
	    cmsg->cmsg_len != CMSG_LEN(sizeof(int)))
		return -EBADMSG;
	if (msg.msg_flags & MSG_CTRUNC) {
		/* More fds than we asked for were closed by the kernel; ours may be among them. */
		return -EBADMSG;
	}
	memcpy(fd_out, CMSG_DATA(cmsg), sizeof(int));
	return 0;
}

int vfio_device_receive(const char *socket_path, struct vfio_device **out, const char **why)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	if (strlen(socket_path) >= sizeof(addr.sun_path)) {
		*why = "device_socket path too long";
		return -ENAMETOOLONG;
	}
	strcpy(addr.sun_path, socket_path);

	_cleanup_close_ int sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (sock < 0) {
		*why = "cannot create a unix socket";
		return -errno;
	}
	if (connect(sock, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		*why = "cannot connect to device_socket";
		return -errno;
	}
	int fd = -1;
	int ret = receive_fd(sock, &fd);
	if (ret < 0) {
		*why = "device_socket sent no file descriptor";
		return ret;
	}
	return vfio_device_adopt_fd(fd, "device_socket", out, why);
}

int vfio_device_open_configured(const char *uuid, int device_fd, const char *device_socket,
				struct vfio_device **out)
{
	const char *why = "";
	char what[160];
	int ret;
	if (device_fd >= 0) {
		snprintf(what, sizeof(what), "inherited device fd %d", device_fd);
		ret = vfio_device_adopt_fd(device_fd, "inherited fd", out, &why);
	} else if (device_socket && device_socket[0]) {
		snprintf(what, sizeof(what), "device fd from %.120s", device_socket);
		ret = vfio_device_receive(device_socket, out, &why);
	} else {
		snprintf(what, sizeof(what), "mdev %.40s", uuid);
		ret = vfio_device_open_uuid(uuid, out, &why);
	}
	if (ret < 0)
		log_error("cannot use the %s: %s (%s); giving up", what, why, strerror(-ret));
	else
		log_info("opened the vGPU through %s", vfio_device_origin(*out));
	return ret;
}

int vfio_set_irqs(int device_fd, uint32_t index, uint32_t flags, uint32_t count, int32_t efd)
{
	union {
		struct vfio_irq_set set;
		unsigned char raw[sizeof(struct vfio_irq_set) + sizeof(int32_t)];
	} req = {
		.set = {
			.argsz = sizeof(req.set),
			.flags = flags,
			.index = index,
			.count = count,
		},
	};

	if (flags & VFIO_IRQ_SET_DATA_EVENTFD) {
		req.set.argsz += sizeof(efd);
		memcpy(req.set.data, &efd, sizeof(efd));
	}
	if (ioctl(device_fd, VFIO_DEVICE_SET_IRQS, &req) < 0)
		return -errno;
	return 0;
}
