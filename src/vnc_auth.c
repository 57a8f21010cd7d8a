// SPDX-License-Identifier: GPL-2.0-or-later
#include "vnc_auth.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <rfb/rfb.h>

#include "auth_limit.h"
#include "fd_util.h"
#include "log.h"
#include "users_file.h"

/* VNC authentication keys DES with the first 8 bytes; more is accepted and ignored. */
#define VNC_PASSWORD_SIGNIFICANT 8
#define SECRET_MAX 256
/* As many as the server can have clients; more are refused at accept. */
#define VNC_SESSION_SLOTS 256

struct vnc_auth {
	/* Guards passwords, list and first_viewonly: SIGHUP replaces them while clients log in. */
	pthread_rwlock_t lock;
	char passwords[2][SECRET_MAX];
	char *list[3];           /* NULL-terminated, full passwords first (rfbCheckPasswordByList) */
	int first_viewonly;
	struct users_file *users; /* NULL = no users_file; swapped under lock on SIGHUP */
	struct auth_limit *limit;
};

struct vnc_session {
	struct vnc_auth *auth;
	int fd; /* the key libvncserver's client is found by; -1 once superseded */
	char addr[AUTH_LIMIT_ADDR_MAX];
	atomic_bool established;
	bool authenticated, viewonly; /* the daemon did the handshake (VeNCrypt) */
	void (*established_cb)(void *ctx);
	void *ctx;
};

static uint64_t monotonic_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int vnc_secret_file_open(const char *path, const char **why)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0) {
		*why = "cannot open it";
		return -errno;
	}
	if (!S_ISREG(st.st_mode)) {
		*why = "it is not a regular file";
		return -EINVAL;
	}
	if (st.st_mode & (S_IRGRP | S_IWGRP | S_IROTH | S_IWOTH)) {
		*why = "group or others may read or write it: chmod 600 it";
		return -EPERM;
	}
	return take_fd(&fd);
}

int vnc_secret_file_read(const char *path, char *buf, size_t size, const char **why)
{
	_cleanup_close_ int fd = vnc_secret_file_open(path, why);
	if (fd < 0)
		return fd;
	ssize_t n = read(fd, buf, size - 1);
	if (n < 0) {
		*why = "cannot read it";
		return -errno;
	}
	buf[n] = '\0';
	size_t len = strcspn(buf, "\r\n");
	if (len == 0) {
		*why = "its first line is empty";
		return -EINVAL;
	}
	if (len == (size_t)n && (size_t)n == size - 1) {
		*why = "its first line is too long";
		return -EINVAL;
	}
	buf[len] = '\0';
	return 0;
}

static int read_secret(const char *key, const char *path, char *buf, size_t size)
{
	const char *why = "";
	int ret = vnc_secret_file_read(path, buf, size, &why);
	if (ret < 0)
		log_error("%s %s refused: %s (%s)", key, path, why, strerror(-ret));
	return ret;
}

static bool set(const char *s)
{
	return s && s[0];
}

static int load_passwords(struct vnc_auth *auth, const struct vnc_auth_options *options)
{
	const char *files[2] = { options->password_file, options->viewonly_password_file };
	const char *keys[2] = { "password_file", "viewonly_password_file" };
	unsigned n = 0;
	for (unsigned i = 0; i < 2; i++) {
		if (!set(files[i]))
			continue;
		int ret = read_secret(keys[i], files[i], auth->passwords[n], SECRET_MAX);
		if (ret < 0)
			return ret;
		if (strlen(auth->passwords[n]) > VNC_PASSWORD_SIGNIFICANT)
			log_warning("%s: VNC authentication uses only the first %d characters",
				    keys[i], VNC_PASSWORD_SIGNIFICANT);
		auth->list[n] = auth->passwords[n];
		n++;
		if (i == 0)
			auth->first_viewonly = 1;
	}
	return 0;
}

