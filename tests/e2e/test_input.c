// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Input through the production daemon to a fake QEMU's QMP socket: a
 * view-only client's keys, pointer and extended keys never arrive (nor is
 * the extended key event offered to it), a full client's do, and the key it
 * still holds when it leaves is released. The real guest's view of the same
 * is the qemu label's test bed (tests/qemu_input).
 */
#include <event2/event.h>
#include <signal.h>

#include "fake_qmp.h"
#include "net_helpers.h"

#define WIDTH 640
#define HEIGHT 480

/* The next input-send-event's first event, compact with sorted keys. */
static char *next_input(struct fake_qmp *qmp)
{
	json_t *cmd = fake_qmp_read(qmp);
	assert_string_equal(json_string_value(json_object_get(cmd, "execute")), "input-send-event");
	fake_qmp_return(qmp, cmd);
	json_t *events = json_object_get(json_object_get(cmd, "arguments"), "events");
	char *text = json_dumps(json_array_get(events, 0), JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(cmd);
	return text;
}

static void expect_input(struct fake_qmp *qmp, const char *want)
{
	char *got = next_input(qmp);
	if (strcmp(got, want) != 0)
		fail_msg("got  %s\nwant %s", got, want);
	free(got);
}

static void wait_extended_keys(struct vnc_probe *probe)
{
	uint64_t end = now_ms() + NET_WAIT_MS;
	while (!SupportsClient2Server(probe->client, rfbQemuEvent)) {
		if (now_ms() > end)
			fail_msg("the extended key event was never acknowledged");
		vnc_probe_pump(probe, 20);
	}
}

static void test_view_only_and_full_clients(void **state)
{
	struct event_base *base = event_base_new();
	struct fake_qmp qmp;
	fake_qmp_init(&qmp, base, true);
	struct net_dir dir;
	net_dir_make(&dir);
	char full[128], view[128], text[512];
	net_write_file(&dir, "full", "sesame\n", 0600, full, sizeof(full));
	net_write_file(&dir, "view", "peekaboo\n", 0400, view, sizeof(view));
	snprintf(text, sizeof(text),
		 "password_file = %s\nviewonly_password_file = %s\ninput = qmp:%s\n", full, view,
		 qmp.path);
	struct net_config cfg;
	net_config(&cfg, &dir, text);
	struct daemon_proc d;
	daemon_start(&d, &(struct daemon_options){ .extra_args = cfg.args });
	fake_qmp_handshake(&qmp);
	assert_true(daemon_wait_log(&d, "connected: VNC input goes to the VM", 1, NET_WAIT_MS));
	struct net_picture pic = { 0 };
	net_show(&d, &pic, WIDTH, HEIGHT, 1);

	struct vnc_probe *watcher = net_connect("127.0.0.1", d.port, "peekaboo", "raw");
	assert_non_null(watcher);
	assert_true(vnc_probe_wait_picture(watcher, pic.pixels, WIDTH, HEIGHT, NET_WAIT_MS));
	assert_false(SupportsClient2Server(watcher->client, rfbQemuEvent));
	SendKeyEvent(watcher->client, 'v', TRUE);
	SendPointerEvent(watcher->client, 100, 100, 1);
	/* Sent although not offered (libvncclient must be told it may): dropped like the rest. */
	watcher->client->supportedMessages.client2server[rfbQemuEvent / 8] |= 1 << (rfbQemuEvent % 8);
	assert_true(SupportsClient2Server(watcher->client, rfbQemuEvent));
	SendExtendedKeyEvent(watcher->client, 'v', 0x2f, TRUE);
	/* The daemon has read them once a later picture reaches the client. */
	net_show(&d, &pic, WIDTH, HEIGHT, 2);
	assert_true(vnc_probe_wait_picture(watcher, pic.pixels, WIDTH, HEIGHT, NET_WAIT_MS));
	assert_false(fake_qmp_has_message(&qmp, 200));

	struct vnc_probe *user = net_connect("127.0.0.1", d.port, "sesame", "raw");
	assert_non_null(user);
	assert_true(vnc_probe_wait_picture(user, pic.pixels, WIDTH, HEIGHT, NET_WAIT_MS));
	SendKeyEvent(user->client, 'a', TRUE);
	expect_input(&qmp, "{\"data\":{\"down\":true,\"key\":{\"data\":\"a\",\"type\":\"qcode\"}},"
			   "\"type\":\"key\"}");
	wait_extended_keys(user);
	SendExtendedKeyEvent(user->client, 'a', 0x10, TRUE);
	expect_input(&qmp, "{\"data\":{\"down\":true,\"key\":{\"data\":16,\"type\":\"number\"}},"
			   "\"type\":\"key\"}");
	SendExtendedKeyEvent(user->client, 'a', 0x10, FALSE);
	expect_input(&qmp, "{\"data\":{\"down\":false,\"key\":{\"data\":16,\"type\":\"number\"}},"
			   "\"type\":\"key\"}");
	SendPointerEvent(user->client, WIDTH - 1, 0, 0);
	expect_input(&qmp, "{\"data\":{\"axis\":\"x\",\"value\":32767},\"type\":\"abs\"}");

	/* Leaving with 'a' still down: the daemon lets go of it in the VM. */
	vnc_probe_free(user);
	expect_input(&qmp, "{\"data\":{\"down\":false,\"key\":{\"data\":\"a\",\"type\":\"qcode\"}},"
			   "\"type\":\"key\"}");
	assert_true(daemon_wait_log(&d, "left holding 1 key(s)", 1, NET_WAIT_MS));
	assert_false(fake_qmp_has_message(&qmp, 200));

	vnc_probe_free(watcher);
	assert_int_equal(daemon_stop(&d, SIGTERM), 0);
	free(pic.pixels);
	net_dir_remove(&dir);
	fake_qmp_done(&qmp);
	event_base_free(base);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_view_only_and_full_clients),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
