// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * plane against the simulated vGPU: the transport probe, zeroed queries, and
 * the dmabuf cache that must fetch each id exactly once (the sim counts a
 * double fetch or a fetch after close, both fatal on real mbochs). The sim
 * picks dmabuf or region planes when it loads, so the test re-executes
 * itself under the sim once per transport (see sim_child.h).
 */
#include <dlfcn.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>
#include <drm_fourcc.h>

#include "plane.h"
#include "sim_child.h"
#include "simctl.h"
#include "vfio_device.h"

#define SIM_UUID "4b20d080-1b54-4048-85b3-a6a62d165c01"
#define SIM_REGION_FB_INDEX 16
#define PRIMARY 1

/* Device behaviours the sim does not have, played between the module and the sim. */
static struct {
	bool fail_probes;     /* every PROBE query is EINVAL: a device without planes */
	bool copy_back;       /* a real query succeeds without touching the struct */
	uint32_t query_flags; /* flags of the last real query */
	unsigned mmaps;       /* file mappings made */
} fake;

int ioctl(int fd, unsigned long req, ...)
{
	static int (*next)(int, unsigned long, ...);
	struct vfio_device_gfx_plane_info *info;
	va_list ap;
	void *arg;

	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (!next)
		next = (int (*)(int, unsigned long, ...))dlsym(RTLD_NEXT, "ioctl");
	if (req != VFIO_DEVICE_QUERY_GFX_PLANE)
		return next(fd, req, arg);
	info = arg;
	if (info->flags & VFIO_GFX_PLANE_TYPE_PROBE) {
		if (!fake.fail_probes)
			return next(fd, req, arg);
		errno = EINVAL;
		return -1;
	}
	fake.query_flags = info->flags;
	return fake.copy_back ? 0 : next(fd, req, arg);
}

void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	static void *(*next)(void *, size_t, int, int, int, off_t);

	if (!next)
		next = (void *(*)(void *, size_t, int, int, int, off_t))dlsym(RTLD_NEXT, "mmap");
	fake.mmaps += fd >= 0;
	return next(addr, len, prot, flags, fd, off);
}

struct fixture {
	struct vfio_device *dev;
	struct simctl *ctl;
	struct plane_source *src;
	struct sim_stats before; /* the sim's counters live as long as the process */
};

static struct sim_stats stats(struct fixture *f)
{
	struct sim_stats s;

	assert_int_equal(simctl_stats(f->ctl, &s), 0);
	return s;
}

/* Runs plane_source_new with stderr in a file; returns what it logged. */
static int new_source_logged(struct fixture *f, char *log, size_t size)
{
	FILE *tmp = tmpfile();
	int saved = dup(STDERR_FILENO);
	size_t n;
	int ret;

	assert_non_null(tmp);
	assert_true(saved >= 0);
	fflush(stderr);
	assert_true(dup2(fileno(tmp), STDERR_FILENO) >= 0);
	ret = plane_source_new(f->dev, &import_cpu_mmap, &f->src);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	rewind(tmp);
	n = fread(log, 1, size - 1, tmp);
	log[n] = '\0';
	fclose(tmp);
	return ret;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	const char *why = NULL;
	char log[1024];

	memset(&fake, 0, sizeof(fake));
	if (!f)
		return -1;
	*state = f;
	if (vfio_device_open_uuid(SIM_UUID, &f->dev, &why) < 0) {
		fprintf(stderr, "cannot open the sim device: %s\n", why);
		return -1;
	}
	f->ctl = simctl_connect(getenv("VGPU_SIM_CONTROL"), 2000);
	if (!f->ctl || simctl_fault(f->ctl, SIM_FAULT_ENOMEM_AFTER_MODESET, 0) < 0 ||
	    simctl_stats(f->ctl, &f->before) < 0)
		return -1;
	return new_source_logged(f, log, sizeof(log));
}

