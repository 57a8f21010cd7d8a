// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer harness for the VeNCrypt handshake machine: the bytes stand for
 * what a hostile client sends, fed in slices whose sizes come from the input
 * too. The first byte picks the offer; a verdict always refuses, so no input
 * may ever reach VENCRYPT_DONE.
 */
#include <stdlib.h>

#include "vencrypt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t challenge[VENCRYPT_CHALLENGE_SIZE] = { 0 };
	if (size < 1)
		return 0;
	struct vencrypt_offer offer = {
		.subtypes = { VENCRYPT_X509_PLAIN, VENCRYPT_X509_VNC, VENCRYPT_X509_NONE },
		.n_subtypes = 1u + data[0] % 3u,
		.plain_type = (uint8_t)(data[0] / 3u % 3u),
	};
	struct vencrypt *vc = vencrypt_new(&offer, challenge);
	size_t off = 1;
	enum vencrypt_step step = VENCRYPT_NEED_INPUT;
	while (step != VENCRYPT_FAILED && step != VENCRYPT_DONE && off < size) {
		const uint8_t *out;
		size_t len;
		vencrypt_output(vc, &out, &len);
		vencrypt_output_consumed(vc, len);
		if (step == VENCRYPT_START_TLS) {
			step = vencrypt_tls_started(vc);
		} else if (step == VENCRYPT_CHECK) {
			step = vencrypt_verdict(vc, false, "refused");
		} else {
			size_t want = vencrypt_wanted(vc), n = size - off;
			step = vencrypt_input(vc, data + off, n < want ? n : want);
			off += n < want ? n : want;
		}
	}
	if (step == VENCRYPT_DONE)
		abort();
	vencrypt_free(vc);
	return 0;
}
