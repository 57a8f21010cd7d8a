// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The VeNCrypt connection on an event loop, against a client played byte by
 * byte over a socketpair: a login with the VNC password in the clear
 * (tls = optional) hands the socket over, a wrong one is answered after the
 * failed-login delay with a reason, and a client that stops talking is
 * dropped at the timeout, once even while a wrong answer waits. The TLS
 * subtypes run end to end in e2e.test_vencrypt.
 */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>
#include <event2/thread.h>
#include <rfb/rfb.h>

#include "auth_limit.h"
#include "tls_relay.h"
#include "vencrypt_conn.h"
#include "vnc_auth.h"

#define WAIT_MS 5000

struct fixture {
	char dir[64], cert[96], key[96], password[96];
	struct event_base *base;
	struct tls_relay_creds *creds;
	struct vnc_auth *auth;
	struct vencrypt_conn *conn;
	int client;
	bool done, passed;
	unsigned done_calls;
	struct vencrypt_conn_result result;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/test_vencrypt_conn.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->cert, sizeof(f->cert), "%s/cert.pem", f->dir);
	snprintf(f->key, sizeof(f->key), "%s/key.pem", f->dir);
	snprintf(f->password, sizeof(f->password), "%s/password", f->dir);
	char cmd[640];
	snprintf(cmd, sizeof(cmd),
		 "umask 077 && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 "
		 "-nodes -days 1 -subj /CN=localhost -keyout %s -out %s 2>/dev/null && "
		 "echo sesame > %s",
		 f->key, f->cert, f->password);
	assert_int_equal(system(cmd), 0);
	const struct tls_relay_creds_options creds = { .cert_file = f->cert, .key_file = f->key };
	assert_int_equal(tls_relay_creds_new(&creds, &f->creds), 0);
	const struct vnc_auth_options auth = { .password_file = f->password };
	assert_int_equal(vnc_auth_new(&auth, &f->auth), 0);
	f->base = event_base_new();
	assert_non_null(f->base);
	f->client = -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	vencrypt_conn_free(f->conn);
	if (f->passed)
		close(f->result.fd);
	if (f->client >= 0)
		close(f->client);
	event_base_free(f->base);
	vnc_auth_free(f->auth);
	tls_relay_creds_unref(f->creds);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static void on_done(void *ctx, struct vencrypt_conn_result *result)
{
	struct fixture *f = ctx;
	f->done = true;
	f->done_calls++;
	f->passed = result != NULL;
	if (result)
		f->result = *result;
}

