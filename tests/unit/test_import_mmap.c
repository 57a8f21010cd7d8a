// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * import_cpu_mmap: read-only mappings of memfds standing in for regions and
 * dmabufs, the read brackets, and the reason given for a refused mapping.
 * Plain memfds are tested in this process; then it re-executes itself under
 * the sim (see sim_child.h) for real (simulated) dmabuf fds.
 */
#include <errno.h>
#include <fcntl.h>
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

#include "import.h"
#include "sim_child.h"
#include "simctl.h"
#include "vfio_device.h"

#define SIM_UUID "4b20d080-1b54-4048-85b3-a6a62d165c01"
#define MEMFD_NAME "import-test"
#define PAGE 4096

static const struct import_method *const m = &import_cpu_mmap;

static void fill(uint8_t *p, size_t len, unsigned seed)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(i * 11 + seed + (i >> 10));
}

/* A memfd of size bytes holding the pattern of seed. */
static int pattern_memfd(size_t size, unsigned seed)
{
	uint8_t *bytes = malloc(size);
	int fd = memfd_create(MEMFD_NAME, MFD_CLOEXEC);

	assert_non_null(bytes);
	assert_true(fd >= 0);
	fill(bytes, size, seed);
	assert_int_equal(pwrite(fd, bytes, size, 0), (ssize_t)size);
	free(bytes);
	return fd;
}

static void assert_pattern(const uint8_t *data, size_t len, size_t from, unsigned seed)
{
	uint8_t *want = malloc(from + len);

	assert_non_null(want);
	fill(want, from + len, seed);
	assert_memory_equal(data, want + from, len);
	free(want);
}

/* The permissions of the mapping that starts at addr, from /proc/self/maps ("" if none). */
static void mapping_perms(const void *addr, char perms[5])
{
	FILE *maps = fopen("/proc/self/maps", "re");
	char line[512];
	unsigned long start;
	bool found = false;

	assert_non_null(maps);
	while (!found && fgets(line, sizeof(line), maps))
		found = sscanf(line, "%lx-%*x %4s", &start, perms) == 2 && start == (uintptr_t)addr;
	if (!found)
		perms[0] = '\0';
	fclose(maps);
}

static void test_map_region(void **state)
{
	int fd = pattern_memfd(4 * PAGE, 1);
	struct import_request req = { .fd = fd, .offset = PAGE, .size = 2 * PAGE };
	struct mapped_buffer buf = { 0 };
	const char *why = NULL;
	const void *addr;
	char perms[5];

	(void)state;
	assert_int_equal(m->map(m, &req, &buf, &why), 0);
	assert_non_null(buf.data);
	assert_int_equal(buf.size, 2 * PAGE);
	assert_int_equal(buf.sync_fd, -1);
	assert_int_equal(m->begin_read(&buf), 0);
	assert_pattern(buf.data, 2 * PAGE, PAGE, 1);
	m->end_read(&buf);
	/* Read-only and shared: the daemon sees the guest's writes and cannot scribble. */
	mapping_perms(buf.data, perms);
	assert_string_equal(perms, "r--s");

	addr = buf.data;
	m->unmap(&buf);
	assert_null(buf.data);
	mapping_perms(addr, perms);
	assert_string_equal(perms, "");
	m->unmap(&buf);
	close(fd);
}

/* The mapping is live: later writes to the file show through it. */
static void test_map_shared(void **state)
{
	int fd = pattern_memfd(PAGE, 2);
	struct import_request req = { .fd = fd, .size = PAGE };
	struct mapped_buffer buf = { 0 };
	const char *why = NULL;
	const uint8_t byte = 0xee;

	(void)state;
	assert_int_equal(m->map(m, &req, &buf, &why), 0);
	assert_int_equal(pwrite(fd, &byte, 1, 100), 1);
	assert_int_equal(buf.data[100], 0xee);
	m->unmap(&buf);
	close(fd);
}

/* A plain memfd passed as a dmabuf maps, but it is no dmabuf: the read bracket fails. */
static void test_memfd_is_no_dmabuf(void **state)
{
	int fd = pattern_memfd(PAGE, 3);
	struct import_request req = { .fd = fd, .is_dmabuf = true, .size = PAGE };
	struct mapped_buffer buf = { 0 };
	const char *why = NULL;

	(void)state;
	assert_int_equal(m->map(m, &req, &buf, &why), 0);
	assert_int_equal(buf.sync_fd, fd);
	assert_int_equal(m->begin_read(&buf), -ENOTTY);
	m->end_read(&buf);
	m->unmap(&buf);
	close(fd);
}

static void check_refused(const struct import_request *req, int err, const char *why_part)
{
	struct mapped_buffer buf = { .data = NULL, .sync_fd = -7 };
	const char *why = NULL;

	assert_int_equal(m->map(m, req, &buf, &why), -err);
	assert_non_null(why);
	assert_non_null(strstr(why, why_part));
	assert_null(buf.data);
	assert_int_equal(buf.sync_fd, -7);
}

