// SPDX-License-Identifier: GPL-2.0-or-later
#include "tight_jpeg.h"

#include <pthread.h>
#include <setjmp.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
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
/* The JPEG an update needs before helper threads are woken for it: two full runs. */
#define SHARED_MIN_PIXELS (2 * MAX_RUN_WIDTH * BAND)
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

/* One libjpeg compressor and the buffer it writes, used by one thread at a time. */
struct compressor {
	struct jpeg_compress_struct cinfo;
	struct jpeg_error_mgr errors;
	struct jpeg_destination_mgr dest;
	jmp_buf failed;
	uint8_t *out;
	size_t out_size;
};

/* What the client asked for, and the layout of its framebuffer. */
struct jpeg_params {
	int quality;
	int chroma; /* index in chroma_factors */
	J_COLOR_SPACE layout;
	unsigned palette_max;
};

/* One rectangle of the update, in the order it is sent. */
struct run {
	int x, y, w, h;
	bool jpeg; /* else sent by libvncserver's Tight encoder */
	enum { RUN_WAITING, RUN_CLAIMED, RUN_DONE } state;
	uint8_t *data; /* the JPEG once done; size 0: it failed, libvncserver sends the run */
	size_t size, capacity;
};

struct helper {
	struct tight_jpeg *enc;
	pthread_t thread;
	struct compressor compressor;
};

struct tight_jpeg {
	struct compressor own; /* the client thread's */
	const char *peer;
	atomic_bool warned; /* a compression failure was logged */
	bool announced;     /* the first update of ours was logged */
	bool helpers_tried;

	/* The update being sent: its runs and the picture they are read from. */
	struct run *runs;
	size_t nruns, runs_capacity;
	const uint8_t *pixels;
	size_t stride;
	struct jpeg_params params;

	/*
	 * Helper threads compress JPEG runs beside the client thread, which
	 * sends them in order as they are done. Under lock: published (runs
	 * the helpers may take; 0 between updates), each run's state, stop.
	 * A claimed run's data belongs to its claimer until it is done.
	 */
	pthread_mutex_t lock;
	pthread_cond_t work, done;
	size_t published, next_waiting;
	bool stop;
	struct helper *helpers;
	unsigned nhelpers;
};

