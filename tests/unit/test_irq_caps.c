// SPDX-License-Identifier: GPL-2.0-or-later
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "irq_caps.h"
#include "vfio_display_irq.h"

#define INFO_SIZE sizeof(struct vfio_irq_info_v6)
#define TYPE_SIZE sizeof(struct vfio_irq_info_cap_type)
#define DISPLAY_SIZE sizeof(struct vfio_irq_info_cap_display)

/* An answer as a device would write it; one spare byte in front to misalign it. */
struct answer {
	unsigned char raw[1 + 1024];
	unsigned char *b;
};

static void put(struct answer *a, size_t off, const void *src, size_t size)
{
	memcpy(a->b + off, src, size);
}

static void init_answer(struct answer *a, bool misaligned, uint32_t argsz, uint32_t flags,
			uint32_t cap_offset)
{
	struct vfio_irq_info_v6 info = {
		.argsz = argsz,
		.flags = flags | VFIO_IRQ_INFO_EVENTFD,
		.index = VFIO_IRQ_DEVICE_SPECIFIC_BASE,
		.count = 1,
		.cap_offset = cap_offset,
	};

	memset(a->raw, 0xA5, sizeof(a->raw));
	a->b = a->raw + misaligned;
	put(a, 0, &info, sizeof(info));
}

static void put_hdr(struct answer *a, size_t off, uint16_t id, uint16_t version, uint32_t next)
{
	struct vfio_info_cap_header h = { .id = id, .version = version, .next = next };

	put(a, off, &h, sizeof(h));
}

static void put_type(struct answer *a, size_t off, uint32_t next, uint32_t type,
		     uint32_t subtype)
{
	struct vfio_irq_info_cap_type cap = {
		.header = { .id = VFIO_IRQ_INFO_CAP_TYPE, .version = 1, .next = next },
		.type = type,
		.subtype = subtype,
	};

	put(a, off, &cap, sizeof(cap));
}

static void put_display(struct answer *a, size_t off, uint32_t next, uint64_t cur, uint64_t pri)
{
	struct vfio_irq_info_cap_display cap = {
		.header = { .id = VFIO_IRQ_INFO_CAP_DISPLAY, .version = 1, .next = next },
		.cur_event_val = cur,
		.pri_event_val = pri,
	};

	put(a, off, &cap, sizeof(cap));
}

static void put_display_type(struct answer *a, size_t off, uint32_t next)
{
	put_type(a, off, next, VFIO_IRQ_TYPE_GFX, VFIO_IRQ_SUBTYPE_GFX_DISPLAY_IRQ);
}

/* Parses the answer and checks the result code; on error, that why is set and out is zero. */
static struct display_irq_caps parse_expect(const struct answer *a, size_t len, int want,
					    const char *why_piece)
{
	struct display_irq_caps out, zero = { .is_display_irq = false };
	const char *why = NULL;
	int r = irq_caps_parse(a->b, len, &out, &why);

	if (r != want)
		fail_msg("got %d (%s), want %d", r, why ? why : "-", want);
	if (r < 0) {
		assert_non_null(why);
		assert_memory_equal(&out, &zero, sizeof(out));
		if (why_piece && !strstr(why, why_piece))
			fail_msg("why '%s' lacks '%s'", why, why_piece);
	}
	return out;
}

static void test_valid_type_only(void **state)
{
	for (int mis = 0; mis < 2; mis++) {
		struct answer a;
		struct display_irq_caps out;
		size_t len = INFO_SIZE + TYPE_SIZE;

		/* v6 put the first capability right after the 20-byte struct. */
		init_answer(&a, mis, (uint32_t)len, VFIO_IRQ_INFO_FLAG_CAPS, INFO_SIZE);
		put_display_type(&a, INFO_SIZE, 0);
		out = parse_expect(&a, len, 0, NULL);
		assert_true(out.is_display_irq);
		assert_false(out.has_plane_values);
	}
}

static void test_valid_with_display(void **state)
{
	for (int mis = 0; mis < 2; mis++) {
		struct answer a;
		struct display_irq_caps out;

		/* display cap first, an unknown one between, type last; a larger buffer than needed. */
		init_answer(&a, mis, 200, VFIO_IRQ_INFO_FLAG_CAPS, 24);
		put_display(&a, 24, 64, 1ull << 48, 1ull << 56);
		put_hdr(&a, 64, 77, 3, 96);
		put_display_type(&a, 96, 0);
		out = parse_expect(&a, 256, 0, NULL);
		assert_true(out.is_display_irq);
		assert_true(out.has_plane_values);
		assert_int_equal(out.primary_event, 1ull << 56);
		assert_int_equal(out.cursor_event, 1ull << 48);
	}
}

