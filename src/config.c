// SPDX-License-Identifier: GPL-2.0-or-later
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ini.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_PORT 5900
#define DEFAULT_LISTEN_FMT "127.0.0.1:%u,[::1]:%u"
/* Room for the longest formatted value: CONFIG_MAX_LISTEN bracketed v6 listeners. */
#define VALUE_MAX 1024
#define STR_(x) #x
#define STR(x) STR_(x)

struct config_key;

struct key_type {
	/* Parses value into cfg; on error writes what is wrong into what and returns -EINVAL. */
	int (*parse)(const struct config_key *k, struct config *cfg, const char *value, char *what,
		     size_t wlen);
	void (*format)(const struct config_key *k, const struct config *cfg, char *buf, size_t len);
	/* What the key accepts, for error messages: computed from the key, or fixed text. */
	void (*allowed)(const struct config_key *k, char *buf, size_t len);
	const char *allowed_text;
};

struct config_key {
	const char *name;
	const struct key_type *type;
	size_t offset; /* of the field, for the types shared by several keys */
	size_t size;
	unsigned min, max;
	const char *def;
	bool restart; /* a change needs a restart rather than a SIGHUP reload */
	const char *doc;
};

static void *field(struct config *cfg, const struct config_key *k)
{
	return (char *)cfg + k->offset;
}

static const void *cfield(const struct config *cfg, const struct config_key *k)
{
	return (const char *)cfg + k->offset;
}

/* Digits only: no sign, no blanks, no base prefix, nothing after. */
static int parse_whole(const char *s, unsigned long max, unsigned long *out, char *what,
		       size_t wlen)
{
	unsigned long v = 0;
	const char *p = s;

	if (*s < '0' || *s > '9') {
		snprintf(what, wlen, "'%s' is not a whole number", s);
		return -EINVAL;
	}
	for (; *p >= '0' && *p <= '9'; p++) {
		v = v * 10 + (unsigned long)(*p - '0');
		if (v > max) {
			snprintf(what, wlen, "'%s' is out of range", s);
			return -EINVAL;
		}
	}
	if (*p) {
		snprintf(what, wlen, "'%s' has trailing characters after the number", s);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

static int parse_ranged(const char *s, unsigned min, unsigned max, unsigned *out, char *what,
			size_t wlen)
{
	unsigned long v;
	int r = parse_whole(s, UINT_MAX, &v, what, wlen);

	if (r < 0)
		return r;
	if (v < min || v > max) {
		snprintf(what, wlen, "%lu is out of range", v);
		return -EINVAL;
	}
	*out = (unsigned)v;
	return 0;
}

static int uint_parse(const struct config_key *k, struct config *cfg, const char *value,
		      char *what, size_t wlen)
{
	return parse_ranged(value, k->min, k->max, field(cfg, k), what, wlen);
}

static void uint_format(const struct config_key *k, const struct config *cfg, char *buf,
			size_t len)
{
	snprintf(buf, len, "%u", *(const unsigned *)cfield(cfg, k));
}

static void uint_allowed(const struct config_key *k, char *buf, size_t len)
{
	snprintf(buf, len, "a whole number from %u to %u", k->min, k->max);
}

static const struct key_type uint_type = { uint_parse, uint_format, uint_allowed, NULL };

static int bool_parse(const struct config_key *k, struct config *cfg, const char *value,
		      char *what, size_t wlen)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };
	bool *b = field(cfg, k);

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcmp(value, yes[i]) == 0 || strcmp(value, no[i]) == 0) {
			*b = strcmp(value, yes[i]) == 0;
			return 0;
		}
	}
	snprintf(what, wlen, "'%s' is not a boolean", value);
	return -EINVAL;
}

static void bool_format(const struct config_key *k, const struct config *cfg, char *buf,
			size_t len)
{
	snprintf(buf, len, "%s", *(const bool *)cfield(cfg, k) ? "yes" : "no");
}

static const struct key_type bool_type = { bool_parse, bool_format, NULL,
					   "yes, no, true, false, on, off, 1, 0" };

static void string_format(const struct config_key *k, const struct config *cfg, char *buf,
			  size_t len)
{
	snprintf(buf, len, "%s", (const char *)cfield(cfg, k));
}

