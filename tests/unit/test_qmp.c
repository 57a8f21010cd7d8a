// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The QMP client against a fake QEMU on a unix socket: greeting and
 * negotiation, commands with ids, replies matched by id whatever their
 * order, events passed over, errors counted, and the connection coming back
 * after a close, a protocol error, a silent server or a socket that appears late.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <event2/event.h>

#include "fake_qmp.h"
#include "qmp.h"

struct fixture {
	struct event_base *base;
	struct fake_qmp server;
	struct qmp *qmp;
};

static int setup(void **state)
{
	static struct fixture f;
	memset(&f, 0, sizeof(f));
	f.base = event_base_new();
	assert_non_null(f.base);
	fake_qmp_init(&f.server, f.base, true);
	assert_int_equal(qmp_new(f.base, f.server.path, &f.qmp), 0);
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	qmp_free(f->qmp);
	fake_qmp_done(&f->server);
	event_base_free(f->base);
	return 0;
}

static bool ready(void *ctx)
{
	return qmp_ready(ctx);
}

static bool not_ready(void *ctx)
{
	return !qmp_ready(ctx);
}

static struct qmp_stats stats(struct fixture *f)
{
	struct qmp_stats s;
	qmp_get_stats(f->qmp, &s);
	return s;
}

static void connect_ready(struct fixture *f)
{
	fake_qmp_handshake(&f->server);
	assert_true(fake_qmp_pump_until(&f->server, ready, f->qmp, 2000));
}

static json_t *args(int n)
{
	return json_pack("{s:i}", "n", n);
}

/* Sends a command, reads it on the server side and checks its form. */
static json_t *command(struct fixture *f, int n)
{
	assert_int_equal(qmp_execute(f->qmp, "input-send-event", args(n)), 0);
	json_t *cmd = fake_qmp_read(&f->server);
	assert_string_equal(json_string_value(json_object_get(cmd, "execute")), "input-send-event");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(cmd, "arguments"), "n")),
			 n);
	assert_true(json_is_integer(json_object_get(cmd, "id")));
	return cmd;
}

static void test_not_ready_before_negotiation(void **state)
{
	struct fixture *f = *state;
	assert_false(qmp_ready(f->qmp));
	assert_int_equal(qmp_execute(f->qmp, "input-send-event", args(1)), -ENOTCONN);
	fake_qmp_accept(&f->server);
	/* Connected but not greeted: still nothing goes out. */
	fake_qmp_pump(&f->server, 50);
	assert_false(qmp_ready(f->qmp));
	assert_int_equal(qmp_execute(f->qmp, "input-send-event", args(1)), -ENOTCONN);
	assert_false(fake_qmp_has_message(&f->server, 50));
}

static void test_handshake_and_command(void **state)
{
	struct fixture *f = *state;
	fake_qmp_accept(&f->server);
	/* The greeting in two pieces, ending in CRLF as QEMU's do. */
	const char *greeting = FAKE_QMP_GREETING;
	char head[20];
	snprintf(head, sizeof(head), "%.19s", greeting);
	fake_qmp_send(&f->server, head);
	fake_qmp_pump(&f->server, 20);
	fake_qmp_send(&f->server, greeting + 19);
	json_t *caps = fake_qmp_read(&f->server);
	assert_string_equal(json_string_value(json_object_get(caps, "execute")), "qmp_capabilities");
	assert_null(json_object_get(caps, "arguments"));
	assert_false(qmp_ready(f->qmp));
	fake_qmp_return(&f->server, caps);
	json_decref(caps);
	assert_true(fake_qmp_pump_until(&f->server, ready, f->qmp, 2000));

	json_t *cmd = command(f, 7);
	fake_qmp_return(&f->server, cmd);
	json_decref(cmd);
	fake_qmp_pump(&f->server, 20);
	assert_int_equal(stats(f).succeeded, 1);
	assert_int_equal(stats(f).sent, 2); /* qmp_capabilities too */
	assert_int_equal(stats(f).connects, 1);
}

static void test_replies_by_id_among_events(void **state)
{
	struct fixture *f = *state;
	connect_ready(f);
	json_t *first = command(f, 1), *second = command(f, 2);
	assert_true(json_integer_value(json_object_get(first, "id")) !=
		    json_integer_value(json_object_get(second, "id")));
	fake_qmp_send(&f->server, "{\"timestamp\": {\"seconds\": 1, \"microseconds\": 2}, "
				  "\"event\": \"STOP\"}\r\n");
	/* Answered out of order, the first one with an error. */
	fake_qmp_return(&f->server, second);
	char reply[160];
	snprintf(reply, sizeof(reply),
		 "{\"id\": %lld, \"error\": {\"class\": \"GenericError\", \"desc\": \"VM not "
		 "running\"}}\r\n",
		 (long long)json_integer_value(json_object_get(first, "id")));
	fake_qmp_send(&f->server, reply);
	/* A reply to nothing of ours is passed over. */
	fake_qmp_send(&f->server, "{\"return\": {}, \"id\": 99999}\r\n");
	fake_qmp_send(&f->server, "{\"event\": \"RESUME\"}\n");
	fake_qmp_pump(&f->server, 50);
	struct qmp_stats s = stats(f);
	assert_int_equal(s.succeeded, 1);
	assert_int_equal(s.failed, 1);
	assert_int_equal(s.events, 2);
	assert_true(qmp_ready(f->qmp));
	json_decref(first);
	json_decref(second);

	/* Still working: the next command goes out and its answer counts. */
	json_t *third = command(f, 3);
	fake_qmp_return(&f->server, third);
	json_decref(third);
	fake_qmp_pump(&f->server, 20);
	assert_int_equal(stats(f).succeeded, 2);
}