static void test_refused(void **state)
{
	int fd = pattern_memfd(PAGE, 4);
	int pipefd[2];
	char path[64];
	int wronly;

	(void)state;
	check_refused(&(struct import_request){ .fd = -1, .size = PAGE }, EBADF, strerror(EBADF));
	/* A zero size is EINVAL: for a dmabuf that is the exporter refusing. */
	check_refused(&(struct import_request){ .fd = fd, .size = 0 }, EINVAL, strerror(EINVAL));
	check_refused(&(struct import_request){ .fd = fd, .is_dmabuf = true, .size = 0 }, EINVAL,
		      "refused a CPU mapping");
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	wronly = open(path, O_WRONLY | O_CLOEXEC);
	assert_true(wronly >= 0);
	check_refused(&(struct import_request){ .fd = wronly, .size = PAGE }, EACCES,
		      strerror(EACCES));
	assert_int_equal(pipe(pipefd), 0);
	check_refused(&(struct import_request){ .fd = pipefd[0], .is_dmabuf = true, .size = PAGE },
		      ENODEV, "needs GPU import");
	close(pipefd[0]);
	close(pipefd[1]);
	close(wronly);
	close(fd);
}

/* Under the sim: a dmabuf of the simulated device's primary plane. */
struct sim_fixture {
	struct vfio_device *dev;
	struct simctl *ctl;
	int dmabuf;
};

static int sim_setup(void **state)
{
	struct sim_plane_desc desc = {
		.fourcc = DRM_FORMAT_XRGB8888, .width = 32, .height = 32, .stride = 128,
		.size = 32 * 32 * 4,
	};
	struct vfio_device_gfx_plane_info info = {
		.argsz = sizeof(info), .flags = VFIO_GFX_PLANE_TYPE_DMABUF, .drm_plane_type = 1,
	};
	struct sim_fixture *f = calloc(1, sizeof(*f));
	uint8_t bytes[32 * 32 * 4];
	const char *why = NULL;

	if (!f)
		return -1;
	*state = f;
	f->dmabuf = -1;
	f->ctl = simctl_connect(getenv("VGPU_SIM_CONTROL"), 2000);
	if (!f->ctl || vfio_device_open_uuid(SIM_UUID, &f->dev, &why) < 0)
		return -1;
	fill(bytes, sizeof(bytes), 5);
	if (simctl_fault(f->ctl, SIM_FAULT_ENOMEM_AFTER_MODESET, 0) < 0 ||
	    simctl_set_plane(f->ctl, 1, &desc) < 0 ||
	    simctl_write(f->ctl, 1, 0, bytes, sizeof(bytes)) < 0 ||
	    ioctl(vfio_device_fd(f->dev), VFIO_DEVICE_QUERY_GFX_PLANE, &info) < 0)
		return -1;
	f->dmabuf = ioctl(vfio_device_fd(f->dev), VFIO_DEVICE_GET_GFX_DMABUF, &info.dmabuf_id);
	return f->dmabuf >= 0 ? 0 : -1;
}

static int sim_teardown(void **state)
{
	struct sim_fixture *f = *state;

	if (f->dmabuf >= 0)
		close(f->dmabuf);
	if (f->ctl) {
		simctl_fault(f->ctl, SIM_FAULT_MMAP_EINVAL, 0);
		simctl_fault(f->ctl, SIM_FAULT_MMAP_ENODEV, 0);
	}
	simctl_free(f->ctl);
	vfio_device_free(f->dev);
	free(f);
	return 0;
}

static void test_sim_dmabuf(void **state)
{
	struct sim_fixture *f = *state;
	struct import_request req = { .fd = f->dmabuf, .is_dmabuf = true, .size = 32 * 32 * 4 };
	struct mapped_buffer buf = { 0 };
	const char *why = NULL;

	assert_int_equal(m->map(m, &req, &buf, &why), 0);
	assert_int_equal(buf.sync_fd, f->dmabuf);
	assert_int_equal(m->begin_read(&buf), 0);
	assert_pattern(buf.data, req.size, 0, 5);
	m->end_read(&buf);
	m->unmap(&buf);
	assert_null(buf.data);
}

/* The exporters of real vGPUs refuse: each refusal names its kind. */
static void test_sim_refused(void **state)
{
	struct sim_fixture *f = *state;
	struct import_request req = { .fd = f->dmabuf, .is_dmabuf = true, .size = 32 * 32 * 4 };

	assert_int_equal(simctl_fault(f->ctl, SIM_FAULT_MMAP_EINVAL, 1), 0);
	check_refused(&req, EINVAL, "read-only export, as stock mbochs");
	assert_int_equal(simctl_fault(f->ctl, SIM_FAULT_MMAP_EINVAL, 0), 0);
	assert_int_equal(simctl_fault(f->ctl, SIM_FAULT_MMAP_ENODEV, 1), 0);
	check_refused(&req, ENODEV, "as GVT-g, needs GPU import");
}

/* Plain memfds in this process, then dmabufs under the sim; each group must pass. */
int main(void)
{
	static const struct CMUnitTest plain_tests[] = {
		cmocka_unit_test(test_map_region),
		cmocka_unit_test(test_map_shared),
		cmocka_unit_test(test_memfd_is_no_dmabuf),
		cmocka_unit_test(test_refused),
	};
	static const struct CMUnitTest sim_tests[] = {
		cmocka_unit_test_setup_teardown(test_sim_dmabuf, sim_setup, sim_teardown),
		cmocka_unit_test_setup_teardown(test_sim_refused, sim_setup, sim_teardown),
		/* Under the sim a plain memfd is still no dmabuf. */
		cmocka_unit_test(test_memfd_is_no_dmabuf),
	};
	static const struct sim_child_run run = { "under the sim", NULL,
						  SIM_CHILD_TESTS(sim_tests) };
	int failed = 0;

	if (!sim_child_active())
		failed = cmocka_run_group_tests_name("plain memfds", plain_tests, NULL, NULL);
	return sim_child_main(&run, 1) || failed;
}
