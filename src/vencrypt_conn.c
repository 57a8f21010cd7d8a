// SPDX-License-Identifier: GPL-2.0-or-later
#include "vencrypt_conn.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <event2/event.h>
#include <gnutls/crypto.h>

#include "fd_util.h"
#include "log.h"
#include "tls_relay.h"
#include "vnc_auth.h"

/* A user name in the log is cut at this length. */
#define USER_LOG_MAX 48

struct vencrypt_conn {
	struct event_base *base;
	struct vencrypt *vc;
	enum vencrypt_step step;
	int fd;
	gnutls_session_t session;
	bool tls_up;                /* the handshake is done: bytes go through session */
	struct tls_relay_creds *creds;
	struct vnc_auth *auth;
	struct event *io, *timeout, *delay, *checked;
	/* The password check's thread and its answer, read once it ends. */
	pthread_t checker;
	bool checking;
	bool right, viewonly;
	char who[96]; /* how the client logged in, for the log */
	char peer[80], addr[64];
	void (*done)(void *ctx, struct vencrypt_conn_result *result);
	void *ctx;
};

static void advance(struct vencrypt_conn *conn);

/* Nothing of the conn may fire after done: the receiver may keep it a while. */
static void finish(struct vencrypt_conn *conn, bool ok)
{
	event_del(conn->io);
	event_del(conn->timeout);
	event_del(conn->delay);
	if (!ok) {
		conn->done(conn->ctx, NULL);
		return;
	}
	struct vencrypt_conn_result result = {
		.fd = take_fd(&conn->fd),
		.session = conn->session,
		.viewonly = conn->viewonly,
	};
	conn->session = NULL;
	conn->done(conn->ctx, &result);
}

static void drop(struct vencrypt_conn *conn, const char *why)
{
	log_warning("client %s dropped during the VeNCrypt handshake: %s", conn->peer, why);
	finish(conn, false);
}

static void on_io(evutil_socket_t fd, short what, void *arg)
{
	advance(arg);
}

/* Waits until the socket can do what the last operation wanted. */
static void wait_for(struct vencrypt_conn *conn, bool write)
{
	event_del(conn->io);
	event_assign(conn->io, conn->base, conn->fd, write ? EV_WRITE : EV_READ, on_io, conn);
	event_add(conn->io, NULL);
}

/* A transfer's outcome: > 0 bytes moved, 0 would block (waiting set up), < 0 the end. */
static ssize_t outcome(struct vencrypt_conn *conn, ssize_t n, bool write)
{
	if (conn->tls_up) {
		if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED) {
			wait_for(conn, gnutls_record_get_direction(conn->session));
			return 0;
		}
		return n > 0 ? n : -1;
	}
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
		wait_for(conn, write);
		return 0;
	}
	return n > 0 ? n : -1;
}

static ssize_t transfer_out(struct vencrypt_conn *conn, const uint8_t *data, size_t len)
{
	ssize_t n = conn->tls_up ? gnutls_record_send(conn->session, data, len)
				 : send(conn->fd, data, len, MSG_DONTWAIT | MSG_NOSIGNAL);
	return outcome(conn, n, true);
}

static ssize_t transfer_in(struct vencrypt_conn *conn, uint8_t *buf, size_t len)
{
	ssize_t n = conn->tls_up ? gnutls_record_recv(conn->session, buf, len)
				 : recv(conn->fd, buf, len, MSG_DONTWAIT);
	return outcome(conn, n, false);
}

/* 1 once the output is all sent, 0 waiting, -1 gone. */
static int flush(struct vencrypt_conn *conn)
{
	for (;;) {
		const uint8_t *data;
		size_t len;
		vencrypt_output(conn->vc, &data, &len);
		if (!len)
			return 1;
		ssize_t n = transfer_out(conn, data, len);
		if (n <= 0)
			return n < 0 ? -1 : 0;
		vencrypt_output_consumed(conn->vc, (size_t)n);
	}
}

/* Reads no more than the machine wants: bytes past it belong to TLS or to libvncserver. */
static int read_some(struct vencrypt_conn *conn)
{
	uint8_t buf[2 * VENCRYPT_CREDENTIAL_MAX];
	size_t want = vencrypt_wanted(conn->vc);
	ssize_t n = transfer_in(conn, buf, want < sizeof(buf) ? want : sizeof(buf));
	if (n <= 0)
		return (int)n;
	conn->step = vencrypt_input(conn->vc, buf, (size_t)n);
	explicit_bzero(buf, sizeof(buf));
	return 1;
}

