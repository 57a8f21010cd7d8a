// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer harness for the TLS relay of wss clients: the bytes are what a
 * client sends on the wire (a ClientHello, records, garbage), played into
 * tls_relay_start's socket and then closed. The relay must answer or drop
 * it and end its thread; one that hangs for seconds is reported as a crash.
 * The server's certificate is made once, in memory, at the first run.
 */
#include <errno.h>
#include <fcntl.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <stdio.h>
#include <sys/socket.h>
#include <time.h>

#include "fuzz_util.h"
#include "tls_relay.h"


static struct tls_relay_creds *creds;

static void write_pem(const char *path, const gnutls_datum_t *pem)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, pem->data, pem->size) != (ssize_t)pem->size)
		abort();
	close(fd);
}

/* A self-signed ECDSA P-256 certificate for CN=fuzz, written as PEM into dir. */
static void make_certificate(const char *cert_path, const char *key_path)
{
	gnutls_x509_privkey_t key;
	gnutls_x509_crt_t crt;
	gnutls_datum_t pem;
	time_t now = time(NULL);
	unsigned char serial = 1;
	if (gnutls_x509_privkey_init(&key) < 0 ||
	    gnutls_x509_privkey_generate(key, GNUTLS_PK_ECDSA,
					 GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0) < 0 ||
	    gnutls_x509_crt_init(&crt) < 0 || gnutls_x509_crt_set_version(crt, 3) < 0 ||
	    gnutls_x509_crt_set_serial(crt, &serial, 1) < 0 ||
	    gnutls_x509_crt_set_activation_time(crt, now - 60) < 0 ||
	    gnutls_x509_crt_set_expiration_time(crt, now + 86400) < 0 ||
	    gnutls_x509_crt_set_dn(crt, "CN=fuzz", NULL) < 0 ||
	    gnutls_x509_crt_set_key(crt, key) < 0 ||
	    gnutls_x509_crt_sign2(crt, crt, key, GNUTLS_DIG_SHA256, 0) < 0)
		abort();
	if (gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, &pem) < 0)
		abort();
	write_pem(cert_path, &pem);
	gnutls_free(pem.data);
	if (gnutls_x509_privkey_export2(key, GNUTLS_X509_FMT_PEM, &pem) < 0)
		abort();
	write_pem(key_path, &pem);
	gnutls_free(pem.data);
	gnutls_x509_crt_deinit(crt);
	gnutls_x509_privkey_deinit(key);
}

static void setup(void)
{
	char dir[] = "/tmp/fuzz-tls-XXXXXX", cert[64], key[64];
	fuzz_setup_as_daemon();
	if (!mkdtemp(dir))
		abort();
	snprintf(cert, sizeof(cert), "%s/cert.pem", dir);
	snprintf(key, sizeof(key), "%s/key.pem", dir);
	make_certificate(cert, key);
	const struct tls_relay_creds_options options = { .cert_file = cert, .key_file = key };
	if (tls_relay_creds_new(&options, &creds) < 0)
		abort();
	unlink(cert);
	unlink(key);
	rmdir(dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!creds)
		setup();
	int sv[2], plain;
	struct tls_relay *relay;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		abort();
	if (tls_relay_start(creds, sv[0], "fuzz", &plain, &relay) < 0)
		abort();
	fuzz_converse(sv[1], data, size, -1);
	close(sv[1]);
	tls_relay_free(relay);
	close(plain);
	return 0;
}
