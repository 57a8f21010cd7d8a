/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef MDEV_VNCD_IMPORT_AUTO_H
#define MDEV_VNCD_IMPORT_AUTO_H

#include "config.h"
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

/* The method the config's import key names, and what was built for it. */
struct import_choice {
	struct import_method *gpu;       /* import = egl or auto; NULL otherwise */
	struct import_method *automatic; /* import = auto */
};

/*
 * Builds the method for mode (EGL itself is loaded on the first buffer the
 * GPU must import, never here); NULL when out of memory. mdev_uuid may be
 * "" (a device handed over by fd). Free with import_choice_done, after
 * every buffer it imported was unmapped.
 */
const struct import_method *import_choose(struct import_choice *choice, enum import_mode mode,
					  const char *mdev_uuid);
void import_choice_done(struct import_choice *choice);

#endif
