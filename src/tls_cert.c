// SPDX-License-Identifier: GPL-2.0-or-later
#include "tls_cert.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "fd_util.h"
#include "log.h"

#define VALID_YEARS 10
#define SERIAL_SIZE 16

/* Writes data to path through a fresh 0600 file renamed over it: never half a file. */
static int write_private(const char *path, const gnutls_datum_t *data)
{
	char tmp[512];
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.new", path) >= sizeof(tmp))
		return -ENAMETOOLONG;
	unlink(tmp);
	_cleanup_close_ int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	int ret = 0;
	if (write(fd, data->data, data->size) != (ssize_t)data->size || fsync(fd) < 0)
		ret = errno ? -errno : -EIO;
	if (ret == 0 && rename(tmp, path) < 0)
		ret = -errno;
	if (ret < 0)
		unlink(tmp);
	return ret;
}

/* Self-signed, CA flag set so that viewers can take it as its own trust anchor. */
static int sign_certificate(gnutls_x509_crt_t crt, gnutls_x509_privkey_t key)
{
	char host[256] = "localhost";
	gethostname(host, sizeof(host) - 1);
	uint8_t serial[SERIAL_SIZE];
	time_t now = time(NULL);
	int ret = gnutls_rnd(GNUTLS_RND_NONCE, serial, sizeof(serial));
	serial[0] &= 0x7f; /* a positive number */
	if (ret == 0)
		ret = gnutls_x509_crt_set_version(crt, 3);
	if (ret == 0)
		ret = gnutls_x509_crt_set_serial(crt, serial, sizeof(serial));
	if (ret == 0)
		ret = gnutls_x509_crt_set_activation_time(crt, now - 3600);
	if (ret == 0)
		ret = gnutls_x509_crt_set_expiration_time(crt, now + VALID_YEARS * 365 * 86400L);
	if (ret == 0)
		ret = gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, host,
						    (unsigned)strlen(host));
	if (ret == 0)
		ret = gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_DNSNAME, host,
							   (unsigned)strlen(host), GNUTLS_FSAN_SET);
	/* Also the loopback names: a viewer that comes through an ssh tunnel connects to those. */
	static const uint8_t loopback[4] = { 127, 0, 0, 1 };
	if (ret == 0)
		ret = gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_DNSNAME, "localhost", 9,
							   GNUTLS_FSAN_APPEND);
	if (ret == 0)
		ret = gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_IPADDRESS, loopback,
							   sizeof(loopback), GNUTLS_FSAN_APPEND);
	if (ret == 0)
		ret = gnutls_x509_crt_set_basic_constraints(crt, 1, -1);
	if (ret == 0)
		ret = gnutls_x509_crt_set_key_usage(crt, GNUTLS_KEY_DIGITAL_SIGNATURE |
							 GNUTLS_KEY_KEY_CERT_SIGN);
	if (ret == 0)
		ret = gnutls_x509_crt_set_key(crt, key);
	if (ret == 0)
		ret = gnutls_x509_crt_sign2(crt, crt, key, GNUTLS_DIG_SHA256, 0);
	return ret;
}

static int export_both(gnutls_x509_crt_t crt, gnutls_x509_privkey_t key, const char *cert_path,
		       const char *key_path)
{
	gnutls_datum_t cert_pem = { 0 }, key_pem = { 0 };
	int ret = gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, &cert_pem);
	if (ret == 0)
		ret = gnutls_x509_privkey_export2(key, GNUTLS_X509_FMT_PEM, &key_pem);
	if (ret < 0) {
		log_error("cannot export the new certificate: %s", gnutls_strerror(ret));
		ret = -EIO;
	}
	/* The key first: a certificate is never there without its key. */
	if (ret == 0 && (ret = write_private(key_path, &key_pem)) < 0)
		log_error("cannot write %s: %s", key_path, strerror(-ret));
	if (ret == 0 && (ret = write_private(cert_path, &cert_pem)) < 0)
		log_error("cannot write %s: %s", cert_path, strerror(-ret));
	if (key_pem.data)
		gnutls_memset(key_pem.data, 0, key_pem.size);
	gnutls_free(key_pem.data);
	gnutls_free(cert_pem.data);
	return ret;
}

static int generate(const char *cert_path, const char *key_path)
{
	gnutls_x509_privkey_t key = NULL;
	gnutls_x509_crt_t crt = NULL;
	int ret = gnutls_x509_privkey_init(&key);
	if (ret == 0)
		ret = gnutls_x509_privkey_generate2(
		    key, GNUTLS_PK_ECDSA, GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0, NULL, 0);
	if (ret == 0)
		ret = gnutls_x509_crt_init(&crt);
	if (ret == 0)
		ret = sign_certificate(crt, key);
	if (ret < 0) {
		log_error("cannot make a self-signed certificate: %s", gnutls_strerror(ret));
		ret = -EIO;
	}
	if (ret == 0)
		ret = export_both(crt, key, cert_path, key_path);
	if (crt)
		gnutls_x509_crt_deinit(crt);
	if (key)
		gnutls_x509_privkey_deinit(key);
	return ret;
}

