// SPDX-License-Identifier: GPL-2.0-or-later
#include "vnc_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <rfb/rfb.h>

#include "fd_util.h"
#include "log.h"
#include "tls_relay.h"
#include "vencrypt_conn.h"
#include "vnc_auth.h"
#include "vnc_client.h"

#define MAX_LISTENERS 16
#define MAX_CLIENTS_HARD 256
#define LISTEN_BACKLOG 64
/* libvncserver waits as long for a websocket request before it speaks RFB. */
#define FIRST_BYTES_WAIT_US 100000
/* For a TLS client: its handshake, then its websocket request, both over the wire. */
#define TLS_FIRST_BYTES_WAIT_US 3000000
/* The first byte of a TLS ClientHello record. */
#define TLS_HANDSHAKE_RECORD 0x16
/* libvncserver's "RFB 003.008\n": a VeNCrypt client had the daemon's already. */
#define RFB_GREETING_SIZE 12

/*
 * A connection from accept to reap; all of it lives on the event loop thread.
 * It is pending (client NULL, fd ours) for its first FIRST_BYTES_WAIT_US: a
 * connection dropped in that time never costs a thread. One that opens with
 * a TLS handshake gets a relay, and waits again for the first plaintext on
 * the relay's pair: libvncserver must see the websocket request at once.
 */
struct client_entry {
	struct vnc_server *server;
	int fd;                        /* until handed to the client; the relay's pair end with TLS */
	struct event *first_bytes;     /* the pending wait */
	struct tls_relay *relay;       /* TLS clients: outlives the client, freed after its join */
	struct vencrypt_conn *vencrypt; /* native clients with tls on: the daemon's handshake */
	bool authenticated, viewonly;  /* what that handshake found */
	struct vnc_client *client;
	struct vnc_session *session;
	struct event *handshake_timer; /* drops the client if it has not logged in by then */
	struct event *established;     /* activated from the client's thread at login */
	char key[64]; /* the limiter's name of the peer */
	char peer[80];
};

struct vnc_server {
	struct event_base *base;
	struct frame_store *store;
	struct vnc_server_options options;
	struct vnc_auth *auth;
	struct tls_relay_creds *tls; /* NULL = no wss, no VeNCrypt */
	struct vencrypt_offer offer;
	char desktop_name[64];
	struct evconnlistener *listeners[MAX_LISTENERS];
	unsigned n_listeners;
	char unix_path[sizeof(((struct sockaddr_un *)0)->sun_path)]; /* "" = none to unlink */
	/* Threads end on their own; the loop joins them from this event. */
	struct event *reap_event;
	struct client_entry *clients[MAX_CLIENTS_HARD];
	unsigned n_clients;
	struct vnc_stats stats; /* what every client thread sent */
};

/* libvncserver narrates every client step; its lines are detail for debugging. */
static void route_rfb_log(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_vmessage(LOG_LEVEL_DEBUG, "libvncserver", fmt, ap);
	va_end(ap);
}

/*
 * Complaints of libvncserver's about what the daemon does by design, detail
 * for debugging: it sets TCP_NODELAY on every client's socket and cannot on
 * a TLS client's, a socketpair to its relay; rfbNewFramebuffer notes every
 * width that is not a multiple of 4 (1366x768 is one), which it serves all
 * the same.
 */
static bool rfb_err_expected(const char *line)
{
	static const char *const expected[] = {
		"setsockopt failed: can't set TCP_NODELAY",
		"WARNING: New width (",
	};
	for (size_t i = 0; i < sizeof(expected) / sizeof(expected[0]); i++)
		if (strncmp(line, expected[i], strlen(expected[i])) == 0)
			return true;
	return false;
}

