// SPDX-License-Identifier: GPL-2.0-or-later
#include "config.h"
#include "config_keys.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ini.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

static void key_names(char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < config_key_count && used < len; i++)
		used += (size_t)snprintf(buf + used, len - used, "%s%s", i ? ", " : "",
					 config_keys[i].name);
}

/* where: "file:line" or the command-line source. */
static void key_error(char *err, size_t errlen, const char *where, const char *name,
		      const char *what, const char *allowed)
{
	snprintf(err, errlen, "%s: key '%s': %s; allowed: %s", where, name, what, allowed);
}

static int set_key(struct config *cfg, const struct config_key *k, const char *value,
		   const char *where, char *err, size_t errlen)
{
	char what[256], allowed[256];

	if (k->type->parse(k, cfg, value, what, sizeof(what)) == 0)
		return 0;
	if (k->type->allowed)
		k->type->allowed(k, allowed, sizeof(allowed));
	else
		snprintf(allowed, sizeof(allowed), "%s", k->type->allowed_text);
	key_error(err, errlen, where, k->name, what, allowed);
	return -EINVAL;
}

static int unknown_key(const char *name, const char *where, char *err, size_t errlen)
{
	char names[CONFIG_VALUE_MAX];

	key_names(names, sizeof(names));
	key_error(err, errlen, where, name, "unknown key", names);
	return -ENOENT;
}

void config_init(struct config *cfg)
{
	char scratch[8];

	memset(cfg, 0, sizeof(*cfg));
	/* The defaults are valid by construction; the unit tests hold them to it. */
	for (size_t i = 0; i < config_key_count; i++)
		set_key(cfg, &config_keys[i], config_keys[i].def, "default", scratch, sizeof(scratch));
}

int config_set(struct config *cfg, const char *key, const char *value, const char *source,
	       char *err, size_t errlen)
{
	const struct config_key *k = config_key_find(key);

	if (!k)
		return unknown_key(key, source, err, errlen);
	return set_key(cfg, k, value, source, err, errlen);
}

struct load_ctx {
	struct config *cfg;
	FILE *file;
	const char *path;
	int line;
	int set_at[CONFIG_KEY_MAX]; /* line that set each key, 0 = not yet */
	int err_line;       /* line of the first error we reported, 0 = none */
	int read_errno;     /* fgets failed for a reason other than the end of file */
	char *err;
	size_t errlen;
};

static void load_error(struct load_ctx *ctx, const char *what, const char *allowed)
{
	ctx->err_line = ctx->line;
	snprintf(ctx->err, ctx->errlen, "%s:%d: %s; allowed: %s", ctx->path, ctx->line, what,
		 allowed);
}

/*
 * inih would accept sections, silently join indented lines to the previous
 * value and split long lines: reject those here, where the raw line is seen.
 * Returning NULL ends the parse at the first error.
 */
static char *load_reader(char *str, int num, void *stream)
{
	struct load_ctx *ctx = stream;
	const char *start, *p;
	size_t len;

	if (ctx->err_line)
		return NULL;
	if (!fgets(str, num, ctx->file)) {
		if (ferror(ctx->file))
			ctx->read_errno = errno ? errno : EIO;
		return NULL;
	}
	ctx->line++;
	len = strlen(str);
	if (len && str[len - 1] != '\n' && !feof(ctx->file)) {
		char what[64];

		snprintf(what, sizeof(what), "line is longer than %d bytes", num - 2);
		load_error(ctx, what, "shorter lines");
		return NULL;
	}
	start = str;
	if (ctx->line == 1 && strncmp(start, "\xEF\xBB\xBF", 3) == 0)
		start += 3;
	p = start + strspn(start, " \t");
	if (*p == '[') {
		load_error(ctx, "sections are not used", "top-level 'key = value' lines");
		return NULL;
	}
	if (p != start && !strchr("#;\r\n", *p)) {
		load_error(ctx, "indented line (it would continue the previous value)",
			   "'key = value' at the start of the line");
		return NULL;
	}
	return str;
}

