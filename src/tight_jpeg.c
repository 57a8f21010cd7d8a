// SPDX-License-Identifier: GPL-2.0-or-later
#include "tight_jpeg.h"

#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jpeglib.h>
#include <jerror.h>
#include <rfb/rfbregion.h>

#include "log.h"

/*
 * Rows per rectangle, and the width of the blocks searched for one colour:
 * a multiple of every JPEG block height (8 rows, 16 with 4:2:0), so no
 * rectangle but the picture's last pads a partial block row.
 */
#define BAND 32
/* With BAND rows, 65536 pixels: what libvncserver's Tight sends at most, and
 * what libvncclient's 16-bit JPEG path has room for. */
#define MAX_RUN_WIDTH 2048
/* libjpeg-turbo's bound for a compressed picture (tjBufSize): 6 bytes a pixel, plus headers. */
#define JPEG_BOUND(pixels) ((size_t)(pixels) * 6 + 2048)
/* The largest length Tight's compact length field holds. */
#define TIGHT_MAX_LENGTH 0x3FFFFF

/*
 * libvncserver 0.9.14's colours per palette with JPEG on (tight.c,
 * palMaxColorsWithJPEG), for its compression levels 1 and 2 (it clamps the
 * client's level to those with JPEG): fewer colours than that are sent
 * exactly, as a palette.
 */
#define PALETTE_MAX_LEVEL1 24
#define PALETTE_MAX_LEVEL2 96

/* Luma block per chroma sample, by libvncserver's turboSubsampLevel (1X, 4X, 2X). */
static const struct {
	int h, v;
} chroma_factors[] = { { 1, 1 }, { 2, 2 }, { 2, 1 } };

struct tight_jpeg {
	struct jpeg_compress_struct cinfo;
	struct jpeg_error_mgr errors;
	struct jpeg_destination_mgr dest;
	jmp_buf failed;
	uint8_t *out; /* one compressed rectangle */
	size_t out_size;
	const char *peer;
	bool warned;    /* a compression failure was logged */
	bool announced; /* the first update of ours was logged */
};

/* What the client asked for, and the layout of its framebuffer. */
struct jpeg_params {
	int quality;
	int chroma; /* index in chroma_factors */
	J_COLOR_SPACE layout;
	unsigned palette_max;
};

static void on_jpeg_error(j_common_ptr cinfo)
{
	struct tight_jpeg *enc = cinfo->client_data;
	longjmp(enc->failed, 1);
}

/* libjpeg's warnings (none is expected from compression): not to stderr. */
static void on_jpeg_message(j_common_ptr cinfo)
{
	char message[JMSG_LENGTH_MAX];
	cinfo->err->format_message(cinfo, message);
	log_debug("libjpeg: %s", message);
}

static void output_start(j_compress_ptr cinfo)
{
	struct tight_jpeg *enc = cinfo->client_data;
	enc->dest.next_output_byte = enc->out;
	enc->dest.free_in_buffer = enc->out_size;
}

/* The buffer holds the worst case: running out of it is an error, never a reason to grow. */
static boolean output_full(j_compress_ptr cinfo)
{
	ERREXIT(cinfo, JERR_BUFFER_SIZE);
	return FALSE;
}

static void output_end(j_compress_ptr cinfo)
{
	(void)cinfo;
}

/* jpeg_create_compress fails only when libjpeg runs out of memory. */
static bool create_compressor(struct tight_jpeg *enc)
{
	enc->cinfo.err = jpeg_std_error(&enc->errors);
	enc->errors.error_exit = on_jpeg_error;
	enc->errors.output_message = on_jpeg_message;
	enc->cinfo.client_data = enc;
	if (setjmp(enc->failed)) {
		jpeg_destroy_compress(&enc->cinfo);
		return false;
	}
	jpeg_create_compress(&enc->cinfo);
	enc->dest.init_destination = output_start;
	enc->dest.empty_output_buffer = output_full;
	enc->dest.term_destination = output_end;
	enc->cinfo.dest = &enc->dest;
	return true;
}

