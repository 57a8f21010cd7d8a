/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef MDEV_VNCD_TLS_RELAY_H
#define MDEV_VNCD_TLS_RELAY_H

/*
 * TLS for wss clients, terminated by the daemon: libvncserver 0.9.14's own
 * GnuTLS path stalls after the handshake, its plain websocket path works.
 * Each TLS connection gets a socketpair: the caller hands one end to the
 * normal client machinery as if it were the accepted socket, and a relay
 * thread pumps the other end to and from the TLS session. When either side
 * closes, the relay shuts the other down and ends.
 */
struct tls_relay_creds;
struct tls_relay;

/* Loads a PEM certificate (chain) and its key once. -errno, logged with the reason. */
int tls_relay_creds_new(const char *cert_file, const char *key_file, struct tls_relay_creds **out);
/* Only once every relay started with them is freed. Accepts NULL. */
void tls_relay_creds_free(struct tls_relay_creds *creds);

/*
 * Takes net_fd (the accepted socket, whose first byte is a TLS handshake),
 * also on failure. On success *plain_fd is the caller's to own: the
 * plaintext end of the pair. Shutting it down (or closing it) ends the
 * relay. peer names the client in log lines.
 */
int tls_relay_start(struct tls_relay_creds *creds, int net_fd, const char *peer, int *plain_fd,
		    struct tls_relay **out);
/* Ends the relay if it still runs, waits for its thread, closes its fds. Accepts NULL. */
void tls_relay_free(struct tls_relay *relay);

#endif