/* problem: NULL if value is good, else what is wrong with it ("is not ..."). */
static int store_string(const struct config_key *k, struct config *cfg, const char *value,
			const char *problem, char *what, size_t wlen)
{
	if (strlen(value) >= k->size) {
		snprintf(what, wlen, "value is longer than %zu bytes", k->size - 1);
		return -EINVAL;
	}
	if (problem) {
		snprintf(what, wlen, "'%s' %s", value, problem);
		return -EINVAL;
	}
	strcpy(field(cfg, k), value);
	return 0;
}

/* Names end up in log prefixes, paths and getpwnam(): keep them plain. */
static int name_parse(const struct config_key *k, struct config *cfg, const char *value,
		      char *what, size_t wlen)
{
	bool plain = *value && value[0] != '-' && value[0] != '.' &&
		     !value[strspn(value, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
					  "0123456789._-")];

	return store_string(k, cfg, value, plain ? NULL : "is not a valid name", what, wlen);
}

static void name_allowed(const struct config_key *k, char *buf, size_t len)
{
	snprintf(buf, len, "1 to %zu of A-Z a-z 0-9 . _ -, not starting with '.' or '-'",
		 k->size - 1);
}

static const struct key_type name_type = { name_parse, string_format, name_allowed, NULL };

static int path_parse(const struct config_key *k, struct config *cfg, const char *value,
		      char *what, size_t wlen)
{
	const char *problem = NULL;

	if (*value && value[0] != '/')
		problem = "is not an absolute path";
	for (const char *p = value; *p; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			problem = "contains a control character";
	}
	return store_string(k, cfg, value, problem, what, wlen);
}

static void path_allowed(const struct config_key *k, char *buf, size_t len)
{
	snprintf(buf, len, "an absolute path of at most %zu bytes, or empty for none",
		 k->size - 1);
}

static const struct key_type path_type = { path_parse, string_format, path_allowed, NULL };

static int uuid_parse(const struct config_key *k, struct config *cfg, const char *value,
		      char *what, size_t wlen)
{
	static const char pattern[] = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";
	char uuid[sizeof(pattern)];
	size_t i;

	if (!*value) {
		cfg->uuid[0] = '\0';
		return 0;
	}
	for (i = 0; i < sizeof(pattern) - 1 && value[i]; i++) {
		char c = value[i];

		if (pattern[i] == '-' ? c != '-' : !strchr("0123456789abcdefABCDEF", c))
			break;
		/* sysfs names mdevs in lower case. */
		uuid[i] = (char)(c >= 'A' && c <= 'F' ? c - 'A' + 'a' : c);
	}
	if (i != sizeof(pattern) - 1 || value[i]) {
		snprintf(what, wlen, "'%s' is not a UUID", value);
		return -EINVAL;
	}
	uuid[i] = '\0';
	memcpy(cfg->uuid, uuid, sizeof(uuid));
	return 0;
}

static const struct key_type uuid_type = {
	uuid_parse, string_format, NULL,
	"8-4-4-4-12 hexadecimal digits (an mdev UUID), or empty for none"
};

static int fd_parse(const struct config_key *k, struct config *cfg, const char *value,
		    char *what, size_t wlen)
{
	unsigned v;
	int r;

	if (strcmp(value, "-1") == 0) {
		cfg->device_fd = -1;
		return 0;
	}
	r = parse_ranged(value, 3, INT_MAX, &v, what, wlen);
	if (r < 0)
		return r;
	cfg->device_fd = (int)v;
	return 0;
}

static void fd_format(const struct config_key *k, const struct config *cfg, char *buf,
		      size_t len)
{
	snprintf(buf, len, "%d", cfg->device_fd);
}

static const struct key_type fd_type = {
	fd_parse, fd_format, NULL,
	"-1 for none, or an inherited descriptor from 3 to " STR(INT_MAX)
};

static int loglevel_parse(const struct config_key *k, struct config *cfg, const char *value,
			  char *what, size_t wlen)
{
	if (log_level_parse(value, &cfg->log_level) < 0) {
		snprintf(what, wlen, "'%s' is not a log level", value);
		return -EINVAL;
	}
	return 0;
}

static void loglevel_format(const struct config_key *k, const struct config *cfg, char *buf,
			    size_t len)
{
	snprintf(buf, len, "%s", log_level_name(cfg->log_level));
}

static const struct key_type loglevel_type = { loglevel_parse, loglevel_format, NULL,
					       "error, warning, info, debug" };

static const char *const share_names[] = { [SHARE_SHARED] = "shared",
					   [SHARE_EXCLUSIVE] = "exclusive" };

