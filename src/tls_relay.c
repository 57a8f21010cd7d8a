// SPDX-License-Identifier: GPL-2.0-or-later
#include "tls_relay.h"

#include <errno.h>
#include <fcntl.h>
#include <gnutls/gnutls.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "fd_util.h"
#include "log.h"

/* One TLS record's worth per direction: a stalled reader holds back at most this much. */
#define RELAY_CHUNK 16384

struct tls_relay_creds {
	atomic_uint refs;
	gnutls_certificate_credentials_t x509;
	bool verify_client;
};

struct tls_relay {
	gnutls_session_t session; /* NULL: the client's bytes cross in the clear */
	bool handshaken;
	size_t skip;  /* the plaintext side's greeting still to drop */
	int net_fd;  /* the accepted socket, TLS on the wire */
	int pair_fd; /* our end of the plaintext pair */
	pthread_t thread;
	char peer[80];
};

/* Bytes read from one side, not yet all written to the other. */
struct chunk {
	uint8_t data[RELAY_CHUNK];
	size_t len, off;
};

static int load_files(struct tls_relay_creds *creds, const struct tls_relay_creds_options *o)
{
	int ret = gnutls_certificate_set_x509_key_file(creds->x509, o->cert_file, o->key_file,
						       GNUTLS_X509_FMT_PEM);
	if (ret < 0) {
		log_error("tls_cert %s with tls_key %s: cannot load them: %s", o->cert_file,
			  o->key_file, gnutls_strerror(ret));
		return -EINVAL;
	}
	if (!o->ca_file || !o->ca_file[0])
		return 0;
	ret = gnutls_certificate_set_x509_trust_file(creds->x509, o->ca_file, GNUTLS_X509_FMT_PEM);
	if (ret <= 0) {
		log_error("tls_ca %s: %s", o->ca_file,
			  ret < 0 ? gnutls_strerror(ret) : "no certificate in it");
		return -EINVAL;
	}
	return 0;
}

int tls_relay_creds_new(const struct tls_relay_creds_options *options,
			struct tls_relay_creds **out)
{
	struct tls_relay_creds *creds = calloc(1, sizeof(*creds));
	if (!creds)
		return -ENOMEM;
	atomic_init(&creds->refs, 1);
	creds->verify_client = options->verify_client;
	if (gnutls_certificate_allocate_credentials(&creds->x509) < 0) {
		free(creds);
		return -ENOMEM;
	}
	int ret = load_files(creds, options);
	if (ret < 0) {
		tls_relay_creds_unref(creds);
		return ret;
	}
	*out = creds;
	return 0;
}

struct tls_relay_creds *tls_relay_creds_ref(struct tls_relay_creds *creds)
{
	atomic_fetch_add(&creds->refs, 1);
	return creds;
}

void tls_relay_creds_unref(struct tls_relay_creds *creds)
{
	if (!creds || atomic_fetch_sub(&creds->refs, 1) != 1)
		return;
	gnutls_certificate_free_credentials(creds->x509);
	free(creds);
}

/* A GnuTLS result as 1 (moved bytes), 0 (would block) or an end. */
static int tls_result(struct tls_relay *relay, const char *what, ssize_t n)
{
	if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED)
		return 0;
	if (n == 0 || n == GNUTLS_E_PREMATURE_TERMINATION)
		return -EPIPE;
	log_debug("client %s: TLS %s failed: %s", relay->peer, what, gnutls_strerror((int)n));
	return -ECONNRESET;
}

static int socket_result(ssize_t n)
{
	if (n > 0)
		return 1;
	if (n == 0)
		return -EPIPE;
	return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0 : -errno;
}

static void consumed(struct chunk *chunk, size_t n)
{
	chunk->off += n;
	if (chunk->off == chunk->len)
		chunk->len = chunk->off = 0;
}

/* The client's bytes wait while the plaintext side's greeting is still to drop. */
static bool client_bytes_wanted(const struct tls_relay *relay, const struct chunk *up)
{
	return !up->len && !relay->skip;
}

static int tls_to_chunk(struct tls_relay *relay, struct chunk *chunk)
{
	if (!client_bytes_wanted(relay, chunk))
		return 0;
	if (!relay->session) {
		ssize_t n = recv(relay->net_fd, chunk->data, sizeof(chunk->data), MSG_DONTWAIT);
		if (n > 0)
			chunk->len = (size_t)n;
		return socket_result(n);
	}
	ssize_t n = gnutls_record_recv(relay->session, chunk->data, sizeof(chunk->data));
	if (n <= 0)
		return tls_result(relay, "receive", n);
	chunk->len = (size_t)n;
	return 1;
}

static int chunk_to_tls(struct tls_relay *relay, struct chunk *chunk)
{
	if (!chunk->len)
		return 0;
	if (!relay->session) {
		ssize_t n = send(relay->net_fd, chunk->data + chunk->off, chunk->len - chunk->off,
				 MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n > 0)
			consumed(chunk, (size_t)n);
		return socket_result(n);
	}
	/* After GNUTLS_E_AGAIN GnuTLS wants the same bytes again: off moves only on success. */
	ssize_t n =
	    gnutls_record_send(relay->session, chunk->data + chunk->off, chunk->len - chunk->off);
	if (n <= 0)
		return tls_result(relay, "send", n);
	consumed(chunk, (size_t)n);
	return 1;
}

