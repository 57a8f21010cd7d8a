// SPDX-License-Identifier: GPL-2.0-or-later
/* The key table: each key's type (parse, format, allowed values), default and documentation. */
#include "config_keys.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ini.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_PORT 5900
#define DEFAULT_LISTEN_FMT "127.0.0.1:%u,[::1]:%u"
#define VALUE_MAX CONFIG_VALUE_MAX
#define STR_(x) #x
#define STR(x) STR_(x)

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

/* The index of value in names, or -1 with *what saying it is not a `kind`. */
static int name_index(const char *value, const char *const *names, size_t n, const char *kind,
		      char *what, size_t wlen)
{
	for (size_t i = 0; i < n; i++) {
		if (strcmp(value, names[i]) == 0)
			return (int)i;
	}
	snprintf(what, wlen, "'%s' is not %s", value, kind);
	return -1;
}

#define NAME_INDEX(value, names, kind, what, wlen) \
	name_index(value, names, sizeof(names) / sizeof(names[0]), kind, what, wlen)

static int share_parse(const struct config_key *k, struct config *cfg, const char *value,
		       char *what, size_t wlen)
{
	int i = NAME_INDEX(value, share_names, "a share policy", what, wlen);
	if (i < 0)
		return -EINVAL;
	cfg->share = (enum share_policy)i;
	return 0;
}

static void share_format(const struct config_key *k, const struct config *cfg, char *buf,
			 size_t len)
{
	snprintf(buf, len, "%s", share_names[cfg->share]);
}

static const struct key_type share_type = { share_parse, share_format, NULL,
					    "shared, exclusive" };

static const char *const device_loss_names[] = { [DEVICE_LOSS_EXIT] = "exit",
						 [DEVICE_LOSS_WAIT] = "wait" };

static int device_loss_parse(const struct config_key *k, struct config *cfg, const char *value,
			     char *what, size_t wlen)
{
	int i = NAME_INDEX(value, device_loss_names, "exit or wait", what, wlen);
	if (i < 0)
		return -EINVAL;
	cfg->on_device_loss = (enum device_loss_policy)i;
	return 0;
}

static void device_loss_format(const struct config_key *k, const struct config *cfg, char *buf,
			       size_t len)
{
	snprintf(buf, len, "%s", device_loss_names[cfg->on_device_loss]);
}

static const struct key_type device_loss_type = { device_loss_parse, device_loss_format, NULL,
						  "exit, wait" };

static const char *const import_names[] = { [IMPORT_AUTO] = "auto", [IMPORT_MMAP] = "mmap",
					    [IMPORT_EGL] = "egl" };

static int import_parse(const struct config_key *k, struct config *cfg, const char *value,
			char *what, size_t wlen)
{
	int i = NAME_INDEX(value, import_names, "an import method", what, wlen);
	if (i < 0)
		return -EINVAL;
	cfg->import = (enum import_mode)i;
	return 0;
}

static void import_format(const struct config_key *k, const struct config *cfg, char *buf,
			  size_t len)
{
	snprintf(buf, len, "%s", import_names[cfg->import]);
}

static const struct key_type import_type = { import_parse, import_format, NULL,
					     "auto, mmap, egl" };

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

void config_format_listen(const struct listen_addr *a, char *buf, size_t len)
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
		config_format_listen(&cfg->listen[i], buf + used, len - used);
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
	config_format_listen(&a, cfg->metrics_listen, sizeof(cfg->metrics_listen));
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

#define INPUT_QMP_PREFIX "qmp:"

