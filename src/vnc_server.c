// SPDX-License-Identifier: GPL-2.0-or-later
#include "vnc_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <rfb/rfb.h>

#include "fd_util.h"
#include "log.h"
#include "vnc_client.h"

#define MAX_LISTENERS 16
#define MAX_CLIENTS_HARD 256

struct vnc_server {
	struct event_base *base;
	struct frame_store *store;
	struct vnc_server_options options;
	char desktop_name[64];
	struct evconnlistener *listeners[MAX_LISTENERS];
	unsigned n_listeners;
	/* Threads end on their own; the loop joins them from this event. */
	struct event *reap_event;
	pthread_mutex_t lock; /* guards clients[] against the finished callback */
	struct vnc_client *clients[MAX_CLIENTS_HARD];
	unsigned n_clients;
};

/* libvncserver narrates every client step; its lines are detail for debugging. */
static void route_rfb_log(const char *fmt, ...)
{
	if (!log_enabled(LOG_LEVEL_DEBUG))
		return;
	char text[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	text[strcspn(text, "\n")] = '\0';
	log_message(LOG_LEVEL_DEBUG, "libvncserver", "%s", text);
}

static void route_rfb_err(const char *fmt, ...)
{
	char text[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	text[strcspn(text, "\n")] = '\0';
	log_message(LOG_LEVEL_WARNING, "libvncserver", "%s", text);
}

static void notify_clients_changed(struct vnc_server *server)
{
	if (server->options.clients_changed)
		server->options.clients_changed(server->options.ctx, server->n_clients);
}

static void reap_clients(evutil_socket_t fd, short what, void *arg)
{
	struct vnc_server *server = arg;
	bool changed = false;
	pthread_mutex_lock(&server->lock);
	for (unsigned i = 0; i < server->n_clients;) {
		struct vnc_client *client = server->clients[i];
		if (!vnc_client_finished(client)) {
			i++;
			continue;
		}
		server->clients[i] = server->clients[--server->n_clients];
		pthread_mutex_unlock(&server->lock);
		log_info("client %s disconnected", vnc_client_peer(client));
		vnc_client_join(client);
		changed = true;
		pthread_mutex_lock(&server->lock);
	}
	pthread_mutex_unlock(&server->lock);
	if (changed)
		notify_clients_changed(server);
}

static void client_finished(void *ctx, struct vnc_client *client)
{
	struct vnc_server *server = ctx;
	event_active(server->reap_event, EV_READ, 0);
}

static void format_peer(const struct sockaddr *addr, socklen_t len, char *buf, size_t size)
{
	char host[INET6_ADDRSTRLEN] = "?", port[8] = "";
	if (addr->sa_family == AF_UNIX) {
		snprintf(buf, size, "unix");
		return;
	}
	getnameinfo(addr, len, host, sizeof(host), port, sizeof(port),
		    NI_NUMERICHOST | NI_NUMERICSERV);
	snprintf(buf, size, addr->sa_family == AF_INET6 ? "[%s]:%s" : "%s:%s", host, port);
}

static void accept_client(struct evconnlistener *listener, evutil_socket_t fd,
			  struct sockaddr *addr, int len, void *arg)
{
	struct vnc_server *server = arg;
	char peer[64];
	format_peer(addr, (socklen_t)len, peer, sizeof(peer));

	if (fd >= FD_SETSIZE) {
		/* libvncserver select()s on client sockets: it would corrupt memory. */
		log_warning("client %s refused: socket fd %d is beyond select()'s limit %d",
			    peer, fd, FD_SETSIZE);
		close(fd);
		return;
	}
	pthread_mutex_lock(&server->lock);
	unsigned count = server->n_clients;
	pthread_mutex_unlock(&server->lock);
	if (count >= server->options.max_clients || count >= MAX_CLIENTS_HARD) {
		log_warning("client %s refused: %u clients connected, max_clients is %u", peer,
			    count, server->options.max_clients);
		close(fd);
		return;
	}
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));

	struct vnc_client_params params = {
		.fd = fd,
		.peer = peer,
		.desktop_name = server->desktop_name,
		.store = server->store,
		.finished = client_finished,
		.ctx = server,
	};
	struct vnc_client *client;
	int ret = vnc_client_start(&params, &client);
	if (ret < 0) {
		log_error("client %s dropped: cannot start its thread: %s", peer, strerror(-ret));
		return;
	}
	pthread_mutex_lock(&server->lock);
	server->clients[server->n_clients++] = client;
	pthread_mutex_unlock(&server->lock);
	log_info("client %s connected (%u connected)", peer, count + 1);
	notify_clients_changed(server);
}

