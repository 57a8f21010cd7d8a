// SPDX-License-Identifier: GPL-2.0-or-later
#include "input.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <event2/event.h>

#include "input_event.h"
#include "keymap.h"
#include "log.h"
#include "qmp.h"

/* Events the loop takes off the queue per lock. */
#define DRAIN_BATCH 64u

/*
 * The queue is the only state clients' threads and the loop share, under
 * lock; the qmp connection belongs to the loop alone.
 */
struct input {
	struct event_base *base;
	struct qmp *qmp;
	struct event *wake;
	pthread_mutex_t lock;
	struct input_event queue[INPUT_QUEUE_SIZE];
	unsigned head, count;
	uint64_t dropped; /* for want of room, since the loop last looked */
};

/* A key as it was pressed, so its release and a leaving client's release name the same key. */
struct held_key {
	enum input_event_kind kind;
	const char *qcode;
	uint32_t number;
};

/* Touched only by its client's thread. */
struct input_client {
	struct input *input;
	char peer[64];
	struct held_key held[INPUT_MAX_HELD_KEYS];
	unsigned n_held;
	uint32_t buttons;
	bool positioned;
	uint32_t x, y;
	struct log_latch unmapped;
};

static void push(struct input *input, const struct input_event *ev)
{
	pthread_mutex_lock(&input->lock);
	if (input->count == INPUT_QUEUE_SIZE) {
		input->dropped++;
		pthread_mutex_unlock(&input->lock);
		return;
	}
	input->queue[(input->head + input->count) % INPUT_QUEUE_SIZE] = *ev;
	input->count++;
	pthread_mutex_unlock(&input->lock);
	event_active(input->wake, EV_READ, 0);
}

static unsigned take_batch(struct input *input, struct input_event *batch, uint64_t *dropped)
{
	pthread_mutex_lock(&input->lock);
	unsigned n = input->count < DRAIN_BATCH ? input->count : DRAIN_BATCH;
	for (unsigned i = 0; i < n; i++)
		batch[i] = input->queue[(input->head + i) % INPUT_QUEUE_SIZE];
	input->head = (input->head + n) % INPUT_QUEUE_SIZE;
	input->count -= n;
	*dropped += input->dropped;
	input->dropped = 0;
	pthread_mutex_unlock(&input->lock);
	return n;
}

static bool pure_move(const struct input_event *ev)
{
	return ev->kind == INPUT_EVENT_POINTER && !ev->pressed && !ev->released;
}

static void send_event(struct input *input, const struct input_event *ev)
{
	if (!qmp_ready(input->qmp))
		return; /* the qmp module has said why, once */
	json_t *args = input_event_to_qmp(ev);
	if (args)
		qmp_execute(input->qmp, "input-send-event", args);
}

/* On the loop: everything queued goes out in order, a run of pointer moves as its last. */
static void on_wake(evutil_socket_t fd, short what, void *arg)
{
	struct input *input = arg;
	struct input_event batch[DRAIN_BATCH];
	uint64_t dropped = 0;
	unsigned n;
	while ((n = take_batch(input, batch, &dropped)) > 0) {
		for (unsigned i = 0; i < n; i++) {
			if (pure_move(&batch[i]) && i + 1 < n &&
			    batch[i + 1].kind == INPUT_EVENT_POINTER && batch[i + 1].moved)
				continue;
			send_event(input, &batch[i]);
		}
	}
	if (dropped)
		log_warning("%" PRIu64 " input events dropped: the queue of %u was full", dropped,
			    INPUT_QUEUE_SIZE);
}

int input_new(struct event_base *base, const char *qmp_path, struct input **out)
{
	struct input *input = calloc(1, sizeof(*input));
	if (!input)
		return -ENOMEM;
	input->base = base;
	pthread_mutex_init(&input->lock, NULL);
	input->wake = event_new(base, -1, 0, on_wake, input);
	int ret = input->wake ? qmp_new(base, qmp_path, &input->qmp) : -ENOMEM;
	if (ret < 0) {
		input_free(input);
		return ret;
	}
	*out = input;
	return 0;
}

