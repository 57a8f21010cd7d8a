// SPDX-License-Identifier: GPL-2.0-or-later
#include "qmp.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "fd_util.h"
#include "log.h"

enum qmp_state {
	QMP_WAITING,     /* no connection; the timer brings the next attempt */
	QMP_GREETING,    /* connected, waiting for QEMU's greeting */
	QMP_NEGOTIATING, /* qmp_capabilities sent */
	QMP_READY,
};

struct pending_command {
	json_int_t id;
	char command[32];
};

struct qmp {
	struct event_base *base;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	enum qmp_state state;
	struct bufferevent *bev;
	struct event *timer; /* the retry while waiting, the greeting timeout while connecting */
	unsigned retry_ms;
	json_int_t next_id;
	struct pending_command pending[QMP_MAX_PENDING]; /* a ring, oldest at pending_head */
	unsigned pending_head, n_pending;
	char shown[256];      /* the state line logged last: the same again is not logged */
	char last_error[256]; /* the error reply logged last, until a command succeeds */
	struct log_latch backlog;
	struct qmp_stats stats;
};

/* Logs a state line unless it is the one logged last. */
static void __attribute__((format(printf, 3, 4)))
show_state(struct qmp *qmp, enum log_level level, const char *fmt, ...)
{
	char line[sizeof(qmp->shown)];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (strcmp(line, qmp->shown) == 0)
		return;
	memcpy(qmp->shown, line, sizeof(line));
	log_message(level, "qmp", "QMP %s: %s", qmp->path, line);
}

static void arm_timer(struct qmp *qmp, unsigned ms)
{
	struct timeval tv = { .tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000 };
	evtimer_add(qmp->timer, &tv);
}

static void schedule_retry(struct qmp *qmp)
{
	qmp->state = QMP_WAITING;
	arm_timer(qmp, qmp->retry_ms);
	qmp->retry_ms = qmp->retry_ms * 2 > QMP_RETRY_MAX_MS ? QMP_RETRY_MAX_MS : qmp->retry_ms * 2;
}

/* Ends the connection (also from inside its own callbacks) and tries again later. */
static void drop_connection(struct qmp *qmp, const char *why)
{
	if (qmp->bev) {
		bufferevent_free(qmp->bev);
		qmp->bev = NULL;
	}
	qmp->pending_head = qmp->n_pending = 0;
	log_latch_clear(&qmp->backlog);
	show_state(qmp, LOG_LEVEL_WARNING, "%s; input is dropped, reconnecting", why);
	schedule_retry(qmp);
}

static int send_command(struct qmp *qmp, const char *command, json_t *arguments)
{
	if (qmp->n_pending == QMP_MAX_PENDING) {
		json_decref(arguments);
		return -ENOBUFS;
	}
	json_int_t id = qmp->next_id++;
	json_t *msg = json_pack("{s:s, s:I, s:o*}", "execute", command, "id", id, "arguments",
				arguments);
	char *text = msg ? json_dumps(msg, JSON_COMPACT) : NULL;
	json_decref(msg);
	if (!text)
		return -ENOMEM;
	struct evbuffer *out = bufferevent_get_output(qmp->bev);
	int ret = evbuffer_add_printf(out, "%s\n", text) < 0 ? -ENOMEM : 0;
	free(text);
	if (ret < 0)
		return ret;
	struct pending_command *p =
		&qmp->pending[(qmp->pending_head + qmp->n_pending++) % QMP_MAX_PENDING];
	p->id = id;
	snprintf(p->command, sizeof(p->command), "%s", command);
	qmp->stats.sent++;
	return 0;
}

int qmp_execute(struct qmp *qmp, const char *command, json_t *arguments)
{
	if (qmp->state != QMP_READY) {
		json_decref(arguments);
		return -ENOTCONN;
	}
	int ret = send_command(qmp, command, arguments);
	if (ret == -ENOBUFS)
		log_once(&qmp->backlog, LOG_LEVEL_WARNING,
			 "QMP %s: %u commands unanswered; dropping input until QEMU answers",
			 qmp->path, QMP_MAX_PENDING);
	return ret;
}

