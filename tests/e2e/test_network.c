// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Who gets in, and how: the unix socket listener (stale file removed, mode
 * 0660, gone after exit, a live or foreign file left alone), VNC passwords
 * (right, wrong, view-only, a file others may read refused at start), the
 * failed-login limiter from another loopback address, max_clients,
 * share = exclusive, and wss with the daemon's own TLS.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <rfb/rfbconfig.h>

#include "net_helpers.h"
#include "test_cert.h"

#define WIDTH 640
#define HEIGHT 480
#define VNC_HANDSHAKE_TIMEOUT_MS 10000 /* the daemon's, not configurable */
#define WSS_WAIT_MS 30000 /* generous: .ci/run runs this with the daemon under valgrind */

/* A unix socket bound at path and closed without unlink: what a crashed daemon leaves. */
static int unix_listener(const char *path, bool keep)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	assert_int_equal(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	assert_int_equal(listen(fd, 1), 0);
	if (keep)
		return fd;
	close(fd);
	return -1;
}

/* The daemon opens its unix socket after the TCP port daemon_start waits for: polled. */
static bool unix_socket_accepts(const char *path, int timeout_ms)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	size_t len = strlen(path);
	assert_true(len < sizeof(sun.sun_path));
	memcpy(sun.sun_path, path, len + 1);
	uint64_t deadline = now_ms() + (uint64_t)timeout_ms;
	for (;;) {
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		bool ok = connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0;
		close(fd);
		if (ok)
			return true;
		if (now_ms() > deadline)
			return false;
		usleep(10000);
	}
}

