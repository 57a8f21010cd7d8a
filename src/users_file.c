// SPDX-License-Identifier: GPL-2.0-or-later
#include "users_file.h"

#include <crypt.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "log.h"
#include "vnc_auth.h"

#define USERS_MAX 1024
#define LINE_MAX_BYTES 512
/* yescrypt at libxcrypt's default cost: ~50 ms a check here, 16 MiB of memory. */
#define HASH_PREFIX "$y$"

struct user {
	char name[USERS_FILE_NAME_MAX];
	char hash[CRYPT_OUTPUT_SIZE];
};

struct users_file {
	atomic_uint refs;
	struct user *users;
	unsigned count;
	/* Hashed against for unknown names, so they take as long as known ones. */
	char decoy[CRYPT_OUTPUT_SIZE];
};

static bool valid_name(const char *name)
{
	size_t len = strlen(name);
	if (len == 0 || len >= USERS_FILE_NAME_MAX)
		return false;
	for (const char *p = name; *p; p++)
		if ((unsigned char)*p <= ' ' || *p == ':' || *p == 0x7f)
			return false;
	return true;
}

/* One "user:hash" line into u; why says what is wrong. */
static int parse_line(char *line, struct user *u, const char **why)
{
	char *colon = strchr(line, ':');
	if (!colon) {
		*why = "not user:hash";
		return -EINVAL;
	}
	*colon = '\0';
	const char *hash = colon + 1;
	if (!valid_name(line)) {
		*why = "the user name is empty, too long, or holds blanks, ':' or control characters";
		return -EINVAL;
	}
	int salt = crypt_checksalt(hash);
	if (hash[0] != '$' || strlen(hash) >= sizeof(u->hash) ||
	    (salt != CRYPT_SALT_OK && salt != CRYPT_SALT_METHOD_LEGACY)) {
		*why = "the hash is not a crypt(5) hash libxcrypt accepts: make it with "
		       "mdev-vncd --hash-password";
		return -EINVAL;
	}
	snprintf(u->name, sizeof(u->name), "%s", line);
	snprintf(u->hash, sizeof(u->hash), "%s", hash);
	return 0;
}

static int add_user(struct users_file *users, char *line, const char **why)
{
	struct user u;
	int ret = parse_line(line, &u, why);
	if (ret < 0)
		return ret;
	for (unsigned i = 0; i < users->count; i++) {
		if (strcmp(users->users[i].name, u.name) == 0) {
			*why = "the user is listed twice";
			return -EINVAL;
		}
	}
	if (users->count == USERS_MAX) {
		*why = "more than 1024 users";
		return -EINVAL;
	}
	users->users[users->count++] = u;
	explicit_bzero(&u, sizeof(u));
	return 0;
}

static int read_users(FILE *f, const char *path, struct users_file *users)
{
	char line[LINE_MAX_BYTES];
	unsigned number = 0;
	while (fgets(line, sizeof(line), f)) {
		number++;
		size_t len = strcspn(line, "\r\n");
		if (!line[len] && !feof(f)) {
			log_error("users_file %s:%u: line longer than %d bytes", path, number,
				  LINE_MAX_BYTES - 2);
			return -EINVAL;
		}
		line[len] = '\0';
		if (line[0] == '\0' || line[0] == '#')
			continue;
		const char *why = "";
		if (add_user(users, line, &why) < 0) {
			log_error("users_file %s:%u: %s", path, number, why);
			return -EINVAL;
		}
	}
	if (users->count == 0) {
		log_error("users_file %s: no user in it: add one with mdev-vncd --hash-password",
			  path);
		return -EINVAL;
	}
	return 0;
}

static int make_decoy(struct users_file *users)
{
	char salt[CRYPT_GENSALT_OUTPUT_SIZE];
	struct crypt_data *data = calloc(1, sizeof(*data));
	if (!data)
		return -ENOMEM;
	int ret = -EIO;
	if (crypt_gensalt_rn(HASH_PREFIX, 0, NULL, 0, salt, sizeof(salt)) &&
	    crypt_rn("decoy", salt, data, sizeof(*data))) {
		snprintf(users->decoy, sizeof(users->decoy), "%s", data->output);
		ret = 0;
	}
	free(data);
	return ret;
}