static int load_handler(void *user, const char *section, const char *name, const char *value)
{
	struct load_ctx *ctx = user;
	const struct config_key *k = config_key_find(name);
	char where[PATH_MAX + 16];
	size_t i;

	snprintf(where, sizeof(where), "%s:%d", ctx->path, ctx->line);
	if (!k) {
		unknown_key(name, where, ctx->err, ctx->errlen);
		ctx->err_line = ctx->line;
		return 0;
	}
	i = (size_t)(k - config_keys);
	if (ctx->set_at[i]) {
		char what[64];

		snprintf(what, sizeof(what), "set again (first set at line %d)", ctx->set_at[i]);
		key_error(ctx->err, ctx->errlen, where, name, what, "each key once");
		ctx->err_line = ctx->line;
		return 0;
	}
	ctx->set_at[i] = ctx->line;
	if (set_key(ctx->cfg, k, value, where, ctx->err, ctx->errlen) < 0) {
		ctx->err_line = ctx->line;
		return 0;
	}
	return 1;
}

/* "/etc/mdev-vncd/gpu0.conf" names the instance "gpu0", if that is a valid name. */
static void instance_from_path(struct config *cfg, const char *path)
{
	const char *base = strrchr(path, '/');
	char name[sizeof(cfg->instance)];
	char scratch[8];
	size_t n;

	base = base ? base + 1 : path;
	n = strlen(base);
	if (n > 5 && strcmp(base + n - 5, ".conf") == 0)
		n -= 5;
	if (n >= sizeof(name))
		return;
	memcpy(name, base, n);
	name[n] = '\0';
	set_key(cfg, config_key_find("instance"), name, path, scratch, sizeof(scratch));
}

int config_load(struct config *cfg, const char *path, char *err, size_t errlen)
{
	struct load_ctx ctx = { .cfg = cfg, .path = path, .err = err, .errlen = errlen };
	int r;

	ctx.file = fopen(path, "re");
	if (!ctx.file) {
		r = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(-r));
		return r;
	}
	instance_from_path(cfg, path);
	r = ini_parse_stream(load_reader, &ctx, load_handler, &ctx);
	fclose(ctx.file);
	if (ctx.read_errno) {
		snprintf(err, errlen, "%s: %s", path, strerror(ctx.read_errno));
		return -ctx.read_errno;
	}
	if (r > 0 && (!ctx.err_line || r < ctx.err_line)) {
		snprintf(err, errlen,
			 "%s:%d: not a 'key = value' line; allowed: 'key = value', or a comment "
			 "starting with # or ;",
			 path, r);
		return -EINVAL;
	}
	if (ctx.err_line)
		return -EINVAL;
	if (r < 0) {
		snprintf(err, errlen, "%s: out of memory", path);
		return -ENOMEM;
	}
	return 0;
}

static bool is_loopback(const char *host)
{
	struct in6_addr a6;
	struct in_addr a4;

	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, host, &a6) != 1)
		return false;
	if (IN6_IS_ADDR_V4MAPPED(&a6))
		return a6.s6_addr[12] == 127;
	return IN6_IS_ADDR_LOOPBACK(&a6);
}

static int validate_device(const struct config *cfg, char *err, size_t errlen)
{
	const bool set[] = { cfg->uuid[0], cfg->device_fd >= 0, cfg->device_socket[0] };
	const char *const names[] = { "uuid", "device_fd", "device_socket" };
	char which[64] = "";
	int n = 0;

	for (size_t i = 0; i < 3; i++) {
		if (set[i])
			snprintf(which + strlen(which), sizeof(which) - strlen(which), "%s%s",
				 n++ ? ", " : "", names[i]);
	}
	if (n == 1 && cfg->on_device_loss == DEVICE_LOSS_WAIT && cfg->device_fd >= 0) {
		snprintf(err, errlen,
			 "on_device_loss = wait cannot work with device_fd: an inherited fd "
			 "cannot be opened again once the device is gone; use uuid or "
			 "device_socket, or on_device_loss = exit");
		return -EINVAL;
	}
	if (n == 1)
		return 0;
	/* Flags set the same keys: name both forms, whichever the user typed. */
	if (n == 0)
		snprintf(err, errlen,
			 "no device given: set one of uuid, device_fd, device_socket in the file, "
			 "or give one of --uuid, --device-fd, --device-socket");
	else
		snprintf(err, errlen,
			 "%s are all set: set exactly one of uuid, device_fd, device_socket "
			 "(flags: --uuid, --device-fd, --device-socket)",
			 which);
	return -EINVAL;
}

static bool any_remote_listener(const struct config *cfg)
{
	for (unsigned i = 0; i < cfg->n_listen; i++)
		if (!is_loopback(cfg->listen[i].host))
			return true;
	return false;
}

