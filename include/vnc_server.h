/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef MDEV_VNCD_VNC_SERVER_H
#define MDEV_VNCD_VNC_SERVER_H

#include <stdbool.h>
#include <stdint.h>

struct event_base;
struct frame_store;
struct input;

/*
 * The VNC side: listening sockets on the daemon's event loop, and one
 * thread per client. libvncserver's client I/O blocks, so each client gets
 * a libvncserver screen of its own, served by its own thread from its own
 * copy of the picture (see frame_store.h): a client that stops reading
 * stalls only itself. The server keeps the list of clients: it enforces
 * max_clients, the share policy, and drops a client that has not logged in
 * within handshake_timeout_ms.
 */
struct vnc_server;

/* How native clients are served: tls = off, optional or required. */
enum vnc_tls_mode { VNC_TLS_OFF, VNC_TLS_OPTIONAL, VNC_TLS_REQUIRED };

/* Methods inside TLS (VeNCrypt subtypes), offered in this order. */
#define VNC_AUTH_METHOD_PLAIN 1u /* X509Plain: user and password from users_file */
#define VNC_AUTH_METHOD_VNC 2u   /* X509Vnc: the VNC password */
#define VNC_AUTH_METHOD_NONE 4u  /* X509None */

struct vnc_server_options {
	const char *desktop_name;
	unsigned max_clients;
	/* A client that logs in disconnects the others (share = exclusive). */
	bool exclusive;
	/* Full and view-only VNC passwords; NULL or "" = none. Read at vnc_server_new. */
	const char *password_file, *viewonly_password_file;
	/* PEM files for wss and VeNCrypt, whose TLS the daemon ends itself; NULL or "" = none. */
	const char *tls_cert, *tls_key;
	/* Client certificates must chain to tls_ca when tls_verify_client. */
	const char *tls_ca;
	bool tls_verify_client;
	/*
	 * Not off: the daemon does the RFB handshake of native clients itself
	 * and offers VeNCrypt with auth_methods (needs tls_cert); optional also
	 * offers the VNC password (or None) in the clear. Required also refuses
	 * websockets in the clear.
	 */
	enum vnc_tls_mode tls_mode;
	unsigned auth_methods;  /* VNC_AUTH_METHOD_* */
	const char *users_file; /* for VNC_AUTH_METHOD_PLAIN; NULL or "" = none */
	/* 0 = VNC_SERVER_HANDSHAKE_TIMEOUT_MS. */
	unsigned handshake_timeout_ms;
	/* Called on the event loop thread when a client comes or goes. */
	void (*clients_changed)(void *ctx, unsigned count);
	/*
	 * Called on a client's thread when it asks for a desktop size; see
	 * vnc_client_params.size_request. NULL refuses every request.
	 */
	bool (*size_request)(void *ctx, const char *peer, uint32_t width, uint32_t height);
	void *ctx;
	/* Where clients' keyboard and pointer go (borrowed, outlives the server); NULL = nowhere. */
	struct input *input;
};

#define VNC_SERVER_HANDSHAKE_TIMEOUT_MS 10000u

/*
 * The server reads pictures from store; free the server first. NULL on
 * failure (logged: e.g. a password file group or others may read).
 */
struct vnc_server *vnc_server_new(struct event_base *base, struct frame_store *store,
				  const struct vnc_server_options *options);
/* Disconnects every client, waits for their threads, closes the listeners, unlinks the unix socket. */
void vnc_server_free(struct vnc_server *server);

/* Listens on host:port (IPv4 or IPv6 literal, or a name). 0 or -errno, logged. */
int vnc_server_listen_tcp(struct vnc_server *server, const char *host, uint16_t port);

/*
 * Listens on a unix socket at path, mode 0660. A stale socket there is
 * removed; one a live server answers on, or a file that is no socket, is
 * -EADDRINUSE. The path is unlinked by vnc_server_free. 0 or -errno, logged.
 */
int vnc_server_listen_unix(struct vnc_server *server, const char *path);

unsigned vnc_server_client_count(const struct vnc_server *server);

/* SIGHUP: new logins check the password files as they are now; on error the old ones stay. */
int vnc_server_reload_passwords(struct vnc_server *server, const char *password_file,
				const char *viewonly_password_file);

/* SIGHUP: the users file as it is now; on error (logged) the running users stay. */
int vnc_server_reload_users(struct vnc_server *server, const char *users_file);

/*
 * SIGHUP: the certificate and key as they are now, for the connections
 * that follow; connected clients keep theirs. On error (logged) the old stay.
 */
int vnc_server_reload_tls(struct vnc_server *server, const char *tls_cert, const char *tls_key,
			  const char *tls_ca);

struct metrics_histogram;
/* Updates sent and bytes written to all clients so far; adds the encode times into *encode. */
void vnc_server_stats(struct vnc_server *server, uint64_t *frames_sent, uint64_t *bytes_sent,
		      struct metrics_histogram *encode);

#endif
