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
/* "AB:CD:..." for SHA-256, with its NUL. */
#define TLS_CERT_FINGERPRINT_SIZE (32 * 3)

/*
 * The certificate and key paths under state_dir, into cert and key. Makes
 * the directory (0700) and both files (0600) when the key or the
 * certificate is missing, and logs the fingerprint either way. -errno,
 * logged with what failed.
 */
int tls_cert_auto(const char *state_dir, char *cert, size_t cert_size, char *key,
		  size_t key_size);

/* The SHA-256 fingerprint of the first certificate in the PEM file at path. -errno. */
int tls_cert_fingerprint(const char *path, char *out, size_t size);

/*
 * mdev-vncd --print-fingerprint: the fingerprint of tls_cert (auto: the one
 * under state_dir) to out. The exit status; errors go to the log.
 */
int tls_cert_print_fingerprint(const char *tls_cert, const char *state_dir, FILE *out);

#endif