static int pair_to_chunk(struct tls_relay *relay, struct chunk *chunk)
{
	if (chunk->len)
		return 0;
	ssize_t n = recv(relay->pair_fd, chunk->data, sizeof(chunk->data), MSG_DONTWAIT);
	if (n > 0) {
		size_t drop = relay->skip < (size_t)n ? relay->skip : (size_t)n;
		relay->skip -= drop;
		chunk->len = (size_t)n;
		consumed(chunk, drop);
	}
	return socket_result(n);
}

static int chunk_to_pair(struct tls_relay *relay, struct chunk *chunk)
{
	if (!chunk->len)
		return 0;
	ssize_t n = send(relay->pair_fd, chunk->data + chunk->off, chunk->len - chunk->off,
			 MSG_DONTWAIT | MSG_NOSIGNAL);
	if (n > 0)
		consumed(chunk, (size_t)n);
	return socket_result(n);
}

static short net_events(struct tls_relay *relay)
{
	if (!relay->session)
		return POLLOUT;
	return gnutls_record_get_direction(relay->session) ? POLLOUT : POLLIN;
}

/* -EPIPE once the client side shuts its end: how vnc_client_stop ends a stalled handshake. */
static int handshake(struct tls_relay *relay)
{
	for (;;) {
		int ret = gnutls_handshake(relay->session);
		if (ret == GNUTLS_E_SUCCESS)
			return 0;
		if (gnutls_error_is_fatal(ret)) {
			log_warning("client %s: TLS handshake failed: %s", relay->peer,
				    gnutls_strerror(ret));
			return -ECONNRESET;
		}
		struct pollfd pfd[2] = {
		    {.fd = relay->net_fd, .events = net_events(relay)},
		    {.fd = relay->pair_fd, .events = POLLRDHUP},
		};
		if (poll(pfd, 2, -1) < 0 && errno != EINTR)
			return -errno;
		if (pfd[1].revents & (POLLRDHUP | POLLHUP | POLLERR))
			return -EPIPE;
	}
}

/* One pass over both directions: 1 if anything moved, 0 if all would block, or an end. */
static int pump_once(struct tls_relay *relay, struct chunk *up, struct chunk *down)
{
	int (*const steps[])(struct tls_relay *, struct chunk *) = {
	    tls_to_chunk,
	    chunk_to_pair,
	    pair_to_chunk,
	    chunk_to_tls,
	};
	struct chunk *chunks[] = {up, up, down, down};
	int moved = 0;
	for (unsigned i = 0; i < 4; i++) {
		int ret = steps[i](relay, chunks[i]);
		if (ret < 0)
			return ret;
		moved |= ret;
	}
	return moved;
}

/*
 * A side gone both ways that we wait to write to can never drain: the end.
 * One we read from still hands over its last bytes, then its EOF, as the
 * other side takes them; until then it is left out of poll(), which would
 * report it at once, every time.
 */
static int note_hangups(struct pollfd pfd[2], bool gone[2])
{
	for (unsigned i = 0; i < 2; i++) {
		if (!(pfd[i].revents & (POLLHUP | POLLERR)))
			continue;
		if (pfd[i].events & POLLOUT)
			return -EPIPE;
		gone[i] = true;
	}
	return 0;
}

/* up: from the TLS peer to the client; down: back. Returns how it ended. */
static int pump(struct tls_relay *relay)
{
	struct chunk *chunks = calloc(2, sizeof(*chunks));
	if (!chunks)
		return -ENOMEM;
	struct chunk *up = &chunks[0], *down = &chunks[1];
	bool gone[2] = { false, false };
	int ret;
	while ((ret = pump_once(relay, up, down)) >= 0) {
		bool wanted = client_bytes_wanted(relay, up);
		if (ret > 0 || (wanted && relay->session && gnutls_record_check_pending(relay->session)))
			continue;
		short net = (short)((wanted ? POLLIN : 0) | (down->len ? net_events(relay) : 0));
		short pair = (short)((down->len ? 0 : POLLIN) | (up->len ? POLLOUT : 0));
		struct pollfd pfd[2] = {
			{ .fd = gone[0] ? -1 : relay->net_fd, .events = net },
			{ .fd = gone[1] ? -1 : relay->pair_fd, .events = pair },
		};
		if (poll(pfd, 2, -1) < 0 && errno != EINTR) {
			ret = -errno;
			break;
		}
		ret = note_hangups(pfd, gone);
		if (ret < 0)
			break;
	}
	free(chunks);
	return ret;
}