/* Whatever a test did, no id was fetched twice and freeing closed every dmabuf. */
static int teardown(void **state)
{
	struct fixture *f = *state;
	const struct sim_plane_desc off = { 0 };
	struct sim_stats s = { 0 }, before = f->before;
	int ret = -1;

	plane_source_free(f->src);
	/* Released before judging: a failed check must not leave the group held. */
	if (f->ctl && simctl_set_plane(f->ctl, PRIMARY, &off) == 0 &&
	    simctl_fault(f->ctl, SIM_FAULT_MMAP_EINVAL, 0) == 0 && simctl_stats(f->ctl, &s) == 0)
		ret = 0;
	simctl_free(f->ctl);
	vfio_device_free(f->dev);
	free(f);
	assert_int_equal(ret, 0);
	assert_int_equal(s.dmabuf_double_fetch, before.dmabuf_double_fetch);
	assert_int_equal(s.dmabuf_refetch_after_close, before.dmabuf_refetch_after_close);
	assert_int_equal(s.rules_broken, before.rules_broken);
	assert_int_equal(s.open_dmabuf_fds, 0);
	return 0;
}

static void fill(uint8_t *p, size_t len, unsigned seed)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(i * 7 + seed * 31 + (i >> 8));
}

/* A new guest mode of w x h XRGB8888 holding the pattern of seed. */
static void set_mode(struct fixture *f, uint32_t w, uint32_t h, uint32_t alloc, unsigned seed)
{
	struct sim_plane_desc desc = {
		.fourcc = DRM_FORMAT_XRGB8888,
		.width = w,
		.height = h,
		.stride = w * 4,
		.size = w * h * 4,
		.alloc_size = alloc,
	};
	uint8_t *pixels = malloc(desc.size);

	assert_non_null(pixels);
	fill(pixels, desc.size, seed);
	assert_int_equal(simctl_set_plane(f->ctl, PRIMARY, &desc), 0);
	assert_int_equal(simctl_write(f->ctl, PRIMARY, 0, pixels, desc.size), 0);
	free(pixels);
}

/* The buffer behind the current primary plane, checked to hold the pattern of seed. */
static struct plane_buffer *current_buffer(struct fixture *f, unsigned seed, uint32_t *id)
{
	struct vfio_device_gfx_plane_info info;
	struct plane_buffer *buf = NULL;
	uint8_t *want;

	assert_int_equal(plane_source_query(f->src, PRIMARY, &info), 0);
	assert_true(plane_info_enabled(&info));
	assert_int_equal(plane_source_buffer(f->src, &info, &buf), 0);
	assert_non_null(buf);
	assert_int_equal(buf->import_error, 0);
	assert_true(buf->map.size >= info.size);
	want = malloc(info.size);
	assert_non_null(want);
	fill(want, info.size, seed);
	assert_int_equal(plane_source_begin_read(f->src, buf), 0);
	assert_memory_equal(buf->map.data, want, info.size);
	plane_source_end_read(f->src, buf);
	free(want);
	if (id)
		*id = info.dmabuf_id;
	return buf;
}

/* Asks for the buffer of an id the cache should still hold. */
static struct plane_buffer *cached_buffer(struct fixture *f, uint32_t id)
{
	struct vfio_device_gfx_plane_info info = { .dmabuf_id = id };
	struct plane_buffer *buf = NULL;
	uint64_t fetched = stats(f).get_dmabuf;

	assert_int_equal(plane_source_buffer(f->src, &info, &buf), 0);
	assert_int_equal(buf->id, id);
	assert_int_equal(stats(f).get_dmabuf, fetched);
	return buf;
}

static void test_probe_dmabuf(void **state)
{
	struct fixture *f = *state;
	uint64_t probes = stats(f).query_probe;
	struct plane_source *first = f->src;
	char log[1024];

	assert_int_equal(plane_source_transport(f->src), PLANE_TRANSPORT_DMABUF);
	assert_int_equal(new_source_logged(f, log, sizeof(log)), 0);
	plane_source_free(first);
	assert_non_null(strstr(log, "offers display planes: dmabuf yes, region no"));
	assert_non_null(strstr(log, "group 42"));
	assert_int_equal(stats(f).query_probe, probes + 2);
	assert_int_equal(plane_source_cached_dmabufs(f->src), 0);
}

/* What the source logged about its dmabuf id policy when made again on this device. */
static void policy_logged(struct fixture *f, const char *want)
{
	struct plane_source *first = f->src;
	char log[1024];

	assert_int_equal(new_source_logged(f, log, sizeof(log)), 0);
	plane_source_free(first);
	if (!strstr(log, want))
		fail_msg("logged \"%s\", wanted \"%s\"", log, want);
	/* Once, when the source is made. */
	assert_ptr_equal(strstr(strstr(log, "dmabuf ids:") + 1, "dmabuf ids:"), NULL);
}

