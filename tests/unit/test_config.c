// SPDX-License-Identifier: GPL-2.0-or-later
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <dirent.h>
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"

/*
 * NAME in the tree's conf/ ("" for the folder itself), two levels above this
 * file; CMake compiles it by absolute path. A path that does not fit fails.
 */
static void conf_path(char *buf, size_t len, const char *name)
{
	char here[PATH_MAX];
	int n;

	snprintf(here, sizeof(here), "%s", __FILE__);
	n = snprintf(buf, len, "%s/../../conf/%s", dirname(here), name);
	if (n < 0 || (size_t)n >= len)
		fail_msg("conf/%s: the path does not fit in %zu bytes", name, len);
}

static char tmpdir[] = "/tmp/test_config.XXXXXX";

static int setup_dir(void **state)
{
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int remove_dir(void **state)
{
	return rmdir(tmpdir);
}

/* Writes text to TMPDIR/name and returns the path (static buffer). */
static const char *write_conf(const char *name, const char *text)
{
	static char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return path;
}

/* Loads text as a file named t.conf; returns config_load's result, err filled. */
static int load_text(struct config *cfg, const char *text, char *err, size_t errlen)
{
	const char *path = write_conf("t.conf", text);
	int r = config_load(cfg, path, err, errlen);

	unlink(path);
	return r;
}

/* The "key = value" line config_print writes for key. */
static void printed(const struct config *cfg, const char *key, char *out, size_t len)
{
	char *text = NULL, *line, *save;
	size_t size = 0;
	FILE *f = open_memstream(&text, &size);
	size_t klen = strlen(key);

	config_print(cfg, f);
	fclose(f);
	out[0] = '\0';
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, key, klen) == 0 && line[klen] == ' ')
			snprintf(out, len, "%s", line);
	}
	free(text);
}

static void assert_printed(const struct config *cfg, const char *key, const char *value)
{
	char want[512], have[512];

	snprintf(want, sizeof(want), *value ? "%s = %s" : "%s =", key, value);
	printed(cfg, key, have, sizeof(have));
	assert_string_equal(have, want);
}

static void test_defaults(void **state)
{
	struct config c;

	config_init(&c);
	assert_string_equal(c.instance, "default");
	assert_string_equal(c.uuid, "");
	assert_int_equal(c.device_fd, -1);
	assert_string_equal(c.device_socket, "");
	assert_int_equal(c.display, 0);
	assert_int_equal(c.n_listen, 2);
	assert_string_equal(c.listen[0].host, "127.0.0.1");
	assert_int_equal(c.listen[0].port, 5900);
	assert_string_equal(c.listen[1].host, "::1");
	assert_int_equal(c.listen[1].port, 5900);
	assert_string_equal(c.unix_socket, "");
	assert_int_equal(c.refresh_hz, 60);
	assert_true(c.display_event);
	assert_int_equal(c.log_level, LOG_LEVEL_INFO);
	assert_string_equal(c.password_file, "");
	assert_int_equal(c.max_clients, 16);
	assert_int_equal(c.share, SHARE_SHARED);
	assert_false(c.allow_unauthenticated_remote);
	assert_false(c.follow_client_size);
	assert_int_equal(c.edid_width, 0);
	assert_int_equal(c.edid_height, 0);
	assert_string_equal(c.user, "mdev-vncd");
	assert_string_equal(c.metrics_listen, "");
	assert_string_equal(c.input_qmp, "");
}

struct key_case {
	const char *key, *value, *printed;
};

