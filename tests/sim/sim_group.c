// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The ways to a device fd: the legacy container + group path and the iommufd
 * cdev path, with the kernel's ordering rules and the group's exclusivity.
 */
#include <errno.h>
#include <string.h>

#include "sim_internal.h"
#include "sim_uapi.h"

/* Every container, group and iommufd fd is its own small memfd: a unique inode. */
static int open_object(const char *name, enum sim_fd_kind kind, struct sim_fd **entry)
{
	int memfd = sim_memfd(name, 0);
	struct sim_fd *f;

	if (memfd < 0)
		return memfd;
	f = sim_fd_add(memfd, kind);
	if (!f) {
		real.close(memfd);
		return -ENOMEM;
	}
	if (entry)
		*entry = f;
	return memfd;
}

int sim_container_open(void)
{
	return open_object("container", SIM_FD_CONTAINER, NULL);
}

int sim_iommufd_open(void)
{
	return open_object("iommufd", SIM_FD_IOMMUFD, NULL);
}

int sim_group_open(void)
{
	int fd;

	if (sim.group_open || sim.cdev_open)
		return -EBUSY;
	fd = open_object("group", SIM_FD_GROUP, NULL);
	if (fd >= 0)
		sim.group_open = true;
	return fd;
}

int sim_cdev_open(void)
{
	struct sim_fd *f;
	int fd;

	if (sim.group_open)
		return -EBUSY;
	fd = sim_fd_hand_out(sim.device_memfd, SIM_FD_DEVICE, &f);
	if (fd < 0)
		return fd;
	f->cdev = true;
	sim.cdev_open++;
	sim.stats.device_fds_open++;
	return fd;
}

long sim_container_ioctl(struct sim_fd *f, unsigned long req, void *arg)
{
	unsigned long ext = (unsigned long)arg;

	switch (req) {
	case VFIO_GET_API_VERSION:
		return VFIO_API_VERSION;
	case VFIO_CHECK_EXTENSION:
		return ext == VFIO_TYPE1_IOMMU || ext == VFIO_TYPE1v2_IOMMU;
	case VFIO_SET_IOMMU:
		if (!sim.container_set)
			return -EINVAL;
		if (ext != VFIO_TYPE1_IOMMU && ext != VFIO_TYPE1v2_IOMMU)
			return -EINVAL;
		if (sim.iommu_set)
			return -EBUSY;
		sim.iommu_set = true;
		return 0;
	default:
		return -ENOTTY;
	}
}

static long group_set_container(const int *arg)
{
	struct sim_fd *container;

	if (!arg)
		return -EFAULT;
	container = sim_fd_find(*arg);
	if (!container)
		return -EBADF;
	if (container->kind != SIM_FD_CONTAINER)
		return -EINVAL;
	if (sim.container_set)
		return -EINVAL;
	sim.container_set = true;
	return 0;
}

static long group_get_device_fd(const char *name)
{
	struct sim_fd *f;
	int fd;

	if (!name)
		return -EFAULT;
	if (!sim.container_set || !sim.iommu_set)
		return -EINVAL;
	if (strcmp(name, sim.cfg.uuid) != 0 || sim_loss_absent())
		return -ENODEV;
	fd = sim_fd_hand_out(sim.device_memfd, SIM_FD_DEVICE, &f);
	if (fd < 0)
		return fd;
	f->bound = true;
	f->attached = true;
	sim.stats.device_fds_open++;
	return fd;
}

long sim_group_ioctl(struct sim_fd *f, unsigned long req, void *arg)
{
	struct vfio_group_status *status = arg;

	switch (req) {
	case VFIO_GROUP_GET_STATUS:
		if (!status)
			return -EFAULT;
		if (status->argsz < sizeof(*status))
			return -EINVAL;
		status->flags = VFIO_GROUP_FLAGS_VIABLE;
		if (sim.container_set)
			status->flags |= VFIO_GROUP_FLAGS_CONTAINER_SET;
		return 0;
	case VFIO_GROUP_SET_CONTAINER:
		return group_set_container(arg);
	case VFIO_GROUP_UNSET_CONTAINER:
		if (!sim.container_set)
			return -EINVAL;
		sim.container_set = false;
		sim.iommu_set = false;
		return 0;
	case VFIO_GROUP_GET_DEVICE_FD:
		return group_get_device_fd(arg);
	default:
		return -ENOTTY;
	}
}

