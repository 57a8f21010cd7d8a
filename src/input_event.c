// SPDX-License-Identifier: GPL-2.0-or-later
#include "input_event.h"

static const char *const button_names[INPUT_BUTTON_COUNT] = {
	[INPUT_BUTTON_LEFT] = "left",
	[INPUT_BUTTON_MIDDLE] = "middle",
	[INPUT_BUTTON_RIGHT] = "right",
	[INPUT_BUTTON_WHEEL_UP] = "wheel-up",
	[INPUT_BUTTON_WHEEL_DOWN] = "wheel-down",
	[INPUT_BUTTON_WHEEL_LEFT] = "wheel-left",
	[INPUT_BUTTON_WHEEL_RIGHT] = "wheel-right",
	[INPUT_BUTTON_SIDE] = "side",
};

const char *input_button_name(enum input_button button)
{
	return button < INPUT_BUTTON_COUNT ? button_names[button] : NULL;
}

uint32_t input_scale_axis(int pos, uint32_t size)
{
	if (size <= 1 || pos <= 0)
		return 0;
	uint64_t last = size - 1;
	uint64_t p = (uint64_t)pos > last ? last : (uint64_t)pos;
	return (uint32_t)((p * INPUT_ABS_MAX + last / 2) / last);
}

/* Appends {"type": type, "data": data}, taking data. */
static int append(json_t *events, const char *type, json_t *data)
{
	return json_array_append_new(events, json_pack("{s:s, s:o}", "type", type, "data", data));
}

static int append_key(json_t *events, const struct input_event *ev)
{
	json_t *key = ev->kind == INPUT_EVENT_KEY_QCODE
			      ? json_pack("{s:s, s:s}", "type", "qcode", "data", ev->qcode)
			      : json_pack("{s:s, s:I}", "type", "number", "data",
					  (json_int_t)ev->number);
	return append(events, "key", json_pack("{s:b, s:o}", "down", ev->down, "key", key));
}

static int append_pointer(json_t *events, const struct input_event *ev)
{
	int ret = 0;
	if (ev->moved) {
		ret |= append(events, "abs",
			      json_pack("{s:s, s:I}", "axis", "x", "value", (json_int_t)ev->x));
		ret |= append(events, "abs",
			      json_pack("{s:s, s:I}", "axis", "y", "value", (json_int_t)ev->y));
	}
	for (int b = 0; b < INPUT_BUTTON_COUNT; b++) {
		uint32_t bit = 1u << b;
		if (!((ev->pressed | ev->released) & bit))
			continue;
		ret |= append(events, "btn",
			      json_pack("{s:b, s:s}", "down", (ev->pressed & bit) != 0, "button",
					button_names[b]));
	}
	return ret;
}

json_t *input_event_to_qmp(const struct input_event *ev)
{
	json_t *events = json_array();
	if (!events)
		return NULL;
	int ret = ev->kind == INPUT_EVENT_POINTER ? append_pointer(events, ev)
						  : append_key(events, ev);
	if (ret < 0 || json_array_size(events) == 0) {
		json_decref(events);
		return NULL;
	}
	return json_pack("{s:o}", "events", events);
}