enum tls_policy config_tls_policy(const struct config *cfg)
{
	if (cfg->tls != TLS_POLICY_AUTO)
		return cfg->tls;
	return cfg->tls_cert[0] && any_remote_listener(cfg) ? TLS_POLICY_REQUIRED : TLS_POLICY_OFF;
}

unsigned config_auth_methods(const struct config *cfg)
{
	if (cfg->auth_methods)
		return cfg->auth_methods;
	return (cfg->users_file[0] ? CONFIG_AUTH_PLAIN : 0u) |
	       (cfg->password_file[0] ? CONFIG_AUTH_VNC : 0u);
}

/* What VeNCrypt needs: a certificate, and a secret for each method it offers. */
static int validate_tls(const struct config *cfg, char *err, size_t errlen)
{
	bool auto_cert = strcmp(cfg->tls_cert, CONFIG_TLS_CERT_AUTO) == 0;
	unsigned methods = config_auth_methods(cfg);
	const char *problem = NULL;

	if (auto_cert && cfg->tls_key[0])
		problem = "tls_cert = auto makes its own key: leave tls_key empty";
	else if (!auto_cert && !cfg->tls_cert[0] != !cfg->tls_key[0])
		problem = cfg->tls_cert[0] ? "tls_cert is set without tls_key: set both or neither"
					   : "tls_key is set without tls_cert: set both or neither";
	else if (cfg->tls_verify_client && !cfg->tls_ca[0])
		problem = "tls_verify_client = yes needs tls_ca: set the CA of the client certificates";
	else if ((methods & CONFIG_AUTH_PLAIN) && !cfg->users_file[0])
		problem = "auth lists plain but users_file is not set: set users_file";
	else if ((methods & CONFIG_AUTH_VNC) && !cfg->password_file[0])
		problem = "auth lists vnc but password_file is not set: set password_file";
	else if (config_tls_policy(cfg) == TLS_POLICY_OFF)
		problem = NULL;
	else if (!cfg->tls_cert[0])
		problem = "tls is required or optional but tls_cert is not set: set tls_cert "
			  "(auto makes one)";
	else if (!methods)
		problem = "tls is on but no method to offer: set users_file or password_file, or "
			  "auth = none";
	if (problem) {
		snprintf(err, errlen, "%s", problem);
		return -EINVAL;
	}
	return 0;
}

/* A secret every client must show: the VNC password, or with TLS on, a user's password. */
static bool secret_required(const struct config *cfg)
{
	if (config_tls_policy(cfg) == TLS_POLICY_OFF)
		return cfg->password_file[0];
	unsigned methods = config_auth_methods(cfg);
	return !(methods & CONFIG_AUTH_NONE) || cfg->tls_verify_client;
}

static int validate_access(const struct config *cfg, char *err, size_t errlen)
{
	char addr[sizeof(cfg->listen[0].host) + 8];

	if (cfg->viewonly_password_file[0] && !cfg->password_file[0]) {
		snprintf(err, errlen,
			 "viewonly_password_file is set without password_file: set password_file");
		return -EINVAL;
	}
	if (secret_required(cfg) || cfg->allow_unauthenticated_remote)
		return 0;
	for (unsigned i = 0; i < cfg->n_listen; i++) {
		if (is_loopback(cfg->listen[i].host))
			continue;
		config_format_listen(&cfg->listen[i], addr, sizeof(addr));
		snprintf(err, errlen,
			 "listen %s is not loopback and password_file is not set: set "
			 "password_file, or allow_unauthenticated_remote = yes to serve "
			 "it without a password (or users_file with tls_cert, for VeNCrypt)",
			 addr);
		return -EINVAL;
	}
	return 0;
}

