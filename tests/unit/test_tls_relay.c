// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The TLS relay against a GnuTLS client over a socketpair: bytes cross both
 * ways, either side closing ends the other, a stalled handshake ends when
 * the plaintext end is shut down, and a bad certificate fails to load.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <gnutls/gnutls.h>

#include "test_cert.h"
#include "tls_relay.h"

#define WAIT_MS 5000

struct fixture {
	char dir[64], cert[96], key[96];
	struct tls_relay_creds *creds;
};

static int load(const char *cert, const char *key, struct tls_relay_creds **out)
{
	const struct tls_relay_creds_options options = { .cert_file = cert, .key_file = key };
	return tls_relay_creds_new(&options, out);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/test_tls_relay.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->cert, sizeof(f->cert), "%s/cert.pem", f->dir);
	snprintf(f->key, sizeof(f->key), "%s/key.pem", f->dir);
	*state = f;
	return 0;
}

/* The relay's credentials from a fresh certificate (the test skips without openssl). */
static void make_creds(struct fixture *f)
{
	test_make_certificate(f->cert, f->key);
	assert_int_equal(load(f->cert, f->key, &f->creds), 0);
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	tls_relay_creds_unref(f->creds);
	char cmd[100];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

/*
 * The relay on one end of a fresh socketpair; *peer_fd is the TLS client's
 * end. A small net_sndbuf makes the relay wait for the client to read.
 */
static struct tls_relay *start_sized(struct fixture *f, int net_sndbuf, int *peer_fd,
				     int *plain_fd)
{
	make_creds(f);
	int net[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, net), 0);
	if (net_sndbuf)
		assert_int_equal(setsockopt(net[0], SOL_SOCKET, SO_SNDBUF, &net_sndbuf,
					    sizeof(net_sndbuf)),
				 0);
	struct tls_relay *relay = NULL;
	assert_int_equal(tls_relay_start(f->creds, net[0], "test", plain_fd, &relay), 0);
	*peer_fd = net[1];
	return relay;
}

static struct tls_relay *start(struct fixture *f, int *peer_fd, int *plain_fd)
{
	return start_sized(f, 0, peer_fd, plain_fd);
}

static gnutls_session_t client_connect(int fd, gnutls_certificate_credentials_t *x509)
{
	gnutls_session_t session;
	assert_int_equal(gnutls_certificate_allocate_credentials(x509), 0);
	assert_int_equal(gnutls_init(&session, GNUTLS_CLIENT), 0);
	assert_int_equal(gnutls_set_default_priority(session), 0);
	assert_int_equal(gnutls_credentials_set(session, GNUTLS_CRD_CERTIFICATE, *x509), 0);
	gnutls_transport_set_int(session, fd);
	gnutls_handshake_set_timeout(session, WAIT_MS);
	assert_int_equal(gnutls_handshake(session), 0);
	return session;
}

static void client_close(gnutls_session_t session, gnutls_certificate_credentials_t x509, int fd)
{
	gnutls_deinit(session);
	gnutls_certificate_free_credentials(x509);
	close(fd);
}

/* size bytes no two tests share, to compare what crossed against. */
static uint8_t *pattern(size_t size, unsigned seed)
{
	uint8_t *bytes = malloc(size);
	assert_non_null(bytes);
	for (size_t i = 0; i < size; i++)
		bytes[i] = (uint8_t)(i * seed + i / 251);
	return bytes;
}

/* Whether fd reaches EOF within WAIT_MS, whatever comes before it. */
static bool closes(int fd)
{
	char buf[256];
	ssize_t n = -1;
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	while (poll(&pfd, 1, WAIT_MS) == 1 && (n = recv(fd, buf, sizeof(buf), 0)) > 0)
		;
	return pfd.revents && n == 0;
}

/* What arrives on fd within WAIT_MS: > 0 bytes, 0 at EOF, -1 if nothing came. */
static ssize_t read_within(int fd, void *buf, size_t size)
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	if (poll(&pfd, 1, WAIT_MS) != 1)
		return -1;
	return recv(fd, buf, size, 0);
}