static void test_lifetime_of(void **state)
{
	const char *why = NULL;

	assert_int_equal(plane_id_lifetime_of(0x8086, 0x3e92, &why), PLANE_IDS_RECYCLED);
	assert_non_null(strstr(why, "GVT-g"));
	assert_int_equal(plane_id_lifetime_of(0x8086, 0x5912, &why), PLANE_IDS_RECYCLED);
	assert_int_equal(plane_id_lifetime_of(0x1234, 0x1111, &why), PLANE_IDS_KEPT);
	assert_non_null(strstr(why, "mbochs"));
	assert_int_equal(plane_id_lifetime_of(0x1b36, 0x000f, &why), PLANE_IDS_KEPT);
	assert_non_null(strstr(why, "mdpy"));
	assert_int_equal(plane_id_lifetime_of(0x1234, 0x1112, &why), PLANE_IDS_KEPT);
	assert_non_null(strstr(why, "unknown"));
	assert_int_equal(plane_id_lifetime_of(0, 0, &why), PLANE_IDS_KEPT);
}

static void test_probe_none(void **state)
{
	struct fixture *f = *state;
	struct plane_source *kept = f->src;
	char log[1024];

	fake.fail_probes = true;
	assert_int_equal(new_source_logged(f, log, sizeof(log)), -ENODEV);
	assert_ptr_equal(f->src, kept);
	assert_non_null(strstr(log, "dmabuf no, region no"));
	assert_non_null(strstr(log, "has no display planes"));
}

/* A driver that copies the input back for a disabled plane must not leak garbage. */
static void test_query_zeroes(void **state)
{
	struct fixture *f = *state;
	struct vfio_device_gfx_plane_info info, zero = { 0 };

	fake.copy_back = true;
	memset(&info, 0xa5, sizeof(info));
	assert_int_equal(plane_source_query(f->src, PRIMARY, &info), 0);
	assert_int_equal(info.argsz, sizeof(info));
	assert_int_equal(info.flags, VFIO_GFX_PLANE_TYPE_DMABUF);
	assert_int_equal(fake.query_flags, VFIO_GFX_PLANE_TYPE_DMABUF);
	assert_int_equal(info.drm_plane_type, PRIMARY);
	zero.argsz = info.argsz;
	zero.flags = info.flags;
	zero.drm_plane_type = info.drm_plane_type;
	assert_memory_equal(&info, &zero, sizeof(info));
	assert_false(plane_info_enabled(&info));
}

/*
 * GVT-g copies the caller's struct back untouched for a disabled plane
 * (intel_vgpu_query_plane): after a picture, a struct full of garbage must
 * still come back as "no plane".
 */
static void test_gvt_echo_zeroed(void **state)
{
	struct fixture *f = *state;
	const struct sim_plane_desc off = { 0 };
	struct vfio_device_gfx_plane_info info, zero = { 0 };

	set_mode(f, 64, 64, 0, 1);
	current_buffer(f, 1, NULL);
	assert_int_equal(simctl_set_plane(f->ctl, PRIMARY, &off), 0);
	memset(&info, 0xa5, sizeof(info));
	assert_int_equal(plane_source_query(f->src, PRIMARY, &info), 0);
	zero.argsz = sizeof(info);
	zero.flags = VFIO_GFX_PLANE_TYPE_DMABUF;
	zero.drm_plane_type = PRIMARY;
	assert_memory_equal(&info, &zero, sizeof(info));
	assert_false(plane_info_enabled(&info));
}

static void test_disabled_plane(void **state)
{
	struct fixture *f = *state;
	const struct sim_plane_desc off = { 0 };
	const struct vfio_device_gfx_plane_info on = {
		.drm_format = DRM_FORMAT_XRGB8888, .width = 8, .height = 8, .size = 256,
	};
	struct vfio_device_gfx_plane_info info;

	assert_int_equal(simctl_set_plane(f->ctl, PRIMARY, &off), 0);
	assert_int_equal(plane_source_query(f->src, PRIMARY, &info), 0);
	assert_false(plane_info_enabled(&info));
	assert_true(plane_info_enabled(&on));
	/* Any one of the picture's numbers at zero means no picture. */
	info = on, info.drm_format = 0;
	assert_false(plane_info_enabled(&info));
	info = on, info.width = 0;
	assert_false(plane_info_enabled(&info));
	info = on, info.height = 0;
	assert_false(plane_info_enabled(&info));
	info = on, info.size = 0;
	assert_false(plane_info_enabled(&info));
}

