/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef MDEV_VNCD_INPUT_EVENT_H
#define MDEV_VNCD_INPUT_EVENT_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>

/*
 * One VNC input message in QEMU's terms, and its QMP form: the arguments of
 * input-send-event (QEMU's qapi/ui.json: InputEvent).
 */

/* QEMU's absolute axes run from 0 to this, whatever the screen size. */
#define INPUT_ABS_MAX 0x7fffu

/* RFB PointerEvent button-mask bits, as QEMU's own VNC server reads them. */
enum input_button {
	INPUT_BUTTON_LEFT,
	INPUT_BUTTON_MIDDLE,
	INPUT_BUTTON_RIGHT,
	INPUT_BUTTON_WHEEL_UP,
	INPUT_BUTTON_WHEEL_DOWN,
	INPUT_BUTTON_WHEEL_LEFT,
	INPUT_BUTTON_WHEEL_RIGHT,
	INPUT_BUTTON_SIDE,
	INPUT_BUTTON_COUNT,
};

#define INPUT_BUTTONS_ALL ((1u << INPUT_BUTTON_COUNT) - 1)

enum input_event_kind {
	INPUT_EVENT_KEY_QCODE,  /* a key by QKeyCode name (from a keysym) */
	INPUT_EVENT_KEY_NUMBER, /* a key by QEMU's number (extended key event) */
	INPUT_EVENT_POINTER,
};

struct input_event {
	enum input_event_kind kind;
	/* Keys. qcode points into the keymap's static table. */
	bool down;
	const char *qcode;
	uint32_t number;
	/* Pointer: where (0..INPUT_ABS_MAX, sent when moved) and which buttons went down or up. */
	bool moved;
	uint32_t x, y;
	uint32_t pressed, released; /* bits of enum input_button */
};

/*
 * Position pos on an axis of size pixels, as QEMU's absolute value: the
 * first pixel is 0, the last INPUT_ABS_MAX, rounded to the nearest, so a
 * guest that scales back lands on the same pixel. pos is clamped to the axis.
 */
uint32_t input_scale_axis(int pos, uint32_t size);

/* QMP's name of a button ("left", "wheel-up", ...). */
const char *input_button_name(enum input_button button);

/*
 * The input-send-event arguments for ev: {"events": [...]}, pointer
 * motion before its buttons. A new reference, or NULL when out of memory or
 * when ev carries nothing to send.
 */
json_t *input_event_to_qmp(const struct input_event *ev);

#endif