struct tight_jpeg *tight_jpeg_new(const char *peer)
{
	struct tight_jpeg *enc = calloc(1, sizeof(*enc));
	if (!enc)
		return NULL;
	enc->peer = peer;
	enc->out_size = JPEG_BOUND(MAX_RUN_WIDTH * BAND);
	enc->out = malloc(enc->out_size);
	if (!enc->out || !create_compressor(enc)) {
		free(enc->out);
		free(enc);
		return NULL;
	}
	return enc;
}

void tight_jpeg_free(struct tight_jpeg *enc)
{
	if (!enc)
		return;
	jpeg_destroy_compress(&enc->cinfo);
	free(enc->out);
	free(enc);
}

/* Compresses w x h pixels (w <= MAX_RUN_WIDTH, h <= BAND) into enc->out: its size, 0 on failure. */
static size_t compress_jpeg(struct tight_jpeg *enc, const uint8_t *pixels, size_t stride, int w, int h,
		       const struct jpeg_params *p)
{
	struct jpeg_compress_struct *c = &enc->cinfo;
	JSAMPROW rows[BAND];
	if (setjmp(enc->failed)) {
		char message[JMSG_LENGTH_MAX];
		c->err->format_message((j_common_ptr)c, message);
		jpeg_abort_compress(c);
		if (!enc->warned)
			log_warning("client %s: JPEG compression of %dx%d pixels failed (%s); "
				    "such rectangles go to libvncserver's encoder",
				    enc->peer, w, h, message);
		enc->warned = true;
		return 0;
	}
	c->image_width = (JDIMENSION)w;
	c->image_height = (JDIMENSION)h;
	c->input_components = 4;
	c->in_color_space = p->layout;
	jpeg_set_defaults(c);
	jpeg_set_quality(c, p->quality, TRUE);
	/* As TigerVNC and libvncserver do: the fast DCT's error shows only at the top qualities. */
	c->dct_method = p->quality >= 96 ? JDCT_ISLOW : JDCT_IFAST;
	c->comp_info[0].h_samp_factor = chroma_factors[p->chroma].h;
	c->comp_info[0].v_samp_factor = chroma_factors[p->chroma].v;
	for (int i = 0; i < h; i++)
		rows[i] = (JSAMPROW)(uintptr_t)(pixels + (size_t)i * stride);
	jpeg_start_compress(c, TRUE);
	jpeg_write_scanlines(c, rows, (JDIMENSION)h);
	jpeg_finish_compress(c);
	return enc->out_size - enc->dest.free_in_buffer;
}

/* A pixel without its padding byte (the top byte in both layouts served). */
static inline uint32_t rgb_at(const uint8_t *pixel)
{
	uint32_t v;
	memcpy(&v, pixel, sizeof(v));
	return v & 0xffffff;
}

bool tight_jpeg_more_colours_than(const uint8_t *pixels, size_t stride, uint32_t w, uint32_t h,
				  unsigned limit)
{
	/* Open addressing, at most 129 of 256 slots used. */
	uint32_t keys[256];
	bool used[256] = { false };
	unsigned count = 0;
	uint32_t last = UINT32_MAX; /* no colour: colours have 24 bits */
	for (uint32_t y = 0; y < h; y++) {
		const uint8_t *row = pixels + (size_t)y * stride;
		for (uint32_t x = 0; x < w; x++) {
			uint32_t c = rgb_at(row + (size_t)x * 4);
			if (c == last)
				continue;
			last = c;
			unsigned slot = (c * 2654435761u) >> 24;
			while (used[slot] && keys[slot] != c)
				slot = (slot + 1) & 255;
			if (used[slot])
				continue;
			if (++count > limit)
				return true;
			used[slot] = true;
			keys[slot] = c;
		}
	}
	return false;
}

static bool block_solid(const uint8_t *pixels, size_t stride, int w, int h, uint32_t *colour)
{
	uint32_t first = rgb_at(pixels);
	for (int y = 0; y < h; y++)
		for (int x = 0; x < w; x++)
			if (rgb_at(pixels + (size_t)y * stride + (size_t)x * 4) != first)
				return false;
	*colour = first;
	return true;
}

/*
 * The encodings the client asked for allow our JPEG (and its framebuffer,
 * the screen's, is one that libjpeg reads as it is).
 */
