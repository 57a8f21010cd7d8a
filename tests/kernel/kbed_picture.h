/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef KBED_PICTURE_H
#define KBED_PICTURE_H

/*
 * The pictures the kernel test bed draws in the guest and expects over VNC.
 * Both sides compute each pixel from a small description, so the driver and
 * the checker only exchange one text line per step.
 */

#include <stdint.h>
#include <stdio.h>
#include <string.h>

enum kbed_kind {
	KBED_NONE,    /* nothing known yet */
	KBED_PATTERN, /* seeded noise, optionally with a rectangle of another seed */
	KBED_GRAY,    /* mdpy's reset picture: row y is gray y * 255 / height */
	KBED_SIZE,    /* any content, only the size is known (stock mbochs) */
};

struct kbed_picture {
	enum kbed_kind kind;
	uint32_t width, height, seed;
	/* overlay, drawn with seed2; rw == 0 means none */
	uint32_t rx, ry, rw, rh, seed2;
};

/* 0x00RRGGBB; neighbours differ, so a shift by one pixel or row shows. */
static inline uint32_t kbed_noise(uint32_t seed, uint32_t x, uint32_t y)
{
	uint32_t v = seed * 0x9e3779b1u ^ x * 0x85ebca77u ^ y * 0xc2b2ae3du;

	v ^= v >> 15;
	v *= 0x2c1b3c6du;
	v ^= v >> 12;
	return v & 0xffffffu;
}

static inline int kbed_in_rect(const struct kbed_picture *p, uint32_t x, uint32_t y)
{
	return p->rw && x >= p->rx && x < p->rx + p->rw && y >= p->ry && y < p->ry + p->rh;
}

static inline uint32_t kbed_pixel(const struct kbed_picture *p, uint32_t x, uint32_t y)
{
	uint32_t g;

	switch (p->kind) {
	case KBED_PATTERN:
		return kbed_noise(kbed_in_rect(p, x, y) ? p->seed2 : p->seed, x, y);
	case KBED_GRAY:
		g = y * 255 / p->height;
		return g << 16 | g << 8 | g;
	default:
		return 0;
	}
}

/*
 * Wire format, one line: "pattern W H SEED [RX RY RW RH SEED2]", "gray W H"
 * or "size W H". Returns 0, or -1 on a malformed line.
 */
static inline int kbed_picture_parse(const char *s, struct kbed_picture *p)
{
	char kind[16];
	int n;

	memset(p, 0, sizeof(*p));
	if (sscanf(s, "%15s %u %u%n", kind, &p->width, &p->height, &n) != 3)
		return -1;
	s += n;
	if (!strcmp(kind, "gray")) {
		p->kind = KBED_GRAY;
	} else if (!strcmp(kind, "size")) {
		p->kind = KBED_SIZE;
	} else if (!strcmp(kind, "pattern")) {
		p->kind = KBED_PATTERN;
		n = sscanf(s, "%u %u %u %u %u %u", &p->seed, &p->rx, &p->ry, &p->rw, &p->rh,
			   &p->seed2);
		if (n != 1 && n != 6)
			return -1;
	} else {
		return -1;
	}
	return p->width && p->height ? 0 : -1;
}

static inline void kbed_picture_format(const struct kbed_picture *p, char *buf, size_t len)
{
	static const char *const names[] = {"none", "pattern", "gray", "size"};
	int n = snprintf(buf, len, "%s %u %u", names[p->kind], p->width, p->height);

	if (p->kind != KBED_PATTERN || n < 0 || (size_t)n >= len)
		return;
	if (p->rw)
		snprintf(buf + n, len - n, " %u %u %u %u %u %u", p->seed, p->rx, p->ry, p->rw,
			 p->rh, p->seed2);
	else
		snprintf(buf + n, len - n, " %u", p->seed);
}

#endif
