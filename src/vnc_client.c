// SPDX-License-Identifier: GPL-2.0-or-later
#include "vnc_client.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <rfb/rfb.h>
#include <rfb/rfbregion.h>

#include "cursor_image.h"
#include "fd_util.h"
#include "frame_store.h"
#include "input.h"
#include "log.h"
#include "vnc_qemu_keys.h"
#include "pixel_shuffle.h"
#include "tight_jpeg.h"

struct vnc_client {
	pthread_t thread;
	int fd;               /* handed to libvncserver, which closes it */
	int shutdown_fd;      /* our dup of the socket: stop() shuts it down without racing a close */
	char peer[64];
	char desktop_name[64];
	struct frame_store *store;
	struct vnc_stats *stats;
	struct frame_reader *reader;
	struct tight_jpeg *tight; /* our encoder for Tight with JPEG */
	rfbScreenInfoPtr screen;
	uint8_t *pixels;      /* the screen's framebuffer, owned here */
	/* The byte order of pixels, and the format the screen declares for it. */
	struct rgb32_layout layout;
	rfbPixelFormat screen_format;
	atomic_bool stop;
	atomic_bool finished;
	void (*finished_cb)(void *ctx, struct vnc_client *client);
	void *ctx;
	bool (*size_request)(void *size_ctx, const char *peer, uint32_t width, uint32_t height);
	void *size_ctx;
	struct input_client *input; /* NULL: input goes nowhere */
};

/* The daemon's picture, XRGB8888: B, G, R, X in memory (little-endian). */
static const rfbPixelFormat picture_format = {
	.bitsPerPixel = 32,
	.depth = 24,
	.bigEndian = FALSE,
	.trueColour = TRUE,
	.redMax = 255,
	.greenMax = 255,
	.blueMax = 255,
	.redShift = 16,
	.greenShift = 8,
	.blueShift = 0,
};

/*
 * rfbNewFramebuffer resets the screen's format to libvncserver's default:
 * put back the one the framebuffer is kept in.
 */
static void set_server_format(struct vnc_client *client)
{
	client->screen->serverFormat = client->screen_format;
}

/*
 * Whether the client's framebuffer can be kept in the format it asked for.
 * libvncserver reads a 32-bit framebuffer as native (little-endian) words
 * with the screen's shifts (cursor blending, Tight's palette) and hands it
 * to TurboJPEG as BGRX or RGBX: so only those two layouts, which are what
 * viewers ask for (libvncclient, noVNC and Remmina: red in the low byte;
 * TigerVNC: the daemon's own). libvncserver translates any other.
 */
static bool layout_for_format(const rfbPixelFormat *f, struct rgb32_layout *out)
{
	struct rgb32_layout l;
	if (f->bigEndian || !rgb32_layout_of(f->bitsPerPixel, f->trueColour, false, f->redMax,
					     f->greenMax, f->blueMax, f->redShift, f->greenShift,
					     f->blueShift, &l))
		return false;
	if (l.green != 1 || (l.red != 0 && l.red != 2))
		return false;
	*out = l;
	return true;
}

/*
 * Puts the framebuffer and the cursor image (both in the screen's format)
 * into a new byte order. Only this thread touches the screen, and the
 * cursor is never drawn into the framebuffer between two updates.
 */
static void relayout(struct vnc_client *client, const struct rgb32_layout *to)
{
	rfbScreenInfoPtr screen = client->screen;
	rgb32_convert(&client->layout, (uint8_t *)screen->frameBuffer,
		      (size_t)screen->paddedWidthInBytes, to, (uint8_t *)screen->frameBuffer,
		      (size_t)screen->paddedWidthInBytes, (uint32_t)screen->width,
		      (uint32_t)screen->height);
	rfbCursorPtr cursor = screen->cursor;
	if (cursor && cursor->richSource)
		rgb32_convert(&client->layout, cursor->richSource, (size_t)cursor->width * 4, to,
			      cursor->richSource, (size_t)cursor->width * 4, cursor->width,
			      cursor->height);
	client->layout = *to;
}

/*
 * libvncserver's hook for a client's SetPixelFormat (and for a new
 * framebuffer whose default format differs from the screen's). A format
 * the framebuffer can be kept in becomes the screen's own, so libvncserver
 * translates nothing: the frame store's copy produces it (libyuv).
 */
