// SPDX-License-Identifier: GPL-2.0-or-later
#include "vencrypt.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VERSION_SIZE 12 /* "RFB xxx.yyy\n" */
#define REASON_MAX 160
/* The longest output: a SecurityResult or refusal with its reason. */
#define OUTPUT_MAX (8 + REASON_MAX)

enum state {
	ST_VERSION,
	ST_SECURITY_TYPE,
	ST_VENCRYPT_VERSION,
	ST_SUBTYPE,
	ST_TLS,
	ST_PLAIN_LENGTHS,
	ST_PLAIN_DATA,
	ST_VNC_RESPONSE,
	ST_CHECK,
	ST_DONE,
	ST_FAILED,
};

struct vencrypt {
	struct vencrypt_offer offer;
	enum state state;
	unsigned minor; /* 7 or 8, once the client's version is read */
	uint32_t method;
	uint8_t challenge[VENCRYPT_CHALLENGE_SIZE];
	uint8_t response[VENCRYPT_CHALLENGE_SIZE];
	uint32_t user_len, password_len;
	char user[VENCRYPT_CREDENTIAL_MAX + 1], password[VENCRYPT_CREDENTIAL_MAX + 1];
	/* The message being read: want bytes in total, have so far. */
	uint8_t in[2 * VENCRYPT_CREDENTIAL_MAX];
	size_t want, have;
	uint8_t out[OUTPUT_MAX];
	size_t out_len, out_off;
	char error[REASON_MAX];
};

static void put(struct vencrypt *vc, const void *data, size_t len)
{
	/*
	 * The caller sends the output before it feeds more input, so one step's
	 * output is queued at most: the longest, a refusal with its reason, fits.
	 * Were that broken, the message is cut here rather than memory overrun.
	 */
	if (len > sizeof(vc->out) - vc->out_len)
		len = sizeof(vc->out) - vc->out_len;
	memcpy(vc->out + vc->out_len, data, len);
	vc->out_len += len;
}

static void put_u8(struct vencrypt *vc, uint8_t v)
{
	put(vc, &v, 1);
}

static void put_u32(struct vencrypt *vc, uint32_t v)
{
	const uint8_t be[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8),
				(uint8_t)v };
	put(vc, be, 4);
}

static uint32_t get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put_reason(struct vencrypt *vc, const char *reason)
{
	size_t len = strnlen(reason, REASON_MAX);
	put_u32(vc, (uint32_t)len);
	put(vc, reason, len);
}

static enum vencrypt_step expect(struct vencrypt *vc, enum state state, size_t bytes)
{
	vc->state = state;
	vc->want = bytes;
	vc->have = 0;
	return VENCRYPT_NEED_INPUT;
}

