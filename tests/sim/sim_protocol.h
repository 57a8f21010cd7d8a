/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef VGPU_SIM_PROTOCOL_H
#define VGPU_SIM_PROTOCOL_H

/*
 * Wire format of the control socket. Both ends run on one machine, so
 * fields are in host byte order. A request is a struct sim_req followed by
 * len payload bytes; the answer is a struct sim_resp followed by len bytes.
 * One request is answered before the next is read.
 *
 * Payloads:
 *   SET_PLANE  -> struct sim_plane_desc (simctl.h)
 *   RESHAPE_PLANE -> struct sim_plane_desc
 *   WRITE      -> pixels, written at req.a into plane req.plane
 *   FLIP       -> pixels for the plane's other buffer
 *   MOVE_CURSOR   a = x, b = y (sign-extended)
 *   FAULT         arg = enum sim_fault, a = its argument
 *   IRQ           a = event value
 *   STATS      <- struct sim_stats (simctl.h)
 *   EDID       <- struct sim_edid_head, then edid_size blob bytes
 *                 (at most req.a of them)
 *   BUFFERS    <- struct sim_buffers_head; the answer's header carries the
 *                 plane's buffer memfds as SCM_RIGHTS (current one first)
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <unistd.h>

#include "simctl.h"

#define SIM_PROTO_MAGIC 0x4d495356u /* "VSIM" */
#define SIM_PROTO_MAX_PAYLOAD (64u << 20)
/* The thread that serves the socket inside the process under test. */
#define SIM_CONTROL_THREAD_NAME "vgpusim-ctl"

enum sim_op {
	SIM_OP_SET_PLANE = 1,
	SIM_OP_WRITE,
	SIM_OP_FLIP,
	SIM_OP_MOVE_CURSOR,
	SIM_OP_FAULT,
	SIM_OP_IRQ,
	SIM_OP_STATS,
	SIM_OP_EDID,
	SIM_OP_BUFFERS,
	SIM_OP_RESHAPE_PLANE,
};

struct sim_req {
	uint32_t magic;
	uint32_t op;
	uint32_t plane;
	uint32_t arg;
	uint64_t a;
	uint64_t b;
	uint64_t len;
};

struct sim_resp {
	int32_t status; /* 0 or a negative errno */
	uint32_t reserved;
	uint64_t len;
};

struct sim_edid_head {
	uint32_t size;
	uint32_t link_up;
};

struct sim_buffers_head {
	uint32_t count; /* memfds passed: 2 (double buffered), 1 in region mode */
	uint32_t reserved;
	uint64_t base[2]; /* where each buffer starts in its memfd */
	uint64_t size[2]; /* its allocated bytes */
};

/* Moves all of len bytes over the stream socket, or fails with -errno (-EPIPE at EOF). */
static inline int sim_io_full(int fd, void *buf, size_t len, bool out)
{
	char *p = buf;

	while (len) {
		ssize_t n = out ? send(fd, p, len, MSG_NOSIGNAL) : read(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EPIPE;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

#endif
