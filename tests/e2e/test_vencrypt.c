// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * VeNCrypt end to end: libvncclient logs in with each X.509 subtype and is
 * refused for a wrong password, an unknown user, a certificate it does not
 * trust or one it lacks; tls = required refuses the clear methods; hostile
 * handshakes are dropped while another client keeps its picture; the users
 * file and the certificate reload on SIGHUP; tls_cert = auto makes one.
 */
#include <signal.h>
#include <sys/wait.h>

#include "net_helpers.h"

#define WIDTH 320
#define HEIGHT 240
#define HANDSHAKE_TIMEOUT_MS 10000 /* the daemon's */

/* libvncclient over VeNCrypt; it takes the first subtype offered. NULL when refused. */
static struct vnc_probe *login(uint16_t port, const struct tls_login *l)
{
	return net_tls_login("127.0.0.1", port, l, "raw");
}

static void run(const char *cmd)
{
	if (system(cmd) != 0)
		fail_msg("failed: %s", cmd);
}

/* A self-signed certificate for 127.0.0.1 as dir/name.pem and dir/name.key (0600). */
static void make_certificate(const struct net_dir *dir, const char *name)
{
	char cmd[768];
	snprintf(cmd, sizeof(cmd),
		 "cd '%s' && umask 077 && openssl req -x509 -newkey ec -pkeyopt "
		 "ec_paramgen_curve:prime256v1 -nodes -days 1 -subj /CN=localhost -addext "
		 "subjectAltName=IP:127.0.0.1,DNS:localhost -keyout %s.key -out %s.pem 2>/dev/null",
		 dir->path, name, name);
	run(cmd);
}

/* USER's users_file line for password, made by the daemon's own command, into line. */
static void hash_password(const char *user, const char *password, char *line, size_t size)
{
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "printf '%%s\\n' '%s' | '%s' --hash-password '%s'", password,
		 DAEMON_BINARY, user);
	FILE *f = popen(cmd, "r");
	assert_non_null(f);
	assert_non_null(fgets(line, (int)size, f));
	assert_int_equal(pclose(f), 0);
}

struct setup {
	struct net_dir dir;
	struct net_config cfg;
	char cert[128], key[128], users[128], password[128];
	struct tls_login alice; /* a login that works with the users file */
};

/* Certificate "server", users alice (and optionally bob), VNC password "sesame". */
static void setup_files(struct setup *s, bool with_bob)
{
	net_dir_make(&s->dir);
	make_certificate(&s->dir, "server");
	snprintf(s->cert, sizeof(s->cert), "%s/server.pem", s->dir.path);
	snprintf(s->key, sizeof(s->key), "%s/server.key", s->dir.path);
	char alice[256], bob[256] = "", text[600];
	hash_password("alice", "wonderland", alice, sizeof(alice));
	if (with_bob)
		hash_password("bob", "builder", bob, sizeof(bob));
	snprintf(text, sizeof(text), "%s%s", alice, bob);
	net_write_file(&s->dir, "users", text, 0600, s->users, sizeof(s->users));
	net_write_file(&s->dir, "password", "sesame\n", 0600, s->password, sizeof(s->password));
	s->alice = (struct tls_login){ .ca = s->cert, .user = "alice", .password = "wonderland" };
}

/* The daemon with tls, auth, and extra lines; showing a picture from seed. */
static void start_tls(struct daemon_proc *d, struct setup *s, const char *tls, const char *auth,
		      const char *extra, struct net_picture *pic, uint32_t seed)
{
	char text[1024];
	snprintf(text, sizeof(text),
		 "tls = %s\ntls_cert = %s\ntls_key = %s\nusers_file = %s\n"
		 "password_file = %s\nauth = %s\n%s",
		 tls, s->cert, s->key, s->users, s->password, auth, extra);
	net_config(&s->cfg, &s->dir, text);
	daemon_start(d, &(struct daemon_options){ .extra_args = s->cfg.args });
	*pic = (struct net_picture){ 0 };
	net_show(d, pic, WIDTH, HEIGHT, seed);
}

static void start(struct daemon_proc *d, struct setup *s, const char *auth, const char *extra,
		  struct net_picture *pic, uint32_t seed)
{
	start_tls(d, s, "required", auth, extra, pic, seed);
}