static void *relay_thread(void *arg)
{
	struct tls_relay *relay = arg;
	int ret = relay->handshaken || !relay->session ? 0 : handshake(relay);
	relay->handshaken = ret == 0 && relay->session != NULL;
	if (ret == 0)
		ret = pump(relay);
	if (ret != -EPIPE && ret != -ECONNRESET)
		log_warning("client %s: TLS relay ended: %s", relay->peer, strerror(-ret));
	/* Whichever side ended, the other learns it now; the fds stay until tls_relay_free. */
	shutdown(relay->pair_fd, SHUT_RDWR);
	if (relay->handshaken)
		gnutls_bye(relay->session, GNUTLS_SHUT_WR);
	shutdown(relay->net_fd, SHUT_RDWR);
	return NULL;
}

static void relay_release(struct tls_relay *relay)
{
	tls_relay_session_free(relay->session);
	close_fd(relay->pair_fd);
	close_fd(relay->net_fd);
	free(relay);
}

/* The session's pointer holds its reference on the credentials. */
int tls_relay_session_new(struct tls_relay_creds *creds, int net_fd, const char *peer,
			  gnutls_session_t *out)
{
	gnutls_session_t session;
	int ret = gnutls_init(&session, GNUTLS_SERVER | GNUTLS_NONBLOCK | GNUTLS_NO_SIGNAL);
	if (ret < 0) {
		log_error("client %s: cannot set up TLS: %s", peer, gnutls_strerror(ret));
		return -ENOMEM;
	}
	gnutls_session_set_ptr(session, tls_relay_creds_ref(creds));
	ret = gnutls_set_default_priority(session);
	if (ret == 0)
		ret = gnutls_credentials_set(session, GNUTLS_CRD_CERTIFICATE, creds->x509);
	if (ret < 0) {
		log_error("client %s: cannot set up TLS: %s", peer, gnutls_strerror(ret));
		tls_relay_session_free(session);
		return -ENOMEM;
	}
	if (creds->verify_client) {
		/* The handshake fails unless the client's certificate chains to tls_ca. */
		gnutls_certificate_server_set_request(session, GNUTLS_CERT_REQUIRE);
		gnutls_session_set_verify_cert(session, NULL, 0);
	}
	gnutls_transport_set_int(session, net_fd);
	*out = session;
	return 0;
}

void tls_relay_session_free(gnutls_session_t session)
{
	if (!session)
		return;
	struct tls_relay_creds *creds = gnutls_session_get_ptr(session);
	gnutls_deinit(session);
	tls_relay_creds_unref(creds);
}

/* Takes net_fd and session, also on failure; *out starts its thread. */
static int relay_new(gnutls_session_t session, int net_fd, const char *peer, int *plain_fd,
		     struct tls_relay **out)
{
	struct tls_relay *relay = calloc(1, sizeof(*relay));
	if (!relay) {
		tls_relay_session_free(session);
		close_fd(net_fd);
		return -ENOMEM;
	}
	relay->session = session;
	relay->net_fd = net_fd;
	relay->pair_fd = -1;
	snprintf(relay->peer, sizeof(relay->peer), "%s", peer);
	int pair[2];
	/* The thread waits in poll() only: a blocking read on one side would starve the other. */
	int flags = fcntl(net_fd, F_GETFL);
	if (flags < 0 || fcntl(net_fd, F_SETFL, flags | O_NONBLOCK) < 0 ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, pair) < 0) {
		int ret = -errno;
		relay_release(relay);
		return ret;
	}
	relay->pair_fd = pair[0];
	*plain_fd = pair[1];
	*out = relay;
	return 0;
}

static int relay_run(struct tls_relay *relay, int *plain_fd, struct tls_relay **out)
{
	int ret = -pthread_create(&relay->thread, NULL, relay_thread, relay);
	if (ret < 0) {
		close_fd(*plain_fd);
		relay_release(relay);
		return ret;
	}
	*out = relay;
	return 0;
}

int tls_relay_start(struct tls_relay_creds *creds, int net_fd, const char *peer, int *plain_fd,
		    struct tls_relay **out)
{
	gnutls_session_t session;
	int ret = tls_relay_session_new(creds, net_fd, peer, &session);
	if (ret < 0) {
		close_fd(net_fd);
		return ret;
	}
	struct tls_relay *relay;
	ret = relay_new(session, net_fd, peer, plain_fd, &relay);
	return ret < 0 ? ret : relay_run(relay, plain_fd, out);
}

int tls_relay_start_established(gnutls_session_t session, int net_fd, size_t skip,
				const char *peer, int *plain_fd, struct tls_relay **out)
{
	struct tls_relay *relay;
	int ret = relay_new(session, net_fd, peer, plain_fd, &relay);
	if (ret < 0)
		return ret;
	relay->handshaken = session != NULL;
	relay->skip = skip;
	return relay_run(relay, plain_fd, out);
}

void tls_relay_free(struct tls_relay *relay)
{
	if (!relay)
		return;
	/* Wakes the thread wherever it waits: it polls its pair end throughout. */
	shutdown(relay->pair_fd, SHUT_RDWR);
	pthread_join(relay->thread, NULL);
	relay_release(relay);
}
