/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef MDEV_VNCD_DRM_FORMATS_H
#define MDEV_VNCD_DRM_FORMATS_H

/* DRM fourcc and modifier definitions, from libdrm. */
#include <drm_fourcc.h>

#endif
