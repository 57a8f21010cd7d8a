// SPDX-License-Identifier: GPL-2.0-or-later
#include "privdrop.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

static int fail(int ret, char *err, size_t errlen, const char *step, const char *user)
{
	snprintf(err, errlen, "cannot switch to user %s: %s failed: %s", user, step, strerror(-ret));
	return ret;
}

/* Every id, real, effective and saved, must be the target's: else root could come back. */
static int verify(uid_t uid, gid_t gid)
{
	uid_t ru, eu, su;
	gid_t rg, eg, sg;
	if (getresuid(&ru, &eu, &su) < 0 || getresgid(&rg, &eg, &sg) < 0)
		return -errno;
	if (ru != uid || eu != uid || su != uid || rg != gid || eg != gid || sg != gid)
		return -EPERM;
	if (uid != 0 && (setuid(0) == 0 || seteuid(0) == 0))
		return -EPERM;
	return 0;
}

int privdrop_to_user(const char *user, char *err, size_t errlen)
{
	if (geteuid() != 0 || !user[0])
		return 0;
	char buf[4096];
	struct passwd pw, *found = NULL;
	int ret = getpwnam_r(user, &pw, buf, sizeof(buf), &found);
	if (ret != 0)
		return fail(-ret, err, errlen, "looking up the user", user);
	if (!found) {
		snprintf(err, errlen,
			 "user %s does not exist: create it (systemd-sysusers creates mdev-vncd "
			 "from /usr/lib/sysusers.d/mdev-vncd.conf) or set user = in the config",
			 user);
		return -ENOENT;
	}
	/* The user's own supplementary groups: an admin may grant device access through one. */
	if (initgroups(pw.pw_name, pw.pw_gid) < 0)
		return fail(-errno, err, errlen, "setgroups", user);
	if (setresgid(pw.pw_gid, pw.pw_gid, pw.pw_gid) < 0)
		return fail(-errno, err, errlen, "setgid", user);
	if (setresuid(pw.pw_uid, pw.pw_uid, pw.pw_uid) < 0)
		return fail(-errno, err, errlen, "setuid", user);
	ret = verify(pw.pw_uid, pw.pw_gid);
	if (ret < 0)
		return fail(ret, err, errlen, "verifying that root is gone", user);
	log_info("running as user %s (uid %u, gid %u)", user, (unsigned)pw.pw_uid,
		 (unsigned)pw.pw_gid);
	return 0;
}
