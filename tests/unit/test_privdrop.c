// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Dropping root, in forked children (the tests run as root here; where
 * they do not, the root cases are skipped with a message, which CI counts
 * as a failure).
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/capability.h>
#include <cmocka.h>

#include "test_skip.h"

#include "privdrop.h"

/* Exit codes of the child: which check failed. */
enum { OK, DROP_FAILED, STILL_ROOT, WRONG_IDS, WRONG_GROUPS, KEPT_ROOT_GROUP };

static int drop_and_check(const char *user)
{
	char err[256];
	if (privdrop_to_user(user, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		return DROP_FAILED;
	}
	struct passwd *pw = getpwnam(user);
	if (setuid(0) == 0 || seteuid(0) == 0 || setgid(0) == 0)
		return STILL_ROOT;
	uid_t ru, eu, su;
	gid_t rg, eg, sg;
	getresuid(&ru, &eu, &su);
	getresgid(&rg, &eg, &sg);
	if (ru != pw->pw_uid || eu != pw->pw_uid || su != pw->pw_uid || rg != pw->pw_gid ||
	    eg != pw->pw_gid || sg != pw->pw_gid)
		return WRONG_IDS;
	gid_t groups[64];
	int n = getgroups(64, groups);
	if (n < 0)
		return WRONG_GROUPS;
	for (int i = 0; i < n; i++)
		if (groups[i] == 0)
			return KEPT_ROOT_GROUP;
	return OK;
}

static int in_child(int (*fn)(const char *), const char *arg)
{
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(fn(arg));
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

static void test_root_drops_to_nobody(void **state)
{
	if (geteuid() != 0)
		test_skip("needs root");
	if (!getpwnam("nobody"))
		test_skip("needs the user nobody");
	/* Start with root's supplementary group, which must not survive. */
	gid_t root_group = 0;
	assert_int_equal(setgroups(1, &root_group), 0);
	assert_int_equal(in_child(drop_and_check, "nobody"), OK);
}

static int drop_unknown(const char *user)
{
	char err[256] = "";
	int ret = privdrop_to_user(user, err, sizeof(err));
	if (ret != -ENOENT || !strstr(err, user) || !strstr(err, "does not exist"))
		return DROP_FAILED;
	/* Nothing was given up. */
	return geteuid() == 0 ? OK : WRONG_IDS;
}

static void test_unknown_user_is_a_clear_error(void **state)
{
	if (geteuid() != 0)
		test_skip("needs root");
	assert_int_equal(in_child(drop_unknown, "no-such-user-mdev-vncd"), OK);
}

/* Not root: nothing to drop, whatever the config says. */
static int unprivileged_is_noop(const char *user)
{
	struct passwd *pw = getpwnam("nobody");
	if (geteuid() == 0 && (!pw || setgid(pw->pw_gid) < 0 || setuid(pw->pw_uid) < 0))
		return DROP_FAILED;
	uid_t before = geteuid();
	char err[256];
	if (privdrop_to_user(user, err, sizeof(err)) != 0)
		return DROP_FAILED;
	return geteuid() == before ? OK : WRONG_IDS;
}

static void test_not_root_is_a_noop(void **state)
{
	assert_int_equal(in_child(unprivileged_is_noop, "no-such-user-mdev-vncd"), OK);
}

/* Not root but holding CAP_SYS_PTRACE, as systemd's AmbientCapabilities= leaves it: it goes. */
static int capability_given_up(const char *user)
{
	struct passwd *pw = getpwnam("nobody");
	struct __user_cap_header_struct head = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = { 0 };
	if (!pw || prctl(PR_SET_KEEPCAPS, 1) < 0 || setgid(pw->pw_gid) < 0 ||
	    setuid(pw->pw_uid) < 0)
		return DROP_FAILED;
	data[0].effective = data[0].permitted = 1u << CAP_SYS_PTRACE;
	if (syscall(SYS_capset, &head, data) < 0)
		return DROP_FAILED;
	char err[256];
	if (privdrop_to_user(user, err, sizeof(err)) != 0)
		return DROP_FAILED;
	memset(data, 0xff, sizeof(data));
	if (syscall(SYS_capget, &head, data) < 0)
		return DROP_FAILED;
	for (int i = 0; i < _LINUX_CAPABILITY_U32S_3; i++)
		if (data[i].effective || data[i].permitted || data[i].inheritable)
			return STILL_ROOT;
	return geteuid() == pw->pw_uid ? OK : WRONG_IDS;
}

static void test_capabilities_given_up(void **state)
{
	if (geteuid() != 0 || !getpwnam("nobody"))
		skip();
	assert_int_equal(in_child(capability_given_up, "mdev-vncd"), OK);
}

static int empty_keeps_root(const char *user)
{
	char err[256];
	if (privdrop_to_user(user, err, sizeof(err)) != 0)
		return DROP_FAILED;
	return geteuid() == 0 ? OK : WRONG_IDS;
}

static void test_empty_user_keeps_root(void **state)
{
	if (geteuid() != 0)
		test_skip("needs root");
	assert_int_equal(in_child(empty_keeps_root, ""), OK);
}

/* The attach helper: the user, CAP_SYS_PTRACE alone, no way back to root, not dumpable. */
static int ptrace_kept(const char *user)
{
	struct passwd *pw = getpwnam(user);
	struct __user_cap_header_struct head = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
	char err[256];
	if (!pw)
		return DROP_FAILED;
	uid_t uid = pw->pw_uid; /* pw is libc's static buffer: the drop reuses it */
	gid_t gid = pw->pw_gid;
	if (privdrop_keep_ptrace(user, err, sizeof(err)) != 0)
		return DROP_FAILED;
	if (setuid(0) == 0 || seteuid(0) == 0)
		return STILL_ROOT;
	if (geteuid() != uid || getuid() != uid || getgid() != gid)
		return WRONG_IDS;
	if (syscall(SYS_capget, &head, data) < 0)
		return DROP_FAILED;
	const uint32_t ptrace = 1u << CAP_SYS_PTRACE;
	if (data[0].permitted != ptrace || data[0].effective != ptrace || data[0].inheritable ||
	    data[1].permitted || data[1].effective || data[1].inheritable)
		return STILL_ROOT;
	bool locked = prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) == 0 &&
		      prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1;
	return locked ? OK : WRONG_IDS;
}

static void test_attach_helper_keeps_only_ptrace(void **state)
{
	if (geteuid() != 0)
		test_skip("needs root");
	if (!getpwnam("nobody"))
		test_skip("needs the user nobody");
	assert_int_equal(in_child(ptrace_kept, "nobody"), OK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_root_drops_to_nobody),
		cmocka_unit_test(test_unknown_user_is_a_clear_error),
		cmocka_unit_test(test_not_root_is_a_noop),
		cmocka_unit_test(test_capabilities_given_up),
		cmocka_unit_test(test_empty_user_keeps_root),
		cmocka_unit_test(test_attach_helper_keeps_only_ptrace),
	};
	return test_exit_status(cmocka_run_group_tests(tests, NULL, NULL));
}