static const struct key_case good[] = {
	{ "instance", "gpu0", "gpu0" },
	{ "instance", "a.b_c-9", "a.b_c-9" },
	{ "uuid", "8F5CBC3E-4b1f-4e0f-9c4a-6a2d1e7f0b11", "8f5cbc3e-4b1f-4e0f-9c4a-6a2d1e7f0b11" },
	{ "uuid", "", "" },
	{ "device_fd", "3", "3" },
	{ "device_fd", "2147483647", "2147483647" },
	{ "device_fd", "-1", "-1" },
	{ "device_socket", "/run/x.sock", "/run/x.sock" },
	{ "display", "99", "99" },
	{ "listen", "0.0.0.0:5901", "0.0.0.0:5901" },
	{ "listen", "[::]:1,[0:0::1]:65535", "[::]:1,[::1]:65535" },
	{ "listen", " 10.0.0.1:5900 , [fe80::1]:5900 ", "10.0.0.1:5900,[fe80::1]:5900" },
	{ "listen", "", "" },
	{ "unix_socket", "/run/vnc.sock", "/run/vnc.sock" },
	{ "refresh_hz", "1", "1" },
	{ "refresh_hz", "240", "240" },
	{ "display_event", "off", "no" },
	{ "log_level", "debug", "debug" },
	{ "log_level", "error", "error" },
	{ "password_file", "/etc/p", "/etc/p" },
	{ "viewonly_password_file", "/etc/v", "/etc/v" },
	{ "max_clients", "64", "64" },
	{ "max_clients", "1", "1" },
	{ "share", "exclusive", "exclusive" },
	{ "allow_unauthenticated_remote", "true", "yes" },
	{ "tls_cert", "/etc/c.pem", "/etc/c.pem" },
	{ "tls_key", "/etc/k.pem", "/etc/k.pem" },
	{ "follow_client_size", "1", "yes" },
	{ "edid_size", "1920x1080", "1920x1080" },
	{ "edid_size", "64x4095", "64x4095" },
	{ "edid_size", "0x0", "0x0" },
	{ "user", "nobody", "nobody" },
	{ "metrics_listen", "[::1]:9100", "[::1]:9100" },
	{ "metrics_listen", "", "" },
	{ "input", "qmp:/run/vm/qmp.sock", "qmp:/run/vm/qmp.sock" },
	{ "input", "none", "none" },
	{ "qemu_pid", "4194304", "4194304" },
	{ "qemu_pidfile", "/run/libvirt/qemu/vm1.pid", "/run/libvirt/qemu/vm1.pid" },
	{ "tls_cert", "auto", "auto" },
	{ "tls", "required", "required" },
	{ "tls", "optional", "optional" },
	{ "tls", "off", "off" },
	{ "auth", "vnc,plain", "plain,vnc" },
	{ "auth", "none", "none" },
	{ "auth", "", "" },
	{ "users_file", "/etc/mdev-vncd/users", "/etc/mdev-vncd/users" },
	{ "tls_ca", "/etc/ca.pem", "/etc/ca.pem" },
	{ "tls_verify_client", "yes", "yes" },
	{ "state_dir", "/tmp/s", "/tmp/s" },
};

static void test_every_key_good(void **state)
{
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		struct config c;
		char err[512] = "";

		config_init(&c);
		assert_int_equal(config_set(&c, good[i].key, good[i].value, "--test", err,
					    sizeof(err)),
				 0);
		assert_printed(&c, good[i].key, good[i].printed);
	}
}