static void test_query_error(void **state)
{
	struct fixture *f = *state;
	struct vfio_device_gfx_plane_info info;

	assert_int_equal(simctl_fault(f->ctl, SIM_FAULT_QUERY_EIO, 1), 0);
	assert_int_equal(plane_source_query(f->src, PRIMARY, &info), -EIO);
	assert_int_equal(plane_source_query(f->src, PRIMARY, &info), 0);
}

static void test_same_id_fetched_once(void **state)
{
	struct fixture *f = *state;
	uint64_t fetched = stats(f).get_dmabuf;
	struct plane_buffer *buf;
	uint32_t id;

	set_mode(f, 64, 64, 0, 1);
	buf = current_buffer(f, 1, &id);
	assert_int_equal(buf->id, id);
	assert_int_equal(stats(f).get_dmabuf, fetched + 1);
	for (int i = 0; i < 3; i++)
		assert_ptr_equal(current_buffer(f, 1, NULL), buf);
	assert_int_equal(stats(f).get_dmabuf, fetched + 1);
	assert_int_equal(plane_source_cached_dmabufs(f->src), 1);
	assert_int_equal(stats(f).open_dmabuf_fds, 1);
}

/* The buffer's size is what the dmabuf really has, not what the plane claims. */
static void test_real_size(void **state)
{
	struct fixture *f = *state;
	struct plane_buffer *buf;

	set_mode(f, 64, 64, 20000, 2);
	buf = current_buffer(f, 2, NULL);
	assert_int_equal(buf->real_size, 20000);
	assert_int_equal(buf->map.size, 20000);
	assert_int_equal(buf->map.sync_fd >= 0, true);
}

static void test_lru_eviction(void **state)
{
	struct fixture *f = *state;
	uint32_t ids[PLANE_DMABUF_CACHE_SIZE + 2];
	unsigned n = PLANE_DMABUF_CACHE_SIZE;
	uint64_t fetched;

	for (unsigned i = 0; i < n; i++) {
		set_mode(f, 32, 16 + i, 0, 10 + i);
		current_buffer(f, 10 + i, &ids[i]);
	}
	assert_int_equal(plane_source_cached_dmabufs(f->src), n);
	/* The first id is used again: the second is now the least recently used. */
	cached_buffer(f, ids[0]);

	set_mode(f, 32, 64, 0, 50);
	current_buffer(f, 50, &ids[n]);
	assert_int_equal(plane_source_cached_dmabufs(f->src), n);
	assert_int_equal(stats(f).open_dmabuf_fds, n);
	cached_buffer(f, ids[0]);
	for (unsigned i = 2; i <= n; i++)
		cached_buffer(f, ids[i]);

	/* The evicted id's fd was closed, so the driver hands that id out again: fetch anew. */
	fetched = stats(f).get_dmabuf;
	set_mode(f, 32, 80, 0, 60);
	current_buffer(f, 60, &ids[n + 1]);
	assert_int_equal(ids[n + 1], ids[1]);
	assert_int_equal(stats(f).get_dmabuf, fetched + 1);
}

/* GVT-g frees ids with their last fd: the source keeps a bounded cache. */
static void test_gvt_policy(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(plane_source_id_lifetime(f->src), PLANE_IDS_RECYCLED);
	policy_logged(f, "dmabuf ids: the 8 most recently used are kept (device 8086:3e92, "
			 "Intel GVT-g");
}

/*
 * mbochs: more modes than the recycling cache holds, and back again. Each
 * id is fetched once and its fd never closed (the sim counts a broken rule
 * otherwise), and a held fd shows what the guest draws now.
 */
static void test_mbochs_ids_kept(void **state)
{
	struct fixture *f = *state;
	const unsigned n = PLANE_DMABUF_CACHE_SIZE + 4;
	uint32_t ids[PLANE_DMABUF_CACHE_SIZE + 4], id;
	uint64_t fetched;

	assert_int_equal(plane_source_id_lifetime(f->src), PLANE_IDS_KEPT);
	policy_logged(f, "dmabuf ids: kept for the device's life, at most 64 (device 1234:1111, "
			 "mbochs: ids are permanent per mode");
	for (unsigned i = 0; i < n; i++) {
		set_mode(f, 64, 64 + i, 0, 20 + i);
		current_buffer(f, 20 + i, &ids[i]);
	}
	fetched = stats(f).get_dmabuf;
	for (unsigned i = 0; i < n; i++) {
		set_mode(f, 64, 64 + i, 0, 40 + i);
		current_buffer(f, 40 + i, &id);
		assert_int_equal(id, ids[i]);
	}
	assert_int_equal(stats(f).get_dmabuf, fetched);
	assert_int_equal(plane_source_cached_dmabufs(f->src), n);
	assert_int_equal(stats(f).open_dmabuf_fds, n);
}

