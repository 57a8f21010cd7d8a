/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef MDEV_VNCD_VFIO_DEVICE_H
#define MDEV_VNCD_VFIO_DEVICE_H

#include <stddef.h>
#include <stdint.h>
#include <linux/vfio.h>

/*
 * The mediated device, opened through VFIO. The object owns the device fd
 * and whatever had to stay open to get it (container and group, or the
 * iommufd); vfio_device_free() closes them all.
 */
struct vfio_device;

/* How the device fd was obtained, for the log. */
const char *vfio_device_origin(const struct vfio_device *dev);

/*
 * Opens the mdev with this UUID: through the iommufd cdev path where
 * /dev/iommu and the device's vfio-dev node exist, else through its IOMMU
 * group and a TYPE1v2 container. 0 or -errno; *why names the failed step.
 */
int vfio_device_open_uuid(const char *uuid, struct vfio_device **out, const char **why);

/* Adopts an already-open device fd (inherited from the VMM side). Takes it even on failure. */
int vfio_device_adopt_fd(int fd, const char *origin, struct vfio_device **out, const char **why);

/* Connects to a unix socket and receives the device fd with SCM_RIGHTS. */
int vfio_device_receive(const char *socket_path, struct vfio_device **out, const char **why);

/*
 * Opens the device the way the configuration says: an inherited fd when
 * device_fd >= 0, else the fd received from device_socket when set, else
 * the mdev by uuid. Logs the outcome (one line, with the reason on failure).
 */
int vfio_device_open_configured(const char *uuid, int device_fd, const char *device_socket,
				struct vfio_device **out);

void vfio_device_free(struct vfio_device *dev);

/* Digits of an IOMMU group number, at most. */
#define VFIO_GROUP_NUMBER_MAX 10

/* The IOMMU group of the mdev with this UUID, from sysfs, as its decimal name (N of /dev/vfio/N). */
int vfio_device_group_number(const char *uuid, char group[VFIO_GROUP_NUMBER_MAX + 1],
			     const char **why);

/*
 * The name of the mdev's iommufd cdev (vfioN of /dev/vfio/devices/vfioN), from
 * /sys/bus/mdev/devices/UUID/vfio-dev/, into name (len bytes). 0, or -ENOENT
 * where the kernel offers no cdev (before Linux 6.6, or without
 * CONFIG_VFIO_DEVICE_CDEV), or -errno.
 */
int vfio_device_cdev_name(const char *uuid, char *name, size_t len);

int vfio_device_fd(const struct vfio_device *dev);
uint32_t vfio_device_num_regions(const struct vfio_device *dev);
uint32_t vfio_device_num_irqs(const struct vfio_device *dev);

/* Region geometry; queried with argsz = sizeof(struct vfio_region_info) (mbochs rejects larger). */
int vfio_device_region_info(const struct vfio_device *dev, uint32_t index,
			    struct vfio_region_info *out);

/*
 * The PCI vendor and device ids the device presents in its config space
 * region (what tells GVT-g, mbochs and mdpy apart). 0 or -errno.
 */
int vfio_device_pci_ids(const struct vfio_device *dev, uint16_t *vendor, uint16_t *device);

/*
 * One SET_IRQS on an IRQ index of a device fd, at most one eventfd: efd is
 * passed with VFIO_IRQ_SET_DATA_EVENTFD in flags, else ignored. 0 or -errno.
 */
int vfio_set_irqs(int device_fd, uint32_t index, uint32_t flags, uint32_t count, int32_t efd);

#endif
