// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The TLS relay against a GnuTLS client over a socketpair: bytes cross both
 * ways, either side closing ends the other, a stalled handshake ends when
 * the plaintext end is shut down, and a bad certificate fails to load.
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
	assert_int_equal(tls_relay_creds_new(f->cert, f->key, &f->creds), 0);
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	tls_relay_creds_free(f->creds);
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
	assert_int_equal(tls_relay_creds_new(missing, missing, &creds), -EINVAL);
	assert_null(creds);
	/* A certificate with its own file as the key: no key in it. */
	test_make_certificate(f->cert, f->key);
	assert_int_equal(tls_relay_creds_new(f->cert, f->cert, &creds), -EINVAL);
	assert_null(creds);
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
	};
	return test_exit_status(cmocka_run_group_tests(tests, NULL, NULL));
}
