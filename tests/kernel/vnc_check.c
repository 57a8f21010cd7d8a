// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * VNC side of the kernel test bed: one libvncclient connection, driven by
 * one command per line on stdin, one answer per line on stdout:
 *
 *   expect PICTURE   wait until the screen is exactly PICTURE
 *   flip PICTURE     the same, and every complete update seen before must be
 *                    the previous picture or PICTURE (no torn or stale mix)
 *   change           wait until the screen differs from the previous picture
 *
 * PICTURE is kbed_picture.h's wire format. Answers: "ok MS DETAIL" or
 * "fail DETAIL". Waiting polls the connection until a deadline; nothing is
 * retried: a wrong picture at the deadline is a failure.
 *
 * Usage: vnc_check HOST PORT [TIMEOUT_SECONDS]
 */

#include <errno.h>
#include <rfb/rfbclient.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "kbed_picture.h"

struct checker {
	rfbClient *client;
	bool frame_done;
	struct kbed_picture prev;
	double timeout;
	unsigned int updates;
};

struct mismatch {
	uint32_t x, y, want, got;
	uint64_t count;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void frame_done(rfbClient *client)
{
	struct checker *ck = rfbClientGetClientData(client, frame_done);

	ck->frame_done = true;
	ck->updates++;
}

static rfbClient *client_new(struct checker *ck, const char *host, int port)
{
	rfbClient *cl = rfbGetClient(8, 3, 4);

	if (!cl)
		return NULL;
	/* 0x00RRGGBB in host order, the same as kbed_pixel() */
	cl->format.redShift = 16;
	cl->format.greenShift = 8;
	cl->format.blueShift = 0;
	cl->appData.encodingsString = "raw";
	/* rfbGetClient set a default host of its own: ours replaces it. */
	free(cl->serverHost);
	cl->serverHost = strdup(host);
	cl->serverPort = port;
	cl->FinishedFrameBufferUpdate = frame_done;
	rfbClientSetClientData(cl, frame_done, ck);
	return cl;
}

/*
 * The daemon may not listen yet: try until the deadline. A bare connect()
 * probe would do, but the server logs every probe as a broken client.
 */
static int checker_connect(struct checker *ck, const char *host, int port)
{
	double deadline = now_s() + ck->timeout;

	for (;;) {
		rfbClient *cl = client_new(ck, host, port);

		if (!cl)
			return -ENOMEM;
		/* rfbInitClient() frees the client when it fails */
		if (rfbInitClient(cl, NULL, NULL)) {
			ck->client = cl;
			return 0;
		}
		if (now_s() > deadline)
			return -ETIMEDOUT;
		usleep(200 * 1000);
	}
}

/* Returns 1 after one complete update, 0 at the deadline, -EPIPE on a lost link. */
static int checker_pump(struct checker *ck, double deadline)
{
	rfbClient *cl = ck->client;

	while (now_s() < deadline) {
		int n = WaitForMessage(cl, 100 * 1000);

		if (n < 0)
			return -EPIPE;
		if (n == 0)
			continue;
		/* 0.9.14's WaitForMessage() does not see bytes it already buffered */
		do {
			if (!HandleRFBServerMessage(cl))
				return -EPIPE;
		} while (cl->buffered > 0);
		if (ck->frame_done) {
			ck->frame_done = false;
			SendFramebufferUpdateRequest(cl, 0, 0, cl->width, cl->height, TRUE);
			return 1;
		}
	}
	return 0;
}

static bool screen_matches(const struct checker *ck, const struct kbed_picture *p,
			   struct mismatch *m)
{
	const rfbClient *cl = ck->client;
	const uint32_t *fb = (const uint32_t *)cl->frameBuffer;

