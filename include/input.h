/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef MDEV_VNCD_INPUT_H
#define MDEV_VNCD_INPUT_H

#include <stdbool.h>
#include <stdint.h>

struct event_base;

/*
 * VNC keyboard and mouse into the VM (input = qmp:PATH). Each client's
 * thread hands its events over through an input_client: they go on a
 * bounded queue and the event loop is woken, nothing on a client's thread
 * waits for QEMU. The loop turns them into input-send-event commands on the
 * QMP connection (qmp.h); while that is down they are dropped, never saved
 * up to replay into a VM later.
 */
struct input;
struct input_client;

/* Events waiting for the loop, at most; more are dropped (and counted in the log). */
#define INPUT_QUEUE_SIZE 1024u
/* Keys one client holds down at once, at most; more are not tracked for release. */
#define INPUT_MAX_HELD_KEYS 32u

/* Connects to QEMU's QMP socket at qmp_path (and keeps reconnecting). 0 or -errno. */
int input_new(struct event_base *base, const char *qmp_path, struct input **out);
/* After every input_client is freed. NULL is fine. */
void input_free(struct input *input);

/*
 * A client's handle; each used by one thread at a time (the client's own).
 * NULL when out of memory (the client then only watches).
 */
struct input_client *input_client_new(struct input *input, const char *peer);

/* A VNC KeyEvent: an X keysym, placed on a key through the keymap. */
void input_client_keysym(struct input_client *client, bool down, uint32_t keysym);

/*
 * QEMU's extended key event: the key's number (XT set 1, E0 folded into
 * bit 7) and its keysym; a client that could not place the key sends
 * keycode 0, and the keysym is used.
 */
void input_client_keycode(struct input_client *client, bool down, uint32_t keysym,
			  uint32_t keycode);

/* A VNC PointerEvent at (x, y) on a framebuffer of width x height, with RFB's button mask. */
void input_client_pointer(struct input_client *client, uint32_t buttons, int x, int y,
			  uint32_t width, uint32_t height);

/* Releases in the guest every key and button the client still holds, then frees. NULL is fine. */
void input_client_free(struct input_client *client);

#endif
