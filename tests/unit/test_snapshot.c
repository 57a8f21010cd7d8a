// SPDX-License-Identifier: GPL-2.0-or-later
/* The snapshot's PNG writer: what it writes decodes to the picture it was given. */
#include <errno.h>
#include <png.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "snapshot.h"

static char dir[] = "/tmp/test_snapshot.XXXXXX";

static int setup(void **state)
{
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	return rmdir(dir);
}

/* A picture with a row stride wider than its width, padding bytes poisoned. */
static uint8_t *make_picture(uint32_t width, uint32_t height, size_t stride)
{
	uint8_t *p = malloc(stride * height);
	memset(p, 0xee, stride * height);
	for (uint32_t y = 0; y < height; y++)
		for (uint32_t x = 0; x < width; x++) {
			uint8_t *px = p + y * stride + x * 4;
			px[0] = (uint8_t)(x * 7 + y);     /* B */
			px[1] = (uint8_t)(y * 13 + 5);    /* G */
			px[2] = (uint8_t)(x ^ (y << 2));  /* R */
			px[3] = (uint8_t)(x + y);         /* X: must not reach the file */
		}
	return p;
}

static void test_round_trip(void **state)
{
	const uint32_t width = 37, height = 19;
	const size_t stride = width * 4 + 12;
	uint8_t *pic = make_picture(width, height, stride);
	char path[64];
	snprintf(path, sizeof(path), "%s/out.png", dir);
	assert_int_equal(snapshot_write_png(path, pic, stride, width, height), 0);

	png_image image = { .version = PNG_IMAGE_VERSION };
	assert_true(png_image_begin_read_from_file(&image, path));
	assert_int_equal(image.width, width);
	assert_int_equal(image.height, height);
	/* Colour, no alpha: X bytes are not transparency. */
	assert_int_equal(image.format & PNG_FORMAT_FLAG_ALPHA, 0);
	image.format = PNG_FORMAT_RGB;
	uint8_t *rgb = malloc(PNG_IMAGE_SIZE(image));
	assert_true(png_image_finish_read(&image, NULL, rgb, 0, NULL));
	for (uint32_t y = 0; y < height; y++)
		for (uint32_t x = 0; x < width; x++) {
			const uint8_t *want = pic + y * stride + x * 4;
			const uint8_t *got = rgb + ((size_t)y * width + x) * 3;
			assert_int_equal(got[0], want[2]);
			assert_int_equal(got[1], want[1]);
			assert_int_equal(got[2], want[0]);
		}
	char tmp[80];
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	assert_int_equal(access(tmp, F_OK), -1);
	unlink(path);
	free(rgb);
	free(pic);
}

static void test_missing_directory(void **state)
{
	uint8_t *pic = make_picture(4, 4, 16);
	char path[80];
	snprintf(path, sizeof(path), "%s/no/such/dir.png", dir);
	assert_int_equal(snapshot_write_png(path, pic, 16, 4, 4), -ENOENT);
	free(pic);
}

/* An existing file is replaced whole, never left half written. */
static void test_replaces_existing_file(void **state)
{
	char path[64];
	snprintf(path, sizeof(path), "%s/again.png", dir);
	FILE *f = fopen(path, "w");
	fputs("not a png", f);
	fclose(f);
	uint8_t *pic = make_picture(8, 8, 32);
	assert_int_equal(snapshot_write_png(path, pic, 32, 8, 8), 0);
	png_image image = { .version = PNG_IMAGE_VERSION };
	assert_true(png_image_begin_read_from_file(&image, path));
	assert_int_equal(image.width, 8);
	png_image_free(&image);
	unlink(path);
	free(pic);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_missing_directory),
		cmocka_unit_test(test_replaces_existing_file),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
