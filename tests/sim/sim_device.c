// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The device fd: a memfd holding the regions (so mmap, pread and pwrite
 * work natively), region and IRQ info with their capability chains, and the
 * display-event IRQ of the v6 series.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "sim_internal.h"
#include "sim_uapi.h"

/* Region offsets of our own choosing: deliberately not index << 40. */
#define CONFIG_OFFSET 0x1000
#define CONFIG_SIZE 256
#define EDID_OFFSET 0x2000
#define EDID_SIZE 0x1000
#define EDID_BLOB_OFFSET 0x100
#define EDID_BLOB_MAX 512
#define MMIO_OFFSET 0x3000
#define MMIO_SIZE 0x1000
#define EDID_INDEX VFIO_PCI_NUM_REGIONS

struct region {
	uint64_t offset, size;
	uint32_t flags;
};

static int put(const void *data, size_t len, off_t off)
{
	return pwrite(sim.device_memfd, data, len, off) == (ssize_t)len ? 0 : -EIO;
}

/*
 * PCI config space with the personality's ids (sim_driver_pci_ids) and the
 * VGA class, the bochs ID register, an empty EDID.
 */
static int device_fill(void)
{
	uint8_t config[0x30] = { [8] = 0x02, [11] = 0x03 };
	static const uint16_t bochs_id = 0xB0C5;
	uint16_t ids[4];
	const struct vfio_region_gfx_edid edid = {
		.edid_offset = EDID_BLOB_OFFSET,
		.edid_max_size = EDID_BLOB_MAX,
		.max_xres = 4096,
		.max_yres = 2160,
		.link_state = VFIO_DEVICE_GFX_LINK_STATE_DOWN,
	};

	sim_driver_pci_ids(ids);
	memcpy(config, ids, 4);             /* vendor, device */
	memcpy(config + 0x2c, ids + 2, 4); /* subsystem vendor, subsystem */
	if (put(config, sizeof(config), CONFIG_OFFSET) < 0 ||
	    put(&bochs_id, sizeof(bochs_id), MMIO_OFFSET + 0x500) < 0)
		return -EIO;
	return sim.cfg.edid ? put(&edid, sizeof(edid), EDID_OFFSET) : 0;
}

int sim_device_init(void)
{
	int fd = sim_memfd("device", SIM_BAR0_OFFSET + SIM_BAR0_SIZE);

	if (fd < 0)
		return fd;
	sim.device_memfd = fd;
	return device_fill();
}

static uint32_t num_regions(void)
{
	return sim.cfg.edid ? EDID_INDEX + 1 : EDID_INDEX;
}

static uint32_t num_irqs(void)
{
	return sim.cfg.irq == SIM_IRQ_NONE ? VFIO_PCI_NUM_IRQS : SIM_IRQ_DISPLAY_INDEX + 1;
}

static int region_lookup(uint32_t index, struct region *r)
{
	const uint32_t rw = VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE;

	*r = (struct region){ 0 };
	if (index == SIM_REGION_FB_INDEX && sim.cfg.region_mode) {
		*r = (struct region){ SIM_BAR0_OFFSET, sim_fb_region_size(),
				      rw | VFIO_REGION_INFO_FLAG_MMAP };
		return 0;
	}
	if (index >= num_regions())
		return -EINVAL;
	if (index == VFIO_PCI_BAR0_REGION_INDEX)
		*r = (struct region){ SIM_BAR0_OFFSET, SIM_BAR0_SIZE,
				      rw | VFIO_REGION_INFO_FLAG_MMAP };
	else if (index == VFIO_PCI_BAR2_REGION_INDEX)
		*r = (struct region){ MMIO_OFFSET, MMIO_SIZE, rw };
	else if (index == VFIO_PCI_CONFIG_REGION_INDEX)
		*r = (struct region){ CONFIG_OFFSET, CONFIG_SIZE, rw };
	else if (index == EDID_INDEX)
		*r = (struct region){ EDID_OFFSET, EDID_SIZE, rw | VFIO_REGION_INFO_FLAG_CAPS };
	return 0;
}