/* value, and a piece of the message saying what is wrong. */
static const struct key_case bad[] = {
	{ "instance", "", "not a valid name" },
	{ "instance", "-x", "not a valid name" },
	{ "instance", "a/b", "not a valid name" },
	{ "instance", "0123456789012345678901234567890123456789012345678901234567890123", "longer" },
	{ "uuid", "8f5cbc3e-4b1f-4e0f-9c4a-6a2d1e7f0b1", "not a UUID" },
	{ "uuid", "8f5cbc3e-4b1f-4e0f-9c4a-6a2d1e7f0b111", "not a UUID" },
	{ "uuid", "8f5cbc3e4b1f-4e0f-9c4a-6a2d1e7f0b11x", "not a UUID" },
	{ "uuid", "gf5cbc3e-4b1f-4e0f-9c4a-6a2d1e7f0b11", "not a UUID" },
	{ "device_fd", "2", "out of range" },
	{ "device_fd", "-2", "not a whole number" },
	{ "device_fd", "2147483648", "out of range" },
	{ "device_socket", "run/x.sock", "not an absolute path" },
	{ "device_socket", "/run/\x01", "control character" },
	{ "display", "100", "out of range" },
	{ "listen", "1.2.3.4", "not ADDR:PORT" },
	{ "listen", "::1:5900", "brackets" },
	{ "listen", "[::1]5900", "not ADDR:PORT" },
	{ "listen", "[::1:5900", "not ADDR:PORT" },
	{ "listen", "[1.2.3.4]:5900", "not a numeric IPv6" },
	{ "listen", "localhost:5900", "not a numeric IPv4" },
	{ "listen", "1.2.3.4:0", "out of range" },
	{ "listen", "1.2.3.4:65536", "out of range" },
	{ "listen", "1.2.3.4:59x", "trailing" },
	{ "listen", "1.2.3.4:", "not a whole number" },
	{ "listen", "1.2.3.4:5900,", "empty entry" },
	{ "listen", "1.2.3.4:5900 junk", "trailing" },
	{ "listen", "1.2.3.4:5900,1.2.3.4:5900", "listed twice" },
	{ "listen", "1.0.0.1:1,1.0.0.1:2,1.0.0.1:3,1.0.0.1:4,1.0.0.1:5,1.0.0.1:6,1.0.0.1:7,"
		    "1.0.0.1:8,1.0.0.1:9",
	  "more than 8" },
	{ "unix_socket", "vnc.sock", "not an absolute path" },
	{ "refresh_hz", "0", "out of range" },
	{ "refresh_hz", "241", "out of range" },
	{ "refresh_hz", "60x", "trailing" },
	{ "refresh_hz", "0x3c", "trailing" },
	{ "refresh_hz", "+60", "not a whole number" },
	{ "refresh_hz", "", "not a whole number" },
	{ "refresh_hz", "99999999999999999999999", "out of range" },
	{ "display_event", "Yes", "not a boolean" },
	{ "display_event", "2", "not a boolean" },
	{ "display_event", "", "not a boolean" },
	{ "log_level", "verbose", "not a log level" },
	{ "password_file", "p", "not an absolute path" },
	{ "viewonly_password_file", "./v", "not an absolute path" },
	{ "max_clients", "0", "out of range" },
	{ "max_clients", "65", "out of range" },
	{ "share", "Shared", "not a share policy" },
	{ "allow_unauthenticated_remote", "yess", "not a boolean" },
	{ "tls_cert", "c.pem", "not an absolute path" },
	{ "tls_key", "k.pem", "not an absolute path" },
	{ "follow_client_size", "no ", "not a boolean" },
	{ "edid_size", "1920", "not WIDTHxHEIGHT" },
	{ "edid_size", "1920x", "not a whole number" },
	{ "edid_size", "63x480", "out of range" },
	{ "edid_size", "640x4096", "out of range" },
	{ "edid_size", "640x480x2", "trailing" },
	{ "edid_size", "0x480", "out of range" },
	{ "user", "", "not a valid name" },
	{ "user", "a b", "not a valid name" },
	{ "metrics_listen", "9100", "not ADDR:PORT" },
	{ "metrics_listen", "1.2.3.4:1,1.2.3.4:2", "not a numeric IPv4 address;" },
	{ "input", "qmp", "neither none nor qmp:PATH" },
	{ "input", "qmp:", "does not name an absolute socket path" },
	{ "input", "qmp:run/qmp.sock", "does not name an absolute socket path" },
	{ "input", "qmp:/run/\x01", "contains a control character" },
	{ "input", "qmp:/" "0123456789012345678901234567890123456789012345678901234567890123456789"
		   "0123456789012345678901234567890123456789", "longer than 107 bytes" },
	{ "input", "Qmp:/run/qmp.sock", "neither none nor qmp:PATH" },
	{ "qemu_pid", "4194305", "out of range" },
	{ "qemu_pid", "-1", "not a whole number" },
	{ "qemu_pidfile", "vm1.pid", "not an absolute path" },
	{ "tls_cert", "Auto", "not an absolute path" },
	{ "tls", "yes", "not a TLS policy" },
	{ "auth", "plain,,vnc", "'' is not a method" },
	{ "auth", "pam", "'pam' is not a method" },
	{ "auth", "vnc,vnc", "'vnc' is listed twice" },
	{ "auth", "plain,", "'' is not a method" },
	{ "users_file", "users", "not an absolute path" },
	{ "state_dir", "var/lib", "not an absolute path" },
};

