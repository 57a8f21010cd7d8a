// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The device going away under the daemon (on_device_loss): with exit it
 * releases the device and leaves with status 75; with wait two clients stay
 * connected on the "Device lost" picture, every fd and mapping made from
 * the device is released, and the guest's picture is back once the mdev
 * is. The request IRQ (a removal asked by the kernel) is honoured at once.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>
#include <drm_fourcc.h>

#include "expected_placeholder.h"
#include "fdpass.h"
#include "harness.h"
#include "simctl.h"
#include "vnc_probe.h"

#define W 640
#define H 480
#define DEVICE_LOSS_EXIT_STATUS 75
#define DEADLINE_MS 10000

struct loss_run {
	struct daemon_proc d;
	char config[64];
	uint8_t *pixels;
	struct vnc_probe *probe[2];
};

/*
 * The daemon with this config (the mdev by uuid unless it names a
 * device_socket), showing a W x H picture to two clients.
 */
static void start_showing_config(struct loss_run *r, const char *config, const char *const *env)
{
	snprintf(r->config, sizeof(r->config), "/tmp/mdev-vncd-loss.XXXXXX.conf");
	int fd = mkstemps(r->config, 5);
	assert_true(fd >= 0);
	dprintf(fd, "%s", config);
	close(fd);
	const char *const args[] = { "--config", r->config, NULL };
	struct daemon_options opts = { .extra_args = args, .extra_env = env,
				       .no_uuid = strstr(config, "device_socket") != NULL };
	daemon_start(&r->d, &opts);

	struct sim_plane_desc desc = {
		.fourcc = DRM_FORMAT_XRGB8888, .width = W, .height = H,
		.stride = W * 4, .size = W * H * 4,
	};
	assert_int_equal(simctl_set_plane(r->d.sim, 1, &desc), 0);
	r->pixels = malloc(W * H * 4);
	assert_non_null(r->pixels);
	picture_fill(r->pixels, W, H, 7);
	assert_int_equal(simctl_write(r->d.sim, 1, 0, r->pixels, W * H * 4), 0);
	for (int i = 0; i < 2; i++) {
		r->probe[i] = vnc_probe_connect(r->d.port, "raw");
		assert_non_null(r->probe[i]);
		assert_true(vnc_probe_wait_picture(r->probe[i], r->pixels, W, H, DEADLINE_MS));
	}
}

static void start_showing(struct loss_run *r, const char *policy, const char *const *env)
{
	char config[64];
	snprintf(config, sizeof(config), "on_device_loss = %s\n", policy);
	start_showing_config(r, config, env);
}

static void finish(struct loss_run *r)
{
	for (int i = 0; i < 2; i++)
		vnc_probe_free(r->probe[i]);
	free(r->pixels);
	unlink(r->config);
}

/* Mappings of the sim's buffers (dmabufs, device regions) in the daemon. */
static int sim_mappings(pid_t pid)
{
	char path[64], line[512];
	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	FILE *maps = fopen(path, "r");
	assert_non_null(maps);
	int n = 0;
	while (fgets(line, sizeof(line), maps))
		n += strstr(line, "memfd:vgpu-sim-") != NULL;
	fclose(maps);
	return n;
}

/* Polls until the daemon holds no device fd, dmabuf fd or mapping; the time it took, or -1. */
static long wait_released(struct loss_run *r)
{
	uint64_t start = now_ms();
	struct sim_stats s;
	do {
		assert_int_equal(simctl_stats(r->d.sim, &s), 0);
		if (s.device_fds_open == 0 && s.open_dmabuf_fds == 0 && sim_mappings(r->d.pid) == 0)
			return (long)(now_ms() - start);
		usleep(2000);
	} while (now_ms() - start < DEADLINE_MS);
	print_message("still held: %u device fds, %u dmabuf fds, %d mappings\n",
		      s.device_fds_open, s.open_dmabuf_fds, sim_mappings(r->d.pid));
	return -1;
}

