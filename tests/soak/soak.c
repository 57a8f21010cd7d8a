// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The soak: the production daemon on the simulated vGPU, flipped at full
 * speed for N flips (default 100000) while everything around it changes at
 * random: guest modes (sizes and formats), the plane off and on, the cursor,
 * the display IRQ firing or silent, clients connecting, watching, stalling
 * and dropping, and SIGHUPs. It prints the frames delivered and the
 * daemon's RSS and open fds at the start and the end, and fails unless the
 * daemon is still up with the same fds and an RSS within 5 %.
 *
 *   soak [--flips N] [--seconds S] [--seed N]
 *
 * --seconds bounds the run by time as well (the CI test runs 120 s).
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <drm_fourcc.h>

#include "harness.h"
#include "proc_stats.h"
#include "simctl.h"
#include "vnc_probe.h"

#define PRIMARY 1
#define CURSOR 2
#define PRIMARY_EVENT (1ull << 56)
#define CURSOR_EVENT (1ull << 57)
#define MAX_CLIENTS 4
#define BAND_ROWS 16     /* rows a flip rewrites: enough to be damage, cheap to send */
#define RSS_SLACK 1.05
#define SETTLE_MS 10000
#define WARMUP_FLIPS 20000
/* Enough new buffers, each seen by the daemon, to fill its dmabuf cache (PLANE_DMABUF_CACHE_SIZE). */
#define CACHE_FILL_MODES 6
#define SEEN_MS 50

struct mode {
	uint32_t fourcc, cpp, width, height;
};

static const struct mode modes[] = {
	{ DRM_FORMAT_XRGB8888, 4, 640, 480 }, { DRM_FORMAT_ARGB8888, 4, 320, 240 },
	{ DRM_FORMAT_XBGR8888, 4, 800, 600 }, { DRM_FORMAT_RGB565, 2, 640, 480 },
	{ DRM_FORMAT_YUYV, 2, 320, 200 },     { DRM_FORMAT_XRGB8888, 4, 1024, 768 },
};
#define MODE_COUNT (sizeof(modes) / sizeof(modes[0]))

enum client_state { CLIENT_NONE, CLIENT_WATCHING, CLIENT_STALLED };

struct soak {
	struct daemon_proc d;
	char config[64];
	unsigned seed;
	const struct mode *mode;
	uint8_t band[1024 * 4 * BAND_ROWS];
	struct vnc_probe *clients[MAX_CLIENTS];
	enum client_state state[MAX_CLIENTS];
	unsigned next_pump;
	bool irq_on;
	uint64_t flips, delivered, mode_sets, plane_offs, cursor_sets, irq_toggles, connects,
		stalls, drops, sighups;
};

static unsigned long opt_flips = 100000;
static unsigned opt_seconds;
static unsigned opt_seed = 1;

static unsigned chance(struct soak *s, unsigned one_in)
{
	return rand_r(&s->seed) % one_in == 0;
}

static void set_mode(struct soak *s, const struct mode *m)
{
	struct sim_plane_desc desc = {
		.fourcc = m->fourcc, .width = m->width, .height = m->height,
		.stride = m->width * m->cpp, .size = m->width * m->height * m->cpp,
	};
	assert_int_equal(simctl_set_plane(s->d.sim, PRIMARY, &desc), 0);
	s->mode = m;
	s->mode_sets++;
}

static void flip(struct soak *s)
{
	size_t len = (size_t)s->mode->width * s->mode->cpp * BAND_ROWS;
	memset(s->band, (int)(s->flips * 37), len);
	assert_int_equal(simctl_flip(s->d.sim, PRIMARY, s->band, len), 0);
	if (s->irq_on)
		assert_int_equal(simctl_irq(s->d.sim, PRIMARY_EVENT), 0);
	s->flips++;
}

static void set_cursor(struct soak *s, bool on)
{
	static uint32_t pixels[64 * 64];
	struct sim_plane_desc desc = { 0 };
	if (on) {
		uint32_t size = 16u << (rand_r(&s->seed) % 3);
		desc = (struct sim_plane_desc){
			.fourcc = DRM_FORMAT_ARGB8888, .width = size, .height = size,
			.stride = size * 4, .size = size * size * 4,
			.x = (int32_t)(rand_r(&s->seed) % 600), .y = (int32_t)(rand_r(&s->seed) % 400),
		};
		for (uint32_t i = 0; i < size * size; i++)
			pixels[i] = 0xff000000u | (uint32_t)rand_r(&s->seed);
	}
	assert_int_equal(simctl_set_plane(s->d.sim, CURSOR, &desc), 0);
	if (on)
		assert_int_equal(simctl_flip(s->d.sim, CURSOR, pixels, desc.size), 0);
	if (s->irq_on)
		assert_int_equal(simctl_irq(s->d.sim, CURSOR_EVENT), 0);
	s->cursor_sets++;
}