static void test_not_display(void **state)
{
	struct answer a;

	init_answer(&a, false, 64, 0, 0);
	parse_expect(&a, 64, -ENOENT, "CAPS unset");
	/* Without the flag, cap_offset means nothing: even a wild one is ignored. */
	init_answer(&a, false, 64, 0, 4096);
	parse_expect(&a, 64, -ENOENT, "CAPS unset");
	/* A plain 16-byte struct vfio_irq_info from a mainline kernel. */
	init_answer(&a, false, 16, 0, 0);
	parse_expect(&a, sizeof(struct vfio_irq_info), -ENOENT, NULL);

	init_answer(&a, false, 64, VFIO_IRQ_INFO_FLAG_CAPS, 0);
	parse_expect(&a, 64, -ENOENT, "type capability");

	init_answer(&a, false, 64, VFIO_IRQ_INFO_FLAG_CAPS, 24);
	put_type(&a, 24, 0, VFIO_IRQ_TYPE_GFX, 2);
	parse_expect(&a, 64, -ENOENT, NULL);
	put_type(&a, 24, 0, 2, VFIO_IRQ_SUBTYPE_GFX_DISPLAY_IRQ);
	parse_expect(&a, 64, -ENOENT, NULL);

	/* A display cap alone does not make a display IRQ. */
	put_display(&a, 24, 0, 1, 2);
	parse_expect(&a, 64, -ENOENT, NULL);

	/* A version we do not know is skipped like an unknown id. */
	put_display_type(&a, 24, 0);
	put_hdr(&a, 24, VFIO_IRQ_INFO_CAP_TYPE, 2, 0);
	parse_expect(&a, 64, -ENOENT, NULL);
}

static void test_unknown_capability_skipped(void **state)
{
	struct answer a;

	init_answer(&a, false, 128, VFIO_IRQ_INFO_FLAG_CAPS, 20);
	put_hdr(&a, 20, 1000, 1, 28);
	put_hdr(&a, 28, 0xffff, 9, 40);
	put_display_type(&a, 40, 0);
	assert_true(parse_expect(&a, 128, 0, NULL).is_display_irq);
}

static void test_truncated(void **state)
{
	struct answer a;

	init_answer(&a, false, 64, VFIO_IRQ_INFO_FLAG_CAPS, 24);
	put_display_type(&a, 24, 0);
	parse_expect(&a, 15, -EINVAL, "shorter than struct vfio_irq_info");

	/* CAPS set but no room for cap_offset. */
	init_answer(&a, false, 16, VFIO_IRQ_INFO_FLAG_CAPS, 0);
	parse_expect(&a, 16, -EINVAL, "no room for cap_offset");

	/* Header cut by argsz. */
	init_answer(&a, false, 28, VFIO_IRQ_INFO_FLAG_CAPS, 24);
	put_display_type(&a, 24, 0);
	parse_expect(&a, 64, -EINVAL, "header beyond the end");

	/* Header whole, body cut. */
	init_answer(&a, false, 36, VFIO_IRQ_INFO_FLAG_CAPS, 24);
	put_display_type(&a, 24, 0);
	parse_expect(&a, 64, -EINVAL, "capability truncated");
	/* The second capability cut by argsz. */
	init_answer(&a, false, 52, VFIO_IRQ_INFO_FLAG_CAPS, 24);
	put_display_type(&a, 24, 40);
	put_display(&a, 40, 0, 1, 2);
	parse_expect(&a, 64, -EINVAL, "capability truncated");
}

static void test_needs_larger_buffer(void **state)
{
	struct answer a;

	/* As the kernel answers a too-small argsz: raised argsz, no chain yet. */
	init_answer(&a, false, 64, VFIO_IRQ_INFO_FLAG_CAPS, 0);
	parse_expect(&a, INFO_SIZE, -ENOSPC, "argsz");
}

static void test_out_of_bounds(void **state)
{
	struct answer a;

	init_answer(&a, false, 64, VFIO_IRQ_INFO_FLAG_CAPS, 1000);
	parse_expect(&a, 64, -EINVAL, "beyond the end");

	init_answer(&a, false, 64, VFIO_IRQ_INFO_FLAG_CAPS, 24);
	put_display_type(&a, 24, 0xfffffff8u);
	parse_expect(&a, 64, -EINVAL, "beyond the end");

	/* Inside len but beyond argsz: bytes the device did not claim. */
	init_answer(&a, false, 40, VFIO_IRQ_INFO_FLAG_CAPS, 40);
	put_display_type(&a, 40, 0);
	parse_expect(&a, 128, -EINVAL, "beyond the end");
}