static void test_bytes_cross_both_ways(void **state)
{
	int peer, plain;
	struct tls_relay *relay = start(*state, &peer, &plain);
	gnutls_certificate_credentials_t x509;
	gnutls_session_t session = client_connect(peer, &x509);

	assert_int_equal(gnutls_record_send(session, "GET / ", 6), 6);
	char buf[64] = {0};
	assert_int_equal(read_within(plain, buf, sizeof(buf)), 6);
	assert_memory_equal(buf, "GET / ", 6);

	/* More than one TLS record's worth, so the relay loops on it. */
	size_t total = 100000, got = 0;
	uint8_t *big = pattern(total, 7), *back = malloc(total);
	for (size_t sent = 0; sent < total;) {
		ssize_t n = send(plain, big + sent, total - sent, MSG_DONTWAIT);
		if (n > 0)
			sent += (size_t)n;
		while (got < sent) {
			ssize_t r = gnutls_record_recv(session, back + got, total - got);
			assert_true(r > 0);
			got += (size_t)r;
		}
	}
	assert_memory_equal(big, back, total);

	/* The plaintext side going away closes the TLS session. */
	close(plain);
	assert_true(gnutls_record_recv(session, buf, sizeof(buf)) <= 0);
	tls_relay_free(relay);
	client_close(session, x509, peer);
	free(big);
	free(back);
}

/* What the client writes just before it closes still reaches a slow TLS peer. */
static void test_last_bytes_arrive(void **state)
{
	int peer, plain;
	struct tls_relay *relay = start_sized(*state, 4096, &peer, &plain);
	gnutls_certificate_credentials_t x509;
	gnutls_session_t session = client_connect(peer, &x509);
	size_t total = 150000, got = 0;
	uint8_t *big = pattern(total, 13), *back = malloc(total);
	/*
	 * One byte through first: the relay has finished its side of the handshake. (A client
	 * that hangs up during the handshake ends the relay: that is how a stalled one is stopped.)
	 */
	char ping = 'p';
	assert_int_equal(gnutls_record_send(session, &ping, 1), 1);
	struct pollfd ready = { .fd = plain, .events = POLLIN };
	assert_int_equal(poll(&ready, 1, WAIT_MS), 1);
	assert_int_equal(recv(plain, &ping, 1, 0), 1);
	/*
	 * All of it fits the pair's buffer, and the client is gone at once: the peer reads
	 * only now, so with its 4 KiB buffer the relay has sent little and meets the hangup
	 * with nearly all of it still to deliver.
	 */
	assert_int_equal(send(plain, big, total, 0), (ssize_t)total);
	close(plain);
	ssize_t n;
	while (got < total && (n = gnutls_record_recv(session, back + got, total - got)) > 0)
		got += (size_t)n;
	assert_int_equal(got, total);
	assert_memory_equal(big, back, total);
	tls_relay_free(relay);
	client_close(session, x509, peer);
	free(big);
	free(back);
}

static void test_peer_leaving_closes_plain_end(void **state)
{
	int peer, plain;
	struct tls_relay *relay = start(*state, &peer, &plain);
	gnutls_certificate_credentials_t x509;
	gnutls_session_t session = client_connect(peer, &x509);
	client_close(session, x509, peer);
	char c;
	assert_int_equal(read_within(plain, &c, 1), 0);
	tls_relay_free(relay);
	close(plain);
}

/* vnc_client_stop shuts the client's end down: that must end a relay stuck in its handshake. */
static void test_stalled_handshake_ends(void **state)
{
	int peer, plain;
	struct tls_relay *relay = start(*state, &peer, &plain);
	shutdown(plain, SHUT_RDWR);
	/* The relay shuts the wire down as it ends: the silent peer sees EOF. */
	assert_true(closes(peer));
	tls_relay_free(relay);
	close(plain);
	close(peer);
}

static void test_garbage_is_no_handshake(void **state)
{
	int peer, plain;
	struct tls_relay *relay = start(*state, &peer, &plain);
	/* A handshake record holding an empty ClientHello. */
	const char junk[] = "\x16\x03\x01\x00\x04\x01\x00\x00\x00";
	assert_int_equal(send(peer, junk, sizeof(junk) - 1, 0), (ssize_t)sizeof(junk) - 1);
	assert_true(closes(plain));
	assert_true(closes(peer));
	tls_relay_free(relay);
	close(plain);
	close(peer);
}

static void test_bad_files_fail_to_load(void **state)
{
	struct fixture *f = *state;
	struct tls_relay_creds *creds = NULL;
	char missing[128];
	snprintf(missing, sizeof(missing), "%s/missing.pem", f->dir);
	assert_int_equal(load(missing, missing, &creds), -EINVAL);
	assert_null(creds);
	/* A certificate with its own file as the key: no key in it. */
	test_make_certificate(f->cert, f->key);
	assert_int_equal(load(f->cert, f->cert, &creds), -EINVAL);
	assert_null(creds);
}

