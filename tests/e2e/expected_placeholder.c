// SPDX-License-Identifier: GPL-2.0-or-later
#include "expected_placeholder.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

uint8_t *expected_placeholder(enum placeholder_kind kind, const char *detail, uint32_t width,
			      uint32_t height)
{
	uint8_t *pixels = calloc((size_t)width * height, 4);

	if (pixels)
		placeholder_draw(pixels, (size_t)width * 4, width, height, kind, E2E_INSTANCE,
				 detail);
	return pixels;
}

bool placeholder_logged_detail(const struct daemon_proc *d, const char *what, char *out,
			       size_t size)
{
	static const char tail[] = "; clients see a placeholder";
	FILE *f = fopen(d->log, "r");
	char line[1024];
	bool found = false;

	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		char *start = strstr(line, what);
		char *end = strstr(line, tail);

		if (!start || !end || end < start + strlen(what) + 2)
			continue;
		start += strlen(what) + 2; /* past ": " */
		snprintf(out, size, "%.*s", (int)(end - start), start);
		found = true;
	}
	fclose(f);
	return found;
}