struct vnc_server *vnc_server_new(struct event_base *base, struct frame_store *store,
				  const struct vnc_server_options *options)
{
	struct vnc_server *server = calloc(1, sizeof(*server));
	if (!server)
		return NULL;
	server->base = base;
	server->store = store;
	server->options = *options;
	snprintf(server->desktop_name, sizeof(server->desktop_name), "%s", options->desktop_name);
	pthread_mutex_init(&server->lock, NULL);
	server->reap_event = event_new(base, -1, 0, reap_clients, server);
	if (!server->reap_event) {
		vnc_server_free(server);
		return NULL;
	}
	rfbLog = route_rfb_log;
	rfbErr = route_rfb_err;
	return server;
}

void vnc_server_free(struct vnc_server *server)
{
	if (!server)
		return;
	for (unsigned i = 0; i < server->n_listeners; i++)
		evconnlistener_free(server->listeners[i]);

	pthread_mutex_lock(&server->lock);
	unsigned n = server->n_clients;
	server->n_clients = 0;
	pthread_mutex_unlock(&server->lock);
	for (unsigned i = 0; i < n; i++)
		vnc_client_stop(server->clients[i]);
	for (unsigned i = 0; i < n; i++)
		vnc_client_join(server->clients[i]);

	if (server->reap_event)
		event_free(server->reap_event);
	pthread_mutex_destroy(&server->lock);
	free(server);
}

unsigned vnc_server_client_count(const struct vnc_server *server)
{
	return server->n_clients;
}

static int bind_listener(const struct addrinfo *ai)
{
	_cleanup_close_ int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
					ai->ai_protocol);
	if (fd < 0)
		return -errno;
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* "::" means IPv6 only; 0.0.0.0 is listed separately when wanted. */
	if (ai->ai_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 16) < 0)
		return -errno;
	return take_fd(&fd);
}

int vnc_server_listen_tcp(struct vnc_server *server, const char *host, uint16_t port)
{
	char service[8];
	snprintf(service, sizeof(service), "%u", port);
	struct addrinfo hints = {
		.ai_family = AF_UNSPEC,
		.ai_socktype = SOCK_STREAM,
		.ai_flags = AI_PASSIVE | AI_NUMERICSERV,
	};
	struct addrinfo *list;
	int gai = getaddrinfo(host, service, &hints, &list);
	if (gai != 0) {
		log_error("cannot listen on %s:%u: %s", host, port, gai_strerror(gai));
		return -EINVAL;
	}
	int ret = 0;
	for (struct addrinfo *ai = list; ai && ret == 0; ai = ai->ai_next) {
		if (server->n_listeners == MAX_LISTENERS) {
			ret = -ENOSPC;
			break;
		}
		int fd = bind_listener(ai);
		if (fd < 0) {
			ret = fd;
			break;
		}
		struct evconnlistener *listener = evconnlistener_new(
			server->base, accept_client, server,
			LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, -1, fd);
		if (!listener) {
			close(fd);
			ret = -ENOMEM;
			break;
		}
		server->listeners[server->n_listeners++] = listener;
	}
	freeaddrinfo(list);
	if (ret < 0)
		log_error("cannot listen on %s:%u: %s; exiting", host, port, strerror(-ret));
	else
		log_info("listening for VNC clients on %s:%u", host, port);
	return ret;
}
