// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The metrics endpoint during an end-to-end run: scraped over HTTP and
 * parsed while a client watches the guest's frames.
 */
#include <math.h>
#include <signal.h>
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
#include <cmocka.h>
#include <drm_fourcc.h>

#include "harness.h"
#include "simctl.h"
#include "vnc_probe.h"

/* GET /metrics; the body, or NULL when the endpoint does not answer 200. */
static char *scrape(uint16_t port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons(port),
				    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		close(fd);
		return NULL;
	}
	const char *req = "GET /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
	assert_int_equal(send(fd, req, strlen(req), 0), (ssize_t)strlen(req));
	size_t cap = 1 << 16, used = 0;
	char *buf = malloc(cap);
	ssize_t n;
	while ((n = recv(fd, buf + used, cap - 1 - used, 0)) > 0)
		used += (size_t)n;
	close(fd);
	buf[used] = '\0';
	char *body = strstr(buf, "\r\n\r\n");
	if (strncmp(buf, "HTTP/1.1 200", 12) != 0 || !body) {
		free(buf);
		return NULL;
	}
	memmove(buf, body + 4, strlen(body + 4) + 1);
	return buf;
}

/* Value of the sample named exactly name (labels included); fails when absent. */
static double metric(const char *text, const char *name)
{
	size_t len = strlen(name);
	for (const char *line = text; line; line = strchr(line, '\n')) {
		line += *line == '\n';
		if (strncmp(line, name, len) == 0 && line[len] == ' ')
			return strtod(line + len + 1, NULL);
	}
	fail_msg("no metric %s", name);
	return -1;
}

/*
 * A scrape, polled until the sample name reads at least min (the last answer,
 * NULL if none came, once the deadline passed). The first needs it: the
 * metrics listener opens after the VNC port daemon_start waits for, and the
 * connection it probed that port with counts as a client until the daemon
 * has seen it leave. So does the one after the pictures: a client can see a
 * picture before the daemon counts the update it sent.
 */
static char *scrape_until(uint16_t port, const char *name, double min, double max)
{
	uint64_t deadline = now_ms() + 30000;
	for (;;) {
		char *text = scrape(port);
		if (text) {
			double value = metric(text, name);
			if ((value >= min && value <= max) || now_ms() > deadline)
				return text;
		} else if (now_ms() > deadline) {
			return NULL;
		}
		free(text);
		usleep(20000);
	}
}

static void test_scrape_during_run(void **state)
{
	uint16_t metrics_port = free_port();
	char config[] = "/tmp/mdev-vncd-metrics.XXXXXX";
	int cfd = mkstemp(config);
	assert_true(cfd >= 0);
	dprintf(cfd, "metrics_listen = 127.0.0.1:%u\n", metrics_port);
	close(cfd);
	const char *args[] = { "--config", config, NULL };
	struct daemon_options opts = { .extra_args = args };
	struct daemon_proc d;
	daemon_start(&d, &opts);

	char *text = scrape_until(metrics_port, "mdev_vncd_clients", 0, 0);
	assert_non_null(text);
	assert_true(metric(text, "mdev_vncd_clients") == 0);
	free(text);

	struct sim_plane_desc desc = { .fourcc = DRM_FORMAT_XRGB8888, .width = 800, .height = 600,
				       .stride = 3200, .size = 3200 * 600 };
	uint8_t *pixels = malloc(desc.size);
	/* mbochs' way: the first query after the mode change fails, once. */
	assert_int_equal(simctl_fault(d.sim, SIM_FAULT_ENOMEM_AFTER_MODESET, 1), 0);
	assert_int_equal(simctl_set_plane(d.sim, 1, &desc), 0);
	struct vnc_probe *probe = vnc_probe_connect(d.port, "raw");
	assert_non_null(probe);
	for (uint32_t seed = 1; seed <= 5; seed++) {
		picture_fill(pixels, 800, 600, seed);
		assert_int_equal(simctl_flip(d.sim, 1, pixels, desc.size), 0);
		assert_true(vnc_probe_wait_picture(probe, pixels, 800, 600, 5000));
	}

	text = scrape_until(metrics_port, "mdev_vncd_frames_sent_total", 5, INFINITY);
	assert_non_null(text);
	print_message("%s", text);
	assert_true(metric(text, "mdev_vncd_clients") == 1);
	assert_true(metric(text, "mdev_vncd_frames_seen_total") >= 5);
	assert_true(metric(text, "mdev_vncd_frames_changed_total") >= 5);
	assert_true(metric(text, "mdev_vncd_frames_sent_total") >= 5);
	/* Five full raw frames at least. */
	assert_true(metric(text, "mdev_vncd_bytes_sent_total") >= 5.0 * 800 * 600 * 4);
	/* That one failed query, and none while the plane stayed put. */
	assert_true(metric(text, "mdev_vncd_plane_query_errors_total") == 1);
	double ratio = metric(text, "mdev_vncd_damage_ratio");
	assert_true(ratio > 0 && ratio <= 1);
	static const char *const stages[] = { "query", "import", "convert", "encode" };
	for (int i = 0; i < 4; i++) {
		char name[96];
		snprintf(name, sizeof(name), "mdev_vncd_stage_seconds_count{stage=\"%s\"}", stages[i]);
		assert_true(metric(text, name) >= 1);
	}
	free(text);

	vnc_probe_free(probe);
	assert_int_equal(daemon_stop(&d, SIGTERM), 0);
	unlink(config);
	free(pixels);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scrape_during_run),
	};
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
