// SPDX-License-Identifier: GPL-2.0-or-later
#include "vnc_probe.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int probe_tag;

static void quiet_log(const char *fmt, ...)
{
}

static struct vnc_probe *probe_of(rfbClient *client)
{
	return rfbClientGetClientData(client, &probe_tag);
}

static void got_update(rfbClient *client, int x, int y, int w, int h)
{
	struct vnc_probe *probe = probe_of(client);
	probe->rects++;
	probe->pixels += (uint64_t)w * (uint64_t)h;
	if ((uint32_t)x < probe->min_x)
		probe->min_x = (uint32_t)x;
	if ((uint32_t)y < probe->min_y)
		probe->min_y = (uint32_t)y;
	if ((uint32_t)(x + w) > probe->max_x)
		probe->max_x = (uint32_t)(x + w);
	if ((uint32_t)(y + h) > probe->max_y)
		probe->max_y = (uint32_t)(y + h);
}

static void finished_update(rfbClient *client)
{
	probe_of(client)->updates++;
}

void vnc_probe_reset_counts(struct vnc_probe *probe)
{
	probe->updates = probe->rects = probe->pixels = 0;
	probe->min_x = probe->min_y = UINT32_MAX;
	probe->max_x = probe->max_y = 0;
}

struct vnc_probe *vnc_probe_connect_opts(uint16_t port, const struct vnc_probe_opts *opts)
{
	rfbClientLog = quiet_log;
	rfbClientErr = quiet_log;
	struct vnc_probe *probe = calloc(1, sizeof(*probe));
	rfbClient *client = rfbGetClient(8, 3, 4);
	/* Same layout as the daemon's picture: B, G, R, X bytes. */
	client->format.redShift = 16;
	client->format.greenShift = 8;
	client->format.blueShift = 0;
	free(client->serverHost);
	client->serverHost = strdup("127.0.0.1");
	client->serverPort = port;
	client->appData.encodingsString = opts->encodings;
	client->appData.enableJPEG = FALSE;
	client->appData.useRemoteCursor = opts->remote_cursor ? TRUE : FALSE;
	client->canHandleNewFBSize = TRUE;
	client->GotFrameBufferUpdate = got_update;
	client->FinishedFrameBufferUpdate = finished_update;
	rfbClientSetClientData(client, &probe_tag, probe);
	vnc_probe_reset_counts(probe);
	if (!rfbInitClient(client, NULL, NULL)) {
		/* rfbInitClient frees the client on failure. */
		free(probe);
		return NULL;
	}
	probe->client = client;
	return probe;
}

struct vnc_probe *vnc_probe_connect(uint16_t port, const char *encodings)
{
	const struct vnc_probe_opts opts = { .encodings = encodings };

	return vnc_probe_connect_opts(port, &opts);
}

void vnc_probe_free(struct vnc_probe *probe)
{
	if (!probe)
		return;
	/* libvncclient allocates the framebuffer but leaves freeing it to the caller. */
	free(probe->client->frameBuffer);
	probe->client->frameBuffer = NULL;
	rfbClientCleanup(probe->client);
	free(probe);
}

static uint64_t ms_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

bool vnc_probe_pump(struct vnc_probe *probe, int timeout_ms)
{
	uint64_t deadline = ms_now() + (uint64_t)timeout_ms;
	do {
		int n = WaitForMessage(probe->client, 10000);
		if (n < 0)
			return false;
		if (n > 0 && !HandleRFBServerMessage(probe->client))
			return false;
	} while (ms_now() < deadline);
	return true;
}

bool vnc_probe_matches(const struct vnc_probe *probe, const uint8_t *expected, uint32_t width,
		       uint32_t height)
{
	const rfbClient *client = probe->client;
	if ((uint32_t)client->width != width || (uint32_t)client->height != height)
		return false;
	const uint32_t *got = (const uint32_t *)client->frameBuffer;
	const uint32_t *want = (const uint32_t *)expected;
	for (size_t i = 0; i < (size_t)width * height; i++)
		if ((got[i] ^ want[i]) & 0x00ffffff)
			return false;
	return true;
}

bool vnc_probe_wait_picture(struct vnc_probe *probe, const uint8_t *expected, uint32_t width,
			    uint32_t height, int timeout_ms)
{
	uint64_t deadline = ms_now() + (uint64_t)timeout_ms;
	while (!vnc_probe_matches(probe, expected, width, height)) {
		if (ms_now() >= deadline)
			return false;
		int n = WaitForMessage(probe->client, 20000);
		if (n < 0)
			return false;
		if (n > 0 && !HandleRFBServerMessage(probe->client))
			return false;
	}
	return true;
}

bool vnc_probe_wait_colour(struct vnc_probe *probe, uint32_t rgb, int timeout_ms)
{
	uint64_t deadline = ms_now() + (uint64_t)timeout_ms;
	for (;;) {
		const rfbClient *client = probe->client;
		const uint32_t *px = (const uint32_t *)client->frameBuffer;
		for (size_t i = 0; px && i < (size_t)client->width * client->height; i++)
			if ((px[i] & 0x00ffffff) == rgb)
				return true;
		if (ms_now() >= deadline || !vnc_probe_pump(probe, 10))
			return false;
	}
}
