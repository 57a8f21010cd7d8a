// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The EGL import method on Mesa's llvmpipe (bookworm-backports Mesa, see
 * fetch-mesa.sh): memfds stand in for dmabufs (llvmpipe imports a dmabuf by
 * mapping it, so any mappable fd works). Every linear format must come out
 * exactly as the CPU converter makes it (convert_rect is the reference;
 * YUV within the few levels the two YUV paths differ by), and the GPU
 * damage map must read back exactly the changed tiles. No GPU import here
 * is a failure, not a skip: the test exists to prove the path works.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <drm_fourcc.h>

#ifndef PR_SET_MDWE /* Linux 6.3 */
#define PR_SET_MDWE 65
#define PR_MDWE_REFUSE_EXEC_GAIN 1
#endif

#include "import_egl.h"

#define YUV_TOLERANCE 3 /* Mesa's YUV sampler vs libyuv, both BT.601 limited */

struct egl_fixture {
	struct import_method *egl;
};

static int setup(void **state)
{
	static struct egl_fixture f;
	f.egl = import_egl_new(NULL);
	*state = &f;
	return f.egl ? 0 : -1;
}

static int teardown(void **state)
{
	struct egl_fixture *f = *state;
	import_egl_free(f->egl);
	return 0;
}

static int bytes_memfd(const uint8_t *bytes, size_t size)
{
	int fd = memfd_create("egl-test", MFD_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, bytes, size, 0), (ssize_t)size);
	return fd;
}

static void random_bytes(uint8_t *p, size_t n, unsigned seed)
{
	uint32_t x = seed * 2654435761u + 1;
	for (size_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		p[i] = (uint8_t)x;
	}
}

struct imported {
	int fd;
	struct pixel_layout layout;
	uint8_t *src;
	size_t size;
	struct mapped_buffer map;
};

static void import_random(struct egl_fixture *f, struct imported *im, uint32_t fourcc,
			  uint32_t width, uint32_t height, unsigned seed)
{
	unsigned cpp = convert_bytes_per_pixel(fourcc);
	im->layout = (struct pixel_layout){
		.fourcc = fourcc,
		.modifier = DRM_FORMAT_MOD_LINEAR,
		.width = width,
		.height = height,
		.stride = width * cpp + 36,
	};
	im->size = (size_t)im->layout.stride * height;
	im->src = malloc(im->size);
	assert_non_null(im->src);
	random_bytes(im->src, im->size, seed);
	im->fd = bytes_memfd(im->src, im->size);
	struct import_request req = {
		.fd = im->fd, .is_dmabuf = true, .size = im->size, .layout = &im->layout,
	};
	const char *why = NULL;
	int ret = f->egl->map(f->egl, &req, &im->map, &why);
	if (ret < 0)
		fail_msg("GPU import of %.4s failed: %s", (const char *)&fourcc, why);
	assert_null(im->map.data);
}

static void release(struct egl_fixture *f, struct imported *im)
{
	f->egl->unmap(&im->map);
	close(im->fd);
	free(im->src);
}

static const struct damage_map *read_frame(struct egl_fixture *f, struct imported *im,
					   uint8_t *fb, bool fb_current)
{
	struct import_frame frame = {
		.layout = &im->layout,
		.fb = fb,
		.fb_stride = (size_t)im->layout.width * 4,
		.fb_current = fb_current,
	};
	const struct damage_map *damage = NULL;
	const char *why = NULL;
	if (f->egl->read_frame(&im->map, &frame, &damage, &why) < 0)
		fail_msg("reading a frame back failed: %s", why);
	assert_non_null(damage);
	return damage;
}

/* Largest difference of B, G, R between the GPU's picture and the CPU converter's. */
static int deviation(const struct imported *im, const uint8_t *fb)
{
	uint32_t w = im->layout.width, h = im->layout.height;
	uint8_t *want = calloc((size_t)w * h, 4);
	assert_non_null(want);
	convert_rect(&im->layout, im->src, want, (size_t)w * 4, (struct rect){ 0, 0, w, h });
	int worst = 0;
	for (size_t i = 0; i < (size_t)w * h; i++)
		for (int c = 0; c < 3; c++) {
			int d = abs(fb[i * 4 + c] - want[i * 4 + c]);
			worst = d > worst ? d : worst;
		}
	free(want);
	return worst;
}

