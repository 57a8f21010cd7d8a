// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The failed-login limiter, driven with made-up times: the delay grows per
 * failure, the fifth blocks the address for the block time and no longer,
 * a good login forgets the failures but never lifts a running block, quiet
 * addresses are forgotten, and a flood of addresses keeps to the table.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "auth_limit.h"

#define T0 1000000u

static unsigned record_failure(struct auth_limit *limit, const char *addr, uint64_t now, unsigned *count,
		     bool *blocked)
{
	return auth_limit_failed(limit, addr, now, count, blocked);
}

static bool is_blocked(struct auth_limit *limit, const char *addr, uint64_t now)
{
	uint64_t remaining = 0;
	return auth_limit_check(limit, addr, now, &remaining) == -EPERM;
}

static void test_delay_grows_then_blocks(void **state)
{
	struct auth_limit *limit = auth_limit_new();
	unsigned count;
	bool blocked;
	unsigned last = 0;
	for (unsigned i = 1; i < AUTH_LIMIT_BLOCK_AFTER; i++) {
		assert_false(is_blocked(limit, "10.0.0.1", T0 + i));
		unsigned delay = record_failure(limit, "10.0.0.1", T0 + i, &count, &blocked);
		assert_int_equal(count, i);
		assert_false(blocked);
		assert_true(delay > last || delay == AUTH_LIMIT_MAX_DELAY_MS);
		assert_true(delay <= AUTH_LIMIT_MAX_DELAY_MS);
		last = delay;
	}
	assert_int_equal(last, AUTH_LIMIT_MAX_DELAY_MS);
	record_failure(limit, "10.0.0.1", T0 + 10, &count, &blocked);
	assert_true(blocked);
	assert_int_equal(count, AUTH_LIMIT_BLOCK_AFTER);

	uint64_t remaining = 0;
	assert_int_equal(auth_limit_check(limit, "10.0.0.1", T0 + 10, &remaining), -EPERM);
	assert_int_equal(remaining, AUTH_LIMIT_BLOCK_MS);
	/* Other addresses are not affected. */
	assert_false(is_blocked(limit, "10.0.0.2", T0 + 10));
	assert_true(is_blocked(limit, "10.0.0.1", T0 + 10 + AUTH_LIMIT_BLOCK_MS - 1));
	assert_false(is_blocked(limit, "10.0.0.1", T0 + 10 + AUTH_LIMIT_BLOCK_MS));
	auth_limit_free(limit);
}

static void test_first_delay(void **state)
{
	struct auth_limit *limit = auth_limit_new();
	unsigned count;
	bool blocked;
	assert_int_equal(record_failure(limit, "::1", T0, &count, &blocked), AUTH_LIMIT_FIRST_DELAY_MS);
	assert_int_equal(record_failure(limit, "::1", T0, &count, &blocked), 2 * AUTH_LIMIT_FIRST_DELAY_MS);
	auth_limit_free(limit);
}

static void test_success_forgets_but_keeps_block(void **state)
{
	struct auth_limit *limit = auth_limit_new();
	unsigned count;
	bool blocked;
	record_failure(limit, "a", T0, &count, &blocked);
	record_failure(limit, "a", T0, &count, &blocked);
	auth_limit_succeeded(limit, "a", T0 + 1);
	assert_int_equal(record_failure(limit, "a", T0 + 2, &count, &blocked), AUTH_LIMIT_FIRST_DELAY_MS);
	assert_int_equal(count, 1);

	for (unsigned i = 0; i < AUTH_LIMIT_BLOCK_AFTER; i++)
		record_failure(limit, "b", T0, &count, &blocked);
	assert_true(blocked);
	auth_limit_succeeded(limit, "b", T0 + 1);
	assert_true(is_blocked(limit, "b", T0 + 2));
	auth_limit_free(limit);
}

static void test_block_expiry_starts_a_new_series(void **state)
{
	struct auth_limit *limit = auth_limit_new();
	unsigned count;
	bool blocked;
	for (unsigned i = 0; i < AUTH_LIMIT_BLOCK_AFTER; i++)
		record_failure(limit, "c", T0, &count, &blocked);
	uint64_t after = T0 + AUTH_LIMIT_BLOCK_MS + 1;
	assert_false(is_blocked(limit, "c", after));
	record_failure(limit, "c", after, &count, &blocked);
	assert_int_equal(count, 1);
	assert_false(blocked);
	auth_limit_free(limit);
}

static void test_quiet_address_is_forgotten(void **state)
{
	struct auth_limit *limit = auth_limit_new();
	unsigned count;
	bool blocked;
	for (unsigned i = 0; i < 3; i++)
		record_failure(limit, "d", T0, &count, &blocked);
	record_failure(limit, "d", T0 + AUTH_LIMIT_FORGET_MS - 1, &count, &blocked);
	assert_int_equal(count, 4);
	record_failure(limit, "d", T0 + 2 * AUTH_LIMIT_FORGET_MS, &count, &blocked);
	assert_int_equal(count, 1);
	auth_limit_free(limit);
}

/* Many more addresses than slots: blocked ones survive a flood of single failures. */
static void test_table_is_bounded(void **state)
{
	struct auth_limit *limit = auth_limit_new();
	unsigned count;
	bool blocked;
	for (unsigned i = 0; i < AUTH_LIMIT_BLOCK_AFTER; i++)
		record_failure(limit, "attacker", T0, &count, &blocked);
	char addr[32];
	for (unsigned i = 0; i < 10 * AUTH_LIMIT_SLOTS; i++) {
		snprintf(addr, sizeof(addr), "10.1.%u.%u", i / 256, i % 256);
		record_failure(limit, addr, T0 + 1 + i, &count, &blocked);
		assert_int_equal(count, 1);
	}
	assert_true(is_blocked(limit, "attacker", T0 + 20000));
	/* The newest single failures are still counted. */
	record_failure(limit, addr, T0 + 20000, &count, &blocked);
	assert_int_equal(count, 2);
	/* The oldest were evicted. */
	record_failure(limit, "10.1.0.0", T0 + 20000, &count, &blocked);
	assert_int_equal(count, 1);
	auth_limit_free(limit);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_delay_grows_then_blocks),
		cmocka_unit_test(test_first_delay),
		cmocka_unit_test(test_success_forgets_but_keeps_block),
		cmocka_unit_test(test_block_expiry_starts_a_new_series),
		cmocka_unit_test(test_quiet_address_is_forgotten),
		cmocka_unit_test(test_table_is_bounded),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
