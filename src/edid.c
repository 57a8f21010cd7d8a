// SPDX-License-Identifier: GPL-2.0-or-later
#include "edid.h"

#include <errno.h>
#include <string.h>

#define REFRESH_HZ 60
/* CVT reduced blanking (VESA CVT 1.1): fixed horizontal blanking, a minimum vertical one. */
#define RB_H_BLANK 160
#define RB_H_FRONT 48
#define RB_H_SYNC 32
#define RB_V_FRONT 3
#define RB_MIN_V_BACK 6
#define RB_MIN_V_BLANK_US 460
#define CLOCK_STEP_KHZ 250
/* Below this the CVT step would miss 60 Hz by more than 1%: EDID's own 10 kHz unit then. */
#define CLOCK_FINE_BELOW_KHZ 25000
#define CLOCK_FINE_STEP_KHZ 10
#define MAX_CLOCK_KHZ 655350 /* 16 bits of 10 kHz in the timing descriptor */

struct timing {
	uint32_t clock_khz;
	uint32_t h_active, h_blank, h_front, h_sync;
	uint32_t v_active, v_blank, v_front, v_sync;
};

/* CVT encodes the aspect ratio in the vertical sync width. */
static uint32_t cvt_v_sync(uint32_t w, uint32_t h)
{
	if (w * 3 == h * 4)
		return 4;
	if (w * 9 == h * 16)
		return 5;
	if (w * 10 == h * 16)
		return 6;
	if (w * 4 == h * 5 || w * 9 == h * 15)
		return 7;
	return 10;
}

static struct timing cvt_rb(uint32_t w, uint32_t h)
{
	struct timing t = {
		.h_active = w, .h_blank = RB_H_BLANK, .h_front = RB_H_FRONT, .h_sync = RB_H_SYNC,
		.v_active = h, .v_front = RB_V_FRONT, .v_sync = cvt_v_sync(w, h),
	};
	/* Line period (ns) if the active lines share the frame minus the blanking time. */
	uint64_t line_ns = ((1000000000ull / REFRESH_HZ) - RB_MIN_V_BLANK_US * 1000ull) / h;
	uint32_t blank = (uint32_t)(RB_MIN_V_BLANK_US * 1000ull / line_ns) + 1;
	uint32_t min_blank = RB_V_FRONT + t.v_sync + RB_MIN_V_BACK;
	t.v_blank = blank > min_blank ? blank : min_blank;
	uint64_t khz = (uint64_t)(w + RB_H_BLANK) * (h + t.v_blank) * REFRESH_HZ / 1000;
	uint32_t step = khz >= CLOCK_FINE_BELOW_KHZ ? CLOCK_STEP_KHZ : CLOCK_FINE_STEP_KHZ;
	t.clock_khz = (uint32_t)(khz / step * step);
	return t;
}

/* The 18-byte detailed timing descriptor (EDID 1.4 section 3.10.2). */
static void put_timing(uint8_t *d, const struct timing *t, uint32_t width_mm, uint32_t height_mm)
{
	uint32_t clock = t->clock_khz / 10;
	d[0] = clock & 0xff;
	d[1] = clock >> 8;
	d[2] = t->h_active & 0xff;
	d[3] = t->h_blank & 0xff;
	d[4] = (uint8_t)((t->h_active >> 8) << 4 | (t->h_blank >> 8));
	d[5] = t->v_active & 0xff;
	d[6] = t->v_blank & 0xff;
	d[7] = (uint8_t)((t->v_active >> 8) << 4 | (t->v_blank >> 8));
	d[8] = t->h_front & 0xff;
	d[9] = t->h_sync & 0xff;
	d[10] = (uint8_t)((t->v_front & 0xf) << 4 | (t->v_sync & 0xf));
	d[11] = (uint8_t)((t->h_front >> 8) << 6 | (t->h_sync >> 8) << 4 |
			  (t->v_front >> 4) << 2 | (t->v_sync >> 4));
	d[12] = width_mm & 0xff;
	d[13] = height_mm & 0xff;
	d[14] = (uint8_t)((width_mm >> 8) << 4 | (height_mm >> 8));
	/* Digital separate sync; reduced blanking: +hsync, -vsync. */
	d[17] = 0x18 | 0x02;
}