/* The daemon terminates TLS itself (tls_relay.h); here only the files' protection is checked. */
int vnc_auth_check_tls_files(const struct vnc_auth_options *options)
{
	if (!set(options->tls_cert) && !set(options->tls_key))
		return 0;
	if (!set(options->tls_cert) || !set(options->tls_key)) {
		log_error("tls_cert and tls_key go together: set both or neither");
		return -EINVAL;
	}
	if (access(options->tls_cert, R_OK) < 0) {
		int ret = -errno;
		log_error("tls_cert %s: %s", options->tls_cert, strerror(-ret));
		return ret;
	}
	/* The key is a secret like a password: the same rules. */
	const char *why = "";
	int fd = vnc_secret_file_open(options->tls_key, &why);
	if (fd < 0) {
		log_error("tls_key %s refused: %s (%s)", options->tls_key, why, strerror(-fd));
		return fd;
	}
	close(fd);
	return 0;
}

int vnc_auth_new(const struct vnc_auth_options *options, struct vnc_auth **out)
{
	struct vnc_auth *auth = calloc(1, sizeof(*auth));
	if (!auth)
		return -ENOMEM;
	pthread_rwlock_init(&auth->lock, NULL);
	auth->limit = auth_limit_new();
	int ret = auth->limit ? 0 : -ENOMEM;
	if (ret == 0)
		ret = load_passwords(auth, options);
	if (ret == 0)
		ret = vnc_auth_check_tls_files(options);
	if (ret == 0 && set(options->users_file))
		ret = users_file_load(options->users_file, &auth->users);
	if (ret < 0) {
		vnc_auth_free(auth);
		return ret;
	}
	*out = auth;
	return 0;
}

void vnc_auth_free(struct vnc_auth *auth)
{
	if (!auth)
		return;
	auth_limit_free(auth->limit);
	users_file_unref(auth->users);
	explicit_bzero(auth->passwords, sizeof(auth->passwords));
	pthread_rwlock_destroy(&auth->lock);
	free(auth);
}

bool vnc_auth_has_password(struct vnc_auth *auth)
{
	pthread_rwlock_rdlock(&auth->lock);
	bool has = auth->list[0] != NULL;
	pthread_rwlock_unlock(&auth->lock);
	return has;
}

int vnc_auth_reload_passwords(struct vnc_auth *auth, const char *password_file,
			      const char *viewonly_password_file)
{
	struct vnc_auth fresh = { 0 };
	const struct vnc_auth_options options = {
		.password_file = password_file,
		.viewonly_password_file = viewonly_password_file,
	};
	/* Read everything first: a bad file leaves the running passwords as they are. */
	int ret = load_passwords(&fresh, &options);
	if (ret == 0) {
		pthread_rwlock_wrlock(&auth->lock);
		memcpy(auth->passwords, fresh.passwords, sizeof(auth->passwords));
		/* load_passwords fills list[i] with passwords[i], in order. */
		for (unsigned i = 0; i < 2; i++)
			auth->list[i] = fresh.list[i] ? auth->passwords[i] : NULL;
		auth->list[2] = NULL;
		auth->first_viewonly = fresh.first_viewonly;
		pthread_rwlock_unlock(&auth->lock);
	}
	explicit_bzero(fresh.passwords, sizeof(fresh.passwords));
	return ret;
}

bool vnc_auth_blocked(struct vnc_auth *auth, const char *addr, unsigned *remaining_s)
{
	uint64_t remaining_ms = 0;
	if (auth_limit_check(auth->limit, addr, monotonic_ms(), &remaining_ms) == 0)
		return false;
	*remaining_s = (unsigned)((remaining_ms + 999) / 1000);
	return true;
}

unsigned vnc_auth_login_failed(struct vnc_auth *auth, const char *addr, const char *what)
{
	unsigned failures;
	bool blocked;
	unsigned delay = auth_limit_failed(auth->limit, addr, monotonic_ms(), &failures, &blocked);
	if (blocked)
		log_warning("%s from %s, %u in a row: blocking it for %u s", what, addr, failures,
			    AUTH_LIMIT_BLOCK_MS / 1000);
	else
		log_warning("%s from %s (%u in a row)", what, addr, failures);
	return delay;
}