static void stop(struct daemon_proc *d, struct setup *s, struct net_picture *pic)
{
	assert_int_equal(daemon_stop(d, SIGTERM), 0);
	free(pic->pixels);
	net_dir_remove(&s->dir);
}

static void expect_picture(struct vnc_probe *probe, const struct net_picture *pic)
{
	assert_non_null(probe);
	assert_true(vnc_probe_wait_picture(probe, pic->pixels, WIDTH, HEIGHT, NET_WAIT_MS));
}

/* X509Plain first when offered; wrong password, unknown user, untrusted certificate refused. */
static void test_x509_plain(void **state)
{
	struct setup s;
	setup_files(&s, false);
	make_certificate(&s.dir, "stranger");
	struct daemon_proc d;
	struct net_picture pic;
	start(&d, &s, "plain,vnc", "", &pic, 1);

	struct vnc_probe *probe = login(d.port, &s.alice);
	expect_picture(probe, &pic);
	assert_int_equal(probe->client->subAuthScheme, rfbVeNCryptX509Plain);
	assert_true(daemon_wait_log(&d, "logged in with VeNCrypt X509Plain as alice", 1, NET_WAIT_MS));
	assert_int_equal(daemon_log_count(&d, "connected over VeNCrypt"), 1);
	vnc_probe_free(probe);

	struct tls_login wrong = s.alice;
	wrong.password = "wonderlan";
	assert_null(login(d.port, &wrong));
	assert_int_equal(daemon_log_count(&d, "wrong user name or password (user alice) from"), 1);
	wrong = s.alice;
	wrong.user = "mallory";
	assert_null(login(d.port, &wrong));
	assert_int_equal(daemon_log_count(&d, "wrong user name or password (user mallory)"), 1);

	char stranger[128];
	snprintf(stranger, sizeof(stranger), "%s/stranger.pem", s.dir.path);
	wrong = s.alice;
	wrong.ca = stranger;
	assert_null(login(d.port, &wrong));
	/* The client gave up in the TLS handshake: no password was ever checked. */
	assert_int_equal(daemon_log_count(&d, "wrong user name or password"), 2);
	assert_true(daemon_wait_log(&d, "TLS handshake failed", 1, NET_WAIT_MS));

	/* The right login still works after the failures. */
	probe = login(d.port, &s.alice);
	expect_picture(probe, &pic);
	vnc_probe_free(probe);
	stop(&d, &s, &pic);
}

/*
 * The failed-login limiter counts VeNCrypt logins too: five wrong ones in a
 * row block the address, and then even the right password is turned away.
 */
static void test_failed_logins_blocked(void **state)
{
	struct setup s;
	setup_files(&s, false);
	struct daemon_proc d;
	struct net_picture pic;
	start(&d, &s, "plain", "", &pic, 18);
	struct tls_login wrong = s.alice;
	wrong.password = "guess";
	for (int i = 0; i < 5; i++)
		assert_null(login(d.port, &wrong));
	assert_true(daemon_wait_log(&d, "5 in a row: blocking it for 60 s", 1, NET_WAIT_MS));
	assert_null(login(d.port, &s.alice));
	assert_true(daemon_wait_log(&d, "blocked for failed logins", 1, NET_WAIT_MS));
	assert_int_equal(daemon_log_count(&d, "logged in"), 0);
	stop(&d, &s, &pic);
}

/* X509Vnc: the VNC password inside TLS, and its view-only twin. */
static void test_x509_vnc(void **state)
{
	struct setup s;
	setup_files(&s, false);
	char view[128], extra[256];
	net_write_file(&s.dir, "view", "peekaboo\n", 0600, view, sizeof(view));
	snprintf(extra, sizeof(extra), "viewonly_password_file = %s\n", view);
	struct daemon_proc d;
	struct net_picture pic;
	start(&d, &s, "vnc", extra, &pic, 2);

	struct tls_login vnc = { .ca = s.cert, .password = "sesame" };
	struct vnc_probe *probe = login(d.port, &vnc);
	expect_picture(probe, &pic);
	assert_int_equal(probe->client->subAuthScheme, rfbVeNCryptX509VNC);
	assert_true(daemon_wait_log(&d, "logged in with VeNCrypt X509Vnc", 1, NET_WAIT_MS));
	vnc_probe_free(probe);

	vnc.password = "peekaboo";
	probe = login(d.port, &vnc);
	expect_picture(probe, &pic);
	vnc_probe_free(probe);

	vnc.password = "sesame!!";
	assert_null(login(d.port, &vnc));
	assert_int_equal(daemon_log_count(&d, "wrong password from 127.0.0.1"), 1);
	stop(&d, &s, &pic);
}

