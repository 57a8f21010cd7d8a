// SPDX-License-Identifier: GPL-2.0-or-later
/* The CPU import method: a read-only shared mapping of the buffer. */
#include "import.h"

#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <linux/dma-buf.h>

static int mmap_map(const struct import_method *self, const struct import_request *req,
		    struct mapped_buffer *out, const char **why)
{
	void *data = mmap(NULL, req->size, PROT_READ, MAP_SHARED, req->fd, req->offset);
	if (data == MAP_FAILED) {
		int err = errno;
		if (err == EINVAL && req->is_dmabuf)
			*why = "the exporter refused a CPU mapping (EINVAL: read-only export, as stock mbochs)";
		else if (err == ENODEV)
			*why = "the exporter has no CPU-mappable backing (ENODEV: as GVT-g, needs GPU import)";
		else
			*why = strerror(err);
		return -err;
	}
	*out = (struct mapped_buffer){
		.data = data,
		.size = req->size,
		.sync_fd = req->is_dmabuf ? req->fd : -1,
		.method = self,
	};
	return 0;
}

static void mmap_unmap(struct mapped_buffer *buf)
{
	if (buf->data)
		munmap((void *)buf->data, buf->size);
	buf->data = NULL;
}

/*
 * libdrm's drmIoctl retries EINTR and EAGAIN without end; an exporter that
 * keeps saying EAGAIN would then hold the event loop and every client. A
 * few tries, then the frame waits for the next refresh.
 */
#define SYNC_TRIES 4

static int dmabuf_sync(int fd, __u64 flags)
{
	struct dma_buf_sync sync = { .flags = flags | DMA_BUF_SYNC_READ };
	int ret, tries = 0;
	do {
		ret = ioctl(fd, DMA_BUF_IOCTL_SYNC, &sync);
	} while (ret < 0 && (errno == EINTR || errno == EAGAIN) && ++tries < SYNC_TRIES);
	return ret < 0 ? -errno : 0;
}

static int mmap_begin_read(struct mapped_buffer *buf)
{
	return buf->sync_fd >= 0 ? dmabuf_sync(buf->sync_fd, DMA_BUF_SYNC_START) : 0;
}

static void mmap_end_read(struct mapped_buffer *buf)
{
	if (buf->sync_fd >= 0)
		dmabuf_sync(buf->sync_fd, DMA_BUF_SYNC_END);
}

const struct import_method import_cpu_mmap = {
	.name = "cpu-mmap",
	.map = mmap_map,
	.unmap = mmap_unmap,
	.begin_read = mmap_begin_read,
	.end_read = mmap_end_read,
};
