/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef MDEV_VNCD_IMPORT_EGL_H
#define MDEV_VNCD_IMPORT_EGL_H

#include <stdint.h>

#include "import.h"

/*
 * The GPU import method: each dmabuf imported with EGL (EGL_EXT_image_dma_
 * buf_import, with the plane's fourcc, modifier and stride) and bound as a
 * texture, kept per cached dmabuf id until plane.c closes the fd (unmap).
 * A frame costs a render and a readback, never a re-import; damage is found
 * on the GPU (import_egl_render.c).
 *
 * libEGL.so.1 and libGLESv2.so.2 are loaded on the first map, on the calling
 * (display) thread, where the context then lives: a host without GL never
 * loads them. The GPU is the one that owns the mdev (the render node under
 * its parent device in sysfs); with none there, Mesa's surfaceless platform
 * (llvmpipe, or the first render node Mesa finds).
 */

/* mdev_uuid may be NULL (device fd handed over): then no parent GPU is looked for. */
struct import_method *import_egl_new(const char *mdev_uuid);
/* Call after every buffer it imported was unmapped. Accepts NULL. */
void import_egl_free(struct import_method *method);

/* Bytes read back from the GPU so far (frames plus damage maps), for metrics and the bench. */
uint64_t import_egl_bytes_read(const struct import_method *method);

#endif
