/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef MDEV_VNCD_TLS_CERT_H
#define MDEV_VNCD_TLS_CERT_H

#include <stddef.h>
#include <stdio.h>

/*
 * tls_cert = auto: a self-signed certificate for this host, made once with
 * GnuTLS and kept under the state directory, so a viewer's
 * trust-on-first-use (TigerVNC asks once, then remembers) works without an
 * operator making one. Its SHA-256 fingerprint is what a user compares.
 */

#define TLS_CERT_AUTO_CERT "tls-cert.pem"
#define TLS_CERT_AUTO_KEY "tls-key.pem"
/*
 * How a user recognises the certificate: its SHA-256 fingerprint
 * ("AB:CD:...", as openssl and browsers show it) and the SHA-256 pin of its
 * public key ("pin-sha256=..." in base64, as TigerVNC shows it when it asks
 * whether to trust a certificate).
 */
struct tls_cert_ids {
	char fingerprint[32 * 3];
	char pin[64];
};

/*
 * The certificate and key paths under state_dir, into cert and key. Makes
 * the directory (0700) and both files (0600) when the key or the
 * certificate is missing, and logs the fingerprint either way. -errno,
 * logged with what failed.
 */
int tls_cert_auto(const char *state_dir, char *cert, size_t cert_size, char *key,
		  size_t key_size);

/* The ids of the first certificate in the PEM file at path. -errno. */
int tls_cert_ids(const char *path, struct tls_cert_ids *out);

/*
 * mdev-vncd --print-fingerprint: the fingerprint of tls_cert (auto: the one
 * under state_dir), then its pin, one a line, to out. The exit status;
 * errors go to the log.
 */
int tls_cert_print_fingerprint(const char *tls_cert, const char *state_dir, FILE *out);

#endif
