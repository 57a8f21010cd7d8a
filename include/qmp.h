/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef MDEV_VNCD_QMP_H
#define MDEV_VNCD_QMP_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>

struct event_base;

/*
 * A client of QEMU's monitor protocol (QMP) on a unix socket, living on the
 * daemon's event loop: it connects, reads the greeting, negotiates
 * (qmp_capabilities), then sends commands with ids and matches QEMU's
 * replies to them by id, passing over the events QEMU interleaves. Nothing
 * waits for an answer: a command is written and the loop moves on.
 *
 * A missing socket, a refused or closed connection and a protocol error all
 * lead to a reconnect with a growing delay (QMP_RETRY_MIN_MS doubling up to
 * QMP_RETRY_MAX_MS). Each change of state is one log line; the same failure
 * again is silent. Error replies are logged once per distinct message until
 * a command succeeds again (a paused VM answers every input "VM not running").
 */
struct qmp;

#define QMP_RETRY_MIN_MS 100u
#define QMP_RETRY_MAX_MS 5000u
/* A connection that has not greeted by then is dropped (another client may hold the monitor). */
#define QMP_GREETING_TIMEOUT_MS 5000u
/*
 * Commands QEMU has not answered yet, at most; more are refused until it
 * catches up. Room for a burst of input (a full input queue) at once.
 */
#define QMP_MAX_PENDING 1024u
/* The longest line (one JSON message) accepted from QEMU. */
#define QMP_MAX_LINE (256u * 1024u)

/* Starts connecting to the socket at path. 0 or -errno (out of memory, path too long). */
int qmp_new(struct event_base *base, const char *path, struct qmp **out);
/* Closes the connection; NULL is fine. */
void qmp_free(struct qmp *qmp);

/* Negotiated and able to take commands. */
bool qmp_ready(const struct qmp *qmp);

/*
 * Sends {"execute": command, "arguments": arguments, "id": N}; takes the
 * reference to arguments (which may be NULL). 0, -ENOTCONN (not ready: the
 * command is dropped), -ENOBUFS (QMP_MAX_PENDING unanswered) or -ENOMEM.
 */
int qmp_execute(struct qmp *qmp, const char *command, json_t *arguments);

struct qmp_stats {
	uint64_t connects;  /* negotiated connections */
	uint64_t sent;      /* commands written, qmp_capabilities included */
	uint64_t succeeded; /* "return" replies to qmp_execute's commands */
	uint64_t failed;    /* "error" replies to them */
	uint64_t events;    /* asynchronous events passed over */
};

void qmp_get_stats(const struct qmp *qmp, struct qmp_stats *out);

#endif