static int share_parse(const struct config_key *k, struct config *cfg, const char *value,
		       char *what, size_t wlen)
{
	for (size_t i = 0; i < sizeof(share_names) / sizeof(share_names[0]); i++) {
		if (strcmp(value, share_names[i]) == 0) {
			cfg->share = (enum share_policy)i;
			return 0;
		}
	}
	snprintf(what, wlen, "'%s' is not a share policy", value);
	return -EINVAL;
}

static void share_format(const struct config_key *k, const struct config *cfg, char *buf,
			 size_t len)
{
	snprintf(buf, len, "%s", share_names[cfg->share]);
}

static const struct key_type share_type = { share_parse, share_format, NULL,
					    "shared, exclusive" };

/* "1.2.3.4:5900" or "[::1]:5900"; host is stored in inet_ntop's canonical form. */
static int parse_addrport(const char *s, struct listen_addr *out, char *what, size_t wlen)
{
	char host[sizeof(out->host)];
	unsigned char bin[sizeof(struct in6_addr)];
	const char *begin = s, *end, *port;
	int family = AF_INET;
	unsigned v;

	if (s[0] == '[') {
		family = AF_INET6;
		begin++;
		end = strchr(begin, ']');
		port = end && end[1] == ':' ? end + 2 : NULL;
	} else {
		end = strrchr(s, ':');
		port = end ? end + 1 : NULL;
	}
	if (!port || (size_t)(end - begin) >= sizeof(host)) {
		snprintf(what, wlen, "'%s' is not ADDR:PORT", s);
		return -EINVAL;
	}
	memcpy(host, begin, (size_t)(end - begin));
	host[end - begin] = '\0';
	if (inet_pton(family, host, bin) != 1) {
		bool bare_v6 = family == AF_INET && inet_pton(AF_INET6, host, bin) == 1;

		snprintf(what, wlen, "'%s' is not a numeric IPv%d address%s", host,
			 family == AF_INET ? 4 : 6, bare_v6 ? " (IPv6 goes in brackets)" : "");
		return -EINVAL;
	}
	if (parse_ranged(port, 1, 65535, &v, what, wlen) < 0)
		return -EINVAL;
	inet_ntop(family, bin, out->host, sizeof(out->host));
	out->port = (uint16_t)v;
	return 0;
}

static void format_addrport(const struct listen_addr *a, char *buf, size_t len)
{
	snprintf(buf, len, strchr(a->host, ':') ? "[%s]:%u" : "%s:%u", a->host, a->port);
}

static int listen_add(struct config *cfg, const char *tok, char *what, size_t wlen)
{
	struct listen_addr a;

	if (!*tok) {
		snprintf(what, wlen, "empty entry in the list");
		return -EINVAL;
	}
	if (parse_addrport(tok, &a, what, wlen) < 0)
		return -EINVAL;
	for (unsigned i = 0; i < cfg->n_listen; i++) {
		if (strcmp(cfg->listen[i].host, a.host) == 0 && cfg->listen[i].port == a.port) {
			snprintf(what, wlen, "'%s' is listed twice", tok);
			return -EINVAL;
		}
	}
	if (cfg->n_listen == CONFIG_MAX_LISTEN) {
		snprintf(what, wlen, "more than %d addresses", CONFIG_MAX_LISTEN);
		return -EINVAL;
	}
	cfg->listen[cfg->n_listen++] = a;
	return 0;
}

/* All or nothing: cfg keeps its old list if any entry is bad. */
static int listen_parse(const struct config_key *k, struct config *cfg, const char *value,
			char *what, size_t wlen)
{
	struct config tmp = { .n_listen = 0 };
	char list[VALUE_MAX];
	char *tok, *next;

	if (strlen(value) >= sizeof(list)) {
		snprintf(what, wlen, "value is longer than %zu bytes", sizeof(list) - 1);
		return -EINVAL;
	}
	strcpy(list, value);
	for (tok = list; *value && tok; tok = next) {
		next = strchr(tok, ',');
		if (next)
			*next++ = '\0';
		tok += strspn(tok, " \t");
		for (size_t n = strlen(tok); n && (tok[n - 1] == ' ' || tok[n - 1] == '\t'); n--)
			tok[n - 1] = '\0';
		if (listen_add(&tmp, tok, what, wlen) < 0)
			return -EINVAL;
	}
	memcpy(cfg->listen, tmp.listen, sizeof(cfg->listen));
	cfg->n_listen = tmp.n_listen;
	return 0;
}