static long get_device_info(struct vfio_device_info *info)
{
	if (info->argsz < offsetof(struct vfio_device_info, cap_offset))
		return -EINVAL;
	info->flags = VFIO_DEVICE_FLAGS_PCI;
	info->num_regions = num_regions();
	info->num_irqs = num_irqs();
	if (info->argsz >= sizeof(*info))
		info->cap_offset = 0;
	return 0;
}

/* Like the kernel: too small an argsz gets the needed size and no chain. */
static long get_region_info(struct vfio_region_info *info)
{
	const struct vfio_region_info_cap_type cap = {
		.header = { .id = VFIO_REGION_INFO_CAP_TYPE, .version = 1 },
		.type = VFIO_REGION_TYPE_GFX,
		.subtype = VFIO_REGION_SUBTYPE_GFX_EDID,
	};
	const uint32_t need = sizeof(*info) + sizeof(cap);
	struct region r;

	if (info->argsz < sizeof(*info))
		return -EINVAL;
	if (region_lookup(info->index, &r) < 0)
		return -EINVAL;
	info->flags = r.flags;
	info->size = r.size;
	info->offset = r.offset;
	info->cap_offset = 0;
	if (!(r.flags & VFIO_REGION_INFO_FLAG_CAPS))
		return 0;
	if (info->argsz < need) {
		info->argsz = need;
		return 0;
	}
	memcpy((char *)info + sizeof(*info), &cap, sizeof(cap));
	info->cap_offset = sizeof(*info);
	return 0;
}

int sim_device_mmap_check(off_t off, size_t len)
{
	if (off < SIM_BAR0_OFFSET || len > SIM_BAR0_SIZE ||
	    (uint64_t)off - SIM_BAR0_OFFSET > SIM_BAR0_SIZE - len)
		return -EINVAL;
	return 1;
}

/*
 * The display IRQ's chain: the info struct (20 bytes, padded to 24), then
 * the TYPE cap and the DISPLAY cap. The malformed modes break it on purpose.
 * Returns the argsz the chain claims to need.
 */
static uint32_t build_irq_chain(uint8_t *buf)
{
	const uint32_t type_at = 24, display_at = type_at + sizeof(struct vfio_irq_info_cap_type);
	struct vfio_irq_info_cap_type type = {
		.header = { .id = VFIO_IRQ_INFO_CAP_TYPE, .version = 1, .next = display_at },
		.type = VFIO_IRQ_TYPE_GFX,
		.subtype = VFIO_IRQ_SUBTYPE_GFX_DISPLAY_IRQ,
	};
	struct vfio_irq_info_cap_display display = {
		.header = { .id = VFIO_IRQ_INFO_CAP_DISPLAY, .version = 1 },
		.cur_event_val = SIM_EVENT_CURSOR,
		.pri_event_val = SIM_EVENT_PRIMARY,
	};
	uint32_t full = display_at + sizeof(display);

	switch (sim.cfg.irq) {
	case SIM_IRQ_DISPLAY_NOCAP:
		type.header.next = 0;
		full = display_at;
		break;
	case SIM_IRQ_MALFORMED_LOOP:
		display.header.next = type_at;
		break;
	case SIM_IRQ_MALFORMED_OOB:
		type.header.next = 0x10000;
		break;
	case SIM_IRQ_MALFORMED_TRUNCATED:
		full = display_at + sizeof(display.header) + 4;
		break;
	default:
		break;
	}
	memcpy(buf + type_at, &type, sizeof(type));
	if (full > display_at)
		memcpy(buf + display_at, &display, sizeof(display));
	((struct vfio_irq_info_caps *)buf)->cap_offset = type_at;
	return full;
}

