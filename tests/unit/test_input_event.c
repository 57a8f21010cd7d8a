// SPDX-License-Identifier: GPL-2.0-or-later
/* Input events as QMP arguments, and the pointer's scaling to QEMU's absolute axes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "input_event.h"

static void test_scale_edges(void **state)
{
	assert_int_equal(input_scale_axis(0, 1024), 0);
	assert_int_equal(input_scale_axis(1023, 1024), INPUT_ABS_MAX);
	assert_int_equal(input_scale_axis(512, 1024), 16400); /* 512 * 32767 / 1023 = 16399.98 */
	assert_int_equal(input_scale_axis(1, 2), INPUT_ABS_MAX);
	/* Out of the screen: clamped. */
	assert_int_equal(input_scale_axis(-5, 1024), 0);
	assert_int_equal(input_scale_axis(5000, 1024), INPUT_ABS_MAX);
	/* A screen of one pixel (or none) has only position 0. */
	assert_int_equal(input_scale_axis(0, 1), 0);
	assert_int_equal(input_scale_axis(3, 0), 0);
}

/* Every pixel comes back as itself when the guest scales the value back, rounding. */
static void test_scale_round_trip(void **state)
{
	static const uint32_t sizes[] = { 2, 3, 640, 768, 800, 1080, 1366, 2560, 4096, 8192 };
	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		uint32_t size = sizes[s], prev = 0;
		for (uint32_t pos = 0; pos < size; pos++) {
			uint32_t v = input_scale_axis((int)pos, size);
			uint64_t back = ((uint64_t)v * (size - 1) + INPUT_ABS_MAX / 2) / INPUT_ABS_MAX;
			if (back != pos || (pos && v <= prev))
				fail_msg("size %u: pixel %u -> %u -> pixel %llu", size, pos, v,
					 (unsigned long long)back);
			prev = v;
		}
	}
}

static void assert_json(json_t *got, const char *want)
{
	assert_non_null(got);
	char *text = json_dumps(got, JSON_COMPACT | JSON_SORT_KEYS);
	json_error_t err;
	json_t *w = json_loads(want, 0, &err);
	assert_non_null(w);
	char *want_text = json_dumps(w, JSON_COMPACT | JSON_SORT_KEYS);
	if (strcmp(text, want_text) != 0)
		fail_msg("got %s\nwant %s", text, want_text);
	free(text);
	free(want_text);
	json_decref(w);
	json_decref(got);
}

static void test_key_qcode(void **state)
{
	struct input_event ev = { .kind = INPUT_EVENT_KEY_QCODE, .down = true, .qcode = "shift_r" };
	assert_json(input_event_to_qmp(&ev),
		    "{\"events\": [{\"type\": \"key\", \"data\": {\"down\": true, "
		    "\"key\": {\"type\": \"qcode\", \"data\": \"shift_r\"}}}]}");
}

static void test_key_number(void **state)
{
	struct input_event ev = { .kind = INPUT_EVENT_KEY_NUMBER, .down = false, .number = 0x9d };
	assert_json(input_event_to_qmp(&ev),
		    "{\"events\": [{\"type\": \"key\", \"data\": {\"down\": false, "
		    "\"key\": {\"type\": \"number\", \"data\": 157}}}]}");
}

static void test_pointer_move_then_buttons(void **state)
{
	struct input_event ev = {
		.kind = INPUT_EVENT_POINTER, .moved = true, .x = 100, .y = 32767,
		.pressed = 1u << INPUT_BUTTON_LEFT | 1u << INPUT_BUTTON_WHEEL_UP,
		.released = 1u << INPUT_BUTTON_RIGHT,
	};
	assert_json(input_event_to_qmp(&ev),
		    "{\"events\": ["
		    "{\"type\": \"abs\", \"data\": {\"axis\": \"x\", \"value\": 100}},"
		    "{\"type\": \"abs\", \"data\": {\"axis\": \"y\", \"value\": 32767}},"
		    "{\"type\": \"btn\", \"data\": {\"down\": true, \"button\": \"left\"}},"
		    "{\"type\": \"btn\", \"data\": {\"down\": false, \"button\": \"right\"}},"
		    "{\"type\": \"btn\", \"data\": {\"down\": true, \"button\": \"wheel-up\"}}]}");
}

static void test_buttons_without_move(void **state)
{
	struct input_event ev = { .kind = INPUT_EVENT_POINTER, .released = INPUT_BUTTONS_ALL };
	json_t *args = input_event_to_qmp(&ev);
	json_t *events = json_object_get(args, "events");
	assert_int_equal(json_array_size(events), INPUT_BUTTON_COUNT);
	static const char *const names[] = { "left", "middle", "right", "wheel-up", "wheel-down",
					     "wheel-left", "wheel-right", "side" };
	for (size_t i = 0; i < INPUT_BUTTON_COUNT; i++) {
		json_t *data = json_object_get(json_array_get(events, i), "data");
		assert_string_equal(json_string_value(json_object_get(data, "button")), names[i]);
		assert_true(json_is_false(json_object_get(data, "down")));
		assert_string_equal(input_button_name((enum input_button)i), names[i]);
	}
	assert_null(input_button_name(INPUT_BUTTON_COUNT));
	json_decref(args);
}

static void test_nothing_to_send(void **state)
{
	struct input_event ev = { .kind = INPUT_EVENT_POINTER };
	assert_null(input_event_to_qmp(&ev));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scale_edges),
		cmocka_unit_test(test_scale_round_trip),
		cmocka_unit_test(test_key_qcode),
		cmocka_unit_test(test_key_number),
		cmocka_unit_test(test_pointer_move_then_buttons),
		cmocka_unit_test(test_buttons_without_move),
		cmocka_unit_test(test_nothing_to_send),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
