// SPDX-License-Identifier: GPL-2.0-or-later
#include "vnc_qemu_keys.h"

#include <arpa/inet.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

/* What follows the message type byte (rfbproto.h's rfbQemuExtendedKeyEventMsg). */
#define QEMU_KEY_BODY (sz_rfbQemuExtendedKeyEventMsg - 1)
#define QEMU_SUBTYPE_KEY 0

static pthread_mutex_t register_lock = PTHREAD_MUTEX_INITIALIZER;
static const struct vnc_qemu_keys_ops *registered;
static rfbProtocolExtension extension;

/* Per client, owned by libvncserver's extension list (freed in close_client). */
struct qemu_keys_client {
	bool ack_pending;
};

static rfbBool new_client(rfbClientPtr cl, void **data)
{
	if (!registered->wanted(cl))
		return FALSE;
	*data = calloc(1, sizeof(struct qemu_keys_client));
	return *data != NULL;
}

static void close_client(rfbClientPtr cl, void *data)
{
	free(data);
}

/* The acknowledgement QEMU sends: an update with one empty rectangle of encoding -258. */
static rfbBool send_ack(rfbClientPtr cl)
{
	struct {
		rfbFramebufferUpdateMsg update;
		rfbFramebufferUpdateRectHeader rect;
	} __attribute__((packed)) ack;
	memset(&ack, 0, sizeof(ack));
	ack.update.type = rfbFramebufferUpdate;
	ack.update.nRects = htons(1);
	ack.rect.encoding = htonl(rfbEncodingQemuExtendedKeyEvent);
	_Static_assert(sizeof(ack) == sz_rfbFramebufferUpdateMsg + sz_rfbFramebufferUpdateRectHeader,
		       "ack layout");

	LOCK(cl->sendMutex);
	int ret = rfbWriteExact(cl, (const char *)&ack, sizeof(ack));
	UNLOCK(cl->sendMutex);
	if (ret < 0) {
		rfbCloseClient(cl);
		return FALSE;
	}
	return TRUE;
}

/* The acknowledgement waits for the end of the turn (vnc_qemu_keys_turn_done). */
static rfbBool enable_encoding(rfbClientPtr cl, void **data, int encoding)
{
	/* A view-only client keeps to plain key events, which go nowhere. */
	if (encoding != (int)rfbEncodingQemuExtendedKeyEvent || cl->viewOnly)
		return FALSE;
	struct qemu_keys_client *keys = *data;
	keys->ack_pending = true;
	return TRUE;
}

void vnc_qemu_keys_turn_done(rfbClientPtr cl)
{
	struct qemu_keys_client *keys = rfbGetExtensionClientData(cl, &extension);
	/*
	 * libvncclient takes the SupportedMessages rectangle that libvncserver
	 * sends with its next update as the whole list of what the server
	 * accepts, forgetting the acknowledgement if it came first.
	 */
	if (!keys || !keys->ack_pending || cl->enableSupportedMessages)
		return;
	keys->ack_pending = false;
	if (send_ack(cl))
		log_debug("client %s: extended key events on", cl->host);
}

static rfbBool handle_message(rfbClientPtr cl, void *data, const rfbClientToServerMsg *msg)
{
	if (msg->type != rfbQemuEvent)
		return FALSE;
	uint8_t body[QEMU_KEY_BODY];
	int n = rfbReadExact(cl, (char *)body, sizeof(body));
	if (n <= 0) {
		if (n < 0)
			rfbLogPerror("QEMU extended key event: read");
		rfbCloseClient(cl);
		return TRUE;
	}
	if (body[0] != QEMU_SUBTYPE_KEY) {
		/* Audio (subtype 1) was never offered: the stream cannot be followed. */
		log_warning("client %s dropped: QEMU message subtype %u, which was not offered",
			    cl->host, body[0]);
		rfbCloseClient(cl);
		return TRUE;
	}
	uint16_t down;
	uint32_t keysym, keycode;
	memcpy(&down, body + 1, sizeof(down));
	memcpy(&keysym, body + 3, sizeof(keysym));
	memcpy(&keycode, body + 7, sizeof(keycode));
	if (!cl->viewOnly)
		registered->key(cl, ntohs(down) != 0, ntohl(keysym), ntohl(keycode));
	return TRUE;
}


/* No pseudoEncodings list: only clients that wanted() it ever see the encoding acknowledged. */
static rfbProtocolExtension extension = {
	.newClient = new_client,
	.enablePseudoEncoding = enable_encoding,
	.handleMessage = handle_message,
	.close = close_client,
};

void vnc_qemu_keys_register(const struct vnc_qemu_keys_ops *ops)
{
	pthread_mutex_lock(&register_lock);
	if (!registered) {
		registered = ops;
		rfbRegisterProtocolExtension(&extension);
	}
	pthread_mutex_unlock(&register_lock);
}