static long get_irq_info(struct vfio_irq_info_caps *info)
{
	uint8_t chain[64] = { 0 };
	uint32_t full;

	if (info->argsz < offsetof(struct vfio_irq_info_caps, cap_offset))
		return -EINVAL;
	if (info->index >= num_irqs())
		return -EINVAL;
	if (info->index == VFIO_PCI_REQ_IRQ_INDEX)
		return sim_loss_request_info((struct vfio_irq_info *)info);
	info->flags = 0;
	info->count = 0;
	if (info->index != SIM_IRQ_DISPLAY_INDEX)
		return 0;
	info->flags = VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_MASKABLE | VFIO_IRQ_INFO_FLAG_CAPS;
	info->count = 1;
	full = build_irq_chain(chain);
	if (info->argsz < full) {
		if (info->argsz >= sizeof(*info))
			info->cap_offset = 0;
		info->argsz = full;
		return 0;
	}
	/* The caller's fixed fields stay; the chain follows them. */
	memcpy((uint8_t *)info + offsetof(struct vfio_irq_info_caps, cap_offset),
	       chain + offsetof(struct vfio_irq_info_caps, cap_offset),
	       full - offsetof(struct vfio_irq_info_caps, cap_offset));
	return 0;
}

/*
 * eventfd adds what is written, like eventfd_signal() in the kernel. A write
 * that would overflow the counter blocks, and we hold the lock: read the
 * counter first and drop the event if the daemon stopped reading.
 */
static bool eventfd_has_room(uint64_t value)
{
	char path[64], line[128];
	unsigned long long count = 0;
	FILE *info;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", sim.eventfd);
	info = fopen(path, "re");
	if (!info)
		return true;
	while (fgets(line, sizeof(line), info))
		if (sscanf(line, "eventfd-count: %llx", &count) == 1)
			break;
	fclose(info);
	return count < ULLONG_MAX - 1 - value;
}

void sim_irq_fire(uint64_t value)
{
	if (sim.eventfd < 0 || !value)
		return;
	if (sim.masked) {
		sim.pending |= value;
		return;
	}
	if (!eventfd_has_room(value))
		return;
	if (write(sim.eventfd, &value, sizeof(value)) == sizeof(value))
		sim.stats.irq_signals++;
}

void sim_irq_release(void)
{
	if (sim.eventfd >= 0)
		real.close(sim.eventfd);
	sim.eventfd = -1;
	sim.irq_user_fd = -1;
	sim.masked = false;
	sim.pending = 0;
}

static long irq_set_eventfd(int32_t fd)
{
	char link[64], target[64];
	ssize_t n;
	int copy;

	if (fd == -1) {
		sim_irq_release();
		return 0;
	}
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = real.readlink(link, target, sizeof(target) - 1);
	if (n < 0)
		return -EBADF;
	target[n] = '\0';
	if (strcmp(target, "anon_inode:[eventfd]") != 0)
		return -EINVAL;
	copy = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (copy < 0)
		return -errno;
	sim_irq_release();
	sim.eventfd = copy;
	sim.irq_user_fd = fd;
	return 0;
}

static void irq_set_masked(bool masked)
{
	uint64_t pending = sim.pending;

	sim.masked = masked;
	if (masked || !pending)
		return;
	sim.pending = 0;
	sim_irq_fire(pending);
}

static long irq_trigger(uint32_t data, uint32_t count, const uint8_t *payload)
{
	int32_t fd;

	if (data == VFIO_IRQ_SET_DATA_EVENTFD) {
		if (count != 1)
			return -EINVAL;
		memcpy(&fd, payload, sizeof(fd));
		return irq_set_eventfd(fd);
	}
	if (!count) {
		if (data != VFIO_IRQ_SET_DATA_NONE)
			return -EINVAL;
		sim_irq_release();
		return 0;
	}
	if (data == VFIO_IRQ_SET_DATA_NONE || payload[0])
		sim_irq_fire(SIM_EVENT_PRIMARY | SIM_EVENT_CURSOR);
	return 0;
}