/* Waits for the daemon to exit without reaping it (daemon_stop collects the status). */
static bool wait_exited(pid_t pid, int timeout_ms)
{
	uint64_t deadline = now_ms() + (uint64_t)timeout_ms;
	do {
		siginfo_t info = { 0 };
		if (waitid(P_PID, (id_t)pid, &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
		    info.si_pid == pid)
			return true;
		usleep(5000);
	} while (now_ms() < deadline);
	return false;
}

static void expect_exit(const char *const *env, uint32_t fault, uint32_t arg, const char *line)
{
	struct loss_run r;
	start_showing(&r, "exit", env);
	/*
	 * The sim answers from a thread of the daemon's process, after the fault
	 * is in place: a daemon quick to exit on it can take the answer with it
	 * (-EPIPE). Its exit status below tells a crash from the exit asked for.
	 */
	int ret = simctl_fault(r.d.sim, fault, arg);
	assert_true(ret == 0 || ret == -EPIPE);
	assert_true(wait_exited(r.d.pid, DEADLINE_MS));
	assert_int_equal(daemon_stop(&r.d, SIGTERM), DEVICE_LOSS_EXIT_STATUS);
	assert_int_equal(daemon_log_count(&r.d, line), 1);
	assert_int_equal(daemon_log_count(&r.d, "exiting with status 75"), 1);
	assert_int_equal(daemon_log_count(&r.d, "querying the primary plane"), 0);
	assert_int_equal(daemon_report_value(&r.d, "open_sim_fds"), 0);
	assert_int_equal(daemon_report_value(&r.d, "device_fds_open"), 0);
	finish(&r);
}

static void test_exit_when_gone(void **state)
{
	expect_exit(NULL, SIM_FAULT_DEVICE_GONE, ENODEV,
		    "device lost: every device ioctl fails with ENODEV");
}

static void test_exit_on_removal_request(void **state)
{
	static const char *const env[] = { "VGPU_SIM_REQUEST_IRQ=1", NULL };
	expect_exit(env, SIM_FAULT_DEVICE_REQUEST, 0, "device lost: the kernel asked for it back");
}

/* Both clients show the daemon's "Device lost" picture with detail, to the pixel, at their size. */
static void expect_device_lost_picture(struct loss_run *r, const char *detail)
{
	uint8_t *lost = expected_placeholder(PLACEHOLDER_DEVICE_LOST, detail, W, H);
	for (int i = 0; i < 2; i++) {
		assert_true(vnc_probe_wait_picture(r->probe[i], lost, W, H, DEADLINE_MS));
		/* The clients keep their size: a blip does not resize every viewer. */
		assert_int_equal(r->probe[i]->client->width, W);
		assert_int_equal(r->probe[i]->client->height, H);
	}
	free(lost);
}

/* Both clients still connected see the guest's new picture. */
static void expect_guest_again(struct loss_run *r)
{
	picture_fill(r->pixels, W, H, 8);
	assert_int_equal(simctl_write(r->d.sim, 1, 0, r->pixels, W * H * 4), 0);
	for (int i = 0; i < 2; i++)
		assert_true(vnc_probe_wait_picture(r->probe[i], r->pixels, W, H, DEADLINE_MS));
}

/* Both clients keep reading for ms: they stay connected. */
static void watch_for(struct loss_run *r, int ms)
{
	for (uint64_t start = now_ms(); now_ms() - start < (uint64_t)ms;)
		for (int i = 0; i < 2; i++)
			assert_true(vnc_probe_pump(r->probe[i], 10));
}

/* detail: how the loss showed, as the daemon logs it and draws it under the title. */
static void wait_through_loss(const char *const *env, uint32_t fault, uint32_t arg,
			      const char *detail)
{
	char line[160];
	snprintf(line, sizeof(line), "device lost: %s; released it", detail);
	struct loss_run r;
	start_showing(&r, "wait", env);
	int fds = daemon_fds_beside_sim(&r.d), threads = daemon_proc_entries(&r.d, "task");

	assert_int_equal(simctl_fault(r.d.sim, fault, arg), 0);
	long took = wait_released(&r);
	print_message("device released %ld ms after the fault\n", took);
	assert_true(took >= 0);
	expect_device_lost_picture(&r, detail);
	assert_true(daemon_wait_log(&r.d, line, 1, DEADLINE_MS));

	/* Away for a while: still one line, the clients stay. */
	watch_for(&r, 1500);
	assert_int_equal(simctl_fault(r.d.sim, SIM_FAULT_DEVICE_GONE, 0), 0);
	expect_guest_again(&r);
	assert_int_equal(daemon_log_count(&r.d, "device lost:"), 1);
	assert_int_equal(daemon_log_count(&r.d, "device back: opened the vGPU"), 1);
	assert_int_equal(daemon_log_count(&r.d, "querying the primary plane"), 0);
	assert_int_equal(daemon_log_count(&r.d, "cannot open the device again"), 0);
	assert_true(daemon_wait_counts(&r.d, fds, threads, DEADLINE_MS));
	assert_int_equal(daemon_stop(&r.d, SIGTERM), 0);
	assert_int_equal(daemon_report_value(&r.d, "open_sim_fds"), 0);
	finish(&r);
}

static void test_wait_through_gone_device(void **state)
{
	wait_through_loss(NULL, SIM_FAULT_DEVICE_GONE, EIO, "every device ioctl fails with EIO");
}

static void test_wait_through_hangup(void **state)
{
	wait_through_loss(NULL, SIM_FAULT_DEVICE_HANGUP, EIO, "its fd hung up");
}

static void test_wait_through_removal_request(void **state)
{
	static const char *const env[] = { "VGPU_SIM_REQUEST_IRQ=1", NULL };
	wait_through_loss(env, SIM_FAULT_DEVICE_REQUEST, 0,
			  "the kernel asked for it back (device removal)");
}

/* The test as the VMM: hands one device fd to whoever connects first. */
struct vmm {
	char path[108];
	int listen_fd;
	pthread_t thread;
};

static void *vmm_hand_over(void *arg)
{
	struct vmm *vmm = arg;
	int conn = accept4(vmm->listen_fd, NULL, NULL, SOCK_CLOEXEC);
	if (conn < 0)
		return NULL;
	/* The name the simulator gives its device memfds: it serves this as the device. */
	int device = memfd_create("vgpu-sim-device", MFD_CLOEXEC);
	int ret = device < 0 ? -errno : fdpass_send(conn, device);
	if (ret < 0)
		fprintf(stderr, "handing over the device: %s\n", strerror(-ret));
	close(device);
	close(conn);
	return NULL;
}

static void vmm_listen(struct vmm *vmm)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", vmm->path);
	unlink(vmm->path);
	vmm->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(vmm->listen_fd >= 0);
	assert_int_equal(bind(vmm->listen_fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	assert_int_equal(listen(vmm->listen_fd, 1), 0);
	assert_int_equal(pthread_create(&vmm->thread, NULL, vmm_hand_over, vmm), 0);
}

/* Waits for the hand-over; the socket's file stays, as a VMM that went away leaves it. */
static void vmm_done(struct vmm *vmm)
{
	pthread_join(vmm->thread, NULL);
	close(vmm->listen_fd);
}

/*
 * device_socket can come back: the VMM hands a new device fd. Until it
 * listens again the stale socket refuses, which is said once.
 */
static void test_wait_for_the_vmm(void **state)
{
	char dir[] = "/tmp/mdev-vncd-loss-vmm.XXXXXX", config[192];
	assert_non_null(mkdtemp(dir));
	struct vmm vmm;
	snprintf(vmm.path, sizeof(vmm.path), "%s/vmm.sock", dir);
	vmm_listen(&vmm);
	snprintf(config, sizeof(config), "on_device_loss = wait\ndevice_socket = %s\n", vmm.path);
	struct loss_run r;
	start_showing_config(&r, config, NULL);
	vmm_done(&vmm);
	int fds = daemon_fds_beside_sim(&r.d), threads = daemon_proc_entries(&r.d, "task");

	assert_int_equal(simctl_fault(r.d.sim, SIM_FAULT_DEVICE_GONE, ENODEV), 0);
	assert_true(wait_released(&r) >= 0);
	expect_device_lost_picture(&r, "every device ioctl fails with ENODEV");
	assert_true(daemon_wait_log(&r.d, "until the VMM's socket", 1, DEADLINE_MS));
	assert_int_equal(simctl_fault(r.d.sim, SIM_FAULT_DEVICE_GONE, 0), 0);
	assert_true(daemon_wait_log(&r.d, "cannot open the device again yet", 1, DEADLINE_MS));
	watch_for(&r, 1500);
	vmm_listen(&vmm);
	expect_guest_again(&r);
	vmm_done(&vmm);
	assert_int_equal(daemon_log_count(&r.d, "device lost:"), 1);
	assert_int_equal(daemon_log_count(&r.d, "cannot open the device again yet"), 1);
	assert_int_equal(daemon_log_count(&r.d, "device back: opened the vGPU through device_socket"),
			 1);
	assert_true(daemon_wait_counts(&r.d, fds, threads, DEADLINE_MS));
	assert_int_equal(daemon_stop(&r.d, SIGTERM), 0);
	assert_int_equal(daemon_report_value(&r.d, "open_sim_fds"), 0);
	finish(&r);
	unlink(vmm.path);
	rmdir(dir);
}

/* An inherited fd cannot come back: wait is refused before anything opens. */
static void test_wait_refused_with_device_fd(void **state)
{
	char config[] = "/tmp/mdev-vncd-loss-fd.XXXXXX.conf";
	int fd = mkstemps(config, 5);
	assert_true(fd >= 0);
	dprintf(fd, "on_device_loss = wait\n");
	close(fd);
	const char *const args[] = { "--config", config, "--device-fd", "3", NULL };
	struct daemon_options opts = { .extra_args = args, .no_uuid = true };
	struct daemon_proc d;
	assert_int_equal(daemon_run_to_exit(&d, &opts, DEADLINE_MS), 6);
	assert_int_equal(daemon_log_count(&d, "on_device_loss = wait cannot work with device_fd"),
			 1);
	unlink(config);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exit_when_gone),
		cmocka_unit_test(test_exit_on_removal_request),
		cmocka_unit_test(test_wait_through_gone_device),
		cmocka_unit_test(test_wait_through_hangup),
		cmocka_unit_test(test_wait_through_removal_request),
		cmocka_unit_test(test_wait_for_the_vmm),
		cmocka_unit_test(test_wait_refused_with_device_fd),
	};
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
