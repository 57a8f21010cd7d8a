// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The input module against a fake QEMU: what each VNC event becomes on the
 * QMP socket, pointer moves merged, held keys and buttons released when a
 * client leaves, and nothing saved up while QMP is down.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <event2/event.h>
#include <event2/thread.h>

#include "fake_qmp.h"
#include "input.h"

struct fixture {
	struct event_base *base;
	struct fake_qmp server;
	struct input *input;
	struct input_client *client;
};

static int setup(void **state)
{
	static struct fixture f;
	memset(&f, 0, sizeof(f));
	f.base = event_base_new();
	fake_qmp_init(&f.server, f.base, true);
	assert_int_equal(input_new(f.base, f.server.path, &f.input), 0);
	fake_qmp_handshake(&f.server);
	fake_qmp_pump(&f.server, 20);
	f.client = input_client_new(f.input, "test");
	assert_non_null(f.client);
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	input_client_free(f->client);
	input_free(f->input);
	fake_qmp_done(&f->server);
	event_base_free(f->base);
	return 0;
}

/* The next input-send-event's events, as compact JSON with sorted keys. */
static char *next_events(struct fixture *f)
{
	json_t *cmd = fake_qmp_read(&f->server);
	assert_string_equal(json_string_value(json_object_get(cmd, "execute")), "input-send-event");
	fake_qmp_return(&f->server, cmd);
	char *text = json_dumps(json_object_get(json_object_get(cmd, "arguments"), "events"),
				JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(cmd);
	return text;
}

static void expect_events(struct fixture *f, const char *want)
{
	char *got = next_events(f);
	if (strcmp(got, want) != 0)
		fail_msg("got  %s\nwant %s", got, want);
	free(got);
}

#define KEY(down, type, data) \
	"[{\"data\":{\"down\":" #down ",\"key\":{\"data\":" data ",\"type\":\"" type "\"}}," \
	"\"type\":\"key\"}]"
#define ABS(axis, v) "{\"data\":{\"axis\":\"" axis "\",\"value\":" #v "},\"type\":\"abs\"}"
#define BTN(down, name) "{\"data\":{\"button\":\"" name "\",\"down\":" #down "},\"type\":\"btn\"}"

static void test_keysyms_and_numbers(void **state)
{
	struct fixture *f = *state;
	input_client_keysym(f->client, true, 'a');
	expect_events(f, KEY(true, "qcode", "\"a\""));
	/* On no US key: dropped, the next key goes. */
	input_client_keysym(f->client, true, 0x20ac);
	input_client_keycode(f->client, true, 'a', 0x10);
	expect_events(f, KEY(true, "number", "16"));
	/* A client that cannot place the key sends 0: its keysym is used. */
	input_client_keycode(f->client, false, 0xffe4, 0);
	expect_events(f, KEY(false, "qcode", "\"ctrl_r\""));
	assert_false(fake_qmp_has_message(&f->server, 50));
}

static void test_pointer(void **state)
{
	struct fixture *f = *state;
	input_client_pointer(f->client, 0, 1023, 0, 1024, 768);
	expect_events(f, "[" ABS("x", 32767) "," ABS("y", 0) "]");
	/* Nothing changed: nothing sent. A press at the same place sends only the button. */
	input_client_pointer(f->client, 0, 1023, 0, 1024, 768);
	input_client_pointer(f->client, 0x01, 1023, 0, 1024, 768);
	expect_events(f, "[" BTN(true, "left") "]");
	/* Bits beyond side are no buttons. */
	input_client_pointer(f->client, 0x101 | 0x80, 0, 767, 1024, 768);
	expect_events(f, "[" ABS("x", 0) "," ABS("y", 32767) "," BTN(true, "side") "]");
	assert_false(fake_qmp_has_message(&f->server, 50));
}

static void test_moves_merge(void **state)
{
	struct fixture *f = *state;
	/*
	 * Queued without the loop turning: a run of moves goes as the next
	 * event that moves too, here the press; a move followed by a press
	 * where it is stays.
	 */
	for (int x = 0; x < 10; x++)
		input_client_pointer(f->client, 0, x * 100, 10, 1001, 1001);
	input_client_pointer(f->client, 0x04, 950, 20, 1001, 1001);
	input_client_pointer(f->client, 0x04, 960, 20, 1001, 1001);
	input_client_pointer(f->client, 0x06, 960, 20, 1001, 1001);
	expect_events(f, "[" ABS("x", 31129) "," ABS("y", 655) "," BTN(true, "right") "]");
	expect_events(f, "[" ABS("x", 31456) "," ABS("y", 655) "]");
	expect_events(f, "[" BTN(true, "middle") "]");
	assert_false(fake_qmp_has_message(&f->server, 50));
}

static void test_release_on_leave(void **state)
{
	struct fixture *f = *state;
	input_client_keysym(f->client, true, 0xffe1); /* Shift_L */
	input_client_keycode(f->client, true, 'q', 0x10);
	input_client_keysym(f->client, true, 'b');
	input_client_keysym(f->client, false, 'b');   /* released: not released again */
	input_client_keysym(f->client, true, 0xffe1); /* autorepeat: one key still */
	input_client_pointer(f->client, 0x05, 10, 10, 100, 100);
	for (int i = 0; i < 6; i++)
		free(next_events(f));
	input_client_free(f->client);
	f->client = NULL;
	expect_events(f, KEY(false, "qcode", "\"shift\""));
	expect_events(f, KEY(false, "number", "16"));
	expect_events(f, "[" BTN(false, "left") "," BTN(false, "right") "]");
	assert_false(fake_qmp_has_message(&f->server, 50));
}

/* While QMP is down, input goes nowhere: it is not replayed into the VM later. */
static void test_no_replay(void **state)
{
	struct fixture *f = *state;
	fake_qmp_close(&f->server);
	fake_qmp_pump(&f->server, 20);
	input_client_keysym(f->client, true, 'x');
	fake_qmp_pump(&f->server, 20);
	fake_qmp_handshake(&f->server);
	fake_qmp_pump(&f->server, 20);
	input_client_keysym(f->client, true, 'y');
	expect_events(f, KEY(true, "qcode", "\"y\""));
}

int main(void)
{
	/* Clients' threads wake the loop, as in the daemon. */
	evthread_use_pthreads();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_keysyms_and_numbers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pointer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_moves_merge, setup, teardown),
		cmocka_unit_test_setup_teardown(test_release_on_leave, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_replay, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
