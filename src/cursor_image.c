// SPDX-License-Identifier: GPL-2.0-or-later
#include "cursor_image.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <rfb/rfb.h>

struct rect_box {
	uint32_t x0, y0, x1, y1; /* x1, y1 exclusive */
};

void cursor_image_done(struct cursor_image *image)
{
	free(image->argb);
	memset(image, 0, sizeof(*image));
}

/*
 * rfbSendCursorShape gives up (and fails the whole update) when header,
 * colours, pixels at the client's depth (at most 32 bpp) and mask exceed
 * one update buffer.
 */
bool cursor_size_fits_vnc(uint32_t width, uint32_t height)
{
	size_t mask = (size_t)(width + 7) / 8 * height;
	size_t data = (size_t)width * height * 4;
	return sz_rfbFramebufferUpdateRectHeader + sz_rfbXCursorColors + mask + data <=
	       UPDATE_BUF_SIZE;
}

static uint32_t pixel_at(const uint8_t *pixels, size_t stride, uint32_t x, uint32_t y)
{
	uint32_t p;
	memcpy(&p, pixels + y * stride + (size_t)x * 4, sizeof(p));
	return p;
}

/* The box of pixels with alpha != 0; empty (x1 == 0) when there is none. */
static struct rect_box visible_box(const uint8_t *pixels, size_t stride, uint32_t width,
				   uint32_t height)
{
	struct rect_box box = { .x0 = width, .y0 = height };
	for (uint32_t y = 0; y < height; y++) {
		for (uint32_t x = 0; x < width; x++) {
			if (!(pixel_at(pixels, stride, x, y) >> 24))
				continue;
			box.x0 = x < box.x0 ? x : box.x0;
			box.x1 = x + 1 > box.x1 ? x + 1 : box.x1;
			box.y0 = y < box.y0 ? y : box.y0;
			box.y1 = y + 1 > box.y1 ? y + 1 : box.y1;
		}
	}
	return box;
}

/* Premultiplied colours average correctly channel by channel, alpha included. */
static uint32_t box_average(const uint8_t *pixels, size_t stride, uint32_t x0, uint32_t y0,
			    uint32_t x1, uint32_t y1)
{
	uint32_t sum[4] = { 0 };
	for (uint32_t y = y0; y < y1; y++) {
		for (uint32_t x = x0; x < x1; x++) {
			uint32_t p = pixel_at(pixels, stride, x, y);
			for (int c = 0; c < 4; c++)
				sum[c] += (p >> (8 * c)) & 0xff;
		}
	}
	uint32_t n = (x1 - x0) * (y1 - y0), out = 0;
	for (int c = 0; c < 4; c++)
		out |= ((sum[c] + n / 2) / n) << (8 * c);
	return out;
}

static uint32_t div_up(uint32_t a, uint32_t b)
{
	return (a + b - 1) / b;
}

void cursor_hotspot_default(uint32_t *x_hot, uint32_t *y_hot, uint32_t width, uint32_t height)
{
	if (*x_hot >= width || *y_hot >= height)
		*x_hot = *y_hot = 0;
}

int cursor_image_fit(const uint8_t *pixels, size_t stride, uint32_t width, uint32_t height,
		     uint32_t x_hot, uint32_t y_hot, struct cursor_image *out)
{
	memset(out, 0, sizeof(*out));
	cursor_hotspot_default(&x_hot, &y_hot, width, height);
	struct rect_box box = visible_box(pixels, stride, width, height);
	if (box.x1 == 0)
		return 0;
	/* The hotspot must stay inside: RFB hotspots are unsigned. */
	box.x0 = x_hot < box.x0 ? x_hot : box.x0;
	box.y0 = y_hot < box.y0 ? y_hot : box.y0;
	box.x1 = x_hot + 1 > box.x1 ? x_hot + 1 : box.x1;
	box.y1 = y_hot + 1 > box.y1 ? y_hot + 1 : box.y1;

	uint32_t crop_w = box.x1 - box.x0, crop_h = box.y1 - box.y0, k = 1;
	while (!cursor_size_fits_vnc(div_up(crop_w, k), div_up(crop_h, k)))
		k++;
	out->width = div_up(crop_w, k);
	out->height = div_up(crop_h, k);
	out->argb = malloc((size_t)out->width * out->height * 4);
	if (!out->argb) {
		memset(out, 0, sizeof(*out));
		return -ENOMEM;
	}
	out->x_hot = (x_hot - box.x0) / k;
	out->y_hot = (y_hot - box.y0) / k;
	for (uint32_t y = 0; y < out->height; y++) {
		uint32_t sy = box.y0 + y * k, sy1 = sy + k < box.y1 ? sy + k : box.y1;
		for (uint32_t x = 0; x < out->width; x++) {
			uint32_t sx = box.x0 + x * k, sx1 = sx + k < box.x1 ? sx + k : box.x1;
			out->argb[y * out->width + x] =
				k == 1 ? pixel_at(pixels, stride, sx, sy)
				       : box_average(pixels, stride, sx, sy, sx1, sy1);
		}
	}
	return 0;
}

static uint32_t unpremultiply(uint32_t argb)
{
	uint32_t a = argb >> 24, out = 0;
	if (a == 0 || a == 255)
		return argb & 0x00ffffff;
	for (int c = 0; c < 3; c++) {
		uint32_t v = (((argb >> (8 * c)) & 0xff) * 255 + a / 2) / a;
		out |= (v > 255 ? 255 : v) << (8 * c);
	}
	return out;
}

struct rfbCursor *cursor_image_to_rfb(const struct cursor_image *image)
{
	uint32_t w = image->width, h = image->height, row = (w + 7) / 8;
	rfbCursorPtr c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	uint32_t *rich = malloc((size_t)w * h * 4);
	c->alphaSource = malloc((size_t)w * h);
	c->mask = calloc(row, h);
	c->richSource = (unsigned char *)rich;
	/* rfbFreeCursor frees what these flags name, and the struct itself. */
	c->cleanup = c->cleanupRichSource = c->cleanupMask = c->cleanupSource = TRUE;
	if (!rich || !c->alphaSource || !c->mask) {
		rfbFreeCursor(c);
		return NULL;
	}
	c->width = (unsigned short)w;
	c->height = (unsigned short)h;
	c->xhot = (unsigned short)image->x_hot;
	c->yhot = (unsigned short)image->y_hot;
	c->alphaPreMultiplied = FALSE;
	for (uint32_t y = 0; y < h; y++) {
		for (uint32_t x = 0; x < w; x++) {
			uint32_t p = image->argb[y * w + x];
			uint8_t a = (uint8_t)(p >> 24);
			/* The server format is XRGB8888 in host order: this store is its pixel. */
			rich[y * w + x] = unpremultiply(p);
			c->alphaSource[y * w + x] = a;
			if (a >= 128)
				c->mask[y * row + x / 8] |= (unsigned char)(0x80 >> (x % 8));
		}
	}
	return c;
}
