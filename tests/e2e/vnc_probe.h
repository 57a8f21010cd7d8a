/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef MDEV_VNCD_E2E_VNC_PROBE_H
#define MDEV_VNCD_E2E_VNC_PROBE_H

#include <stdbool.h>
#include <stdint.h>
#include <rfb/rfbclient.h>

/* A libvncclient client that records what the server sends. */
struct vnc_probe {
	rfbClient *client;
	uint64_t updates;        /* FramebufferUpdate messages finished */
	uint64_t rects;          /* rectangles received */
	uint64_t pixels;         /* area of the rectangles received */
	uint32_t min_x, min_y, max_x, max_y; /* bounding box since the last reset */
};

struct vnc_probe_opts {
	const char *encodings; /* "raw", "zrle", ... */
	/*
	 * Ask for the cursor pseudo-encodings (shape and position apart from the
	 * picture); the caller sets client->GotCursorShape and HandleCursorPos
	 * after connecting, before the first pump. Off: the server draws the
	 * cursor into the picture.
	 */
	bool remote_cursor;
};

/* Connects to 127.0.0.1:port; NULL on failure. */
struct vnc_probe *vnc_probe_connect_opts(uint16_t port, const struct vnc_probe_opts *opts);
/* The same without remote cursors. */
struct vnc_probe *vnc_probe_connect(uint16_t port, const char *encodings);
void vnc_probe_free(struct vnc_probe *probe);
void vnc_probe_reset_counts(struct vnc_probe *probe);
/* Handles server messages for up to timeout_ms; false if the connection failed. */
bool vnc_probe_pump(struct vnc_probe *probe, int timeout_ms);
/* Pumps until the client's picture equals expected (XRGB8888, stride w*4) or the timeout. */
bool vnc_probe_wait_picture(struct vnc_probe *probe, const uint8_t *expected, uint32_t width,
			    uint32_t height, int timeout_ms);
/* Pumps until some pixel of the client's picture is rgb (0xRRGGBB) or the timeout. */
bool vnc_probe_wait_colour(struct vnc_probe *probe, uint32_t rgb, int timeout_ms);
/* The accent colour of the daemon's "No signal" placeholder (src/placeholder.c). */
#define NO_SIGNAL_ACCENT 0x5a8deeu
bool vnc_probe_matches(const struct vnc_probe *probe, const uint8_t *expected, uint32_t width,
		       uint32_t height);

#endif
