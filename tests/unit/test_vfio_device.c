// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vfio_device against the simulated vGPU: both ways of opening it by UUID,
 * adopting an fd, receiving one over a unix socket, and the reasons given
 * when that fails. The sim picks the group or the cdev path when it loads,
 * so the test re-executes itself under the sim once per path (see
 * sim_child.h).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "fdpass.h"
#include "sim_child.h"
#include "vfio_device.h"

#define SIM_UUID "4b20d080-1b54-4048-85b3-a6a62d165c01"

static bool fd_is_open(int fd)
{
	return fcntl(fd, F_GETFD) >= 0 || errno != EBADF;
}

/* The sim answers GET_INFO like the mbochs-like device it plays. */
static void assert_sim_device(const struct vfio_device *dev)
{
	int fd = vfio_device_fd(dev);

	assert_true(fd >= 0);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	assert_int_equal(vfio_device_num_regions(dev), VFIO_PCI_NUM_REGIONS + 1);
	assert_true(vfio_device_num_irqs(dev) > VFIO_PCI_NUM_IRQS);
}

/* Opens and frees by UUID; every fd it took is closed again. */
static void check_open_uuid(const char *origin)
{
	unsigned fds = sim_child_count_fds();
	struct vfio_device *dev = NULL;
	const char *why = NULL;

	assert_int_equal(vfio_device_open_uuid(SIM_UUID, &dev, &why), 0);
	assert_non_null(dev);
	assert_sim_device(dev);
	assert_string_equal(vfio_device_origin(dev), origin);
	assert_true(sim_child_count_fds() > fds);
	vfio_device_free(dev);
	assert_int_equal(sim_child_count_fds(), fds);
}

static void test_open_group(void **state)
{
	(void)state;
	check_open_uuid("group 42");
	/* The group was released: it opens again. */
	check_open_uuid("group 42");
}

static void test_open_cdev(void **state)
{
	(void)state;
	check_open_uuid("cdev vfio0");
}

static void test_group_busy(void **state)
{
	struct vfio_device *first = NULL, *second = NULL;
	const char *why = NULL;
	unsigned fds;

	(void)state;
	assert_int_equal(vfio_device_open_uuid(SIM_UUID, &first, &why), 0);
	fds = sim_child_count_fds();
	assert_int_equal(vfio_device_open_uuid(SIM_UUID, &second, &why), -EBUSY);
	assert_null(second);
	assert_non_null(why);
	assert_non_null(strstr(why, "held by another process"));
	assert_non_null(strstr(why, "pass the device fd"));
	/* The failed attempt closed the container it had opened. */
	assert_int_equal(sim_child_count_fds(), fds);
	vfio_device_free(first);
}

static void test_unknown_uuid(void **state)
{
	struct vfio_device *dev = NULL;
	const char *why = NULL;
	unsigned fds = sim_child_count_fds();

	(void)state;
	assert_int_equal(vfio_device_open_uuid("00000000-0000-0000-0000-000000000000", &dev, &why),
			 -ENOENT);
	assert_null(dev);
	assert_non_null(why);
	assert_non_null(strstr(why, "is the mdev created?"));
	assert_int_equal(sim_child_count_fds(), fds);
}

static void test_adopt_not_vfio(void **state)
{
	struct vfio_device *dev = NULL;
	const char *why = NULL;
	int fd = open("/dev/null", O_RDWR);

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(vfio_device_adopt_fd(fd, "test", &dev, &why), -ENOTTY);
	assert_null(dev);
	assert_non_null(strstr(why, "not a VFIO device fd"));
	/* Taken even on failure: the fd is closed. */
	assert_false(fd_is_open(fd));
}

static void test_adopt_closed_fd(void **state)
{
	struct vfio_device *dev = NULL;
	const char *why = NULL;
	int fd = open("/dev/null", O_RDWR);

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(vfio_device_adopt_fd(fd, "test", &dev, &why), -EBADF);
	assert_null(dev);
	assert_non_null(strstr(why, "not open"));
}

/* Plays the VMM side: accepts one connection and sends the fd (or none, fd -1). */
struct vmm {
	int listen_fd;
	int send_fd;
	char dir[64];
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	pthread_t thread;
};

static void *vmm_serve(void *arg)
{
	struct vmm *vmm = arg;
	int conn = accept(vmm->listen_fd, NULL, NULL);
	int ret;

	if (conn < 0)
		return NULL;
	ret = fdpass_send(conn, vmm->send_fd);
	if (ret < 0)
		fprintf(stderr, "vmm sendmsg: %s\n", strerror(-ret));
	close(conn);
	return NULL;
}

