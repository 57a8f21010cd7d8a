// SPDX-License-Identifier: GPL-2.0-or-later
/* Client side of the sim's control socket (wire format in sim_protocol.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "sim_protocol.h"
#include "simctl.h"

struct simctl {
	int fd;
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int try_connect(const struct sockaddr_un *addr)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	if (connect(fd, (const struct sockaddr *)addr, sizeof(*addr)) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

struct simctl *simctl_connect(const char *socket_path, int timeout_ms)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	const int64_t deadline = now_ms() + timeout_ms;
	struct simctl *ctl;
	int fd;

	if (!socket_path || strlen(socket_path) >= sizeof(addr.sun_path))
		return NULL;
	strcpy(addr.sun_path, socket_path);
	while ((fd = try_connect(&addr)) < 0 && now_ms() < deadline)
		usleep(20 * 1000);
	if (fd < 0)
		return NULL;
	ctl = malloc(sizeof(*ctl));
	if (!ctl) {
		close(fd);
		return NULL;
	}
	ctl->fd = fd;
	return ctl;
}

void simctl_free(struct simctl *ctl)
{
	if (!ctl)
		return;
	close(ctl->fd);
	free(ctl);
}

/*
 * Sends one request and reads its answer; up to cap answer bytes land in
 * out, *got says how many. Returns the sim's status or a transport error.
 */
static int call(struct simctl *ctl, struct sim_req *req, const void *payload, void *out,
		size_t cap, size_t *got)
{
	struct sim_resp resp;
	int ret;

	if (!ctl)
		return -EINVAL;
	req->magic = SIM_PROTO_MAGIC;
	ret = sim_io_full(ctl->fd, req, sizeof(*req), true);
	if (ret == 0 && req->len)
		ret = sim_io_full(ctl->fd, (void *)payload, req->len, true);
	if (ret == 0)
		ret = sim_io_full(ctl->fd, &resp, sizeof(resp), false);
	if (ret < 0)
		return ret;
	if (resp.len > cap)
		return -EPROTO;
	if (resp.len)
		ret = sim_io_full(ctl->fd, out, resp.len, false);
	if (got)
		*got = resp.len;
	return ret < 0 ? ret : resp.status;
}

static int call_simple(struct simctl *ctl, uint32_t op, uint32_t arg, uint64_t a, uint64_t b)
{
	struct sim_req req = { .op = op, .arg = arg, .a = a, .b = b };

	return call(ctl, &req, NULL, NULL, 0, NULL);
}

int simctl_set_plane(struct simctl *ctl, int plane, const struct sim_plane_desc *desc)
{
	struct sim_req req = { .op = SIM_OP_SET_PLANE, .plane = (uint32_t)plane,
			       .len = sizeof(*desc) };

	if (!desc)
		return -EINVAL;
	return call(ctl, &req, desc, NULL, 0, NULL);
}

int simctl_reshape_plane(struct simctl *ctl, int plane, const struct sim_plane_desc *desc)
{
	struct sim_req req = { .op = SIM_OP_RESHAPE_PLANE, .plane = (uint32_t)plane,
			       .len = sizeof(*desc) };

	if (!desc)
		return -EINVAL;
	return call(ctl, &req, desc, NULL, 0, NULL);
}

int simctl_write(struct simctl *ctl, int plane, size_t offset, const void *data, size_t len)
{
	struct sim_req req = { .op = SIM_OP_WRITE, .plane = (uint32_t)plane, .a = offset,
			       .len = len };

	if (len > SIM_PROTO_MAX_PAYLOAD || (len && !data))
		return -EINVAL;
	return call(ctl, &req, data, NULL, 0, NULL);
}

int simctl_flip(struct simctl *ctl, int plane, const void *data, size_t len)
{
	struct sim_req req = { .op = SIM_OP_FLIP, .plane = (uint32_t)plane, .len = len };

	if (len > SIM_PROTO_MAX_PAYLOAD || (len && !data))
		return -EINVAL;
	return call(ctl, &req, data, NULL, 0, NULL);
}

