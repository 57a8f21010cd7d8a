// SPDX-License-Identifier: GPL-2.0-or-later
#include "id_watch.h"

bool id_watch_note(struct id_watch *w, uint32_t id, uint32_t *unseen_from)
{
	if (id == 0)
		return false;
	bool skipped = w->highest != 0 && id > w->highest + 1;
	if (skipped)
		*unseen_from = w->highest + 1;
	if (id > w->highest)
		w->highest = id;
	return skipped;
}