static void test_every_key_bad(void **state)
{
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct config c, before;
		char err[1024] = "", head[128], before_text[64], after_text[64];

		config_init(&c);
		before = c;
		if (config_set(&c, bad[i].key, bad[i].value, "--opt", err, sizeof(err)) != -EINVAL)
			fail_msg("%s = '%s' was not refused", bad[i].key, bad[i].value);
		snprintf(head, sizeof(head), "--opt: key '%s': ", bad[i].key);
		if (strncmp(err, head, strlen(head)) != 0 || !strstr(err, bad[i].printed) ||
		    !strstr(err, "; allowed: "))
			fail_msg("%s = '%s': unexpected message: %s", bad[i].key, bad[i].value, err);
		/* A rejected value leaves the setting as it was. */
		printed(&before, bad[i].key, before_text, sizeof(before_text));
		printed(&c, bad[i].key, after_text, sizeof(after_text));
		assert_string_equal(before_text, after_text);
	}
}

static void test_booleans(void **state)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };
	struct config c;
	char err[256];

	config_init(&c);
	for (size_t i = 0; i < 4; i++) {
		assert_int_equal(config_set(&c, "follow_client_size", yes[i], "t", err, sizeof(err)),
				 0);
		assert_true(c.follow_client_size);
		assert_int_equal(config_set(&c, "follow_client_size", no[i], "t", err, sizeof(err)),
				 0);
		assert_false(c.follow_client_size);
	}
}

static void test_unknown_key(void **state)
{
	struct config c;
	char err[1024];

	config_init(&c);
	assert_int_equal(config_set(&c, "refresh_rate", "60", "--refresh-rate", err, sizeof(err)),
			 -ENOENT);
	assert_non_null(strstr(err, "--refresh-rate: key 'refresh_rate': unknown key; allowed: "));
	assert_non_null(strstr(err, "refresh_hz"));

	assert_int_equal(load_text(&c, "refresh_hz = 30\n\nfoo = 1\n", err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "/t.conf:3: key 'foo': unknown key; allowed: instance, uuid"));
}

static void test_error_carries_file_line(void **state)
{
	struct config c;
	char err[1024], want[PATH_MAX + 64];

	config_init(&c);
	assert_int_equal(load_text(&c, "# comment\nrefresh_hz = 30\n\nmax_clients = 65\n", err,
				   sizeof(err)),
			 -EINVAL);
	snprintf(want, sizeof(want), "%s/t.conf:4: key 'max_clients': 65 is out of range; "
				     "allowed: a whole number from 1 to 64",
		 tmpdir);
	assert_string_equal(err, want);
}

static void test_sections_rejected(void **state)
{
	struct config c;
	char err[1024];

	config_init(&c);
	assert_int_equal(load_text(&c, "refresh_hz = 30\n[vnc]\nmax_clients = 2\n", err,
				   sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "t.conf:2: sections are not used"));
	/* An empty section at the end never reaches inih's handler. */
	assert_int_equal(load_text(&c, "refresh_hz = 30\n  [x]\n", err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "t.conf:2: sections are not used"));
}

static void test_duplicate_key(void **state)
{
	struct config c;
	char err[1024];

	config_init(&c);
	assert_int_equal(load_text(&c, "refresh_hz = 30\nuser = a\nrefresh_hz = 30\n", err,
				   sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "t.conf:3: key 'refresh_hz': set again (first set at line 1)"));
}

