// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The users file: entries made by users_file_entry check their password and
 * no other, unknown users fail, a file others may read is refused, and bad
 * lines name the line.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "users_file.h"

struct fixture {
	char dir[64], path[96];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/test_users_file.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/users", f->dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	unlink(f->path);
	rmdir(f->dir);
	free(f);
	return 0;
}

static void write_file(const struct fixture *f, const char *text, mode_t mode)
{
	FILE *out = fopen(f->path, "w");
	assert_non_null(out);
	fputs(text, out);
	assert_int_equal(fclose(out), 0);
	assert_int_equal(chmod(f->path, mode), 0);
}

static void test_check(void **state)
{
	struct fixture *f = *state;
	char alice[256], bob[256], text[600];
	assert_int_equal(users_file_entry("alice", "wonderland", alice, sizeof(alice)), 0);
	assert_int_equal(users_file_entry("bob", "builder", bob, sizeof(bob)), 0);
	assert_non_null(strstr(alice, "alice:$y$"));
	snprintf(text, sizeof(text), "# who may log in\n%s\n\n%s\n", alice, bob);
	write_file(f, text, 0600);
	struct users_file *users = NULL;
	assert_int_equal(users_file_load(f->path, &users), 0);
	assert_int_equal(users_file_count(users), 2);
	assert_true(users_file_check(users, "alice", "wonderland"));
	assert_true(users_file_check(users, "bob", "builder"));
	assert_false(users_file_check(users, "alice", "builder"));
	assert_false(users_file_check(users, "alice", "wonderlan"));
	assert_false(users_file_check(users, "alice", ""));
	assert_false(users_file_check(users, "carol", "wonderland"));
	assert_false(users_file_check(users, "", ""));
	/* A check holding a reference outlives the reload that drops the loader's. */
	struct users_file *held = users_file_ref(users);
	users_file_unref(users);
	assert_true(users_file_check(held, "bob", "builder"));
	users_file_unref(held);
}

static void test_readable_by_others_refused(void **state)
{
	struct fixture *f = *state;
	char alice[256];
	assert_int_equal(users_file_entry("alice", "pw", alice, sizeof(alice)), 0);
	write_file(f, alice, 0644);
	struct users_file *users = NULL;
	assert_int_equal(users_file_load(f->path, &users), -EPERM);
	assert_null(users);
}

static void test_bad_files(void **state)
{
	struct fixture *f = *state;
	char alice[256], text[600];
	assert_int_equal(users_file_entry("alice", "pw", alice, sizeof(alice)), 0);
	snprintf(text, sizeof(text), "%s\n%s\n", alice, alice);
	const char *const bad[] = {
		"",                        /* nobody */
		"# only a comment\n",      /* nobody */
		"alice\n",                 /* no hash */
		"alice:plaintext\n",       /* no crypt hash */
		"al ice:$y$j9T$abc$def\n", /* a blank in the name */
		":$y$j9T$abc$def\n",       /* no name */
		text,                      /* alice twice */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		write_file(f, bad[i], 0600);
		struct users_file *users = NULL;
		assert_int_equal(users_file_load(f->path, &users), -EINVAL);
	}
	struct users_file *users = NULL;
	assert_int_equal(users_file_load("/nonexistent/users", &users), -ENOENT);
	char entry[16];
	assert_int_equal(users_file_entry("a:b", "pw", entry, sizeof(entry)), -EINVAL);
	assert_int_equal(users_file_entry("alice", "pw", entry, sizeof(entry)), -ENOSPC);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_check, setup, teardown),
		cmocka_unit_test_setup_teardown(test_readable_by_others_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_files, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
