/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef MDEV_VNCD_VNC_CLIENT_H
#define MDEV_VNCD_VNC_CLIENT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "metrics.h"

struct frame_store;
struct input;

/*
 * One VNC client and the thread that serves it: a libvncserver screen of
 * its own whose framebuffer is the client's private copy of the picture,
 * refreshed from the frame store when the display loop reports damage.
 */
struct vnc_client;

/* What all clients sent, for the metrics; owned by the server, updated by client threads. */
struct vnc_stats {
	pthread_mutex_t lock;
	uint64_t frames_sent; /* FramebufferUpdate messages */
	uint64_t bytes_sent;
	struct metrics_histogram encode; /* time to encode and send one turn of updates */
};

struct vnc_client_params {
	int fd;                   /* the accepted socket; ownership passes to the client */
	const char *peer;         /* for the log */
	const char *desktop_name;
	struct frame_store *store;
	struct vnc_stats *stats;  /* may be NULL */
	/* Called from the client's thread as it ends; the owner then joins it. */
	void (*finished)(void *ctx, struct vnc_client *client);
	void *ctx;
	/*
	 * Called from the client's thread when it asks for a desktop size
	 * (ExtendedDesktopSize SetDesktopSize): true when the request was taken
	 * (the guest's mode change then resizes every client), false to refuse
	 * it. NULL refuses every request. Must not block.
	 */
	bool (*size_request)(void *size_ctx, const char *peer, uint32_t width, uint32_t height);
	void *size_ctx;
	/* Where keyboard and pointer go (borrowed); NULL = nowhere. View-only clients never send. */
	struct input *input;
};

int vnc_client_start(const struct vnc_client_params *params, struct vnc_client **out);
/* Asks the thread to end now, even if it is blocked writing to a stalled client. */
void vnc_client_stop(struct vnc_client *client);
/* Waits for the thread and frees everything the client held. */
void vnc_client_join(struct vnc_client *client);

bool vnc_client_finished(const struct vnc_client *client);

#endif