/* The greeting: {"QMP": {"version": {"qemu": {"major": 7, ...}, ...}, "capabilities": [...]}}. */
static void handle_greeting(struct qmp *qmp, json_t *msg)
{
	json_t *qemu = json_object_get(msg, "QMP");
	if (!json_is_object(qemu)) {
		drop_connection(qmp, "no QMP greeting: is this a QMP socket?");
		return;
	}
	int major = 0, minor = 0, micro = 0;
	json_unpack(qemu, "{s:{s:{s?i, s?i, s?i}}}", "version", "qemu", "major", &major, "minor",
		    &minor, "micro", &micro);
	log_debug("QMP %s: greeted by QEMU %d.%d.%d", qmp->path, major, minor, micro);
	if (send_command(qmp, "qmp_capabilities", NULL) < 0) {
		drop_connection(qmp, "cannot send qmp_capabilities");
		return;
	}
	qmp->state = QMP_NEGOTIATING;
}

static void note_error(struct qmp *qmp, const char *command, json_t *error)
{
	const char *desc = json_string_value(json_object_get(error, "desc"));
	if (!desc)
		desc = "(no description)";
	qmp->stats.failed++;
	if (strcmp(desc, qmp->last_error) == 0)
		return;
	snprintf(qmp->last_error, sizeof(qmp->last_error), "%s", desc);
	/* A paused VM refuses every input: say so once, it is not a fault. */
	if (strcmp(desc, "VM not running") == 0)
		log_info("QMP %s: the VM is not running: input is dropped until it runs", qmp->path);
	else
		log_warning("QMP %s: %s refused: %s; logged once until a command succeeds",
			    qmp->path, command, desc);
}

static void note_success(struct qmp *qmp, const char *command)
{
	qmp->stats.succeeded++;
	if (!qmp->last_error[0])
		return;
	qmp->last_error[0] = '\0';
	log_info("QMP %s: %s accepted again", qmp->path, command);
}

static struct pending_command *pending_at(struct qmp *qmp, unsigned i)
{
	return &qmp->pending[(qmp->pending_head + i) % QMP_MAX_PENDING];
}

/* Takes the command with this id off the list, into out; QEMU answers in order, oldest first. */
static bool take_pending(struct qmp *qmp, json_t *id, struct pending_command *out)
{
	if (!json_is_integer(id))
		return false;
	for (unsigned i = 0; i < qmp->n_pending; i++) {
		if (pending_at(qmp, i)->id != json_integer_value(id))
			continue;
		*out = *pending_at(qmp, i);
		if (i == 0)
			qmp->pending_head = (qmp->pending_head + 1) % QMP_MAX_PENDING;
		for (; i > 0 && i + 1 < qmp->n_pending; i++)
			*pending_at(qmp, i) = *pending_at(qmp, i + 1);
		qmp->n_pending--;
		log_latch_clear(&qmp->backlog);
		return true;
	}
	return false;
}

static void handle_reply(struct qmp *qmp, json_t *msg)
{
	json_t *error = json_object_get(msg, "error");
	struct pending_command cmd;
	if (!take_pending(qmp, json_object_get(msg, "id"), &cmd)) {
		/* QEMU answers without our id when it could not parse a command at all. */
		if (error)
			note_error(qmp, "a command", error);
		else
			log_debug("QMP %s: a reply to no command of ours", qmp->path);
		return;
	}
	if (qmp->state == QMP_NEGOTIATING && strcmp(cmd.command, "qmp_capabilities") == 0) {
		if (error) {
			drop_connection(qmp, "qmp_capabilities refused");
			return;
		}
		qmp->state = QMP_READY;
		qmp->retry_ms = QMP_RETRY_MIN_MS;
		qmp->stats.connects++;
		evtimer_del(qmp->timer);
		show_state(qmp, LOG_LEVEL_INFO, "connected: VNC input goes to the VM");
		return;
	}
	if (error)
		note_error(qmp, cmd.command, error);
	else
		note_success(qmp, cmd.command);
}

static void handle_message(struct qmp *qmp, json_t *msg)
{
	if (qmp->state == QMP_GREETING)
		handle_greeting(qmp, msg);
	else if (json_object_get(msg, "return") || json_object_get(msg, "error"))
		handle_reply(qmp, msg);
	else if (json_object_get(msg, "event")) {
		qmp->stats.events++;
		log_debug("QMP %s: event %s", qmp->path,
			  json_string_value(json_object_get(msg, "event")));
	} else
		log_debug("QMP %s: a message that is no reply nor event, passed over", qmp->path);
}

