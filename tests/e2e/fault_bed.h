/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef MDEV_VNCD_E2E_FAULT_BED_H
#define MDEV_VNCD_E2E_FAULT_BED_H

/*
 * The fault table of issue 12: the daemon (CPU import) with two raw
 * clients watching, a guest that shows deterministic pictures, and the
 * checks every row ends with: the daemon up, the clients connected and
 * showing the guest's picture, the warnings the row expects and no more,
 * and its fds, threads and memory back where they were.
 */
#include <stdbool.h>
#include <stdint.h>

#include "harness.h"
#include "simctl.h"
#include "vnc_probe.h"

#define FAULT_W 640
#define FAULT_H 480
#define FAULT_DEADLINE_MS 10000
/* The sim's primary-plane bit of the display-event IRQ. */
#define FAULT_PRIMARY_EVENT (1ull << 56)
/* The largest picture a row shows (pixels). */
#define FAULT_MAX_PICTURE (1024u * 768u)

struct fault_usage {
	int fds; /* beside the sim's objects */
	int threads;
	long rss_anon_kb;
};

struct fault_bed {
	struct daemon_proc d;
	struct vnc_probe *probe[2];
	uint8_t *pixels; /* the guest's last picture, FAULT_MAX_PICTURE XRGB8888 */
	uint32_t seed;
	bool signalled;  /* each picture the guest shows is announced by a display event */
	struct fault_usage baseline;
};

/* What a row starts from. */
struct fault_mark {
	uint64_t start_ms;
	int warnings;
	int lines;
	struct sim_stats stats;
};

/*
 * env: extra "NAME=value" for the daemon (at most six), NULL-terminated,
 * may be NULL. signalled: the guest announces each picture with a display
 * event.
 */
void fault_bed_start(struct fault_bed *b, const char *const *env, bool signalled);
void fault_bed_stop(struct fault_bed *b);

/* A new XRGB8888 mode of w x h (a new buffer) on the primary plane. */
void fault_bed_set_mode(struct fault_bed *b, uint32_t w, uint32_t h);
/* A new picture drawn into the current w x h XRGB8888 buffer; both clients must show it. */
void fault_bed_show(struct fault_bed *b, uint32_t w, uint32_t h);
/* The guest back in its FAULT_W x FAULT_H mode with a new picture, shown to both clients. */
void fault_bed_guest_shows(struct fault_bed *b);
/* Both clients show this picture (XRGB8888, stride w * 4) within the deadline. */
bool fault_bed_clients_show(struct fault_bed *b, const uint8_t *expected, uint32_t w, uint32_t h);
/* Keeps both clients reading for ms. */
void fault_bed_watch(struct fault_bed *b, int ms);

struct sim_stats fault_bed_stats(struct fault_bed *b);
/* Lines the daemon logged at warning level or worse. */
int fault_bed_warnings(const struct fault_bed *b);
/* Every line the daemon logged (its instance's lines, any level). */
int fault_bed_lines(const struct fault_bed *b);
/* Waits, clients reading, until the sim made n more calls fail than at mark. */
void fault_bed_wait_injected(struct fault_bed *b, const struct fault_mark *mark, unsigned n);

struct fault_mark fault_bed_mark(struct fault_bed *b);
/*
 * Ends a row: prints what it cost, fails the test unless the daemon logged
 * exactly `warnings` warnings since mark and got back to its baseline fds,
 * threads and memory; and, on a device whose ids must not be closed, never
 * fetched an id again after closing it.
 */
void fault_bed_row_done(struct fault_bed *b, const struct fault_mark *mark, const char *name,
			int warnings);

#endif