	memset(m, 0, sizeof(*m));
	if ((uint32_t)cl->width != p->width || (uint32_t)cl->height != p->height) {
		m->count = UINT64_MAX;
		return false;
	}
	if (p->kind == KBED_SIZE)
		return true;
	for (uint32_t y = 0; y < p->height; y++) {
		for (uint32_t x = 0; x < p->width; x++) {
			uint32_t want = kbed_pixel(p, x, y);
			uint32_t got = fb[(size_t)y * p->width + x] & 0xffffffu;

			if (got == want)
				continue;
			if (!m->count++) {
				m->x = x;
				m->y = y;
				m->want = want;
				m->got = got;
			}
		}
	}
	return !m->count;
}

static void describe(const struct checker *ck, const struct mismatch *m, char *buf, size_t len)
{
	if (m->count == UINT64_MAX)
		snprintf(buf, len, "screen is %dx%d", ck->client->width, ck->client->height);
	else
		snprintf(buf, len, "%llu pixels differ, first at %u,%u: want %06x got %06x",
			 (unsigned long long)m->count, m->x, m->y, m->want, m->got);
}

enum wait_mode {
	WAIT_EXPECT,
	WAIT_FLIP,
	WAIT_CHANGE,
};

static void run_wait(struct checker *ck, enum wait_mode mode, const struct kbed_picture *want)
{
	double start = now_s(), deadline = start + ck->timeout;
	unsigned int seen = 0;
	struct mismatch m, mprev;
	char why[160];
	int ret = 1;

	/* the screen may already be right: judge it before waiting */
	for (;;) {
		bool match = screen_matches(ck, want, &m);

		if (mode == WAIT_CHANGE)
			match = !screen_matches(ck, &ck->prev, &mprev);
		if (match)
			break;
		if (mode == WAIT_FLIP && seen && !screen_matches(ck, &ck->prev, &mprev)) {
			describe(ck, &m, why, sizeof(why));
			printf("fail torn or foreign frame during flip (update %u): %s\n", seen, why);
			return;
		}
		ret = checker_pump(ck, deadline);
		if (ret <= 0)
			break;
		seen++;
	}
	if (ret < 0) {
		printf("fail connection lost\n");
		return;
	}
	if (ret == 0) {
		describe(ck, mode == WAIT_CHANGE ? &mprev : &m, why, sizeof(why));
		printf("fail timeout after %.1f s, %u updates: %s\n", ck->timeout, seen, why);
		return;
	}
	printf("ok %.0f ms, %u updates, screen %dx%d\n", (now_s() - start) * 1e3, seen,
	       ck->client->width, ck->client->height);
	if (mode != WAIT_CHANGE)
		ck->prev = *want;
	else
		ck->prev = (struct kbed_picture){.kind = KBED_NONE};
}

static void run_command(struct checker *ck, char *line)
{
	static const struct {
		const char *name;
		enum wait_mode mode;
	} cmds[] = {{"expect ", WAIT_EXPECT}, {"flip ", WAIT_FLIP}, {"change", WAIT_CHANGE}};
	struct kbed_picture want = {.kind = KBED_NONE};

	line[strcspn(line, "\n")] = 0;
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		size_t n = strlen(cmds[i].name);

		if (strncmp(line, cmds[i].name, n))
			continue;
		if (cmds[i].mode != WAIT_CHANGE && kbed_picture_parse(line + n, &want) < 0)
			break;
		run_wait(ck, cmds[i].mode, &want);
		return;
	}
	printf("fail bad command '%s'\n", line);
}

int main(int argc, char **argv)
{
	struct checker ck = {.timeout = 30};
	char line[256];

	if (argc < 3 || argc > 4) {
		fprintf(stderr, "usage: %s HOST PORT [TIMEOUT_SECONDS]\n", argv[0]);
		return 2;
	}
	if (argc == 4)
		ck.timeout = atof(argv[3]);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (checker_connect(&ck, argv[1], atoi(argv[2])) < 0) {
		printf("fail cannot connect to %s:%s\n", argv[1], argv[2]);
		return 1;
	}
	printf("ready\n");
	while (fgets(line, sizeof(line), stdin))
		run_command(&ck, line);
	rfbClientCleanup(ck.client);
	return 0;
}