static void put_text(uint8_t *d, uint8_t tag, const char *text)
{
	d[3] = tag;
	size_t len = strnlen(text, 13);
	memcpy(&d[5], text, len);
	if (len < 13) {
		d[5 + len] = '\n';
		memset(&d[6 + len], ' ', 13 - len - 1);
	}
}

int edid_build(uint8_t blob[EDID_BLOCK_SIZE], uint32_t width, uint32_t height,
	       const char *name)
{
	if (width < EDID_MIN_SIDE || height < EDID_MIN_SIDE || width > EDID_MAX_SIDE ||
	    height > EDID_MAX_SIDE)
		return -EINVAL;
	struct timing t = cvt_rb(width, height);
	if (t.clock_khz > MAX_CLOCK_KHZ)
		return -ERANGE;
	static const uint8_t header[8] = { 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00 };
	memset(blob, 0, EDID_BLOCK_SIZE);
	memcpy(blob, header, sizeof(header));
	/* Manufacturer "MDV" (three 5-bit letters), product 1, no serial. */
	uint16_t maker = (uint16_t)(('M' - '@') << 10 | ('D' - '@') << 5 | ('V' - '@'));
	blob[8] = maker >> 8;
	blob[9] = maker & 0xff;
	blob[10] = 1;
	blob[16] = 1;   /* week */
	blob[17] = 34;  /* 1990 + 34 */
	blob[18] = 1;   /* EDID 1.4 */
	blob[19] = 4;
	blob[20] = 0xa5; /* digital, 8 bits per colour, DisplayPort */
	/* Image size in cm from a 96 dpi guess; a guest only uses it for DPI. */
	uint32_t width_mm = width * 254 / 960, height_mm = height * 254 / 960;
	blob[21] = (uint8_t)(width_mm / 10 ? width_mm / 10 : 1);
	blob[22] = (uint8_t)(height_mm / 10 ? height_mm / 10 : 1);
	blob[23] = 120; /* gamma 2.2 */
	blob[24] = 0x06; /* RGB 4:4:4, sRGB default, the preferred timing is the native mode */
	for (int i = 38; i < 54; i++)
		blob[i] = 0x01; /* no standard timings */

	put_timing(&blob[54], &t, width_mm, height_mm);
	put_text(&blob[72], 0xfc, name && name[0] ? name : "mdev-vncd");
	blob[90 + 3] = 0x10; /* dummy descriptor */
	blob[108 + 3] = 0x10;

	uint8_t sum = 0;
	for (int i = 0; i < EDID_BLOCK_SIZE - 1; i++)
		sum = (uint8_t)(sum + blob[i]);
	blob[EDID_BLOCK_SIZE - 1] = (uint8_t)(0x100 - sum);
	return 0;
}

static uint32_t clamp_side(uint32_t v, uint32_t max)
{
	if (max && v > max)
		v = max;
	if (v > EDID_MAX_SIDE)
		v = EDID_MAX_SIDE;
	return v < EDID_MIN_SIDE ? EDID_MIN_SIDE : v;
}

int edid_build_fitting(uint8_t blob[EDID_BLOCK_SIZE], uint32_t *width, uint32_t *height,
		       uint32_t max_width, uint32_t max_height, const char *name)
{
	int ret;

	*width = clamp_side(*width, max_width);
	*height = clamp_side(*height, max_height);
	/* Shrinks the mode until its 60 Hz pixel clock fits, keeping the aspect roughly. */
	while ((ret = edid_build(blob, *width, *height, name)) == -ERANGE) {
		*width = clamp_side(*width - *width / 16, 0);
		*height = clamp_side(*height - *height / 16, 0);
	}
	return ret;
}