void vnc_auth_login_succeeded(struct vnc_auth *auth, const char *addr, const char *how)
{
	auth_limit_succeeded(auth->limit, addr, monotonic_ms());
	log_info("client %s logged in%s", addr, how);
}

bool vnc_auth_check_vnc_response(struct vnc_auth *auth, const uint8_t challenge[16],
				 const uint8_t response[16], bool *viewonly)
{
	bool right = false;
	pthread_rwlock_rdlock(&auth->lock);
	for (int i = 0; auth->list[i] && !right; i++) {
		uint8_t expected[16];
		memcpy(expected, challenge, sizeof(expected));
		rfbEncryptBytes(expected, auth->list[i]);
		/* Every byte compared, whatever differs first: no timing to learn from. */
		uint8_t diff = 0;
		for (size_t j = 0; j < sizeof(expected); j++)
			diff |= (uint8_t)(expected[j] ^ response[j]);
		right = diff == 0;
		*viewonly = i >= auth->first_viewonly;
		explicit_bzero(expected, sizeof(expected));
	}
	pthread_rwlock_unlock(&auth->lock);
	return right;
}

/*
 * The hash takes ~50 ms: it runs on a reference, outside the lock, so a
 * SIGHUP's swap on the event loop never waits behind checks (glibc's
 * rwlock lets new readers in ahead of a waiting writer).
 */
bool vnc_auth_check_user(struct vnc_auth *auth, const char *user, const char *password)
{
	pthread_rwlock_rdlock(&auth->lock);
	struct users_file *users = auth->users ? users_file_ref(auth->users) : NULL;
	pthread_rwlock_unlock(&auth->lock);
	bool right = users && users_file_check(users, user, password);
	users_file_unref(users);
	return right;
}

int vnc_auth_reload_users(struct vnc_auth *auth, const char *users_file)
{
	struct users_file *fresh = NULL;
	if (set(users_file)) {
		int ret = users_file_load(users_file, &fresh);
		if (ret < 0)
			return ret;
	}
	pthread_rwlock_wrlock(&auth->lock);
	struct users_file *old = auth->users;
	auth->users = fresh;
	pthread_rwlock_unlock(&auth->lock);
	users_file_unref(old);
	if (fresh)
		log_info("users_file %s: %u user(s)", users_file, users_file_count(fresh));
	return 0;
}

/*
 * Holds a wrong answer back. Ends early only if the socket is shut down
 * (the daemon stopping the client) or closed by the peer: data the client
 * sends meanwhile does not shorten the wait.
 */
static void delay_answer(int sock, unsigned delay_ms)
{
	uint64_t deadline = monotonic_ms() + delay_ms;
	for (uint64_t now = monotonic_ms(); now < deadline; now = monotonic_ms()) {
		struct pollfd pfd = { .fd = sock, .events = POLLRDHUP };
		int n = poll(&pfd, 1, (int)(deadline - now));
		if (n > 0 && (pfd.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)))
			return;
		if (n < 0 && errno != EINTR)
			return;
	}
}

static rfbProtocolExtension session_extension;

static rfbBool check_password(rfbClientPtr cl, const char *response, int len)
{
	struct vnc_session *session = rfbGetExtensionClientData(cl, &session_extension);
	if (!session)
		return FALSE;
	struct vnc_auth *auth = session->auth;
	unsigned remaining_s;
	if (vnc_auth_blocked(auth, session->addr, &remaining_s)) {
		log_warning("login from %s refused: blocked for failed logins, %u s to go",
			    session->addr, remaining_s);
		return FALSE;
	}
	pthread_rwlock_rdlock(&auth->lock);
	rfbBool right = rfbCheckPasswordByList(cl, response, len);
	pthread_rwlock_unlock(&auth->lock);
	if (right) {
		vnc_auth_login_succeeded(auth, session->addr, cl->viewOnly ? " (view-only)" : "");
		return TRUE;
	}
	delay_answer(cl->sock, vnc_auth_login_failed(auth, session->addr, "wrong password"));
	return FALSE;
}

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static struct vnc_session *registry[VNC_SESSION_SLOTS];