static void test_every_linear_format(void **state)
{
	static const struct {
		uint32_t fourcc;
		int tolerance;
	} formats[] = {
		{ DRM_FORMAT_XRGB8888, 0 }, { DRM_FORMAT_ARGB8888, 0 },
		{ DRM_FORMAT_XBGR8888, 0 }, { DRM_FORMAT_ABGR8888, 0 },
		{ DRM_FORMAT_RGB565, 0 },   { DRM_FORMAT_XRGB2101010, 0 },
		{ DRM_FORMAT_XBGR2101010, 0 }, { DRM_FORMAT_C8, 0 },
		{ DRM_FORMAT_YUYV, YUV_TOLERANCE }, { DRM_FORMAT_UYVY, YUV_TOLERANCE },
		{ DRM_FORMAT_YVYU, YUV_TOLERANCE }, { DRM_FORMAT_VYUY, YUV_TOLERANCE },
	};
	struct egl_fixture *f = *state;
	for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
		struct imported im;
		/* Not multiples of 64: the edge tiles are partial. */
		import_random(f, &im, formats[i].fourcc, 333, 97, (unsigned)i + 1);
		uint8_t *fb = calloc(333 * 97, 4);
		assert_non_null(fb);
		const struct damage_map *damage = read_frame(f, &im, fb, false);
		assert_int_equal(damage->dirty_count, damage->cols * damage->rows);
		int worst = deviation(&im, fb);
		printf("%.4s: largest deviation from the CPU converter %d\n",
		       (const char *)&formats[i].fourcc, worst);
		if (worst > formats[i].tolerance)
			fail_msg("%.4s deviates by %d levels", (const char *)&formats[i].fourcc, worst);
		free(fb);
		release(f, &im);
	}
}

static void poke(struct imported *im, uint32_t x, uint32_t y, uint8_t value)
{
	size_t at = (size_t)y * im->layout.stride + (size_t)x * 4;
	im->src[at] = value;
	assert_int_equal(pwrite(im->fd, &value, 1, (off_t)at), 1);
}

/* Exactly the changed tiles are read back; an unchanged frame reads the tile map only. */
static void test_gpu_damage(void **state)
{
	struct egl_fixture *f = *state;
	struct imported im;
	const uint32_t w = 640, h = 480, cols = 10, rows = 8;
	import_random(f, &im, DRM_FORMAT_XRGB8888, w, h, 99);
	uint8_t *fb = calloc((size_t)w * h, 4);
	assert_non_null(fb);

	uint64_t before = import_egl_bytes_read(f->egl);
	read_frame(f, &im, fb, false);
	assert_int_equal(import_egl_bytes_read(f->egl) - before, (uint64_t)w * h * 4);

	before = import_egl_bytes_read(f->egl);
	const struct damage_map *damage = read_frame(f, &im, fb, true);
	assert_int_equal(damage->dirty_count, 0);
	assert_int_equal(import_egl_bytes_read(f->egl) - before, (uint64_t)cols * rows * 4);

	poke(&im, 3 * 64 + 17, 2 * 64 + 5, (uint8_t)(im.src[(2 * 64 + 5) * im.layout.stride] + 1));
	poke(&im, w - 1, h - 1, (uint8_t)~im.src[(size_t)(h - 1) * im.layout.stride + (w - 1) * 4]);
	before = import_egl_bytes_read(f->egl);
	damage = read_frame(f, &im, fb, true);
	assert_int_equal(damage->dirty_count, 2);
	assert_true(damage->dirty[2 * cols + 3]);
	assert_true(damage->dirty[(rows - 1) * cols + cols - 1]);
	/* The last tile row is 480 - 448 = 32 pixels high. */
	assert_int_equal(import_egl_bytes_read(f->egl) - before,
			 (uint64_t)cols * rows * 4 + 64 * 64 * 4 + 64 * 32 * 4);
	assert_int_equal(deviation(&im, fb), 0);

	/* A picture the method did not write (a placeholder in between): everything again. */
	memset(fb, 0, (size_t)w * h * 4);
	damage = read_frame(f, &im, fb, false);
	assert_int_equal(damage->dirty_count, cols * rows);
	assert_int_equal(deviation(&im, fb), 0);
	free(fb);
	release(f, &im);
}

/* Cursor shapes keep their alpha: ARGB8888 back byte for byte, the padding dropped. */
static void test_argb_read_keeps_alpha(void **state)
{
	struct egl_fixture *f = *state;
	struct imported im;
	import_random(f, &im, DRM_FORMAT_ARGB8888, 64, 48, 11);
	uint8_t *argb = calloc(64 * 48, 4);
	assert_non_null(argb);
	const char *why = NULL;
	if (f->egl->read_argb(&im.map, argb, &why) < 0)
		fail_msg("reading the cursor back failed: %s", why);
	for (uint32_t y = 0; y < 48; y++)
		assert_memory_equal(argb + y * 64 * 4, im.src + (size_t)y * im.layout.stride, 64 * 4);
	free(argb);
	release(f, &im);
}

