// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The VeNCrypt handshake machine, byte by byte: each method's way through,
 * the refusals (with the reasons the protocol carries), and hostile bytes:
 * garbage greetings, choices never offered, oversized lengths, NULs, extra
 * bytes, and random streams that must never get past the check.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "vencrypt.h"

static const uint8_t challenge[VENCRYPT_CHALLENGE_SIZE] = "0123456789abcdef";

static const struct vencrypt_offer all_x509 = {
	.subtypes = { VENCRYPT_X509_PLAIN, VENCRYPT_X509_VNC, VENCRYPT_X509_NONE },
	.n_subtypes = 3,
};

/* Takes all output; its bytes go to out (may be NULL), their count is returned. */
static size_t drain(struct vencrypt *vc, uint8_t *out, size_t size)
{
	const uint8_t *data;
	size_t len;
	vencrypt_output(vc, &data, &len);
	assert_true(!out || len <= size);
	if (out)
		memcpy(out, data, len);
	vencrypt_output_consumed(vc, len);
	return len;
}

/* Feeds len bytes one at a time, as a slow network would; the last step. */
static enum vencrypt_step feed(struct vencrypt *vc, const void *bytes, size_t len)
{
	const uint8_t *p = bytes;
	enum vencrypt_step step = VENCRYPT_NEED_INPUT;
	for (size_t i = 0; i < len; i++) {
		assert_int_equal(step, VENCRYPT_NEED_INPUT);
		assert_true(vencrypt_wanted(vc) >= 1);
		step = vencrypt_input(vc, p + i, 1);
	}
	return step;
}

static void be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* Version 3.8, VeNCrypt, version 0.2, then subtype: up to START_TLS (or the refusal). */
static enum vencrypt_step negotiate(struct vencrypt *vc, uint32_t subtype)
{
	uint8_t out[64];
	assert_int_equal(drain(vc, out, sizeof(out)), 12);
	assert_memory_equal(out, "RFB 003.008\n", 12);
	assert_int_equal(feed(vc, "RFB 003.008\n", 12), VENCRYPT_NEED_INPUT);
	assert_int_equal(drain(vc, out, sizeof(out)), 2);
	assert_int_equal(out[0], 1);
	assert_int_equal(out[1], VENCRYPT_SECURITY_TYPE);
	assert_int_equal(feed(vc, "\x13", 1), VENCRYPT_NEED_INPUT);
	assert_int_equal(drain(vc, out, sizeof(out)), 2);
	assert_memory_equal(out, "\x00\x02", 2);
	assert_int_equal(feed(vc, "\x00\x02", 2), VENCRYPT_NEED_INPUT);
	size_t n = drain(vc, out, sizeof(out));
	assert_int_equal(out[0], 0);
	assert_int_equal(n, 2 + 4u * out[1]);
	uint8_t choice[4];
	be32(choice, subtype);
	return feed(vc, choice, 4);
}

static void test_x509_plain(void **state)
{
	struct vencrypt *vc = vencrypt_new(&all_x509, challenge);
	assert_int_equal(negotiate(vc, VENCRYPT_X509_PLAIN), VENCRYPT_START_TLS);
	uint8_t out[64];
	assert_int_equal(drain(vc, out, sizeof(out)), 1);
	assert_int_equal(out[0], 1);
	assert_int_equal(vencrypt_tls_started(vc), VENCRYPT_NEED_INPUT);
	uint8_t msg[8 + 5 + 6];
	be32(msg, 5);
	be32(msg + 4, 6);
	memcpy(msg + 8, "alicesecret", 11);
	assert_int_equal(feed(vc, msg, sizeof(msg)), VENCRYPT_CHECK);
	struct vencrypt_credentials c;
	vencrypt_credentials(vc, &c);
	assert_int_equal(c.method, VENCRYPT_X509_PLAIN);
	assert_true(c.tls);
	assert_string_equal(c.user, "alice");
	assert_string_equal(c.password, "secret");
	assert_int_equal(vencrypt_verdict(vc, true, NULL), VENCRYPT_DONE);
	assert_int_equal(drain(vc, out, sizeof(out)), 4);
	assert_memory_equal(out, "\0\0\0\0", 4);
	assert_int_equal(vencrypt_wanted(vc), 0);
	vencrypt_free(vc);
}

