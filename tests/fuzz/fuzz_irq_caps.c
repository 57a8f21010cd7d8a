// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer harness for the GET_IRQ_INFO capability-chain parser: the
 * bytes stand for what a (possibly hostile) device wrote.
 */
#include <errno.h>
#include <stdlib.h>

#include "irq_caps.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct display_irq_caps out;
	const char *why = NULL;
	int r = irq_caps_parse(data, size, &out, &why);

	if (r != 0 && r != -ENOENT && r != -EINVAL && r != -ENOSPC)
		abort();
	if (r == 0 ? !out.is_display_irq : !why)
		abort();
	return 0;
}
