/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef MDEV_VNCD_TIGHT_JPEG_H
#define MDEV_VNCD_TIGHT_JPEG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <rfb/rfb.h>

/*
 * Framebuffer updates for a client that takes Tight with JPEG (it sent a
 * JPEG quality level), encoded here instead of by libvncserver 0.9.14,
 * whose Tight encoder cuts the picture into 65536-pixel strips of whatever
 * height that gives (34 rows at 1920 wide: not a multiple of JPEG's 8 or
 * 16-row blocks, 20% more bytes) and runs its palette and solid-area scans
 * over every one.
 *
 * Here the update is cut into bands of 32 rows on a 32-pixel grid. Within a
 * band, a run of 32x32 blocks of one colour, and a run of mixed blocks with
 * no more colours than libvncserver would put in a palette, go to
 * libvncserver's Tight encoder (fill, mono or palette: exact); the rest is
 * JPEG, compressed by libjpeg-turbo straight from the client's framebuffer
 * (no translation: JPEG carries no pixel format) at the quality and chroma
 * subsampling the client asked for. libjpeg's API is used rather than
 * TurboJPEG's: libvncserver exports a TurboJPEG of its own under the same
 * symbol names.
 *
 * Large updates are compressed in parallel: the client's thread and, from
 * its first JPEG update on, one helper thread per further CPU (at most 3)
 * take runs in order, and the client's thread sends each as soon as it is
 * done, so the viewer decodes one run while the next is compressed.
 *
 * One encoder per client, used only by that client's thread (its helpers
 * only read the client's framebuffer, and only while an update is sent).
 */
struct tight_jpeg;

/* peer names the client in the log; it must outlive the encoder. */
struct tight_jpeg *tight_jpeg_new(const char *peer);
void tight_jpeg_free(struct tight_jpeg *enc);

/*
 * For libvncserver's displayHook, which runs as an update is about to be
 * sent. When the client takes Tight with JPEG (and the update needs nothing
 * only libvncserver can do: a new framebuffer size, a cursor drawn into the
 * picture, its once-only pseudo-rectangles), sends the update itself: the
 * cursor's shape and position if they changed, then the requested part of
 * the modified region, which is then no longer modified nor requested, so
 * libvncserver finds nothing left to send. Returns false when it left the
 * update to libvncserver.
 */
bool tight_jpeg_send_update(struct tight_jpeg *enc, rfbClientPtr cl);

/*
 * Whether w x h pixels (32 bits each, rows stride bytes apart) hold more
 * than limit colours (limit <= 128); the padding byte does not count.
 */
bool tight_jpeg_more_colours_than(const uint8_t *pixels, size_t stride, uint32_t w, uint32_t h,
				  unsigned limit);

#endif