static struct vnc_session *registry_find(int fd)
{
	struct vnc_session *found = NULL;
	pthread_mutex_lock(&registry_lock);
	for (unsigned i = 0; i < VNC_SESSION_SLOTS && !found; i++)
		if (registry[i] && registry[i]->fd == fd)
			found = registry[i];
	pthread_mutex_unlock(&registry_lock);
	return found;
}

static int registry_add(struct vnc_session *session)
{
	int ret = -ENOSPC;
	pthread_mutex_lock(&registry_lock);
	for (unsigned i = 0; i < VNC_SESSION_SLOTS; i++) {
		/* An older session of this fd number is past rfbNewClient: never looked up again. */
		if (registry[i] && registry[i]->fd == session->fd)
			registry[i]->fd = -1;
		if (!registry[i] && ret < 0) {
			registry[i] = session;
			ret = 0;
		}
	}
	pthread_mutex_unlock(&registry_lock);
	return ret;
}

static void registry_remove(struct vnc_session *session)
{
	pthread_mutex_lock(&registry_lock);
	for (unsigned i = 0; i < VNC_SESSION_SLOTS; i++)
		if (registry[i] == session)
			registry[i] = NULL;
	pthread_mutex_unlock(&registry_lock);
}

static void apply_passwords(rfbScreenInfoPtr screen, struct vnc_auth *auth)
{
	pthread_rwlock_rdlock(&auth->lock);
	if (auth->list[0]) {
		screen->authPasswdData = auth->list;
		screen->authPasswdFirstViewOnly = auth->first_viewonly;
		screen->passwordCheck = check_password;
	}
	pthread_rwlock_unlock(&auth->lock);
}

/* Runs inside rfbNewClient, before the client can pick a security type. */
static rfbBool session_new_client(rfbClientPtr cl, void **data)
{
	struct vnc_session *session = registry_find(cl->sock);
	if (!session) {
		/* Fail closed: a client we cannot tie to its settings could skip the password. */
		log_error("client on fd %d has no session: closing it", cl->sock);
		rfbCloseClient(cl);
		return FALSE;
	}
	apply_passwords(cl->screen, session->auth);
	if (session->authenticated) {
		/*
		 * The daemon did the version and security handshake (VeNCrypt):
		 * libvncserver 0.9.14 has none server-side. Its own greeting is
		 * dropped by the relay; the client's ClientInit comes next.
		 */
		cl->protocolMajorVersion = 3;
		cl->protocolMinorVersion = 8;
		cl->viewOnly = session->viewonly;
		cl->state = RFB_INITIALISATION;
	}
	*data = session;
	return TRUE;
}

/* ServerInit was sent: the client is past authentication. */
static rfbBool session_init(rfbClientPtr cl, void *data)
{
	struct vnc_session *session = data;
	if (!atomic_exchange(&session->established, true) && session->established_cb)
		session->established_cb(session->ctx);
	return TRUE;
}

static rfbProtocolExtension session_extension = {
	.newClient = session_new_client,
	.init = session_init,
};

static void register_extension(void)
{
	rfbRegisterProtocolExtension(&session_extension);
}

struct vnc_session *vnc_session_new(struct vnc_auth *auth, int fd, const char *addr,
				    void (*established)(void *ctx), void *ctx)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, register_extension);
	struct vnc_session *session = calloc(1, sizeof(*session));
	if (!session)
		return NULL;
	session->auth = auth;
	session->fd = fd;
	snprintf(session->addr, sizeof(session->addr), "%s", addr);
	session->established_cb = established;
	session->ctx = ctx;
	if (registry_add(session) < 0) {
		free(session);
		return NULL;
	}
	return session;
}

void vnc_session_free(struct vnc_session *session)
{
	if (!session)
		return;
	registry_remove(session);
	free(session);
}

void vnc_session_set_authenticated(struct vnc_session *session, bool viewonly)
{
	session->authenticated = true;
	session->viewonly = viewonly;
}

bool vnc_session_is_established(const struct vnc_session *session)
{
	return atomic_load(&session->established);
}
