// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer harness for the configuration file: the bytes are a file the
 * daemon is pointed at (config_load reads a path, so they go into a memfd
 * named by /proc/self/fd). Whatever the file says, loading, validating and
 * printing it must end with 0 or an error message, never a crash.
 */
#include <errno.h>
#include <stdio.h>
#include <sys/mman.h>

#include "config.h"
#include "fuzz_util.h"

static int file_fd = -1;
static char file_path[64];
static FILE *null_out;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (file_fd < 0) {
		file_fd = memfd_create("fuzz.conf", MFD_CLOEXEC);
		null_out = fopen("/dev/null", "w");
		if (file_fd < 0 || !null_out)
			abort();
		snprintf(file_path, sizeof(file_path), "/proc/self/fd/%d", file_fd);
		fuzz_setup_as_daemon();
	}
	if (ftruncate(file_fd, 0) != 0 || pwrite(file_fd, data, size, 0) != (ssize_t)size)
		abort();

	struct config cfg;
	char err[256] = "";
	config_init(&cfg);
	int r = config_load(&cfg, file_path, err, sizeof(err));
	if (r != 0 && (r >= 0 || !err[0]))
		abort();
	if (r == 0) {
		/* What a reload does next with a file that parsed. */
		struct config defaults;
		char names[128];
		config_init(&defaults);
		config_restart_needed(&defaults, &cfg, names, sizeof(names));
		if (config_validate(&cfg, err, sizeof(err)) == 0)
			config_print(&cfg, null_out);
	}
	return 0;
}
