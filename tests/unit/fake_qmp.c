// SPDX-License-Identifier: GPL-2.0-or-later
#include "fake_qmp.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <event2/event.h>

#define WAIT_MS 8000 /* beyond QMP_GREETING_TIMEOUT_MS */

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void fake_qmp_init(struct fake_qmp *f, struct event_base *base, bool listen)
{
	memset(f, 0, sizeof(*f));
	f->base = base;
	f->listen_fd = f->fd = -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/fake-qmp-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/qmp.sock", f->dir);
	if (listen)
		fake_qmp_listen(f);
}

void fake_qmp_listen(struct fake_qmp *f)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", f->path);
	f->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	assert_true(f->listen_fd >= 0);
	assert_int_equal(bind(f->listen_fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	assert_int_equal(listen(f->listen_fd, 4), 0);
}

void fake_qmp_close(struct fake_qmp *f)
{
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
	f->len = 0;
}

void fake_qmp_done(struct fake_qmp *f)
{
	fake_qmp_close(f);
	if (f->listen_fd >= 0)
		close(f->listen_fd);
	unlink(f->path);
	rmdir(f->dir);
}

void fake_qmp_pump(struct fake_qmp *f, int ms)
{
	long long end = now_ms() + ms;
	do {
		event_base_loop(f->base, EVLOOP_NONBLOCK);
		usleep(1000);
	} while (now_ms() < end);
}

bool fake_qmp_pump_until(struct fake_qmp *f, bool (*cond)(void *ctx), void *ctx, int timeout_ms)
{
	long long end = now_ms() + timeout_ms;
	while (!cond(ctx)) {
		if (now_ms() > end)
			return false;
		event_base_loop(f->base, EVLOOP_NONBLOCK);
		usleep(1000);
	}
	return true;
}

static bool accepted(void *ctx)
{
	struct fake_qmp *f = ctx;
	f->fd = accept4(f->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	return f->fd >= 0;
}

void fake_qmp_accept(struct fake_qmp *f)
{
	fake_qmp_close(f);
	if (!fake_qmp_pump_until(f, accepted, f, WAIT_MS))
		fail_msg("the client did not connect");
}

void fake_qmp_send(struct fake_qmp *f, const char *text)
{
	assert_int_equal(send(f->fd, text, strlen(text), MSG_NOSIGNAL), (ssize_t)strlen(text));
}

/* Reads what is there; true once a whole line is buffered. */
static bool line_buffered(void *ctx)
{
	struct fake_qmp *f = ctx;
	if (f->len < sizeof(f->buf)) {
		ssize_t n = recv(f->fd, f->buf + f->len, sizeof(f->buf) - f->len, MSG_DONTWAIT);
		if (n > 0)
			f->len += (size_t)n;
	}
	return memchr(f->buf, '\n', f->len) != NULL;
}

bool fake_qmp_has_message(struct fake_qmp *f, int ms)
{
	return fake_qmp_pump_until(f, line_buffered, f, ms);
}

json_t *fake_qmp_read(struct fake_qmp *f)
{
	if (!fake_qmp_has_message(f, WAIT_MS))
		fail_msg("no message from the client");
	char *nl = memchr(f->buf, '\n', f->len);
	size_t line = (size_t)(nl - f->buf) + 1;
	json_error_t err;
	json_t *msg = json_loadb(f->buf, line, 0, &err);
	if (!msg)
		fail_msg("the client sent no JSON: %s: %.*s", err.text, (int)line, f->buf);
	memmove(f->buf, f->buf + line, f->len - line);
	f->len -= line;
	return msg;
}

void fake_qmp_return(struct fake_qmp *f, json_t *command)
{
	char reply[128];
	snprintf(reply, sizeof(reply), "{\"return\": {}, \"id\": %lld}\r\n",
		 (long long)json_integer_value(json_object_get(command, "id")));
	fake_qmp_send(f, reply);
}

void fake_qmp_handshake(struct fake_qmp *f)
{
	fake_qmp_accept(f);
	fake_qmp_send(f, FAKE_QMP_GREETING);
	json_t *caps = fake_qmp_read(f);
	assert_string_equal(json_string_value(json_object_get(caps, "execute")), "qmp_capabilities");
	fake_qmp_return(f, caps);
	json_decref(caps);
}