/*
 * An unknown device's ids are kept too, but not without end: past the
 * limit a new id is refused and nothing held is closed.
 */
static void test_unknown_ids_bounded(void **state)
{
	struct fixture *f = *state;
	struct vfio_device_gfx_plane_info info;
	struct plane_buffer *buf = NULL;
	uint32_t first;

	assert_int_equal(plane_source_id_lifetime(f->src), PLANE_IDS_KEPT);
	policy_logged(f, "(device 1234:5157, unknown driver");
	for (unsigned i = 0; i < PLANE_DMABUF_KEEP_MAX; i++) {
		set_mode(f, 16, 1 + i, 0, 100 + i);
		current_buffer(f, 100 + i, i ? NULL : &first);
	}
	set_mode(f, 16, 200, 0, 300);
	assert_int_equal(plane_source_query(f->src, PRIMARY, &info), 0);
	assert_int_equal(plane_source_buffer(f->src, &info, &buf), -EMFILE);
	assert_int_equal(plane_source_cached_dmabufs(f->src), PLANE_DMABUF_KEEP_MAX);
	assert_int_equal(stats(f).open_dmabuf_fds, PLANE_DMABUF_KEEP_MAX);
	cached_buffer(f, first);
}

static void test_flip_back(void **state)
{
	struct fixture *f = *state;
	uint8_t pixels[64 * 64 * 4]; /* 64x64: the smallest mode mbochs shows */
	struct plane_buffer *a, *b;
	uint32_t id_a, id_b;
	uint64_t fetched;

	set_mode(f, 64, 64, 0, 3);
	a = current_buffer(f, 3, &id_a);
	fill(pixels, sizeof(pixels), 4);
	assert_int_equal(simctl_flip(f->ctl, PRIMARY, pixels, sizeof(pixels)), 0);
	b = current_buffer(f, 4, &id_b);
	assert_int_not_equal(id_a, id_b);
	assert_ptr_not_equal(a, b);

	fetched = stats(f).get_dmabuf;
	fill(pixels, sizeof(pixels), 5);
	assert_int_equal(simctl_flip(f->ctl, PRIMARY, pixels, sizeof(pixels)), 0);
	assert_ptr_equal(current_buffer(f, 5, NULL), a);
	fill(pixels, sizeof(pixels), 6);
	assert_int_equal(simctl_flip(f->ctl, PRIMARY, pixels, sizeof(pixels)), 0);
	assert_ptr_equal(current_buffer(f, 6, NULL), b);
	assert_int_equal(stats(f).get_dmabuf, fetched);
	assert_int_equal(plane_source_cached_dmabufs(f->src), 2);
}

/* A refused mapping is remembered with the buffer: not retried every frame. */
static void test_import_refused(void **state)
{
	struct fixture *f = *state;
	struct vfio_device_gfx_plane_info info;
	struct plane_buffer *buf = NULL, *again = NULL;
	uint64_t fetched;
	unsigned mmaps;

	assert_int_equal(simctl_fault(f->ctl, SIM_FAULT_MMAP_EINVAL, 1), 0);
	set_mode(f, 64, 64, 0, 7);
	fetched = stats(f).get_dmabuf;
	mmaps = fake.mmaps;
	assert_int_equal(plane_source_query(f->src, PRIMARY, &info), 0);
	assert_int_equal(plane_source_buffer(f->src, &info, &buf), 0);
	assert_int_equal(buf->import_error, -EINVAL);
	assert_non_null(buf->import_why);
	assert_non_null(strstr(buf->import_why, "refused a CPU mapping"));
	assert_null(buf->map.data);
	assert_int_equal(buf->real_size, 64 * 64 * 4);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(plane_source_buffer(f->src, &info, &again), 0);
		assert_ptr_equal(again, buf);
	}
	assert_int_equal(fake.mmaps, mmaps + 1);
	assert_int_equal(stats(f).get_dmabuf, fetched + 1);
}

