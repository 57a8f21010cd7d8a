// SPDX-License-Identifier: GPL-2.0-or-later
#include "attach_helper.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fd_util.h"
#include "log.h"
#include "privdrop.h"
#include "qemu_attach.h"
#include "vfio_device.h"

/* The one request there is. */
#define HELPER_REQUEST_ATTACH 'A'

/* The answer; with status 0 it carries two fds: the device's, then QEMU's pidfd. */
struct attach_reply {
	int32_t status; /* 0 or -errno */
	int32_t pid;
	char why[200]; /* status 0: the node QEMU holds the mdev by */
};

struct attach_helper {
	pid_t pid;
	int sock;
};

static int send_reply(int sock, const struct attach_reply *reply, const int fds[2])
{
	struct iovec iov = { .iov_base = (void *)reply, .iov_len = sizeof(*reply) };
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(2 * sizeof(int))];
	} control;
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	if (fds) {
		msg.msg_control = control.buf;
		msg.msg_controllen = sizeof(control.buf);
		struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
		cmsg->cmsg_level = SOL_SOCKET;
		cmsg->cmsg_type = SCM_RIGHTS;
		cmsg->cmsg_len = CMSG_LEN(2 * sizeof(int));
		memcpy(CMSG_DATA(cmsg), fds, 2 * sizeof(int));
	}
	return sendmsg(sock, &msg, MSG_NOSIGNAL) == (ssize_t)sizeof(*reply) ? 0 : -errno;
}

/* One attach, as qemu_attach_open does it, answered over the socket. */
static int serve_attach(int sock, const char *pidfile, const char *uuid)
{
	struct attach_reply reply = { 0 };
	struct qemu_attach *attach = NULL;
	int device_fd = -1;
	int ret = qemu_attach_new(0, pidfile, &attach, reply.why, sizeof(reply.why));
	if (ret == 0)
		ret = qemu_attach_device_fd(attach, uuid, true, &device_fd, reply.why,
					    sizeof(reply.why));
	reply.status = ret;
	if (ret == 0) {
		int fds[2] = { device_fd, qemu_attach_pidfd(attach) };
		reply.pid = qemu_attach_pid(attach);
		snprintf(reply.why, sizeof(reply.why), "%s", qemu_attach_node(attach));
		ret = send_reply(sock, &reply, fds);
	} else {
		ret = send_reply(sock, &reply, NULL);
	}
	close_fd(device_fd);
	qemu_attach_free(attach);
	return ret;
}

static _Noreturn void helper_main(int sock, pid_t daemon_pid, const char *pidfile,
				  const char *uuid, const char *user)
{
	char err[256];
	/* Dies with the daemon, even one killed before it could close the socket. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0 || getppid() != daemon_pid)
		_exit(EXIT_FAILURE);
	if (privdrop_keep_ptrace(user, err, sizeof(err)) < 0) {
		log_error("attach helper: %s; exiting", err);
		_exit(EXIT_FAILURE);
	}
	for (;;) {
		char request;
		ssize_t n = recv(sock, &request, 1, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0)
			_exit(EXIT_SUCCESS); /* the daemon let go of it */
		if (n != 1 || request != HELPER_REQUEST_ATTACH) {
			log_error("attach helper: unexpected request from the daemon; exiting");
			_exit(EXIT_FAILURE);
		}
		if (serve_attach(sock, pidfile, uuid) < 0)
			_exit(EXIT_FAILURE);
	}
}

int attach_helper_start(const char *pidfile, const char *uuid, const char *user, int parent_fd,
			struct attach_helper **out)
{
	int pair[2];
	/* Datagrams in order: one request, one answer, never run together. */
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0) {
		log_error("attach helper: socketpair failed: %s", strerror(errno));
		return -errno;
	}
	struct attach_helper *h = calloc(1, sizeof(*h));
	pid_t daemon_pid = getpid();
	pid_t pid = h ? fork() : -1;
	if (pid == 0) {
		close(pair[0]);
		close_fd(parent_fd);
		helper_main(pair[1], daemon_pid, pidfile, uuid, user);
	}
	int err = errno;
	close(pair[1]);
	if (pid < 0) {
		log_error("attach helper: cannot start it: %s", h ? strerror(err) : "out of memory");
		close(pair[0]);
		free(h);
		return h ? -err : -ENOMEM;
	}
	h->pid = pid;
	h->sock = pair[0];
	log_info("attach helper (PID %d) started: it alone keeps CAP_SYS_PTRACE, to take the "
		 "vGPU from QEMU's next start", (int)pid);
	*out = h;
	return 0;
}

/* The answer and its fds; a reply out of protocol closes whatever came with it. */
static int receive_reply(int sock, struct attach_reply *reply, int fds[2])
{
	struct pollfd pfd = { .fd = sock, .events = POLLIN };
	if (poll(&pfd, 1, ATTACH_HELPER_TIMEOUT_MS) != 1)
		return -ETIMEDOUT;
	struct iovec iov = { .iov_base = reply, .iov_len = sizeof(*reply) };
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(2 * sizeof(int))];
	} control;
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
			      .msg_controllen = sizeof(control.buf) };
	ssize_t n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
	struct cmsghdr *cmsg = n > 0 ? CMSG_FIRSTHDR(&msg) : NULL;
	bool two_fds = cmsg && cmsg->cmsg_level == SOL_SOCKET && cmsg->cmsg_type == SCM_RIGHTS &&
		       cmsg->cmsg_len == CMSG_LEN(2 * sizeof(int));
	if (two_fds)
		memcpy(fds, CMSG_DATA(cmsg), 2 * sizeof(int));
	bool ok = n == (ssize_t)sizeof(*reply) && !(msg.msg_flags & (MSG_CTRUNC | MSG_TRUNC)) &&
		  two_fds == (reply->status == 0) && reply->status <= 0;
	if (!ok && two_fds) {
		close(fds[0]);
		close(fds[1]);
	}
	if (!ok)
		return n < 0 ? -errno : -EPIPE;
	reply->why[sizeof(reply->why) - 1] = '\0';
	return 0;
}

int attach_helper_request(struct attach_helper *h, const char *uuid, struct vfio_device **dev,
			  struct qemu_attach **qemu, char *why, size_t len)
{
	const char request = HELPER_REQUEST_ATTACH;
	struct attach_reply reply;
	int fds[2];
	*qemu = NULL;
	int ret = send(h->sock, &request, 1, MSG_NOSIGNAL) == 1 ? 0 : -errno;
	if (ret == 0)
		ret = receive_reply(h->sock, &reply, fds);
	if (ret < 0) {
		snprintf(why, len, "the attach helper (PID %d) is gone or out of step: %s",
			 (int)h->pid, strerror(-ret));
		return -EPIPE;
	}
	if (reply.status < 0) {
		snprintf(why, len, "%s", reply.why);
		return reply.status;
	}
	ret = qemu_attach_adopt(reply.pid, fds[1], qemu);
	char origin[sizeof(reply.why) + 32];
	snprintf(origin, sizeof(origin), "QEMU PID %d, %s", (int)reply.pid, reply.why);
	const char *step = "out of memory";
	if (ret == 0)
		ret = vfio_device_adopt_fd(fds[0], origin, dev, &step);
	else
		close(fds[0]);
	if (ret < 0) {
		snprintf(why, len, "%s", step);
		qemu_attach_free(*qemu);
		*qemu = NULL;
	}
	return ret;
}

void attach_helper_free(struct attach_helper *h)
{
	if (!h)
		return;
	close_fd(h->sock);
	while (waitpid(h->pid, NULL, 0) < 0 && errno == EINTR)
		;
	free(h);
}