static void route_rfb_err(const char *fmt, ...)
{
	char line[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	log_message(rfb_err_expected(line) ? LOG_LEVEL_DEBUG : LOG_LEVEL_WARNING, "libvncserver",
		    "%s", line);
}

static void notify_clients_changed(struct vnc_server *server)
{
	if (server->options.clients_changed)
		server->options.clients_changed(server->options.ctx, server->n_clients);
}

static void entry_free(struct client_entry *entry)
{
	if (entry->first_bytes)
		event_free(entry->first_bytes);
	close_fd(entry->fd);
	if (entry->handshake_timer)
		event_free(entry->handshake_timer);
	if (entry->established)
		event_free(entry->established);
	vnc_session_free(entry->session);
	vencrypt_conn_free(entry->vencrypt);
	tls_relay_free(entry->relay);
	free(entry);
}

static void reap_clients(evutil_socket_t fd, short what, void *arg)
{
	struct vnc_server *server = arg;
	bool changed = false;
	for (unsigned i = 0; i < server->n_clients;) {
		struct client_entry *entry = server->clients[i];
		if (!entry->client || !vnc_client_finished(entry->client)) {
			i++;
			continue;
		}
		server->clients[i] = server->clients[--server->n_clients];
		log_info("client %s disconnected", entry->peer);
		vnc_client_join(entry->client);
		entry_free(entry);
		changed = true;
	}
	if (!changed)
		return;
	/*
	 * A client's picture copy and encoder buffers (MBs) were freed into its
	 * thread's malloc arena, which glibc keeps: hand them back, so a daemon
	 * running for months holds what its current clients need, not what its
	 * busiest hour needed.
	 */
	malloc_trim(0);
	notify_clients_changed(server);
}

static void client_finished(void *ctx, struct vnc_client *client)
{
	struct vnc_server *server = ctx;
	event_active(server->reap_event, EV_READ, 0);
}

static void handshake_timed_out(evutil_socket_t fd, short what, void *arg)
{
	struct client_entry *entry = arg;
	if (vnc_session_is_established(entry->session))
		return;
	log_warning("client %s dropped: not logged in after %u s", entry->peer,
		    entry->server->options.handshake_timeout_ms / 1000);
	vnc_client_stop(entry->client);
}

/* The others leave only once the newcomer has logged in: a stranger cannot evict anyone. */
static void client_established(evutil_socket_t fd, short what, void *arg)
{
	struct client_entry *entry = arg;
	struct vnc_server *server = entry->server;
	evtimer_del(entry->handshake_timer);
	if (!server->options.exclusive)
		return;
	unsigned stopped = 0;
	for (unsigned i = 0; i < server->n_clients; i++) {
		struct client_entry *other = server->clients[i];
		if (other == entry || !other->client || vnc_client_finished(other->client))
			continue;
		vnc_client_stop(other->client);
		stopped++;
	}
	if (stopped)
		log_info("share = exclusive: client %s disconnects %u other client(s)", entry->peer,
			 stopped);
}

/* From the client's thread: the loop does the rest. */
static void session_established(void *ctx)
{
	struct client_entry *entry = ctx;
	event_active(entry->established, EV_READ, 0);
}

/* The limiter's key (address without port) and the log's name of the peer. */
static void describe_peer(int fd, const struct sockaddr *addr, socklen_t len, char *key,
			  size_t key_size, char *peer, size_t peer_size)
{
	if (addr->sa_family == AF_UNIX) {
		struct ucred cred;
		socklen_t cred_len = sizeof(cred);
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cred_len) == 0)
			snprintf(key, key_size, "unix:uid=%u", (unsigned)cred.uid);
		else
			snprintf(key, key_size, "unix");
		snprintf(peer, peer_size, "%s", key);
		return;
	}
	char host[INET6_ADDRSTRLEN] = "?", port[8] = "";
	getnameinfo(addr, len, host, sizeof(host), port, sizeof(port),
		    NI_NUMERICHOST | NI_NUMERICSERV);
	snprintf(key, key_size, "%s", host);
	snprintf(peer, peer_size, addr->sa_family == AF_INET6 ? "[%s]:%s" : "%s:%s", host, port);
}

/* Why fd must be turned away before any thread is spent on it (into why), or false. */
static bool refused(struct vnc_server *server, int fd, const char *key, char *why, size_t size)
{
	unsigned remaining_s;
	if (fd >= FD_SETSIZE)
		/* libvncserver select()s on client sockets: it would corrupt memory. */
		snprintf(why, size, "its socket fd is beyond select()'s limit");
	else if (server->n_clients >= server->options.max_clients ||
		 server->n_clients >= MAX_CLIENTS_HARD)
		snprintf(why, size, "max_clients reached");
	else if (vnc_auth_blocked(server->auth, key, &remaining_s))
		snprintf(why, size, "blocked for failed logins, %u s to go", remaining_s);
	else
		return false;
	return true;
}