/* X509None only when listed; with tls_verify_client the certificate is the login. */
static void test_x509_none_with_client_certificate(void **state)
{
	struct setup s;
	setup_files(&s, false);
	char cmd[1024], extra[256], ca[128];
	snprintf(cmd, sizeof(cmd),
		 "cd '%s' && umask 077 && openssl req -x509 -newkey ec -pkeyopt "
		 "ec_paramgen_curve:prime256v1 -nodes -days 1 -subj /CN=testca -addext "
		 "basicConstraints=critical,CA:TRUE -keyout ca.key -out ca.pem 2>/dev/null && "
		 "openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
		 "-subj /CN=viewer -keyout client.key -out client.csr 2>/dev/null && "
		 "openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial "
		 "-days 1 -out client.pem 2>/dev/null",
		 s.dir.path);
	run(cmd);
	snprintf(ca, sizeof(ca), "%s/ca.pem", s.dir.path);
	snprintf(extra, sizeof(extra), "tls_ca = %s\ntls_verify_client = yes\n", ca);
	struct daemon_proc d;
	struct net_picture pic;
	start(&d, &s, "none", extra, &pic, 3);

	char client_cert[128], client_key[128];
	snprintf(client_cert, sizeof(client_cert), "%s/client.pem", s.dir.path);
	snprintf(client_key, sizeof(client_key), "%s/client.key", s.dir.path);
	struct tls_login with_cert = { .ca = s.cert, .client_cert = client_cert,
				       .client_key = client_key };
	struct vnc_probe *probe = login(d.port, &with_cert);
	expect_picture(probe, &pic);
	assert_int_equal(probe->client->subAuthScheme, rfbVeNCryptX509None);
	vnc_probe_free(probe);

	struct tls_login without = { .ca = s.cert };
	assert_null(login(d.port, &without));
	assert_true(daemon_wait_log(&d, "TLS handshake failed", 1, NET_WAIT_MS));
	stop(&d, &s, &pic);
}

/* libvncclient asking for the VNC password in the clear, never VeNCrypt. */
static void clear_vnc_only(rfbClient *client, void *ctx)
{
	static const uint32_t vnc_only[] = { rfbVncAuth };
	SetClientAuthSchemes(client, vnc_only, 1);
}

static struct vnc_probe *clear_login(uint16_t port, const char *password)
{
	return net_connect_with("127.0.0.1", port, password, "raw", clear_vnc_only, NULL);
}

/*
 * tls = optional: VeNCrypt and the VNC password in the clear side by side;
 * a clear client is handed to libvncserver without a TLS session.
 */
static void test_optional(void **state)
{
	struct setup s;
	setup_files(&s, false);
	struct daemon_proc d;
	struct net_picture pic;
	start_tls(&d, &s, "optional", "vnc", "", &pic, 16);

	struct vnc_probe *clear = clear_login(d.port, "sesame");
	expect_picture(clear, &pic);
	assert_true(daemon_wait_log(&d, "logged in with the VNC password, without TLS", 1,
				    NET_WAIT_MS));
	struct tls_login vnc = { .ca = s.cert, .password = "sesame" };
	struct vnc_probe *secure = login(d.port, &vnc);
	expect_picture(secure, &pic);
	assert_int_equal(secure->client->subAuthScheme, rfbVeNCryptX509VNC);
	net_show(&d, &pic, WIDTH, HEIGHT, 17);
	expect_picture(clear, &pic);
	expect_picture(secure, &pic);
	vnc_probe_free(clear);
	vnc_probe_free(secure);
	assert_null(clear_login(d.port, "wrong"));
	assert_int_equal(daemon_log_count(&d, "wrong password from 127.0.0.1"), 1);
	stop(&d, &s, &pic);
}

