/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef MDEV_VNCD_ID_WATCH_H
#define MDEV_VNCD_ID_WATCH_H

#include <stdbool.h>
#include <stdint.h>

/*
 * Another process reading the vGPU's display, told from the dmabuf ids.
 * Beside mdev-vncd, QEMU must keep vfio-pci display=off (its default): with
 * display=on (or a second mdev-vncd on the same mdev) it queries the planes
 * too, costing the guest and racing the daemon for the device's ids.
 *
 * Ids are allocated by a plane query that finds a framebuffer new, and both
 * drivers that hand them out count from the bottom: mbochs's next_id counts
 * up once per new mode (samples/vfio-mdev/mbochs.c, mbochs_dmabuf_alloc);
 * GVT-g takes the lowest free id (gvt/dmabuf.c, idr_alloc(..., 1, 0)), and
 * an id stays taken while any fd, or a query not yet followed by a fetch
 * (initref), holds it. With the daemon the only reader, every id was
 * allocated by one of its own queries, so an id it has not seen before is
 * at most one above the highest it has seen. One further up means the ids
 * in between were allocated by queries it did not make: another reader,
 * querying framebuffers the daemon never saw (while no client watched, or
 * too briefly for its refresh). Two readers that see the same framebuffers
 * get the same ids, so a second reader shows once the guest changes its
 * display while the daemon does not look, which any desktop guest does.
 *
 * A query that fails may still have allocated an id the daemon never sees:
 * stock mbochs makes the dmabuf of a new mode, then fails that query with
 * ENOMEM (its second query finds the id; a guest quicker than that leaves
 * it unseen). Each failed query since the highest id allows one more.
 *
 * The first id seen is the baseline: what came before is unknown. A daemon
 * restarted beside a running VM may meet ids its earlier run saw and this
 * one did not; the warning names that too.
 */
struct id_watch {
	uint32_t highest;       /* 0: no id seen yet */
	uint32_t failed_since;  /* failed queries since highest was seen */
};

/* Notes a query that failed: it may have allocated an id unseen. */
void id_watch_failed(struct id_watch *w);

/*
 * Notes an id a plane query returned (0, no dmabuf, is ignored). True when
 * it shows ids allocated by someone else: *unseen_from is then the first
 * of them (they run up to id - 1; the daemon's failed queries may account
 * for some).
 */
bool id_watch_note(struct id_watch *w, uint32_t id, uint32_t *unseen_from);

#endif