static void first_bytes(evutil_socket_t fd, short what, void *arg);

/* Takes fd. */
static struct client_entry *entry_new(struct vnc_server *server, int fd, const char *key,
				      const char *peer)
{
	struct client_entry *entry = calloc(1, sizeof(*entry));
	if (!entry) {
		close(fd);
		return NULL;
	}
	entry->server = server;
	entry->fd = fd;
	snprintf(entry->key, sizeof(entry->key), "%s", key);
	snprintf(entry->peer, sizeof(entry->peer), "%s", peer);
	entry->first_bytes = event_new(server->base, fd, EV_READ, first_bytes, entry);
	entry->handshake_timer = evtimer_new(server->base, handshake_timed_out, entry);
	entry->established = event_new(server->base, -1, 0, client_established, entry);
	if (!entry->first_bytes || !entry->handshake_timer || !entry->established) {
		entry_free(entry);
		return NULL;
	}
	return entry;
}

static void remove_pending(struct vnc_server *server, struct client_entry *entry)
{
	for (unsigned i = 0; i < server->n_clients; i++)
		if (server->clients[i] == entry)
			server->clients[i] = server->clients[--server->n_clients];
	entry_free(entry);
	notify_clients_changed(server);
}

static int start_client(struct vnc_server *server, struct client_entry *entry)
{
	/* libvncserver finds the session by the fd it serves: with TLS, the pair's end. */
	entry->session = vnc_session_new(server->auth, entry->fd, entry->key, session_established,
					 entry);
	if (!entry->session)
		return -ENOMEM;
	if (entry->authenticated)
		vnc_session_set_authenticated(entry->session, entry->viewonly);
	struct vnc_client_params params = {
		.fd = take_fd(&entry->fd),
		.peer = entry->peer,
		.desktop_name = server->desktop_name,
		.store = server->store,
		.stats = &server->stats,
		.finished = client_finished,
		.ctx = server,
		.size_request = server->options.size_request,
		.size_ctx = server->options.ctx,
		.input = server->options.input,
	};
	int ret = vnc_client_start(&params, &entry->client);
	if (ret < 0)
		return ret; /* vnc_client_start closed the fd */
	unsigned ms = server->options.handshake_timeout_ms;
	struct timeval tv = { .tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000 };
	evtimer_add(entry->handshake_timer, &tv);
	return 0;
}

static bool peer_closed(int fd)
{
	char c;
	ssize_t n = recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
	return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
}

static bool opens_tls(int fd)
{
	uint8_t c;
	return recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) == 1 && c == TLS_HANDSHAKE_RECORD;
}

/* The entry goes on pending, now on the plaintext the relay will write to its pair. */
static int start_relay(struct vnc_server *server, struct client_entry *entry)
{
	int plain;
	int ret = tls_relay_start(server->tls, take_fd(&entry->fd), entry->peer, &plain,
				  &entry->relay);
	if (ret < 0)
		return ret;
	entry->fd = plain;
	if (plain >= FD_SETSIZE)
		return -EMFILE; /* see refused() */
	event_free(entry->first_bytes);
	entry->first_bytes = event_new(server->base, plain, EV_READ, first_bytes, entry);
	if (!entry->first_bytes)
		return -ENOMEM;
	const struct timeval wait = { .tv_sec = TLS_FIRST_BYTES_WAIT_US / 1000000 };
	event_add(entry->first_bytes, &wait);
	return 0;
}

static void client_started(struct vnc_server *server, struct client_entry *entry)
{
	int ret = start_client(server, entry);
	if (ret < 0) {
		log_error("client %s dropped: cannot start its thread: %s", entry->peer,
			  strerror(-ret));
		remove_pending(server, entry);
		return;
	}
	log_info("client %s connected%s (%u connected)", entry->peer,
		 entry->authenticated ? " over VeNCrypt" : entry->relay ? " over TLS" : "",
		 server->n_clients);
}

