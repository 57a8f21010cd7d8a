/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef MDEV_VNCD_CONFIG_KEYS_H
#define MDEV_VNCD_CONFIG_KEYS_H

/*
 * The configuration's key table, private to the config module
 * (config_keys.c: every key's type, default, restart flag and
 * documentation; config.c: loading, validation, printing). One table drives
 * parsing, defaults, --check-config output and the documented example.
 */
#include <stdbool.h>
#include <stddef.h>

#include "config.h"

/* Room for the longest formatted value: CONFIG_MAX_LISTEN bracketed v6 listeners. */
#define CONFIG_VALUE_MAX 1024
/* More than there are keys: sizes per-key bookkeeping. */
#define CONFIG_KEY_MAX 64

struct config_key;

struct key_type {
	/* Parses value into cfg; on error writes what is wrong into what and returns -EINVAL. */
	int (*parse)(const struct config_key *k, struct config *cfg, const char *value, char *what,
		     size_t wlen);
	void (*format)(const struct config_key *k, const struct config *cfg, char *buf, size_t len);
	/* What the key accepts, for error messages: computed from the key, or fixed text. */
	void (*allowed)(const struct config_key *k, char *buf, size_t len);
	const char *allowed_text;
};

struct config_key {
	const char *name;
	const struct key_type *type;
	size_t offset; /* of the field, for the types shared by several keys */
	size_t size;
	unsigned min, max;
	const char *def;
	bool restart; /* a change needs a restart rather than a SIGHUP reload */
	const char *doc;
};

extern const struct config_key config_keys[];
extern const size_t config_key_count;

const struct config_key *config_key_find(const char *name);

/* "ADDR:PORT", IPv6 in brackets. */
void config_format_listen(const struct listen_addr *a, char *buf, size_t len);

#endif