static rfbBool take_client_format(rfbClientPtr cl)
{
	struct vnc_client *client = cl->screen->screenData;
	struct rgb32_layout layout = rgb32_xrgb8888;
	rfbPixelFormat format = picture_format;
	if (layout_for_format(&cl->format, &layout))
		format = cl->format;
	if (!rgb32_layout_equal(&layout, &client->layout)) {
		relayout(client, &layout);
		log_info("client %s: framebuffer kept with red in byte %u%s", client->peer,
			 layout.red,
			 rgb32_layout_equal(&layout, &rgb32_xrgb8888) ? "" : ", the client's format");
	}
	client->screen_format = format;
	set_server_format(client);
	return rfbSetTranslateFunction(cl);
}

/* Input goes to the VM when configured (input.h) and the client is not view-only. */
static void forward_key(rfbBool down, rfbKeySym key, rfbClientPtr cl)
{
	struct vnc_client *client = cl->screen->screenData;
	if (client->input && !cl->viewOnly)
		input_client_keysym(client->input, down, key);
}

static void forward_key_code(rfbClientPtr cl, bool down, uint32_t keysym, uint32_t keycode)
{
	struct vnc_client *client = cl->screen->screenData;
	if (client->input && !cl->viewOnly)
		input_client_keycode(client->input, down, keysym, keycode);
}

static bool wants_key_codes(rfbClientPtr cl)
{
	struct vnc_client *client = cl->screen->screenData;
	return client->input != NULL;
}

static const struct vnc_qemu_keys_ops qemu_keys = {
	.wanted = wants_key_codes,
	.key = forward_key_code,
};

/* The guest draws its own cursor position: libvncserver's default handler is not wanted. */
static void forward_pointer(int mask, int x, int y, rfbClientPtr cl)
{
	struct vnc_client *client = cl->screen->screenData;
	if (client->input && !cl->viewOnly)
		input_client_pointer(client->input, (uint32_t)mask, x, y,
				     (uint32_t)cl->screen->width, (uint32_t)cl->screen->height);
}

/*
 * The answer goes back per the protocol: a refusal at once, with its status;
 * an acceptance with the ExtendedDesktopSize that the guest's mode change
 * brings. A request for the current size brings no change, so it is answered
 * with the next update.
 */
static int set_desktop_size(int width, int height, int screens, struct rfbExtDesktopScreen *layout,
			    rfbClientPtr cl)
{
	struct vnc_client *client = cl->screen->screenData;
	if (width <= 0 || height <= 0 || screens < 1)
		return rfbExtDesktopSize_InvalidScreenLayout;
	if (cl->viewOnly || !client->size_request ||
	    !client->size_request(client->size_ctx, client->peer, (uint32_t)width,
				  (uint32_t)height)) {
		log_info("client %s: desktop size %dx%d refused%s", client->peer, width, height,
			 cl->viewOnly ? " (view-only)" : "");
		return rfbExtDesktopSize_ResizeProhibited;
	}
	if (width == cl->screen->width && height == cl->screen->height)
		cl->newFBSizePending = TRUE;
	return rfbExtDesktopSize_Success;
}

/* libvncserver calls this as it is about to send an update: Tight with JPEG is ours to send. */
static void send_own_update(rfbClientPtr cl)
{
	struct vnc_client *client = cl->screen->screenData;
	tight_jpeg_send_update(client->tight, cl);
}

static uint8_t *create_screen(struct vnc_client *client, uint32_t width, uint32_t height)
{
	uint8_t *pixels = page_aligned_zalloc((size_t)height * width * 4);
	if (!pixels)
		return NULL;
	int argc = 0;
	rfbScreenInfoPtr screen = rfbGetScreen(&argc, NULL, (int)width, (int)height, 8, 3, 4);
	if (!screen) {
		free(pixels);
		return NULL;
	}
	screen->frameBuffer = (char *)pixels;
	screen->desktopName = client->desktop_name;
	screen->alwaysShared = TRUE;
	screen->deferUpdateTime = 0;
	screen->kbdAddEvent = forward_key;
	screen->ptrAddEvent = forward_pointer;
	screen->setDesktopSizeHook = set_desktop_size;
	/* No cursor until the device shows one; libvncserver's default is an X. */
	screen->cursor = NULL;
	screen->setTranslateFunction = take_client_format;
	screen->displayHook = send_own_update;
	screen->screenData = client;
	client->screen = screen;
	client->pixels = pixels;
	set_server_format(client);

	rfbNewClient(screen, client->fd);
	/* From here libvncserver owns the socket. */
	client->fd = -1;
	return pixels;
}