/* The handshake is done; libvncserver takes the client at ClientInit, through a relay. */
static void vencrypt_done(void *ctx, struct vencrypt_conn_result *result)
{
	struct client_entry *entry = ctx;
	struct vnc_server *server = entry->server;
	if (!result) {
		remove_pending(server, entry);
		return;
	}
	int plain = -1;
	int ret = tls_relay_start_established(result->session, result->fd, RFB_GREETING_SIZE,
					      entry->peer, &plain, &entry->relay);
	if (ret == 0 && plain >= FD_SETSIZE)
		ret = -EMFILE; /* see refused() */
	if (ret == 0)
		entry->fd = plain;
	else if (entry->relay)
		close_fd(plain);
	if (ret < 0) {
		log_error("client %s dropped: cannot start its relay: %s", entry->peer,
			  strerror(-ret));
		remove_pending(server, entry);
		return;
	}
	entry->authenticated = true;
	entry->viewonly = result->viewonly;
	client_started(server, entry);
}

static int start_vencrypt(struct vnc_server *server, struct client_entry *entry)
{
	const struct vencrypt_conn_params params = {
		.base = server->base,
		.fd = take_fd(&entry->fd),
		.peer = entry->peer,
		.addr = entry->key,
		.creds = server->tls,
		.offer = &server->offer,
		.auth = server->auth,
		.timeout_ms = server->options.handshake_timeout_ms,
		.done = vencrypt_done,
		.ctx = entry,
	};
	return vencrypt_conn_start(&params, &entry->vencrypt);
}

/*
 * Websockets go to libvncserver, which knows only the VNC password: with
 * tls on, one is refused where it would get in more easily than natively.
 */
static const char *websocket_refusal(struct vnc_server *server, bool over_tls)
{
	if (server->options.tls_mode == VNC_TLS_OFF)
		return NULL;
	if (!over_tls && server->options.tls_mode == VNC_TLS_REQUIRED)
		return "tls = required: websockets only over TLS (wss)";
	if (!vnc_auth_has_password(server->auth) &&
	    !(server->options.auth_methods & VNC_AUTH_METHOD_NONE))
		return "websockets need the VNC password, and password_file is not set";
	return NULL;
}

/* Early data is a websocket request (plain or TLS); silence a native client. */
static void first_bytes(evutil_socket_t fd, short what, void *arg)
{
	struct client_entry *entry = arg;
	struct vnc_server *server = entry->server;
	if ((what & EV_READ) && peer_closed(fd)) {
		log_debug("client %s left before the handshake", entry->peer);
		remove_pending(server, entry);
		return;
	}
	bool tls = (what & EV_READ) && server->tls && !entry->relay && opens_tls(fd);
	const char *refusal = (what & EV_READ) && !entry->relay ? websocket_refusal(server, tls)
								: NULL;
	if (refusal) {
		log_warning("client %s refused: %s", entry->peer, refusal);
		remove_pending(server, entry);
		return;
	}
	int ret = 0;
	if (tls)
		ret = start_relay(server, entry);
	else if (!(what & EV_READ) && !entry->relay && server->options.tls_mode != VNC_TLS_OFF)
		ret = start_vencrypt(server, entry);
	else
		client_started(server, entry);
	if (ret < 0) {
		log_error("client %s dropped: cannot start its %s: %s", entry->peer,
			  tls ? "TLS relay" : "handshake", strerror(-ret));
		remove_pending(server, entry);
	}
}

static void accept_client(struct evconnlistener *listener, evutil_socket_t fd,
			  struct sockaddr *addr, int len, void *arg)
{
	struct vnc_server *server = arg;
	char key[64], peer[80];
	describe_peer(fd, addr, (socklen_t)len, key, sizeof(key), peer, sizeof(peer));

	char why[96];
	if (refused(server, fd, key, why, sizeof(why))) {
		log_warning("client %s refused: %s", peer, why);
		close(fd);
		return;
	}
	if (addr->sa_family != AF_UNIX) {
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	}
	struct client_entry *entry = entry_new(server, fd, key, peer);
	if (!entry) {
		log_error("client %s dropped: out of memory", peer);
		return;
	}
	const struct timeval wait = { .tv_usec = FIRST_BYTES_WAIT_US };
	event_add(entry->first_bytes, &wait);
	server->clients[server->n_clients++] = entry;
	notify_clients_changed(server);
}

