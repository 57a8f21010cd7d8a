// SPDX-License-Identifier: GPL-2.0-or-later
#include "log.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

/*
 * The level is read by every thread that logs and changed by SIGHUP on the
 * loop thread: atomic. The instance is set once, before any thread starts.
 */
static struct {
	char instance[64];
	atomic_int level;
} logger = { .instance = "mdev-vncd", .level = LOG_LEVEL_INFO };

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

void log_init(const char *instance, enum log_level level)
{
	snprintf(logger.instance, sizeof(logger.instance), "%s", instance);
	atomic_store_explicit(&logger.level, (int)level, memory_order_relaxed);
}

void log_set_level(enum log_level level)
{
	atomic_store_explicit(&logger.level, (int)level, memory_order_relaxed);
}

bool log_enabled(enum log_level level)
{
	return (int)level <= atomic_load_explicit(&logger.level, memory_order_relaxed);
}

static const char *const level_names[] = {
	[LOG_LEVEL_ERROR] = "error",
	[LOG_LEVEL_WARNING] = "warning",
	[LOG_LEVEL_INFO] = "info",
	[LOG_LEVEL_DEBUG] = "debug",
};

const char *log_level_name(enum log_level level)
{
	if ((unsigned)level >= sizeof(level_names) / sizeof(level_names[0]) || !level_names[level])
		return "?";
	return level_names[level];
}

int log_level_parse(const char *name, enum log_level *out)
{
	for (unsigned i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
		if (level_names[i] && strcmp(name, level_names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	return -EINVAL;
}

void log_vmessage(enum log_level level, const char *func, const char *fmt, va_list ap)
{
	if (!log_enabled(level))
		return;

	char text[1024];
	vsnprintf(text, sizeof(text), fmt, ap);
	text[strcspn(text, "\n")] = '\0';

	/* One fprintf per line under a lock: client threads log too. */
	pthread_mutex_lock(&log_lock);
	if (log_enabled(LOG_LEVEL_DEBUG))
		fprintf(stderr, "<%d>%s: %s: [%s] %s\n", level, logger.instance,
			log_level_name(level), func, text);
	else
		fprintf(stderr, "<%d>%s: %s: %s\n", level, logger.instance,
			log_level_name(level), text);
	pthread_mutex_unlock(&log_lock);
}

void log_message(enum log_level level, const char *func, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_vmessage(level, func, fmt, ap);
	va_end(ap);
}