static int tls_handshake(struct vencrypt_conn *conn)
{
	if (!conn->session) {
		int ret = tls_relay_session_new(conn->creds, conn->fd, conn->peer, &conn->session);
		if (ret < 0)
			return ret;
	}
	int ret = gnutls_handshake(conn->session);
	if (ret == GNUTLS_E_AGAIN || ret == GNUTLS_E_INTERRUPTED) {
		wait_for(conn, gnutls_record_get_direction(conn->session));
		return 0;
	}
	if (ret < 0) {
		log_warning("client %s: TLS handshake failed: %s", conn->peer, gnutls_strerror(ret));
		return -ECONNRESET;
	}
	conn->tls_up = true;
	conn->step = vencrypt_tls_started(conn->vc);
	return 1;
}

static const char *method_name(uint32_t method)
{
	switch (method) {
	case VENCRYPT_X509_PLAIN:
		return "VeNCrypt X509Plain";
	case VENCRYPT_X509_VNC:
		return "VeNCrypt X509Vnc";
	case VENCRYPT_X509_NONE:
		return "VeNCrypt X509None";
	case VENCRYPT_RFB_VNC:
		return "the VNC password, without TLS";
	default:
		return "no authentication, without TLS";
	}
}

/* A client's user name for the log: anything unprintable shows as '?'. */
static void printable_user(const char *user, char *out, size_t size)
{
	size_t i = 0;
	for (; user[i] && i + 1 < size; i++)
		out[i] = user[i] > ' ' && user[i] < 0x7f ? user[i] : '?';
	out[i] = '\0';
}

static void *check_thread(void *arg)
{
	struct vencrypt_conn *conn = arg;
	struct vencrypt_credentials c;
	vencrypt_credentials(conn->vc, &c);
	conn->viewonly = false;
	if (c.method == VENCRYPT_X509_PLAIN)
		conn->right = vnc_auth_check_user(conn->auth, c.user, c.password);
	else
		conn->right = vnc_auth_check_vnc_response(conn->auth, c.challenge, c.response,
							  &conn->viewonly);
	event_active(conn->checked, EV_READ, 0);
	return NULL;
}

/* The verdict goes out now, or after the failed-login delay. */
static void on_checked(evutil_socket_t fd, short what, void *arg)
{
	struct vencrypt_conn *conn = arg;
	pthread_join(conn->checker, NULL);
	conn->checking = false;
	struct vencrypt_credentials c;
	vencrypt_credentials(conn->vc, &c);
	if (conn->right) {
		vnc_auth_login_succeeded(conn->auth, conn->addr, conn->who);
		conn->step = vencrypt_verdict(conn->vc, true, NULL);
		advance(conn);
		return;
	}
	char failure[120], user[USER_LOG_MAX];
	printable_user(c.user, user, sizeof(user));
	if (c.method == VENCRYPT_X509_PLAIN)
		snprintf(failure, sizeof(failure), "wrong user name or password (user %s)", user);
	else
		snprintf(failure, sizeof(failure), "wrong password");
	unsigned ms = vnc_auth_login_failed(conn->auth, conn->addr, failure);
	struct timeval tv = { .tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000 };
	evtimer_add(conn->delay, &tv);
}

static void on_delay(evutil_socket_t fd, short what, void *arg)
{
	struct vencrypt_conn *conn = arg;
	struct vencrypt_credentials c;
	vencrypt_credentials(conn->vc, &c);
	conn->step = vencrypt_verdict(conn->vc, false,
				      c.method == VENCRYPT_X509_PLAIN ? "Wrong user name or password"
								      : "Wrong password");
	advance(conn);
}

/* Starts the check of what the client sent; none is needed without a secret. */
static int start_check(struct vencrypt_conn *conn)
{
	struct vencrypt_credentials c;
	vencrypt_credentials(conn->vc, &c);
	char user[USER_LOG_MAX];
	printable_user(c.user, user, sizeof(user));
	snprintf(conn->who, sizeof(conn->who), " with %s%s%s", method_name(c.method),
		 c.method == VENCRYPT_X509_PLAIN ? " as " : "",
		 c.method == VENCRYPT_X509_PLAIN ? user : "");
	unsigned remaining_s;
	if (vnc_auth_blocked(conn->auth, conn->addr, &remaining_s)) {
		log_warning("login from %s refused: blocked for failed logins, %u s to go",
			    conn->addr, remaining_s);
		conn->step = vencrypt_verdict(conn->vc, false, "Too many failed logins");
		return 1;
	}
	if (c.method == VENCRYPT_X509_NONE || c.method == VENCRYPT_RFB_NONE) {
		vnc_auth_login_succeeded(conn->auth, conn->addr, conn->who);
		conn->step = vencrypt_verdict(conn->vc, true, NULL);
		return 1;
	}
	int ret = -pthread_create(&conn->checker, NULL, check_thread, conn);
	if (ret < 0)
		return ret;
	conn->checking = true;
	return 0;
}

