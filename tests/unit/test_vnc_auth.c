// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Secret files and the auth object built from them: the first line is the
 * secret, a file group or others may read or write is refused (so are empty
 * first lines and non-files), and vnc_auth_new fails on any bad file.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include <rfb/rfbconfig.h>

#include "vnc_auth.h"

struct dir {
	char path[64];
};

static int setup(void **state)
{
	struct dir *d = calloc(1, sizeof(*d));
	snprintf(d->path, sizeof(d->path), "/tmp/test_vnc_auth.XXXXXX");
	assert_non_null(mkdtemp(d->path));
	*state = d;
	return 0;
}

static int teardown(void **state)
{
	struct dir *d = *state;
	char cmd[96];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d->path);
	assert_int_equal(system(cmd), 0);
	free(d);
	return 0;
}

static const char *write_file(struct dir *d, const char *name, const char *text, mode_t mode)
{
	static char path[128];
	snprintf(path, sizeof(path), "%s/%s", d->path, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	assert_int_equal(chmod(path, mode), 0);
	return path;
}

static int read_secret(const char *path, char *buf, size_t size)
{
	const char *why = NULL;
	int ret = vnc_secret_file_read(path, buf, size, &why);
	if (ret < 0)
		assert_non_null(why);
	return ret;
}

static void test_first_line_is_the_secret(void **state)
{
	char buf[64];
	const char *path = write_file(*state, "pw", "s3cret\nsecond line\n", 0600);
	assert_int_equal(read_secret(path, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "s3cret");
	path = write_file(*state, "crlf", "dos\r\n", 0400);
	assert_int_equal(read_secret(path, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "dos");
	path = write_file(*state, "noeol", "plain", 0600);
	assert_int_equal(read_secret(path, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "plain");
}

static void test_open_files_are_refused(void **state)
{
	static const mode_t modes[] = { 0640, 0604, 0620, 0602, 0644, 0666 };
	char buf[64];
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		const char *path = write_file(*state, "open", "pw\n", modes[i]);
		assert_int_equal(read_secret(path, buf, sizeof(buf)), -EPERM);
	}
}

static void test_bad_files_are_refused(void **state)
{
	struct dir *d = *state;
	char buf[8];
	assert_int_equal(read_secret(write_file(d, "empty", "", 0600), buf, sizeof(buf)), -EINVAL);
	assert_int_equal(read_secret(write_file(d, "blank", "\nx\n", 0600), buf, sizeof(buf)),
			 -EINVAL);
	assert_int_equal(read_secret(write_file(d, "long", "0123456789\n", 0600), buf, sizeof(buf)),
			 -EINVAL);
	assert_int_equal(read_secret(d->path, buf, sizeof(buf)), -EINVAL);
	char missing[96];
	snprintf(missing, sizeof(missing), "%s/missing", d->path);
	assert_int_equal(read_secret(missing, buf, sizeof(buf)), -ENOENT);
}

static void test_auth_new(void **state)
{
	struct dir *d = *state;
	char full[128], view[128], open_file[128], key[128], cert[128];
	snprintf(full, sizeof(full), "%s", write_file(d, "full", "full\n", 0600));
	snprintf(view, sizeof(view), "%s", write_file(d, "view", "view\n", 0600));
	snprintf(open_file, sizeof(open_file), "%s", write_file(d, "open", "x\n", 0644));
	snprintf(cert, sizeof(cert), "%s", write_file(d, "cert.pem", "-----BEGIN\n", 0644));
	snprintf(key, sizeof(key), "%s", write_file(d, "key.pem", "-----BEGIN\n", 0600));

	struct vnc_auth *auth = NULL;
	struct vnc_auth_options none = { 0 };
	assert_int_equal(vnc_auth_new(&none, &auth), 0);
	assert_false(vnc_auth_has_password(auth));
	vnc_auth_free(auth);

	struct vnc_auth_options both = { .password_file = full, .viewonly_password_file = view };
	assert_int_equal(vnc_auth_new(&both, &auth), 0);
	assert_true(vnc_auth_has_password(auth));
	vnc_auth_free(auth);

	struct vnc_auth_options tls = { .tls_cert = cert, .tls_key = key };
	/* The daemon terminates TLS itself: a protected key is all vnc_auth asks for. */
	assert_int_equal(vnc_auth_new(&tls, &auth), 0);
	vnc_auth_free(auth);

	struct vnc_auth_options viewonly = { .viewonly_password_file = view };
	assert_int_equal(vnc_auth_new(&viewonly, &auth), 0);
	assert_true(vnc_auth_has_password(auth));
	vnc_auth_free(auth);

	struct vnc_auth_options bad = { .password_file = full, .viewonly_password_file = open_file };
	assert_int_equal(vnc_auth_new(&bad, &auth), -EPERM);
	struct vnc_auth_options open_key = { .tls_cert = cert, .tls_key = cert };
	assert_int_equal(vnc_auth_new(&open_key, &auth), -EPERM);
	struct vnc_auth_options half = { .tls_cert = cert };
	assert_int_equal(vnc_auth_new(&half, &auth), -EINVAL);
}

static void test_nobody_blocked_at_start(void **state)
{
	struct vnc_auth *auth = NULL;
	struct vnc_auth_options none = { 0 };
	assert_int_equal(vnc_auth_new(&none, &auth), 0);
	unsigned remaining = 0;
	assert_false(vnc_auth_blocked(auth, "127.0.0.1", &remaining));
	vnc_auth_free(auth);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_first_line_is_the_secret, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_files_are_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_files_are_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_auth_new, setup, teardown),
		cmocka_unit_test(test_nobody_blocked_at_start),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
