// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer harness for the QMP client: the bytes are what QEMU's monitor
 * socket delivers (greeting, replies, events, garbage), cut into reads of a
 * size the first byte picks, so lines split across reads too. Whenever the
 * client is ready it sends a command, so replies meet ids it is waiting
 * for. Whatever QEMU says, the client must take it or drop the connection,
 * never crash or leak.
 */
#include <event2/event.h>
#include <stdio.h>
#include <sys/un.h>

#include "fuzz_util.h"
#include "qmp.h"

static char socket_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
static int listen_fd = -1;

static void listen_once(void)
{
	char dir[] = "/tmp/fuzz-qmp.XXXXXX";
	struct sockaddr_un sun = { .sun_family = AF_UNIX };

	if (!mkdtemp(dir))
		abort();
	snprintf(socket_path, sizeof(socket_path), "%s/qmp.sock", dir);
	memcpy(sun.sun_path, socket_path, sizeof(socket_path));
	listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (listen_fd < 0 || bind(listen_fd, (struct sockaddr *)&sun, sizeof(sun)) != 0 ||
	    listen(listen_fd, 4) != 0)
		abort();
	fuzz_setup_as_daemon();
}

/* Turns the client's loop until it has nothing left to do at once. */
static void turn(struct event_base *base, struct qmp *qmp)
{
	event_base_loop(base, EVLOOP_NONBLOCK);
	if (qmp_ready(qmp))
		qmp_execute(qmp, "input-send-event", json_pack("{s:[]}", "events"));
	event_base_loop(base, EVLOOP_NONBLOCK);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (listen_fd < 0)
		listen_once();
	struct fuzz_input in = { data, size };
	size_t chunk = 1 + (size_t)fuzz_take(&in, 1) * 8;

	struct event_base *base = event_base_new();
	struct qmp *qmp = NULL;
	if (!base || qmp_new(base, socket_path, &qmp) != 0)
		abort();
	/* A unix socket connects at once: the connection waits in the backlog. */
	int qemu = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
	if (qemu < 0)
		abort();
	while (in.left) {
		size_t n = in.left < chunk ? in.left : chunk;
		/* Once the client has dropped the connection, the rest goes nowhere. */
		(void)!send(qemu, in.data, n, MSG_NOSIGNAL);
		in.data += n;
		in.left -= n;
		turn(base, qmp);
	}
	close(qemu);
	turn(base, qmp);
	qmp_free(qmp);
	event_base_free(base);
	return 0;
}
