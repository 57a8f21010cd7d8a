// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Clients that misbehave: one that stops reading, ones that send garbage
 * (plain, as a websocket, as TLS, and after the handshake), a thousand
 * connections opened and dropped, and one that never logs in. Meanwhile a
 * normal client's frame rate (the simulator flipping at 60 Hz) is measured
 * against its rate without them; afterwards the daemon's fds and threads
 * are back to what they were and its memory has not grown much.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <time.h>

#include "net_helpers.h"

#define WIDTH 640
#define HEIGHT 480
#define MEASURE_MS 3000
#define DROPPED_CONNECTIONS 1000
#define HANDSHAKE_TIMEOUT_MS 10000 /* VNC_SERVER_HANDSHAKE_TIMEOUT_MS */

/* Flips two full pictures in turn at 60 Hz: every frame changes every pixel. */
struct flipper {
	struct daemon_proc *d;
	uint8_t *pictures[2];
	pthread_t thread;
	atomic_bool stop;
	unsigned flips;
};

static void *flip_loop(void *arg)
{
	struct flipper *f = arg;
	struct timespec next;
	clock_gettime(CLOCK_MONOTONIC, &next);
	while (!atomic_load(&f->stop)) {
		simctl_flip(f->d->sim, NET_PRIMARY, f->pictures[f->flips % 2],
			    (size_t)WIDTH * HEIGHT * 4);
		f->flips++;
		next.tv_nsec += 16666667;
		if (next.tv_nsec >= 1000000000) {
			next.tv_nsec -= 1000000000;
			next.tv_sec++;
		}
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
	}
	return NULL;
}

/* Updates per second the probe receives over MEASURE_MS. */
static double measure_fps(struct vnc_probe *probe)
{
	vnc_probe_reset_counts(probe);
	uint64_t start = now_ms();
	assert_true(vnc_probe_pump(probe, MEASURE_MS));
	return (double)probe->updates * 1000.0 / (double)(now_ms() - start);
}

static long proc_status_kb(pid_t pid, const char *key)
{
	char path[64], line[256];
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	long value = -1;
	size_t len = strlen(key);
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, len) && line[len] == ':')
			value = strtol(line + len + 1, NULL, 10);
	fclose(f);
	return value;
}

static int fd_count(pid_t pid)
{
	char path[64];
	snprintf(path, sizeof(path), "ls /proc/%d/fd | wc -l", (int)pid);
	FILE *p = popen(path, "r");
	int n = -1;
	assert_int_equal(fscanf(p, "%d", &n), 1);
	pclose(p);
	return n;
}

/* Speaks RFB up to ClientInit, asks for many full updates, then never reads. */
static int stalled_client(uint16_t port)
{
	int small = 4096;
	int fd = net_tcp_connect("127.0.0.1", port);
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	char version[12];
	assert_int_equal(recv(fd, version, 12, MSG_WAITALL), 12);
	assert_int_equal(send(fd, "RFB 003.008\n", 12, 0), 12);
	uint8_t count, types[16], none = 1, shared = 1, result[4], init[24];
	assert_int_equal(recv(fd, &count, 1, MSG_WAITALL), 1);
	assert_int_equal(recv(fd, types, count, MSG_WAITALL), count);
	assert_int_equal(send(fd, &none, 1, 0), 1);
	assert_int_equal(recv(fd, result, 4, MSG_WAITALL), 4);
	assert_int_equal(send(fd, &shared, 1, 0), 1);
	assert_int_equal(recv(fd, init, 24, MSG_WAITALL), 24);
	uint8_t request[10] = { 3, 0, 0, 0, 0, 0, WIDTH >> 8, WIDTH & 0xff, HEIGHT >> 8,
				HEIGHT & 0xff };
	for (int i = 0; i < 100; i++)
		send(fd, request, sizeof(request), MSG_DONTWAIT);
	return fd;
}

static int garbage_client(uint16_t port, const void *bytes, size_t len)
{
	int fd = net_tcp_connect("127.0.0.1", port);
	assert_int_equal(send(fd, bytes, len, 0), (ssize_t)len);
	return fd;
}

/* Garbage after a clean handshake: message types nobody defined, and a huge cut text. */
static int garbage_after_handshake(uint16_t port)
{
	int fd = stalled_client(port);
	static const uint8_t junk[] = { 0xff, 0xfe, 0x99, 6, 0, 0, 0, 0xff, 0xff, 0xff, 0xff };
	send(fd, junk, sizeof(junk), MSG_DONTWAIT);
	return fd;
}

struct dropper {
	uint16_t port;
	pthread_t thread;
	unsigned done;
};

/* Opens and drops connections; every other one with a reset instead of a close. */
static void *drop_loop(void *arg)
{
	struct dropper *dr = arg;
	for (dr->done = 0; dr->done < DROPPED_CONNECTIONS; dr->done++) {
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		struct sockaddr_in addr = {
			.sin_family = AF_INET,
			.sin_port = htons(dr->port),
			.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
		};
		if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0 && dr->done % 2) {
			struct linger reset = { .l_onoff = 1, .l_linger = 0 };
			setsockopt(fd, SOL_SOCKET, SO_LINGER, &reset, sizeof(reset));
		}
		close(fd);
		usleep(1000);
	}
	return NULL;
}

/* Polls until the daemon's fd and thread counts are back to the baseline. */
static bool back_to(pid_t pid, int fds, long threads, int timeout_ms)
{
	uint64_t deadline = now_ms() + (uint64_t)timeout_ms;
	while (fd_count(pid) != fds || proc_status_kb(pid, "Threads") != threads) {
		if (now_ms() >= deadline)
			return false;
		usleep(100000);
	}
	return true;
}

