/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef MDEV_VNCD_VENCRYPT_CONN_H
#define MDEV_VNCD_VENCRYPT_CONN_H

#include <stdbool.h>
#include <gnutls/gnutls.h>

#include "vencrypt.h"

/*
 * One native client's RFB handshake with VeNCrypt, done by the daemon on
 * its event loop before libvncserver sees the client (vencrypt.h speaks the
 * protocol; this moves its bytes, runs the TLS handshake, and checks the
 * credentials). Nothing blocks the loop: sockets and GnuTLS are
 * non-blocking, password hashes are checked on a short-lived thread, and a
 * wrong answer waits on a timer. A client that stalls anywhere is dropped
 * at the timeout.
 */
struct event_base;
struct tls_relay_creds;
struct vnc_auth;
struct vencrypt_conn;

/* A client that passed: its socket and TLS session are the receiver's to own. */
struct vencrypt_conn_result {
	int fd;
	gnutls_session_t session; /* NULL: a method in the clear (tls = optional) */
	bool viewonly;
};

struct vencrypt_conn_params {
	struct event_base *base;
	int fd;                        /* the accepted socket, taken (also on failure) */
	const char *peer;              /* the log's name of the client */
	const char *addr;              /* the failed-login limiter's key */
	struct tls_relay_creds *creds; /* the conn holds its own reference */
	const struct vencrypt_offer *offer;
	struct vnc_auth *auth;
	unsigned timeout_ms;
	/*
	 * Called once on the loop: with the client in (take result->fd and
	 * ->session), or NULL when it was refused or left (already logged). The
	 * conn does nothing after the call: the receiver may free it there.
	 */
	void (*done)(void *ctx, struct vencrypt_conn_result *result);
	void *ctx;
};

int vencrypt_conn_start(const struct vencrypt_conn_params *params, struct vencrypt_conn **out);
/* Closes whatever was not handed over; waits for a password check still running. NULL ok. */
void vencrypt_conn_free(struct vencrypt_conn *conn);

#endif
