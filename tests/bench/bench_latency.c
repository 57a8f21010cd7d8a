// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Flip -> client pixels latency at 1920x1080 with a one-tile change, on the
 * display-event IRQ path and on the 60 Hz polling path, measured by a
 * libvncclient client that reads a frame number drawn into the changed
 * tile. Also the daemon's wakeups per second while no client is connected.
 * Runs the production daemon under the simulated vGPU.
 */
#include <dirent.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <drm_fourcc.h>

#include "bench_util.h"
#include "harness.h"
#include "simctl.h"
#include "vnc_probe.h"

#define W 1920
#define H 1080
#define FRAMES 180
#define TILE_X 640
#define TILE_Y 512

static uint64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* Voluntary context switches of every thread of pid: each is a wakeup. */
static long wakeups(pid_t pid)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	DIR *dir = opendir(path);
	long total = 0;
	struct dirent *e;
	while (dir && (e = readdir(dir))) {
		if (e->d_name[0] == '.')
			continue;
		char status[320], line[128];
		snprintf(status, sizeof(status), "/proc/%d/task/%s/status", pid, e->d_name);
		FILE *f = fopen(status, "r");
		while (f && fgets(line, sizeof(line), f))
			if (strncmp(line, "voluntary_ctxt_switches:", 24) == 0)
				total += strtol(line + 24, NULL, 10);
		if (f)
			fclose(f);
	}
	if (dir)
		closedir(dir);
	return total;
}

static void draw_frame_number(uint8_t *pixels, uint32_t n)
{
	for (uint32_t y = TILE_Y; y < TILE_Y + 64; y++)
		for (uint32_t x = TILE_X; x < TILE_X + 64; x++)
			((uint32_t *)pixels)[(size_t)y * W + x] = n & 0x00ffffff;
}

static uint32_t client_frame_number(const struct vnc_probe *probe)
{
	const uint32_t *fb = (const uint32_t *)probe->client->frameBuffer;
	return fb[(size_t)(TILE_Y + 32) * W + TILE_X + 32] & 0x00ffffff;
}

static void run_mode(bool irq)
{
	const char *env[] = { irq ? "VGPU_SIM_IRQ=display" : "VGPU_SIM_IRQ=none", NULL };
	const char *args[] = { "--refresh-hz", "60", NULL };
	struct daemon_options opts = { .extra_env = env, .extra_args = args };
	struct daemon_proc d;
	daemon_start(&d, &opts);

	/* Idle first: no client, so the daemon should not wake at all. */
	sleep(1);
	long w0 = wakeups(d.pid);
	sleep(2);
	double idle = (double)(wakeups(d.pid) - w0) / 2.0;

	struct sim_plane_desc desc = {
		.fourcc = DRM_FORMAT_XRGB8888, .width = W, .height = H,
		.stride = W * 4, .size = W * H * 4,
	};
	uint8_t *pixels = calloc(W * H, 4);
	simctl_set_plane(d.sim, 1, &desc);
	picture_fill(pixels, W, H, 1);
	draw_frame_number(pixels, 0);
	simctl_flip(d.sim, 1, pixels, W * H * 4);
	struct vnc_probe *probe = vnc_probe_connect(d.port, "raw");
	if (irq)
		simctl_irq(d.sim, 1ull << 56);
	if (!probe || !vnc_probe_wait_picture(probe, pixels, W, H, 5000)) {
		if (irq)
			simctl_irq(d.sim, 1ull << 56); /* the mode change's ENOMEM retry */
		if (!probe || !vnc_probe_wait_picture(probe, pixels, W, H, 5000)) {
			fprintf(stderr, "bench_latency: the client never got the first frame\n");
			exit(1);
		}
	}

	double ms[FRAMES];
	size_t n = 0;
	size_t row_bytes = (size_t)W * 4;
	uint64_t next = now_us();
	for (uint32_t frame = 1; frame <= FRAMES; frame++) {
		next += 16667; /* a 60 Hz guest */
		while (now_us() < next)
			vnc_probe_pump(probe, 1);
		draw_frame_number(pixels, frame);
		simctl_write(d.sim, 1, TILE_Y * row_bytes, pixels + TILE_Y * row_bytes,
			     64 * row_bytes);
		uint64_t flipped = now_us();
		if (irq)
			simctl_irq(d.sim, 1ull << 56);
		uint64_t deadline = flipped + 1000000;
		while (client_frame_number(probe) != frame && now_us() < deadline) {
			if (WaitForMessage(probe->client, 500) > 0)
				HandleRFBServerMessage(probe->client);
		}
		if (client_frame_number(probe) == frame)
			ms[n++] = (double)(now_us() - flipped) / 1000.0;
	}
	bench_sort(ms, n);
	printf("latency mode=%s median_ms=%.2f p99_ms=%.2f frames=%zu\n", irq ? "irq" : "poll",
	       n ? ms[n / 2] : -1.0, n ? ms[(n * 99) / 100 < n ? (n * 99) / 100 : n - 1] : -1.0, n);
	printf("idle mode=%s wakeups_per_s=%.1f\n", irq ? "irq" : "poll", idle);
	fflush(stdout);
	vnc_probe_free(probe);
	daemon_stop(&d, SIGTERM);
	free(pixels);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	run_mode(true);
	run_mode(false);
	return 0;
}
