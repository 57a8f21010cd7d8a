/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef MDEV_VNCD_LOG_H
#define MDEV_VNCD_LOG_H

#include <stdarg.h>
#include <stdbool.h>

/*
 * One line per event to stderr, prefixed with the level and the instance
 * name, so journald files it under the right unit. Levels follow syslog so
 * systemd reads the "<N>" prefix when stderr is the journal.
 */
enum log_level {
	LOG_LEVEL_ERROR = 3,
	LOG_LEVEL_WARNING = 4,
	LOG_LEVEL_INFO = 6,
	LOG_LEVEL_DEBUG = 7,
};

void log_init(const char *instance, enum log_level level);
void log_set_level(enum log_level level);
bool log_enabled(enum log_level level);
const char *log_level_name(enum log_level level);
/* Parses "error", "warning", "info" or "debug"; returns -EINVAL otherwise. */
int log_level_parse(const char *name, enum log_level *out);

void log_message(enum log_level level, const char *func, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The same from a va_list; a trailing newline (libvncserver's style) is dropped. */
void log_vmessage(enum log_level level, const char *func, const char *fmt, va_list ap);

#define log_error(...) log_message(LOG_LEVEL_ERROR, __func__, __VA_ARGS__)
#define log_warning(...) log_message(LOG_LEVEL_WARNING, __func__, __VA_ARGS__)
#define log_info(...) log_message(LOG_LEVEL_INFO, __func__, __VA_ARGS__)
#define log_debug(...) \
	do { \
		if (log_enabled(LOG_LEVEL_DEBUG)) \
			log_message(LOG_LEVEL_DEBUG, __func__, __VA_ARGS__); \
	} while (0)

/*
 * Logs a condition once until it is cleared: a bad plane or a refused mmap
 * must be one line, not sixty per second. The owner keeps the latch.
 */
struct log_latch {
	bool raised;
};

#define log_once(latch, level, ...) \
	do { \
		if (!(latch)->raised) { \
			(latch)->raised = true; \
			log_message(level, __func__, __VA_ARGS__); \
		} \
	} while (0)

static inline void log_latch_clear(struct log_latch *latch)
{
	latch->raised = false;
}

#endif
