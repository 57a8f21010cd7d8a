// SPDX-License-Identifier: GPL-2.0-or-later
/* The keysym -> QKeyCode table generated from keycodemapdb, and QEMU's key numbers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "keymap.h"

static void test_keysyms(void **state)
{
	static const struct {
		uint32_t keysym;
		const char *qcode;
	} cases[] = {
		{ 0x0061, "a" },         /* a */
		{ 0x0041, "a" },         /* A: the same key */
		{ 0x0031, "1" },         /* 1 */
		{ 0x0021, "1" },         /* exclam: shift+1 on a US layout */
		{ 0x0020, "spc" },       /* space */
		{ 0x005c, "backslash" }, /* keymaps.csv lists it twice: the first row wins */
		{ 0xff0d, "ret" },       /* Return */
		{ 0xff1b, "esc" },
		{ 0xff08, "backspace" },
		{ 0xff09, "tab" },
		{ 0xffe1, "shift" },     /* Shift_L */
		{ 0xffe2, "shift_r" },
		{ 0xffe3, "ctrl" },
		{ 0xffe4, "ctrl_r" },
		{ 0xffe9, "alt" },
		{ 0xffbe, "f1" },
		{ 0xffc9, "f12" },
		{ 0xff51, "left" },
		{ 0xff8d, "kp_enter" },
		{ 0xffff, "delete" },
		{ 0xffeb, "meta_l" },    /* Super_L: our alias */
		{ 0xfe03, "alt_r" },     /* ISO_Level3_Shift (AltGr): our alias */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *got = keymap_keysym_to_qcode(cases[i].keysym);
		if (!got)
			fail_msg("keysym 0x%x: no qcode, expected %s", cases[i].keysym, cases[i].qcode);
		if (strcmp(got, cases[i].qcode) != 0)
			fail_msg("keysym 0x%x: %s, expected %s", cases[i].keysym, got, cases[i].qcode);
	}
}

static void test_unmapped_keysyms(void **state)
{
	assert_null(keymap_keysym_to_qcode(0));
	assert_null(keymap_keysym_to_qcode(0x20ac));     /* EuroSign: on no US key */
	assert_null(keymap_keysym_to_qcode(0x00e4));     /* adiaeresis */
	assert_null(keymap_keysym_to_qcode(0xffffffff));
}

static void test_qnums(void **state)
{
	assert_false(keymap_valid_qnum(0));
	assert_true(keymap_valid_qnum(0x01));   /* Esc */
	assert_true(keymap_valid_qnum(0x9d));   /* right Ctrl: E0 1D */
	assert_true(keymap_valid_qnum(KEYMAP_QNUM_MAX));
	assert_false(keymap_valid_qnum(0x100));
	assert_false(keymap_valid_qnum(0xe01d)); /* the prefix unfolded: not a qnum */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keysyms),
		cmocka_unit_test(test_unmapped_keysyms),
		cmocka_unit_test(test_qnums),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
