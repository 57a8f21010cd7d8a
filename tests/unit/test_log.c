// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * log: level names, the level filter, log_once latches and the exact line
 * format journald reads, checked on what actually reaches stderr.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "log.h"

#define CAPTURE_MAX 8192

static struct {
	int pipe[2];
	int saved;
	char text[CAPTURE_MAX];
} capture;

/* Sends stderr into a pipe until capture_end(), which returns what was written. */
static void capture_begin(void)
{
	assert_int_equal(pipe(capture.pipe), 0);
	capture.saved = dup(STDERR_FILENO);
	assert_true(capture.saved >= 0);
	assert_true(dup2(capture.pipe[1], STDERR_FILENO) >= 0);
	close(capture.pipe[1]);
}

static const char *capture_end(void)
{
	size_t len = 0;
	ssize_t n;

	fflush(stderr);
	/* Restoring stderr drops the pipe's last write end: the read below sees EOF. */
	assert_true(dup2(capture.saved, STDERR_FILENO) >= 0);
	close(capture.saved);
	while ((n = read(capture.pipe[0], capture.text + len, sizeof(capture.text) - 1 - len)) > 0)
		len += (size_t)n;
	close(capture.pipe[0]);
	capture.text[len] = '\0';
	return capture.text;
}

static unsigned count_lines(const char *text)
{
	unsigned n = 0;

	for (; *text; text++)
		n += *text == '\n';
	return n;
}

static int setup(void **state)
{
	(void)state;
	log_init("unit", LOG_LEVEL_INFO);
	return 0;
}

static void test_level_parse(void **state)
{
	static const struct {
		const char *name;
		enum log_level level;
	} good[] = {
		{ "error", LOG_LEVEL_ERROR },
		{ "warning", LOG_LEVEL_WARNING },
		{ "info", LOG_LEVEL_INFO },
		{ "debug", LOG_LEVEL_DEBUG },
	};
	static const char *const bad[] = { "", "Error", "warn", "infos", "notice", "3", " debug" };
	enum log_level level;

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		level = (enum log_level)0;
		assert_int_equal(log_level_parse(good[i].name, &level), 0);
		assert_int_equal(level, good[i].level);
		assert_string_equal(log_level_name(good[i].level), good[i].name);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		level = LOG_LEVEL_INFO;
		assert_int_equal(log_level_parse(bad[i], &level), -EINVAL);
		/* A refused name leaves the caller's value alone. */
		assert_int_equal(level, LOG_LEVEL_INFO);
	}
	assert_string_equal(log_level_name((enum log_level)0), "?");
	assert_string_equal(log_level_name((enum log_level)5), "?");
	assert_string_equal(log_level_name((enum log_level)99), "?");
	assert_string_equal(log_level_name((enum log_level)-1), "?");
}

static void test_enabled_per_level(void **state)
{
	static const enum log_level all[] = { LOG_LEVEL_ERROR, LOG_LEVEL_WARNING, LOG_LEVEL_INFO,
					      LOG_LEVEL_DEBUG };

	(void)state;
	for (size_t set = 0; set < 4; set++) {
		log_set_level(all[set]);
		for (size_t asked = 0; asked < 4; asked++)
			assert_int_equal(log_enabled(all[asked]), asked <= set);
	}
}

static void test_format(void **state)
{
	(void)state;
	log_init("vm-7", LOG_LEVEL_INFO);
	capture_begin();
	log_warning("plane %d is %s", 3, "odd");
	log_error("gone");
	log_info("hello");
	assert_string_equal(capture_end(),
			    "<4>vm-7: warning: plane 3 is odd\n<3>vm-7: error: gone\n"
			    "<6>vm-7: info: hello\n");
}

/* At debug level each line also names the function that logged it. */
static void test_format_debug(void **state)
{
	(void)state;
	log_init("vm-8", LOG_LEVEL_DEBUG);
	capture_begin();
	log_debug("x=%u", 5u);
	log_info("y");
	assert_string_equal(capture_end(), "<7>vm-8: debug: [test_format_debug] x=5\n"
					    "<6>vm-8: info: [test_format_debug] y\n");
}

static int side_effects;

static int bump(void)
{
	return ++side_effects;
}

