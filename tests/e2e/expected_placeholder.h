/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef MDEV_VNCD_E2E_EXPECTED_PLACEHOLDER_H
#define MDEV_VNCD_E2E_EXPECTED_PLACEHOLDER_H

/*
 * What a client must see while the daemon shows a placeholder, to the
 * pixel: the picture the daemon's placeholder module draws at the client's
 * size, with the instance name the harness gives the daemon and the detail
 * the daemon logged. (tests/unit/test_placeholder.c checks that the module
 * draws that text, glyph for glyph.)
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "harness.h"
#include "placeholder.h"

/* The harness starts every daemon with --instance e2e. */
#define E2E_INSTANCE "e2e"

/* XRGB8888, stride width * 4, width x height; detail may be NULL. The caller frees it. */
uint8_t *expected_placeholder(enum placeholder_kind kind, const char *detail, uint32_t width,
			      uint32_t height);

/*
 * The detail of the daemon's latest "<what>: DETAIL; clients see a
 * placeholder ..." log line, into out; false when it logged none.
 */
bool placeholder_logged_detail(const struct daemon_proc *d, const char *what, char *out,
			       size_t size);

#endif