static long set_irqs(struct vfio_irq_set *set)
{
	const uint32_t data = set->flags & VFIO_IRQ_SET_DATA_TYPE_MASK;
	const uint32_t action = set->flags & VFIO_IRQ_SET_ACTION_TYPE_MASK;
	size_t elem;

	if (set->argsz < offsetof(struct vfio_irq_set, data))
		return -EINVAL;
	sim.stats.set_irqs++;
	if (set->index >= num_irqs() || __builtin_popcount(data) != 1 ||
	    __builtin_popcount(action) != 1 ||
	    (set->flags & ~(VFIO_IRQ_SET_DATA_TYPE_MASK | VFIO_IRQ_SET_ACTION_TYPE_MASK)))
		return -EINVAL;
	/*
	 * A device has one trigger per IRQ (vfio_set_ctx_trigger_single swaps
	 * it): on a device QEMU opened, setting the request IRQ takes QEMU's,
	 * and QEMU never hears the kernel ask it to let go on removal.
	 */
	if (set->index == VFIO_PCI_REQ_IRQ_INDEX && sim.group_adopted)
		sim_rule_broken("SET_IRQS on the request IRQ of a device QEMU opened: "
				"QEMU's trigger replaced");
	if (set->index == VFIO_PCI_REQ_IRQ_INDEX)
		return sim_loss_set_request(set);
	if (set->index != SIM_IRQ_DISPLAY_INDEX)
		return set->count == 0 && data == VFIO_IRQ_SET_DATA_NONE ? 0 : -EINVAL;
	if (set->start != 0 || set->count > 1)
		return -EINVAL;
	elem = data == VFIO_IRQ_SET_DATA_EVENTFD ? sizeof(int32_t) :
	       data == VFIO_IRQ_SET_DATA_BOOL    ? 1 : 0;
	if (set->argsz < offsetof(struct vfio_irq_set, data) + set->count * elem)
		return -EINVAL;
	if (action == VFIO_IRQ_SET_ACTION_TRIGGER)
		return irq_trigger(data, set->count, set->data);
	if (data == VFIO_IRQ_SET_DATA_EVENTFD)
		return -EINVAL;
	if (data == VFIO_IRQ_SET_DATA_NONE || (set->count && set->data[0]))
		irq_set_masked(action == VFIO_IRQ_SET_ACTION_MASK);
	return 0;
}

int sim_edid_read(void *buf, size_t cap, uint32_t *size, uint32_t *link_up)
{
	struct vfio_region_gfx_edid edid;
	size_t n;

	if (!sim.cfg.edid)
		return -ENODEV;
	if (pread(sim.device_memfd, &edid, sizeof(edid), EDID_OFFSET) != sizeof(edid))
		return -EIO;
	*size = edid.edid_size;
	*link_up = edid.link_state == VFIO_DEVICE_GFX_LINK_STATE_UP;
	n = edid.edid_size < EDID_BLOB_MAX ? edid.edid_size : EDID_BLOB_MAX;
	if (n > cap)
		n = cap;
	if (pread(sim.device_memfd, buf, n, EDID_OFFSET + EDID_BLOB_OFFSET) != (ssize_t)n)
		return -EIO;
	return (int)n;
}

long sim_device_ioctl(struct sim_fd *f, unsigned long req, void *arg)
{
	if (sim_loss_ioctl_gate())
		return sim_loss_ioctl_gate();
	switch (req) {
	case VFIO_DEVICE_BIND_IOMMUFD:
	case VFIO_DEVICE_ATTACH_IOMMUFD_PT:
	case VFIO_DEVICE_DETACH_IOMMUFD_PT:
		return sim_cdev_ioctl(f, req, arg);
	}
	if (!f->bound)
		return -EINVAL;
	if (req == VFIO_DEVICE_RESET)
		return 0;
	if (!arg)
		return -EFAULT;
	switch (req) {
	case VFIO_DEVICE_GET_INFO:
		return get_device_info(arg);
	case VFIO_DEVICE_GET_REGION_INFO:
		return get_region_info(arg);
	case VFIO_DEVICE_GET_IRQ_INFO:
		return get_irq_info(arg);
	case VFIO_DEVICE_SET_IRQS:
		return set_irqs(arg);
	case VFIO_DEVICE_QUERY_GFX_PLANE:
		return sim_query_plane(arg);
	case VFIO_DEVICE_GET_GFX_DMABUF:
		return sim_get_dmabuf(arg);
	default:
		return -ENOTTY;
	}
}