/*
 * After the daemon's own handshake: the greeting the plaintext side writes
 * first is dropped, and the client's bytes wait until it was.
 */
static void check_greeting_dropped(int plain, ssize_t (*client_send)(void *, const void *, size_t),
				   ssize_t (*client_recv)(void *, void *, size_t), void *client)
{
	assert_int_equal(client_send(client, "C", 1), 1);
	char buf[64];
	struct pollfd pfd = { .fd = plain, .events = POLLIN };
	assert_int_equal(poll(&pfd, 1, 300), 0);
	static const char from_server[] = "RFB 003.008\nSERVERINIT";
	assert_int_equal(send(plain, from_server, 12, 0), 12);
	assert_int_equal(send(plain, from_server + 12, 10, 0), 10);
	assert_int_equal(read_within(plain, buf, sizeof(buf)), 1);
	assert_int_equal(buf[0], 'C');
	size_t got = 0;
	while (got < 10) {
		ssize_t n = client_recv(client, buf + got, sizeof(buf) - got);
		assert_true(n > 0);
		got += (size_t)n;
	}
	assert_int_equal(got, 10);
	assert_memory_equal(buf, "SERVERINIT", 10);
}

static ssize_t socket_send(void *fd, const void *data, size_t len)
{
	return send(*(int *)fd, data, len, 0);
}

static ssize_t socket_recv(void *fd, void *buf, size_t len)
{
	return read_within(*(int *)fd, buf, len);
}

static void test_clear_relay_drops_greeting(void **state)
{
	int net[2], plain;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, net), 0);
	struct tls_relay *relay = NULL;
	assert_int_equal(tls_relay_start_established(NULL, net[0], 12, "test", &plain, &relay), 0);
	check_greeting_dropped(plain, socket_send, socket_recv, &net[1]);
	close(net[1]);
	char c;
	assert_int_equal(read_within(plain, &c, 1), 0);
	tls_relay_free(relay);
	close(plain);
}

struct server_handshake {
	gnutls_session_t session;
	int fd;
	int result;
};

/* The daemon's side of the handshake, done before the relay starts (as VeNCrypt does). */
static void *server_handshake(void *arg)
{
	struct server_handshake *h = arg;
	do {
		h->result = gnutls_handshake(h->session);
		struct pollfd pfd = { .fd = h->fd,
				      .events = gnutls_record_get_direction(h->session) ? POLLOUT
											 : POLLIN };
		if (h->result == GNUTLS_E_AGAIN)
			poll(&pfd, 1, WAIT_MS);
	} while (h->result == GNUTLS_E_AGAIN || h->result == GNUTLS_E_INTERRUPTED);
	return NULL;
}

static ssize_t tls_send(void *session, const void *data, size_t len)
{
	return gnutls_record_send(*(gnutls_session_t *)session, data, len);
}

static ssize_t tls_recv(void *session, void *buf, size_t len)
{
	return gnutls_record_recv(*(gnutls_session_t *)session, buf, len);
}

static void test_established_session_drops_greeting(void **state)
{
	struct fixture *f = *state;
	make_creds(f);
	int net[2], plain;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, net),
			 0);
	struct server_handshake h = { .fd = net[0] };
	assert_int_equal(tls_relay_session_new(f->creds, net[0], "test", &h.session), 0);
	pthread_t thread;
	assert_int_equal(pthread_create(&thread, NULL, server_handshake, &h), 0);
	/* The client's end blocks, as a viewer's would. */
	assert_int_equal(fcntl(net[1], F_SETFL, fcntl(net[1], F_GETFL) & ~O_NONBLOCK), 0);
	gnutls_certificate_credentials_t x509;
	gnutls_session_t client = client_connect(net[1], &x509);
	pthread_join(thread, NULL);
	assert_int_equal(h.result, 0);
	struct tls_relay *relay = NULL;
	assert_int_equal(tls_relay_start_established(h.session, net[0], 12, "test", &plain, &relay),
			 0);
	check_greeting_dropped(plain, tls_send, tls_recv, &client);
	tls_relay_free(relay);
	close(plain);
	client_close(client, x509, net[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_bytes_cross_both_ways, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_last_bytes_arrive, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_peer_leaving_closes_plain_end, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_stalled_handshake_ends, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_garbage_is_no_handshake, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_files_fail_to_load, setup, teardown),
	    cmocka_unit_test(test_clear_relay_drops_greeting),
	    cmocka_unit_test_setup_teardown(test_established_session_drops_greeting, setup,
					    teardown),
	};
	return test_exit_status(cmocka_run_group_tests(tests, NULL, NULL));
}
