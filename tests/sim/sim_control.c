// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The control socket: tests drive the guest side of the sim through it, one
 * request at a time (wire format in sim_protocol.h).
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "sim_internal.h"
#include "sim_protocol.h"

#define MAX_CLIENTS 8
#define CHUNK (256u << 10)

static int listen_fd = -1;
static pid_t listen_owner;
static char listen_path[sizeof(((struct sockaddr_un *)0)->sun_path)];

static int reply(int fd, int status, const void *payload, size_t len)
{
	struct sim_resp resp = { .status = status, .len = len };
	int ret = sim_io_full(fd, &resp, sizeof(resp), true);

	if (ret == 0 && len)
		ret = sim_io_full(fd, (void *)payload, len, true);
	return ret;
}

/* Streams the payload into the target, or drains it when there is none. */
static int take_payload(int fd, uint64_t len, const struct sim_target *t, uint64_t offset)
{
	char *chunk = malloc(CHUNK);
	int ret = chunk ? 0 : -ENOMEM;

	while (len && chunk) {
		size_t n = len < CHUNK ? (size_t)len : CHUNK;

		ret = sim_io_full(fd, chunk, n, false);
		if (ret < 0)
			break;
		if (t && pwrite(t->fd, chunk, n, t->base + (off_t)offset) != (ssize_t)n) {
			t = NULL; /* keep draining so the stream stays in step */
			ret = -EIO;
		}
		offset += n;
		len -= n;
	}
	free(chunk);
	return ret;
}

static int do_pixels(int fd, const struct sim_req *req, bool flip)
{
	struct sim_target t = { .fd = -1 };
	int status, ret;

	pthread_mutex_lock(&sim.lock);
	status = sim_plane_target((int)req->plane, flip, &t);
	pthread_mutex_unlock(&sim.lock);
	if (status == 0 && (req->a > t.cap || req->len > t.cap - req->a))
		status = -EINVAL;
	ret = take_payload(fd, req->len, status == 0 ? &t : NULL, req->a);
	if (t.fd >= 0)
		real.close(t.fd);
	if (ret == -EIO)
		status = ret;
	else if (ret < 0)
		return ret;
	if (status == 0 && flip) {
		pthread_mutex_lock(&sim.lock);
		status = sim_plane_flip_commit((int)req->plane, t.buf);
		pthread_mutex_unlock(&sim.lock);
	}
	return reply(fd, status, NULL, 0);
}

static int do_set_plane(int fd, const struct sim_req *req)
{
	struct sim_plane_desc desc;
	int ret, status;

	if (req->len != sizeof(desc)) {
		ret = take_payload(fd, req->len, NULL, 0);
		return ret < 0 ? ret : reply(fd, -EINVAL, NULL, 0);
	}
	ret = sim_io_full(fd, &desc, sizeof(desc), false);
	if (ret < 0)
		return ret;
	pthread_mutex_lock(&sim.lock);
	status = req->op == SIM_OP_RESHAPE_PLANE ? sim_plane_reshape((int)req->plane, &desc) :
						   sim_plane_set((int)req->plane, &desc);
	pthread_mutex_unlock(&sim.lock);
	return reply(fd, status, NULL, 0);
}

static int do_edid(int fd, const struct sim_req *req)
{
	uint8_t out[sizeof(struct sim_edid_head) + 512];
	struct sim_edid_head head;
	size_t cap = req->a < 512 ? (size_t)req->a : 512;
	int n;

	pthread_mutex_lock(&sim.lock);
	n = sim_edid_read(out + sizeof(head), cap, &head.size, &head.link_up);
	pthread_mutex_unlock(&sim.lock);
	if (n < 0)
		return reply(fd, n, NULL, 0);
	memcpy(out, &head, sizeof(head));
	return reply(fd, 0, out, sizeof(head) + (size_t)n);
}

/* The answer's header goes with the fds as SCM_RIGHTS, the payload after it. */
static int reply_fds(int fd, const int *fds, size_t nfds, const void *payload, size_t len)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int) * 2)];
	} control = { 0 };
	struct sim_resp resp = { .status = 0, .len = len };
	struct iovec iov = { .iov_base = &resp, .iov_len = sizeof(resp) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
			      .msg_controllen = CMSG_SPACE(sizeof(int) * nfds) };
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	ssize_t n;

	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
	memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
	do
		n = sendmsg(fd, &msg, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if ((size_t)n < sizeof(resp)) {
		int ret = sim_io_full(fd, (char *)&resp + n, sizeof(resp) - (size_t)n, true);
		if (ret < 0)
			return ret;
	}
	return sim_io_full(fd, (void *)payload, len, true);
}

/* Hands the plane's buffers (current first; the flip target made if need be) to the guest side. */
static int do_buffers(int fd, const struct sim_req *req)
{
	struct sim_target t[2] = { { .fd = -1 }, { .fd = -1 } };
	struct sim_buffers_head head = { 0 };
	int status, ret;

	pthread_mutex_lock(&sim.lock);
	status = sim_plane_target((int)req->plane, false, &t[0]);
	if (status == 0 && !sim.cfg.region_mode)
		status = sim_plane_target((int)req->plane, true, &t[1]);
	pthread_mutex_unlock(&sim.lock);
	if (status == 0) {
		int fds[2] = { t[0].fd, t[1].fd };
		head.count = t[1].fd >= 0 ? 2 : 1;
		for (uint32_t i = 0; i < head.count; i++) {
			head.base[i] = (uint64_t)t[i].base;
			head.size[i] = t[i].cap;
		}
		ret = reply_fds(fd, fds, head.count, &head, sizeof(head));
	} else {
		ret = reply(fd, status, NULL, 0);
	}
	for (int i = 0; i < 2; i++)
		if (t[i].fd >= 0)
			real.close(t[i].fd);
	return ret;
}