/* A failed fetch holds no slot: the next call fetches. */
static void test_fetch_fails(void **state)
{
	struct fixture *f = *state;
	struct vfio_device_gfx_plane_info info;
	struct plane_buffer *buf = NULL;

	set_mode(f, 16, 16, 0, 8);
	assert_int_equal(simctl_fault(f->ctl, SIM_FAULT_DMABUF_EIO, 1), 0);
	assert_int_equal(plane_source_query(f->src, PRIMARY, &info), 0);
	assert_int_equal(plane_source_buffer(f->src, &info, &buf), -EIO);
	assert_int_equal(plane_source_cached_dmabufs(f->src), 0);
	current_buffer(f, 8, NULL);
	assert_int_equal(plane_source_cached_dmabufs(f->src), 1);
}

static void test_probe_region(void **state)
{
	struct fixture *f = *state;
	struct plane_source *first = f->src;
	char log[1024];

	assert_int_equal(plane_source_transport(f->src), PLANE_TRANSPORT_REGION);
	assert_int_equal(new_source_logged(f, log, sizeof(log)), 0);
	plane_source_free(first);
	assert_non_null(strstr(log, "offers display planes: dmabuf no, region yes"));
	assert_int_equal(plane_source_transport(f->src), PLANE_TRANSPORT_REGION);
}

static void test_region_plane(void **state)
{
	struct fixture *f = *state;
	struct vfio_device_gfx_plane_info info;
	struct plane_buffer *buf;
	unsigned mmaps;

	/* 64 x 30 x 4 bytes: the region is that, rounded up to pages. */
	set_mode(f, 64, 30, 0, 9);
	mmaps = fake.mmaps;
	buf = current_buffer(f, 9, NULL);
	assert_int_equal(plane_source_query(f->src, PRIMARY, &info), 0);
	assert_int_equal(fake.query_flags, VFIO_GFX_PLANE_TYPE_REGION);
	assert_int_equal(info.region_index, SIM_REGION_FB_INDEX);
	assert_int_equal(buf->id, SIM_REGION_FB_INDEX);
	assert_int_equal(buf->real_size, 8192);
	assert_int_equal(buf->map.sync_fd, -1);
	assert_ptr_equal(current_buffer(f, 9, NULL), buf);
	assert_int_equal(fake.mmaps, mmaps + 1);
	assert_int_equal(plane_source_cached_dmabufs(f->src), 0);
	assert_int_equal(stats(f).get_dmabuf, 0);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

static const struct CMUnitTest dmabuf_tests[] = {
	T(test_probe_dmabuf),	     T(test_probe_none),	 T(test_query_zeroes),
	T(test_disabled_plane),	     T(test_query_error),	 T(test_same_id_fetched_once),
	T(test_real_size),	     T(test_flip_back),		 T(test_import_refused),
	T(test_fetch_fails),	     T(test_unknown_ids_bounded), cmocka_unit_test(test_lifetime_of),
};
static const struct CMUnitTest gvt_tests[] = {
	T(test_gvt_policy), T(test_gvt_echo_zeroed), T(test_lru_eviction), T(test_flip_back),
	T(test_same_id_fetched_once),
};
static const struct CMUnitTest mbochs_tests[] = {
	T(test_mbochs_ids_kept),
	T(test_flip_back),
};
static const struct CMUnitTest region_tests[] = {
	T(test_probe_region),
	T(test_region_plane),
};

/* One child per transport: the sim picks it when it loads. */
static const char *const dmabuf_env[] = { "VGPU_SIM_MODE=dmabuf", NULL };
static const char *const region_env[] = { "VGPU_SIM_MODE=region", NULL };
/* The drivers' own personalities; mmap allowed so the pixels can be checked. */
static const char *const gvt_env[] = { "VGPU_SIM_DRIVER=gvt", "VGPU_SIM_MMAP=allow", NULL };
static const char *const mbochs_env[] = { "VGPU_SIM_DRIVER=mbochs", "VGPU_SIM_MMAP=allow", NULL };
static const struct sim_child_run runs[] = {
	{ "dmabuf", dmabuf_env, SIM_CHILD_TESTS(dmabuf_tests) },
	{ "gvt", gvt_env, SIM_CHILD_TESTS(gvt_tests) },
	{ "mbochs", mbochs_env, SIM_CHILD_TESTS(mbochs_tests) },
	{ "region", region_env, SIM_CHILD_TESTS(region_tests) },
};

int main(void)
{
	return sim_child_main(runs, sizeof(runs) / sizeof(runs[0]));
}
