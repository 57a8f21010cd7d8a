/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef MDEV_VNCD_KEYMAP_H
#define MDEV_VNCD_KEYMAP_H

#include <stdbool.h>
#include <stdint.h>

/*
 * Keys as QEMU names them. A VNC KeyEvent carries an X keysym, a symbol: the
 * table (generated at build time from keycodemapdb's keymaps.csv, see
 * third_party/keycodemapdb) finds the key that makes it on a US layout, as a
 * QKeyCode name for QMP ("a", "shift", "kp_enter"). Clients that speak QEMU's
 * extended key event send the key's number instead, which needs no table.
 */

/* The QKeyCode of the key that gives keysym, or NULL when no key does. */
const char *keymap_keysym_to_qcode(uint32_t keysym);

/* QEMU's key numbers: XT scan code set 1, the E0 prefix folded into bit 7. */
#define KEYMAP_QNUM_MAX 0xffu

/* Whether keycode from an extended key event is a key number QEMU can take. */
bool keymap_valid_qnum(uint32_t keycode);

#endif
