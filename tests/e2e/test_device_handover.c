// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The device fd from the VMM side: inherited (--device-fd) or received over
 * a unix socket (device_socket), as beside a running QEMU that holds the
 * VFIO group. Here the test plays the VMM: the simulated device is a memfd
 * the simulator recognises by name, like a real device fd is recognised by
 * the kernel whoever opened it.
 */
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <cmocka.h>
#include <drm_fourcc.h>

#include "fdpass.h"
#include "harness.h"
#include "simctl.h"
#include "vnc_probe.h"

static int simulated_device_fd(void)
{
	/* The name the simulator gives its device memfds. */
	int fd = memfd_create("vgpu-sim-device", 0);
	assert_true(fd >= 0);
	return fd;
}

static void test_inherited_device_fd(void **state)
{
	int fd = simulated_device_fd();
	char fd_arg[16];
	snprintf(fd_arg, sizeof(fd_arg), "%d", fd);
	const char *args[] = { "--device-fd", fd_arg, NULL };
	struct daemon_options opts = { .extra_args = args, .no_uuid = true };
	struct daemon_proc d;
	daemon_start(&d, &opts);
	close(fd);
	daemon_check_serves_picture(&d, 5);
	assert_int_equal(daemon_log_count(&d, "opened the vGPU through inherited fd"), 1);
	assert_int_equal(daemon_stop(&d, SIGTERM), 0);
	assert_int_equal(daemon_report_value(&d, "open_sim_fds"), 0);
}

struct vmm {
	int listen_fd;
	int device_fd; /* -1: send a message without an fd */
};

static void *vmm_hand_over(void *arg)
{
	struct vmm *vmm = arg;
	int conn = accept(vmm->listen_fd, NULL, NULL);
	if (conn < 0)
		return NULL;
	int ret = fdpass_send(conn, vmm->device_fd);
	if (ret < 0)
		fprintf(stderr, "sendmsg: %s\n", strerror(-ret));
	close(conn);
	return NULL;
}

/* Starts a VMM-side socket in dir and writes a config pointing at it. */
static void setup_vmm(struct vmm *vmm, const char *dir, char *config, size_t len, pthread_t *thread)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s/vmm.sock", dir);
	vmm->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_int_equal(bind(vmm->listen_fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	assert_int_equal(listen(vmm->listen_fd, 1), 0);
	snprintf(config, len, "%s/vm.conf", dir);
	FILE *f = fopen(config, "w");
	fprintf(f, "device_socket = %s\n", addr.sun_path);
	fclose(f);
	assert_int_equal(pthread_create(thread, NULL, vmm_hand_over, vmm), 0);
}

static void test_device_socket(void **state)
{
	char dir[] = "/tmp/mdev-vncd-vmm.XXXXXX", config[128];
	assert_non_null(mkdtemp(dir));
	struct vmm vmm = { .device_fd = simulated_device_fd() };
	fcntl(vmm.device_fd, F_SETFD, FD_CLOEXEC);
	pthread_t thread;
	setup_vmm(&vmm, dir, config, sizeof(config), &thread);

	const char *args[] = { "--config", config, NULL };
	struct daemon_options opts = { .extra_args = args, .no_uuid = true };
	struct daemon_proc d;
	daemon_start(&d, &opts);
	pthread_join(thread, NULL);
	close(vmm.device_fd);
	close(vmm.listen_fd);
	daemon_check_serves_picture(&d, 5);
	assert_int_equal(daemon_log_count(&d, "opened the vGPU through device_socket"), 1);
	assert_int_equal(daemon_stop(&d, SIGTERM), 0);
}

static void test_device_socket_without_fd_is_a_clear_error(void **state)
{
	char dir[] = "/tmp/mdev-vncd-vmm.XXXXXX", config[128];
	assert_non_null(mkdtemp(dir));
	struct vmm vmm = { .device_fd = -1 };
	pthread_t thread;
	setup_vmm(&vmm, dir, config, sizeof(config), &thread);
	const char *args[] = { "--config", config, NULL };
	struct daemon_options opts = { .extra_args = args, .no_uuid = true };
	struct daemon_proc d;
	assert_int_equal(daemon_run_to_exit(&d, &opts, 10000), 1);
	pthread_join(thread, NULL);
	close(vmm.listen_fd);
	assert_int_equal(daemon_log_count(&d, "sent no file descriptor"), 1);
}

static void test_device_fd_that_is_not_vfio(void **state)
{
	int fd = open("/dev/null", O_RDWR);
	char fd_arg[16];
	snprintf(fd_arg, sizeof(fd_arg), "%d", fd);
	const char *args[] = { "--device-fd", fd_arg, NULL };
	struct daemon_options opts = { .extra_args = args, .no_uuid = true };
	struct daemon_proc d;
	assert_int_equal(daemon_run_to_exit(&d, &opts, 10000), 1);
	close(fd);
	assert_int_equal(daemon_log_count(&d, "not a VFIO device"), 1);
}

static void test_unknown_uuid_is_a_clear_error(void **state)
{
	const char *args[] = { "--uuid", "00000000-0000-0000-0000-000000000001", NULL };
	struct daemon_options opts = { .extra_args = args, .no_uuid = true };
	struct daemon_proc d;
	assert_int_equal(daemon_run_to_exit(&d, &opts, 10000), 1);
	assert_int_equal(daemon_log_count(&d, "is the mdev created?"), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_inherited_device_fd),
		cmocka_unit_test(test_device_socket),
		cmocka_unit_test(test_device_socket_without_fd_is_a_clear_error),
		cmocka_unit_test(test_device_fd_that_is_not_vfio),
		cmocka_unit_test(test_unknown_uuid_is_a_clear_error),
	};
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
