// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Errno faults at the system-call boundary (SIM_FAULT_*_ERRNO): the next N
 * calls of one kind fail with the errno a test chose, each failure counted
 * so the test knows when the daemon has met them all.
 */
#include <errno.h>

#include "sim_internal.h"

static struct {
	uint32_t count; /* calls still to fail; read without the lock by sim_inject_pending */
	int err;
} injected[SIM_INJECT_COUNT];

int sim_inject_arm(enum sim_inject which, uint64_t arg)
{
	const int err = (int)(arg & 0xffff);
	const uint32_t count = (uint32_t)(arg >> 16) & 0xffff;

	if (!err && count)
		return -EINVAL;
	injected[which].err = err;
	__atomic_store_n(&injected[which].count, count, __ATOMIC_RELAXED);
	return 0;
}

long sim_inject_take(enum sim_inject which)
{
	if (!injected[which].count)
		return 0;
	if (injected[which].count != SIM_FAULT_COUNT_ENDLESS)
		__atomic_store_n(&injected[which].count, injected[which].count - 1,
				 __ATOMIC_RELAXED);
	sim.stats.injected_failures++;
	return -injected[which].err;
}

bool sim_inject_pending(enum sim_inject which)
{
	return __atomic_load_n(&injected[which].count, __ATOMIC_RELAXED) != 0;
}