/* Returns false once the connection was dropped. */
static bool handle_line(struct qmp *qmp, const char *line, size_t len)
{
	json_error_t err;
	json_t *msg = json_loadb(line, len, JSON_REJECT_DUPLICATES, &err);
	if (!json_is_object(msg)) {
		char why[192];
		snprintf(why, sizeof(why), "protocol error: %s", msg ? "a message is no JSON object"
								     : err.text);
		json_decref(msg);
		drop_connection(qmp, why);
		return false;
	}
	handle_message(qmp, msg);
	json_decref(msg);
	return qmp->bev != NULL;
}

static void on_read(struct bufferevent *bev, void *arg)
{
	struct qmp *qmp = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	for (;;) {
		size_t len;
		char *line = evbuffer_readln(in, &len, EVBUFFER_EOL_CRLF);
		if (!line) {
			if (evbuffer_get_length(in) > QMP_MAX_LINE)
				drop_connection(qmp, "protocol error: a line longer than 256 KiB");
			return;
		}
		bool alive = len == 0 || handle_line(qmp, line, len);
		free(line);
		if (!alive)
			return;
	}
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
	struct qmp *qmp = arg;
	if (what & BEV_EVENT_EOF)
		drop_connection(qmp, "connection closed by QEMU");
	else if (what & BEV_EVENT_ERROR) {
		char why[128];
		snprintf(why, sizeof(why), "connection failed: %s", strerror(EVUTIL_SOCKET_ERROR()));
		drop_connection(qmp, why);
	}
}

static int connect_socket(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	memcpy(sun.sun_path, path, strlen(path) + 1);
	_cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	/* A unix socket connects at once or not at all (EAGAIN: QEMU's backlog is full). */
	if (connect(fd, (const struct sockaddr *)&sun, sizeof(sun)) < 0)
		return -errno;
	return take_fd(&fd);
}

static void try_connect(struct qmp *qmp)
{
	log_debug("QMP %s: connecting", qmp->path);
	int fd = connect_socket(qmp->path);
	if (fd < 0) {
		show_state(qmp, LOG_LEVEL_WARNING, "cannot connect: %s; input is dropped, retrying",
			   strerror(-fd));
		schedule_retry(qmp);
		return;
	}
	qmp->bev = bufferevent_socket_new(qmp->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (!qmp->bev) {
		close(fd);
		show_state(qmp, LOG_LEVEL_ERROR, "out of memory for the connection; retrying");
		schedule_retry(qmp);
		return;
	}
	bufferevent_setcb(qmp->bev, on_read, NULL, on_event, qmp);
	bufferevent_enable(qmp->bev, EV_READ);
	qmp->state = QMP_GREETING;
	arm_timer(qmp, QMP_GREETING_TIMEOUT_MS);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct qmp *qmp = arg;
	if (qmp->state == QMP_WAITING)
		try_connect(qmp);
	else if (qmp->state != QMP_READY)
		drop_connection(qmp, "no QMP greeting in time (does another client hold the monitor?)");
}

int qmp_new(struct event_base *base, const char *path, struct qmp **out)
{
	struct qmp *qmp = calloc(1, sizeof(*qmp));
	if (!qmp)
		return -ENOMEM;
	if (strlen(path) >= sizeof(qmp->path)) {
		free(qmp);
		return -ENAMETOOLONG;
	}
	snprintf(qmp->path, sizeof(qmp->path), "%s", path);
	qmp->base = base;
	qmp->retry_ms = QMP_RETRY_MIN_MS;
	qmp->next_id = 1;
	qmp->timer = evtimer_new(base, on_timer, qmp);
	if (!qmp->timer) {
		free(qmp);
		return -ENOMEM;
	}
	try_connect(qmp);
	*out = qmp;
	return 0;
}

void qmp_free(struct qmp *qmp)
{
	if (!qmp)
		return;
	if (qmp->bev)
		bufferevent_free(qmp->bev);
	event_free(qmp->timer);
	free(qmp);
}

bool qmp_ready(const struct qmp *qmp)
{
	return qmp->state == QMP_READY;
}

void qmp_get_stats(const struct qmp *qmp, struct qmp_stats *out)
{
	*out = qmp->stats;
}
