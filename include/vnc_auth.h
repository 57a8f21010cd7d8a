/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef MDEV_VNCD_VNC_AUTH_H
#define MDEV_VNCD_VNC_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct _rfbClientRec;
struct _rfbScreenInfo;

/*
 * Who may watch: the VNC passwords (full and view-only), the users file of
 * VeNCrypt's X509Plain, the failed-login limiter (for every method), and
 * the protection of the TLS key. One per server,
 * read once at start; sessions point into it, so it outlives them.
 */
struct vnc_auth;

struct vnc_auth_options {
	const char *password_file;          /* NULL or "" = no password */
	const char *viewonly_password_file; /* NULL or "" = none */
	const char *tls_cert, *tls_key;     /* both or neither; NULL or "" = no TLS */
	const char *users_file;             /* NULL or "" = none (see users_file.h) */
};

/*
 * tls_cert readable, tls_key only by its owner (both or neither set):
 * 0 or -errno, logged with the reason.
 */
int vnc_auth_check_tls_files(const struct vnc_auth_options *options);

/* Reads the files; a missing, empty or unprotected one is -errno, logged with the reason. */
int vnc_auth_new(const struct vnc_auth_options *options, struct vnc_auth **out);
void vnc_auth_free(struct vnc_auth *auth);
bool vnc_auth_has_password(struct vnc_auth *auth);
/*
 * Reads the password files again (SIGHUP) and swaps them in for the logins
 * that follow; on error (logged) the running passwords stay.
 */
int vnc_auth_reload_passwords(struct vnc_auth *auth, const char *password_file,
			      const char *viewonly_password_file);

/*
 * A read-only fd on path if it is a regular file only its owner may read or
 * write: -EPERM (group or others may) or -EINVAL (not a regular file) else,
 * *why then says what is wrong.
 */
int vnc_secret_file_open(const char *path, const char **why);

/*
 * The first line of a secret file, without its line end, into buf. Refuses
 * (-EPERM) a file group or others may read or write, -EINVAL one that is not
 * a regular file or whose first line is empty or longer than size - 1;
 * *why then says what is wrong.
 */
int vnc_secret_file_read(const char *path, char *buf, size_t size, const char **why);

/* SIGHUP: the users file as it is now (NULL or "" = none); on error (logged) the old one stays. */
int vnc_auth_reload_users(struct vnc_auth *auth, const char *users_file);

/*
 * The checks of the daemon's own handshake (VeNCrypt). Both may be slow
 * (a yescrypt hash): call them off the event loop. The VNC password check
 * sets *viewonly when the view-only password matched.
 */
bool vnc_auth_check_vnc_response(struct vnc_auth *auth, const uint8_t challenge[16],
				 const uint8_t response[16], bool *viewonly);
bool vnc_auth_check_user(struct vnc_auth *auth, const char *user, const char *password);
/*
 * A failed login from addr (what: "wrong password", ...), logged and
 * counted; returns how long (ms) to hold the answer back.
 */
unsigned vnc_auth_login_failed(struct vnc_auth *auth, const char *addr, const char *what);
/* A good login: logged (how: e.g. " with X509Plain as alice"), addr's failures forgotten. */
void vnc_auth_login_succeeded(struct vnc_auth *auth, const char *addr, const char *how);

/* True while addr is blocked for failed logins; *remaining_s how long still. */
bool vnc_auth_blocked(struct vnc_auth *auth, const char *addr, unsigned *remaining_s);

/*
 * One connection's side of it, found again by its socket fd when
 * libvncserver creates the client on that fd: libvncserver's extension
 * list is process-wide, so the sessions are kept in a process-wide table
 * (the newest session of an fd number wins: a number is reused only after
 * the older connection closed it). addr is the source address the limiter
 * counts (no port). established runs on the client's thread once the client
 * has passed authentication and ClientInit, at most once.
 */
struct vnc_session;

struct vnc_session *vnc_session_new(struct vnc_auth *auth, int fd, const char *addr,
				    void (*established)(void *ctx), void *ctx);
/*
 * The daemon did the security handshake itself: libvncserver takes the
 * client straight to ClientInit, view-only or not. Before the client starts.
 */
void vnc_session_set_authenticated(struct vnc_session *session, bool viewonly);
/* Only after the client using it is gone (its screen cleaned up). */
void vnc_session_free(struct vnc_session *session);
bool vnc_session_is_established(const struct vnc_session *session);

#endif
