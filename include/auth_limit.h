/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef MDEV_VNCD_AUTH_LIMIT_H
#define MDEV_VNCD_AUTH_LIMIT_H

#include <stdbool.h>
#include <stdint.h>

/*
 * Failed logins counted per source address: each failure makes the next
 * answer wait longer, and enough of them block the address for a while.
 * The table has a fixed number of slots (memory stays bounded whatever the
 * number of addresses); when it is full the entry idle the longest is
 * forgotten. Thread-safe. Times are CLOCK_MONOTONIC milliseconds passed in
 * by the caller, so the policy can be tested without waiting.
 */
struct auth_limit;

#define AUTH_LIMIT_SLOTS 64
#define AUTH_LIMIT_FIRST_DELAY_MS 500u  /* the first failure's wait, doubled per failure */
#define AUTH_LIMIT_MAX_DELAY_MS 4000u
#define AUTH_LIMIT_BLOCK_AFTER 5u       /* failures in a row that block the address */
#define AUTH_LIMIT_BLOCK_MS 60000u
#define AUTH_LIMIT_FORGET_MS 600000u    /* a quiet address starts afresh */
#define AUTH_LIMIT_ADDR_MAX 64          /* longer keys are truncated */

struct auth_limit *auth_limit_new(void);
void auth_limit_free(struct auth_limit *limit);

/* 0 if addr may try to log in now; -EPERM while it is blocked, *remaining_ms how long still. */
int auth_limit_check(struct auth_limit *limit, const char *addr, uint64_t now_ms,
		     uint64_t *remaining_ms);

/*
 * Records a failed login from addr. Returns how long (ms) the failed attempt
 * must wait before it is answered; *failures gets the count in a row and
 * *blocked whether this failure started a block.
 */
unsigned auth_limit_failed(struct auth_limit *limit, const char *addr, uint64_t now_ms,
			   unsigned *failures, bool *blocked);

/* A good login forgets the address's failures (never a block still running). */
void auth_limit_succeeded(struct auth_limit *limit, const char *addr, uint64_t now_ms);

#endif
