// SPDX-License-Identifier: GPL-2.0-or-later
#include "metrics.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>

#include "log.h"

const double metrics_bucket_bounds[METRICS_BUCKETS] = {
	0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.0166, 0.025, 0.05, 0.1, 0.25,
};

static const char *const stage_names[METRICS_STAGE_COUNT] = {
	[METRICS_STAGE_QUERY] = "query",
	[METRICS_STAGE_IMPORT] = "import",
	[METRICS_STAGE_CONVERT] = "convert",
	[METRICS_STAGE_ENCODE] = "encode",
};

struct metrics {
	struct evhttp *http;
	struct evhttp_bound_socket *socket;
	metrics_collect_fn collect;
	void *ctx;
	char instance[64];
};

void metrics_histogram_observe(struct metrics_histogram *h, double seconds)
{
	unsigned i = 0;
	while (i < METRICS_BUCKETS && seconds > metrics_bucket_bounds[i])
		i++;
	h->counts[i]++;
	h->count++;
	h->sum += seconds;
}

void metrics_histogram_add(struct metrics_histogram *dst, const struct metrics_histogram *src)
{
	for (unsigned i = 0; i <= METRICS_BUCKETS; i++)
		dst->counts[i] += src->counts[i];
	dst->count += src->count;
	dst->sum += src->sum;
}

static void write_metric(FILE *out, const char *name, const char *type, const char *help,
			 double value)
{
	fprintf(out, "# HELP mdev_vncd_%s %s\n# TYPE mdev_vncd_%s %s\nmdev_vncd_%s %.17g\n", name,
		help, name, type, name, value);
}

/* Label values escape backslash, quote and newline (the text format's rule). */
static void write_label_value(FILE *out, const char *value)
{
	for (const char *c = value; *c; c++) {
		if (*c == '\\' || *c == '"')
			fputc('\\', out);
		if (*c == '\n')
			fputs("\\n", out);
		else
			fputc(*c, out);
	}
}

static void write_histograms(FILE *out, const struct metrics_sample *s)
{
	fputs("# HELP mdev_vncd_stage_seconds Time spent per frame in each pipeline stage.\n"
	      "# TYPE mdev_vncd_stage_seconds histogram\n", out);
	for (unsigned st = 0; st < METRICS_STAGE_COUNT; st++) {
		const struct metrics_histogram *h = &s->stages[st];
		uint64_t cumulative = 0;
		for (unsigned i = 0; i <= METRICS_BUCKETS; i++) {
			cumulative += h->counts[i];
			fprintf(out, "mdev_vncd_stage_seconds_bucket{stage=\"%s\",le=\"", stage_names[st]);
			if (i < METRICS_BUCKETS)
				fprintf(out, "%g", metrics_bucket_bounds[i]);
			else
				fputs("+Inf", out);
			fprintf(out, "\"} %llu\n", (unsigned long long)cumulative);
		}
		fprintf(out, "mdev_vncd_stage_seconds_sum{stage=\"%s\"} %.17g\n", stage_names[st],
			h->sum);
		fprintf(out, "mdev_vncd_stage_seconds_count{stage=\"%s\"} %llu\n", stage_names[st],
			(unsigned long long)h->count);
	}
}

void metrics_write(FILE *out, const char *instance, const struct metrics_sample *s)
{
	fputs("# HELP mdev_vncd_info The daemon's instance and version.\n"
	      "# TYPE mdev_vncd_info gauge\nmdev_vncd_info{instance=\"", out);
	write_label_value(out, instance);
	fprintf(out, "\",version=\"%s\"} 1\n", MDEV_VNCD_VERSION);
	write_metric(out, "frames_seen_total", "counter", "Primary plane queries (display refreshes).",
		     (double)s->frames_seen);
	write_metric(out, "frames_changed_total", "counter", "Refreshes that changed pixels.",
		     (double)s->frames_changed);
	write_metric(out, "frames_sent_total", "counter", "Framebuffer updates sent to clients.",
		     (double)s->frames_sent);
	write_metric(out, "bytes_sent_total", "counter", "Bytes sent to VNC clients.",
		     (double)s->bytes_sent);
	write_metric(out, "clients", "gauge", "VNC clients connected.", s->clients);
	write_metric(out, "plane_query_errors_total", "counter", "Failed plane queries.",
		     (double)s->query_errors);
	write_metric(out, "tiles_changed_total", "counter", "64x64 tiles that changed.",
		     (double)s->tiles_changed);
	if (s->tiles_total) {
		write_metric(out, "tiles_compared_total", "counter", "64x64 tiles compared.",
			     (double)s->tiles_total);
		write_metric(out, "damage_ratio", "gauge",
			     "Share of compared tiles that changed, since start.",
			     (double)s->tiles_changed / (double)s->tiles_total);
	}
	if (s->gpu_import)
		write_metric(out, "gpu_readback_bytes_total", "counter",
			     "Bytes read back from the GPU import (tile maps and changed tiles).",
			     (double)s->gpu_readback_bytes);
	write_histograms(out, s);
}

