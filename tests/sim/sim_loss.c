// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Device loss: the mdev going away underneath the daemon.
 *
 * Two ways, as the kernel has them (drivers/vfio/vfio_main.c,
 * vfio_unregister_group_dev; drivers/vfio/pci/vfio_pci_core.c,
 * vfio_pci_core_request):
 * - a removal asked for (mdevctl stop, the parent driver unbinding): new
 *   opens fail at once, the device's request IRQ (VFIO_PCI_REQ_IRQ_INDEX)
 *   is signalled, and the open fds keep working until their user lets go;
 *   the kernel waits for that (and asks again every 10 s).
 * - a device gone for good under open fds: every device ioctl fails with
 *   ENODEV or EIO, and with SIM_FAULT_DEVICE_HANGUP poll() reports POLLHUP
 *   on the device fd too. The kernel's VFIO device fds have no poll method
 *   (always ready), so that models a future or another transport; the hang
 *   up shows in a poll that returns at once, not as a wake-up of a waiting one.
 * The request IRQ is offered (GET_IRQ_INFO count 1) with
 * VGPU_SIM_REQUEST_IRQ=1; without it the index exists with count 0, as on
 * a device whose driver has no request callback (GVT-g, mbochs).
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sim_internal.h"
#include "sim_uapi.h"

static struct {
	int gone_errno; /* 0, ENODEV or EIO: what every device ioctl fails with */
	bool removing;  /* a removal was asked: no new opens */
	int request_fd; /* the daemon's request eventfd (our dup), -1 = none */
	bool hangup;    /* poll() says POLLHUP for device fds; read without the lock in poll() */
} loss = { .request_fd = -1 };

bool sim_loss_offers_request(void)
{
	const char *v = getenv("VGPU_SIM_REQUEST_IRQ");
	return v && strcmp(v, "1") == 0;
}

long sim_loss_ioctl_gate(void)
{
	return -loss.gone_errno;
}

bool sim_loss_absent(void)
{
	return loss.gone_errno || loss.removing;
}

long sim_loss_request_info(struct vfio_irq_info *info)
{
	info->flags = 0;
	info->count = 0;
	if (sim_loss_offers_request()) {
		info->flags = VFIO_IRQ_INFO_EVENTFD;
		info->count = 1;
	}
	return 0;
}

static void release_request(void)
{
	if (loss.request_fd >= 0)
		real.close(loss.request_fd);
	loss.request_fd = -1;
}

void sim_loss_device_closed(void)
{
	release_request();
}

static long request_eventfd(int32_t fd)
{
	char link[64], target[64];
	if (fd == -1) {
		release_request();
		return 0;
	}
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	ssize_t n = real.readlink(link, target, sizeof(target) - 1);
	if (n < 0)
		return -EBADF;
	target[n] = '\0';
	if (strcmp(target, "anon_inode:[eventfd]") != 0)
		return -EINVAL;
	int copy = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (copy < 0)
		return -errno;
	release_request();
	loss.request_fd = copy;
	return 0;
}

/* The kernel's vfio_set_ctx_trigger_single: an eventfd, -1 or DATA_NONE count 0 to drop it. */
long sim_loss_set_request(const struct vfio_irq_set *set)
{
	const uint32_t data = set->flags & VFIO_IRQ_SET_DATA_TYPE_MASK;
	const uint32_t action = set->flags & VFIO_IRQ_SET_ACTION_TYPE_MASK;
	if (!sim_loss_offers_request() || action != VFIO_IRQ_SET_ACTION_TRIGGER || set->start)
		return -EINVAL;
	if (data == VFIO_IRQ_SET_DATA_NONE && set->count == 0) {
		release_request();
		return 0;
	}
	if (data != VFIO_IRQ_SET_DATA_EVENTFD || set->count != 1 ||
	    set->argsz < sizeof(*set) + sizeof(int32_t))
		return -EINVAL;
	int32_t fd;
	memcpy(&fd, set->data, sizeof(fd));
	return request_eventfd(fd);
}

/* Asks the user to let go, as vfio_pci_core_request does; -ENOENT when nobody listens. */
static int request_removal(void)
{
	const uint64_t one = 1;
	loss.removing = true;
	if (loss.request_fd < 0)
		return -ENOENT;
	if (write(loss.request_fd, &one, sizeof(one)) != sizeof(one))
		return -errno;
	return 0;
}

int sim_loss_fault(uint32_t fault, uint64_t arg)
{
	switch (fault) {
	case SIM_FAULT_DEVICE_GONE:
	case SIM_FAULT_DEVICE_HANGUP:
		if (arg != 0 && arg != ENODEV && arg != EIO)
			return -EINVAL;
		loss.gone_errno = (int)arg;
		if (!arg)
			loss.removing = false;
		__atomic_store_n(&loss.hangup, fault == SIM_FAULT_DEVICE_HANGUP && arg,
				 __ATOMIC_RELAXED);
		return 0;
	case SIM_FAULT_DEVICE_REQUEST:
		return request_removal();
	default:
		return -EINVAL;
	}
}

/* Device fds hung up once the fault says so; every other fd as the kernel says. */
__attribute__((visibility("default"))) int poll(struct pollfd *fds, nfds_t n, int timeout)
{
	static int (*real_poll)(struct pollfd *, nfds_t, int);
	if (!real_poll)
		real_poll = (int (*)(struct pollfd *, nfds_t, int))dlsym(RTLD_NEXT, "poll");
	int ready = real_poll(fds, n, timeout);
	if (ready < 0 || !__atomic_load_n(&loss.hangup, __ATOMIC_RELAXED))
		return ready;
	pthread_mutex_lock(&sim.lock);
	for (nfds_t i = 0; i < n; i++) {
		struct sim_fd *f = sim_fd_find(fds[i].fd);
		if (!f || f->kind != SIM_FD_DEVICE)
			continue;
		ready += fds[i].revents == 0;
		fds[i].revents |= POLLHUP;
	}
	pthread_mutex_unlock(&sim.lock);
	return ready;
}
