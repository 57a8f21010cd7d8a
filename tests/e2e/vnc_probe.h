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
	/* With "tight": ask for JPEG (libvncclient's default quality) as viewers do. */
	bool jpeg;
	/* The pixel format to ask for; NULL: the daemon's own (XRGB8888). */
	const rfbPixelFormat *format;
};

/* Pixel formats viewers ask for, all true colour. */
extern const rfbPixelFormat vnc_probe_xrgb8888;   /* the daemon's own */
extern const rfbPixelFormat vnc_probe_red_low;    /* libvncclient, noVNC, Remmina */
extern const rfbPixelFormat vnc_probe_big_endian; /* X, R, G, B in memory */
extern const rfbPixelFormat vnc_probe_rgbx_high;  /* red in the top byte (shifts 24, 16, 8) */
extern const rfbPixelFormat vnc_probe_rgb565;

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
/*
 * Asks for another pixel format mid-session (SetPixelFormat) and for a whole
 * picture. Its bits per pixel must not exceed the current format's (the
 * client's framebuffer keeps its size).
 */
bool vnc_probe_set_format(struct vnc_probe *probe, const rfbPixelFormat *format);
/* The client's pixel at x, y as XRGB8888, channels of fewer bits scaled to 8. */
uint32_t vnc_probe_pixel(const struct vnc_probe *probe, uint32_t x, uint32_t y);
/* One pixel in the client's format (at pixel) as XRGB8888, the same way. */
uint32_t vnc_probe_decode(const rfbClient *client, const uint8_t *pixel);
/*
 * The client's picture equals expected: exactly for 8-bit channels, within
 * one level for fewer bits (libvncserver's translation rounds).
 */
/* Pumps until some pixel of the client's picture is rgb (0xRRGGBB) or the timeout. */
bool vnc_probe_wait_colour(struct vnc_probe *probe, uint32_t rgb, int timeout_ms);
/* The accent colour of the daemon's "No signal" placeholder (src/placeholder.c). */
#define NO_SIGNAL_ACCENT 0x5a8deeu
bool vnc_probe_matches(const struct vnc_probe *probe, const uint8_t *expected, uint32_t width,
		       uint32_t height);

#endif
