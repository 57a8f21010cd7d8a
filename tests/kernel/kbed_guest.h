/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef KBED_GUEST_H
#define KBED_GUEST_H

/*
 * The guest driver's devices and steps (guest_driver.c), shared with the
 * cases that live in files of their own (kbed_egl.c): an mdev opened as a
 * VMM opens it, and the steps that draw on it and ask vnc_check about each.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kbed_children.h"
#include "kbed_picture.h"

enum op {
	OP_MODE, /* draw the picture at yoff, then set the mode */
	OP_RECT, /* draw the picture's overlay rectangle only */
	OP_FLIP, /* draw the picture at yoff, then move Y_OFFSET there */
	OP_OFF,  /* display disabled */
	OP_ON,   /* set the mode again without drawing: memory still holds it */
};

enum check {
	CK_EXPECT, /* exact pixels */
	CK_FLIP,   /* exact pixels, old-or-new in between */
	CK_SIZE,   /* stock mbochs: the daemon cannot map, only the size is known */
	CK_CHANGE, /* "no signal": anything but the previous picture */
	CK_NONE,
};

struct step {
	const char *name;
	enum op op;
	enum check check;
	uint32_t yoff;
	struct kbed_picture pic;
};

#define PAT(w, h, s) {.kind = KBED_PATTERN, .width = w, .height = h, .seed = s}
#define PAT_RECT(w, h, s, x, y, rw_, rh_, s2) \
	{.kind = KBED_PATTERN, .width = w, .height = h, .seed = s, \
	 .rx = x, .ry = y, .rw = rw_, .rh = rh_, .seed2 = s2}

struct region {
	uint64_t offset, size;
};

struct device {
	int fd;
	bool bochs;
	struct region mmio;
	uint8_t *vram;
	uint64_t vram_size;
};

/* Creates the mdev UUID of TYPE on the parent device PARENT (mbochs, mdpy). */
int mdev_create(const char *parent, const char *type, const char *uuid);

/* Removing an mdev waits until nobody holds it: with the daemon gone, at once. */
int mdev_remove(const char *uuid);

/* Opens the mdev through its VFIO group and maps its video memory. */
int device_open(struct device *d, const char *uuid, bool bochs);

/* Accepts a device that was never opened or already closed. */
void device_close(struct device *d);

/*
 * Applies each step and asks the checker about it, printing "KBED: TAG ..."
 * lines; the daemon d must still run after each step.
 */
int run_steps(struct device *dev, struct child *d, struct child *ck, const struct step *steps,
	      size_t n, const char *tag);

#endif