/* "none", or "qmp:" and the absolute path of the VM's QMP unix socket. */
static int input_parse(const struct config_key *k, struct config *cfg, const char *value,
		       char *what, size_t wlen)
{
	size_t prefix = strlen(INPUT_QMP_PREFIX);

	if (strcmp(value, "none") == 0) {
		cfg->input_qmp[0] = '\0';
		return 0;
	}
	if (strncmp(value, INPUT_QMP_PREFIX, prefix) != 0) {
		snprintf(what, wlen, "'%s' is neither none nor qmp:PATH", value);
		return -EINVAL;
	}
	if (value[prefix] != '/') {
		snprintf(what, wlen, "'%s' does not name an absolute socket path", value);
		return -EINVAL;
	}
	return path_parse(k, cfg, value + prefix, what, wlen);
}

static void input_format(const struct config_key *k, const struct config *cfg, char *buf,
			 size_t len)
{
	if (cfg->input_qmp[0])
		snprintf(buf, len, INPUT_QMP_PREFIX "%s", cfg->input_qmp);
	else
		snprintf(buf, len, "none");
}

static void input_allowed(const struct config_key *k, char *buf, size_t len)
{
	snprintf(buf, len, "none, or qmp:PATH with PATH an absolute unix socket path of at most "
		 "%zu bytes", k->size - 1);
}

static const struct key_type input_type = { input_parse, input_format, input_allowed, NULL };

/* VeNCrypt's keys: tls, auth, and tls_cert's "auto". */
static const char *const tls_names[] = { [TLS_POLICY_AUTO] = "auto",
					 [TLS_POLICY_REQUIRED] = "required",
					 [TLS_POLICY_OPTIONAL] = "optional",
					 [TLS_POLICY_OFF] = "off" };

static int tls_parse(const struct config_key *k, struct config *cfg, const char *value,
		     char *what, size_t wlen)
{
	int i = NAME_INDEX(value, tls_names, "a TLS policy", what, wlen);
	if (i < 0)
		return -EINVAL;
	cfg->tls = (enum tls_policy)i;
	return 0;
}

static void tls_format(const struct config_key *k, const struct config *cfg, char *buf,
		       size_t len)
{
	snprintf(buf, len, "%s", tls_names[cfg->tls]);
}

static const struct key_type tls_type = { tls_parse, tls_format, NULL,
					  "auto, required, optional, off" };

static const char *const auth_names[] = { "plain", "vnc", "none" };

static int auth_parse(const struct config_key *k, struct config *cfg, const char *value,
		      char *what, size_t wlen)
{
	unsigned methods = 0;
	/* Every comma starts one more entry: "plain," has an empty one. */
	for (const char *p = value; *value; p++) {
		size_t n = strcspn(p, ",");
		size_t i = 0;
		while (i < 3 && (strlen(auth_names[i]) != n || strncmp(p, auth_names[i], n) != 0))
			i++;
		if (i == 3 || (methods & (1u << i))) {
			snprintf(what, wlen, "'%.*s' is %s", (int)n, p,
				 i == 3 ? "not a method" : "listed twice");
			return -EINVAL;
		}
		methods |= 1u << i;
		p += n;
		if (!*p)
			break;
	}
	cfg->auth_methods = methods;
	return 0;
}

static void auth_format(const struct config_key *k, const struct config *cfg, char *buf,
			size_t len)
{
	buf[0] = '\0';
	for (unsigned i = 0; i < 3; i++)
		if (cfg->auth_methods & (1u << i))
			snprintf(buf + strlen(buf), len - strlen(buf), "%s%s", buf[0] ? "," : "",
				 auth_names[i]);
}

static const struct key_type auth_type = {
	auth_parse, auth_format, NULL,
	"a comma-separated list of plain, vnc, none; empty for what the secret files allow"
};

static int cert_parse(const struct config_key *k, struct config *cfg, const char *value,
		      char *what, size_t wlen)
{
	if (strcmp(value, CONFIG_TLS_CERT_AUTO) == 0)
		return store_string(k, cfg, value, NULL, what, wlen);
	return path_parse(k, cfg, value, what, wlen);
}

static void cert_allowed(const struct config_key *k, char *buf, size_t len)
{
	snprintf(buf, len, "auto, an absolute path of at most %zu bytes, or empty for none",
		 k->size - 1);
}

