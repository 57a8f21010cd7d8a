// SPDX-License-Identifier: GPL-2.0-or-later
/* The metrics endpoint: histogram buckets, the text format, and scrapes over HTTP. */
#include <errno.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <event2/event.h>
#include <cmocka.h>

#include "metrics.h"

/* The value of the sample line that starts with name (labels included), or -1. */
static double value_of(const char *text, const char *name)
{
	size_t len = strlen(name);
	for (const char *line = text; line; line = strchr(line, '\n')) {
		line += *line == '\n';
		if (strncmp(line, name, len) == 0 && line[len] == ' ')
			return strtod(line + len + 1, NULL);
	}
	return -1;
}

static char *format(const char *instance, const struct metrics_sample *s)
{
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	metrics_write(out, instance, s);
	fclose(out);
	return text;
}

static void test_histogram_buckets(void **state)
{
	struct metrics_histogram h = { 0 };
	metrics_histogram_observe(&h, 0.00005);  /* below the first bound */
	metrics_histogram_observe(&h, 0.001);    /* exactly a bound: le is inclusive */
	metrics_histogram_observe(&h, 0.0011);
	metrics_histogram_observe(&h, 3.0);      /* beyond the last: +Inf */
	assert_int_equal(h.counts[0], 1);
	assert_int_equal(h.counts[3], 1);
	assert_int_equal(h.counts[4], 1);
	assert_int_equal(h.counts[METRICS_BUCKETS], 1);
	assert_int_equal(h.count, 4);
	assert_true(h.sum > 3.002 && h.sum < 3.003);

	struct metrics_histogram sum = { 0 };
	metrics_histogram_add(&sum, &h);
	metrics_histogram_add(&sum, &h);
	assert_int_equal(sum.count, 8);
	assert_int_equal(sum.counts[3], 2);
}

static void test_text_format(void **state)
{
	struct metrics_sample s = {
		.frames_seen = 600, .frames_changed = 42, .frames_sent = 40, .bytes_sent = 123456789,
		.clients = 2, .tiles_changed = 30, .tiles_total = 120, .query_errors = 3,
	};
	metrics_histogram_observe(&s.stages[METRICS_STAGE_CONVERT], 0.0003);
	metrics_histogram_observe(&s.stages[METRICS_STAGE_CONVERT], 0.02);
	char *text = format("vm\"1\\", &s);
	assert_non_null(strstr(text, "mdev_vncd_info{instance=\"vm\\\"1\\\\\",version=\""));
	assert_true(value_of(text, "mdev_vncd_frames_seen_total") == 600);
	assert_true(value_of(text, "mdev_vncd_frames_changed_total") == 42);
	assert_true(value_of(text, "mdev_vncd_frames_sent_total") == 40);
	assert_true(value_of(text, "mdev_vncd_bytes_sent_total") == 123456789);
	assert_true(value_of(text, "mdev_vncd_clients") == 2);
	assert_true(value_of(text, "mdev_vncd_plane_query_errors_total") == 3);
	assert_true(value_of(text, "mdev_vncd_damage_ratio") == 0.25);
	assert_null(strstr(text, "gpu_readback_bytes"));
	assert_non_null(strstr(text, "# TYPE mdev_vncd_bytes_sent_total counter\n"));
	assert_non_null(strstr(text, "# TYPE mdev_vncd_stage_seconds histogram\n"));
	/* Buckets are cumulative and end with +Inf = count. */
	assert_true(value_of(text, "mdev_vncd_stage_seconds_bucket{stage=\"convert\",le=\"0.0001\"}") == 0);
	assert_true(value_of(text, "mdev_vncd_stage_seconds_bucket{stage=\"convert\",le=\"0.0005\"}") == 1);
	assert_true(value_of(text, "mdev_vncd_stage_seconds_bucket{stage=\"convert\",le=\"0.025\"}") == 2);
	assert_true(value_of(text, "mdev_vncd_stage_seconds_bucket{stage=\"convert\",le=\"+Inf\"}") == 2);
	assert_true(value_of(text, "mdev_vncd_stage_seconds_count{stage=\"convert\"}") == 2);
	assert_true(value_of(text, "mdev_vncd_stage_seconds_count{stage=\"encode\"}") == 0);
	free(text);

	/* Without a tile total there is no ratio to report. */
	s.tiles_total = 0;
	text = format("vm1", &s);
	assert_null(strstr(text, "damage_ratio"));
	free(text);

	/* With a GPU import, the bytes it read back. */
	s.gpu_import = true;
	s.gpu_readback_bytes = 2040;
	text = format("vm1", &s);
	assert_true(value_of(text, "mdev_vncd_gpu_readback_bytes_total") == 2040);
	free(text);
}