static bool jpeg_params_of(rfbClientPtr cl, struct jpeg_params *p)
{
	const rfbPixelFormat *f = &cl->screen->serverFormat;
	if (cl->preferredEncoding != rfbEncodingTight || cl->turboQualityLevel < 1 ||
	    cl->turboQualityLevel > 100 || cl->turboSubsampLevel < 0 ||
	    cl->turboSubsampLevel >= (int)(sizeof(chroma_factors) / sizeof(chroma_factors[0])) ||
	    !cl->enableLastRectEncoding || cl->scaledScreen != cl->screen)
		return false;
	if (f->bitsPerPixel != 32 || f->bigEndian || f->redMax != 255 || f->greenMax != 255 ||
	    f->blueMax != 255 || f->greenShift != 8)
		return false;
	if (f->redShift == 16 && f->blueShift == 0)
		p->layout = JCS_EXT_BGRX;
	else if (f->redShift == 0 && f->blueShift == 16)
		p->layout = JCS_EXT_RGBX;
	else
		return false;
	p->quality = cl->turboQualityLevel;
	p->chroma = cl->turboSubsampLevel;
	p->palette_max = cl->tightCompressLevel <= 1 ? PALETTE_MAX_LEVEL1 : PALETTE_MAX_LEVEL2;
	return true;
}

/*
 * Nothing in this update needs libvncserver's own path: a new framebuffer
 * size, a cursor it draws into the picture, its once-only pseudo-rectangles.
 */
static bool update_is_plain(rfbClientPtr cl)
{
	return !(cl->useNewFBSize && cl->newFBSizePending) &&
	       (cl->enableCursorShapeUpdates || !cl->screen->cursor) &&
	       !cl->enableSupportedMessages && !cl->enableSupportedEncodings &&
	       !cl->enableServerIdentity &&
	       !(cl->enableKeyboardLedState && cl->screen->getKeyboardLedStateHook);
}

/*
 * The part of the modified region the client asked for, taken out of both
 * (libvncserver then has no pixels to send); NULL when there is none.
 */
static sraRegionPtr take_update_region(rfbClientPtr cl)
{
	sraRegionPtr region = NULL;
	LOCK(cl->updateMutex);
	if (sraRgnEmpty(cl->copyRegion)) {
		region = sraRgnCreateRgn(cl->modifiedRegion);
		sraRgnAnd(region, cl->requestedRegion);
		if (sraRgnEmpty(region)) {
			sraRgnDestroy(region);
			region = NULL;
		} else {
			sraRgnSubtract(cl->modifiedRegion, region);
			sraRgnMakeEmpty(cl->requestedRegion);
		}
	}
	UNLOCK(cl->updateMutex);
	return region;
}

static bool send_jpeg(rfbClientPtr cl, int x, int y, int w, int h, uint8_t *data, size_t size)
{
	if (!rfbSendTightHeader(cl, x, y, w, h))
		return false;
	/* The subencoding byte and up to 3 bytes of length, as rfbSendCompressedDataTight needs. */
	if (cl->ublen + 4 > UPDATE_BUF_SIZE && !rfbSendUpdateBuf(cl))
		return false;
	cl->updateBuf[cl->ublen++] = (char)(rfbTightJpeg << 4);
	rfbStatRecordEncodingSentAdd(cl, rfbEncodingTight, 1);
	return rfbSendCompressedDataTight(cl, (char *)data, (int)size);
}

/* One run of blocks within a band: libvncserver's exact encodings for few colours, else JPEG. */
static bool send_run(struct tight_jpeg *enc, rfbClientPtr cl, int x, int y, int w, int h,
		     bool solid, const struct jpeg_params *p)
{
	size_t stride = (size_t)cl->screen->paddedWidthInBytes;
	const uint8_t *pixels =
		(const uint8_t *)cl->screen->frameBuffer + (size_t)y * stride + (size_t)x * 4;
	if (solid || !tight_jpeg_more_colours_than(pixels, stride, (uint32_t)w, (uint32_t)h,
						   p->palette_max))
		return rfbSendRectEncodingTight(cl, x, y, w, h);
	size_t size = compress_jpeg(enc, pixels, stride, w, h, p);
	if (size == 0 || size > TIGHT_MAX_LENGTH)
		return rfbSendRectEncodingTight(cl, x, y, w, h);
	return send_jpeg(cl, x, y, w, h, enc->out, size);
}