void input_free(struct input *input)
{
	if (!input)
		return;
	qmp_free(input->qmp);
	if (input->wake)
		event_free(input->wake);
	pthread_mutex_destroy(&input->lock);
	free(input);
}

struct input_client *input_client_new(struct input *input, const char *peer)
{
	struct input_client *client = calloc(1, sizeof(*client));
	if (!client)
		return NULL;
	client->input = input;
	snprintf(client->peer, sizeof(client->peer), "%s", peer);
	return client;
}

static bool same_key(const struct held_key *a, const struct held_key *b)
{
	return a->kind == b->kind && (a->kind == INPUT_EVENT_KEY_QCODE ? a->qcode == b->qcode
								  : a->number == b->number);
}

static void track_key(struct input_client *client, const struct held_key *key, bool down)
{
	for (unsigned i = 0; i < client->n_held; i++) {
		if (!same_key(&client->held[i], key))
			continue;
		if (!down)
			client->held[i] = client->held[--client->n_held];
		return;
	}
	if (down && client->n_held < INPUT_MAX_HELD_KEYS)
		client->held[client->n_held++] = *key;
}

static void key_event(struct input_client *client, const struct held_key *key, bool down)
{
	track_key(client, key, down);
	struct input_event ev = {
		.kind = key->kind, .down = down, .qcode = key->qcode, .number = key->number
	};
	push(client->input, &ev);
}

void input_client_keysym(struct input_client *client, bool down, uint32_t keysym)
{
	struct held_key key = { .kind = INPUT_EVENT_KEY_QCODE,
				.qcode = keymap_keysym_to_qcode(keysym) };
	if (!key.qcode) {
		log_once(&client->unmapped, LOG_LEVEL_INFO,
			 "client %s: keysym 0x%x is on no key of a US layout: dropped (a viewer "
			 "that sends key numbers, such as noVNC or TigerVNC, types any layout; "
			 "further such keys logged at debug)", client->peer, keysym);
		log_debug("client %s: keysym 0x%x dropped", client->peer, keysym);
		return;
	}
	key_event(client, &key, down);
}

void input_client_keycode(struct input_client *client, bool down, uint32_t keysym,
			  uint32_t keycode)
{
	if (!keymap_valid_qnum(keycode)) {
		input_client_keysym(client, down, keysym);
		return;
	}
	struct held_key key = { .kind = INPUT_EVENT_KEY_NUMBER, .number = keycode };
	key_event(client, &key, down);
}

void input_client_pointer(struct input_client *client, uint32_t buttons, int x, int y,
			  uint32_t width, uint32_t height)
{
	uint32_t ax = input_scale_axis(x, width), ay = input_scale_axis(y, height);
	buttons &= INPUT_BUTTONS_ALL;
	struct input_event ev = {
		.kind = INPUT_EVENT_POINTER,
		.moved = !client->positioned || ax != client->x || ay != client->y,
		.x = ax,
		.y = ay,
		.pressed = buttons & ~client->buttons,
		.released = client->buttons & ~buttons,
	};
	if (!ev.moved && !ev.pressed && !ev.released)
		return;
	client->positioned = true;
	client->x = ax;
	client->y = ay;
	client->buttons = buttons;
	push(client->input, &ev);
}

void input_client_free(struct input_client *client)
{
	if (!client)
		return;
	for (unsigned i = 0; i < client->n_held; i++) {
		struct input_event ev = { .kind = client->held[i].kind,
					  .qcode = client->held[i].qcode,
					  .number = client->held[i].number };
		push(client->input, &ev);
	}
	if (client->buttons) {
		struct input_event ev = { .kind = INPUT_EVENT_POINTER, .released = client->buttons };
		push(client->input, &ev);
	}
	if (client->n_held || client->buttons)
		log_info("client %s left holding %u key(s) and buttons 0x%x: released in the VM",
			 client->peer, client->n_held, client->buttons);
	free(client);
}
