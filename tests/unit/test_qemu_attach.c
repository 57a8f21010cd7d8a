// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Attaching beside QEMU, without QEMU: a child process plays it, holding a
 * file at a known fd. Its fd is found by its /proc link and copied with
 * pidfd_getfd (the same file comes out), its exit is seen on the loop, and
 * pidfiles and failures give errors, never a crash. Then, on the simulated
 * vGPU (sim_child.h), a player that opened the mdev as QEMU does, through
 * its VFIO group or its iommufd cdev: the attach finds and copies its fd and
 * gets a working device, on the cdev path QEMU's own open file.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>
#include <event2/event.h>

#include "qemu_attach.h"
#include "sim_child.h"
#include "vfio_device.h"

#define HELD_FD 37
#define SIM_UUID "4b20d080-1b54-4048-85b3-a6a62d165c01"
/* Set in the player's environment: it opens the mdev and reports its fd on this fd. */
#define PLAYER_ENV "QEMU_ATTACH_PLAYER_FD"

struct player {
	char dir[64];
	char file[96];
	pid_t pid;
};

/* A child holding dir/held at HELD_FD until killed. */
static void player_start(struct player *p)
{
	snprintf(p->dir, sizeof(p->dir), "/tmp/qemu-attach-XXXXXX");
	assert_non_null(mkdtemp(p->dir));
	snprintf(p->file, sizeof(p->file), "%s/held", p->dir);
	int ready[2];
	assert_int_equal(pipe(ready), 0);
	p->pid = fork();
	assert_true(p->pid >= 0);
	if (p->pid == 0) {
		/* Dies with the test, even one that failed half-way. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		int fd = open(p->file, O_RDWR | O_CREAT, 0600);
		if (fd < 0 || dup2(fd, HELD_FD) < 0 || dup2(ready[1], HELD_FD + 1) < 0)
			_exit(1);
		/* Nothing else: not even what the sim keeps open in every process. */
		close_range(3, HELD_FD - 1, 0);
		close_range(HELD_FD + 2, ~0u, 0);
		if (write(HELD_FD + 1, "x", 1) != 1)
			_exit(1);
		close(HELD_FD + 1);
		for (;;)
			pause();
	}
	close(ready[1]);
	char c;
	assert_int_equal(read(ready[0], &c, 1), 1);
	close(ready[0]);
}

static void player_stop(struct player *p)
{
	if (p->pid > 0) {
		kill(p->pid, SIGKILL);
		waitpid(p->pid, NULL, 0);
	}
	unlink(p->file);
	rmdir(p->dir);
}

/* fd is open on the file at path. */
static void assert_same_file(int fd, const char *path)
{
	struct stat a, b;
	assert_int_equal(fstat(fd, &a), 0);
	assert_int_equal(stat(path, &b), 0);
	assert_int_equal(a.st_ino, b.st_ino);
	assert_int_equal(a.st_dev, b.st_dev);
}

static void test_find_and_copy(void **state)
{
	struct player p;
	player_start(&p);
	int fd = -1;
	assert_int_equal(qemu_attach_find_fd(p.pid, p.file, &fd), 0);
	assert_int_equal(fd, HELD_FD);
	assert_int_equal(qemu_attach_find_fd(p.pid, "/dev/vfio/12345", &fd), -ENOENT);

	int pidfd = pidfd_open(p.pid, 0);
	assert_true(pidfd >= 0);
	int copy = pidfd_getfd(pidfd, HELD_FD, 0);
	assert_true(copy >= 0);
	assert_same_file(copy, p.file);
	close(copy);
	close(pidfd);
	player_stop(&p);
	assert_int_equal(qemu_attach_find_fd(p.pid, p.file, &fd), -ESRCH);
}

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