static void listen_format(const struct config_key *k, const struct config *cfg, char *buf,
			  size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (unsigned i = 0; i < cfg->n_listen && used < len; i++) {
		if (i)
			buf[used++] = ',';
		format_addrport(&cfg->listen[i], buf + used, len - used);
		used += strlen(buf + used);
	}
}

static const struct key_type listen_type = {
	listen_parse, listen_format, NULL,
	"up to " STR(CONFIG_MAX_LISTEN) " comma-separated numeric ADDR:PORT, IPv6 in brackets "
	"([::1]:5900), ports 1 to 65535; empty for none"
};

static bool listen_is_default(const struct config *cfg, unsigned display)
{
	char want[VALUE_MAX], have[VALUE_MAX];

	snprintf(want, sizeof(want), DEFAULT_LISTEN_FMT, DEFAULT_PORT + display,
		 DEFAULT_PORT + display);
	listen_format(NULL, cfg, have, sizeof(have));
	return strcmp(want, have) == 0;
}

/* The default listeners follow the display number until listen is set. */
static int display_parse(const struct config_key *k, struct config *cfg, const char *value,
			 char *what, size_t wlen)
{
	unsigned old = cfg->display;
	char list[VALUE_MAX];
	int r = uint_parse(k, cfg, value, what, wlen);

	if (r < 0 || !listen_is_default(cfg, old))
		return r;
	snprintf(list, sizeof(list), DEFAULT_LISTEN_FMT, DEFAULT_PORT + cfg->display,
		 DEFAULT_PORT + cfg->display);
	return listen_parse(k, cfg, list, what, wlen);
}

static const struct key_type display_type = { display_parse, uint_format, uint_allowed, NULL };

static int metrics_parse(const struct config_key *k, struct config *cfg, const char *value,
			 char *what, size_t wlen)
{
	struct listen_addr a;

	if (!*value) {
		cfg->metrics_listen[0] = '\0';
		return 0;
	}
	if (parse_addrport(value, &a, what, wlen) < 0)
		return -EINVAL;
	format_addrport(&a, cfg->metrics_listen, sizeof(cfg->metrics_listen));
	return 0;
}

static const struct key_type metrics_type = {
	metrics_parse, string_format, NULL,
	"one numeric ADDR:PORT, IPv6 in brackets, or empty for off"
};

static int edid_parse(const struct config_key *k, struct config *cfg, const char *value,
		      char *what, size_t wlen)
{
	char w[16];
	size_t n = strcspn(value, "x");
	unsigned width, height;

	if (strcmp(value, "0x0") == 0) {
		cfg->edid_width = cfg->edid_height = 0;
		return 0;
	}
	if (!value[n] || n >= sizeof(w)) {
		snprintf(what, wlen, "'%s' is not WIDTHxHEIGHT", value);
		return -EINVAL;
	}
	memcpy(w, value, n);
	w[n] = '\0';
	if (parse_ranged(w, k->min, k->max, &width, what, wlen) < 0 ||
	    parse_ranged(value + n + 1, k->min, k->max, &height, what, wlen) < 0)
		return -EINVAL;
	cfg->edid_width = width;
	cfg->edid_height = height;
	return 0;
}

static void edid_format(const struct config_key *k, const struct config *cfg, char *buf,
			size_t len)
{
	snprintf(buf, len, "%ux%u", cfg->edid_width, cfg->edid_height);
}

static void edid_allowed(const struct config_key *k, char *buf, size_t len)
{
	snprintf(buf, len, "WIDTHxHEIGHT in pixels, each from %u to %u, or 0x0 for unset", k->min,
		 k->max);
}

static const struct key_type edid_type = { edid_parse, edid_format, edid_allowed, NULL };

#define FIELD(m) offsetof(struct config, m), sizeof(((struct config *)0)->m)
#define NOFIELD 0, 0

