// SPDX-License-Identifier: GPL-2.0-or-later
#include "placeholder.h"

#include <endian.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "font.h"

#define BACKGROUND 0x1c1f24u
#define TITLE_COLOR 0xf0f0f0u
#define DETAIL_COLOR 0xc8c8c8u
#define INSTANCE_COLOR 0x8a9099u

struct kind_style {
	const char *title;
	uint32_t accent;
};

static const struct kind_style styles[] = {
	[PLACEHOLDER_NO_SIGNAL] = { "No signal", 0x5a8deeu },
	[PLACEHOLDER_CANNOT_MAP] = { "Cannot map the display buffer", 0xe8a33du },
	[PLACEHOLDER_UNSUPPORTED_FORMAT] = { "Unsupported format", 0xc678ddu },
	[PLACEHOLDER_BAD_PLANE] = { "Bad plane", 0xe06c75u },
	[PLACEHOLDER_DEVICE_LOST] = { "Device lost", 0x98c379u },
};

struct line {
	const char *text;
	unsigned scale;
	uint32_t xrgb;
};

struct canvas {
	uint8_t *pixels;
	size_t stride;
	uint32_t width;
	uint32_t height;
};

static int64_t clamp(int64_t v, int64_t lo, int64_t hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

/* Fills the part of [x0, x1) x [y0, y1) that lies inside the canvas. */
static void fill_rect(const struct canvas *c, int64_t x0, int64_t y0, int64_t x1, int64_t y1,
		      uint32_t xrgb)
{
	const uint32_t le = htole32(xrgb);
	size_t from, bytes;
	uint8_t *first;

	x0 = clamp(x0, 0, c->width);
	x1 = clamp(x1, 0, c->width);
	y0 = clamp(y0, 0, c->height);
	y1 = clamp(y1, 0, c->height);
	if (x0 >= x1 || y0 >= y1)
		return;
	from = (size_t)x0 * 4;
	bytes = (size_t)(x1 - x0) * 4;
	first = c->pixels + (size_t)y0 * c->stride;
	for (size_t i = from; i < from + bytes; i += 4)
		memcpy(first + i, &le, 4);
	for (int64_t y = y0 + 1; y < y1; y++)
		memcpy(c->pixels + (size_t)y * c->stride + from, first + from, bytes);
}

/* 1 at 640x480 and below, growing with the picture so text stays readable. */
static unsigned base_scale(uint32_t width, uint32_t height)
{
	unsigned scale = width / 512 < height / 384 ? width / 512 : height / 384;

	return scale ? scale : 1;
}

/* Shrinks the line until it fits room, down to scale 1. */
static void fit(struct line *line, int64_t room)
{
	while (line->scale > 1 && font_text_width(line->text, line->scale) > room)
		line->scale--;
}

/* Centered when it fits, else from the left margin so its start stays readable. */
static int64_t line_left(const struct line *line, uint32_t width, int64_t margin)
{
	int64_t text_width = font_text_width(line->text, line->scale);

	if (text_width <= (int64_t)width - 2 * margin)
		return ((int64_t)width - text_width) / 2;
	return margin;
}

static void draw_line(const struct canvas *c, const struct line *line, int64_t x, int64_t y)
{
	font_draw_text(c->pixels, c->stride, c->width, c->height, (int)clamp(x, INT_MIN, INT_MAX),
		       (int)clamp(y, INT_MIN, INT_MAX), line->scale, line->xrgb, line->text);
}

struct layout {
	unsigned base;	 /* scale of the detail and instance lines */
	int64_t margin;	 /* pixels kept free left and right when text fits */
	uint32_t accent; /* the rule under the title tells the kinds apart at a glance */
};

/* The title, a rule in the kind's accent colour under it, then the other lines. */
static void draw_lines(const struct canvas *c, const struct layout *l, const struct line *lines,
		       size_t count)
{
	const int64_t gap = font_height(l->base) / 2;
	const int64_t rule = 2 * (int64_t)l->base;
	int64_t y = rule - gap;

	for (size_t i = 0; i < count; i++)
		y += font_height(lines[i].scale) + gap;
	y = ((int64_t)c->height - y) / 2;

	for (size_t i = 0; i < count; i++) {
		const struct line *line = &lines[i];
		int64_t x = line_left(line, c->width, l->margin);

		draw_line(c, line, x, y);
		y += font_height(line->scale) + gap / 2;
		if (i == 0) {
			fill_rect(c, x, y, x + font_text_width(line->text, line->scale), y + rule,
				  l->accent);
			y += rule;
		}
		y += gap - gap / 2;
	}
}

void placeholder_draw(uint8_t *pixels, size_t stride, uint32_t width, uint32_t height,
		      enum placeholder_kind kind, const char *instance, const char *detail)
{
	const struct canvas c = { pixels, stride, width, height };
	const struct kind_style *style;
	struct layout l = { .base = base_scale(width, height) };
	struct line lines[3];
	size_t count = 0;

	if (!pixels)
		return;
	style = (unsigned)kind < sizeof(styles) / sizeof(styles[0]) ? &styles[kind]
								     : &styles[PLACEHOLDER_BAD_PLANE];
	l.accent = style->accent;
	l.margin = clamp(8 * (int64_t)l.base, 0, width / 16);
	lines[count++] = (struct line){ style->title, 2 * l.base, TITLE_COLOR };
	if (detail && *detail)
		lines[count++] = (struct line){ detail, l.base, DETAIL_COLOR };
	if (instance && *instance)
		lines[count++] = (struct line){ instance, l.base, INSTANCE_COLOR };
	for (size_t i = 0; i < count; i++)
		fit(&lines[i], (int64_t)width - 2 * l.margin);

	fill_rect(&c, 0, 0, width, height, BACKGROUND);
	draw_lines(&c, &l, lines, count);
}

void placeholder_format_detail(char *buf, size_t size, uint32_t fourcc, uint64_t modifier)
{
	char name[5];

	for (unsigned i = 0; i < 4; i++) {
		char ch = (char)(fourcc >> (8 * i));

		name[i] = ch >= ' ' && ch <= '~' ? ch : '?';
	}
	name[4] = '\0';
	if (size)
		snprintf(buf, size, "%s modifier 0x%016" PRIx64, name, modifier);
}
