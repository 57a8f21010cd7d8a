// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Beside a running VM: the daemon attaches to the process that holds the
 * mdev (qemu_pid) and serves its pictures. A child of the test plays QEMU,
 * holding a memfd named like the simulator's group or device objects; the
 * simulator in the daemon reads its /proc/PID/fd link as /dev/vfio/N or,
 * where it offers an iommufd cdev (VGPU_SIM_CDEV=1), as
 * /dev/vfio/devices/vfio0, and serves the copy pidfd_getfd makes as the
 * kernel serves a group or a bound device fd whoever opened it. When the
 * player exits, the daemon lets go of everything it made from the device
 * and exits.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
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

#include "harness.h"
#include "simctl.h"

/* A child holding a memfd named like one of the simulator's objects, until killed. */
static pid_t play_qemu(const char *object)
{
	int ready[2];
	assert_int_equal(pipe(ready), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (memfd_create(object, 0) < 0 || write(ready[1], "x", 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	close(ready[1]);
	char c;
	assert_int_equal(read(ready[0], &c, 1), 1);
	close(ready[0]);
	return pid;
}

/* A config file in a new directory under /tmp: qemu_pid = pid. */
static void write_config(char dir[32], char config[64], pid_t pid)
{
	snprintf(dir, 32, "/tmp/mdev-vncd-attach.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(config, 64, "%s/vm.conf", dir);
	FILE *f = fopen(config, "w");
	assert_non_null(f);
	fprintf(f, "qemu_pid = %d\n", (int)pid);
	assert_int_equal(fclose(f), 0);
}

/*
 * Attaches to a player holding object, checks the log names how, serves a
 * picture, then kills the player: the daemon must see it and exit cleanly.
 */
static void attach_and_serve(const char *object, const char *cdev_env, const char *logged)
{
	pid_t qemu = play_qemu(object);
	char dir[32], config[64], line[160];
	write_config(dir, config, qemu);

	const char *args[] = { "--config", config, NULL };
	/* The device offers the request IRQ: it is QEMU's, the daemon must leave it. */
	const char *env[] = { cdev_env, "VGPU_SIM_REQUEST_IRQ=1", NULL };
	struct daemon_options opts = { .extra_args = args, .extra_env = env };
	struct daemon_proc d;
	daemon_start(&d, &opts);
	snprintf(line, sizeof(line), "attached to QEMU (PID %d): mdev ", (int)qemu);
	assert_int_equal(daemon_log_count(&d, line), 1);
	assert_int_equal(daemon_log_count(&d, logged), 1);
	assert_int_equal(daemon_log_count(&d, "device removal requests: left to QEMU"), 1);
	daemon_check_serves_picture(&d, 9);

	kill(qemu, SIGKILL);
	waitpid(qemu, NULL, 0);
	snprintf(line, sizeof(line), "QEMU (PID %d) exited: letting go of its vGPU", (int)qemu);
	assert_true(daemon_wait_log(&d, line, 1, 5000));
	/* Signal 0: no stop asked, the daemon exits by itself (ctest's timeout bounds the wait). */
	assert_int_equal(daemon_stop(&d, 0), 0);
	assert_int_equal(daemon_report_value(&d, "open_sim_fds"), 0);
	unlink(config);
	rmdir(dir);
}

/* QEMU holds the group: the daemon opens the device again from its copy. */
static void test_attach_group(void **state)
{
	attach_and_serve("vgpu-sim-group", "VGPU_SIM_CDEV=0", "opened again from /dev/vfio/");
}

/* QEMU holds the iommufd cdev: the daemon uses its copy of QEMU's device fd. */
static void test_attach_cdev(void **state)
{
	attach_and_serve("vgpu-sim-device", "VGPU_SIM_CDEV=1",
			 "QEMU's own fd of /dev/vfio/devices/vfio0 copied");
}

/* A process holding no fd of the mdev: one clear error, exit status 1. */
static void test_attach_to_the_wrong_process(void **state)
{
	pid_t other = play_qemu("not-a-vgpu");
	char dir[32], config[64], line[160];
	write_config(dir, config, other);
	const char *args[] = { "--config", config, NULL };
	struct daemon_options opts = { .extra_args = args };
	struct daemon_proc d;
	assert_int_equal(daemon_run_to_exit(&d, &opts, 10000), 1);
	snprintf(line, sizeof(line), "QEMU (PID %d) holds neither /dev/vfio/", (int)other);
	assert_int_equal(daemon_log_count(&d, line), 1);
	kill(other, SIGKILL);
	waitpid(other, NULL, 0);
	unlink(config);
	rmdir(dir);
}

static void write_pid(const char *pidfile, pid_t pid)
{
	FILE *f = fopen(pidfile, "w");
	assert_non_null(f);
	fprintf(f, "%d\n", (int)pid);
	assert_int_equal(fclose(f), 0);
}

/*
 * qemu_pidfile with on_device_loss = wait: QEMU's exit is a loss, not the
 * end; the next QEMU the pidfile names, holding the mdev by object as the
 * first did, is attached to through the helper, and the picture is back.
 */
static void wait_for_the_next_qemu(const char *object, const char *cdev_env, const char *node)
{
	char dir[32], config[64], pidfile[64], line[160];
	pid_t qemu = play_qemu(object);
	write_config(dir, config, 0);
	snprintf(pidfile, sizeof(pidfile), "%s/qemu.pid", dir);
	write_pid(pidfile, qemu);
	FILE *f = fopen(config, "w");
	assert_non_null(f);
	fprintf(f, "qemu_pidfile = %s\non_device_loss = wait\n", pidfile);
	assert_int_equal(fclose(f), 0);

	const char *args[] = { "--config", config, NULL };
	const char *env[] = { cdev_env, NULL };
	struct daemon_options opts = { .extra_args = args, .extra_env = env };
	struct daemon_proc d;
	daemon_start(&d, &opts);
	snprintf(line, sizeof(line), "attached to QEMU (PID %d) through the attach helper",
		 (int)qemu);
	assert_int_equal(daemon_log_count(&d, line), 1);
	/* The node QEMU holds the mdev by: the attach names it, and so may later lines. */
	snprintf(line, sizeof(line), "(QEMU PID %d, %s)", (int)qemu, node);
	assert_true(daemon_log_count(&d, line) >= 1);
	daemon_check_serves_picture(&d, 9);

	kill(qemu, SIGKILL);
	waitpid(qemu, NULL, 0);
	snprintf(line, sizeof(line), "device lost: QEMU (PID %d) exited; released it", (int)qemu);
	assert_true(daemon_wait_log(&d, line, 1, 5000));
	struct sim_stats stats;
	assert_int_equal(simctl_stats(d.sim, &stats), 0);
	assert_int_equal(stats.device_fds_open, 0);

	qemu = play_qemu(object);
	write_pid(pidfile, qemu);
	snprintf(line, sizeof(line), "device back: opened the vGPU through QEMU PID %d, %s;",
		 (int)qemu, node);
	assert_true(daemon_wait_log(&d, line, 1, 10000));
	daemon_check_serves_picture(&d, 10);
	assert_int_equal(daemon_stop(&d, SIGTERM), 0);
	assert_int_equal(daemon_report_value(&d, "open_sim_fds"), 0);
	kill(qemu, SIGKILL);
	waitpid(qemu, NULL, 0);
	unlink(pidfile);
	unlink(config);
	rmdir(dir);
}

/* Each QEMU holds the group: each is asked for the device again. */
static void test_wait_for_the_next_qemu(void **state)
{
	wait_for_the_next_qemu("vgpu-sim-group", "VGPU_SIM_CDEV=0", "/dev/vfio/42");
}

/* Each QEMU holds the iommufd cdev: the helper copies each one's device fd. */
static void test_wait_for_the_next_qemu_cdev(void **state)
{
	wait_for_the_next_qemu("vgpu-sim-device", "VGPU_SIM_CDEV=1", "/dev/vfio/devices/vfio0");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wait_for_the_next_qemu),
		cmocka_unit_test(test_wait_for_the_next_qemu_cdev),
		cmocka_unit_test(test_attach_group),
		cmocka_unit_test(test_attach_cdev),
		cmocka_unit_test(test_attach_to_the_wrong_process),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