static void on_jpeg_error(j_common_ptr cinfo)
{
	struct compressor *c = cinfo->client_data;
	longjmp(c->failed, 1);
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
	struct compressor *c = cinfo->client_data;
	c->dest.next_output_byte = c->out;
	c->dest.free_in_buffer = c->out_size;
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
static bool create_compressor(struct compressor *c)
{
	c->cinfo.err = jpeg_std_error(&c->errors);
	c->errors.error_exit = on_jpeg_error;
	c->errors.output_message = on_jpeg_message;
	c->cinfo.client_data = c;
	if (setjmp(c->failed)) {
		jpeg_destroy_compress(&c->cinfo);
		return false;
	}
	jpeg_create_compress(&c->cinfo);
	c->dest.init_destination = output_start;
	c->dest.empty_output_buffer = output_full;
	c->dest.term_destination = output_end;
	c->cinfo.dest = &c->dest;
	return true;
}

static bool compressor_init(struct compressor *c)
{
	c->out_size = JPEG_BOUND(MAX_RUN_WIDTH * BAND);
	c->out = malloc(c->out_size);
	if (c->out && create_compressor(c))
		return true;
	free(c->out);
	c->out = NULL;
	return false;
}

static void compressor_done(struct compressor *c)
{
	if (!c->out)
		return;
	jpeg_destroy_compress(&c->cinfo);
	free(c->out);
	c->out = NULL;
}

/*
 * Compresses w x h pixels (w <= MAX_RUN_WIDTH, h <= BAND) into c->out: its
 * size, 0 on failure with libjpeg's message in message.
 */
static size_t compress_jpeg(struct compressor *c, const uint8_t *pixels, size_t stride, int w,
			    int h, const struct jpeg_params *p, char message[JMSG_LENGTH_MAX])
{
	struct jpeg_compress_struct *ci = &c->cinfo;
	JSAMPROW rows[BAND];
	if (setjmp(c->failed)) {
		ci->err->format_message((j_common_ptr)ci, message);
		jpeg_abort_compress(ci);
		return 0;
	}
	ci->image_width = (JDIMENSION)w;
	ci->image_height = (JDIMENSION)h;
	ci->input_components = 4;
	ci->in_color_space = p->layout;
	jpeg_set_defaults(ci);
	jpeg_set_quality(ci, p->quality, TRUE);
	/* As TigerVNC and libvncserver do: the fast DCT's error shows only at the top qualities. */
	ci->dct_method = p->quality >= 96 ? JDCT_ISLOW : JDCT_IFAST;
	ci->comp_info[0].h_samp_factor = chroma_factors[p->chroma].h;
	ci->comp_info[0].v_samp_factor = chroma_factors[p->chroma].v;
	for (int i = 0; i < h; i++)
		rows[i] = (JSAMPROW)(uintptr_t)(pixels + (size_t)i * stride);
	jpeg_start_compress(ci, TRUE);
	jpeg_write_scanlines(ci, rows, (JDIMENSION)h);
	jpeg_finish_compress(ci);
	return c->out_size - c->dest.free_in_buffer;
}

/* Compresses a claimed run with c into the run's own buffer (size 0 on failure). */
static void compress_run(struct tight_jpeg *enc, struct run *r, struct compressor *c)
{
	char message[JMSG_LENGTH_MAX] = "";
	const uint8_t *pixels = enc->pixels + (size_t)r->y * enc->stride + (size_t)r->x * 4;
	size_t size = compress_jpeg(c, pixels, enc->stride, r->w, r->h, &enc->params, message);
	r->size = 0;
	if (size > r->capacity && size <= TIGHT_MAX_LENGTH) {
		uint8_t *data = realloc(r->data, size);
		if (data) {
			r->data = data;
			r->capacity = size;
		} else {
			snprintf(message, sizeof(message), "out of memory");
		}
	}
	if (size > 0 && size <= r->capacity) {
		memcpy(r->data, c->out, size);
		r->size = size;
	} else if (!atomic_exchange(&enc->warned, true)) {
		log_warning("client %s: JPEG compression of %dx%d pixels failed (%s); such "
			    "rectangles go to libvncserver's encoder",
			    enc->peer, r->w, r->h, message[0] ? message : "too large");
	}
}

/* Under lock: the first waiting JPEG run of the update, now claimed; NULL when none is left. */
static struct run *claim_next(struct tight_jpeg *enc)
{
	for (; enc->next_waiting < enc->published; enc->next_waiting++) {
		struct run *r = &enc->runs[enc->next_waiting];
		if (r->jpeg && r->state == RUN_WAITING) {
			r->state = RUN_CLAIMED;
			return r;
		}
	}
	return NULL;
}

/* Under lock, which it drops while compressing. */
static void compress_claimed(struct tight_jpeg *enc, struct run *r, struct compressor *c)
{
	pthread_mutex_unlock(&enc->lock);
	compress_run(enc, r, c);
	pthread_mutex_lock(&enc->lock);
	r->state = RUN_DONE;
	pthread_cond_broadcast(&enc->done);
}

static void *helper_main(void *arg)
{
	struct helper *h = arg;
	struct tight_jpeg *enc = h->enc;
	pthread_mutex_lock(&enc->lock);
	while (!enc->stop) {
		struct run *r = claim_next(enc);
		if (r)
			compress_claimed(enc, r, &h->compressor);
		else
			pthread_cond_wait(&enc->work, &enc->lock);
	}
	pthread_mutex_unlock(&enc->lock);
	return NULL;
}

/*
 * One helper per further CPU, up to 3, started with the client's first JPEG
 * update. Without them (one CPU, or no thread to be had) the client's thread
 * compresses every run itself.
 */
static void start_helpers(struct tight_jpeg *enc)
{
	enc->helpers_tried = true;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned wanted = cpus > 4 ? 3 : cpus > 1 ? (unsigned)cpus - 1 : 0;
	if (wanted == 0)
		return;
	enc->helpers = calloc(wanted, sizeof(*enc->helpers));
	if (!enc->helpers)
		return;
	for (unsigned i = 0; i < wanted; i++) {
		struct helper *h = &enc->helpers[enc->nhelpers];
		h->enc = enc;
		if (!compressor_init(&h->compressor))
			break;
		if (pthread_create(&h->thread, NULL, helper_main, h) != 0) {
			compressor_done(&h->compressor);
			break;
		}
		enc->nhelpers++;
	}
	log_debug("client %s: %u JPEG helper threads", enc->peer, enc->nhelpers);
	if (enc->nhelpers < wanted)
		log_warning("client %s: %u of %u JPEG helper threads started; the client's thread "
			    "compresses the rest", enc->peer, enc->nhelpers, wanted);
}

struct tight_jpeg *tight_jpeg_new(const char *peer)
{
	struct tight_jpeg *enc = calloc(1, sizeof(*enc));
	if (!enc)
		return NULL;
	enc->peer = peer;
	if (!compressor_init(&enc->own)) {
		free(enc);
		return NULL;
	}
	pthread_mutex_init(&enc->lock, NULL);
	pthread_cond_init(&enc->work, NULL);
	pthread_cond_init(&enc->done, NULL);
	return enc;
}

void tight_jpeg_free(struct tight_jpeg *enc)
{
	if (!enc)
		return;
	pthread_mutex_lock(&enc->lock);
	enc->stop = true;
	pthread_cond_broadcast(&enc->work);
	pthread_mutex_unlock(&enc->lock);
	for (unsigned i = 0; i < enc->nhelpers; i++) {
		pthread_join(enc->helpers[i].thread, NULL);
		compressor_done(&enc->helpers[i].compressor);
	}
	free(enc->helpers);
	for (size_t i = 0; i < enc->runs_capacity; i++)
		free(enc->runs[i].data);
	free(enc->runs);
	pthread_cond_destroy(&enc->done);
	pthread_cond_destroy(&enc->work);
	pthread_mutex_destroy(&enc->lock);
	compressor_done(&enc->own);
	free(enc);
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
 * (libvncserver then has no pixels to send), within the framebuffer; NULL
 * when there is none.
 */
static sraRegionPtr take_update_region(rfbClientPtr cl)
{
	sraRegionPtr region = NULL;
	sraRegionPtr screen = sraRgnCreateRect(0, 0, cl->screen->width, cl->screen->height);
	LOCK(cl->updateMutex);
	if (sraRgnEmpty(cl->copyRegion)) {
		region = sraRgnCreateRgn(cl->modifiedRegion);
		sraRgnAnd(region, cl->requestedRegion);
		sraRgnAnd(region, screen);
		if (sraRgnEmpty(region)) {
			sraRgnDestroy(region);
			region = NULL;
		} else {
			sraRgnSubtract(cl->modifiedRegion, region);
			sraRgnMakeEmpty(cl->requestedRegion);
		}
	}
	UNLOCK(cl->updateMutex);
	sraRgnDestroy(screen);
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

/* Appends a run to the update's plan; false when out of memory. */
static bool add_run(struct tight_jpeg *enc, int x, int y, int w, int h, bool jpeg)
{
	if (enc->nruns == enc->runs_capacity) {
		size_t capacity = enc->runs_capacity ? enc->runs_capacity * 2 : 64;
		struct run *runs = realloc(enc->runs, capacity * sizeof(*runs));
		if (!runs)
			return false;
		memset(runs + enc->runs_capacity, 0, (capacity - enc->runs_capacity) * sizeof(*runs));
		enc->runs = runs;
		enc->runs_capacity = capacity;
	}
	struct run *r = &enc->runs[enc->nruns++];
	r->x = x;
	r->y = y;
	r->w = w;
	r->h = h;
	r->jpeg = jpeg;
	r->state = RUN_WAITING;
	r->size = 0;
	return true;
}

/* One run of blocks within a band: libvncserver's exact encodings for few colours, else JPEG. */
static bool plan_run(struct tight_jpeg *enc, int x, int y, int w, int h, bool solid)
{
	const uint8_t *pixels = enc->pixels + (size_t)y * enc->stride + (size_t)x * 4;
	bool jpeg = !solid && tight_jpeg_more_colours_than(pixels, enc->stride, (uint32_t)w,
							   (uint32_t)h, enc->params.palette_max);
	return add_run(enc, x, y, w, h, jpeg);
}

/* Rows y..y+h (within one band) of columns x..x+w, cut into runs of like 32-pixel blocks. */
static bool plan_band(struct tight_jpeg *enc, int x, int y, int w, int h)
{
	const uint8_t *row = enc->pixels + (size_t)y * enc->stride;
	int start = x;
	bool run_solid = false;
	uint32_t run_colour = 0;
	for (int bx = x; bx < x + w;) {
		int end = (bx / BAND + 1) * BAND;
		if (end > x + w)
			end = x + w;
		uint32_t colour = 0;
		bool solid = block_solid(row + (size_t)bx * 4, enc->stride, end - bx, h, &colour);
		bool same = solid == run_solid && (!solid || colour == run_colour);
		if (bx > start && (!same || end - start > MAX_RUN_WIDTH)) {
			if (!plan_run(enc, start, y, bx - start, h, run_solid))
				return false;
			start = bx;
		}
		run_solid = solid;
		run_colour = colour;
		bx = end;
	}
	return plan_run(enc, start, y, x + w - start, h, run_solid);
}

/* The update's runs, band by band; false when out of memory. */
static bool plan_update(struct tight_jpeg *enc, rfbClientPtr cl, sraRegionPtr region)
{
	enc->nruns = 0;
	enc->pixels = (const uint8_t *)cl->screen->frameBuffer;
	enc->stride = (size_t)cl->screen->paddedWidthInBytes;
	sraRectangleIterator *it = sraRgnGetIterator(region);
	sraRect r;
	bool ok = true;
	while (ok && sraRgnIteratorNext(it, &r))
		for (int top = r.y1; ok && top < r.y2;) {
			int bottom = (top / BAND + 1) * BAND;
			if (bottom > r.y2)
				bottom = r.y2;
			ok = plan_band(enc, r.x1, top, r.x2 - r.x1, bottom - top);
			top = bottom;
		}
	sraRgnReleaseIterator(it);
	return ok;
}

/*
 * The helpers may take the planned runs, when there is enough JPEG to
 * share: waking a thread costs more than compressing one small tile.
 */
static void publish(struct tight_jpeg *enc)
{
	size_t jpeg_pixels = 0;
	for (size_t i = 0; i < enc->nruns; i++)
		if (enc->runs[i].jpeg)
			jpeg_pixels += (size_t)enc->runs[i].w * (size_t)enc->runs[i].h;
	if (enc->nhelpers == 0 || jpeg_pixels < SHARED_MIN_PIXELS)
		return;
	pthread_mutex_lock(&enc->lock);
	enc->published = enc->nruns;
	enc->next_waiting = 0;
	pthread_cond_broadcast(&enc->work);
	pthread_mutex_unlock(&enc->lock);
}

/* Waits for run r to be compressed, compressing it or a later run meanwhile. */
static void wait_run(struct tight_jpeg *enc, struct run *r)
{
	pthread_mutex_lock(&enc->lock);
	while (r->state != RUN_DONE) {
		struct run *next = r;
		if (r->state == RUN_WAITING)
			r->state = RUN_CLAIMED;
		else
			next = claim_next(enc);
		if (next)
			compress_claimed(enc, next, &enc->own);
		else
			pthread_cond_wait(&enc->done, &enc->lock);
	}
	pthread_mutex_unlock(&enc->lock);
}

/*
 * Ends the update for the helpers: runs not taken are dropped, and it waits
 * for those being compressed, so the picture is the client thread's again.
 */
static void end_update(struct tight_jpeg *enc)
{
	pthread_mutex_lock(&enc->lock);
	for (;;) {
		bool busy = false;
		for (size_t i = 0; i < enc->published; i++) {
			if (enc->runs[i].state == RUN_WAITING)
				enc->runs[i].state = RUN_DONE;
			busy = busy || enc->runs[i].state == RUN_CLAIMED;
		}
		if (!busy)
			break;
		pthread_cond_wait(&enc->done, &enc->lock);
	}
	enc->published = 0;
	pthread_mutex_unlock(&enc->lock);
}

/* The runs in order, each JPEG as soon as it is compressed. */
static bool send_runs(struct tight_jpeg *enc, rfbClientPtr cl)
{
	for (size_t i = 0; i < enc->nruns; i++) {
		struct run *r = &enc->runs[i];
		if (r->jpeg)
			wait_run(enc, r);
		bool ok = r->jpeg && r->size > 0
				  ? send_jpeg(cl, r->x, r->y, r->w, r->h, r->data, r->size)
				  : rfbSendRectEncodingTight(cl, r->x, r->y, r->w, r->h);
		if (!ok)
			return false;
	}
	return true;
}

/* Without a plan (out of memory): libvncserver's encoder for the whole region. */
static bool send_unplanned(rfbClientPtr cl, sraRegionPtr region)
{
	sraRectangleIterator *it = sraRgnGetIterator(region);
	sraRect r;
	bool ok = true;
	while (ok && sraRgnIteratorNext(it, &r))
		ok = rfbSendRectEncodingTight(cl, r.x1, r.y1, r.x2 - r.x1, r.y2 - r.y1);
	sraRgnReleaseIterator(it);
	return ok;
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
static bool send_update(struct tight_jpeg *enc, rfbClientPtr cl, sraRegionPtr region)
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
	bool ok;
	if (plan_update(enc, cl, region)) {
		publish(enc);
		ok = send_runs(enc, cl);
		end_update(enc);
	} else {
		ok = send_unplanned(cl, region);
	}
	return ok && rfbSendLastRectMarker(cl) && rfbSendUpdateBuf(cl);
}

bool tight_jpeg_send_update(struct tight_jpeg *enc, rfbClientPtr cl)
{
	if (!enc || !jpeg_params_of(cl, &enc->params) || !update_is_plain(cl))
		return false;
	sraRegionPtr region = take_update_region(cl);
	if (!region)
		return false;
	if (!enc->announced)
		log_debug("client %s: Tight with JPEG quality %d, chroma %dx%d, encoded by the daemon",
			  enc->peer, enc->params.quality, chroma_factors[enc->params.chroma].h,
			  chroma_factors[enc->params.chroma].v);
	enc->announced = true;
	if (!enc->helpers_tried)
		start_helpers(enc);
	send_update(enc, cl, region);
	sraRgnDestroy(region);
	return true;
}