/* Requests without a payload: a state change under the lock. */
static int do_simple(int fd, const struct sim_req *req)
{
	struct sim_stats stats;
	int status = 0;

	pthread_mutex_lock(&sim.lock);
	switch (req->op) {
	case SIM_OP_MOVE_CURSOR:
		status = sim_plane_move_cursor((int32_t)req->a, (int32_t)req->b);
		break;
	case SIM_OP_FAULT:
		status = sim_fault(req->arg, req->a);
		break;
	case SIM_OP_IRQ:
		if (sim.cfg.irq == SIM_IRQ_NONE)
			status = -ENODEV;
		else
			sim_irq_fire(req->a);
		break;
	default:
		stats = sim.stats;
		break;
	}
	pthread_mutex_unlock(&sim.lock);
	if (req->op == SIM_OP_STATS)
		return reply(fd, 0, &stats, sizeof(stats));
	return reply(fd, status, NULL, 0);
}

/* One request; a negative return ends the connection. */
static int serve_one(int fd)
{
	struct sim_req req;
	int ret = sim_io_full(fd, &req, sizeof(req), false);

	if (ret < 0)
		return ret;
	if (req.magic != SIM_PROTO_MAGIC || req.len > SIM_PROTO_MAX_PAYLOAD)
		return -EPROTO;
	switch (req.op) {
	case SIM_OP_SET_PLANE:
	case SIM_OP_RESHAPE_PLANE:
		return do_set_plane(fd, &req);
	case SIM_OP_WRITE:
	case SIM_OP_FLIP:
		return do_pixels(fd, &req, req.op == SIM_OP_FLIP);
	case SIM_OP_EDID:
		return do_edid(fd, &req);
	case SIM_OP_BUFFERS:
		if (req.len)
			return -EPROTO;
		return do_buffers(fd, &req);
	case SIM_OP_MOVE_CURSOR:
	case SIM_OP_FAULT:
	case SIM_OP_IRQ:
	case SIM_OP_STATS:
		if (req.len)
			return -EPROTO;
		return do_simple(fd, &req);
	default:
		ret = take_payload(fd, req.len, NULL, 0);
		return ret < 0 ? ret : reply(fd, -EOPNOTSUPP, NULL, 0);
	}
}

static void serve_ready(struct pollfd *fds, nfds_t *n)
{
	for (nfds_t i = 1; i < *n; i++) {
		if (!fds[i].revents)
			continue;
		if (serve_one(fds[i].fd) < 0) {
			real.close(fds[i].fd);
			fds[i--] = fds[--*n];
		}
	}
}

static void *control_thread(void *unused)
{
	struct pollfd fds[MAX_CLIENTS + 1] = { { .fd = listen_fd, .events = POLLIN } };
	nfds_t n = 1;

	/* Named, so a benchmark can leave the tests' instrument out of the daemon's CPU time. */
	pthread_setname_np(pthread_self(), SIM_CONTROL_THREAD_NAME);
	for (;;) {
		if (poll(fds, n, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		serve_ready(fds, &n);
		if (fds[0].revents & POLLIN) {
			int client = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);

			if (client >= 0 && n <= MAX_CLIENTS)
				fds[n++] = (struct pollfd){ .fd = client, .events = POLLIN };
			else if (client >= 0)
				real.close(client);
		}
	}
	return NULL;
}

/*
 * A process the daemon spawns inherits LD_PRELOAD and the environment: if
 * someone already answers on the path, it is not ours to take over.
 */
static int bind_socket(const struct sockaddr_un *addr)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	if (bind(fd, (const struct sockaddr *)addr, sizeof(*addr)) < 0 && errno == EADDRINUSE) {
		if (connect(fd, (const struct sockaddr *)addr, sizeof(*addr)) == 0) {
			real.close(fd);
			return -EADDRINUSE;
		}
		real.close(fd);
		unlink(addr->sun_path);
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return -errno;
		if (bind(fd, (const struct sockaddr *)addr, sizeof(*addr)) < 0) {
			int err = -errno;

			real.close(fd);
			return err;
		}
	}
	if (listen(fd, MAX_CLIENTS) < 0) {
		int err = -errno;

		real.close(fd);
		return err;
	}
	return fd;
}

int sim_start_thread(void *(*fn)(void *))
{
	sigset_t all, old;
	pthread_t thread;
	int ret;

	/* The daemon's signals belong to the daemon's threads. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	ret = pthread_create(&thread, NULL, fn, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (ret)
		return -ret;
	pthread_detach(thread);
	return 0;
}

int sim_control_start(const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd, ret;

	if (strlen(path) >= sizeof(addr.sun_path))
		return -ENAMETOOLONG;
	strcpy(addr.sun_path, path);
	fd = bind_socket(&addr);
	if (fd < 0)
		return fd;
	listen_fd = fd;
	listen_owner = getpid();
	strcpy(listen_path, path);
	ret = sim_start_thread(control_thread);
	if (ret < 0) {
		real.close(fd);
		listen_fd = -1;
	}
	return ret;
}

void sim_control_stop(void)
{
	if (listen_fd >= 0 && listen_owner == getpid())
		unlink(listen_path);
}
