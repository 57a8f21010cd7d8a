// SPDX-License-Identifier: GPL-2.0-or-later
#include "vnc_probe.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int probe_tag;

const rfbPixelFormat vnc_probe_xrgb8888 = {
	.bitsPerPixel = 32, .depth = 24, .trueColour = TRUE,
	.redMax = 255, .greenMax = 255, .blueMax = 255,
	.redShift = 16, .greenShift = 8, .blueShift = 0,
};
const rfbPixelFormat vnc_probe_red_low = {
	.bitsPerPixel = 32, .depth = 24, .trueColour = TRUE,
	.redMax = 255, .greenMax = 255, .blueMax = 255,
	.redShift = 0, .greenShift = 8, .blueShift = 16,
};
const rfbPixelFormat vnc_probe_big_endian = {
	.bitsPerPixel = 32, .depth = 24, .bigEndian = TRUE, .trueColour = TRUE,
	.redMax = 255, .greenMax = 255, .blueMax = 255,
	.redShift = 16, .greenShift = 8, .blueShift = 0,
};
const rfbPixelFormat vnc_probe_rgbx_high = {
	.bitsPerPixel = 32, .depth = 24, .trueColour = TRUE,
	.redMax = 255, .greenMax = 255, .blueMax = 255,
	.redShift = 24, .greenShift = 16, .blueShift = 8,
};
const rfbPixelFormat vnc_probe_rgb565 = {
	.bitsPerPixel = 16, .depth = 16, .trueColour = TRUE,
	.redMax = 31, .greenMax = 63, .blueMax = 31,
	.redShift = 11, .greenShift = 5, .blueShift = 0,
};

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
	const rfbPixelFormat *format = opts->format ? opts->format : &vnc_probe_xrgb8888;
	rfbClient *client = rfbGetClient(8, 3, format->bitsPerPixel / 8);
	client->format = *format;
	free(client->serverHost);
	client->serverHost = strdup("127.0.0.1");
	client->serverPort = port;
	client->appData.encodingsString = opts->encodings;
	client->appData.enableJPEG = opts->jpeg ? TRUE : FALSE;
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

bool vnc_probe_set_format(struct vnc_probe *probe, const rfbPixelFormat *format)
{
	rfbClient *client = probe->client;
	if (format->bitsPerPixel > client->format.bitsPerPixel)
		return false;
	client->format = *format;
	return SetFormatAndEncodings(client) &&
	       SendFramebufferUpdateRequest(client, 0, 0, client->width, client->height, FALSE);
}

static uint32_t channel_to_8bit(uint32_t value, unsigned shift, unsigned max)
{
	return ((value >> shift) & max) * 255 / (max ? max : 1);
}

uint32_t vnc_probe_decode(const rfbClient *client, const uint8_t *pixel)
{
	const rfbPixelFormat *f = &client->format;
	unsigned bytes = f->bitsPerPixel / 8;
	uint32_t v = 0;
	for (unsigned i = 0; i < bytes; i++)
		v |= (uint32_t)pixel[f->bigEndian ? bytes - 1 - i : i] << (8 * i);
	return channel_to_8bit(v, f->redShift, f->redMax) << 16 |
	       channel_to_8bit(v, f->greenShift, f->greenMax) << 8 |
	       channel_to_8bit(v, f->blueShift, f->blueMax);
}

uint32_t vnc_probe_pixel(const struct vnc_probe *probe, uint32_t x, uint32_t y)
{
	const rfbClient *client = probe->client;
	size_t bytes = client->format.bitsPerPixel / 8;
	return vnc_probe_decode(client, client->frameBuffer +
						((size_t)y * (size_t)client->width + x) * bytes);
}

/* want (8 bits) seen through a channel of max: the nearest level, or one either side. */
static bool channel_close(uint32_t got, uint32_t want, unsigned max)
{
	if (max == 255)
		return got == want;
	long level = ((long)got * max + 127) / 255, exact = ((long)want * max + 127) / 255;
	return labs(level - exact) <= 1;
}

bool vnc_probe_matches(const struct vnc_probe *probe, const uint8_t *expected, uint32_t width,
		       uint32_t height)
{
	const rfbClient *client = probe->client;
	if ((uint32_t)client->width != width || (uint32_t)client->height != height)
		return false;
	const rfbPixelFormat *f = &client->format;
	const uint32_t *want = (const uint32_t *)expected;
	if (f->bitsPerPixel == 32 && !f->bigEndian && f->redShift == 16 && f->greenShift == 8 &&
	    f->blueShift == 0 && f->redMax == 255 && f->greenMax == 255 && f->blueMax == 255) {
		/* The daemon's own format: compared as words, fast enough for every pump. */
		const uint32_t *got = (const uint32_t *)client->frameBuffer;
		for (size_t i = 0; i < (size_t)width * height; i++)
			if ((got[i] ^ want[i]) & 0x00ffffff)
				return false;
		return true;
	}
	for (uint32_t y = 0; y < height; y++) {
		for (uint32_t x = 0; x < width; x++) {
			uint32_t got = vnc_probe_pixel(probe, x, y), w = want[y * width + x];
			if (!channel_close(got >> 16 & 0xff, w >> 16 & 0xff, f->redMax) ||
			    !channel_close(got >> 8 & 0xff, w >> 8 & 0xff, f->greenMax) ||
			    !channel_close(got & 0xff, w & 0xff, f->blueMax))
				return false;
		}
	}
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