static const struct config_key keys[] = {
	{ "instance", &name_type, FIELD(instance), 0, 0, "default", true,
	  "Name of this instance, used in log lines.\n"
	  "Default: the config file's name without .conf, else \"default\"." },
	{ "uuid", &uuid_type, FIELD(uuid), 0, 0, "", true,
	  "UUID of the mdev to open (/sys/bus/mdev/devices/UUID).\n"
	  "Set exactly one of uuid, device_fd and device_socket." },
	{ "device_fd", &fd_type, NOFIELD, 0, 0, "-1", true,
	  "An already open VFIO device fd inherited from the parent process\n"
	  "(needed when the VMM holds the VFIO group). -1 = none." },
	{ "device_socket", &path_type, FIELD(device_socket), 0, 0, "", true,
	  "Unix socket on which the VMM hands over the device fd (SCM_RIGHTS).\n"
	  "Empty = none." },
	{ "display", &display_type, FIELD(display), 0, 99, "0", true,
	  "VNC display number: the default listeners use TCP port 5900 + display." },
	{ "listen", &listen_type, NOFIELD, 0, 0, "127.0.0.1:5900,[::1]:5900", true,
	  "Comma-separated TCP listeners, ADDR:PORT with IPv6 in brackets.\n"
	  "Default: 127.0.0.1 and ::1 on port 5900 + display. Empty = no TCP." },
	{ "unix_socket", &path_type, FIELD(unix_socket), 0, 0, "", true,
	  "Also serve VNC on this unix socket path. Empty = none." },
	{ "refresh_hz", &uint_type, FIELD(refresh_hz), 1, 240, "60", false,
	  "Highest rate at which the screen is read and sent, in frames per second." },
	{ "display_event", &bool_type, FIELD(display_event), 0, 0, "yes", true,
	  "Use the device's display-event IRQ when it has one, instead of polling\n"
	  "at refresh_hz." },
	{ "log_level", &loglevel_type, NOFIELD, 0, 0, "info", false,
	  "Least severe messages logged: error, warning, info or debug." },
	{ "password_file", &path_type, FIELD(password_file), 0, 0, "", false,
	  "File holding the VNC password (first line; VNC uses 8 characters).\n"
	  "Empty = no authentication." },
	{ "viewonly_password_file", &path_type, FIELD(viewonly_password_file), 0, 0, "", false,
	  "File holding a second password that only allows viewing.\n"
	  "Needs password_file. Empty = none." },
	{ "max_clients", &uint_type, FIELD(max_clients), 1, 64, "16", false,
	  "Most VNC clients connected at once." },
	{ "share", &share_type, NOFIELD, 0, 0, "shared", false,
	  "shared: a new client joins the others; exclusive: it disconnects them." },
	{ "allow_unauthenticated_remote", &bool_type, FIELD(allow_unauthenticated_remote), 0, 0,
	  "no", false,
	  "Allow listening beyond loopback without password_file. Anyone who\n"
	  "reaches the port then sees the screen and drives the VM's input." },
	{ "tls_cert", &path_type, FIELD(tls_cert), 0, 0, "", true,
	  "PEM certificate for TLS websockets (wss://). Needs tls_key. Empty = none." },
	{ "tls_key", &path_type, FIELD(tls_key), 0, 0, "", true,
	  "PEM private key of tls_cert. Empty = none." },
	{ "follow_client_size", &bool_type, FIELD(follow_client_size), 0, 0, "no", false,
	  "Pass a client's requested desktop size to the guest (through EDID)." },
	{ "edid_size", &edid_type, NOFIELD, 64, 4095, "0x0", false,
	  "Preferred resolution announced to the guest, WIDTHxHEIGHT in pixels.\n"
	  "0x0 = leave the device's EDID alone." },
	{ "user", &name_type, FIELD(user), 0, 0, CONFIG_DEFAULT_USER, true,
	  "User to switch to after opening the device, when started as root." },
	{ "metrics_listen", &metrics_type, FIELD(metrics_listen), 0, 0, "", true,
	  "ADDR:PORT of the plain-text metrics endpoint. Empty = off." },
};

#define N_KEYS (sizeof(keys) / sizeof(keys[0]))

static const struct config_key *find_key(const char *name)
{
	for (size_t i = 0; i < N_KEYS; i++) {
		if (strcmp(keys[i].name, name) == 0)
			return &keys[i];
	}
	return NULL;
}

static void key_names(char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < N_KEYS && used < len; i++)
		used += (size_t)snprintf(buf + used, len - used, "%s%s", i ? ", " : "",
					 keys[i].name);
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
	char names[VALUE_MAX];

	key_names(names, sizeof(names));
	key_error(err, errlen, where, name, "unknown key", names);
	return -ENOENT;
}

void config_init(struct config *cfg)
{
	char scratch[8];

	memset(cfg, 0, sizeof(*cfg));
	/* The defaults are valid by construction; the unit tests hold them to it. */
	for (size_t i = 0; i < N_KEYS; i++)
		set_key(cfg, &keys[i], keys[i].def, "default", scratch, sizeof(scratch));
}

