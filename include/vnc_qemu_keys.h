/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef MDEV_VNCD_VNC_QEMU_KEYS_H
#define MDEV_VNCD_VNC_QEMU_KEYS_H

#include <stdbool.h>
#include <stdint.h>
#include <rfb/rfb.h>

/*
 * QEMU's extended key event, added to libvncserver 0.9.14 (which knows
 * only keysyms) as a protocol extension. A client that lists the
 * pseudo-encoding -258 gets it acknowledged (a FramebufferUpdate with one
 * empty rectangle of that encoding, as QEMU sends) and may then send message 255, subtype
 * 0: down flag, keysym and the key's number. noVNC and TigerVNC do, so the
 * guest's own keyboard layout applies.
 */
struct vnc_qemu_keys_ops {
	/* At the client's creation: whether it may use the extension at all. */
	bool (*wanted)(rfbClientPtr cl);
	/* On the client's thread, for each key of a client that is not view-only. */
	void (*key)(rfbClientPtr cl, bool down, uint32_t keysym, uint32_t keycode);
};

/*
 * Registers the extension with libvncserver, process-wide, once: the first
 * ops stay (every later call must pass the same). Call before the clients
 * that should have it are created.
 */
void vnc_qemu_keys_register(const struct vnc_qemu_keys_ops *ops);

/*
 * After each turn of rfbProcessEvents on the client's thread: sends a
 * pending acknowledgement once libvncserver's own capability list (if the
 * client asked for one) has gone out.
 */
void vnc_qemu_keys_turn_done(rfbClientPtr cl);

#endif