static void test_syntax_errors(void **state)
{
	struct config c;
	char err[1024], long_line[400];

	config_init(&c);
	assert_int_equal(load_text(&c, "refresh_hz = 30\njust words\n", err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "t.conf:2: not a 'key = value' line; allowed: "));

	assert_int_equal(load_text(&c, "refresh_hz = 30\n   max_clients = 3\n", err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "t.conf:2: indented line"));

	snprintf(long_line, sizeof(long_line), "password_file = /%0300d\n", 0);
	assert_int_equal(load_text(&c, long_line, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "t.conf:1: line is longer than"));

	/* Comments: whole lines with # or ;, and inih's inline ';'. A '#' mid-line is junk. */
	assert_int_equal(load_text(&c, "; a\n# b\nrefresh_hz = 25 ; c\n", err, sizeof(err)), 0);
	assert_int_equal(c.refresh_hz, 25);
	assert_int_equal(load_text(&c, "refresh_hz = 25 # c\n", err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "trailing"));
}

static void test_missing_file(void **state)
{
	struct config c;
	char err[1024];

	config_init(&c);
	assert_int_equal(config_load(&c, "/nonexistent/x.conf", err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "/nonexistent/x.conf: "));
	/* A directory opens, but reading it fails: that must not pass as an empty file. */
	assert_int_equal(config_load(&c, tmpdir, err, sizeof(err)), -EISDIR);
}

static void test_instance_from_file_name(void **state)
{
	struct config c;
	char err[1024];
	const char *path = write_conf("gpu7.conf", "uuid = 8f5cbc3e-4b1f-4e0f-9c4a-6a2d1e7f0b11\n");

	config_init(&c);
	assert_int_equal(config_load(&c, path, err, sizeof(err)), 0);
	assert_string_equal(c.instance, "gpu7");
	unlink(path);

	config_init(&c);
	assert_int_equal(load_text(&c, "instance = other\n", err, sizeof(err)), 0);
	assert_string_equal(c.instance, "other");
}

static void test_display_moves_default_listen(void **state)
{
	struct config c;
	char err[256];

	config_init(&c);
	assert_int_equal(load_text(&c, "display = 3\n", err, sizeof(err)), 0);
	assert_printed(&c, "listen", "127.0.0.1:5903,[::1]:5903");

	config_init(&c);
	assert_int_equal(load_text(&c, "listen = 0.0.0.0:6000\ndisplay = 3\n", err, sizeof(err)),
			 0);
	assert_printed(&c, "listen", "0.0.0.0:6000");
	assert_int_equal(c.display, 3);
}

static void test_listen_fields(void **state)
{
	struct config c;
	char err[256];

	config_init(&c);
	assert_int_equal(config_set(&c, "listen", "192.168.1.2:5901,[::]:5902", "t", err,
				    sizeof(err)),
			 0);
	assert_int_equal(c.n_listen, 2);
	assert_string_equal(c.listen[0].host, "192.168.1.2");
	assert_int_equal(c.listen[0].port, 5901);
	assert_string_equal(c.listen[1].host, "::");
	assert_int_equal(c.listen[1].port, 5902);
}

static void set_ok(struct config *c, const char *key, const char *value)
{
	char err[512];

	if (config_set(c, key, value, "t", err, sizeof(err)) != 0)
		fail_msg("%s", err);
}

static void expect_invalid(const struct config *c, const char *piece)
{
	char err[512] = "";

	assert_int_equal(config_validate(c, err, sizeof(err)), -EINVAL);
	if (!strstr(err, piece))
		fail_msg("expected '%s' in: %s", piece, err);
}

static void expect_valid(const struct config *c)
{
	char err[512] = "";

	if (config_validate(c, err, sizeof(err)) != 0)
		fail_msg("unexpected: %s", err);
}

static void test_validate_device(void **state)
{
	struct config c;

	config_init(&c);
	expect_invalid(&c, "set one of uuid, device_fd, device_socket");
	set_ok(&c, "device_fd", "5");
	expect_valid(&c);
	set_ok(&c, "device_socket", "/run/s");
	expect_invalid(&c, "device_fd, device_socket are all set: set exactly one");
	set_ok(&c, "device_fd", "-1");
	expect_valid(&c);
	set_ok(&c, "uuid", "8f5cbc3e-4b1f-4e0f-9c4a-6a2d1e7f0b11");
	expect_invalid(&c, "uuid, device_socket are all set");
}