static void test_x509_vnc_refused_with_reason(void **state)
{
	struct vencrypt *vc = vencrypt_new(&all_x509, challenge);
	assert_int_equal(negotiate(vc, VENCRYPT_X509_VNC), VENCRYPT_START_TLS);
	drain(vc, NULL, 0);
	assert_int_equal(vencrypt_tls_started(vc), VENCRYPT_NEED_INPUT);
	uint8_t out[64];
	assert_int_equal(drain(vc, out, sizeof(out)), VENCRYPT_CHALLENGE_SIZE);
	assert_memory_equal(out, challenge, VENCRYPT_CHALLENGE_SIZE);
	assert_int_equal(feed(vc, "FEDCBA9876543210", 16), VENCRYPT_CHECK);
	struct vencrypt_credentials c;
	vencrypt_credentials(vc, &c);
	assert_int_equal(c.method, VENCRYPT_X509_VNC);
	assert_memory_equal(c.response, "FEDCBA9876543210", 16);
	assert_int_equal(vencrypt_verdict(vc, false, "Wrong password"), VENCRYPT_FAILED);
	size_t n = drain(vc, out, sizeof(out));
	assert_int_equal(n, 4 + 4 + 14);
	assert_memory_equal(out, "\0\0\0\1\0\0\0\x0eWrong password", n);
	assert_string_equal(vencrypt_error(vc), "Wrong password");
	vencrypt_free(vc);
}

static void test_x509_none(void **state)
{
	const struct vencrypt_offer none = { .subtypes = { VENCRYPT_X509_NONE }, .n_subtypes = 1 };
	struct vencrypt *vc = vencrypt_new(&none, challenge);
	assert_int_equal(negotiate(vc, VENCRYPT_X509_NONE), VENCRYPT_START_TLS);
	drain(vc, NULL, 0);
	assert_int_equal(vencrypt_tls_started(vc), VENCRYPT_CHECK);
	assert_int_equal(vencrypt_verdict(vc, true, NULL), VENCRYPT_DONE);
	vencrypt_free(vc);
}

/* A subtype that exists but was not offered is refused (u8 0) before any TLS. */
static void test_subtype_not_offered(void **state)
{
	const struct vencrypt_offer plain = { .subtypes = { VENCRYPT_X509_PLAIN }, .n_subtypes = 1 };
	struct vencrypt *vc = vencrypt_new(&plain, challenge);
	assert_int_equal(negotiate(vc, VENCRYPT_X509_NONE), VENCRYPT_FAILED);
	uint8_t out[8];
	assert_int_equal(drain(vc, out, sizeof(out)), 1);
	assert_int_equal(out[0], 0);
	assert_non_null(strstr(vencrypt_error(vc), "not offered"));
	/* Nothing more is taken once failed. */
	assert_int_equal(vencrypt_wanted(vc), 0);
	assert_int_equal(vencrypt_input(vc, (const uint8_t *)"x", 1), VENCRYPT_FAILED);
	vencrypt_free(vc);
}

/* tls = required: a client that wants only None or the VNC password gets a refusal. */
static void test_plain_types_refused_when_required(void **state)
{
	for (uint8_t type = 1; type <= 2; type++) {
		struct vencrypt *vc = vencrypt_new(&all_x509, challenge);
		drain(vc, NULL, 0);
		feed(vc, "RFB 003.008\n", 12);
		drain(vc, NULL, 0);
		assert_int_equal(feed(vc, &type, 1), VENCRYPT_FAILED);
		uint8_t out[64];
		size_t n = drain(vc, out, sizeof(out));
		assert_true(n > 8);
		assert_memory_equal(out, "\0\0\0\1", 4);
		vencrypt_free(vc);
	}
}