/* Reads exactly size bytes; false at EOF or after NET_WAIT_MS. */
static bool read_exact(int fd, void *buf, size_t size)
{
	struct timeval tv = { .tv_sec = NET_WAIT_MS / 1000 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	for (size_t got = 0; got < size;) {
		ssize_t n = recv(fd, (char *)buf + got, size - got, 0);
		if (n <= 0)
			return false;
		got += (size_t)n;
	}
	return true;
}

static void send_all(int fd, const void *buf, size_t size)
{
	assert_int_equal(send(fd, buf, size, MSG_NOSIGNAL), (ssize_t)size);
}

/* A raw client from src up to the security types; returns the socket. */
static int raw_to_security_types(const char *src, uint16_t port, uint8_t *types, uint8_t *count)
{
	int fd = net_tcp_connect(src, port);
	char version[12];
	assert_true(read_exact(fd, version, sizeof(version)));
	assert_memory_equal(version, "RFB 003.008\n", 12);
	send_all(fd, "RFB 003.008\n", 12);
	assert_true(read_exact(fd, count, 1));
	assert_true(*count >= 1 && *count <= 2);
	assert_true(read_exact(fd, types, *count));
	return fd;
}

/* The reason after a failed SecurityResult (3.8), NUL-terminated, into reason. */
static void expect_refusal(int fd, char *reason, size_t size)
{
	uint8_t result[8];
	assert_true(read_exact(fd, result, sizeof(result)));
	assert_memory_equal(result, "\0\0\0\1", 4);
	uint32_t len = (uint32_t)result[4] << 24 | result[5] << 16 | result[6] << 8 | result[7];
	assert_true(len > 0 && len < size);
	assert_true(read_exact(fd, reason, len));
	reason[len] = '\0';
	assert_true(net_socket_closes(fd, NET_WAIT_MS));
}

/*
 * tls = required offers VeNCrypt alone and refuses a client that wants the
 * VNC password or None in the clear, or speaks RFB 3.3, with a reason.
 */
static void test_required_refuses_clear_methods(void **state)
{
	struct setup s;
	setup_files(&s, false);
	struct daemon_proc d;
	struct net_picture pic;
	start(&d, &s, "vnc", "", &pic, 4);
	for (uint8_t clear = 1; clear <= 2; clear++) {
		uint8_t types[2], count;
		int fd = raw_to_security_types("127.0.0.2", d.port, types, &count);
		assert_int_equal(count, 1);
		assert_int_equal(types[0], 19);
		send_all(fd, &clear, 1);
		char reason[128];
		expect_refusal(fd, reason, sizeof(reason));
		assert_string_equal(reason, "Security type not offered");
		close(fd);
	}
	/* libvncclient that will not speak VeNCrypt gets nothing it can use. */
	assert_null(clear_login(d.port, "sesame"));
	int fd = net_tcp_connect("127.0.0.2", d.port);
	char version[12];
	assert_true(read_exact(fd, version, sizeof(version)));
	send_all(fd, "RFB 003.003\n", 12);
	uint8_t head[8];
	assert_true(read_exact(fd, head, sizeof(head)));
	assert_memory_equal(head, "\0\0\0\0", 4);
	assert_true(net_socket_closes(fd, NET_WAIT_MS));
	close(fd);
	assert_int_equal(daemon_log_count(&d, "RFB 3.3 client refused"), 1);
	/* A websocket in the clear is refused too. */
	fd = net_tcp_connect("127.0.0.2", d.port);
	send_all(fd, "GET / HTTP/1.1\r\n", 16);
	assert_true(net_socket_closes(fd, NET_WAIT_MS));
	close(fd);
	assert_true(daemon_wait_log(&d, "websockets only over TLS", 1, NET_WAIT_MS));
	stop(&d, &s, &pic);
}

/* Through VeNCrypt 0.2 to the list of subtypes: the socket, the subtypes read. */
static int raw_to_subtypes(uint16_t port, uint32_t *subtypes, uint8_t *count)
{
	uint8_t types[2], n;
	int fd = raw_to_security_types("127.0.0.3", port, types, &n);
	send_all(fd, "\x13", 1);
	uint8_t version[2];
	assert_true(read_exact(fd, version, 2));
	assert_memory_equal(version, "\x00\x02", 2);
	send_all(fd, "\x00\x02", 2);
	uint8_t status;
	assert_true(read_exact(fd, &status, 1));
	assert_int_equal(status, 0);
	assert_true(read_exact(fd, count, 1));
	assert_true(*count >= 1 && *count <= 3);
	uint8_t raw[12];
	assert_true(read_exact(fd, raw, 4u * *count));
	for (unsigned i = 0; i < *count; i++)
		subtypes[i] = (uint32_t)raw[4 * i] << 24 | raw[4 * i + 1] << 16 |
			      raw[4 * i + 2] << 8 | raw[4 * i + 3];
	return fd;
}

/*
 * Hostile handshakes are dropped, each for its reason, while a logged-in
 * client keeps getting pictures; the order of subtypes is plain, vnc.
 */
static void test_hostile_handshakes(void **state)
{
	struct setup s;
	setup_files(&s, false);
	struct daemon_proc d;
	struct net_picture pic;
	start(&d, &s, "vnc,plain", "", &pic, 5);
	struct vnc_probe *watcher = login(d.port, &s.alice);
	expect_picture(watcher, &pic);

	/* Offered in the fixed order whatever the order in auth. */
	uint32_t subtypes[3];
	uint8_t count;
	int fd = raw_to_subtypes(d.port, subtypes, &count);
	assert_int_equal(count, 2);
	assert_int_equal(subtypes[0], 262);
	assert_int_equal(subtypes[1], 261);
	/* A subtype never offered: refused before any TLS. */
	send_all(fd, "\x00\x00\x01\x04", 4);
	uint8_t status = 1;
	assert_true(read_exact(fd, &status, 1));
	assert_int_equal(status, 0);
	assert_true(net_socket_closes(fd, NET_WAIT_MS));
	close(fd);

	/* Truncated greeting, then gone. */
	fd = net_tcp_connect("127.0.0.3", d.port);
	send_all(fd, "RFB 003", 7);
	close(fd);
	/* Garbage in place of the version, after the server's (before it, it is no VNC client). */
	fd = net_tcp_connect("127.0.0.3", d.port);
	char version[12];
	assert_true(read_exact(fd, version, sizeof(version)));
	send_all(fd, "\xff\xfe\x00garbage!!\n", 12);
	assert_true(net_socket_closes(fd, NET_WAIT_MS));
	close(fd);
	/* Garbage after the version: a security type that does not exist. */
	uint8_t types[2];
	fd = raw_to_security_types("127.0.0.3", d.port, types, &count);
	send_all(fd, "\xfe\xfd\xfc", 3);
	char reason[128];
	expect_refusal(fd, reason, sizeof(reason));
	close(fd);

	/* A TLS handshake that never comes: dropped at the timeout, not before. */
	int stalled = raw_to_subtypes(d.port, subtypes, &count);
	send_all(stalled, "\x00\x00\x01\x06", 4);
	assert_true(read_exact(stalled, &status, 1));
	assert_int_equal(status, 1);
	send_all(stalled, "\x16\x03\x01", 3);

	/* Meanwhile the watcher sees every new picture. */
	for (uint32_t seed = 6; seed < 9; seed++) {
		net_show(&d, &pic, WIDTH, HEIGHT, seed);
		expect_picture(watcher, &pic);
	}
	assert_true(net_socket_closes(stalled, HANDSHAKE_TIMEOUT_MS + 10000));
	close(stalled);
	assert_true(daemon_wait_log(&d, "did not finish in time", 1, NET_WAIT_MS));
	assert_true(daemon_wait_log(&d, "was not offered", 1, NET_WAIT_MS));
	assert_true(daemon_wait_log(&d, "not an RFB client", 1, NET_WAIT_MS));
	net_show(&d, &pic, WIDTH, HEIGHT, 10);
	expect_picture(watcher, &pic);
	vnc_probe_free(watcher);
	stop(&d, &s, &pic);
}

/* SIGHUP re-reads the users file: bob comes, alice goes; a bad file keeps the users running. */
static void test_users_file_reload(void **state)
{
	struct setup s;
	setup_files(&s, false);
	struct daemon_proc d;
	struct net_picture pic;
	start(&d, &s, "plain", "", &pic, 11);
	struct tls_login bob = { .ca = s.cert, .user = "bob", .password = "builder" };
	assert_null(login(d.port, &bob));
	struct vnc_probe *probe = login(d.port, &s.alice);
	expect_picture(probe, &pic);

	char line[256], path[128];
	hash_password("bob", "builder", line, sizeof(line));
	net_write_file(&s.dir, "users.new", line, 0600, path, sizeof(path));
	assert_int_equal(rename(path, s.users), 0);
	kill(d.pid, SIGHUP);
	assert_true(daemon_wait_log(&d, "1 user(s)", 1, NET_WAIT_MS));
	/* The client logged in before stays. */
	net_show(&d, &pic, WIDTH, HEIGHT, 12);
	expect_picture(probe, &pic);
	vnc_probe_free(probe);
	assert_null(login(d.port, &s.alice));
	probe = login(d.port, &bob);
	expect_picture(probe, &pic);
	vnc_probe_free(probe);

	assert_int_equal(chmod(s.users, 0644), 0);
	kill(d.pid, SIGHUP);
	assert_true(daemon_wait_log(&d, "keeping the running users", 1, NET_WAIT_MS));
	assert_int_equal(daemon_log_count(&d, "group or others may read"), 1);
	probe = login(d.port, &bob);
	expect_picture(probe, &pic);
	vnc_probe_free(probe);
	stop(&d, &s, &pic);
}

/* A users file others may read stops the start, saying so. */
static void test_users_file_readable_refused(void **state)
{
	struct setup s;
	setup_files(&s, false);
	assert_int_equal(chmod(s.users, 0640), 0);
	char text[512];
	snprintf(text, sizeof(text), "tls = required\ntls_cert = %s\ntls_key = %s\nusers_file = %s\n",
		 s.cert, s.key, s.users);
	net_config(&s.cfg, &s.dir, text);
	struct daemon_proc d;
	assert_int_not_equal(daemon_run_to_exit(&d, &(struct daemon_options){ .extra_args = s.cfg.args },
						10000),
			     0);
	assert_int_equal(daemon_log_count(&d, "group or others may read"), 1);
	net_dir_remove(&s.dir);
}

/* SIGHUP takes a new certificate for new clients; a connected one keeps its session. */
static void test_certificate_reload(void **state)
{
	struct setup s;
	setup_files(&s, false);
	struct daemon_proc d;
	struct net_picture pic;
	start(&d, &s, "plain", "", &pic, 13);
	struct vnc_probe *old_client = login(d.port, &s.alice);
	expect_picture(old_client, &pic);

	char old_cert[160], cmd[512];
	snprintf(old_cert, sizeof(old_cert), "%s/old.pem", s.dir.path);
	snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", s.cert, old_cert);
	run(cmd);
	make_certificate(&s.dir, "server");
	snprintf(cmd, sizeof(cmd), "cp '%s' '%s/current.pem'", s.cert, s.dir.path);
	run(cmd);
	kill(d.pid, SIGHUP);
	assert_true(daemon_wait_log(&d, "reloaded: new connections use it", 1, NET_WAIT_MS));

	net_show(&d, &pic, WIDTH, HEIGHT, 14);
	expect_picture(old_client, &pic);
	struct tls_login stale = s.alice;
	stale.ca = old_cert;
	assert_null(login(d.port, &stale));
	struct vnc_probe *new_client = login(d.port, &s.alice);
	expect_picture(new_client, &pic);
	vnc_probe_free(new_client);

	/* A certificate that does not load keeps the running one. */
	snprintf(cmd, sizeof(cmd), "echo broken > '%s'", s.cert);
	run(cmd);
	kill(d.pid, SIGHUP);
	assert_true(daemon_wait_log(&d, "keeping the running certificate", 1, NET_WAIT_MS));
	struct tls_login current = s.alice;
	char current_cert[160];
	snprintf(current_cert, sizeof(current_cert), "%s/current.pem", s.dir.path);
	current.ca = current_cert;
	new_client = login(d.port, &current);
	expect_picture(new_client, &pic);
	vnc_probe_free(new_client);
	vnc_probe_free(old_client);
	stop(&d, &s, &pic);
}

/* What a command printed on its first line, into out. */
static void command_line(const char *cmd, char *out, size_t size)
{
	FILE *f = popen(cmd, "r");
	assert_non_null(f);
	assert_non_null(fgets(out, (int)size, f));
	out[strcspn(out, "\n")] = '\0';
	assert_int_equal(pclose(f), 0);
}

/*
 * tls_cert = auto: the certificate is made on first start (0600), its
 * fingerprint logged and printed by --print-fingerprint, and a client that
 * trusts it logs in; the next start uses the same one.
 */
static void test_auto_certificate(void **state)
{
	struct setup s;
	setup_files(&s, false);
	char text[512], state_dir[128], cert[160];
	snprintf(state_dir, sizeof(state_dir), "%s/state", s.dir.path);
	snprintf(cert, sizeof(cert), "%s/tls-cert.pem", state_dir);
	snprintf(text, sizeof(text), "tls = required\ntls_cert = auto\nstate_dir = %s\nusers_file = %s\n",
		 state_dir, s.users);
	net_config(&s.cfg, &s.dir, text);
	struct daemon_proc d;
	daemon_start(&d, &(struct daemon_options){ .extra_args = s.cfg.args });
	assert_int_equal(daemon_log_count(&d, "tls_cert = auto: made"), 1);
	struct stat st;
	assert_int_equal(stat(cert, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);

	char cmd[512], printed[128], expected[160];
	snprintf(cmd, sizeof(cmd), "'%s' --config '%s' --uuid %s --print-fingerprint",
		 DAEMON_BINARY, s.cfg.path, "00000000-0000-0000-0000-000000000000");
	command_line(cmd, printed, sizeof(printed));
	assert_int_equal(strlen(printed), 95);
	snprintf(expected, sizeof(expected), "SHA-256 fingerprint %s", printed);
	assert_int_equal(daemon_log_count(&d, expected), 1);
	snprintf(cmd, sizeof(cmd), "openssl x509 -in '%s' -noout -fingerprint -sha256", cert);
	command_line(cmd, expected, sizeof(expected));
	assert_non_null(strstr(expected, printed));
	/* The public key's pin, as TigerVNC shows it when it asks whether to trust. */
	snprintf(cmd, sizeof(cmd),
		 "echo \"pin-sha256=\\\"$(openssl x509 -in '%s' -noout -pubkey | openssl pkey -pubin "
		 "-outform der | openssl dgst -sha256 -binary | base64)\\\"\"",
		 cert);
	command_line(cmd, expected, sizeof(expected));
	assert_int_equal(daemon_log_count(&d, expected), 1);

	struct net_picture pic = { 0 };
	net_show(&d, &pic, WIDTH, HEIGHT, 15);
	struct tls_login alice = s.alice;
	alice.ca = cert;
	struct vnc_probe *probe = login(d.port, &alice);
	expect_picture(probe, &pic);
	vnc_probe_free(probe);
	assert_int_equal(daemon_stop(&d, SIGTERM), 0);

	daemon_start(&d, &(struct daemon_options){ .extra_args = s.cfg.args });
	assert_int_equal(daemon_log_count(&d, "tls_cert = auto: using"), 1);
	stop(&d, &s, &pic);
}

int main(void)
{
	if (system("openssl version >/dev/null 2>&1") != 0) {
		fprintf(stderr, "openssl missing (package openssl)\n");
		return 1;
	}
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_x509_plain),
		cmocka_unit_test(test_failed_logins_blocked),
		cmocka_unit_test(test_x509_vnc),
		cmocka_unit_test(test_x509_none_with_client_certificate),
		cmocka_unit_test(test_required_refuses_clear_methods),
		cmocka_unit_test(test_optional),
		cmocka_unit_test(test_hostile_handshakes),
		cmocka_unit_test(test_users_file_reload),
		cmocka_unit_test(test_users_file_readable_refused),
		cmocka_unit_test(test_certificate_reload),
		cmocka_unit_test(test_auto_certificate),
	};
	/* Refused clients are cut off mid-handshake: libvncclient's next write must not kill us. */
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