#define BAD_CLIENTS 6

/* Every kind of bad client at once, and the normal client's rate meanwhile. */
static double bad_round(struct daemon_proc *d, struct vnc_probe *probe, int *bad)
{
	bad[0] = stalled_client(d->port);
	bad[1] = garbage_client(d->port, "\x01\x02\x03\x04garbage", 11);
	bad[2] = garbage_client(d->port, "GET /?\r\nHost: \xff\r\n\r\n", 20);
	bad[3] = garbage_client(d->port, "\x16\x03\x01\x00\x05hello", 10);
	bad[4] = garbage_client(d->port, "RFB 999.999\n\xff\xff\xff\xff", 16);
	bad[5] = garbage_after_handshake(d->port);
	struct dropper dr = { .port = d->port };
	assert_int_equal(pthread_create(&dr.thread, NULL, drop_loop, &dr), 0);
	double fps = measure_fps(probe);
	pthread_join(dr.thread, NULL);
	assert_int_equal(dr.done, DROPPED_CONNECTIONS);
	return fps;
}

static void close_all(int *fds, int n)
{
	for (int i = 0; i < n; i++)
		close(fds[i]);
}

static void test_hostile_clients(void **state)
{
	struct daemon_proc d;
	daemon_start(&d, NULL);
	struct net_picture pic = { 0 };
	net_show(&d, &pic, WIDTH, HEIGHT, 1);
	struct vnc_probe *probe = vnc_probe_connect(d.port, "raw");
	assert_non_null(probe);
	assert_true(vnc_probe_wait_picture(probe, pic.pixels, WIDTH, HEIGHT, NET_WAIT_MS));

	struct flipper f = { .d = &d };
	for (int i = 0; i < 2; i++) {
		f.pictures[i] = malloc((size_t)WIDTH * HEIGHT * 4);
		picture_fill(f.pictures[i], WIDTH, HEIGHT, 10 + (uint32_t)i);
	}
	assert_int_equal(pthread_create(&f.thread, NULL, flip_loop, &f), 0);
	/* Other work on the machine can slow any one measurement: each rate is the best of two. */
	double base_fps = measure_fps(probe);
	double again = measure_fps(probe);
	base_fps = again > base_fps ? again : base_fps;
	int base_fds = fd_count(d.pid);
	long base_threads = proc_status_kb(d.pid, "Threads");
	long rss[3] = { proc_status_kb(d.pid, "VmRSS") };

	/* The silent one first: its handshake clock starts now. */
	int silent = net_tcp_connect("127.0.0.1", d.port);
	uint64_t silent_since = now_ms();
	int bad[BAD_CLIENTS];
	double bad_fps[2];
	bad_fps[0] = bad_round(&d, probe, bad);
	close_all(bad, BAD_CLIENTS);

	/* Never logged in: dropped after the handshake timeout, not before. */
	assert_true(net_socket_closes(silent, HANDSHAKE_TIMEOUT_MS + 3000));
	uint64_t silent_for = now_ms() - silent_since;
	close(silent);
	print_message("silent client dropped after %llu ms\n", (unsigned long long)silent_for);
	assert_true(silent_for >= HANDSHAKE_TIMEOUT_MS - 500);
	assert_int_equal(daemon_log_count(&d, "not logged in after"), 1);
	assert_true(back_to(d.pid, base_fds, base_threads, 5000));
	rss[1] = proc_status_kb(d.pid, "VmRSS");

	/*
	 * A second round takes little more: what the first took was reused, not
	 * leaked (glibc keeps per-thread arenas, so some growth stays bounded).
	 */
	bad_fps[1] = bad_round(&d, probe, bad);
	close_all(bad, BAD_CLIENTS);
	print_message("normal client: %.1f updates/s alone, %.1f and %.1f with the bad clients "
		      "beside\n", base_fps, bad_fps[0], bad_fps[1]);
	/*
	 * A server stalled by a bad client would deliver nothing for its 20 s write
	 * timeout; half the undisturbed rate leaves room for a busy machine (CI runs
	 * the QEMU guest beside this test) without hiding that. No absolute rate:
	 * the daemon runs under valgrind and TSan too, and speed is the benchmarks'.
	 */
	assert_true(base_fps > 0);
	assert_true((bad_fps[0] > bad_fps[1] ? bad_fps[0] : bad_fps[1]) >= 0.5 * base_fps);
	assert_true(back_to(d.pid, base_fds, base_threads, 5000));
	rss[2] = proc_status_kb(d.pid, "VmRSS");
	print_message("VmRSS: %ld kB before, %ld kB after one round, %ld kB after two\n", rss[0],
		      rss[1], rss[2]);
#ifndef MDEV_VNCD_SANITIZED
	assert_true(rss[1] - rss[0] < 48 * 1024);
#else
	/* ASan's quarantine keeps freed memory mapped: only fds and threads are compared. */
	print_message("RSS grew %ld KiB (not checked under the sanitizers)\n", rss[1] - rss[0]);
#endif
	assert_true(rss[2] - rss[1] < 16 * 1024);

	/* Still exact for the normal client. */
	atomic_store(&f.stop, true);
	pthread_join(f.thread, NULL);
	net_show(&d, &pic, WIDTH, HEIGHT, 2);
	assert_true(vnc_probe_wait_picture(probe, pic.pixels, WIDTH, HEIGHT, NET_WAIT_MS));
	vnc_probe_free(probe);
	assert_int_equal(daemon_stop(&d, SIGTERM), 0);
	for (int i = 0; i < 2; i++)
		free(f.pictures[i]);
	free(pic.pixels);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hostile_clients),
	};
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