static void test_unix_socket(void **state)
{
	struct net_dir dir;
	net_dir_make(&dir);
	char sock[128], text[200];
	snprintf(sock, sizeof(sock), "%s/vnc.sock", dir.path);
	unix_listener(sock, false);
	snprintf(text, sizeof(text), "unix_socket = %s\n", sock);
	struct net_config cfg;
	net_config(&cfg, &dir, text);

	struct daemon_proc d;
	daemon_start(&d, &(struct daemon_options){ .extra_args = cfg.args });
	assert_true(unix_socket_accepts(sock, NET_WAIT_MS));
	assert_int_equal(daemon_log_count(&d, "removed stale unix socket"), 1);
	struct stat st;
	assert_int_equal(stat(sock, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0660);

	struct net_picture pic = { 0 };
	net_show(&d, &pic, WIDTH, HEIGHT, 1);
	struct vnc_probe *probe = net_connect(sock, 0, NULL, "raw");
	assert_non_null(probe);
	assert_true(vnc_probe_wait_picture(probe, pic.pixels, WIDTH, HEIGHT, NET_WAIT_MS));
	net_show(&d, &pic, WIDTH, HEIGHT, 2);
	assert_true(vnc_probe_wait_picture(probe, pic.pixels, WIDTH, HEIGHT, NET_WAIT_MS));
	/* TCP still serves beside it. */
	struct vnc_probe *tcp = net_connect("127.0.0.1", d.port, NULL, "zrle");
	assert_non_null(tcp);
	assert_true(vnc_probe_wait_picture(tcp, pic.pixels, WIDTH, HEIGHT, NET_WAIT_MS));
	assert_true(daemon_log_count(&d, "client unix:uid=") >= 1);

	vnc_probe_free(tcp);
	vnc_probe_free(probe);
	assert_int_equal(daemon_stop(&d, SIGTERM), 0);
	assert_int_equal(lstat(sock, &st), -1);
	assert_int_equal(errno, ENOENT);
	free(pic.pixels);
	net_dir_remove(&dir);
}

/* The daemon with config text must refuse to start, saying needle once. */
static void expect_refusal(const struct net_dir *dir, const char *text, const char *needle)
{
	struct net_config cfg;
	net_config(&cfg, dir, text);
	struct daemon_proc d;
	int status = daemon_run_to_exit(&d, &(struct daemon_options){ .extra_args = cfg.args },
					10000);
	assert_int_not_equal(status, 0);
	assert_int_equal(daemon_log_count(&d, needle), 1);
}

static void test_unix_socket_in_use(void **state)
{
	struct net_dir dir;
	net_dir_make(&dir);
	char sock[128], text[200];
	snprintf(sock, sizeof(sock), "%s/vnc.sock", dir.path);
	int live = unix_listener(sock, true);
	snprintf(text, sizeof(text), "unix_socket = %s\n", sock);
	expect_refusal(&dir, text, "another server is answering on it");
	struct stat st;
	assert_int_equal(stat(sock, &st), 0);
	close(live);

	/* A regular file in the way is not removed either. */
	unlink(sock);
	char file[128];
	net_write_file(&dir, "vnc.sock", "data\n", 0600, file, sizeof(file));
	expect_refusal(&dir, text, "not a socket");
	assert_int_equal(stat(file, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	net_dir_remove(&dir);
}

struct passwords {
	struct net_dir dir;
	struct net_config cfg;
};

/* Starts the daemon with cfg and puts a first picture on the plane. */
static void start_showing(struct daemon_proc *d, const struct net_config *cfg,
			  struct net_picture *pic, uint32_t seed)
{
	daemon_start(d, &(struct daemon_options){ .extra_args = cfg->args });
	*pic = (struct net_picture){ 0 };
	net_show(d, pic, WIDTH, HEIGHT, seed);
}

static void write_passwords(struct passwords *p, const char *extra)
{
	char full[128], view[128], text[512];
	net_dir_make(&p->dir);
	net_write_file(&p->dir, "full", "sesame\n", 0600, full, sizeof(full));
	net_write_file(&p->dir, "view", "peekaboo\n", 0400, view, sizeof(view));
	snprintf(text, sizeof(text), "password_file = %s\nviewonly_password_file = %s\n%s", full,
		 view, extra);
	net_config(&p->cfg, &p->dir, text);
}

static void test_passwords(void **state)
{
	struct passwords p;
	write_passwords(&p, "");
	struct daemon_proc d;
	struct net_picture pic;
	start_showing(&d, &p.cfg, &pic, 3);

	/* Without a password libvncclient gives up before answering. */
	assert_null(net_connect("127.0.0.1", d.port, NULL, "raw"));
	assert_null(net_connect("127.0.0.1", d.port, "sesame!", "raw"));
	assert_int_equal(daemon_log_count(&d, "wrong password from 127.0.0.1"), 1);

	struct vnc_probe *full = net_connect("127.0.0.1", d.port, "sesame", "raw");
	assert_non_null(full);
	assert_true(vnc_probe_wait_picture(full, pic.pixels, WIDTH, HEIGHT, NET_WAIT_MS));
	assert_int_equal(daemon_log_count(&d, "client 127.0.0.1 logged in"), 1);
	assert_int_equal(daemon_log_count(&d, "(view-only)"), 0);

	struct vnc_probe *view = net_connect("127.0.0.1", d.port, "peekaboo", "hextile");
	assert_non_null(view);
	assert_true(vnc_probe_wait_picture(view, pic.pixels, WIDTH, HEIGHT, NET_WAIT_MS));
	assert_int_equal(daemon_log_count(&d, "logged in (view-only)"), 1);
	/* Input from a view-only client is dropped, and must not hurt. */
	SendPointerEvent(view->client, 10, 10, 1);
	SendKeyEvent(view->client, 'a', TRUE);
	net_show(&d, &pic, WIDTH, HEIGHT, 4);
	assert_true(vnc_probe_wait_picture(view, pic.pixels, WIDTH, HEIGHT, NET_WAIT_MS));
	assert_true(vnc_probe_wait_picture(full, pic.pixels, WIDTH, HEIGHT, NET_WAIT_MS));

	vnc_probe_free(view);
	vnc_probe_free(full);
	assert_int_equal(daemon_stop(&d, SIGTERM), 0);
	free(pic.pixels);
	net_dir_remove(&p.dir);
}

/* SIGHUP re-reads the password files: the next logins check the new password. */
static void test_password_reload(void **state)
{
	struct passwords p;
	write_passwords(&p, "");
	struct daemon_proc d;
	struct net_picture pic;
	start_showing(&d, &p.cfg, &pic, 5);
	struct vnc_probe *before = net_connect("127.0.0.1", d.port, "sesame", "raw");
	assert_non_null(before);

	char full[128];
	net_write_file(&p.dir, "full", "newpass\n", 0600, full, sizeof(full));
	kill(d.pid, SIGHUP);
	assert_true(daemon_wait_log(&d, "passwords re-read", 1, NET_WAIT_MS));
	assert_null(net_connect("127.0.0.1", d.port, "sesame", "raw"));
	struct vnc_probe *after = net_connect("127.0.0.1", d.port, "newpass", "raw");
	assert_non_null(after);
	assert_true(vnc_probe_wait_picture(after, pic.pixels, WIDTH, HEIGHT, NET_WAIT_MS));
	/* A client logged in before the change stays. */
	net_show(&d, &pic, WIDTH, HEIGHT, 6);
	assert_true(vnc_probe_wait_picture(before, pic.pixels, WIDTH, HEIGHT, NET_WAIT_MS));

	/* A password file made readable by others is refused: the running password stays. */
	assert_int_equal(chmod(full, 0644), 0);
	kill(d.pid, SIGHUP);
	assert_true(daemon_wait_log(&d, "keeping the running passwords", 1, NET_WAIT_MS));
	struct vnc_probe *still = net_connect("127.0.0.1", d.port, "newpass", "raw");
	assert_non_null(still);

	vnc_probe_free(still);
	vnc_probe_free(after);
	vnc_probe_free(before);
	assert_int_equal(daemon_stop(&d, SIGTERM), 0);
	free(pic.pixels);
	net_dir_remove(&p.dir);
}

static void test_open_password_file_refused(void **state)
{
	struct net_dir dir;
	net_dir_make(&dir);
	char pw[128], text[200];
	net_write_file(&dir, "pw", "sesame\n", 0644, pw, sizeof(pw));
	snprintf(text, sizeof(text), "password_file = %s\n", pw);
	expect_refusal(&dir, text, "chmod 600");
	net_dir_remove(&dir);
}

/* Up to the VNC auth challenge by hand, then a wrong answer; false if closed at once. */
static bool send_wrong_login(int fd)
{
	char version[12];
	if (recv(fd, version, 12, MSG_WAITALL) != 12)
		return false;
	assert_int_equal(send(fd, "RFB 003.008\n", 12, 0), 12);
	uint8_t count, types[16];
	assert_int_equal(recv(fd, &count, 1, MSG_WAITALL), 1);
	assert_true(count > 0 && count <= sizeof(types));
	assert_int_equal(recv(fd, types, count, MSG_WAITALL), count);
	assert_int_equal(types[0], 2); /* VNC authentication, and nothing weaker */
	assert_int_equal(count, 1);
	uint8_t vnc_auth = 2, challenge[16];
	assert_int_equal(send(fd, &vnc_auth, 1, 0), 1);
	assert_int_equal(recv(fd, challenge, 16, MSG_WAITALL), 16);
	assert_int_equal(send(fd, challenge, 16, 0), 16); /* not the password's answer */
	return true;
}

/* The server's SecurityResult word: 1 = failed. */
static int login_result(int fd)
{
	uint8_t result[4];
	assert_int_equal(recv(fd, result, 4, MSG_WAITALL), 4);
	return result[3];
}

static void test_failed_logins_are_limited(void **state)
{
	struct passwords p;
	write_passwords(&p, "");
	struct daemon_proc d;
	struct net_picture pic;
	start_showing(&d, &p.cfg, &pic, 5);

	/* The first wrong answer is held back half a second. */
	int fd = net_tcp_connect("127.0.0.2", d.port);
	uint64_t start = now_ms();
	assert_true(send_wrong_login(fd));
	assert_int_equal(login_result(fd), 1);
	uint64_t first = now_ms() - start;
	close(fd);
	assert_true(first >= 450);

	/* Four more at once: the fifth failure in a row blocks the address. */
	int fds[4];
	for (int i = 0; i < 4; i++)
		fds[i] = net_tcp_connect("127.0.0.2", d.port);
	for (int i = 0; i < 4; i++)
		assert_true(send_wrong_login(fds[i]));
	for (int i = 0; i < 4; i++) {
		assert_int_equal(login_result(fds[i]), 1);
		close(fds[i]);
	}
	print_message("first wrong answer after %llu ms, five in %llu ms\n",
		      (unsigned long long)first, (unsigned long long)(now_ms() - start));
	assert_int_equal(daemon_log_count(&d, "wrong password from 127.0.0.2, 5 in a row: blocking"),
			 1);
	/* Blocked: closed at once, before any protocol. */
	fd = net_tcp_connect("127.0.0.2", d.port);
	assert_false(send_wrong_login(fd));
	close(fd);
	assert_int_equal(daemon_log_count(&d, "blocked for failed logins"), 1);

	/* Another address is served as before. */
	struct vnc_probe *probe = net_connect("127.0.0.1", d.port, "sesame", "raw");
	assert_non_null(probe);
	assert_true(vnc_probe_wait_picture(probe, pic.pixels, WIDTH, HEIGHT, NET_WAIT_MS));
	vnc_probe_free(probe);
	assert_int_equal(daemon_stop(&d, SIGTERM), 0);
	free(pic.pixels);
	net_dir_remove(&p.dir);
}

static void test_max_clients(void **state)
{
	struct net_dir dir;
	net_dir_make(&dir);
	struct net_config cfg;
	net_config(&cfg, &dir, "max_clients = 2\n");
	struct daemon_proc d;
	struct net_picture pic;
	start_showing(&d, &cfg, &pic, 6);

	struct vnc_probe *a = net_connect("127.0.0.1", d.port, NULL, "raw");
	struct vnc_probe *b = net_connect("127.0.0.1", d.port, NULL, "raw");
	assert_non_null(a);
	assert_non_null(b);
	assert_null(net_connect("127.0.0.1", d.port, NULL, "raw"));
	assert_int_equal(daemon_log_count(&d, "max_clients reached"), 1);
	assert_true(vnc_probe_wait_picture(a, pic.pixels, WIDTH, HEIGHT, NET_WAIT_MS));

	/* A place comes free when a client leaves. */
	vnc_probe_free(b);
	struct vnc_probe *c = NULL;
	for (uint64_t deadline = now_ms() + NET_WAIT_MS; !c && now_ms() < deadline; usleep(50000))
		c = net_connect("127.0.0.1", d.port, NULL, "raw");
	assert_non_null(c);
	assert_true(vnc_probe_wait_picture(c, pic.pixels, WIDTH, HEIGHT, NET_WAIT_MS));
	vnc_probe_free(c);
	vnc_probe_free(a);
	assert_int_equal(daemon_stop(&d, SIGTERM), 0);
	free(pic.pixels);
	net_dir_remove(&dir);
}

static void test_exclusive_share(void **state)
{
	struct passwords p;
	write_passwords(&p, "share = exclusive\n");
	struct daemon_proc d;
	struct net_picture pic;
	start_showing(&d, &p.cfg, &pic, 7);

	struct vnc_probe *first = net_connect("127.0.0.1", d.port, "sesame", "raw");
	assert_non_null(first);
	assert_true(vnc_probe_wait_picture(first, pic.pixels, WIDTH, HEIGHT, NET_WAIT_MS));
	/* A stranger with a wrong password evicts nobody. */
	assert_null(net_connect("127.0.0.1", d.port, "guess", "raw"));
	net_show(&d, &pic, WIDTH, HEIGHT, 8);
	assert_true(vnc_probe_wait_picture(first, pic.pixels, WIDTH, HEIGHT, NET_WAIT_MS));

	struct vnc_probe *second = net_connect("127.0.0.1", d.port, "peekaboo", "raw");
	assert_non_null(second);
	assert_true(net_wait_closed(first, NET_WAIT_MS));
	assert_true(vnc_probe_wait_picture(second, pic.pixels, WIDTH, HEIGHT, NET_WAIT_MS));
	/* Logged by the daemon's main loop, perhaps after the picture reached the client. */
	assert_true(daemon_wait_log(&d, "disconnects 1 other client", 1, NET_WAIT_MS));
	assert_int_equal(daemon_log_count(&d, "disconnects 1 other client"), 1);
	vnc_probe_free(first);
	vnc_probe_free(second);
	assert_int_equal(daemon_stop(&d, SIGTERM), 0);
	free(pic.pixels);
	net_dir_remove(&p.dir);
}

/* Beyond loopback only with a password (or the explicit opt-out). */
static void test_public_bind_needs_password(void **state)
{
	char listen[32];
	snprintf(listen, sizeof(listen), "0.0.0.0:%u", free_port());
	const char *args[] = { "--listen", listen, NULL };
	struct daemon_proc d;
	assert_int_not_equal(daemon_run_to_exit(&d, &(struct daemon_options){ .extra_args = args },
						10000),
			     0);
	assert_int_equal(daemon_log_count(&d, "is not loopback and password_file is not set"), 1);

	/* With a password the same settings pass the checks. */
	struct passwords p;
	write_passwords(&p, "");
	const char *with_password[] = { "--listen", listen, "--check-config", p.cfg.path, NULL };
	assert_int_equal(daemon_run_to_exit(&d, &(struct daemon_options){ .extra_args = with_password },
					    10000),
			 0);
	net_dir_remove(&p.dir);
}

/* A self-signed certificate for localhost in dir: cert and key paths out. */
static void make_certificate(const struct net_dir *dir, char *cert, size_t cert_size, char *key,
			     size_t key_size)
{
	snprintf(cert, cert_size, "%s/cert.pem", dir->path);
	snprintf(key, key_size, "%s/key.pem", dir->path);
	test_make_certificate(cert, key);
}

/*
 * Over TLS on port, a websocket upgrade: all the peer answered until the RFB
 * greeting came (polled, with a generous deadline), NUL-terminated, into out
 * (what a wss client sees before it speaks). openssl s_client is the client.
 */
static size_t wss_exchange(uint16_t port, char *out, size_t size)
{
	static const char upgrade[] =
		"GET / HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n"
		"Origin: https://localhost\r\nConnection: Upgrade\r\n"
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
		"Sec-WebSocket-Protocol: binary\r\nSec-WebSocket-Version: 13\r\n\r\n";
	char peer[32];
	snprintf(peer, sizeof(peer), "127.0.0.1:%u", port);
	int to_client[2], from_client[2];
	assert_int_equal(pipe2(to_client, O_CLOEXEC), 0);
	assert_int_equal(pipe2(from_client, O_CLOEXEC), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(to_client[0], STDIN_FILENO);
		dup2(from_client[1], STDOUT_FILENO);
		int quiet = open("/dev/null", O_WRONLY);
		dup2(quiet, STDERR_FILENO);
		execlp("openssl", "openssl", "s_client", "-quiet", "-no_ign_eof", "-connect", peer,
		       (char *)NULL);
		_exit(127);
	}
	close(to_client[0]);
	close(from_client[1]);
	assert_int_equal(write(to_client[1], upgrade, sizeof(upgrade) - 1),
			 (ssize_t)sizeof(upgrade) - 1);
	size_t n = 0;
	uint64_t deadline = now_ms() + WSS_WAIT_MS;
	while (n < size - 1 && !memmem(out, n, "RFB 003.008", 11) && now_ms() < deadline) {
		struct pollfd pfd = { .fd = from_client[0], .events = POLLIN };
		if (poll(&pfd, 1, 100) <= 0)
			continue;
		ssize_t got = read(from_client[0], out + n, size - 1 - n);
		if (got <= 0)
			break;
		n += (size_t)got;
	}
	out[n] = '\0';
	close(to_client[1]);
	close(from_client[0]);
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	return n;
}

/*
 * wss: the daemon ends TLS itself and hands libvncserver the plaintext, so a
 * websocket over TLS gets the RFB greeting; plain RFB on the same port still
 * shows the picture, and a TLS client stuck in its handshake is dropped.
 * (test_viewers.c checks the picture noVNC shows over wss.)
 */
static void test_wss(void **state)
{
	struct net_dir dir;
	net_dir_make(&dir);
	char cert[128], key[128], text[300];
	make_certificate(&dir, cert, sizeof(cert), key, sizeof(key));
	snprintf(text, sizeof(text), "tls_cert = %s\ntls_key = %s\n", cert, key);
	struct net_config cfg;
	net_config(&cfg, &dir, text);
	struct daemon_proc d;
	struct net_picture pic;
	start_showing(&d, &cfg, &pic, 9);
	/* A TLS client that never finishes its ClientHello: meanwhile others are served. */
	int stalled = net_tcp_connect("127.0.0.1", d.port);
	assert_int_equal(send(stalled, "\x16\x03\x01", 3, 0), 3);

	char answer[4096];
	size_t n = wss_exchange(d.port, answer, sizeof(answer));
	assert_non_null(strstr(answer, "HTTP/1.1 101"));
	assert_non_null(memmem(answer, n, "RFB 003.008", 11));
	assert_int_equal(daemon_log_count(&d, "connected over TLS"), 1);

	struct vnc_probe *plain = net_connect("127.0.0.1", d.port, NULL, "raw");
	assert_non_null(plain);
	assert_true(vnc_probe_wait_picture(plain, pic.pixels, WIDTH, HEIGHT, NET_WAIT_MS));
	vnc_probe_free(plain);
	/* The handshake timeout reaches the client through its relay. */
	assert_true(net_socket_closes(stalled, VNC_HANDSHAKE_TIMEOUT_MS + 10000));
	assert_int_equal(daemon_log_count(&d, "not logged in"), 1);
	close(stalled);
	assert_int_equal(daemon_stop(&d, SIGTERM), 0);
	free(pic.pixels);
	net_dir_remove(&dir);
}

/* A certificate GnuTLS cannot load stops the start, naming the files. */
static void test_bad_certificate_refused(void **state)
{
	struct net_dir dir;
	net_dir_make(&dir);
	char cert[128], key[128], text[300];
	net_write_file(&dir, "cert.pem", "-----BEGIN CERTIFICATE-----\n", 0644, cert, sizeof(cert));
	net_write_file(&dir, "key.pem", "-----BEGIN PRIVATE KEY-----\n", 0600, key, sizeof(key));
	snprintf(text, sizeof(text), "tls_cert = %s\ntls_key = %s\n", cert, key);
	expect_refusal(&dir, text, "cannot load them");
	net_dir_remove(&dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unix_socket),
		cmocka_unit_test(test_unix_socket_in_use),
		cmocka_unit_test(test_passwords),
		cmocka_unit_test(test_password_reload),
		cmocka_unit_test(test_open_password_file_refused),
		cmocka_unit_test(test_failed_logins_are_limited),
		cmocka_unit_test(test_max_clients),
		cmocka_unit_test(test_exclusive_share),
		cmocka_unit_test(test_public_bind_needs_password),
		cmocka_unit_test(test_wss),
		cmocka_unit_test(test_bad_certificate_refused),
	};
	signal(SIGPIPE, SIG_IGN);
	return test_exit_status(cmocka_run_group_tests(tests, NULL, NULL));
}