static void test_pidfile(void **state)
{
	char dir[] = "/tmp/qemu-pidfile-XXXXXX", path[64];
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/vm.pid", dir);
	const char *why = "";
	pid_t pid = 0;
	assert_int_equal(qemu_attach_read_pidfile(path, &pid, &why), -ENOENT);
	static const struct {
		const char *text;
		pid_t pid; /* 0 = refused */
	} cases[] = {
		{ "1234\n", 1234 }, { "4194304", 4194304 }, { "", 0 },      { "\n", 0 },
		{ "0\n", 0 },       { "4194305\n", 0 },      { "12a\n", 0 }, { "-5\n", 0 },
		{ " 12\n", 0 },     { "12\n\n", 0 },         { "99999999999999999999", 0 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		write_text(path, cases[i].text);
		pid = 0;
		int ret = qemu_attach_read_pidfile(path, &pid, &why);
		if (cases[i].pid ? ret != 0 || pid != cases[i].pid : ret != -EINVAL)
			fail_msg("pidfile '%s': %d, pid %d", cases[i].text, ret, (int)pid);
	}
	unlink(path);
	rmdir(dir);
}

/*
 * Where /proc/PID/fd is closed to the daemon: QEMU's fds copied in turn, the
 * held file found by what it is, every other copy closed again.
 */
static void test_probe_without_proc(void **state)
{
	struct player p;
	player_start(&p);
	char why[256] = "", other[128];
	struct qemu_attach *attach = NULL;
	assert_int_equal(qemu_attach_new(p.pid, NULL, &attach, why, sizeof(why)), 0);
	int before = open("/dev/null", O_RDONLY | O_CLOEXEC);
	assert_true(before >= 0);
	close(before);
	int copy = -1;
	assert_int_equal(qemu_attach_probe_fd(attach, p.file, &copy), 0);
	assert_same_file(copy, p.file);
	close(copy);
	/* A file the player does not hold: none found, and no copy left open here. */
	snprintf(other, sizeof(other), "%s/other", p.dir);
	write_text(other, "x");
	assert_int_equal(qemu_attach_probe_fd(attach, other, &copy), -ENOENT);
	int after = open("/dev/null", O_RDONLY | O_CLOEXEC);
	assert_int_equal(after, before);
	close(after);
	unlink(other);
	qemu_attach_free(attach);
	player_stop(&p);
}

/* Attaching fails cleanly where the process holds no group, or is no process. */
static void test_attach_failures(void **state)
{
	struct player p;
	player_start(&p);
	struct vfio_device *dev = NULL;
	struct qemu_attach *attach = NULL;
	/* No such mdev in sysfs: refused before any fd is copied. */
	assert_true(qemu_attach_open(p.pid, NULL, "00000000-0000-0000-0000-000000000000", &dev,
				     &attach) < 0);
	assert_null(dev);
	assert_null(attach);
	player_stop(&p);
	assert_int_equal(qemu_attach_open(p.pid, NULL, "00000000-0000-0000-0000-000000000000",
					  &dev, &attach),
			 -ESRCH);
	assert_true(qemu_attach_open(0, "/nonexistent/vm.pid",
				     "00000000-0000-0000-0000-000000000000", &dev, &attach) < 0);
}

static void exited(void *ctx)
{
	*(int *)ctx += 1;
}

static bool loop_until(struct event_base *base, const int *count, int want)
{
	for (int i = 0; i < 5000 && *count < want; i++) {
		event_base_loop(base, EVLOOP_NONBLOCK);
		usleep(1000);
	}
	return *count == want;
}

/* QEMU's exit is seen on the loop, once; a pidfile names the same process. */
static void test_watch_exit(void **state)
{
	struct player p;
	player_start(&p);
	char pidfile[128], text[32], why[256] = "";
	snprintf(pidfile, sizeof(pidfile), "%s/qemu.pid", p.dir);
	snprintf(text, sizeof(text), "%d\n", (int)p.pid);
	write_text(pidfile, text);
	struct qemu_attach *attach = NULL;
	assert_int_equal(qemu_attach_new(0, pidfile, &attach, why, sizeof(why)), 0);
	assert_int_equal(qemu_attach_pid(attach), p.pid);
	struct event_base *base = event_base_new();
	int count = 0;
	assert_int_equal(qemu_attach_watch(attach, base, exited, &count), 0);
	event_base_loop(base, EVLOOP_NONBLOCK);
	assert_int_equal(count, 0);
	kill(p.pid, SIGKILL);
	assert_true(loop_until(base, &count, 1));
	waitpid(p.pid, NULL, 0);
	p.pid = 0;
	event_base_loop(base, EVLOOP_NONBLOCK);
	assert_int_equal(count, 1);
	qemu_attach_free(attach);
	event_base_free(base);
	unlink(pidfile);
	player_stop(&p);
}

/*
 * The player's side, in a process of its own under the sim (a sim per
 * process, as QEMU and the daemon are two): opens the mdev the way QEMU
 * does (cdev where the sim offers one, else group and container), reports
 * its device fd's number and waits to be killed.
 */
static int play_qemu(int report_fd)
{
	struct vfio_device *dev = NULL;
	const char *why = "";
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (vfio_device_open_uuid(SIM_UUID, &dev, &why) < 0) {
		fprintf(stderr, "player: %s\n", why);
		return 1;
	}
	int fd = vfio_device_fd(dev);
	if (write(report_fd, &fd, sizeof(fd)) != sizeof(fd))
		return 1;
	close(report_fd);
	for (;;)
		pause();
}

struct sim_player {
	pid_t pid;
	int device_fd; /* in the player */
};

static void sim_player_start(struct sim_player *p)
{
	int report[2];
	assert_int_equal(pipe(report), 0);
	char self[PATH_MAX], fd_text[16];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	assert_true(n > 0);
	self[n] = '\0';
	snprintf(fd_text, sizeof(fd_text), "%d", report[1]);
	p->pid = fork();
	assert_true(p->pid >= 0);
	if (p->pid == 0) {
		close(report[0]);
		/* The control socket is this test's: the player's sim must not take it. */
		unsetenv("VGPU_SIM_CONTROL");
		setenv(PLAYER_ENV, fd_text, 1);
		execl(self, self, (char *)NULL);
		_exit(127);
	}
	close(report[1]);
	assert_int_equal(read(report[0], &p->device_fd, sizeof(p->device_fd)),
			 sizeof(p->device_fd));
	close(report[0]);
}

static void sim_player_stop(struct sim_player *p)
{
	kill(p->pid, SIGKILL);
	waitpid(p->pid, NULL, 0);
}

/* The file position of the player's fd: shared with our fd only if both are one open file. */
static long long player_fd_pos(const struct sim_player *p)
{
	char path[64], line[128];
	long long pos = -1;
	snprintf(path, sizeof(path), "/proc/%d/fdinfo/%d", (int)p->pid, p->device_fd);
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "pos: %lld", &pos) == 1)
			break;
	fclose(f);
	return pos;
}