static void test_filtered(void **state)
{
	(void)state;
	log_init("vm-9", LOG_LEVEL_WARNING);
	side_effects = 0;
	capture_begin();
	log_info("hidden");
	log_debug("hidden %d", bump());
	log_warning("shown");
	assert_string_equal(capture_end(), "<4>vm-9: warning: shown\n");
	/* A disabled debug line costs no formatting: its arguments are not evaluated. */
	assert_int_equal(side_effects, 0);
}

static void test_once(void **state)
{
	struct log_latch latch = { 0 };
	const char *out;

	(void)state;
	capture_begin();
	for (int i = 0; i < 5; i++)
		log_once(&latch, LOG_LEVEL_WARNING, "refused %d", i);
	assert_true(latch.raised);
	log_latch_clear(&latch);
	assert_false(latch.raised);
	log_once(&latch, LOG_LEVEL_ERROR, "again %d", 9);
	log_once(&latch, LOG_LEVEL_ERROR, "again %d", 10);
	out = capture_end();
	assert_string_equal(out, "<4>unit: warning: refused 0\n<3>unit: error: again 9\n");
}

/* A filtered level still raises the latch: the condition was seen. */
static void test_once_filtered(void **state)
{
	struct log_latch latch = { 0 };

	(void)state;
	log_set_level(LOG_LEVEL_ERROR);
	capture_begin();
	log_once(&latch, LOG_LEVEL_INFO, "quiet");
	assert_string_equal(capture_end(), "");
	assert_true(latch.raised);
}

static void test_long_message(void **state)
{
	size_t len = 5000;
	char *big = malloc(len + 1);
	const char *out, *text;

	(void)state;
	assert_non_null(big);
	memset(big, 'a', len);
	big[len] = '\0';
	big[len - 1] = 'Z';
	capture_begin();
	log_error("%s", big);
	log_info("next");
	out = capture_end();
	free(big);

	assert_int_equal(count_lines(out), 2);
	assert_memory_equal(out, "<3>unit: error: a", 17);
	text = out + strlen("<3>unit: error: ");
	/* Cut short, still one line, and the next line starts clean. */
	assert_true(strchr(text, '\n') - text < 1024);
	assert_true(strchr(text, '\n') - text > 512);
	assert_null(strchr(out, 'Z'));
	assert_string_equal(strchr(out, '\n') + 1, "<6>unit: info: next\n");
}

static void test_long_instance(void **state)
{
	char name[200];
	const char *out;

	(void)state;
	memset(name, 'n', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	log_init(name, LOG_LEVEL_INFO);
	capture_begin();
	log_info("m");
	out = capture_end();
	assert_int_equal(count_lines(out), 1);
	assert_memory_equal(out, "<6>nnn", 6);
	assert_true(strlen(out) < 100);
	assert_non_null(strstr(out, "n: info: m\n"));
}

static void *ask_levels(void *arg)
{
	unsigned *enabled = arg;
	for (unsigned i = 0; i < 100000; i++)
		*enabled += log_enabled(LOG_LEVEL_DEBUG);
	return NULL;
}

/* SIGHUP sets the level on the loop thread while client threads log (race-free under TSan). */
static void test_level_changes_while_threads_log(void **state)
{
	pthread_t thread;
	unsigned enabled = 0;

	(void)state;
	assert_int_equal(pthread_create(&thread, NULL, ask_levels, &enabled), 0);
	for (unsigned i = 0; i < 1000; i++)
		log_set_level(i % 2 ? LOG_LEVEL_DEBUG : LOG_LEVEL_INFO);
	assert_int_equal(pthread_join(thread, NULL), 0);
	log_set_level(LOG_LEVEL_WARNING);
	assert_false(log_enabled(LOG_LEVEL_INFO));
	assert_true(enabled <= 100000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_level_parse, setup),
		cmocka_unit_test_setup(test_enabled_per_level, setup),
		cmocka_unit_test_setup(test_format, setup),
		cmocka_unit_test_setup(test_format_debug, setup),
		cmocka_unit_test_setup(test_filtered, setup),
		cmocka_unit_test_setup(test_once, setup),
		cmocka_unit_test_setup(test_once_filtered, setup),
		cmocka_unit_test_setup(test_long_message, setup),
		cmocka_unit_test_setup(test_long_instance, setup),
		cmocka_unit_test_setup(test_level_changes_while_threads_log, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