static uint8_t *resize_screen(void *ctx, uint32_t width, uint32_t height)
{
	struct vnc_client *client = ctx;
	if (!client->screen)
		return create_screen(client, width, height);

	uint8_t *pixels = page_aligned_zalloc((size_t)height * width * 4);
	if (!pixels)
		return NULL;
	/* Sends DesktopSize / ExtendedDesktopSize to the client. */
	rfbNewFramebuffer(client->screen, (char *)pixels, (int)width, (int)height, 8, 3, 4);
	set_server_format(client);
	free(client->pixels);
	client->pixels = pixels;
	return pixels;
}

static void mark_copied(void *ctx, struct rect r)
{
	struct vnc_client *client = ctx;
	rfbMarkRectAsModified(client->screen, (int)r.x, (int)r.y, (int)(r.x + r.width),
			      (int)(r.y + r.height));
}

/* Runs in the client's thread, the only one that touches its screen. */
static void set_cursor_shape(void *ctx, const struct cursor_image *image)
{
	struct vnc_client *client = ctx;
	rfbCursorPtr cursor = NULL;
	if (image) {
		cursor = cursor_image_to_rfb(image);
		if (!cursor)
			log_warning("%s: out of memory for a %ux%u cursor; showing none",
				    client->peer, image->width, image->height);
		else
			rgb32_convert(&rgb32_xrgb8888, cursor->richSource, (size_t)image->width * 4,
				      &client->layout, cursor->richSource,
				      (size_t)image->width * 4, image->width, image->height);
	}
	/* Frees the previous cursor (libvncserver owns ours) and flags the shape for sending. */
	rfbSetCursor(client->screen, cursor);
}

/* libvncserver has no call for this: PointerPos goes to clients flagged as moved. */
static void move_cursor(void *ctx, int32_t x, int32_t y)
{
	struct vnc_client *client = ctx;
	rfbScreenInfoPtr screen = client->screen;
	LOCK(screen->cursorMutex);
	screen->cursorX = x;
	screen->cursorY = y;
	UNLOCK(screen->cursorMutex);
	rfbClientIteratorPtr it = rfbGetClientIterator(screen);
	for (rfbClientPtr cl = rfbClientIteratorNext(it); cl; cl = rfbClientIteratorNext(it))
		cl->cursorWasMoved = TRUE;
	rfbReleaseClientIterator(it);
}

static double seconds_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* One turn of libvncserver: input, then any update the client asked for; counted for metrics. */
static void process_events(struct vnc_client *client)
{
	rfbClientPtr cl = client->screen->clientHead;
	int updates = cl ? rfbStatGetMessageCountSent(cl, rfbFramebufferUpdate) : 0;
	int bytes = cl ? rfbStatGetSentBytes(cl) : 0;
	double start = seconds_now();
	rfbProcessEvents(client->screen, 0);
	/* The client may be gone, and freed, now. */
	cl = client->screen->clientHead;
	if (cl && client->input)
		vnc_qemu_keys_turn_done(cl);
	if (!cl || !client->stats)
		return;
	int sent = rfbStatGetMessageCountSent(cl, rfbFramebufferUpdate) - updates;
	int sent_bytes = rfbStatGetSentBytes(cl) - bytes;
	if (sent <= 0 && sent_bytes <= 0)
		return;
	struct vnc_stats *stats = client->stats;
	pthread_mutex_lock(&stats->lock);
	stats->frames_sent += sent > 0 ? (uint64_t)sent : 0;
	stats->bytes_sent += sent_bytes > 0 ? (uint64_t)sent_bytes : 0;
	if (sent > 0)
		metrics_histogram_observe(&stats->encode, seconds_now() - start);
	pthread_mutex_unlock(&stats->lock);
}

static bool client_connected(const struct vnc_client *client)
{
	return client->screen && client->screen->clientHead &&
	       client->screen->clientHead->sock != RFB_INVALID_SOCKET;
}

