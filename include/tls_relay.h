/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef MDEV_VNCD_TLS_RELAY_H
#define MDEV_VNCD_TLS_RELAY_H

#include <stdbool.h>
#include <stddef.h>
#include <gnutls/gnutls.h>

/*
 * TLS terminated by the daemon, for wss and VeNCrypt clients: libvncserver
 * 0.9.14's own GnuTLS path stalls after the handshake and it has no
 * server-side VeNCrypt, while its plain path works. Each connection gets a
 * socketpair: the caller hands one end to the normal client machinery as
 * if it were the accepted socket, and a relay thread pumps the other end to
 * and from the TLS session. When either side closes, the relay shuts the
 * other down and ends.
 */
struct tls_relay_creds;
struct tls_relay;

struct tls_relay_creds_options {
	const char *cert_file, *key_file; /* PEM: the certificate (chain) and its key */
	const char *ca_file;              /* NULL or "": no client certificates */
	bool verify_client;               /* clients must show a certificate ca_file signed */
};

/*
 * Loads the files once; one reference. -errno, logged with the reason.
 * Shared: every session made with them holds a reference, so a reload can
 * drop the old ones while clients still use them.
 */
int tls_relay_creds_new(const struct tls_relay_creds_options *options,
			struct tls_relay_creds **out);
struct tls_relay_creds *tls_relay_creds_ref(struct tls_relay_creds *creds);
/* Accepts NULL. */
void tls_relay_creds_unref(struct tls_relay_creds *creds);

/*
 * A non-blocking server session on net_fd with creds (which it keeps a
 * reference to until tls_relay_session_free). -errno, logged with peer.
 */
int tls_relay_session_new(struct tls_relay_creds *creds, int net_fd, const char *peer,
			  gnutls_session_t *out);
/* Accepts NULL. */
void tls_relay_session_free(gnutls_session_t session);

/*
 * Takes net_fd (the accepted socket, whose first byte is a TLS handshake),
 * also on failure; the relay does the handshake. On success *plain_fd is
 * the caller's to own: the plaintext end of the pair. Shutting it down (or
 * closing it) ends the relay. peer names the client in log lines.
 */
int tls_relay_start(struct tls_relay_creds *creds, int net_fd, const char *peer, int *plain_fd,
		    struct tls_relay **out);

/*
 * For a client whose handshake the daemon already did (VeNCrypt): takes
 * net_fd and session (from tls_relay_session_new, handshake done), also on
 * failure. session NULL relays net_fd in the clear. The first skip bytes
 * the plaintext side writes are dropped, and nothing from the client is
 * passed on before they are: libvncserver greets every client with its
 * version, which this client has had already.
 */
int tls_relay_start_established(gnutls_session_t session, int net_fd, size_t skip,
				const char *peer, int *plain_fd, struct tls_relay **out);

/* Ends the relay if it still runs, waits for its thread, closes its fds. Accepts NULL. */
void tls_relay_free(struct tls_relay *relay);

#endif