/* wait reopens the device: by uuid or from the VMM's socket, never an inherited fd. */
static void test_validate_device_loss(void **state)
{
	struct config c;

	config_init(&c);
	assert_int_equal(c.on_device_loss, DEVICE_LOSS_EXIT);
	set_ok(&c, "on_device_loss", "wait");
	set_ok(&c, "uuid", "8f5cbc3e-4b1f-4e0f-9c4a-6a2d1e7f0b11");
	expect_valid(&c);
	set_ok(&c, "uuid", "");
	set_ok(&c, "device_socket", "/run/s");
	expect_valid(&c);
	set_ok(&c, "device_socket", "");
	set_ok(&c, "device_fd", "5");
	expect_invalid(&c, "on_device_loss = wait cannot work with device_fd");
	set_ok(&c, "on_device_loss", "exit");
	expect_valid(&c);
}

static void test_validate_attach(void **state)
{
	struct config c;

	config_init(&c);
	set_ok(&c, "device_fd", "5");
	set_ok(&c, "qemu_pid", "1234");
	expect_invalid(&c, "qemu_pid is set without uuid");
	set_ok(&c, "device_fd", "-1");
	set_ok(&c, "uuid", "8f5cbc3e-4b1f-4e0f-9c4a-6a2d1e7f0b11");
	expect_valid(&c);
	set_ok(&c, "qemu_pidfile", "/run/libvirt/qemu/vm1.pid");
	expect_invalid(&c, "qemu_pid and qemu_pidfile are both set");
	set_ok(&c, "qemu_pid", "0");
	expect_valid(&c);
	/* A pidfile names QEMU's next start too: the daemon waits for it. */
	set_ok(&c, "on_device_loss", "wait");
	expect_valid(&c);
	set_ok(&c, "qemu_pidfile", "");
	set_ok(&c, "qemu_pid", "1234");
	expect_invalid(&c, "on_device_loss = wait cannot work with qemu_pid: a QEMU that exits "
			   "cannot come back under the same PID");
}

static void test_validate_tls_and_listeners(void **state)
{
	struct config c;

	config_init(&c);
	set_ok(&c, "uuid", "8f5cbc3e-4b1f-4e0f-9c4a-6a2d1e7f0b11");
	set_ok(&c, "tls_key", "/k");
	expect_invalid(&c, "tls_key is set without tls_cert");
	set_ok(&c, "tls_cert", "/c");
	expect_valid(&c);
	set_ok(&c, "tls_key", "");
	expect_invalid(&c, "tls_cert is set without tls_key");
	set_ok(&c, "tls_cert", "");

	set_ok(&c, "listen", "");
	expect_invalid(&c, "no listener: set listen or unix_socket");
	set_ok(&c, "unix_socket", "/run/v.sock");
	expect_valid(&c);
}

static void test_validate_remote_access(void **state)
{
	struct config c;

	config_init(&c);
	set_ok(&c, "uuid", "8f5cbc3e-4b1f-4e0f-9c4a-6a2d1e7f0b11");
	set_ok(&c, "listen", "127.0.0.2:5900,[::ffff:127.0.0.1]:5901,[::1]:5902");
	expect_valid(&c);
	set_ok(&c, "listen", "127.0.0.1:5900,0.0.0.0:5900");
	expect_invalid(&c, "listen 0.0.0.0:5900 is not loopback and password_file is not set: set "
			   "password_file, or allow_unauthenticated_remote = yes");
	set_ok(&c, "listen", "[::]:5900");
	expect_invalid(&c, "listen [::]:5900 is not loopback");
	set_ok(&c, "allow_unauthenticated_remote", "yes");
	expect_valid(&c);
	set_ok(&c, "allow_unauthenticated_remote", "no");
	set_ok(&c, "password_file", "/etc/p");
	expect_valid(&c);

	set_ok(&c, "password_file", "");
	set_ok(&c, "listen", "127.0.0.1:5900");
	set_ok(&c, "viewonly_password_file", "/etc/v");
	expect_invalid(&c, "viewonly_password_file is set without password_file");
}