static void on_request(struct evhttp_request *req, void *arg)
{
	struct metrics *m = arg;
	struct metrics_sample sample = { 0 };
	char *text = NULL;
	size_t len = 0;
	m->collect(m->ctx, &sample);
	FILE *out = open_memstream(&text, &len);
	if (!out) {
		evhttp_send_error(req, HTTP_INTERNAL, NULL);
		return;
	}
	metrics_write(out, m->instance, &sample);
	if (fclose(out) != 0) {
		free(text);
		evhttp_send_error(req, HTTP_INTERNAL, NULL);
		return;
	}
	struct evbuffer *body = evbuffer_new();
	if (!body || evbuffer_add(body, text, len) < 0) {
		evhttp_send_error(req, HTTP_INTERNAL, NULL);
	} else {
		evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
				  "text/plain; version=0.0.4; charset=utf-8");
		evhttp_send_reply(req, HTTP_OK, "OK", body);
	}
	if (body)
		evbuffer_free(body);
	free(text);
}

static void on_other(struct evhttp_request *req, void *arg)
{
	evhttp_send_error(req, HTTP_NOTFOUND, "metrics are at /metrics");
}

/* "1.2.3.4:9100" or "[::1]:9100" into host and port; the config has validated it. */
static int split_listen(const char *listen, char *host, size_t len, uint16_t *port)
{
	const char *colon = strrchr(listen, ':');
	if (!colon)
		return -EINVAL;
	const char *start = listen, *end = colon;
	if (*start == '[' && end > start && end[-1] == ']') {
		start++;
		end--;
	}
	char *rest;
	unsigned long p = strtoul(colon + 1, &rest, 10);
	if ((size_t)(end - start) >= len || *rest || p > 65535)
		return -EINVAL;
	memcpy(host, start, (size_t)(end - start));
	host[end - start] = '\0';
	*port = (uint16_t)p;
	return 0;
}

int metrics_new(struct event_base *base, const char *listen, const char *instance,
		metrics_collect_fn collect, void *ctx, struct metrics **out)
{
	char host[64];
	uint16_t port;
	if (split_listen(listen, host, sizeof(host), &port) < 0) {
		log_error("metrics_listen = %s is not ADDR:PORT", listen);
		return -EINVAL;
	}
	struct metrics *m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->collect = collect;
	m->ctx = ctx;
	snprintf(m->instance, sizeof(m->instance), "%s", instance);
	m->http = evhttp_new(base);
	if (!m->http) {
		metrics_free(m);
		return -ENOMEM;
	}
	/* A scraper sends a small GET; anything else is refused early. */
	evhttp_set_allowed_methods(m->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD);
	evhttp_set_max_headers_size(m->http, 8192);
	evhttp_set_max_body_size(m->http, 0);
	evhttp_set_timeout(m->http, 10);
	evhttp_set_cb(m->http, "/metrics", on_request, m);
	evhttp_set_gencb(m->http, on_other, m);
	m->socket = evhttp_bind_socket_with_handle(m->http, host, port);
	if (!m->socket) {
		int err = errno ? errno : EADDRNOTAVAIL;
		log_error("cannot serve metrics on %s: %s", listen, strerror(err));
		metrics_free(m);
		return -err;
	}
	*out = m;
	log_info("metrics at http://%s%s%s:%u/metrics", strchr(host, ':') ? "[" : "", host,
		 strchr(host, ':') ? "]" : "", metrics_port(m));
	return 0;
}

void metrics_free(struct metrics *m)
{
	if (!m)
		return;
	if (m->http)
		evhttp_free(m->http);
	free(m);
}

uint16_t metrics_port(const struct metrics *m)
{
	struct sockaddr_storage addr;
	socklen_t len = sizeof(addr);
	if (getsockname(evhttp_bound_socket_get_fd(m->socket), (struct sockaddr *)&addr, &len) < 0)
		return 0;
	if (addr.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&addr)->sin6_port);
	return ntohs(((struct sockaddr_in *)&addr)->sin_port);
}