/* tls = optional: the VNC password in the clear is offered beside VeNCrypt. */
static void test_optional_vnc_password(void **state)
{
	struct vencrypt_offer offer = all_x509;
	offer.plain_type = VENCRYPT_RFB_VNC;
	struct vencrypt *vc = vencrypt_new(&offer, challenge);
	drain(vc, NULL, 0);
	feed(vc, "RFB 003.007\n", 12);
	uint8_t out[64];
	assert_int_equal(drain(vc, out, sizeof(out)), 3);
	assert_memory_equal(out, "\x02\x13\x02", 3);
	assert_int_equal(feed(vc, "\x02", 1), VENCRYPT_NEED_INPUT);
	assert_int_equal(drain(vc, out, sizeof(out)), 16);
	assert_int_equal(feed(vc, challenge, 16), VENCRYPT_CHECK);
	assert_false(vencrypt_uses_tls(vc));
	/* 3.7: a failed SecurityResult carries no reason. */
	assert_int_equal(vencrypt_verdict(vc, false, "Wrong password"), VENCRYPT_FAILED);
	assert_int_equal(drain(vc, out, sizeof(out)), 4);
	vencrypt_free(vc);
}

static void test_rfb_33_refused_with_reason(void **state)
{
	struct vencrypt *vc = vencrypt_new(&all_x509, challenge);
	drain(vc, NULL, 0);
	assert_int_equal(feed(vc, "RFB 003.003\n", 12), VENCRYPT_FAILED);
	uint8_t out[256];
	size_t n = drain(vc, out, sizeof(out));
	assert_true(n > 8);
	assert_memory_equal(out, "\0\0\0\0", 4);
	uint32_t len = (uint32_t)out[4] << 24 | out[5] << 16 | out[6] << 8 | out[7];
	assert_int_equal(len, n - 8);
	assert_non_null(memmem(out + 8, len, "3.7", 3));
	vencrypt_free(vc);
}

static void test_garbage_greetings(void **state)
{
	static const char *const greetings[] = {
		"GET / HTTP/1", "RFB 003.00x\n", "RFB 003.008 ", "RFB 004.001\n", "RFB-003.008\n",
		"\0\0\0\0\0\0\0\0\0\0\0\0",
	};
	for (size_t i = 0; i < sizeof(greetings) / sizeof(greetings[0]); i++) {
		struct vencrypt *vc = vencrypt_new(&all_x509, challenge);
		drain(vc, NULL, 0);
		assert_int_equal(feed(vc, greetings[i], 12), VENCRYPT_FAILED);
		assert_int_equal(drain(vc, NULL, 0), 0);
		assert_true(vencrypt_error(vc)[0]);
		vencrypt_free(vc);
	}
}

static void test_bad_vencrypt_version(void **state)
{
	struct vencrypt *vc = vencrypt_new(&all_x509, challenge);
	drain(vc, NULL, 0);
	feed(vc, "RFB 003.008\n", 12);
	drain(vc, NULL, 0);
	feed(vc, "\x13", 1);
	drain(vc, NULL, 0);
	assert_int_equal(feed(vc, "\x00\x01", 2), VENCRYPT_FAILED);
	uint8_t out[4];
	assert_int_equal(drain(vc, out, sizeof(out)), 1);
	assert_int_not_equal(out[0], 0);
	vencrypt_free(vc);
}

/* Lengths over the limit are refused before a byte of the names is read. */
static void test_plain_hostile_lengths(void **state)
{
	static const uint32_t lengths[][2] = { { 256, 1 }, { 1, 256 }, { 0xffffffffu, 0 } };
	for (size_t i = 0; i < 3; i++) {
		struct vencrypt *vc = vencrypt_new(&all_x509, challenge);
		negotiate(vc, VENCRYPT_X509_PLAIN);
		drain(vc, NULL, 0);
		vencrypt_tls_started(vc);
		uint8_t msg[8];
		be32(msg, lengths[i][0]);
		be32(msg + 4, lengths[i][1]);
		assert_int_equal(feed(vc, msg, 8), VENCRYPT_FAILED);
		uint8_t out[64];
		assert_true(drain(vc, out, sizeof(out)) > 8);
		assert_memory_equal(out, "\0\0\0\1", 4);
		vencrypt_free(vc);
	}
}