/* Attaching finds the mdev by uuid in QEMU's fds. */
static int validate_attach(const struct config *cfg, char *err, size_t errlen)
{
	if (cfg->qemu_pid && cfg->qemu_pidfile[0]) {
		snprintf(err, errlen, "qemu_pid and qemu_pidfile are both set: set one");
		return -EINVAL;
	}
	if ((cfg->qemu_pid || cfg->qemu_pidfile[0]) && !cfg->uuid[0]) {
		snprintf(err, errlen, "%s is set without uuid: set uuid to the mdev QEMU holds",
			 cfg->qemu_pid ? "qemu_pid" : "qemu_pidfile");
		return -EINVAL;
	}
	/* A PID names one QEMU: only a pidfile can name the next one to attach to. */
	if (cfg->qemu_pid && cfg->on_device_loss == DEVICE_LOSS_WAIT) {
		snprintf(err, errlen,
			 "on_device_loss = wait cannot work with qemu_pid: a QEMU that exits "
			 "cannot come back under the same PID; use qemu_pidfile (QEMU's -pidfile, "
			 "libvirt's /run/libvirt/qemu/NAME.pid) or on_device_loss = exit");
		return -EINVAL;
	}
	return 0;
}

int config_validate(const struct config *cfg, char *err, size_t errlen)
{
	int r = validate_device(cfg, err, errlen);

	if (r == 0)
		r = validate_attach(cfg, err, errlen);
	if (r < 0)
		return r;
	r = validate_tls(cfg, err, errlen);
	if (r < 0)
		return r;
	if (!cfg->n_listen && !cfg->unix_socket[0]) {
		snprintf(err, errlen, "no listener: set listen or unix_socket");
		return -EINVAL;
	}
	return validate_access(cfg, err, errlen);
}

/* No trailing blank after "key =" when the value is empty. */
static void print_setting(FILE *out, const char *prefix, const char *name, const char *value)
{
	fprintf(out, "%s%s =%s%s\n", prefix, name, *value ? " " : "", value);
}

void config_print(const struct config *cfg, FILE *out)
{
	char value[CONFIG_VALUE_MAX];

	for (size_t i = 0; i < config_key_count; i++) {
		config_keys[i].type->format(&config_keys[i], cfg, value, sizeof(value));
		print_setting(out, "", config_keys[i].name, value);
	}
}

int config_restart_needed(const struct config *old, const struct config *new, char *buf,
			  size_t len)
{
	char a[CONFIG_VALUE_MAX], b[CONFIG_VALUE_MAX];
	size_t used = 0;
	int count = 0;

	if (len)
		buf[0] = '\0';
	for (size_t i = 0; i < config_key_count; i++) {
		if (!config_keys[i].restart)
			continue;
		config_keys[i].type->format(&config_keys[i], old, a, sizeof(a));
		config_keys[i].type->format(&config_keys[i], new, b, sizeof(b));
		if (strcmp(a, b) == 0)
			continue;
		if (used < len)
			used += (size_t)snprintf(buf + used, len - used, "%s%s", count ? "," : "",
						 config_keys[i].name);
		count++;
	}
	return count;
}

static void print_comment(FILE *out, const char *text)
{
	while (*text) {
		size_t n = strcspn(text, "\n");

		fprintf(out, "# %.*s\n", (int)n, text);
		text += n + (text[n] == '\n');
	}
}

void config_print_example(FILE *out)
{
	struct config def;
	char value[CONFIG_VALUE_MAX];

	config_init(&def);
	fprintf(out, "# SPDX-License-Identifier: GPL-2.0-or-later\n"
		     "# mdev-vncd configuration: one \"key = value\" per line, no sections.\n"
		     "# Every key is listed below, commented out, with its default value.\n"
		     "# Lines starting with # or ; are comments. Generated by\n"
		     "# config_print_example(): edit the key table in src/config_keys.c instead.\n");
	for (size_t i = 0; i < config_key_count; i++) {
		config_keys[i].type->format(&config_keys[i], &def, value, sizeof(value));
		fprintf(out, "\n");
		print_comment(out, config_keys[i].doc);
		print_setting(out, "#", config_keys[i].name, value);
	}
}

int config_build(struct config *cfg, const char *path, const struct config_override *overrides,
		 size_t n_overrides, char *err, size_t errlen)
{
	config_init(cfg);
	int ret = path ? config_load(cfg, path, err, errlen) : 0;
	for (size_t i = 0; ret == 0 && i < n_overrides; i++)
		ret = config_set(cfg, overrides[i].key, overrides[i].value, overrides[i].source, err,
				 errlen);
	if (ret < 0)
		return ret;
	ret = config_validate(cfg, err, errlen);
	/* Whole-file errors have no line to point at: name the file at least. */
	if (ret < 0 && path) {
		char what[512];

		snprintf(what, sizeof(what), "%s", err);
		snprintf(err, errlen, "%s: %s", path, what);
	}
	return ret;
}
