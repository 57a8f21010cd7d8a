// SPDX-License-Identifier: GPL-2.0-or-later
#include "id_watch.h"

void id_watch_failed(struct id_watch *w)
{
	if (w->failed_since < UINT32_MAX)
		w->failed_since++;
}

bool id_watch_note(struct id_watch *w, uint32_t id, uint32_t *unseen_from)
{
	if (id == 0)
		return false;
	uint64_t explained = (uint64_t)w->highest + 1 + w->failed_since;
	bool skipped = w->highest != 0 && id > explained;
	if (skipped)
		*unseen_from = w->highest + 1;
	if (id > w->highest) {
		/* The failed queries' ids, if any, lie below it: accounted for. */
		w->highest = id;
		w->failed_since = 0;
	}
	return skipped;
}