static void drop(struct soak *s, unsigned i)
{
	s->delivered += s->clients[i]->updates;
	vnc_probe_free(s->clients[i]);
	s->clients[i] = NULL;
	s->state[i] = CLIENT_NONE;
	s->drops++;
}

/* One step of a client's life: connect, watch, stall, drop. */
static void churn(struct soak *s)
{
	unsigned i = (unsigned)rand_r(&s->seed) % MAX_CLIENTS;
	switch (s->state[i]) {
	case CLIENT_NONE:
		s->clients[i] = vnc_probe_connect(s->d.port, i % 2 ? "zrle" : "raw");
		assert_non_null(s->clients[i]);
		s->state[i] = CLIENT_WATCHING;
		s->connects++;
		break;
	case CLIENT_WATCHING:
		if (chance(s, 3)) {
			s->state[i] = CLIENT_STALLED; /* stops reading: its socket fills */
			s->stalls++;
		} else {
			drop(s, i);
		}
		break;
	case CLIENT_STALLED:
		drop(s, i);
		break;
	}
}

/* Handles what the client has already received, without waiting for more. */
static void read_pending(struct vnc_probe *probe)
{
	int n;
	while ((n = WaitForMessage(probe->client, 0)) > 0)
		assert_true(HandleRFBServerMessage(probe->client));
	assert_true(n == 0);
}

/* Each flip lets one watching client read what it was sent. */
static void pump_one(struct soak *s)
{
	for (unsigned n = 0; n < MAX_CLIENTS; n++) {
		unsigned i = s->next_pump++ % MAX_CLIENTS;
		if (s->state[i] == CLIENT_WATCHING) {
			read_pending(s->clients[i]);
			return;
		}
	}
}

static void sighup(struct soak *s)
{
	FILE *f = fopen(s->config, "w");
	assert_non_null(f);
	fprintf(f, "refresh_hz = %u\n", s->sighups % 2 ? 30 : 60);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(kill(s->d.pid, SIGHUP), 0);
	s->sighups++;
}

static void step(struct soak *s)
{
	if (chance(s, 400))
		set_mode(s, &modes[(unsigned)rand_r(&s->seed) % MODE_COUNT]);
	if (chance(s, 2000)) {
		struct sim_plane_desc off = { 0 };
		assert_int_equal(simctl_set_plane(s->d.sim, PRIMARY, &off), 0);
		for (unsigned i = 0; i < 20; i++)
			pump_one(s);
		set_mode(s, &modes[(unsigned)rand_r(&s->seed) % MODE_COUNT]);
		s->plane_offs++;
	}
	if (chance(s, 300))
		set_cursor(s, !chance(s, 4));
	else if (chance(s, 20))
		assert_int_equal(simctl_move_cursor(s->d.sim, (int32_t)(s->flips % 700),
						    (int32_t)(s->flips % 500)), 0);
	if (chance(s, 1000)) {
		s->irq_on = !s->irq_on;
		s->irq_toggles++;
	}
	if (chance(s, 500))
		churn(s);
	if (chance(s, 5000))
		sighup(s);
	flip(s);
	pump_one(s);
}

static void drop_all(struct soak *s)
{
	for (unsigned i = 0; i < MAX_CLIENTS; i++)
		if (s->state[i] != CLIENT_NONE)
			drop(s, i);
}

/*
 * The same random life for WARMUP_FLIPS, so the baseline counts what the
 * daemon keeps for good (libyuv tables, the heap grown to the largest
 * picture, a full dmabuf cache) and not what it merely has not needed yet.
 */
static void warm_up(struct soak *s)
{
	for (unsigned m = 0; m < MODE_COUNT; m++) {
		set_mode(s, &modes[m]);
		churn(s);
		for (unsigned i = 0; i < 50; i++)
			step(s);
	}
	for (unsigned i = 0; i < WARMUP_FLIPS; i++)
		step(s);
}