/*
 * Whether the client waits for an update: it asked (FramebufferUpdateRequest)
 * and has not been answered yet, or it has no screen yet (the first picture
 * makes it). Only then is the picture copied when the display loop reports
 * damage; otherwise the damage waits in the reader, merged, and is copied
 * when the client's next request arrives. A client slower than the guest
 * then costs one copy per frame it is sent, not per frame the guest shows.
 */
static bool client_waiting(const struct vnc_client *client)
{
	if (!client->screen || !client->screen->clientHead)
		return true;
	return !sraRgnEmpty(client->screen->clientHead->requestedRegion);
}

static void serve(struct vnc_client *client)
{
	const struct frame_copy_target target = {
		.ctx = client,
		.resize = resize_screen,
		.layout = &client->layout,
		.copied = mark_copied,
		.cursor_shape = set_cursor_shape,
		.cursor_moved = move_cursor,
	};
	int wake_fd = frame_reader_wake_fd(client->reader);

	while (!atomic_load(&client->stop)) {
		struct pollfd fds[2] = {
			{ .fd = client_waiting(client) ? wake_fd : -1, .events = POLLIN },
			{ .fd = client_connected(client) ? client->screen->clientHead->sock : -1,
			  .events = POLLIN },
		};
		if (poll(fds, 2, -1) < 0 && errno != EINTR)
			break;
		/* A message may be the request the copy waited for: copy before libvncserver answers. */
		if ((fds[0].revents & POLLIN) || fds[1].revents)
			frame_reader_sync(client->reader, client->pixels, &target);
		if (!client->screen)
			continue; /* no picture yet: the handshake waits for the first frame */
		process_events(client);
		if (!client_connected(client))
			break;
	}
}

static void *client_thread(void *arg)
{
	struct vnc_client *client = arg;
	serve(client);
	/* Before the loop reaps us: the releases of held keys queue behind our last input. */
	input_client_free(client->input);
	client->input = NULL;
	if (client->screen) {
		rfbScreenCleanup(client->screen);
		client->screen = NULL;
	}
	atomic_store(&client->finished, true);
	client->finished_cb(client->ctx, client);
	return NULL;
}

int vnc_client_start(const struct vnc_client_params *params, struct vnc_client **out)
{
	struct vnc_client *client = calloc(1, sizeof(*client));
	if (!client) {
		close_fd(params->fd);
		return -ENOMEM;
	}
	client->fd = params->fd;
	client->shutdown_fd = fcntl(params->fd, F_DUPFD_CLOEXEC, 0);
	snprintf(client->peer, sizeof(client->peer), "%s", params->peer);
	snprintf(client->desktop_name, sizeof(client->desktop_name), "%s", params->desktop_name);
	client->store = params->store;
	client->stats = params->stats;
	client->finished_cb = params->finished;
	client->ctx = params->ctx;
	client->size_request = params->size_request;
	client->size_ctx = params->size_ctx;
	client->layout = rgb32_xrgb8888;
	client->screen_format = picture_format;
	client->reader = frame_reader_new(params->store);
	client->tight = tight_jpeg_new(client->peer);
	if (params->input) {
		vnc_qemu_keys_register(&qemu_keys);
		client->input = input_client_new(params->input, client->peer);
	}

	int ret = -ENOMEM;
	if (client->shutdown_fd < 0 || !client->reader || !client->tight ||
	    (params->input && !client->input))
		goto fail;
	ret = -pthread_create(&client->thread, NULL, client_thread, client);
	if (ret < 0)
		goto fail;
	*out = client;
	return 0;
fail:
	input_client_free(client->input);
	tight_jpeg_free(client->tight);
	frame_reader_free(client->reader);
	close_fd(client->shutdown_fd);
	close_fd(client->fd);
	free(client);
	return ret;
}

void vnc_client_stop(struct vnc_client *client)
{
	atomic_store(&client->stop, true);
	/* Fails a blocked read or write at once; the thread then sees stop. */
	shutdown(client->shutdown_fd, SHUT_RDWR);
	frame_reader_wake(client->reader);
}

void vnc_client_join(struct vnc_client *client)
{
	pthread_join(client->thread, NULL);
	frame_reader_free(client->reader);
	tight_jpeg_free(client->tight);
	close_fd(client->shutdown_fd);
	close_fd(client->fd); /* still ours if the screen was never created */
	free(client->pixels);
	free(client);
}

bool vnc_client_finished(const struct vnc_client *client)
{
	return atomic_load(&client->finished);
}
