// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Sim objects this process did not open itself. Each process has its own
 * sim, so a device or group another process opened is a memfd of that
 * process's sim: handed over by the VMM side (--device-fd, device_socket),
 * or copied with pidfd_getfd from a process that plays QEMU. Like the
 * kernel, which knows its device and group whoever opened them, the sim
 * serves such an fd as its own, in the state its opener left it in; and
 * reads its /proc/PID/fd link as the node it stands for, as the daemon
 * looks for QEMU's fd of the mdev there (and fstat of it as that node's
 * character device, as the daemon matches QEMU's fds it cannot list).
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "sim_internal.h"

#define MEMFD_LINK(name) "/memfd:" SIM_MEMFD_PREFIX name " (deleted)"

static bool link_is(const char *link, const char *name)
{
	size_t prefix = strlen("/memfd:" SIM_MEMFD_PREFIX);

	return strncmp(link, "/memfd:" SIM_MEMFD_PREFIX, prefix) == 0 &&
	       strncmp(link + prefix, name, strlen(name)) == 0;
}

static bool own_fd_link(int fd, char *link, size_t size)
{
	char path[64];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = real.readlink(path, link, size - 1);
	if (n < 0)
		return false;
	link[n] = '\0';
	return true;
}

/* Its region memory is the handed-over file's own. */
static struct sim_fd *adopt_device(int fd)
{
	struct sim_fd *entry = sim_fd_add(fd, SIM_FD_DEVICE);

	if (!entry)
		return NULL;
	entry->bound = true;
	sim.stats.device_fds_open++;
	return entry;
}

/* A group with its container and IOMMU set: its opener (QEMU) set them. */
static struct sim_fd *adopt_group(int fd)
{
	struct sim_fd *entry;

	if (sim.group_open || sim.cdev_open)
		return NULL;
	entry = sim_fd_add(fd, SIM_FD_GROUP);
	if (!entry)
		return NULL;
	sim.group_open = true;
	sim.group_adopted = true;
	sim.container_set = true;
	sim.iommu_set = true;
	return entry;
}

struct sim_fd *sim_adopt_foreign(int fd)
{
	char link[128];

	if (!own_fd_link(fd, link, sizeof(link)))
		return NULL;
	if (link_is(link, "device"))
		return adopt_device(fd);
	if (strcmp(link, MEMFD_LINK("group")) == 0)
		return adopt_group(fd);
	return NULL;
}

bool sim_is_fd_link(const char *path)
{
	const char *p = path + strlen("/proc/");
	size_t digits;

	if (strncmp(path, "/proc/", strlen("/proc/")) != 0)
		return false;
	digits = strspn(p, "0123456789");
	if (!digits || strncmp(p + digits, "/fd/", 4) != 0)
		return false;
	p += digits + 4;
	return *p && strspn(p, "0123456789") == strlen(p);
}

/* The node a sim object's fd link stands for, else the link itself. */
static const char *node_of_link(const char *link, char node[64])
{
	if (strcmp(link, MEMFD_LINK("group")) == 0) {
		snprintf(node, 64, "/dev/vfio/%d", sim.cfg.group);
		return node;
	}
	if (strcmp(link, MEMFD_LINK("container")) == 0)
		return "/dev/vfio/vfio";
	if (strcmp(link, MEMFD_LINK("iommufd")) == 0)
		return "/dev/iommu";
	/* The cdev node where the sim offers one, else the group path's anonymous file. */
	if (strcmp(link, MEMFD_LINK("device")) == 0)
		return sim.cfg.cdev ? "/dev/vfio/devices/vfio0" : "anon_inode:[vfio-device]";
	return link;
}

bool sim_fd_node(int fd, char *node, size_t size)
{
	char link[128], group[64];
	const char *shown;

	if (!own_fd_link(fd, link, sizeof(link)))
		return false;
	shown = node_of_link(link, group);
	if (shown == link)
		return false;
	snprintf(node, size, "%s", shown);
	return true;
}

ssize_t sim_fd_link_read(const char *path, char *buf, size_t size)
{
	char link[128], node[64];
	ssize_t n = real.readlink(path, link, sizeof(link) - 1);
	const char *shown;
	size_t len;

	if (n < 0)
		return -1;
	link[n] = '\0';
	shown = node_of_link(link, node);
	len = strlen(shown) < size ? strlen(shown) : size;
	memcpy(buf, shown, len);
	return (ssize_t)len;
}
