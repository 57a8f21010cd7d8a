// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Telling a second reader of the planes from the dmabuf ids: the ids a
 * lone reader's queries allocate on mbochs (a counter) and GVT-g (the
 * lowest free id) never skip past the highest it has seen.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "id_watch.h"

static bool note(struct id_watch *w, uint32_t id)
{
	uint32_t from = 0;
	return id_watch_note(w, id, &from);
}

/* mbochs, alone: new modes 1, 2, 3, flips back to old ids, a page flip's new id. */
static void test_counter_alone(void **state)
{
	struct id_watch w = { 0 };
	const uint32_t ids[] = { 1, 1, 2, 1, 2, 3, 4, 3, 4, 5 };
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
		assert_false(note(&w, ids[i]));
}

/* GVT-g, alone: ids freed when the daemon closed their fds come back lower. */
static void test_lowest_free_alone(void **state)
{
	struct id_watch w = { 0 };
	const uint32_t ids[] = { 1, 2, 3, 4, 2, 1, 5, 3, 6 };
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
		assert_false(note(&w, ids[i]));
}

/* No dmabuf (id 0) says nothing; the first id is the baseline, whatever it is. */
static void test_baseline(void **state)
{
	struct id_watch w = { 0 };
	assert_false(note(&w, 0));
	assert_false(note(&w, 37));
	assert_false(note(&w, 0));
	assert_false(note(&w, 38));
}

/* Another reader queried modes the daemon never saw: the ids it was given are skipped. */
static void test_skip_shows_second_reader(void **state)
{
	struct id_watch w = { 0 };
	uint32_t from = 0;
	assert_false(id_watch_note(&w, 1, &from));
	assert_false(id_watch_note(&w, 2, &from));
	assert_true(id_watch_note(&w, 5, &from));
	assert_int_equal(from, 3);
	/* Later ids are judged from the new highest. */
	assert_false(id_watch_note(&w, 6, &from));
	assert_true(id_watch_note(&w, 8, &from));
	assert_int_equal(from, 7);
}

/*
 * Stock mbochs: a query of a new mode makes its id and fails with ENOMEM; a
 * guest that moves on before the next query leaves that id unseen.
 */
static void test_failed_query_explains_one_id(void **state)
{
	struct id_watch w = { 0 };
	uint32_t from = 0;
	assert_false(id_watch_note(&w, 1, &from));
	id_watch_failed(&w); /* mode A: id 2 made, ENOMEM */
	id_watch_failed(&w); /* mode B: id 3 made, ENOMEM */
	assert_false(id_watch_note(&w, 3, &from)); /* the retry finds B */
	/* Accounted for: the next gap is judged afresh. */
	assert_true(id_watch_note(&w, 5, &from));
	assert_int_equal(from, 4);
	/* Failures beyond what the gap needs do not hide a larger one. */
	id_watch_failed(&w);
	assert_true(id_watch_note(&w, 8, &from));
	assert_int_equal(from, 6);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_counter_alone),
		cmocka_unit_test(test_lowest_free_alone),
		cmocka_unit_test(test_baseline),
		cmocka_unit_test(test_skip_shows_second_reader),
		cmocka_unit_test(test_failed_query_explains_one_id),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