/* Rows y..y+h (within one band) of columns x..x+w, cut into runs of like 32-pixel blocks. */
static bool send_band(struct tight_jpeg *enc, rfbClientPtr cl, int x, int y, int w, int h,
		      const struct jpeg_params *p)
{
	size_t stride = (size_t)cl->screen->paddedWidthInBytes;
	const uint8_t *row = (const uint8_t *)cl->screen->frameBuffer + (size_t)y * stride;
	int start = x;
	bool run_solid = false;
	uint32_t run_colour = 0;
	for (int bx = x; bx < x + w;) {
		int end = (bx / BAND + 1) * BAND;
		if (end > x + w)
			end = x + w;
		uint32_t colour = 0;
		bool solid = block_solid(row + (size_t)bx * 4, stride, end - bx, h, &colour);
		bool same = solid == run_solid && (!solid || colour == run_colour);
		if (bx > start && (!same || end - start > MAX_RUN_WIDTH)) {
			if (!send_run(enc, cl, start, y, bx - start, h, run_solid, p))
				return false;
			start = bx;
		}
		run_solid = solid;
		run_colour = colour;
		bx = end;
	}
	return send_run(enc, cl, start, y, x + w - start, h, run_solid, p);
}

static bool send_rect(struct tight_jpeg *enc, rfbClientPtr cl, const sraRect *r,
		      const struct jpeg_params *p)
{
	for (int top = r->y1; top < r->y2;) {
		int bottom = (top / BAND + 1) * BAND;
		if (bottom > r->y2)
			bottom = r->y2;
		if (!send_band(enc, cl, r->x1, top, r->x2 - r->x1, bottom - top, p))
			return false;
		top = bottom;
	}
	return true;
}

/* The cursor's shape and position, when they changed, as libvncserver would send them. */
static bool send_cursor(rfbClientPtr cl)
{
	if (cl->enableCursorShapeUpdates && cl->cursorWasChanged &&
	    cl->readyForSetColourMapEntries) {
		cl->cursorWasChanged = FALSE;
		if (!rfbSendCursorShape(cl))
			return false;
	}
	if (cl->enableCursorPosUpdates && cl->cursorWasMoved) {
		cl->cursorWasMoved = FALSE;
		if (!rfbSendCursorPos(cl))
			return false;
	}
	return true;
}

/* One FramebufferUpdate, its rectangles ended by a LastRect marker. A failed write closed the client. */
static bool send_update(struct tight_jpeg *enc, rfbClientPtr cl, sraRegionPtr region,
			const struct jpeg_params *p)
{
	if (cl->ublen > 0 && !rfbSendUpdateBuf(cl))
		return false;
	rfbFramebufferUpdateMsg *fu = (rfbFramebufferUpdateMsg *)cl->updateBuf;
	fu->type = rfbFramebufferUpdate;
	fu->pad = 0;
	fu->nRects = Swap16IfLE(0xFFFF);
	cl->ublen = sz_rfbFramebufferUpdateMsg;
	rfbStatRecordMessageSent(cl, rfbFramebufferUpdate, 0, 0);
	cl->tightEncoding = rfbEncodingTight;
	if (!send_cursor(cl))
		return false;
	sraRectangleIterator *it = sraRgnGetIterator(region);
	sraRect r;
	bool ok = true;
	while (ok && sraRgnIteratorNext(it, &r))
		ok = send_rect(enc, cl, &r, p);
	sraRgnReleaseIterator(it);
	return ok && rfbSendLastRectMarker(cl) && rfbSendUpdateBuf(cl);
}

bool tight_jpeg_send_update(struct tight_jpeg *enc, rfbClientPtr cl)
{
	struct jpeg_params p;
	if (!enc || !jpeg_params_of(cl, &p) || !update_is_plain(cl))
		return false;
	sraRegionPtr region = take_update_region(cl);
	if (!region)
		return false;
	if (!enc->announced)
		log_debug("client %s: Tight with JPEG quality %d, chroma %dx%d, encoded by the daemon",
			  enc->peer, p.quality, chroma_factors[p.chroma].h, chroma_factors[p.chroma].v);
	enc->announced = true;
	send_update(enc, cl, region, &p);
	sraRgnDestroy(region);
	return true;
}
