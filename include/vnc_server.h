/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef MDEV_VNCD_VNC_SERVER_H
#define MDEV_VNCD_VNC_SERVER_H

#include <stdint.h>

struct event_base;
struct frame_store;

/*
 * The VNC side: listening sockets on the daemon's event loop, and one
 * thread per client. libvncserver's client I/O blocks, so each client gets
 * a libvncserver screen of its own, served by its own thread from its own
 * copy of the picture (see frame_store.h): a client that stops reading
 * stalls only itself.
 */
struct vnc_server;

struct vnc_server_options {
	const char *desktop_name;
	unsigned max_clients;
	/* Called on the event loop thread when a client comes or goes. */
	void (*clients_changed)(void *ctx, unsigned count);
	void *ctx;
};

/* The server reads pictures from store; both outlive nothing: free the server first. */
struct vnc_server *vnc_server_new(struct event_base *base, struct frame_store *store,
				  const struct vnc_server_options *options);
/* Disconnects every client, waits for their threads and closes the listeners. */
void vnc_server_free(struct vnc_server *server);

/* Listens on host:port (IPv4 or IPv6 literal, or a name). 0 or -errno, logged. */
int vnc_server_listen_tcp(struct vnc_server *server, const char *host, uint16_t port);

unsigned vnc_server_client_count(const struct vnc_server *server);

#endif