/* A flip the daemon has surely fetched, by IRQ or by its poll. */
static void flip_seen(struct soak *s)
{
	flip(s);
	assert_int_equal(simctl_irq(s->d.sim, PRIMARY_EVENT), 0);
	usleep(SEEN_MS * 1000);
}

/*
 * The state both readings are taken in: no client, the cursor off, the
 * dmabuf cache full of fresh buffers, the first mode. Then waits for the
 * leaving clients' threads and sockets to go (at most want's, if given).
 */
static void settle(struct soak *s, struct proc_usage *usage, const struct proc_usage *want)
{
	drop_all(s);
	set_cursor(s, false);
	for (unsigned k = 0; k < CACHE_FILL_MODES; k++) {
		set_mode(s, &modes[(CACHE_FILL_MODES - 1 - k) % MODE_COUNT]);
		flip_seen(s);
		flip_seen(s);
	}
	if (want)
		proc_usage_wait_at_most(s->d.pid, want, SETTLE_MS, usage);
	else
		sleep(1);
	assert_int_equal(proc_usage_read(s->d.pid, usage), 0);
}

static void report(const struct soak *s, const struct proc_usage *u, const char *when)
{
	print_message("soak %s: flips=%llu delivered=%llu rss_kb=%ld fds=%d threads=%d\n", when,
		      (unsigned long long)s->flips, (unsigned long long)s->delivered, u->rss_kb,
		      u->fds, u->threads);
}

static void test_soak(void **state)
{
	static struct soak s;
	s.seed = opt_seed;
	snprintf(s.config, sizeof(s.config), "/tmp/mdev-vncd-soak.%d.conf", (int)getpid());
	FILE *f = fopen(s.config, "w");
	assert_non_null(f);
	fputs("refresh_hz = 60\n", f);
	assert_int_equal(fclose(f), 0);
	const char *args[] = { "--config", s.config, NULL };
	const char *env[] = { "VGPU_SIM_IRQ=display", NULL };
	struct daemon_options opts = { .extra_args = args, .extra_env = env };
	daemon_start(&s.d, &opts);

	warm_up(&s);
	struct proc_usage before, after;
	settle(&s, &before, NULL);
	report(&s, &before, "start");

	uint64_t start = now_ms(), target = s.flips + opt_flips;
	while (s.flips < target && (!opt_seconds || now_ms() - start < opt_seconds * 1000ull)) {
		step(&s);
		if (s.flips % 1000 == 0)
			assert_int_equal(kill(s.d.pid, 0), 0);
		if (s.flips % 10000 == 0)
			print_message("soak: %llu flips, %.0f flips/s\n", (unsigned long long)s.flips,
				      (double)s.flips * 1000.0 / (double)(now_ms() - start + 1));
	}
	settle(&s, &after, &before);
	report(&s, &after, "end");
	print_message("soak events: modes=%llu plane_offs=%llu cursors=%llu irq_toggles=%llu "
		      "connects=%llu stalls=%llu drops=%llu sighups=%llu\n",
		      (unsigned long long)s.mode_sets, (unsigned long long)s.plane_offs,
		      (unsigned long long)s.cursor_sets, (unsigned long long)s.irq_toggles,
		      (unsigned long long)s.connects, (unsigned long long)s.stalls,
		      (unsigned long long)s.drops, (unsigned long long)s.sighups);
	assert_true(s.delivered > 0);
	assert_int_equal(after.fds, before.fds);
	assert_true(after.threads <= before.threads);
	assert_true((double)after.rss_kb <= (double)before.rss_kb * RSS_SLACK);
	assert_int_equal(daemon_stop(&s.d, SIGTERM), 0);
	unlink(s.config);
}

static int parse_args(int argc, char **argv)
{
	for (int i = 1; i + 1 < argc; i += 2) {
		char *end;
		errno = 0;
		unsigned long v = strtoul(argv[i + 1], &end, 10);
		if (errno || *end || end == argv[i + 1])
			return -1;
		if (strcmp(argv[i], "--flips") == 0)
			opt_flips = v;
		else if (strcmp(argv[i], "--seconds") == 0)
			opt_seconds = (unsigned)v;
		else if (strcmp(argv[i], "--seed") == 0)
			opt_seed = (unsigned)v;
		else
			return -1;
	}
	return argc % 2 ? 0 : -1;
}

int main(int argc, char **argv)
{
	if (parse_args(argc, argv) < 0) {
		fprintf(stderr, "usage: %s [--flips N] [--seconds S] [--seed N]\n", argv[0]);
		return 2;
	}
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_soak),
	};
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
