/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef MDEV_VNCD_TEST_SKIP_H
#define MDEV_VNCD_TEST_SKIP_H

/*
 * Skips that ctest sees. cmocka counts a skip()ped test as passed in what
 * cmocka_run_group_tests() returns, so a skip would vanish in a green run.
 * A test that cannot run here calls test_skip("why, and the package that
 * would let it run"), and main() ends with
 *	return test_exit_status(cmocka_run_group_tests(tests, NULL, NULL));
 * which is 77, the tests' SKIP_RETURN_CODE, when a test skipped and none
 * failed. Include after <cmocka.h>. CI counts a skip as a failure, and fails
 * a run whose output shows cmocka's own skip() as well.
 */
#include <stdio.h>

static unsigned test_skips;

#define test_skip(why)                                   \
	do {                                             \
		fprintf(stderr, "SKIP: %s\n", (why));    \
		test_skips++;                            \
		skip();                                  \
	} while (0)

/* What main() returns for cmocka's count of failed tests. */
static inline int test_exit_status(int failed)
{
	if (failed || !test_skips)
		return failed;
	fprintf(stderr, "%u test(s) skipped: the reasons are above\n", test_skips);
	return 77;
}

#endif