long sim_iommufd_ioctl(struct sim_fd *f, unsigned long req, void *arg)
{
	struct iommu_ioas_alloc *alloc = arg;

	if (req != IOMMU_IOAS_ALLOC)
		return -ENOTTY;
	if (!alloc)
		return -EFAULT;
	if (alloc->size < sizeof(*alloc) || alloc->flags)
		return -EINVAL;
	alloc->out_ioas_id = ++f->ioas_count;
	return 0;
}

static struct sim_fd *find_iommufd(ino_t ino)
{
	for (size_t i = 0; i < sim.n_fds; i++)
		if (sim.fds[i].kind == SIM_FD_IOMMUFD && sim.fds[i].ino == ino)
			return &sim.fds[i];
	return NULL;
}

static long cdev_bind(struct sim_fd *f, struct vfio_device_bind_iommufd *bind)
{
	struct sim_fd *iommufd;

	if (bind->argsz < sizeof(*bind) || bind->flags)
		return -EINVAL;
	if (f->bound)
		return -EINVAL;
	iommufd = sim_fd_find(bind->iommufd);
	if (!iommufd)
		return -EBADF;
	if (iommufd->kind != SIM_FD_IOMMUFD)
		return -EINVAL;
	f->bound = true;
	f->iommufd_ino = iommufd->ino;
	bind->out_devid = 1;
	return 0;
}

static long cdev_attach(struct sim_fd *f, struct vfio_device_attach_iommufd_pt *attach)
{
	struct sim_fd *iommufd;

	if (attach->argsz < sizeof(*attach) || attach->flags)
		return -EINVAL;
	if (!f->bound)
		return -EINVAL;
	iommufd = find_iommufd(f->iommufd_ino);
	if (!iommufd || !attach->pt_id || attach->pt_id > iommufd->ioas_count)
		return -ENOENT;
	f->attached = true;
	return 0;
}

/* The iommufd ioctls of a device fd; only a cdev fd has them. */
long sim_cdev_ioctl(struct sim_fd *f, unsigned long req, void *arg)
{
	struct vfio_device_detach_iommufd_pt *detach = arg;

	if (!arg)
		return -EFAULT;
	if (!f->cdev)
		return -EINVAL;
	switch (req) {
	case VFIO_DEVICE_BIND_IOMMUFD:
		return cdev_bind(f, arg);
	case VFIO_DEVICE_ATTACH_IOMMUFD_PT:
		return cdev_attach(f, arg);
	case VFIO_DEVICE_DETACH_IOMMUFD_PT:
		if (detach->argsz < sizeof(*detach) || detach->flags || !f->attached)
			return -EINVAL;
		f->attached = false;
		return 0;
	default:
		return -ENOTTY;
	}
}

void sim_fd_closed(struct sim_fd *f)
{
	switch (f->kind) {
	case SIM_FD_GROUP:
		sim.group_open = false;
		sim.group_adopted = false;
		sim.container_set = false;
		sim.iommu_set = false;
		break;
	case SIM_FD_DEVICE:
		sim.cdev_open -= f->cdev;
		sim.stats.device_fds_open--;
		if (!sim.stats.device_fds_open) {
			sim_irq_release();
			sim_loss_device_closed();
			sim_planes_device_closed();
		}
		break;
	case SIM_FD_DMABUF:
		sim.stats.open_dmabuf_fds--;
		sim_dmabuf_closed(f->buf);
		break;
	case SIM_FD_CONTAINER:
	case SIM_FD_IOMMUFD:
		break;
	}
}