static void test_plain_nul_and_overfeed(void **state)
{
	struct vencrypt *vc = vencrypt_new(&all_x509, challenge);
	negotiate(vc, VENCRYPT_X509_PLAIN);
	drain(vc, NULL, 0);
	vencrypt_tls_started(vc);
	uint8_t msg[8 + 4] = { 0, 0, 0, 2, 0, 0, 0, 2, 'a', '\0', 'p', 'w' };
	assert_int_equal(feed(vc, msg, sizeof(msg)), VENCRYPT_FAILED);
	vencrypt_free(vc);

	/* More bytes than the message at hand is a failure, never an overflow. */
	vc = vencrypt_new(&all_x509, challenge);
	drain(vc, NULL, 0);
	uint8_t big[64] = "RFB 003.008\n";
	assert_int_equal(vencrypt_input(vc, big, sizeof(big)), VENCRYPT_FAILED);
	assert_int_equal(vencrypt_verdict(vc, true, NULL), VENCRYPT_FAILED);
	assert_int_equal(vencrypt_tls_started(vc), VENCRYPT_FAILED);
	vencrypt_free(vc);
}

/*
 * Random bytes in random slices, a random TLS start and verdicts that always
 * refuse: the machine must never reach DONE, never want more than it can
 * hold, and never queue more output than its buffer.
 */
static void test_random_streams(void **state)
{
	srand(1234);
	for (int round = 0; round < 20000; round++) {
		struct vencrypt_offer offer = all_x509;
		offer.plain_type = (uint8_t)(rand() % 3);
		struct vencrypt *vc = vencrypt_new(&offer, challenge);
		enum vencrypt_step step = VENCRYPT_NEED_INPUT;
		/* A valid start half of the time, so the later states see random bytes too. */
		if (rand() % 2)
			step = vencrypt_input(vc, (const uint8_t *)"RFB 003.008\n", 12);
		if (step == VENCRYPT_NEED_INPUT && rand() % 2)
			step = vencrypt_input(vc, (const uint8_t *)"\x13", 1);
		for (int i = 0; i < 64 && step != VENCRYPT_FAILED; i++) {
			drain(vc, NULL, 0);
			if (step == VENCRYPT_START_TLS) {
				step = vencrypt_tls_started(vc);
				continue;
			}
			if (step == VENCRYPT_CHECK) {
				step = vencrypt_verdict(vc, false, "no");
				continue;
			}
			assert_int_equal(step, VENCRYPT_NEED_INPUT);
			size_t want = vencrypt_wanted(vc);
			assert_true(want >= 1 && want <= 2 * VENCRYPT_CREDENTIAL_MAX);
			uint8_t bytes[8];
			size_t n = 1 + (size_t)rand() % sizeof(bytes);
			for (size_t j = 0; j < n; j++)
				bytes[j] = (uint8_t)(rand() % 4 ? rand() : rand() % 4);
			step = vencrypt_input(vc, bytes, n < want ? n : want);
		}
		assert_int_not_equal(step, VENCRYPT_DONE);
		vencrypt_free(vc);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_x509_plain),
		cmocka_unit_test(test_x509_vnc_refused_with_reason),
		cmocka_unit_test(test_x509_none),
		cmocka_unit_test(test_subtype_not_offered),
		cmocka_unit_test(test_plain_types_refused_when_required),
		cmocka_unit_test(test_optional_vnc_password),
		cmocka_unit_test(test_rfb_33_refused_with_reason),
		cmocka_unit_test(test_garbage_greetings),
		cmocka_unit_test(test_bad_vencrypt_version),
		cmocka_unit_test(test_plain_hostile_lengths),
		cmocka_unit_test(test_plain_nul_and_overfeed),
		cmocka_unit_test(test_random_streams),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