/* VeNCrypt's subtypes in their fixed order; with tls = optional, the clear method too. */
static void make_offer(struct vencrypt_offer *offer, const struct vnc_server_options *options)
{
	static const struct {
		unsigned method;
		uint32_t subtype;
	} order[] = {
		{ VNC_AUTH_METHOD_PLAIN, VENCRYPT_X509_PLAIN },
		{ VNC_AUTH_METHOD_VNC, VENCRYPT_X509_VNC },
		{ VNC_AUTH_METHOD_NONE, VENCRYPT_X509_NONE },
	};
	*offer = (struct vencrypt_offer){ 0 };
	for (unsigned i = 0; i < 3; i++)
		if (options->auth_methods & order[i].method)
			offer->subtypes[offer->n_subtypes++] = order[i].subtype;
	if (options->tls_mode != VNC_TLS_OPTIONAL)
		return;
	if (options->auth_methods & VNC_AUTH_METHOD_VNC)
		offer->plain_type = VENCRYPT_RFB_VNC;
	else if (options->auth_methods & VNC_AUTH_METHOD_NONE)
		offer->plain_type = VENCRYPT_RFB_NONE;
}

/* The credentials for the connections that follow; those running keep theirs. */
static int load_tls(struct vnc_server *server, const char *cert, const char *key, const char *ca)
{
	const struct tls_relay_creds_options options = {
		.cert_file = cert,
		.key_file = key,
		.ca_file = ca,
		.verify_client = server->options.tls_verify_client,
	};
	struct tls_relay_creds *creds;
	int ret = tls_relay_creds_new(&options, &creds);
	if (ret < 0)
		return ret;
	tls_relay_creds_unref(server->tls);
	server->tls = creds;
	return 0;
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
	if (!server->options.handshake_timeout_ms)
		server->options.handshake_timeout_ms = VNC_SERVER_HANDSHAKE_TIMEOUT_MS;
	snprintf(server->desktop_name, sizeof(server->desktop_name), "%s", options->desktop_name);
	pthread_mutex_init(&server->stats.lock, NULL);
	rfbLog = route_rfb_log;
	rfbErr = route_rfb_err;

	const struct vnc_auth_options auth_options = {
		.password_file = options->password_file,
		.viewonly_password_file = options->viewonly_password_file,
		.tls_cert = options->tls_cert,
		.tls_key = options->tls_key,
		.users_file = options->users_file,
	};
	make_offer(&server->offer, options);
	server->reap_event = event_new(base, -1, 0, reap_clients, server);
	if (!server->reap_event || vnc_auth_new(&auth_options, &server->auth) < 0 ||
	    (options->tls_cert && options->tls_cert[0] &&
	     load_tls(server, options->tls_cert, options->tls_key, options->tls_ca) < 0)) {
		vnc_server_free(server);
		return NULL;
	}
	if (options->tls_mode != VNC_TLS_OFF && !server->tls) {
		log_error("tls = %s needs tls_cert", options->tls_mode == VNC_TLS_REQUIRED ?
			  "required" : "optional");
		vnc_server_free(server);
		return NULL;
	}
	return server;
}

void vnc_server_free(struct vnc_server *server)
{
	if (!server)
		return;
	for (unsigned i = 0; i < server->n_listeners; i++)
		evconnlistener_free(server->listeners[i]);
	if (server->unix_path[0] && unlink(server->unix_path) < 0)
		log_warning("cannot remove unix socket %s: %s", server->unix_path, strerror(errno));

	for (unsigned i = 0; i < server->n_clients; i++)
		if (server->clients[i]->client)
			vnc_client_stop(server->clients[i]->client);
	for (unsigned i = 0; i < server->n_clients; i++) {
		if (server->clients[i]->client)
			vnc_client_join(server->clients[i]->client);
		entry_free(server->clients[i]);
	}
	if (server->reap_event)
		event_free(server->reap_event);
	vnc_auth_free(server->auth);
	tls_relay_creds_unref(server->tls);
	pthread_mutex_destroy(&server->stats.lock);
	free(server);
}

void vnc_server_stats(struct vnc_server *server, uint64_t *frames_sent, uint64_t *bytes_sent,
		      struct metrics_histogram *encode)
{
	pthread_mutex_lock(&server->stats.lock);
	*frames_sent = server->stats.frames_sent;
	*bytes_sent = server->stats.bytes_sent;
	metrics_histogram_add(encode, &server->stats.encode);
	pthread_mutex_unlock(&server->stats.lock);
}