static void collect(void *ctx, struct metrics_sample *out)
{
	unsigned *scrapes = ctx;
	++*scrapes;
	out->frames_seen = 1000 + *scrapes;
	out->clients = 1;
}

struct reply {
	char buf[65536];
	size_t used;
	bool ended, timed_out;
};

static void reply_readable(evutil_socket_t fd, short what, void *arg)
{
	struct reply *r = arg;
	ssize_t n = recv(fd, r->buf + r->used, sizeof(r->buf) - 1 - r->used, 0);
	if (n > 0)
		r->used += (size_t)n;
	else
		r->ended = true; /* the server closed (or the buffer is full) */
}

static void reply_late(evutil_socket_t fd, short what, void *arg)
{
	struct reply *r = arg;
	r->timed_out = true;
}

/*
 * Sends a request and turns the loop, which runs the server too, until the
 * server closes (a generous 10 s at most); returns the response.
 */
static char *http(struct event_base *base, uint16_t port, const char *request)
{
	static struct reply r;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons(port),
				    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	assert_int_equal(connect(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	assert_int_equal(send(fd, request, strlen(request), 0), (ssize_t)strlen(request));
	memset(&r, 0, sizeof(r));
	struct event *readable = event_new(base, fd, EV_READ | EV_PERSIST, reply_readable, &r);
	struct event *late = evtimer_new(base, reply_late, &r);
	assert_int_equal(event_add(readable, NULL), 0);
	assert_int_equal(evtimer_add(late, &(struct timeval){ .tv_sec = 10 }), 0);
	while (!r.ended && !r.timed_out)
		assert_int_equal(event_base_loop(base, EVLOOP_ONCE), 0);
	event_free(readable);
	event_free(late);
	close(fd);
	assert_false(r.timed_out);
	r.buf[r.used] = '\0';
	return r.buf;
}

static void test_scrape(void **state)
{
	struct event_base *base = event_base_new();
	unsigned scrapes = 0;
	struct metrics *m;
	assert_int_equal(metrics_new(base, "127.0.0.1:0", "vm1", collect, &scrapes, &m), 0);
	uint16_t port = metrics_port(m);
	assert_true(port > 0);

	const char *get = "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
	char *reply = http(base, port, get);
	assert_true(strncmp(reply, "HTTP/1.1 200", 12) == 0);
	assert_non_null(strstr(reply, "Content-Type: text/plain; version=0.0.4"));
	/* Each scrape asks for a fresh sample. */
	assert_true(value_of(strstr(reply, "\r\n\r\n") + 4, "mdev_vncd_frames_seen_total") == 1001);
	reply = http(base, port, get);
	assert_true(value_of(strstr(reply, "\r\n\r\n") + 4, "mdev_vncd_frames_seen_total") == 1002);
	assert_int_equal(scrapes, 2);

	reply = http(base, port, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
	assert_true(strncmp(reply, "HTTP/1.1 404", 12) == 0);
	reply = http(base, port, "POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n"
				 "Connection: close\r\n\r\nx");
	/* Refused (405, or 413 for the body) without a scrape. */
	assert_true(strncmp(reply, "HTTP/1.1 4", 10) == 0);
	assert_int_equal(scrapes, 2);

	/* The port is taken now: a second endpoint there fails cleanly. */
	char taken[32];
	snprintf(taken, sizeof(taken), "127.0.0.1:%u", port);
	struct metrics *second = NULL;
	assert_true(metrics_new(base, taken, "vm2", collect, &scrapes, &second) < 0);
	assert_null(second);
	metrics_free(m);
	event_base_free(base);
}

static void test_listen_forms(void **state)
{
	struct event_base *base = event_base_new();
	struct metrics *m = NULL;
	assert_int_equal(metrics_new(base, "127.0.0.1", "x", collect, NULL, &m), -EINVAL);
	assert_int_equal(metrics_new(base, "127.0.0.1:99999", "x", collect, NULL, &m), -EINVAL);
	assert_null(m);
	/* IPv6 in brackets, where the machine has ::1. */
	if (metrics_new(base, "[::1]:0", "x", collect, NULL, &m) == 0) {
		assert_true(metrics_port(m) > 0);
		metrics_free(m);
	}
	metrics_free(NULL);
	event_base_free(base);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_histogram_buckets),
		cmocka_unit_test(test_text_format),
		cmocka_unit_test(test_scrape),
		cmocka_unit_test(test_listen_forms),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