int simctl_move_cursor(struct simctl *ctl, int32_t x, int32_t y)
{
	return call_simple(ctl, SIM_OP_MOVE_CURSOR, 0, (uint64_t)(int64_t)x, (uint64_t)(int64_t)y);
}

int simctl_fault(struct simctl *ctl, enum sim_fault fault, uint32_t arg)
{
	return call_simple(ctl, SIM_OP_FAULT, (uint32_t)fault, arg, 0);
}

int simctl_irq(struct simctl *ctl, uint64_t value)
{
	return call_simple(ctl, SIM_OP_IRQ, 0, value, 0);
}

int simctl_stats(struct simctl *ctl, struct sim_stats *out)
{
	struct sim_req req = { .op = SIM_OP_STATS };
	size_t got;
	int ret;

	if (!out)
		return -EINVAL;
	ret = call(ctl, &req, NULL, out, sizeof(*out), &got);
	return ret == 0 && got != sizeof(*out) ? -EPROTO : ret;
}

/* Reads the answer's header with the fds it carries (at most max; the rest closed). */
static int recv_header_fds(int sock, struct sim_resp *resp, int *fds, size_t max, size_t *nfds)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int) * 2)];
	} control;
	struct iovec iov = { .iov_base = resp, .iov_len = sizeof(*resp) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
			      .msg_controllen = sizeof(control.buf) };
	ssize_t n;

	*nfds = 0;
	do
		n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n <= 0)
		return n < 0 ? -errno : -EPIPE;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < count; i++) {
			int fd;
			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(fd));
			if (*nfds < max)
				fds[(*nfds)++] = fd;
			else
				close(fd);
		}
	}
	/* The fds came with the first byte; the header's rest is a plain read. */
	return (size_t)n < sizeof(*resp)
		       ? sim_io_full(sock, (char *)resp + n, sizeof(*resp) - (size_t)n, false)
		       : 0;
}

int simctl_buffers(struct simctl *ctl, int plane, struct simctl_buffer out[2])
{
	struct sim_req req = { .magic = SIM_PROTO_MAGIC, .op = SIM_OP_BUFFERS,
			       .plane = (uint32_t)plane };
	struct sim_buffers_head head;
	struct sim_resp resp;
	int fds[2] = { -1, -1 };
	size_t nfds;
	int ret;

	if (!ctl || !out)
		return -EINVAL;
	ret = sim_io_full(ctl->fd, &req, sizeof(req), true);
	if (ret == 0)
		ret = recv_header_fds(ctl->fd, &resp, fds, 2, &nfds);
	if (ret == 0 && resp.len != (resp.status == 0 ? sizeof(head) : 0))
		ret = -EPROTO;
	if (ret == 0 && resp.len)
		ret = sim_io_full(ctl->fd, &head, sizeof(head), false);
	if (ret == 0)
		ret = resp.status;
	if (ret == 0 && (head.count == 0 || head.count > 2 || head.count != nfds))
		ret = -EPROTO;
	if (ret < 0) {
		for (size_t i = 0; i < 2; i++)
			if (fds[i] >= 0)
				close(fds[i]);
		return ret;
	}
	for (uint32_t i = 0; i < head.count; i++)
		out[i] = (struct simctl_buffer){ .fd = fds[i], .base = head.base[i],
						 .size = head.size[i] };
	return (int)head.count;
}

int simctl_edid(struct simctl *ctl, void *buf, size_t cap, uint32_t *size, uint32_t *link_up)
{
	struct sim_req req = { .op = SIM_OP_EDID, .a = cap };
	uint8_t answer[sizeof(struct sim_edid_head) + 512];
	struct sim_edid_head head;
	size_t got;
	int ret;

	ret = call(ctl, &req, NULL, answer, sizeof(answer), &got);
	if (ret < 0)
		return ret;
	if (got < sizeof(head) || got - sizeof(head) > cap)
		return -EPROTO;
	memcpy(&head, answer, sizeof(head));
	if (buf)
		memcpy(buf, answer + sizeof(head), got - sizeof(head));
	if (size)
		*size = head.size;
	if (link_up)
		*link_up = head.link_up;
	return 0;
}
