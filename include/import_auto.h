/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef MDEV_VNCD_IMPORT_AUTO_H
#define MDEV_VNCD_IMPORT_AUTO_H

#include "import.h"

/*
 * import = auto: each buffer is mapped by the CPU where the exporter
 * allows it and imported on the GPU where it refuses; when both fail the
 * buffer's reason names both refusals. Logs once per change which method
 * serves the display and why. Borrows cpu and gpu: both outlive it.
 */
struct import_method *import_auto_new(const struct import_method *cpu,
				      const struct import_method *gpu);
void import_auto_free(struct import_method *method);

#endif
