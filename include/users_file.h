/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef MDEV_VNCD_USERS_FILE_H
#define MDEV_VNCD_USERS_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/*
 * The user names and password hashes for VeNCrypt's X509Plain: one
 * "user:hash" per line, hashes in crypt(5) form from libxcrypt (yescrypt,
 * "$y$", is what `mdev-vncd --hash-password` writes). Blank lines and lines
 * starting with # are skipped. Not PAM: a daemon that dropped root cannot
 * read /etc/shadow. Immutable once loaded: a reload loads a new one, and
 * a check still running on the old one holds a reference to it.
 */
struct users_file;

#define USERS_FILE_NAME_MAX 64

/*
 * Reads path, which only its owner may read or write. A bad line, an
 * unknown hash method, a name given twice or no user at all is -EINVAL;
 * every error is logged with path:line and what to do.
 */
int users_file_load(const char *path, struct users_file **out);
/* One more reference (any thread); the last unref frees it. unref accepts NULL. */
struct users_file *users_file_ref(struct users_file *users);
void users_file_unref(struct users_file *users);
unsigned users_file_count(const struct users_file *users);

/*
 * Whether password is user's. Takes as long for an unknown user as for a
 * known one (a hash is computed either way), so names cannot be probed by
 * timing. Slow by design (yescrypt): call it off the event loop.
 */
bool users_file_check(const struct users_file *users, const char *user, const char *password);

/* "user:hash" for password, with a fresh yescrypt salt. 0 or -errno (bad name: -EINVAL). */
int users_file_entry(const char *user, const char *password, char *out, size_t size);

/*
 * mdev-vncd --hash-password USER: reads the password's line from in (on a
 * terminal: asked for without echo), prints "USER:hash" to out. The exit status.
 */
int users_file_hash_command(const char *user, FILE *in, FILE *out);

#endif
