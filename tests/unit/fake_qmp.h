/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef MDEV_VNCD_TEST_FAKE_QMP_H
#define MDEV_VNCD_TEST_FAKE_QMP_H

#include <stdbool.h>
#include <jansson.h>

struct event_base;

/*
 * QEMU's side of QMP for unit tests: a listening unix socket in a private
 * directory, served from the test's own thread. Every wait turns the
 * client's event loop (base) meanwhile, so the client under test runs too;
 * a wait that times out fails the test.
 */
struct fake_qmp {
	struct event_base *base;
	char dir[64];
	char path[100]; /* fits sun_path */
	int listen_fd;
	int fd;          /* the accepted connection, -1 = none */
	char buf[65536]; /* received, not yet returned as lines */
	size_t len;
};

#define FAKE_QMP_GREETING \
	"{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 0, \"minor\": 2, \"major\": 7}, " \
	"\"package\": \"\"}, \"capabilities\": [\"oob\"]}}\r\n"

/* Makes the directory and the path; listens only if listen is true. */
void fake_qmp_init(struct fake_qmp *f, struct event_base *base, bool listen);
void fake_qmp_listen(struct fake_qmp *f);
void fake_qmp_done(struct fake_qmp *f);

/* Turns the loop until cond(ctx) or timeout_ms; false on timeout. */
bool fake_qmp_pump_until(struct fake_qmp *f, bool (*cond)(void *ctx), void *ctx, int timeout_ms);
/* Turns the loop for ms. */
void fake_qmp_pump(struct fake_qmp *f, int ms);

void fake_qmp_accept(struct fake_qmp *f);
void fake_qmp_send(struct fake_qmp *f, const char *text);
/* The next message the client sent, parsed (a new reference). */
json_t *fake_qmp_read(struct fake_qmp *f);
/* Whether a message arrives within ms (it stays buffered for fake_qmp_read). */
bool fake_qmp_has_message(struct fake_qmp *f, int ms);
/* Replies {"return": {}, "id": ID} to a command read before. */
void fake_qmp_return(struct fake_qmp *f, json_t *command);
void fake_qmp_close(struct fake_qmp *f);

/* Accepts, greets, answers qmp_capabilities. */
void fake_qmp_handshake(struct fake_qmp *f);

#endif