int vnc_server_reload_passwords(struct vnc_server *server, const char *password_file,
				const char *viewonly_password_file)
{
	return vnc_auth_reload_passwords(server->auth, password_file, viewonly_password_file);
}

int vnc_server_reload_users(struct vnc_server *server, const char *users_file)
{
	return vnc_auth_reload_users(server->auth, users_file);
}

int vnc_server_reload_tls(struct vnc_server *server, const char *tls_cert, const char *tls_key,
			  const char *tls_ca)
{
	if (!server->tls)
		return 0;
	const struct vnc_auth_options files = { .tls_cert = tls_cert, .tls_key = tls_key };
	int ret = vnc_auth_check_tls_files(&files);
	if (ret == 0)
		ret = load_tls(server, tls_cert, tls_key, tls_ca);
	if (ret == 0)
		log_info("tls_cert %s reloaded: new connections use it", tls_cert);
	return ret;
}

unsigned vnc_server_client_count(const struct vnc_server *server)
{
	return server->n_clients;
}

/* Takes fd. */
static int add_listener(struct vnc_server *server, int fd)
{
	if (server->n_listeners == MAX_LISTENERS) {
		close(fd);
		return -ENOSPC;
	}
	struct evconnlistener *listener = evconnlistener_new(
		server->base, accept_client, server, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC,
		-1, fd);
	if (!listener) {
		close(fd);
		return -ENOMEM;
	}
	server->listeners[server->n_listeners++] = listener;
	return 0;
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
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, LISTEN_BACKLOG) < 0)
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
		int fd = bind_listener(ai);
		ret = fd < 0 ? fd : add_listener(server, fd);
	}
	freeaddrinfo(list);
	if (ret < 0)
		log_error("cannot listen on %s:%u: %s; exiting", host, port, strerror(-ret));
	else
		log_info("listening for VNC clients on %s:%u", host, port);
	return ret;
}

/* A socket file left by a daemon that died is removed; a live one is not ours to take. */
static int remove_stale_socket(const struct sockaddr_un *sun, const char **why)
{
	struct stat st;
	if (lstat(sun->sun_path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode)) {
		*why = "a file that is not a socket is in the way";
		return -EADDRINUSE;
	}
	_cleanup_close_ int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (probe < 0)
		return -errno;
	if (connect(probe, (const struct sockaddr *)sun, sizeof(*sun)) == 0) {
		*why = "another server is answering on it";
		return -EADDRINUSE;
	}
	if (unlink(sun->sun_path) < 0)
		return -errno;
	log_info("removed stale unix socket %s", sun->sun_path);
	return 0;
}

static int bind_unix(const struct sockaddr_un *sun, const char **why)
{
	int ret = remove_stale_socket(sun, why);
	if (ret < 0)
		return ret;
	_cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (const struct sockaddr *)sun, sizeof(*sun)) < 0)
		return -errno;
	/* Nobody can connect before listen(): the mode is right by then. */
	if (chmod(sun->sun_path, 0660) < 0 || listen(fd, LISTEN_BACKLOG) < 0) {
		ret = -errno;
		unlink(sun->sun_path);
		return ret;
	}
	return take_fd(&fd);
}

int vnc_server_listen_unix(struct vnc_server *server, const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	const char *why = "";
	int ret = 0;
	if (server->unix_path[0]) {
		why = "one unix socket per server";
		ret = -EEXIST;
	} else if (strlen(path) >= sizeof(sun.sun_path)) {
		why = "the path is too long";
		ret = -ENAMETOOLONG;
	} else {
		memcpy(sun.sun_path, path, strlen(path) + 1);
		int fd = bind_unix(&sun, &why);
		ret = fd < 0 ? fd : add_listener(server, fd);
		if (ret < 0 && fd >= 0)
			unlink(path);
	}
	if (ret < 0) {
		log_error("cannot listen on unix socket %s: %s%s%s; exiting", path, why,
			  why[0] ? ": " : "", strerror(-ret));
		return ret;
	}
	snprintf(server->unix_path, sizeof(server->unix_path), "%s", path);
	log_info("listening for VNC clients on unix socket %s", path);
	return 0;
}