/*
 * Attaches to a player, by the node QEMU holds the mdev by; the device works,
 * and is QEMU's own open file (a seek moves the player's position) or not.
 */
static void check_attach(const char *node, bool qemu_file)
{
	struct sim_player p;
	sim_player_start(&p);
	struct vfio_device *dev = NULL;
	struct qemu_attach *attach = NULL;
	assert_int_equal(qemu_attach_open(p.pid, NULL, SIM_UUID, &dev, &attach), 0);
	assert_string_equal(qemu_attach_node(attach), node);
	struct vfio_region_info info;
	assert_true(vfio_device_num_regions(dev) > VFIO_PCI_BAR0_REGION_INDEX);
	assert_int_equal(vfio_device_region_info(dev, VFIO_PCI_BAR0_REGION_INDEX, &info), 0);
	assert_true(info.size > 0);
	assert_int_equal(lseek(vfio_device_fd(dev), 4096, SEEK_SET), 4096);
	assert_int_equal(player_fd_pos(&p), qemu_file ? 4096 : 0);
	vfio_device_free(dev);
	qemu_attach_free(attach);
	sim_player_stop(&p);
}

/* Group path: QEMU's group copied, the device opened again from it (our own file). */
static void test_attach_group(void **state)
{
	const char *why = "";
	char group[VFIO_GROUP_NUMBER_MAX + 1], node[32];
	assert_int_equal(vfio_device_group_number(SIM_UUID, group, &why), 0);
	snprintf(node, sizeof(node), "/dev/vfio/%s", group);
	check_attach(node, false);
}

/*
 * cdev path: no group to open again from, and the cdev refuses a second
 * open: QEMU's device fd itself is copied and used without binding it again.
 */
static void test_attach_cdev(void **state)
{
	check_attach("/dev/vfio/devices/vfio0", true);
}

/* A process holding neither node of the mdev: one error naming what was looked for. */
static void test_attach_holds_nothing(void **state)
{
	struct player p;
	player_start(&p);
	struct qemu_attach *attach = NULL;
	struct vfio_device *dev = NULL;
	char why[256] = "";
	assert_int_equal(qemu_attach_new(p.pid, NULL, &attach, why, sizeof(why)), 0);
	assert_int_equal(qemu_attach_device(attach, SIM_UUID, &dev, why, sizeof(why)), -ENOENT);
	assert_null(dev);
	assert_non_null(strstr(why, "holds neither /dev/vfio/"));
	const char *cdev = getenv("VGPU_SIM_CDEV");
	assert_non_null(strstr(why, cdev && strcmp(cdev, "1") == 0 ? "nor /dev/vfio/devices/vfio0"
								   : "nor an iommufd cdev (none)"));
	qemu_attach_free(attach);
	player_stop(&p);
}

static const struct CMUnitTest group_tests[] = {
	cmocka_unit_test(test_find_and_copy),
	cmocka_unit_test(test_pidfile),
	cmocka_unit_test(test_probe_without_proc),
	cmocka_unit_test(test_attach_failures),
	cmocka_unit_test(test_watch_exit),
	cmocka_unit_test(test_attach_group),
	cmocka_unit_test(test_attach_holds_nothing),
};
static const struct CMUnitTest cdev_tests[] = {
	cmocka_unit_test(test_attach_cdev),
	cmocka_unit_test(test_attach_holds_nothing),
};
static const char *const group_env[] = { "VGPU_SIM_CDEV=0", NULL };
static const char *const cdev_env[] = { "VGPU_SIM_CDEV=1", NULL };
static const struct sim_child_run runs[] = {
	{ "group", group_env, SIM_CHILD_TESTS(group_tests) },
	{ "cdev", cdev_env, SIM_CHILD_TESTS(cdev_tests) },
};

int main(void)
{
	const char *player = getenv(PLAYER_ENV);
	if (player)
		return play_qemu(atoi(player));
	return sim_child_main(runs, sizeof(runs) / sizeof(runs[0]));
}
