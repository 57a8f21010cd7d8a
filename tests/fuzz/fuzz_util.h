/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef MDEV_VNCD_FUZZ_UTIL_H
#define MDEV_VNCD_FUZZ_UTIL_H

/*
 * What the libFuzzer harnesses share: reading numbers off the front of the
 * input, and buffers that end exactly at an inaccessible page, so a read
 * one byte past what the buffer claims faults at once (ASan alone would not
 * see a read inside a larger mapping).
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fuzz_input {
	const uint8_t *data;
	size_t left;
};

/* The next n bytes little-endian, zeros once the input runs out. */
static inline uint64_t fuzz_take(struct fuzz_input *in, unsigned n)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < n && in->left; i++, in->left--)
		v |= (uint64_t)*in->data++ << (8 * i);
	return v;
}

struct guarded_buffer {
	uint8_t *data; /* size bytes, the last one right before the guard page */
	void *map;
	size_t map_size;
};

/* NULL data when the mapping fails. The contents are the pattern byte. */
static inline void guarded_alloc(struct guarded_buffer *buf, size_t size, uint8_t pattern)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t body = (size + page - 1) / page * page;

	buf->data = NULL;
	buf->map_size = body + page;
	buf->map = mmap(NULL, buf->map_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			-1, 0);
	if (buf->map == MAP_FAILED)
		return;
	if (mprotect((uint8_t *)buf->map + body, page, PROT_NONE) != 0) {
		munmap(buf->map, buf->map_size);
		return;
	}
	buf->data = (uint8_t *)buf->map + body - size;
	memset(buf->data, pattern, size);
}

/*
 * Every target links log.c: nothing at all is printed (a level below
 * errors), so the runs are not slowed by the lines hostile input earns. And
 * SIGPIPE ignored, as the daemon ignores it: a write to a peer that went
 * away is an error the code under test handles, not a silent death of the
 * whole fuzzer (which is how fuzz_rfb runs used to vanish).
 */
static inline void fuzz_setup_as_daemon(void)
{
	log_init("fuzz", (enum log_level)0);
	signal(SIGPIPE, SIG_IGN);
}

static inline void guarded_free(struct guarded_buffer *buf)
{
	if (buf->data)
		munmap(buf->map, buf->map_size);
	buf->data = NULL;
}

/* A peer silent this long, neither reading nor closing, is a hang: reported as a crash. */
#define FUZZ_HANG_MS 5000

/*
 * Plays the input into a socket as the remote peer would, then closes the
 * sending side, and reads whatever the other side answers (so it never
 * blocks writing to us) until it hangs up or done_fd (-1: none) becomes
 * readable. Silence for FUZZ_HANG_MS is a hang: abort().
 */
static inline void fuzz_converse(int fd, const uint8_t *data, size_t size, int done_fd)
{
	size_t sent = 0;
	bool open = true;
	if (size == 0)
		shutdown(fd, SHUT_WR);
	while (open) {
		struct pollfd pfd[2] = {
			{ fd, (short)(POLLIN | (sent < size ? POLLOUT : 0)), 0 },
			{ done_fd, POLLIN, 0 },
		};
		int n = poll(pfd, 2, FUZZ_HANG_MS);
		if (n == 0)
			abort();
		if (n < 0 || pfd[1].revents)
			return;
		if (pfd[0].revents & POLLOUT) {
			ssize_t w = send(fd, data + sent, size - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
			sent += w > 0 ? (size_t)w : size - sent; /* a refused write: give the rest up */
			if (sent == size)
				shutdown(fd, SHUT_WR);
		}
		if (pfd[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			char sink[16384];
			ssize_t r = recv(fd, sink, sizeof(sink), MSG_DONTWAIT);
			open = r > 0 || (r < 0 && errno == EAGAIN);
		}
	}
}

#endif
