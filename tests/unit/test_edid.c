// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The EDID blob decoded as a guest's driver would: header, version,
 * checksum, and the preferred detailed timing giving back the requested
 * size at about 60 Hz with a sane blanking; sizes out of range refused.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "edid.h"

struct mode {
	uint32_t clock_khz, h_active, h_blank, v_active, v_blank, h_sync_end, v_sync_end;
};

static struct mode decode_preferred(const uint8_t *b)
{
	const uint8_t *d = &b[54];
	struct mode m = {
		.clock_khz = (uint32_t)(d[0] | d[1] << 8) * 10,
		.h_active = d[2] | (uint32_t)(d[4] >> 4) << 8,
		.h_blank = d[3] | (uint32_t)(d[4] & 0xf) << 8,
		.v_active = d[5] | (uint32_t)(d[7] >> 4) << 8,
		.v_blank = d[6] | (uint32_t)(d[7] & 0xf) << 8,
	};
	uint32_t h_front = d[8] | (uint32_t)(d[11] >> 6) << 8;
	uint32_t h_sync = d[9] | (uint32_t)((d[11] >> 4) & 3) << 8;
	uint32_t v_front = (d[10] >> 4) | (uint32_t)((d[11] >> 2) & 3) << 4;
	uint32_t v_sync = (d[10] & 0xf) | (uint32_t)(d[11] & 3) << 4;
	m.h_sync_end = h_front + h_sync;
	m.v_sync_end = v_front + v_sync;
	return m;
}

static void check(uint32_t w, uint32_t h)
{
	uint8_t b[EDID_BLOCK_SIZE];
	memset(b, 0xaa, sizeof(b));
	assert_int_equal(edid_build(b, w, h, "test"), 0);
	static const uint8_t header[8] = { 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0 };
	assert_memory_equal(b, header, 8);
	assert_int_equal(b[18], 1);
	assert_int_equal(b[19], 4);
	uint8_t sum = 0;
	for (int i = 0; i < EDID_BLOCK_SIZE; i++)
		sum = (uint8_t)(sum + b[i]);
	assert_int_equal(sum, 0);
	assert_int_equal(b[126], 0); /* no extension blocks */
	assert_true(b[24] & 0x02);   /* the first timing is the preferred one */

	struct mode m = decode_preferred(b);
	assert_int_equal(m.h_active, w);
	assert_int_equal(m.v_active, h);
	assert_true(m.h_sync_end < m.h_blank);
	assert_true(m.v_sync_end < m.v_blank);
	double hz = (double)m.clock_khz * 1000.0 / ((double)(w + m.h_blank) * (h + m.v_blank));
	print_message("%ux%u: %.2f Hz, clock %u kHz, blank %u/%u\n", w, h, hz, m.clock_khz,
		      m.h_blank, m.v_blank);
	assert_true(hz > 59.0 && hz < 60.5);
	/* The monitor name descriptor. */
	assert_int_equal(b[75], 0xfc);
	assert_memory_equal(&b[77], "test\n", 5);
}

static void test_common_sizes(void **state)
{
	check(1024, 768);
	check(1920, 1080);
	check(1280, 800);
	check(800, 600);
	check(3840, 2160);
	check(1366, 768);
	check(4095, 2160);
	check(64, 64);
	check(640, 480);
}

static void test_known_timing(void **state)
{
	/* VESA DMT's 1920x1080 reduced blanking: 138.5 MHz, 2080 x 1111. */
	uint8_t b[EDID_BLOCK_SIZE];
	assert_int_equal(edid_build(b, 1920, 1080, NULL), 0);
	struct mode m = decode_preferred(b);
	assert_int_equal(m.clock_khz, 138500);
	assert_int_equal(m.h_blank, 160);
	assert_int_equal(m.v_blank, 31);
}

static void test_out_of_range(void **state)
{
	uint8_t b[EDID_BLOCK_SIZE];
	assert_int_equal(edid_build(b, 0, 768, NULL), -EINVAL);
	assert_int_equal(edid_build(b, 63, 768, NULL), -EINVAL);
	assert_int_equal(edid_build(b, 1024, 0, NULL), -EINVAL);
	assert_int_equal(edid_build(b, 4096, 768, NULL), -EINVAL);
	assert_int_equal(edid_build(b, 1024, 5000, NULL), -EINVAL);
	assert_int_equal(edid_build(b, 4095, 4095, NULL), -ERANGE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_common_sizes),
		cmocka_unit_test(test_known_timing),
		cmocka_unit_test(test_out_of_range),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