static void test_offset_into_fixed_struct(void **state)
{
	static const uint32_t offsets[] = { 4, 8, 12, 16 };
	struct answer a;

	for (size_t i = 0; i < sizeof(offsets) / sizeof(offsets[0]); i++) {
		init_answer(&a, false, 64, VFIO_IRQ_INFO_FLAG_CAPS, offsets[i]);
		parse_expect(&a, 64, -EINVAL, "inside the fixed struct");
	}
	/* A next pointing back into the fixed struct. */
	init_answer(&a, false, 64, VFIO_IRQ_INFO_FLAG_CAPS, 24);
	put_display_type(&a, 24, 8);
	parse_expect(&a, 64, -EINVAL, NULL);
}

static void test_misaligned(void **state)
{
	struct answer a;

	init_answer(&a, false, 64, VFIO_IRQ_INFO_FLAG_CAPS, 22);
	put_display_type(&a, 22, 0);
	parse_expect(&a, 64, -EINVAL, "aligned");
}

static void test_loops(void **state)
{
	struct answer a;

	/* Points at itself. */
	init_answer(&a, false, 128, VFIO_IRQ_INFO_FLAG_CAPS, 24);
	put_hdr(&a, 24, 99, 1, 24);
	parse_expect(&a, 128, -EINVAL, "loops back");

	/* Two capabilities pointing at each other. */
	put_hdr(&a, 24, 99, 1, 48);
	put_hdr(&a, 48, 98, 1, 24);
	parse_expect(&a, 128, -EINVAL, "loops back");

	/* A known capability whose next lands inside its own body. */
	put_display_type(&a, 24, 32);
	parse_expect(&a, 128, -EINVAL, "overlaps");
}

static void test_too_many_capabilities(void **state)
{
	struct answer a;
	size_t off = 24;

	init_answer(&a, false, 1024, VFIO_IRQ_INFO_FLAG_CAPS, 24);
	for (int i = 0; i < 100; i++, off += 8)
		put_hdr(&a, off, 500, 1, (uint32_t)(off + 8));
	put_hdr(&a, off, 500, 1, 0);
	parse_expect(&a, 1024, -EINVAL, "more capabilities");
}

static void test_duplicate_capability(void **state)
{
	struct answer a;

	init_answer(&a, false, 128, VFIO_IRQ_INFO_FLAG_CAPS, 24);
	put_display_type(&a, 24, 40);
	put_display_type(&a, 40, 0);
	parse_expect(&a, 128, -EINVAL, "twice");
}

static void test_why_optional(void **state)
{
	struct answer a;
	struct display_irq_caps out;

	init_answer(&a, false, 64, VFIO_IRQ_INFO_FLAG_CAPS, 2);
	assert_int_equal(irq_caps_parse(a.b, 64, &out, NULL), -EINVAL);
}

/* Random damage to a valid answer never crashes and always yields a documented code. */
static void test_random_damage(void **state)
{
	unsigned seed = 12345;

	for (int iter = 0; iter < 20000; iter++) {
		struct answer a;
		struct display_irq_caps out;
		const char *why = NULL;
		size_t len = 20 + (size_t)(rand_r(&seed) % 120);
		int r;

		init_answer(&a, iter & 1, (uint32_t)len, VFIO_IRQ_INFO_FLAG_CAPS, 24);
		put_display(&a, 24, 56, 1, 2);
		put_display_type(&a, 56, 0);
		for (int k = rand_r(&seed) % 6; k >= 0; k--)
			a.b[rand_r(&seed) % 100] = (unsigned char)rand_r(&seed);
		r = irq_caps_parse(a.b, len, &out, &why);
		assert_true(r == 0 || r == -ENOENT || r == -EINVAL || r == -ENOSPC);
		assert_true(r == 0 ? out.is_display_irq : why != NULL);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_type_only),
		cmocka_unit_test(test_valid_with_display),
		cmocka_unit_test(test_not_display),
		cmocka_unit_test(test_unknown_capability_skipped),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_needs_larger_buffer),
		cmocka_unit_test(test_out_of_bounds),
		cmocka_unit_test(test_offset_into_fixed_struct),
		cmocka_unit_test(test_misaligned),
		cmocka_unit_test(test_loops),
		cmocka_unit_test(test_too_many_capabilities),
		cmocka_unit_test(test_duplicate_capability),
		cmocka_unit_test(test_why_optional),
		cmocka_unit_test(test_random_damage),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
