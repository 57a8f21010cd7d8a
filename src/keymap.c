// SPDX-License-Identifier: GPL-2.0-or-later
#include "keymap.h"

#include <stddef.h>

struct keysym_qcode {
	uint32_t keysym;
	const char *qcode;
};

/* One entry per keysym, in keymaps.csv's order. */
static const struct keysym_qcode table[] = {
#include "keysym_qcode.inc"
};

/* A linear search: keys arrive at typing speed, and the table has under 200 rows. */
const char *keymap_keysym_to_qcode(uint32_t keysym)
{
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		if (table[i].keysym == keysym)
			return table[i].qcode;
	}
	return NULL;
}

bool keymap_valid_qnum(uint32_t keycode)
{
	/* 0 is "no key": clients send it for keys they cannot place. */
	return keycode > 0 && keycode <= KEYMAP_QNUM_MAX;
}
