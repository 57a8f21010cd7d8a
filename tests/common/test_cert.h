/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef MDEV_VNCD_TEST_CERT_H
#define MDEV_VNCD_TEST_CERT_H

/*
 * A self-signed certificate for localhost and 127.0.0.1, made by openssl (in
 * packaging/test-deps.txt), its key mode 0600. Without openssl the calling
 * test skips, naming the package; any other failure fails it. Include after
 * <cmocka.h>.
 */
#include <stdlib.h>
#include <sys/wait.h>

#include "test_skip.h"

static inline void test_make_certificate(const char *cert, const char *key)
{
	char cmd[600];
	int n = snprintf(cmd, sizeof(cmd),
			 "umask 077 && openssl req -x509 -newkey rsa:2048 -nodes -days 1 "
			 "-subj /CN=localhost -addext subjectAltName=IP:127.0.0.1,DNS:localhost "
			 "-keyout '%s' -out '%s' 2>/dev/null",
			 key, cert);
	assert_true(n > 0 && (size_t)n < sizeof(cmd));
	int status = system(cmd);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
		test_skip("openssl not found (package openssl)");
	assert_int_equal(status, 0);
}

#endif
