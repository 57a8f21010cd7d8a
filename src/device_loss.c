// SPDX-License-Identifier: GPL-2.0-or-later
#include "device_loss.h"

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/vfio.h>
#include <event2/event.h>

#include "fd_util.h"
#include "vfio_device.h"

struct device_request {
	int device_fd;
	int eventfd;
	struct event *ev;
	device_request_cb *cb;
	void *ctx;
};

/* SET_IRQS on the request IRQ: efd as its trigger, or -1 to unset it. */
static int set_trigger(int device_fd, int32_t efd)
{
	if (efd < 0)
		return vfio_set_irqs(device_fd, VFIO_PCI_REQ_IRQ_INDEX,
				     VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER, 0, -1);
	return vfio_set_irqs(device_fd, VFIO_PCI_REQ_IRQ_INDEX,
			     VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER, 1, efd);
}

static bool request_offered(const struct vfio_device *dev)
{
	struct vfio_irq_info info = { .argsz = sizeof(info), .index = VFIO_PCI_REQ_IRQ_INDEX };
	if (vfio_device_num_irqs(dev) <= VFIO_PCI_REQ_IRQ_INDEX)
		return false;
	if (ioctl(vfio_device_fd(dev), VFIO_DEVICE_GET_IRQ_INFO, &info) < 0)
		return false;
	return info.count >= 1 && (info.flags & VFIO_IRQ_INFO_EVENTFD);
}

/* The kernel asks again every 10 s while we hold on: every read is one more request. */
static void on_request(evutil_socket_t fd, short what, void *arg)
{
	struct device_request *req = arg;
	uint64_t count;
	if (read(req->eventfd, &count, sizeof(count)) != sizeof(count))
		return;
	req->cb(req->ctx);
}

int device_request_open(struct vfio_device *dev, struct event_base *base, device_request_cb *cb,
			void *ctx, struct device_request **out)
{
	*out = NULL;
	if (!request_offered(dev))
		return -ENOENT;
	struct device_request *req = calloc(1, sizeof(*req));
	if (!req)
		return -ENOMEM;
	*req = (struct device_request){ .device_fd = vfio_device_fd(dev), .cb = cb, .ctx = ctx };
	req->eventfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	int ret = req->eventfd < 0 ? -errno : 0;
	if (ret == 0) {
		req->ev = event_new(base, req->eventfd, EV_READ | EV_PERSIST, on_request, req);
		ret = req->ev && event_add(req->ev, NULL) == 0 ? 0 : -ENOMEM;
	}
	if (ret == 0)
		ret = set_trigger(req->device_fd, req->eventfd);
	if (ret < 0) {
		if (req->ev)
			event_free(req->ev);
		close_fd(req->eventfd);
		free(req);
		return ret;
	}
	*out = req;
	return 0;
}

void device_request_free(struct device_request *req)
{
	if (!req)
		return;
	event_free(req->ev);
	set_trigger(req->device_fd, -1);
	close_fd(req->eventfd);
	free(req);
}

bool device_is_gone(const struct vfio_device *dev, const char **why)
{
	int fd = vfio_device_fd(dev);
	struct pollfd pfd = { .fd = fd };
	if (poll(&pfd, 1, 0) == 1 && (pfd.revents & (POLLHUP | POLLERR | POLLNVAL))) {
		*why = "its fd hung up";
		return true;
	}
	struct vfio_device_info info = { .argsz = sizeof(info) };
	if (ioctl(fd, VFIO_DEVICE_GET_INFO, &info) == 0 || (errno != ENODEV && errno != EIO))
		return false;
	*why = errno == ENODEV ? "every device ioctl fails with ENODEV" :
				 "every device ioctl fails with EIO";
	return true;
}

bool device_may_be_back(const char *uuid, const char *device_socket)
{
	char path[128];
	if (device_socket && device_socket[0])
		return access(device_socket, F_OK) == 0;
	snprintf(path, sizeof(path), "/sys/bus/mdev/devices/%s", uuid);
	return access(path, F_OK) == 0;
}
