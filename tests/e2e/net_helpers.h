/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef MDEV_VNCD_E2E_NET_HELPERS_H
#define MDEV_VNCD_E2E_NET_HELPERS_H

/*
 * What the network tests (test_network.c, test_clients.c) share: a private
 * directory for config and secret files, a picture on the simulated plane,
 * a libvncclient client for TCP or a unix socket with an optional
 * password, and raw sockets for clients that misbehave on purpose.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include <drm_fourcc.h>
#include <rfb/rfbclient.h>

#include "harness.h"
#include "simctl.h"
#include "vnc_probe.h"

#define NET_PRIMARY 1
#define NET_WAIT_MS 5000

struct net_dir {
	char path[64];
};

static inline void net_dir_make(struct net_dir *dir)
{
	snprintf(dir->path, sizeof(dir->path), "/tmp/mdev-vncd-net.XXXXXX");
	assert_non_null(mkdtemp(dir->path));
}

static inline void net_dir_remove(struct net_dir *dir)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir->path);
	assert_int_equal(system(cmd), 0);
}

/* Writes dir/name with mode; its path goes to out. */
static inline void net_write_file(const struct net_dir *dir, const char *name, const char *text,
				  mode_t mode, char *out, size_t out_size)
{
	snprintf(out, out_size, "%s/%s", dir->path, name);
	FILE *f = fopen(out, "w");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(out, mode), 0);
}

/* The daemon's arguments for a config file holding text. */
struct net_config {
	char path[128];
	const char *args[3];
};

static inline void net_config(struct net_config *cfg, const struct net_dir *dir, const char *text)
{
	net_write_file(dir, "net.conf", text, 0600, cfg->path, sizeof(cfg->path));
	cfg->args[0] = "--config";
	cfg->args[1] = cfg->path;
	cfg->args[2] = NULL;
}

struct net_picture {
	uint32_t width, height;
	uint8_t *pixels;
};

/* Sets the primary plane to width x height XRGB8888. */
static inline void net_set_mode(struct daemon_proc *d, uint32_t width, uint32_t height)
{
	struct sim_plane_desc desc = {
		.fourcc = DRM_FORMAT_XRGB8888,
		.width = width,
		.height = height,
		.stride = width * 4,
		.size = width * height * 4,
	};
	assert_int_equal(simctl_set_plane(d->sim, NET_PRIMARY, &desc), 0);
}

/* Sets the plane to width x height and flips a picture made from seed onto it. */
static inline void net_show(struct daemon_proc *d, struct net_picture *pic, uint32_t width,
			    uint32_t height, uint32_t seed)
{
	if (pic->width != width || pic->height != height) {
		free(pic->pixels);
		pic->pixels = malloc((size_t)width * height * 4);
		pic->width = width;
		pic->height = height;
		net_set_mode(d, width, height);
	}
	picture_fill(pic->pixels, width, height, seed);
	assert_int_equal(simctl_flip(d->sim, NET_PRIMARY, pic->pixels, (size_t)width * height * 4),
			 0);
}

static int net_password_tag;

static inline char *net_get_password(rfbClient *client)
{
	const char *password = rfbClientGetClientData(client, &net_password_tag);
	return strdup(password ? password : "");
}

static inline void net_quiet_log(const char *fmt, ...)
{
}

/*
 * A libvncclient client of host (a numeric address, or a unix socket's
 * path) with an optional password; NULL if the server refused it. prepare
 * (may be NULL) sets more of the client up before it connects.
 */
static inline struct vnc_probe *net_connect_with(const char *host, uint16_t port,
						 const char *password, const char *encodings,
						 void (*prepare)(rfbClient *client, void *ctx),
						 void *ctx)
{
	rfbClientLog = net_quiet_log;
	rfbClientErr = net_quiet_log;
	rfbClient *client = rfbGetClient(8, 3, 4);
	client->format.redShift = 16;
	client->format.greenShift = 8;
	client->format.blueShift = 0;
	/* rfbGetClient set a default host of its own: ours replaces it. */
	free(client->serverHost);
	client->serverHost = strdup(host);
	client->serverPort = port;
	client->appData.encodingsString = encodings;
	client->appData.useRemoteCursor = FALSE;
	client->canHandleNewFBSize = TRUE;
	client->GetPassword = net_get_password;
	rfbClientSetClientData(client, &net_password_tag, (void *)password);
	if (prepare)
		prepare(client, ctx);
	if (!rfbInitClient(client, NULL, NULL))
		return NULL; /* rfbInitClient freed the client */
	struct vnc_probe *probe = calloc(1, sizeof(*probe));
	probe->client = client;
	vnc_probe_reset_counts(probe);
	return probe;
}

static inline struct vnc_probe *net_connect(const char *host, uint16_t port, const char *password,
					    const char *encodings)
{
	return net_connect_with(host, port, password, encodings, NULL, NULL);
}

/* What a VeNCrypt client shows (libvncclient asks through GetCredential). */
struct tls_login {
	const char *ca; /* the certificate (authority) the client trusts */
	const char *user, *password;
	const char *client_cert, *client_key;
};

static int net_login_tag;

static inline char *net_dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

/* libvncclient frees what this returns. */
static inline rfbCredential *net_get_credential(rfbClient *client, int type)
{
	const struct tls_login *login = rfbClientGetClientData(client, &net_login_tag);
	rfbCredential *c = calloc(1, sizeof(*c));
	if (type == rfbCredentialTypeX509) {
		c->x509Credential.x509CACertFile = net_dup_or_null(login->ca);
		c->x509Credential.x509ClientCertFile = net_dup_or_null(login->client_cert);
		c->x509Credential.x509ClientKeyFile = net_dup_or_null(login->client_key);
	} else {
		c->userCredential.username = strdup(login->user ? login->user : "");
		c->userCredential.password = strdup(login->password ? login->password : "");
	}
	return c;
}

static inline void net_prepare_login(rfbClient *client, void *ctx)
{
	rfbClientSetClientData(client, &net_login_tag, ctx);
	client->GetCredential = net_get_credential;
}

/* A VeNCrypt client; libvncclient takes the first subtype offered. NULL when refused. */
static inline struct vnc_probe *net_tls_login(const char *host, uint16_t port,
					      const struct tls_login *login, const char *encodings)
{
	return net_connect_with(host, port, login->password, encodings, net_prepare_login,
				(void *)login);
}

/* Pumps until the connection ends (true) or timeout_ms pass (false). */
static inline bool net_wait_closed(struct vnc_probe *probe, int timeout_ms)
{
	uint64_t deadline = now_ms() + (uint64_t)timeout_ms;
	while (now_ms() < deadline)
		if (!vnc_probe_pump(probe, 50))
			return true;
	return false;
}

/* A TCP connection to 127.0.0.1:port from source address src (e.g. "127.0.0.2"). */
static inline int net_tcp_connect(const char *src, uint16_t port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	struct sockaddr_in addr = { .sin_family = AF_INET };
	assert_int_equal(inet_pton(AF_INET, src, &addr.sin_addr), 1);
	assert_int_equal(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	addr.sin_port = htons(port);
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	return fd;
}

/* Reads until the peer closes; false if it is still open after timeout_ms. */
static inline bool net_socket_closes(int fd, int timeout_ms)
{
	struct timeval tv = { .tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	char buf[4096];
	uint64_t deadline = now_ms() + (uint64_t)timeout_ms;
	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		if (n == 0 || (n < 0 && errno == ECONNRESET))
			return true;
		if (now_ms() >= deadline)
			return false;
	}
}

#endif
