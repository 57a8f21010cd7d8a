/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef MDEV_VNCD_METRICS_H
#define MDEV_VNCD_METRICS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct event_base;

/*
 * The metrics endpoint: Prometheus text over HTTP (libevent's evhttp) at
 * /metrics, on the daemon's event loop. It owns no counters: on every
 * scrape it asks the daemon for a sample through a callback, so what it
 * serves is never older than the request.
 */

/* Stages of one frame, each with a time histogram. */
enum metrics_stage {
	METRICS_STAGE_QUERY,   /* QUERY_GFX_PLANE (+ GET_GFX_DMABUF) */
	METRICS_STAGE_IMPORT,  /* making the buffer readable (mmap, sync) */
	METRICS_STAGE_CONVERT, /* damage + convert into the frame store */
	METRICS_STAGE_ENCODE,  /* one framebuffer update to one client */
	METRICS_STAGE_COUNT,
};

/* Upper bounds of the buckets, in seconds: 100 us .. 250 ms, then +Inf. */
#define METRICS_BUCKETS 12
extern const double metrics_bucket_bounds[METRICS_BUCKETS];

/* Plain counts: one writer at a time; the owner copies it under its lock for a sample. */
struct metrics_histogram {
	uint64_t counts[METRICS_BUCKETS + 1]; /* per bucket, the last one is +Inf */
	uint64_t count;
	double sum;                            /* seconds */
};

void metrics_histogram_observe(struct metrics_histogram *h, double seconds);
/* Adds src into dst (per-client histograms summed for a sample). */
void metrics_histogram_add(struct metrics_histogram *dst, const struct metrics_histogram *src);

/* What the daemon reports at a scrape. Counters only grow while it runs. */
struct metrics_sample {
	uint64_t frames_seen;    /* display refreshes: primary plane queries */
	uint64_t frames_changed; /* refreshes that changed pixels */
	uint64_t frames_sent;    /* framebuffer updates sent, all clients */
	uint64_t bytes_sent;     /* bytes written to VNC clients */
	unsigned clients;        /* connected now */
	uint64_t tiles_changed;  /* 64x64 tiles converted ... */
	uint64_t tiles_total;    /* ... of all the tiles compared (0: ratio not reported) */
	uint64_t query_errors;   /* failed plane queries */
	bool gpu_import;         /* import = egl or auto: gpu_readback_bytes is reported */
	uint64_t gpu_readback_bytes; /* read back from the GPU (tile maps and changed tiles) */
	struct metrics_histogram stages[METRICS_STAGE_COUNT];
};

/* Fills *out (zeroed before the call). Runs on the event loop thread. */
typedef void (*metrics_collect_fn)(void *ctx, struct metrics_sample *out);

struct metrics;

/*
 * Serves http://ADDR:PORT/metrics. listen is "ADDR:PORT" as the config
 * writes it (IPv6 in brackets); port 0 picks a free one (see metrics_port).
 * instance labels the info metric. 0 or -errno, logged.
 */
int metrics_new(struct event_base *base, const char *listen, const char *instance,
		metrics_collect_fn collect, void *ctx, struct metrics **out);
/* Closes the listener and any open scrape. Accepts NULL. */
void metrics_free(struct metrics *m);
/* The port actually bound. */
uint16_t metrics_port(const struct metrics *m);

/* Writes the Prometheus text exposition of a sample. */
void metrics_write(FILE *out, const char *instance, const struct metrics_sample *s);

#endif