/* VeNCrypt: what tls = auto becomes, and what each method needs. */
static void test_validate_vencrypt(void **state)
{
	struct config c;

	config_init(&c);
	set_ok(&c, "uuid", "8f5cbc3e-4b1f-4e0f-9c4a-6a2d1e7f0b11");
	assert_int_equal(config_tls_policy(&c), TLS_POLICY_OFF);
	set_ok(&c, "tls_cert", "/c");
	set_ok(&c, "tls_key", "/k");
	set_ok(&c, "password_file", "/p");
	/* Loopback only: off; a remote listener makes it required. */
	assert_int_equal(config_tls_policy(&c), TLS_POLICY_OFF);
	set_ok(&c, "listen", "0.0.0.0:5900");
	assert_int_equal(config_tls_policy(&c), TLS_POLICY_REQUIRED);
	assert_int_equal(config_auth_methods(&c), CONFIG_AUTH_VNC);
	expect_valid(&c);
	set_ok(&c, "users_file", "/u");
	assert_int_equal(config_auth_methods(&c), CONFIG_AUTH_PLAIN | CONFIG_AUTH_VNC);
	/* A users file alone is a password for a remote listener, with TLS on. */
	set_ok(&c, "password_file", "");
	expect_valid(&c);
	set_ok(&c, "tls", "off");
	expect_invalid(&c, "password_file is not set");
	set_ok(&c, "tls", "optional");
	set_ok(&c, "auth", "vnc");
	expect_invalid(&c, "auth lists vnc but password_file is not set");
	set_ok(&c, "auth", "plain,none");
	expect_invalid(&c, "allow_unauthenticated_remote");
	set_ok(&c, "tls_verify_client", "yes");
	expect_invalid(&c, "tls_verify_client = yes needs tls_ca");
	set_ok(&c, "tls_ca", "/ca");
	expect_valid(&c);
	set_ok(&c, "users_file", "");
	expect_invalid(&c, "auth lists plain but users_file is not set");

	config_init(&c);
	set_ok(&c, "uuid", "8f5cbc3e-4b1f-4e0f-9c4a-6a2d1e7f0b11");
	set_ok(&c, "tls", "required");
	set_ok(&c, "password_file", "/p");
	expect_invalid(&c, "tls_cert is not set");
	set_ok(&c, "tls_cert", "auto");
	expect_valid(&c);
	set_ok(&c, "tls_key", "/k");
	expect_invalid(&c, "tls_cert = auto makes its own key");
	set_ok(&c, "tls_key", "");
	set_ok(&c, "password_file", "");
	expect_invalid(&c, "no method to offer");
}