static void test_reconnect_after_close(void **state)
{
	struct fixture *f = *state;
	connect_ready(f);
	fake_qmp_close(&f->server);
	assert_true(fake_qmp_pump_until(&f->server, not_ready, f->qmp, 2000));
	assert_int_equal(qmp_execute(f->qmp, "input-send-event", args(1)), -ENOTCONN);
	/* It comes back by itself, after QMP_RETRY_MIN_MS. */
	connect_ready(f);
	assert_int_equal(stats(f).connects, 2);
	json_t *cmd = command(f, 5);
	json_decref(cmd);
}

static void test_reconnect_after_protocol_error(void **state)
{
	struct fixture *f = *state;
	connect_ready(f);
	fake_qmp_send(&f->server, "this is not JSON\r\n");
	assert_true(fake_qmp_pump_until(&f->server, not_ready, f->qmp, 2000));
	connect_ready(f);

	/* A message that is JSON but no object is as bad. */
	fake_qmp_send(&f->server, "[1, 2]\r\n");
	assert_true(fake_qmp_pump_until(&f->server, not_ready, f->qmp, 2000));
	connect_ready(f);
	assert_int_equal(stats(f).connects, 3);
}

static void test_no_greeting_is_dropped(void **state)
{
	struct fixture *f = *state;
	fake_qmp_accept(&f->server);
	/* Not a QMP server: the first message is no greeting. */
	fake_qmp_send(&f->server, "{\"hello\": 1}\r\n");
	fake_qmp_pump(&f->server, 50);
	assert_false(qmp_ready(f->qmp));
	connect_ready(f);
}

static void test_silent_server_times_out(void **state)
{
	struct fixture *f = *state;
	fake_qmp_accept(&f->server);
	int silent = f->server.fd;
	f->server.fd = -1; /* keep it open and say nothing */
	/* After QMP_GREETING_TIMEOUT_MS the client gives up on it and connects again. */
	fake_qmp_accept(&f->server);
	fake_qmp_send(&f->server, FAKE_QMP_GREETING);
	json_t *caps = fake_qmp_read(&f->server);
	fake_qmp_return(&f->server, caps);
	json_decref(caps);
	assert_true(fake_qmp_pump_until(&f->server, ready, f->qmp, 2000));
	close(silent);
}

static void test_overlong_line(void **state)
{
	struct fixture *f = *state;
	connect_ready(f);
	char chunk[4096];
	memset(chunk, ' ', sizeof(chunk) - 1);
	chunk[sizeof(chunk) - 1] = '\0';
	for (unsigned sent = 0; sent <= QMP_MAX_LINE && qmp_ready(f->qmp); sent += sizeof(chunk) - 1) {
		send(f->server.fd, chunk, strlen(chunk), MSG_NOSIGNAL);
		fake_qmp_pump(&f->server, 1);
	}
	assert_true(fake_qmp_pump_until(&f->server, not_ready, f->qmp, 2000));
}

static void test_backlog_is_bounded(void **state)
{
	struct fixture *f = *state;
	connect_ready(f);
	for (unsigned i = 0; i < QMP_MAX_PENDING; i++)
		assert_int_equal(qmp_execute(f->qmp, "input-send-event", NULL), 0);
	assert_int_equal(qmp_execute(f->qmp, "input-send-event", NULL), -ENOBUFS);
	/* One answer makes room for one more. */
	json_t *cmd = fake_qmp_read(&f->server);
	fake_qmp_return(&f->server, cmd);
	json_decref(cmd);
	fake_qmp_pump(&f->server, 20);
	assert_int_equal(qmp_execute(f->qmp, "input-send-event", NULL), 0);
	assert_int_equal(qmp_execute(f->qmp, "input-send-event", NULL), -ENOBUFS);
}

/* The socket appears after the client started: it keeps trying. */
static void test_socket_appears_late(void **state)
{
	struct fixture *f = *state;
	qmp_free(f->qmp);
	fake_qmp_done(&f->server);
	fake_qmp_init(&f->server, f->base, false);
	assert_int_equal(qmp_new(f->base, f->server.path, &f->qmp), 0);
	fake_qmp_pump(&f->server, 300);
	assert_false(qmp_ready(f->qmp));
	fake_qmp_listen(&f->server);
	connect_ready(f);
}

static void test_path_too_long(void **state)
{
	struct event_base *base = event_base_new();
	char path[200];
	struct qmp *qmp = NULL;
	memset(path, 'a', sizeof(path) - 1);
	path[0] = '/';
	path[sizeof(path) - 1] = '\0';
	assert_int_equal(qmp_new(base, path, &qmp), -ENAMETOOLONG);
	assert_null(qmp);
	event_base_free(base);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_not_ready_before_negotiation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_handshake_and_command, setup, teardown),
		cmocka_unit_test_setup_teardown(test_replies_by_id_among_events, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reconnect_after_close, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reconnect_after_protocol_error, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_greeting_is_dropped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_silent_server_times_out, setup, teardown),
		cmocka_unit_test_setup_teardown(test_overlong_line, setup, teardown),
		cmocka_unit_test_setup_teardown(test_backlog_is_bounded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_socket_appears_late, setup, teardown),
		cmocka_unit_test(test_path_too_long),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