static const struct key_type cert_type = { cert_parse, string_format, cert_allowed, NULL };

#define FIELD(m) offsetof(struct config, m), sizeof(((struct config *)0)->m)
#define NOFIELD 0, 0

const struct config_key config_keys[] = {
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
	{ "on_device_loss", &device_loss_type, NOFIELD, 0, 0, "exit", true,
	  "What to do when the device goes away (removed, or its driver asks\n"
	  "for it back). exit: release it and exit with status 75, for the\n"
	  "service manager to restart the daemon. wait: release it, keep the\n"
	  "clients on a \"Device lost\" picture and open the device again once\n"
	  "it is back (the mdev's sysfs node, device_socket, or the QEMU that\n"
	  "qemu_pidfile names, looked at every second). An inherited device_fd\n"
	  "or a qemu_pid cannot come back: wait refuses them." },
	{ "display", &display_type, FIELD(display), 0, 99, "0", true,
	  "VNC display number: the default listeners use TCP port 5900 + display." },
	{ "listen", &listen_type, NOFIELD, 0, 0, "127.0.0.1:5900,[::1]:5900", true,
	  "Comma-separated TCP listeners, ADDR:PORT with IPv6 in brackets.\n"
	  "Default: 127.0.0.1 and ::1 on port 5900 + display. Empty = no TCP." },
	{ "unix_socket", &path_type, FIELD(unix_socket), 0, 0, "", true,
	  "Also serve VNC on this unix socket path. Empty = none." },
	{ "refresh_hz", &uint_type, FIELD(refresh_hz), 1, 240, "60", false,
	  "The guest's frame rate to follow. Without the device's display-event\n"
	  "IRQ the display is read once a period; while the guest page-flips, its\n"
	  "primary plane is queried every eighth of a period from 3/4 of one after\n"
	  "the last read (500 a second at most) and read on each flip. With the\n"
	  "IRQ, it is read on each guest event, at most twice a period, plus once\n"
	  "a second." },
	{ "import", &import_type, NOFIELD, 0, 0, "auto", true,
	  "How display buffers are read. mmap: mapped by the CPU (the fast path;\n"
	  "GVT-g and stock mbochs refuse it). egl: imported on the GPU that owns\n"
	  "the mdev with EGL and read back (needs libEGL, libGLESv2 and a Mesa with\n"
	  "dmabuf import). auto: mmap where the exporter allows it, egl where it\n"
	  "refuses; a placeholder naming both reasons where neither works." },
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
	{ "tls_cert", &cert_type, FIELD(tls_cert), 0, 0, "", true,
	  "PEM certificate for TLS: VeNCrypt for native viewers and wss:// for\n"
	  "browsers. Needs tls_key. auto = a self-signed certificate for this host,\n"
	  "made on first start under state_dir (its SHA-256 fingerprint is logged;\n"
	  "mdev-vncd --print-fingerprint shows it). Empty = none. SIGHUP re-reads it." },
	{ "tls_key", &path_type, FIELD(tls_key), 0, 0, "", true,
	  "PEM private key of tls_cert; only its owner may read it. Empty = none\n"
	  "(and with tls_cert = auto)." },
	{ "follow_client_size", &bool_type, FIELD(follow_client_size), 0, 0, "no", false,
	  "Pass a client's requested desktop size to the guest (through EDID)." },
	{ "edid_size", &edid_type, NOFIELD, 64, 4095, "0x0", false,
	  "Preferred resolution announced to the guest, WIDTHxHEIGHT in pixels.\n"
	  "0x0 = leave the device's EDID alone." },
	{ "user", &name_type, FIELD(user), 0, 0, CONFIG_DEFAULT_USER, true,
	  "User to switch to after opening the device, when started as root." },
	{ "metrics_listen", &metrics_type, FIELD(metrics_listen), 0, 0, "", true,
	  "ADDR:PORT of the plain-text metrics endpoint. Empty = off." },
	{ "input", &input_type, FIELD(input_qmp), 0, 0, "none", true,
	  "Where VNC keyboard and mouse input goes. none: dropped (view only).\n"
	  "qmp:PATH: into the VM through its QEMU's QMP unix socket (-qmp\n"
	  "unix:PATH,server=on,wait=off), as input-send-event: an absolute pointer\n"
	  "(give the VM a usb-tablet or virtio-tablet) and keys. View-only clients\n"
	  "never send input." },
	{ "qemu_pid", &uint_type, FIELD(qemu_pid), 0, 4194304, "0", true,
	  "Beside a running VM: the PID of the QEMU that holds the mdev named by\n"
	  "uuid. The daemon copies QEMU's VFIO group fd (pidfd_getfd: needs\n"
	  "CAP_SYS_PTRACE) and opens the device again from it, or, where QEMU holds\n"
	  "the device through its iommufd cdev, uses its copy of that device fd;\n"
	  "when QEMU exits it lets go of the device and exits (status 0). QEMU\n"
	  "must keep vfio-pci display=off. 0 = none." },
	{ "qemu_pidfile", &path_type, FIELD(qemu_pidfile), 0, 0, "", true,
	  "The same, with QEMU's PID read from this file (libvirt writes\n"
	  "/run/libvirt/qemu/NAME.pid; it must be readable by user). With\n"
	  "on_device_loss = wait the daemon outlives QEMU: a helper process keeps\n"
	  "CAP_SYS_PTRACE, alone, to take the device from QEMU's next start.\n"
	  "Empty = none." },
	/* VeNCrypt: encrypted, authenticated VNC for native viewers. */
	{ "tls", &tls_type, NOFIELD, 0, 0, "auto", true,
	  "VeNCrypt for native viewers. required: only VeNCrypt (TLS) is offered,\n"
	  "and websockets only over TLS; optional: VeNCrypt, and the VNC password\n"
	  "(or none) in the clear; off: libvncserver's VNC password or none.\n"
	  "auto = required when tls_cert is set and a listener is not loopback,\n"
	  "else off." },
	{ "auth", &auth_type, NOFIELD, 0, 0, "", true,
	  "Methods inside TLS, offered in this order: plain (VeNCrypt X509Plain,\n"
	  "user and password from users_file), vnc (X509Vnc, the VNC password),\n"
	  "none (X509None, only when listed). Empty = plain if users_file is set,\n"
	  "vnc if password_file is set." },
	{ "users_file", &path_type, FIELD(users_file), 0, 0, "", false,
	  "File of user:hash lines for auth = plain; only its owner may read it.\n"
	  "mdev-vncd --hash-password USER reads a password on stdin and prints\n"
	  "the line. Empty = none. SIGHUP re-reads it." },
	{ "tls_ca", &path_type, FIELD(tls_ca), 0, 0, "", true,
	  "PEM CA certificates that client certificates must chain to\n"
	  "(with tls_verify_client). Empty = none." },
	{ "tls_verify_client", &bool_type, FIELD(tls_verify_client), 0, 0, "no", true,
	  "TLS clients must show a certificate signed by tls_ca." },
	{ "state_dir", &path_type, FIELD(state_dir), 0, 0, "/var/lib/mdev-vncd", true,
	  "Directory where tls_cert = auto keeps the certificate and key." },
};

const size_t config_key_count = sizeof(config_keys) / sizeof(config_keys[0]);
_Static_assert(sizeof(config_keys) / sizeof(config_keys[0]) <= CONFIG_KEY_MAX,
	       "raise CONFIG_KEY_MAX");

const struct config_key *config_key_find(const char *name)
{
	for (size_t i = 0; i < config_key_count; i++) {
		if (strcmp(config_keys[i].name, name) == 0)
			return &config_keys[i];
	}
	return NULL;
}

