// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer harness for the EDID writer's inputs: a GET_REGION_INFO answer
 * whose capability chain the device wrote (its first offset is the struct's
 * own cap_offset, as edid_region.c reads it), and the mode a client asks
 * for against the maximum the device's EDID region claims.
 */
#include <linux/vfio.h>

#include "edid.h"
#include "edid_region.h"
#include "fuzz_util.h"

/* edid_region.c's bound on a region info it reads. */
#define INFO_MAX 4096

static void check_writer(struct fuzz_input *in)
{
	uint32_t width = (uint32_t)fuzz_take(in, 4), height = (uint32_t)fuzz_take(in, 4);
	uint32_t max_width = (uint32_t)fuzz_take(in, 4), max_height = (uint32_t)fuzz_take(in, 4);
	char name[20] = "";
	for (unsigned i = 0; i + 1 < sizeof(name) && in->left; i++)
		name[i] = (char)fuzz_take(in, 1);

	uint8_t blob[EDID_BLOCK_SIZE];
	if (edid_build_fitting(blob, &width, &height, max_width, max_height, name) != 0)
		abort();
	if (width < EDID_MIN_SIDE || width > EDID_MAX_SIDE || height < EDID_MIN_SIDE ||
	    height > EDID_MAX_SIDE)
		abort();
	uint8_t sum = 0;
	for (unsigned i = 0; i < EDID_BLOCK_SIZE; i++)
		sum = (uint8_t)(sum + blob[i]);
	if (sum != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	/* The first byte splits the input: the region info, then the mode request. */
	size_t info_len = (size_t)data[0] * 16;
	data++, size--;
	if (info_len > size)
		info_len = size;
	if (info_len > INFO_MAX)
		info_len = INFO_MAX;

	if (info_len >= sizeof(struct vfio_region_info)) {
		struct guarded_buffer info;
		guarded_alloc(&info, info_len, 0);
		if (!info.data)
			abort();
		memcpy(info.data, data, info_len);
		struct vfio_region_info head;
		memcpy(&head, info.data, sizeof(head)); /* the guarded copy may be unaligned */
		edid_region_caps_name_edid(info.data, (uint32_t)info_len, head.cap_offset);
		guarded_free(&info);
	}
	struct fuzz_input in = { data + info_len, size - info_len };
	check_writer(&in);
	return 0;
}