/* One step of the machine: 1 to go on, 0 to wait, -1 ended (done was called). */
static int step_once(struct vencrypt_conn *conn)
{
	int ret = 0;
	switch (conn->step) {
	case VENCRYPT_NEED_INPUT:
		ret = read_some(conn);
		if (ret < 0)
			drop(conn, "it left");
		break;
	case VENCRYPT_START_TLS:
		ret = tls_handshake(conn);
		if (ret < 0)
			finish(conn, false);
		break;
	case VENCRYPT_CHECK:
		ret = start_check(conn);
		if (ret < 0)
			drop(conn, "cannot start the password check");
		break;
	case VENCRYPT_DONE:
		finish(conn, true);
		return -1;
	case VENCRYPT_FAILED:
		drop(conn, vencrypt_error(conn->vc));
		return -1;
	}
	return ret < 0 ? -1 : ret;
}

/* Runs the machine as far as the bytes at hand allow. */
static void advance(struct vencrypt_conn *conn)
{
	for (;;) {
		int ret = flush(conn);
		if (ret < 0 && conn->step != VENCRYPT_FAILED) {
			drop(conn, "it left");
			return;
		}
		if (ret == 0 || step_once(conn) <= 0)
			return;
	}
}

static void on_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct vencrypt_conn *conn = arg;
	if (conn->checking) {
		/* The answer is on its way: look again shortly, the check is bounded. */
		const struct timeval again = { .tv_sec = 1 };
		evtimer_add(conn->timeout, &again);
		return;
	}
	drop(conn, "it did not finish in time");
}

int vencrypt_conn_start(const struct vencrypt_conn_params *params, struct vencrypt_conn **out)
{
	struct vencrypt_conn *conn = calloc(1, sizeof(*conn));
	if (!conn) {
		close_fd(params->fd);
		return -ENOMEM;
	}
	conn->base = params->base;
	conn->fd = params->fd;
	conn->creds = tls_relay_creds_ref(params->creds);
	conn->auth = params->auth;
	conn->done = params->done;
	conn->ctx = params->ctx;
	snprintf(conn->peer, sizeof(conn->peer), "%s", params->peer);
	snprintf(conn->addr, sizeof(conn->addr), "%s", params->addr);
	uint8_t challenge[VENCRYPT_CHALLENGE_SIZE];
	int flags = fcntl(conn->fd, F_GETFL);
	int ret = gnutls_rnd(GNUTLS_RND_RANDOM, challenge, sizeof(challenge)) < 0 ? -EIO : 0;
	if (ret == 0 && (flags < 0 || fcntl(conn->fd, F_SETFL, flags | O_NONBLOCK) < 0))
		ret = -errno;
	if (ret == 0) {
		conn->vc = vencrypt_new(params->offer, challenge);
		conn->io = event_new(conn->base, conn->fd, EV_READ, on_io, conn);
		conn->timeout = evtimer_new(conn->base, on_timeout, conn);
		conn->delay = evtimer_new(conn->base, on_delay, conn);
		conn->checked = event_new(conn->base, -1, 0, on_checked, conn);
		if (!conn->vc || !conn->io || !conn->timeout || !conn->delay || !conn->checked)
			ret = -ENOMEM;
	}
	if (ret < 0) {
		vencrypt_conn_free(conn);
		return ret;
	}
	struct timeval tv = { .tv_sec = params->timeout_ms / 1000,
			      .tv_usec = (params->timeout_ms % 1000) * 1000 };
	evtimer_add(conn->timeout, &tv);
	conn->step = VENCRYPT_NEED_INPUT;
	/* The greeting goes out from the loop, after the caller has the conn. */
	event_active(conn->io, EV_WRITE, 0);
	*out = conn;
	return 0;
}

void vencrypt_conn_free(struct vencrypt_conn *conn)
{
	if (!conn)
		return;
	if (conn->checking)
		pthread_join(conn->checker, NULL);
	struct event *events[] = { conn->io, conn->timeout, conn->delay, conn->checked };
	for (unsigned i = 0; i < 4; i++)
		if (events[i])
			event_free(events[i]);
	vencrypt_free(conn->vc);
	tls_relay_session_free(conn->session);
	close_fd(conn->fd);
	tls_relay_creds_unref(conn->creds);
	free(conn);
}
