/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef KBED_KLOG_H
#define KBED_KLOG_H

/*
 * The guest's kernel log as the kernel bed judges it: clean means no splat
 * (BUG, WARNING, Oops, bad page, refcount underflow, use-after-free, general
 * protection fault, corruption) anywhere in it, and, on a traced mbochs
 * device, no dmabuf id exported again after its export was released: that
 * is a daemon that closed an id's fd and fetched the id once more, which
 * makes stock mbochs put the mode's pages a second time.
 */

struct kbed_klog_verdict {
	unsigned splats;    /* offending lines */
	unsigned exports;   /* the device's traced dmabuf exports */
	unsigned refetches; /* exports of an id after its release */
};

/* Makes mbochs log every dmabuf export and release (dynamic debug). */
int kbed_klog_trace_mbochs(void);

/*
 * Reads the whole kernel log and prints each offending line as
 * "KBED: kernel log: ...". With DEVICE (an mdev's uuid), also follows that
 * device's traced exports and releases. Returns 0 with *v filled, or a
 * negative errno when the log cannot be read.
 */
int kbed_klog_scan(const char *device, struct kbed_klog_verdict *v);

#endif