int tls_cert_auto(const char *state_dir, char *cert, size_t cert_size, char *key,
		  size_t key_size)
{
	if ((size_t)snprintf(cert, cert_size, "%s/%s", state_dir, TLS_CERT_AUTO_CERT) >= cert_size ||
	    (size_t)snprintf(key, key_size, "%s/%s", state_dir, TLS_CERT_AUTO_KEY) >= key_size) {
		log_error("state_dir %s: path too long", state_dir);
		return -ENAMETOOLONG;
	}
	if (mkdir(state_dir, 0700) < 0 && errno != EEXIST) {
		int ret = -errno;
		log_error("state_dir %s: cannot create it: %s", state_dir, strerror(-ret));
		return ret;
	}
	bool made = false;
	if (access(cert, F_OK) < 0 || access(key, F_OK) < 0) {
		int ret = generate(cert, key);
		if (ret < 0)
			return ret;
		made = true;
	}
	struct tls_cert_ids ids;
	int ret = tls_cert_ids(cert, &ids);
	if (ret < 0) {
		log_error("tls_cert = auto: cannot read %s: %s", cert, strerror(-ret));
		return ret;
	}
	log_info("tls_cert = auto: %s %s, SHA-256 fingerprint %s, %s", made ? "made" : "using",
		 cert, ids.fingerprint, ids.pin);
	return 0;
}

static int format_ids(gnutls_x509_crt_t crt, struct tls_cert_ids *out)
{
	uint8_t digest[32], key_id[32];
	size_t digest_size = sizeof(digest), key_id_size = sizeof(key_id);
	if (gnutls_x509_crt_get_fingerprint(crt, GNUTLS_DIG_SHA256, digest, &digest_size) < 0 ||
	    gnutls_x509_crt_get_key_id(crt, GNUTLS_KEYID_USE_SHA256, key_id, &key_id_size) < 0 ||
	    digest_size != sizeof(digest) || key_id_size != sizeof(key_id))
		return -EINVAL;
	for (size_t i = 0; i < digest_size; i++)
		snprintf(out->fingerprint + 3 * i, sizeof(out->fingerprint) - 3 * i, "%02X%s",
			 digest[i], i + 1 < digest_size ? ":" : "");
	const gnutls_datum_t raw = { .data = key_id, .size = sizeof(key_id) };
	gnutls_datum_t b64 = { 0 };
	if (gnutls_base64_encode2(&raw, &b64) < 0)
		return -ENOMEM;
	snprintf(out->pin, sizeof(out->pin), "pin-sha256=\"%.*s\"", (int)b64.size, b64.data);
	gnutls_free(b64.data);
	return 0;
}

int tls_cert_ids(const char *path, struct tls_cert_ids *out)
{
	gnutls_datum_t pem = { 0 };
	if (gnutls_load_file(path, &pem) < 0)
		return access(path, R_OK) < 0 ? -errno : -EIO;
	gnutls_x509_crt_t crt;
	int ret = gnutls_x509_crt_init(&crt) < 0 ? -ENOMEM : 0;
	if (ret == 0) {
		ret = gnutls_x509_crt_import(crt, &pem, GNUTLS_X509_FMT_PEM) < 0
			  ? -EINVAL
			  : format_ids(crt, out);
		gnutls_x509_crt_deinit(crt);
	}
	gnutls_free(pem.data);
	return ret;
}

int tls_cert_print_fingerprint(const char *tls_cert, const char *state_dir, FILE *out)
{
	char path[512];
	if (!tls_cert[0]) {
		log_error("no tls_cert is configured: nothing to print");
		return 1;
	}
	if (strcmp(tls_cert, "auto") == 0)
		snprintf(path, sizeof(path), "%s/%s", state_dir, TLS_CERT_AUTO_CERT);
	else
		snprintf(path, sizeof(path), "%s", tls_cert);
	struct tls_cert_ids ids;
	int ret = tls_cert_ids(path, &ids);
	if (ret < 0) {
		log_error("cannot read the certificate %s: %s%s", path, strerror(-ret),
			  strcmp(tls_cert, "auto") == 0 ? " (the daemon makes it on first start)" : "");
		return 1;
	}
	fprintf(out, "%s\n%s\n", ids.fingerprint, ids.pin);
	return 0;
}
