// SPDX-License-Identifier: GPL-2.0-or-later
#include "auth_limit.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct entry {
	char addr[AUTH_LIMIT_ADDR_MAX];
	unsigned failures;
	uint64_t last_failure_ms;
	uint64_t blocked_until_ms; /* 0 = not blocked */
};

struct auth_limit {
	pthread_mutex_t lock;
	struct entry entries[AUTH_LIMIT_SLOTS];
};

struct auth_limit *auth_limit_new(void)
{
	struct auth_limit *limit = calloc(1, sizeof(*limit));
	if (limit)
		pthread_mutex_init(&limit->lock, NULL);
	return limit;
}

void auth_limit_free(struct auth_limit *limit)
{
	if (!limit)
		return;
	pthread_mutex_destroy(&limit->lock);
	free(limit);
}

static bool entry_expired(const struct entry *e, uint64_t now_ms)
{
	return !e->addr[0] || (now_ms >= e->blocked_until_ms &&
			       now_ms - e->last_failure_ms >= AUTH_LIMIT_FORGET_MS);
}

static struct entry *find(struct auth_limit *limit, const char *addr, uint64_t now_ms)
{
	for (unsigned i = 0; i < AUTH_LIMIT_SLOTS; i++) {
		struct entry *e = &limit->entries[i];
		if (strncmp(e->addr, addr, sizeof(e->addr) - 1) != 0)
			continue;
		if (!entry_expired(e, now_ms))
			return e;
		memset(e, 0, sizeof(*e));
		return NULL;
	}
	return NULL;
}

/* A free slot, else the one whose last failure is oldest (blocked ones last). */
static struct entry *claim(struct auth_limit *limit, const char *addr, uint64_t now_ms)
{
	struct entry *victim = NULL;
	for (unsigned i = 0; i < AUTH_LIMIT_SLOTS; i++) {
		struct entry *e = &limit->entries[i];
		if (entry_expired(e, now_ms)) {
			victim = e;
			break;
		}
		bool blocked = now_ms < e->blocked_until_ms;
		bool victim_blocked = victim && now_ms < victim->blocked_until_ms;
		if (!victim || (victim_blocked && !blocked) ||
		    (victim_blocked == blocked && e->last_failure_ms < victim->last_failure_ms))
			victim = e;
	}
	memset(victim, 0, sizeof(*victim));
	strncpy(victim->addr, addr, sizeof(victim->addr) - 1);
	return victim;
}

int auth_limit_check(struct auth_limit *limit, const char *addr, uint64_t now_ms,
		     uint64_t *remaining_ms)
{
	int ret = 0;
	pthread_mutex_lock(&limit->lock);
	const struct entry *e = find(limit, addr, now_ms);
	if (e && now_ms < e->blocked_until_ms) {
		*remaining_ms = e->blocked_until_ms - now_ms;
		ret = -EPERM;
	}
	pthread_mutex_unlock(&limit->lock);
	return ret;
}

unsigned auth_limit_failed(struct auth_limit *limit, const char *addr, uint64_t now_ms,
			   unsigned *failures, bool *blocked)
{
	pthread_mutex_lock(&limit->lock);
	struct entry *e = find(limit, addr, now_ms);
	if (!e)
		e = claim(limit, addr, now_ms);
	/* A block that ran out gives the address a fresh series, still delayed. */
	if (e->blocked_until_ms && now_ms >= e->blocked_until_ms) {
		e->blocked_until_ms = 0;
		e->failures = 0;
	}
	e->failures++;
	e->last_failure_ms = now_ms;
	*blocked = e->failures == AUTH_LIMIT_BLOCK_AFTER;
	if (*blocked)
		e->blocked_until_ms = now_ms + AUTH_LIMIT_BLOCK_MS;
	*failures = e->failures;
	unsigned shift = e->failures - 1 < 8 ? e->failures - 1 : 8;
	unsigned delay = AUTH_LIMIT_FIRST_DELAY_MS << shift;
	pthread_mutex_unlock(&limit->lock);
	return delay < AUTH_LIMIT_MAX_DELAY_MS ? delay : AUTH_LIMIT_MAX_DELAY_MS;
}

void auth_limit_succeeded(struct auth_limit *limit, const char *addr, uint64_t now_ms)
{
	pthread_mutex_lock(&limit->lock);
	for (unsigned i = 0; i < AUTH_LIMIT_SLOTS; i++) {
		struct entry *e = &limit->entries[i];
		/* Never lifts a block: a lucky guess from a blocked address is refused earlier. */
		if (!strncmp(e->addr, addr, sizeof(e->addr) - 1) && now_ms >= e->blocked_until_ms)
			memset(e, 0, sizeof(*e));
	}
	pthread_mutex_unlock(&limit->lock);
}