static void test_restart_needed(void **state)
{
	struct config a, b;
	char buf[256];

	config_init(&a);
	b = a;
	assert_int_equal(config_restart_needed(&a, &b, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "");

	set_ok(&b, "refresh_hz", "30");
	set_ok(&b, "log_level", "debug");
	set_ok(&b, "password_file", "/p");
	set_ok(&b, "max_clients", "2");
	assert_int_equal(config_restart_needed(&a, &b, buf, sizeof(buf)), 0);

	set_ok(&b, "user", "nobody");
	set_ok(&b, "listen", "127.0.0.1:5901");
	set_ok(&b, "uuid", "8f5cbc3e-4b1f-4e0f-9c4a-6a2d1e7f0b11");
	assert_int_equal(config_restart_needed(&a, &b, buf, sizeof(buf)), 3);
	assert_string_equal(buf, "uuid,listen,user");

	/* A short buffer truncates the names but not the count. */
	assert_int_equal(config_restart_needed(&a, &b, buf, 6), 3);
	assert_string_equal(buf, "uuid,");
	assert_int_equal(config_restart_needed(&a, &b, NULL, 0), 3);
}

/* config_print's output is itself a config file that reproduces the settings. */
static void test_print_round_trip(void **state)
{
	struct config a, b;
	char *text = NULL, *again = NULL, err[512];
	size_t size = 0, size2 = 0;
	FILE *f;

	config_init(&a);
	set_ok(&a, "uuid", "8f5cbc3e-4b1f-4e0f-9c4a-6a2d1e7f0b11");
	set_ok(&a, "listen", "[fe80::2]:7000,10.1.2.3:7001");
	set_ok(&a, "edid_size", "800x600");
	set_ok(&a, "share", "exclusive");
	set_ok(&a, "display_event", "no");
	f = open_memstream(&text, &size);
	config_print(&a, f);
	fclose(f);

	config_init(&b);
	assert_int_equal(load_text(&b, text, err, sizeof(err)), 0);
	f = open_memstream(&again, &size2);
	config_print(&b, f);
	fclose(f);
	assert_string_equal(text, again);
	free(text);
	free(again);
}

static int is_conf_file(const struct dirent *d)
{
	return d->d_name[0] != '.';
}

static void check_conf_file(const char *name)
{
	char path[PATH_MAX + NAME_MAX + 2], err[1024] = "";
	struct config c;
	bool example = strstr(name, ".example") != NULL;

	conf_path(path, sizeof(path), name);
	config_init(&c);
	if (config_load(&c, path, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	/* The example sets nothing, so it names no device: add one to validate the rest. */
	if (example)
		set_ok(&c, "device_fd", "3");
	if (config_validate(&c, err, sizeof(err)) != 0)
		fail_msg("%s: %s", path, err);
}

static void test_conf_files(void **state)
{
	char dir[PATH_MAX];
	struct dirent **list;
	int n;

	conf_path(dir, sizeof(dir), "");
	n = scandir(dir, &list, is_conf_file, alphasort);
	assert_true(n >= 4);
	for (int i = 0; i < n; i++) {
		check_conf_file(list[i]->d_name);
		free(list[i]);
	}
	free(list);
}

/* The documented example is exactly what the key table generates. */
static void test_example_matches_table(void **state)
{
	char path[PATH_MAX], *want = NULL, have[16384];
	size_t size = 0, n;
	FILE *f;

	conf_path(path, sizeof(path), "mdev-vncd.conf.example");
	f = fopen(path, "r");
	assert_non_null(f);
	n = fread(have, 1, sizeof(have) - 1, f);
	have[n] = '\0';
	fclose(f);

	f = open_memstream(&want, &size);
	config_print_example(f);
	fclose(f);
	if (strcmp(want, have) != 0)
		fail_msg("%s is stale: regenerate it with config_print_example()", path);
	free(want);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_every_key_good),
		cmocka_unit_test(test_every_key_bad),
		cmocka_unit_test(test_booleans),
		cmocka_unit_test(test_unknown_key),
		cmocka_unit_test(test_error_carries_file_line),
		cmocka_unit_test(test_sections_rejected),
		cmocka_unit_test(test_duplicate_key),
		cmocka_unit_test(test_syntax_errors),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_instance_from_file_name),
		cmocka_unit_test(test_display_moves_default_listen),
		cmocka_unit_test(test_listen_fields),
		cmocka_unit_test(test_validate_device),
		cmocka_unit_test(test_validate_device_loss),
		cmocka_unit_test(test_validate_attach),
		cmocka_unit_test(test_validate_tls_and_listeners),
		cmocka_unit_test(test_validate_remote_access),
		cmocka_unit_test(test_validate_vencrypt),
		cmocka_unit_test(test_restart_needed),
		cmocka_unit_test(test_print_round_trip),
		cmocka_unit_test(test_conf_files),
		cmocka_unit_test(test_example_matches_table),
	};

	return cmocka_run_group_tests(tests, setup_dir, remove_dir);
}