static enum vencrypt_step fail(struct vencrypt *vc, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The end: the log's reason is recorded; any output queued so far still goes out. */
static enum vencrypt_step fail(struct vencrypt *vc, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(vc->error, sizeof(vc->error), fmt, ap);
	va_end(ap);
	vc->state = ST_FAILED;
	vc->want = vc->have = 0;
	return VENCRYPT_FAILED;
}

/* SecurityResult "failed", with the reason from 3.8 on. */
static enum vencrypt_step refuse(struct vencrypt *vc, const char *reason)
{
	put_u32(vc, 1);
	if (vc->minor >= 8)
		put_reason(vc, reason);
	return fail(vc, "%s", reason);
}

static int digits3(const uint8_t *p)
{
	int v = 0;
	for (int i = 0; i < 3; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		v = v * 10 + (p[i] - '0');
	}
	return v;
}

static enum vencrypt_step take_version(struct vencrypt *vc)
{
	const uint8_t *v = vc->in;
	int major = digits3(v + 4), minor = digits3(v + 8);
	if (memcmp(v, "RFB ", 4) != 0 || v[7] != '.' || v[11] != '\n' || major < 0 || minor < 0)
		return fail(vc, "not an RFB client: its greeting is no protocol version");
	if (major != 3)
		return fail(vc, "RFB version %d.%d is not supported", major, minor);
	if (minor < 7) {
		/* 3.3: the server picks the type; 0 means refused, with a reason. */
		put_u32(vc, 0);
		put_reason(vc, "This server needs VeNCrypt (TLS): RFB 3.7 or later");
		return fail(vc, "RFB 3.%d client refused: VeNCrypt needs 3.7 or later", minor);
	}
	/* As libvncserver: 3.8 and anything later (Apple's 3.889) speak 3.8. */
	vc->minor = minor >= 8 ? 8 : 7;
	uint8_t types[2] = { VENCRYPT_SECURITY_TYPE, vc->offer.plain_type };
	uint8_t n = vc->offer.plain_type ? 2 : 1;
	put_u8(vc, n);
	put(vc, types, n);
	return expect(vc, ST_SECURITY_TYPE, 1);
}

static enum vencrypt_step ask_vnc_response(struct vencrypt *vc)
{
	put(vc, vc->challenge, sizeof(vc->challenge));
	return expect(vc, ST_VNC_RESPONSE, sizeof(vc->response));
}

static enum vencrypt_step check(struct vencrypt *vc)
{
	vc->state = ST_CHECK;
	vc->want = 0;
	return VENCRYPT_CHECK;
}

static enum vencrypt_step take_security_type(struct vencrypt *vc)
{
	uint8_t type = vc->in[0];
	if (type == VENCRYPT_SECURITY_TYPE) {
		put_u8(vc, 0);
		put_u8(vc, 2);
		return expect(vc, ST_VENCRYPT_VERSION, 2);
	}
	if (type == 0 || type != vc->offer.plain_type)
		return refuse(vc, "Security type not offered");
	vc->method = type;
	return type == VENCRYPT_RFB_VNC ? ask_vnc_response(vc) : check(vc);
}

static enum vencrypt_step take_vencrypt_version(struct vencrypt *vc)
{
	if (vc->in[0] != 0 || vc->in[1] != 2) {
		put_u8(vc, 0xff);
		return fail(vc, "VeNCrypt version %u.%u is not supported (0.2 is)", vc->in[0],
			    vc->in[1]);
	}
	put_u8(vc, 0);
	put_u8(vc, (uint8_t)vc->offer.n_subtypes);
	for (unsigned i = 0; i < vc->offer.n_subtypes; i++)
		put_u32(vc, vc->offer.subtypes[i]);
	return expect(vc, ST_SUBTYPE, 4);
}

static enum vencrypt_step take_subtype(struct vencrypt *vc)
{
	uint32_t subtype = get_u32(vc->in);
	for (unsigned i = 0; i < vc->offer.n_subtypes; i++) {
		if (vc->offer.subtypes[i] == subtype) {
			vc->method = subtype;
			put_u8(vc, 1); /* go ahead with TLS */
			vc->state = ST_TLS;
			vc->want = 0;
			return VENCRYPT_START_TLS;
		}
	}
	put_u8(vc, 0);
	return fail(vc, "VeNCrypt subtype %u was not offered", subtype);
}

static enum vencrypt_step take_plain_lengths(struct vencrypt *vc)
{
	vc->user_len = get_u32(vc->in);
	vc->password_len = get_u32(vc->in + 4);
	if (vc->user_len > VENCRYPT_CREDENTIAL_MAX || vc->password_len > VENCRYPT_CREDENTIAL_MAX)
		return refuse(vc, "User name or password too long");
	if (vc->user_len + vc->password_len == 0)
		return check(vc);
	return expect(vc, ST_PLAIN_DATA, vc->user_len + vc->password_len);
}

static enum vencrypt_step take_plain_data(struct vencrypt *vc)
{
	/* A NUL would cut the string short of what the client sent: refused, not truncated. */
	if (memchr(vc->in, '\0', vc->user_len + vc->password_len))
		return refuse(vc, "User name or password holds a NUL byte");
	memcpy(vc->user, vc->in, vc->user_len);
	vc->user[vc->user_len] = '\0';
	memcpy(vc->password, vc->in + vc->user_len, vc->password_len);
	vc->password[vc->password_len] = '\0';
	explicit_bzero(vc->in, sizeof(vc->in));
	return check(vc);
}

struct vencrypt *vencrypt_new(const struct vencrypt_offer *offer,
			      const uint8_t challenge[VENCRYPT_CHALLENGE_SIZE])
{
	struct vencrypt *vc = calloc(1, sizeof(*vc));
	if (!vc)
		return NULL;
	vc->offer = *offer;
	if (vc->offer.n_subtypes > 3)
		vc->offer.n_subtypes = 3;
	memcpy(vc->challenge, challenge, sizeof(vc->challenge));
	put(vc, "RFB 003.008\n", VERSION_SIZE);
	expect(vc, ST_VERSION, VERSION_SIZE);
	return vc;
}

void vencrypt_free(struct vencrypt *vc)
{
	if (!vc)
		return;
	explicit_bzero(vc, sizeof(*vc));
	free(vc);
}

void vencrypt_output(const struct vencrypt *vc, const uint8_t **data, size_t *len)
{
	*data = vc->out + vc->out_off;
	*len = vc->out_len - vc->out_off;
}

void vencrypt_output_consumed(struct vencrypt *vc, size_t n)
{
	if (n > vc->out_len - vc->out_off)
		n = vc->out_len - vc->out_off;
	vc->out_off += n;
	if (vc->out_off == vc->out_len)
		vc->out_off = vc->out_len = 0;
}

size_t vencrypt_wanted(const struct vencrypt *vc)
{
	return vc->want - vc->have;
}

static enum vencrypt_step take_message(struct vencrypt *vc)
{
	switch (vc->state) {
	case ST_VERSION:
		return take_version(vc);
	case ST_SECURITY_TYPE:
		return take_security_type(vc);
	case ST_VENCRYPT_VERSION:
		return take_vencrypt_version(vc);
	case ST_SUBTYPE:
		return take_subtype(vc);
	case ST_PLAIN_LENGTHS:
		return take_plain_lengths(vc);
	case ST_PLAIN_DATA:
		return take_plain_data(vc);
	case ST_VNC_RESPONSE:
		memcpy(vc->response, vc->in, sizeof(vc->response));
		return check(vc);
	default:
		return fail(vc, "input in the wrong state");
	}
}

static enum vencrypt_step current_step(const struct vencrypt *vc)
{
	switch (vc->state) {
	case ST_TLS:
		return VENCRYPT_START_TLS;
	case ST_CHECK:
		return VENCRYPT_CHECK;
	case ST_DONE:
		return VENCRYPT_DONE;
	case ST_FAILED:
		return VENCRYPT_FAILED;
	default:
		return VENCRYPT_NEED_INPUT;
	}
}

enum vencrypt_step vencrypt_input(struct vencrypt *vc, const uint8_t *data, size_t len)
{
	if (vc->want == 0)
		return len ? fail(vc, "bytes where none were expected") : current_step(vc);
	if (len > vc->want - vc->have)
		return fail(vc, "more bytes than the message holds");
	memcpy(vc->in + vc->have, data, len);
	vc->have += len;
	if (vc->have < vc->want)
		return VENCRYPT_NEED_INPUT;
	vc->want = vc->have = 0;
	return take_message(vc);
}

enum vencrypt_step vencrypt_tls_started(struct vencrypt *vc)
{
	if (vc->state != ST_TLS)
		return fail(vc, "TLS started in the wrong state");
	switch (vc->method) {
	case VENCRYPT_X509_PLAIN:
		return expect(vc, ST_PLAIN_LENGTHS, 8);
	case VENCRYPT_X509_VNC:
		return ask_vnc_response(vc);
	default:
		return check(vc);
	}
}

void vencrypt_credentials(const struct vencrypt *vc, struct vencrypt_credentials *out)
{
	*out = (struct vencrypt_credentials){
		.method = vc->method,
		.tls = vencrypt_uses_tls(vc),
		.user = vc->user,
		.password = vc->password,
		.challenge = vc->challenge,
		.response = vc->response,
	};
}

enum vencrypt_step vencrypt_verdict(struct vencrypt *vc, bool accepted, const char *reason)
{
	if (vc->state != ST_CHECK)
		return fail(vc, "verdict in the wrong state");
	explicit_bzero(vc->password, sizeof(vc->password));
	if (!accepted)
		return refuse(vc, reason && reason[0] ? reason : "Authentication failed");
	/* 3.7 has no SecurityResult after None; every other method has one. */
	if (!(vc->minor == 7 && vc->method == VENCRYPT_RFB_NONE))
		put_u32(vc, 0);
	vc->state = ST_DONE;
	return VENCRYPT_DONE;
}

const char *vencrypt_error(const struct vencrypt *vc)
{
	return vc->error;
}

bool vencrypt_uses_tls(const struct vencrypt *vc)
{
	return vc->method >= VENCRYPT_X509_NONE;
}