int users_file_load(const char *path, struct users_file **out)
{
	const char *why = "";
	int fd = vnc_secret_file_open(path, &why);
	if (fd < 0) {
		log_error("users_file %s refused: %s (%s)", path, why, strerror(-fd));
		return fd;
	}
	FILE *f = fdopen(fd, "r");
	struct users_file *users = calloc(1, sizeof(*users));
	if (users)
		atomic_init(&users->refs, 1);
	if (users)
		users->users = calloc(USERS_MAX, sizeof(*users->users));
	int ret = f && users && users->users ? read_users(f, path, users) : -ENOMEM;
	if (ret == 0)
		ret = make_decoy(users);
	if (f)
		fclose(f);
	else
		close(fd);
	if (ret < 0) {
		users_file_unref(users);
		return ret;
	}
	*out = users;
	return 0;
}

struct users_file *users_file_ref(struct users_file *users)
{
	atomic_fetch_add(&users->refs, 1);
	return users;
}

void users_file_unref(struct users_file *users)
{
	if (!users || atomic_fetch_sub(&users->refs, 1) != 1)
		return;
	if (users->users)
		explicit_bzero(users->users, USERS_MAX * sizeof(*users->users));
	free(users->users);
	free(users);
}

unsigned users_file_count(const struct users_file *users)
{
	return users->count;
}

bool users_file_check(const struct users_file *users, const char *user, const char *password)
{
	const char *hash = users->decoy;
	bool known = false;
	for (unsigned i = 0; i < users->count; i++) {
		if (strcmp(users->users[i].name, user) == 0) {
			hash = users->users[i].hash;
			known = true;
		}
	}
	struct crypt_data *data = calloc(1, sizeof(*data));
	if (!data)
		return false;
	const char *result = crypt_rn(password, hash, data, sizeof(*data));
	/* Hashes are compared whole; a failed crypt gives "*0" or NULL, never the hash. */
	bool right = known && result && result[0] != '*' && strcmp(result, hash) == 0;
	explicit_bzero(data, sizeof(*data));
	free(data);
	return right;
}

int users_file_entry(const char *user, const char *password, char *out, size_t size)
{
	if (!valid_name(user))
		return -EINVAL;
	char salt[CRYPT_GENSALT_OUTPUT_SIZE];
	if (!crypt_gensalt_rn(HASH_PREFIX, 0, NULL, 0, salt, sizeof(salt)))
		return -errno;
	struct crypt_data *data = calloc(1, sizeof(*data));
	if (!data)
		return -ENOMEM;
	const char *hash = crypt_rn(password, salt, data, sizeof(*data));
	int ret = 0;
	if (!hash || hash[0] == '*')
		ret = -EINVAL;
	else if ((size_t)snprintf(out, size, "%s:%s", user, hash) >= size)
		ret = -ENOSPC;
	explicit_bzero(data, sizeof(*data));
	free(data);
	return ret;
}

/* A line from in without its end; on a terminal, asked for and not echoed. */
static int read_password(FILE *in, char *buf, size_t size)
{
	int fd = fileno(in);
	struct termios saved;
	bool tty = isatty(fd) && tcgetattr(fd, &saved) == 0;
	if (tty) {
		struct termios quiet = saved;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(fd, TCSAFLUSH, &quiet);
		fputs("Password: ", stderr);
	}
	bool got = fgets(buf, (int)size, in) != NULL;
	if (tty) {
		tcsetattr(fd, TCSAFLUSH, &saved);
		fputs("\n", stderr);
	}
	if (!got)
		return -EINVAL;
	size_t len = strcspn(buf, "\r\n");
	if (!buf[len] && !feof(in))
		return -E2BIG;
	buf[len] = '\0';
	return len ? 0 : -EINVAL;
}

int users_file_hash_command(const char *user, FILE *in, FILE *out)
{
	char password[LINE_MAX_BYTES], entry[LINE_MAX_BYTES];
	int ret = read_password(in, password, sizeof(password));
	if (ret < 0) {
		fprintf(stderr, "mdev-vncd: %s\n",
			ret == -E2BIG ? "the password is too long" : "no password on stdin");
		return 1;
	}
	ret = users_file_entry(user, password, entry, sizeof(entry));
	explicit_bzero(password, sizeof(password));
	if (ret < 0) {
		fprintf(stderr, "mdev-vncd: cannot make an entry for '%s': %s\n", user,
			ret == -EINVAL ? "not a valid user name" : strerror(-ret));
		return 1;
	}
	fprintf(out, "%s\n", entry);
	return 0;
}