static void vmm_start(struct vmm *vmm, bool with_fd)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };

	snprintf(vmm->dir, sizeof(vmm->dir), "/tmp/test_vfio_device.XXXXXX");
	assert_non_null(mkdtemp(vmm->dir));
	snprintf(vmm->path, sizeof(vmm->path), "%s/vmm.sock", vmm->dir);
	/* The name the sim gives its device memfds: it serves such an fd as the device. */
	vmm->send_fd = with_fd ? memfd_create("vgpu-sim-device", MFD_CLOEXEC) : -1;
	assert_true(!with_fd || vmm->send_fd >= 0);
	vmm->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(vmm->listen_fd >= 0);
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", vmm->path);
	assert_int_equal(bind(vmm->listen_fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	assert_int_equal(listen(vmm->listen_fd, 1), 0);
	assert_int_equal(pthread_create(&vmm->thread, NULL, vmm_serve, vmm), 0);
}

static void vmm_stop(struct vmm *vmm)
{
	pthread_join(vmm->thread, NULL);
	close(vmm->listen_fd);
	if (vmm->send_fd >= 0)
		close(vmm->send_fd);
	unlink(vmm->path);
	rmdir(vmm->dir);
}

static void test_receive(void **state)
{
	struct vfio_device *dev = NULL;
	const char *why = NULL;
	struct vmm vmm;
	unsigned fds;

	(void)state;
	vmm_start(&vmm, true);
	fds = sim_child_count_fds();
	assert_int_equal(vfio_device_receive(vmm.path, &dev, &why), 0);
	assert_sim_device(dev);
	assert_string_equal(vfio_device_origin(dev), "device_socket");
	vmm_stop(&vmm);
	/* The socket is gone, the received fd is the device's own. */
	assert_int_equal(sim_child_count_fds(), fds - 2 + 1);
	vfio_device_free(dev);
	assert_int_equal(sim_child_count_fds(), fds - 2);
}

static void test_receive_no_fd(void **state)
{
	struct vfio_device *dev = NULL;
	const char *why = NULL;
	struct vmm vmm;
	unsigned fds;

	(void)state;
	vmm_start(&vmm, false);
	fds = sim_child_count_fds();
	assert_int_equal(vfio_device_receive(vmm.path, &dev, &why), -EBADMSG);
	assert_null(dev);
	assert_non_null(strstr(why, "sent no file descriptor"));
	vmm_stop(&vmm);
	assert_int_equal(sim_child_count_fds(), fds - 1);
}

static void test_receive_no_server(void **state)
{
	struct vfio_device *dev = NULL;
	const char *why = NULL;
	char path[200];

	(void)state;
	assert_int_equal(vfio_device_receive("/nonexistent/vmm.sock", &dev, &why), -ENOENT);
	assert_non_null(strstr(why, "cannot connect"));
	memset(path, 'p', sizeof(path) - 1);
	path[sizeof(path) - 1] = '\0';
	assert_int_equal(vfio_device_receive(path, &dev, &why), -ENAMETOOLONG);
	assert_non_null(strstr(why, "too long"));
	assert_null(dev);
}

static void test_region_info(void **state)
{
	struct vfio_device *dev = NULL;
	struct vfio_region_info info;
	const char *why = NULL;

	(void)state;
	assert_int_equal(vfio_device_open_uuid(SIM_UUID, &dev, &why), 0);
	memset(&info, 0xa5, sizeof(info));
	assert_int_equal(vfio_device_region_info(dev, VFIO_PCI_BAR0_REGION_INDEX, &info), 0);
	assert_int_equal(info.index, VFIO_PCI_BAR0_REGION_INDEX);
	assert_int_equal(info.argsz, sizeof(info));
	assert_int_equal(info.offset, 0x100000);
	assert_int_equal(info.size, 64u << 20);
	assert_true(info.flags & VFIO_REGION_INFO_FLAG_MMAP);
	assert_int_equal(info.cap_offset, 0);

	assert_int_equal(vfio_device_region_info(dev, VFIO_PCI_BAR2_REGION_INDEX, &info), 0);
	assert_int_equal(info.index, VFIO_PCI_BAR2_REGION_INDEX);
	assert_int_equal(info.size, 0x1000);
	assert_false(info.flags & VFIO_REGION_INFO_FLAG_MMAP);

	assert_int_equal(vfio_device_region_info(dev, 42, &info), -EINVAL);
	vfio_device_free(dev);
	vfio_device_free(NULL);
}

static const struct CMUnitTest group_tests[] = {
	cmocka_unit_test(test_open_group),
	cmocka_unit_test(test_group_busy),
	cmocka_unit_test(test_unknown_uuid),
	cmocka_unit_test(test_adopt_not_vfio),
	cmocka_unit_test(test_adopt_closed_fd),
	cmocka_unit_test(test_receive),
	cmocka_unit_test(test_receive_no_fd),
	cmocka_unit_test(test_receive_no_server),
	cmocka_unit_test(test_region_info),
};
static const struct CMUnitTest cdev_tests[] = {
	cmocka_unit_test(test_open_cdev),
	cmocka_unit_test(test_unknown_uuid),
	cmocka_unit_test(test_region_info),
};

/* One child per way of opening: the sim picks it when it loads. */
static const char *const group_env[] = { "VGPU_SIM_CDEV=0", NULL };
static const char *const cdev_env[] = { "VGPU_SIM_CDEV=1", NULL };
static const struct sim_child_run runs[] = {
	{ "group", group_env, SIM_CHILD_TESTS(group_tests) },
	{ "cdev", cdev_env, SIM_CHILD_TESTS(cdev_tests) },
};

int main(void)
{
	return sim_child_main(runs, sizeof(runs) / sizeof(runs[0]));
}