int config_set(struct config *cfg, const char *key, const char *value, const char *source,
	       char *err, size_t errlen)
{
	const struct config_key *k = find_key(key);

	if (!k)
		return unknown_key(key, source, err, errlen);
	return set_key(cfg, k, value, source, err, errlen);
}

struct load_ctx {
	struct config *cfg;
	FILE *file;
	const char *path;
	int line;
	int set_at[N_KEYS]; /* line that set each key, 0 = not yet */
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
	const struct config_key *k = find_key(name);
	char where[PATH_MAX + 16];
	size_t i;

	snprintf(where, sizeof(where), "%s:%d", ctx->path, ctx->line);
	if (!k) {
		unknown_key(name, where, ctx->err, ctx->errlen);
		ctx->err_line = ctx->line;
		return 0;
	}
	i = (size_t)(k - keys);
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
	set_key(cfg, find_key("instance"), name, path, scratch, sizeof(scratch));
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
	if (n == 1)
		return 0;
	if (n == 0)
		snprintf(err, errlen, "no device given: set one of uuid, device_fd, device_socket");
	else
		snprintf(err, errlen,
			 "%s are all set: set exactly one of uuid, device_fd, device_socket", which);
	return -EINVAL;
}

static int validate_access(const struct config *cfg, char *err, size_t errlen)
{
	char addr[sizeof(cfg->listen[0].host) + 8];

	if (cfg->viewonly_password_file[0] && !cfg->password_file[0]) {
		snprintf(err, errlen,
			 "viewonly_password_file is set without password_file: set password_file");
		return -EINVAL;
	}
	if (cfg->password_file[0] || cfg->allow_unauthenticated_remote)
		return 0;
	for (unsigned i = 0; i < cfg->n_listen; i++) {
		if (is_loopback(cfg->listen[i].host))
			continue;
		format_addrport(&cfg->listen[i], addr, sizeof(addr));
		snprintf(err, errlen,
			 "listen %s is not loopback and password_file is not set: set "
			 "password_file, or allow_unauthenticated_remote = yes to serve "
			 "it without a password",
			 addr);
		return -EINVAL;
	}
	return 0;
}

int config_validate(const struct config *cfg, char *err, size_t errlen)
{
	int r = validate_device(cfg, err, errlen);

	if (r < 0)
		return r;
	if (!cfg->tls_cert[0] != !cfg->tls_key[0]) {
		snprintf(err, errlen, "%s is set without %s: set both or neither",
			 cfg->tls_cert[0] ? "tls_cert" : "tls_key",
			 cfg->tls_cert[0] ? "tls_key" : "tls_cert");
		return -EINVAL;
	}
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
	char value[VALUE_MAX];

	for (size_t i = 0; i < N_KEYS; i++) {
		keys[i].type->format(&keys[i], cfg, value, sizeof(value));
		print_setting(out, "", keys[i].name, value);
	}
}

int config_restart_needed(const struct config *old, const struct config *new, char *buf,
			  size_t len)
{
	char a[VALUE_MAX], b[VALUE_MAX];
	size_t used = 0;
	int count = 0;

	if (len)
		buf[0] = '\0';
	for (size_t i = 0; i < N_KEYS; i++) {
		if (!keys[i].restart)
			continue;
		keys[i].type->format(&keys[i], old, a, sizeof(a));
		keys[i].type->format(&keys[i], new, b, sizeof(b));
		if (strcmp(a, b) == 0)
			continue;
		if (used < len)
			used += (size_t)snprintf(buf + used, len - used, "%s%s", count ? "," : "",
						 keys[i].name);
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
	char value[VALUE_MAX];

	config_init(&def);
	fprintf(out, "# SPDX-License-Identifier: GPL-2.0-or-later\n"
		     "# mdev-vncd configuration: one \"key = value\" per line, no sections.\n"
		     "# Every key is listed below, commented out, with its default value.\n"
		     "# Lines starting with # or ; are comments. Generated by\n"
		     "# config_print_example(): edit the key table in src/config.c instead.\n");
	for (size_t i = 0; i < N_KEYS; i++) {
		keys[i].type->format(&keys[i], &def, value, sizeof(value));
		fprintf(out, "\n");
		print_comment(out, keys[i].doc);
		print_setting(out, "#", keys[i].name, value);
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
	return ret < 0 ? ret : config_validate(cfg, err, errlen);
}
