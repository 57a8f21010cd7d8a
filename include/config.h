/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef MDEV_VNCD_CONFIG_H
#define MDEV_VNCD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "log.h"

/*
 * The daemon's settings. One table in config.c lists every key once and
 * drives parsing, defaults, --check-config output and the restart check.
 * The file format is "key = value" lines at top level (inih); sections,
 * unknown keys, duplicates and malformed values are errors naming
 * FILE:LINE, the key, what is wrong and what is allowed.
 */

enum share_policy { SHARE_SHARED, SHARE_EXCLUSIVE };

/* on_device_loss: what the daemon does when its device goes away (device_loss.h). */
enum device_loss_policy { DEVICE_LOSS_EXIT, DEVICE_LOSS_WAIT };

/* How display buffers are read: see import.h. */
enum import_mode { IMPORT_AUTO, IMPORT_MMAP, IMPORT_EGL };

/* tls: auto resolves with config_tls_policy(). */
enum tls_policy { TLS_POLICY_AUTO, TLS_POLICY_REQUIRED, TLS_POLICY_OPTIONAL, TLS_POLICY_OFF };

/* auth: methods inside TLS; 0 = derived from the secret files (config_auth_methods). */
#define CONFIG_AUTH_PLAIN 1u
#define CONFIG_AUTH_VNC 2u
#define CONFIG_AUTH_NONE 4u

/* tls_cert = auto: a self-signed certificate the daemon makes under state_dir. */
#define CONFIG_TLS_CERT_AUTO "auto"

/* host is a numeric address: "127.0.0.1", "::1", "0.0.0.0", "::" (no brackets). */
struct listen_addr {
	char host[64];
	uint16_t port;
};

#define CONFIG_MAX_LISTEN 8

/* The packaged system user (sysusers.d), the default of `user`. */
#define CONFIG_DEFAULT_USER "mdev-vncd"

struct config {
	char instance[64];       /* default: config file basename without .conf, else "default" */
	char uuid[37];           /* mdev UUID, validated 8-4-4-4-12 hex; "" = none */
	int device_fd;           /* -1 = none */
	char device_socket[108]; /* "" = none */
	enum device_loss_policy on_device_loss; /* default exit */
	unsigned display;        /* 0..99, default 0: default port 5900 + display */
	struct listen_addr listen[CONFIG_MAX_LISTEN];
	unsigned n_listen;       /* default: 127.0.0.1 and ::1 on 5900+display */
	char unix_socket[108];
	unsigned refresh_hz;     /* 1..240, default 60 */
	enum import_mode import; /* "auto" (default) | "mmap" | "egl" */
	bool display_event;      /* default yes */
	enum log_level log_level; /* default info */
	char password_file[256], viewonly_password_file[256];
	unsigned max_clients;    /* 1..64, default 16 */
	enum share_policy share; /* "shared" (default) | "exclusive" */
	bool allow_unauthenticated_remote; /* default no */
	char tls_cert[256], tls_key[256];
	bool follow_client_size; /* default no */
	unsigned edid_width, edid_height; /* edid_size = WxH, 0x0 = unset */
	char user[64];           /* drop to this user when started as root; default "mdev-vncd" */
	char metrics_listen[80]; /* "" = off; "ADDR:PORT" */
	char input_qmp[108];     /* input = qmp:PATH: the VM's QMP socket; "" = input = none */
	unsigned qemu_pid;       /* attach to this QEMU's device (with uuid); 0 = none */
	char qemu_pidfile[256];  /* the same, QEMU's PID read from this file; "" = none */
	/* Native clients over TLS (VeNCrypt). */
	enum tls_policy tls;
	char tls_ca[256];
	bool tls_verify_client;
	unsigned auth_methods;   /* CONFIG_AUTH_*, 0 = derived */
	char users_file[256];
	char state_dir[256];     /* where tls_cert = auto keeps its files */
};

/* tls with auto resolved: required when a certificate is set and a listener is not loopback. */
enum tls_policy config_tls_policy(const struct config *cfg);
/*
 * The methods offered inside TLS: auth as set, else plain when users_file
 * is set and vnc when password_file is (none only when set explicitly).
 */
unsigned config_auth_methods(const struct config *cfg);

/* Fills cfg with the defaults. */
void config_init(struct config *cfg);

/*
 * Parses the file over cfg. 0 or -errno; err gets one "file:line: ..."
 * message. If the file does not set instance, it becomes the file's
 * basename without ".conf" (so load before applying command-line overrides).
 * Lines: "key = value" at top level, comments start with # or ; (inih also
 * strips " ; ..." after a value). Sections, indented lines and lines over
 * inih's 200-byte buffer are errors.
 */
int config_load(struct config *cfg, const char *path, char *err, size_t errlen);

/*
 * Sets one key from a string (used for command-line overrides too; source
 * names the origin, e.g. "--listen", used in the error text). 0, -ENOENT
 * (unknown key) or -EINVAL (bad value). Setting display while listen still
 * holds the default listeners moves them to 5900 + display.
 */
int config_set(struct config *cfg, const char *key, const char *value, const char *source,
	       char *err, size_t errlen);

/*
 * Cross-key checks after everything is set (exactly one of uuid / device_fd /
 * device_socket; tls_cert and tls_key together; non-loopback listen without
 * password_file needs allow_unauthenticated_remote). 0 or -EINVAL with a
 * message saying what to set.
 */
int config_validate(const struct config *cfg, char *err, size_t errlen);

/* Prints the effective settings, one "key = value" per line, in table order. */
/* A setting given outside the file (a command-line flag), applied over it. */
struct config_override {
	const char *key;
	const char *value;
	const char *source; /* e.g. "--listen", named in errors */
};

/*
 * The effective configuration: defaults, then the file (when path is not
 * NULL), then the overrides in order, then config_validate. Used at start
 * and again on SIGHUP, so flags keep winning over the file.
 */
int config_build(struct config *cfg, const char *path, const struct config_override *overrides,
		 size_t n_overrides, char *err, size_t errlen);

void config_print(const struct config *cfg, FILE *out);

/*
 * Prints the documented example file: every key, commented out with its
 * default, in table order (conf/mdev-vncd.conf.example is this output).
 */
void config_print_example(FILE *out);

/*
 * Which keys differ between two configs and cannot change without a
 * restart (for SIGHUP): writes their names comma-separated into buf
 * (truncated if short); returns the count.
 */
int config_restart_needed(const struct config *old, const struct config *new, char *buf,
			  size_t len);

#endif
