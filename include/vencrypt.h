/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef MDEV_VNCD_VENCRYPT_H
#define MDEV_VNCD_VENCRYPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The server's side of the RFB handshake up to SecurityResult, with
 * VeNCrypt (security type 19, version 0.2), as bytes only: no sockets, no
 * TLS, no clock. The caller moves the bytes (plain, then inside TLS once
 * the machine asks for it), checks credentials and enforces the timeout.
 * Every byte a client sends is checked before use: lengths are bounded,
 * only offered choices are taken, anything else is a failure with a reason
 * (sent to the client where the protocol has room for one).
 *
 * Reference: the RFB protocol (rfbproto, "VeNCrypt" and "Plain" sections),
 * and QEMU's ui/vnc-auth-vencrypt.c for the server's order of messages.
 */
struct vencrypt;

#define VENCRYPT_SECURITY_TYPE 19u
#define VENCRYPT_X509_NONE 260u
#define VENCRYPT_X509_VNC 261u
#define VENCRYPT_X509_PLAIN 262u
#define VENCRYPT_RFB_NONE 1u
#define VENCRYPT_RFB_VNC 2u
#define VENCRYPT_CHALLENGE_SIZE 16
/* Longer names and passwords are refused before they are read. */
#define VENCRYPT_CREDENTIAL_MAX 255u

/* What the server offers. */
struct vencrypt_offer {
	/* VeNCrypt subtypes in order of preference (X509Plain, X509Vnc, X509None). */
	uint32_t subtypes[3];
	unsigned n_subtypes;
	/* With tls = optional: VNC password (2) or None (1) beside VeNCrypt; 0 = none. */
	uint8_t plain_type;
};

enum vencrypt_step {
	VENCRYPT_NEED_INPUT,  /* vencrypt_wanted() more bytes, after the output is sent */
	VENCRYPT_START_TLS,   /* send the output in the clear, then the TLS handshake */
	VENCRYPT_CHECK,       /* credentials to check: vencrypt_credentials, then _verdict */
	VENCRYPT_DONE,        /* send the output; the client is in: ClientInit comes next */
	VENCRYPT_FAILED,      /* send the output (it may carry the reason), then close */
};

/* What the client chose and sent, for the check. */
struct vencrypt_credentials {
	uint32_t method;  /* VENCRYPT_X509_* or VENCRYPT_RFB_* */
	bool tls;         /* the method runs inside TLS */
	const char *user, *password;                  /* X509Plain */
	const uint8_t *challenge, *response;          /* VNC password: 16 bytes each */
};

/*
 * challenge: 16 random bytes for VNC authentication. NULL when out of
 * memory. The version greeting is the first output.
 */
struct vencrypt *vencrypt_new(const struct vencrypt_offer *offer,
			      const uint8_t challenge[VENCRYPT_CHALLENGE_SIZE]);
/* Wipes the credentials it held. Accepts NULL. */
void vencrypt_free(struct vencrypt *vc);

/* Bytes to send now (they stay until consumed). */
void vencrypt_output(const struct vencrypt *vc, const uint8_t **data, size_t *len);
void vencrypt_output_consumed(struct vencrypt *vc, size_t n);

/* How many bytes the machine reads next; 0 when it waits for something else. */
size_t vencrypt_wanted(const struct vencrypt *vc);
/* Takes len bytes, at most vencrypt_wanted(). */
enum vencrypt_step vencrypt_input(struct vencrypt *vc, const uint8_t *data, size_t len);
/* The TLS handshake that START_TLS asked for is done. */
enum vencrypt_step vencrypt_tls_started(struct vencrypt *vc);
/* Valid at VENCRYPT_CHECK, until the verdict. */
void vencrypt_credentials(const struct vencrypt *vc, struct vencrypt_credentials *out);
/* The check's answer: SecurityResult, with reason (3.8) when refused. */
enum vencrypt_step vencrypt_verdict(struct vencrypt *vc, bool accepted, const char *reason);

/* Why the handshake failed (for the log), "" otherwise. */
const char *vencrypt_error(const struct vencrypt *vc);
/* Whether the chosen method runs inside TLS (valid from VENCRYPT_CHECK on). */
bool vencrypt_uses_tls(const struct vencrypt *vc);

#endif