/* The conn on one end of a socketpair, offering the VNC password in the clear. */
static void start(struct fixture *f, unsigned timeout_ms)
{
	static const struct vencrypt_offer offer = {
		.subtypes = { VENCRYPT_X509_VNC },
		.n_subtypes = 1,
		.plain_type = VENCRYPT_RFB_VNC,
	};
	int pair[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair), 0);
	f->client = pair[1];
	const struct vencrypt_conn_params params = {
		.base = f->base,
		.fd = pair[0],
		.peer = "test:1",
		.addr = "test",
		.creds = f->creds,
		.offer = &offer,
		.auth = f->auth,
		.timeout_ms = timeout_ms,
		.done = on_done,
		.ctx = f,
	};
	assert_int_equal(vencrypt_conn_start(&params, &f->conn), 0);
}

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Runs the loop until the client can read size bytes (or EOF), or WAIT_MS pass. */
static ssize_t client_read(struct fixture *f, void *buf, size_t size)
{
	uint64_t deadline = now_ms() + WAIT_MS;
	size_t got = 0;
	while (got < size && now_ms() < deadline) {
		event_base_loop(f->base, EVLOOP_NONBLOCK);
		struct pollfd pfd = { .fd = f->client, .events = POLLIN };
		if (poll(&pfd, 1, 10) != 1)
			continue;
		ssize_t n = recv(f->client, (char *)buf + got, size - got, 0);
		if (n <= 0)
			return got ? (ssize_t)got : n;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

static void client_send(struct fixture *f, const void *data, size_t len)
{
	assert_int_equal(send(f->client, data, len, MSG_NOSIGNAL), (ssize_t)len);
}

static void run_until_done(struct fixture *f)
{
	uint64_t deadline = now_ms() + WAIT_MS;
	while (!f->done && now_ms() < deadline) {
		event_base_loop(f->base, EVLOOP_NONBLOCK);
		usleep(1000);
	}
	assert_true(f->done);
}

/* Greeting, version, the clear VNC password chosen: the challenge, answered. */
static void log_in(struct fixture *f, const char *password)
{
	char greeting[12];
	assert_int_equal(client_read(f, greeting, sizeof(greeting)), 12);
	assert_memory_equal(greeting, "RFB 003.008\n", 12);
	client_send(f, "RFB 003.008\n", 12);
	uint8_t types[3];
	assert_int_equal(client_read(f, types, sizeof(types)), 3);
	assert_memory_equal(types, "\x02\x13\x02", 3);
	client_send(f, "\x02", 1);
	uint8_t challenge[16];
	assert_int_equal(client_read(f, challenge, sizeof(challenge)), 16);
	char key[9];
	snprintf(key, sizeof(key), "%s", password);
	rfbEncryptBytes(challenge, key);
	client_send(f, challenge, sizeof(challenge));
}

static void test_clear_login_hands_over(void **state)
{
	struct fixture *f = *state;
	start(f, WAIT_MS);
	log_in(f, "sesame");
	uint8_t result[4];
	assert_int_equal(client_read(f, result, sizeof(result)), 4);
	assert_memory_equal(result, "\0\0\0\0", 4);
	run_until_done(f);
	assert_true(f->passed);
	assert_null(f->result.session);
	assert_false(f->result.viewonly);
	/* The socket is the receiver's now: what the client sends next is there. */
	client_send(f, "\x01", 1);
	char init;
	assert_int_equal(recv(f->result.fd, &init, 1, 0), 1);
	assert_int_equal(init, 1);
}

static void test_wrong_password_waits_then_refuses(void **state)
{
	struct fixture *f = *state;
	start(f, WAIT_MS);
	log_in(f, "sesame!");
	uint64_t start_ms = now_ms();
	uint8_t result[8];
	assert_int_equal(client_read(f, result, sizeof(result)), 8);
	/* The first failure's delay, from auth_limit.h; the loop ran meanwhile. */
	assert_true(now_ms() - start_ms >= 450);
	assert_memory_equal(result, "\0\0\0\1", 4);
	char reason[32] = "";
	assert_int_equal(client_read(f, reason, 14), 14);
	assert_string_equal(reason, "Wrong password");
	run_until_done(f);
	assert_false(f->passed);
}

static void test_silent_client_dropped_at_timeout(void **state)
{
	struct fixture *f = *state;
	start(f, 300);
	char greeting[12];
	assert_int_equal(client_read(f, greeting, sizeof(greeting)), 12);
	client_send(f, "RFB 003.0", 9);
	uint64_t start_ms = now_ms();
	run_until_done(f);
	assert_true(now_ms() - start_ms >= 250);
	assert_false(f->passed);
	vencrypt_conn_free(f->conn);
	f->conn = NULL;
	char c;
	assert_int_equal(recv(f->client, &c, 1, 0), 0);
}

/*
 * The timeout ends the handshake while a wrong answer waits out its delay;
 * the receiver keeps the conn: the delay must not answer and end it again.
 */
static void test_timeout_during_delay_ends_once(void **state)
{
	struct fixture *f = *state;
	/* Two failures before: this one waits 2 s, well past the 1 s timeout. */
	vnc_auth_login_failed(f->auth, "test", "wrong password");
	vnc_auth_login_failed(f->auth, "test", "wrong password");
	start(f, 1000);
	log_in(f, "sesame!");
	run_until_done(f);
	assert_false(f->passed);
	/* The delay (4 x the first) counted from the timeout: a second past its end. */
	uint64_t quiet_until = now_ms() + AUTH_LIMIT_FIRST_DELAY_MS * 4;
	while (now_ms() < quiet_until) {
		event_base_loop(f->base, EVLOOP_NONBLOCK);
		usleep(5000);
	}
	assert_int_equal(f->done_calls, 1);
	char c;
	assert_int_equal(recv(f->client, &c, 1, MSG_DONTWAIT), -1);
	assert_int_equal(errno, EAGAIN);
}

int main(void)
{
	/* The password check's thread wakes the loop. */
	evthread_use_pthreads();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_clear_login_hands_over, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_password_waits_then_refuses, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_silent_client_dropped_at_timeout, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_timeout_during_delay_ends_once, setup,
						teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
