// SPDX-License-Identifier: GPL-2.0-or-later
#include "kbed_klog.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* At most this many offending lines are printed; bad_page() alone logs 60 a minute. */
#define KLOG_SHOWN_MAX 24
/* mbochs numbers a device's dmabufs from 1, one per mode the guest set. */
#define KLOG_IDS_MAX 1024

/* mbochs's own dev_dbg() lines: "<func>: <id>" (samples/vfio-mdev/mbochs.c). */
#define MBOCHS_EXPORT "mbochs_dmabuf_export: "
#define MBOCHS_RELEASE "mbochs_release_dmabuf: "

static const struct {
	const char *text;
	bool any_case;
} splats[] = {
	/* as the kernel spells its headers: "bug" would also match "debug" */
	{"BUG", false},
	{"WARNING", false},
	{"Oops", false},
	{"bad page", true},
	{"refcount", true},
	{"underflow", true},
	{"use-after-free", true},
	{"general protection", true},
	{"corruption", true},
};

enum id_state {
	ID_UNSEEN,
	ID_EXPORTED,
	ID_RELEASED,
};

struct scan {
	const char *device;
	struct kbed_klog_verdict *v;
	unsigned shown;
	unsigned char ids[KLOG_IDS_MAX]; /* enum id_state */
};

int kbed_klog_trace_mbochs(void)
{
	static const char *const queries[] = {
		"func mbochs_dmabuf_export +p\n",
		"func mbochs_release_dmabuf +p\n",
	};
	int fd = open("/proc/dynamic_debug/control", O_WRONLY | O_CLOEXEC);
	int ret = 0;

	if (fd < 0)
		return -errno;
	for (size_t i = 0; i < sizeof(queries) / sizeof(queries[0]) && !ret; i++)
		if (write(fd, queries[i], strlen(queries[i])) < 0)
			ret = -errno;
	close(fd);
	return ret;
}

static void report(struct scan *s, const char *what, const char *line)
{
	if (s->shown++ < KLOG_SHOWN_MAX)
		printf("KBED: kernel log: %s%s\n", what, line);
	else if (s->shown == KLOG_SHOWN_MAX + 1)
		printf("KBED: kernel log: (more offending lines not shown)\n");
}

static bool is_splat(const char *msg)
{
	for (size_t i = 0; i < sizeof(splats) / sizeof(splats[0]); i++) {
		const char *t = splats[i].text;

		if (splats[i].any_case ? strcasestr(msg, t) != NULL : strstr(msg, t) != NULL)
			return true;
	}
	return false;
}

/* Follows one traced export or release of the scanned device's dmabufs. */
static void follow_dmabuf(struct scan *s, const char *msg)
{
	const char *exp = strstr(msg, MBOCHS_EXPORT), *rel = strstr(msg, MBOCHS_RELEASE);
	unsigned long id;

	if ((!exp && !rel) || !strstr(msg, s->device))
		return;
	id = strtoul(exp ? exp + strlen(MBOCHS_EXPORT) : rel + strlen(MBOCHS_RELEASE), NULL, 10);
	if (id >= KLOG_IDS_MAX) {
		s->v->splats++;
		report(s, "dmabuf id beyond what the bed follows: ", msg);
		return;
	}
	if (rel) {
		s->ids[id] = ID_RELEASED;
		return;
	}
	s->v->exports++;
	if (s->ids[id] == ID_RELEASED) {
		s->v->refetches++;
		report(s, "id exported again after its release (its fd was closed, then fetched): ",
		       msg);
	}
	s->ids[id] = ID_EXPORTED;
}

/*
 * One /dev/kmsg record per read: "PRIO,SEQ,USEC,FLAGS;MESSAGE\n", then
 * optional " KEY=VALUE" lines (Documentation/ABI/testing/dev-kmsg).
 */
static void scan_record(struct scan *s, char *rec)
{
	char *msg = strchr(rec, ';');

	if (!msg)
		return;
	msg++;
	msg[strcspn(msg, "\n")] = 0;
	if (is_splat(msg)) {
		s->v->splats++;
		report(s, "", msg);
	}
	if (s->device)
		follow_dmabuf(s, msg);
}

int kbed_klog_scan(const char *device, struct kbed_klog_verdict *v)
{
	struct scan s = {.device = device, .v = v};
	char rec[8192];
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	memset(v, 0, sizeof(*v));
	for (;;) {
		ssize_t n = read(fd, rec, sizeof(rec) - 1);

		if (n < 0 && errno == EPIPE)
			continue; /* records overwritten while reading: go on with the next */
		if (n < 0 && errno == EAGAIN)
			break;
		if (n < 0) {
			int err = -errno;

			close(fd);
			return err;
		}
		rec[n] = 0;
		scan_record(&s, rec);
	}
	close(fd);
	return 0;
}