/* A plane that changed under the same id is not read with the old import's numbers. */
static void test_changed_plane_refused(void **state)
{
	struct egl_fixture *f = *state;
	struct imported im;
	import_random(f, &im, DRM_FORMAT_XRGB8888, 128, 64, 7);
	struct pixel_layout moved = im.layout;
	moved.stride += 64;
	uint8_t *fb = calloc(128 * 64, 4);
	assert_non_null(fb);
	struct import_frame frame = { .layout = &moved, .fb = fb, .fb_stride = 128 * 4 };
	const struct damage_map *damage = NULL;
	const char *why = NULL;
	assert_int_equal(f->egl->read_frame(&im.map, &frame, &damage, &why), -ESTALE);
	assert_non_null(strstr(why, "changed format or size under the same dmabuf id"));
	free(fb);
	release(f, &im);
}

/* llvmpipe has no Intel tiling: the refusal names the GPU, the format and the modifier. */
static void test_tiled_refused(void **state)
{
	struct egl_fixture *f = *state;
	uint8_t bytes[64 * 4 * 64];
	memset(bytes, 0, sizeof(bytes));
	int fd = bytes_memfd(bytes, sizeof(bytes));
	struct pixel_layout layout = {
		.fourcc = DRM_FORMAT_XRGB8888,
		.modifier = I915_FORMAT_MOD_X_TILED,
		.width = 64,
		.height = 64,
		.stride = 512,
	};
	struct import_request req = {
		.fd = fd, .is_dmabuf = true, .size = sizeof(bytes), .layout = &layout,
	};
	struct mapped_buffer map;
	const char *why = NULL;
	assert_int_equal(f->egl->map(f->egl, &req, &map, &why), -ENOTSUP);
	assert_non_null(why);
	printf("refusal: %s\n", why);
	assert_non_null(strstr(why, "cannot import XR24 modifier 0x100000000000001"));
	close(fd);
}

/*
 * llvmpipe reads a dmabuf through a CPU mapping of its own, and Mesa 25
 * does not fail the import when that mapping is refused: it samples from
 * NULL. A pipe refuses every mapping (ENODEV, as GVT-g's dmabufs do): the
 * import refuses the buffer with the reason before Mesa sees it.
 */
static void test_unmappable_refused_on_llvmpipe(void **state)
{
	struct egl_fixture *f = *state;
	int fds[2];
	assert_int_equal(pipe(fds), 0);
	struct pixel_layout layout = { DRM_FORMAT_XRGB8888, DRM_FORMAT_MOD_LINEAR, 64, 64, 256 };
	struct import_request req = {
		.fd = fds[0], .is_dmabuf = true, .size = 64 * 256, .layout = &layout,
	};
	struct mapped_buffer map;
	const char *why = NULL;
	assert_int_equal(f->egl->map(f->egl, &req, &map, &why), -ENODEV);
	assert_non_null(why);
	printf("refusal: %s\n", why);
	assert_non_null(strstr(why, "(llvmpipe"));
	assert_non_null(strstr(why, "renders in software and needs a CPU mapping of the dmabuf, "
				    "which the exporter refused"));
	close(fds[0]);
	close(fds[1]);
}

/*
 * Where the process may not make memory executable (systemd's
 * MemoryDenyWriteExecute, here the kernel's PR_SET_MDWE), llvmpipe's JIT
 * would crash on the first frame: the import refuses with the reason
 * instead. PR_SET_MDWE cannot be undone: in a child.
 */
static void test_jit_forbidden_refused(void **state)
{
	(void)state;
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (prctl(PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN, 0L, 0L, 0L) < 0)
			_exit(2);
		struct import_method *egl = import_egl_new(NULL);
		uint8_t bytes[64 * 64 * 4] = { 0 };
		int fd = bytes_memfd(bytes, sizeof(bytes));
		struct pixel_layout layout = { DRM_FORMAT_XRGB8888, DRM_FORMAT_MOD_LINEAR, 64, 64, 256 };
		struct import_request req = {
			.fd = fd, .is_dmabuf = true, .size = sizeof(bytes), .layout = &layout,
		};
		struct mapped_buffer map;
		const char *why = "";
		int ret = egl->map(egl, &req, &map, &why);
		printf("refusal under MDWE: %s\n", why);
		_exit(ret == -EPERM && strstr(why, "may not make memory executable") ? 0 : 1);
	}
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_linear_format),
		cmocka_unit_test(test_gpu_damage),
		cmocka_unit_test(test_argb_read_keeps_alpha),
		cmocka_unit_test(test_changed_plane_refused),
		cmocka_unit_test(test_tiled_refused),
		cmocka_unit_test(test_unmappable_refused_on_llvmpipe),
		cmocka_unit_test(test_jit_forbidden_refused),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
