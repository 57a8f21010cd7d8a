// SPDX-License-Identifier: GPL-2.0-or-later
#include "privdrop.h"

#include <errno.h>
#include <grp.h>
#include <stdbool.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/capability.h>

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

/*
 * A daemon started by systemd as its user may hold capabilities granted for
 * its setup (AmbientCapabilities=CAP_SYS_PTRACE to attach beside QEMU):
 * every set is emptied, and checked empty.
 */
static int drop_capabilities(void)
{
	struct __user_cap_header_struct head = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
	if (syscall(SYS_capget, &head, data) < 0)
		return -errno;
	bool any = false;
	for (int i = 0; i < _LINUX_CAPABILITY_U32S_3; i++)
		any |= data[i].effective || data[i].permitted || data[i].inheritable;
	if (!any)
		return 0;
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0)
		return -errno;
	memset(data, 0, sizeof(data));
	if (syscall(SYS_capset, &head, data) < 0 || syscall(SYS_capget, &head, data) < 0)
		return -errno;
	for (int i = 0; i < _LINUX_CAPABILITY_U32S_3; i++)
		if (data[i].effective || data[i].permitted || data[i].inheritable)
			return -EPERM;
	log_info("capabilities given up");
	return 0;
}

/* Keeps CAP_SYS_PTRACE alone in the permitted and effective sets, if held; every other cap goes. */
static int keep_only_ptrace(void)
{
	struct __user_cap_header_struct head = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3], want[_LINUX_CAPABILITY_U32S_3];
	const unsigned word = CAP_TO_INDEX(CAP_SYS_PTRACE);
	const __u32 bit = CAP_TO_MASK(CAP_SYS_PTRACE);
	if (syscall(SYS_capget, &head, data) < 0)
		return -errno;
	memset(want, 0, sizeof(want));
	want[word].permitted = data[word].permitted & bit;
	want[word].effective = want[word].permitted;
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0)
		return -errno;
	/* Under the unit's system call filter capset is refused: call it only when something changes. */
	if (memcmp(data, want, sizeof(data)) != 0 && syscall(SYS_capset, &head, want) < 0)
		return -errno;
	if (syscall(SYS_capget, &head, data) < 0)
		return -errno;
	return memcmp(data, want, sizeof(data)) == 0 ? 0 : -EPERM;
}

/* Root switches to user (groups, group, user), checking root cannot come back. */
static int switch_user(const char *user, char *err, size_t errlen)
{
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

int privdrop_to_user(const char *user, char *err, size_t errlen)
{
	if (geteuid() != 0) {
		int ret = drop_capabilities();
		return ret < 0 ? fail(ret, err, errlen, "giving up capabilities", user) : 0;
	}
	return user[0] ? switch_user(user, err, errlen) : 0;
}

int privdrop_keep_ptrace(const char *user, char *err, size_t errlen)
{
	int ret = 0;
	if (geteuid() == 0 && user[0]) {
		/* Without it, setresuid away from root empties the permitted set too. */
		if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
			return fail(-errno, err, errlen, "keeping capabilities", user);
		ret = switch_user(user, err, errlen);
		prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
		if (ret < 0)
			return ret;
	}
	ret = keep_only_ptrace();
	if (ret < 0)
		return fail(ret, err, errlen, "keeping CAP_SYS_PTRACE alone", user);
	/* Nothing it runs could gain privileges, and no process of its user may read its memory. */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		return fail(-errno, err, errlen, "locking the process down", user);
	return 0;
}
