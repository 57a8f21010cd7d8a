/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef MDEV_VNCD_DEVICE_LOSS_H
#define MDEV_VNCD_DEVICE_LOSS_H

/*
 * The mdev going away under the daemon, and coming back.
 *
 * The kernel removes a VFIO device (mdevctl stop, the parent driver
 * unbinding) in vfio_unregister_group_dev (drivers/vfio/vfio_main.c): it
 * refuses new opens, then waits until every user has closed the device,
 * calling the driver's request callback every 10 s meanwhile; vfio-pci's
 * (vfio_pci_core_request) signals the eventfd the user set on
 * VFIO_PCI_REQ_IRQ_INDEX. A user who holds on blocks the removal: the
 * daemon listens on that IRQ where the device offers it and lets go at
 * once. A device that vanished otherwise shows as ioctls failing with
 * ENODEV or EIO, or as a hung-up fd.
 */
#include <stdbool.h>

struct event_base;
struct vfio_device;

/*
 * on_device_loss = exit leaves with this status (sysexits' EX_TEMPFAIL):
 * not 0, and not 6 (RestartPreventExitStatus, a bad config), so the
 * packaged unit's Restart=on-failure starts the daemon again.
 */
#define DEVICE_LOSS_EXIT_STATUS 75

/* How often on_device_loss = wait looks for the device to be back. */
#define DEVICE_RETURN_POLL_SEC 1

/* The removal request IRQ of one open device. */
struct device_request;

/* Called on the loop thread when the kernel asks to release the device. */
typedef void device_request_cb(void *ctx);

/*
 * Sets a new eventfd on the device's request IRQ and watches it on base.
 * dev and base must outlive the object. 0, -ENOENT when the device offers
 * no request IRQ (GET_IRQ_INFO count 0: GVT-g, mbochs), or -errno (nothing
 * stays set). Logs nothing: the caller says what it means.
 */
int device_request_open(struct vfio_device *dev, struct event_base *base, device_request_cb *cb,
			void *ctx, struct device_request **out);

/* Unsets the IRQ (the device may be gone: errors are ignored), closes the eventfd. NULL is fine. */
void device_request_free(struct device_request *req);

/*
 * After an ioctl failed with ENODEV or EIO: is the whole device gone (its
 * fd hung up, or GET_INFO fails the same way), or only that call? *why
 * says how it showed, for the log.
 */
bool device_is_gone(const struct vfio_device *dev, const char **why);

/*
 * Whether opening the device again is worth a try: the mdev's sysfs node
 * exists (uuid), or the VMM's socket does (device_socket, when set).
 */
bool device_may_be_back(const char *uuid, const char *device_socket);

#endif
