// SPDX-License-Identifier: GPL-2.0-or-later
#include "kbed_children.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kbed_common.h"

#define NOBODY 65534

static pid_t spawn(char *const argv[], int keep_fd, int in, int out, const char *log,
		   bool unprivileged)
{
	pid_t pid = fork();

	if (pid)
		return pid < 0 ? kbed_fail(-errno, "fork: %m") : pid;
	if (keep_fd >= 0)
		fcntl(keep_fd, F_SETFD, 0);
	if (in >= 0)
		dup2(in, 0);
	if (out >= 0)
		dup2(out, 1);
	if (log) {
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

		if (fd >= 0)
			dup2(fd, 2);
	}
	if (unprivileged && (setgroups(0, NULL) || setgid(NOBODY) || setuid(NOBODY))) {
		fprintf(stderr, "cannot become user %d: %m\n", NOBODY);
		_exit(127);
	}
	execv(argv[0], argv);
	fprintf(stderr, "exec %s: %m\n", argv[0]);
	_exit(127);
}

/* Waits for one line from fd (nothing else is ever pending on it). */
static int read_line(int fd, char *buf, size_t len, double timeout)
{
	double deadline = kbed_now_s() + timeout;
	size_t n = 0;

	while (n + 1 < len) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		int left = (deadline - kbed_now_s()) * 1000;

		if (left <= 0 || poll(&pfd, 1, left) <= 0)
			return -ETIMEDOUT;
		if (read(fd, buf + n, 1) != 1)
			return -EPIPE;
		if (buf[n++] == '\n')
			break;
	}
	buf[n - (n && buf[n - 1] == '\n')] = 0;
	return 0;
}

int kbed_checker_start(struct child *c, const char *path, int port)
{
	char portstr[16], line[256], *argv[] = {(char *)path, "127.0.0.1", portstr, "30", NULL};
	int to[2], from[2];

	snprintf(portstr, sizeof(portstr), "%d", port);
	if (pipe2(to, O_CLOEXEC) || pipe2(from, O_CLOEXEC))
		return kbed_fail(-errno, "pipe: %m");
	c->pid = spawn(argv, -1, to[0], from[1], NULL, false);
	close(to[0]);
	close(from[1]);
	c->in = to[1];
	c->out = from[0];
	if (c->pid < 0)
		return c->pid;
	if (read_line(c->out, line, sizeof(line), STEP_TIMEOUT_S) || strcmp(line, "ready"))
		return kbed_fail(-EIO, "vnc_check on port %d did not connect: '%s'", port, line);
	return 0;
}

int kbed_checker_ask(struct child *c, const char *cmd, const char *tag, const char *step)
{
	char line[512];

	if (dprintf(c->in, "%s\n", cmd) < 0)
		return kbed_fail(-errno, "%s: vnc_check gone: %m", step);
	if (read_line(c->out, line, sizeof(line), STEP_TIMEOUT_S + 10))
		return kbed_fail(-ETIMEDOUT, "%s: no answer from vnc_check to '%s'", step, cmd);
	printf("KBED: %s '%s': %s -> %s\n", tag, step, cmd, line);
	if (strncmp(line, "ok ", 3))
		return kbed_fail(-EIO, "%s: '%s' -> %s", step, cmd, line);
	return 0;
}

int kbed_daemon_wait_exit(struct child *c, double timeout_s, int status)
{
	double deadline = kbed_now_s() + timeout_s;
	int st;

	while (waitpid(c->pid, &st, WNOHANG) == 0) {
		if (kbed_now_s() > deadline)
			return kbed_fail(-ETIMEDOUT, "daemon still running %.0f s later", timeout_s);
		usleep(20 * 1000);
	}
	c->pid = 0;
	if (!WIFEXITED(st) || WEXITSTATUS(st) != status)
		return kbed_fail(-EIO, "daemon ended with status %#x, want exit %d", st, status);
	return 0;
}

int kbed_daemon_alive(struct child *c)
{
	int st;

	if (waitpid(c->pid, &st, WNOHANG) != c->pid)
		return 0;
	c->pid = 0;
	if (WIFSIGNALED(st))
		return kbed_fail(-EIO, "daemon died from signal %d", WTERMSIG(st));
	return kbed_fail(-EIO, "daemon exited with status %d", WEXITSTATUS(st));
}

/* SIGTERM must end the daemon cleanly and soon. */
int kbed_child_stop(struct child *c, bool is_daemon)
{
	double deadline = kbed_now_s() + 20;
	int st;

	if (c->pid <= 0)
		return 0;
	kill(c->pid, SIGTERM);
	while (waitpid(c->pid, &st, WNOHANG) == 0) {
		if (kbed_now_s() > deadline) {
			kill(c->pid, SIGKILL);
			waitpid(c->pid, &st, 0);
			c->pid = 0;
			return is_daemon ? kbed_fail(-ETIMEDOUT, "daemon ignored SIGTERM for 20 s") : 0;
		}
		usleep(20 * 1000);
	}
	c->pid = 0;
	if (!is_daemon || (WIFEXITED(st) && !WEXITSTATUS(st)) ||
	    (WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM))
		return 0;
	return kbed_fail(-EIO, "daemon ended badly on SIGTERM: status %#x", st);
}

static int send_fd(int sock, int fd)
{
	char byte = 'F', cbuf[CMSG_SPACE(sizeof(int))] = {0};
	struct iovec iov = {.iov_base = &byte, .iov_len = 1};
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf)};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);

	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	return sendmsg(sock, &msg, 0) == 1 ? 0 : kbed_fail(-errno, "sendmsg: %m");
}

/* Serves one connection on a fresh socket, as a VMM handing out its device. */
static int hand_over_socket(struct child *d, int lsock, int dev)
{
	double deadline = kbed_now_s() + STEP_TIMEOUT_S;
	int conn, ret;

	for (;;) {
		struct pollfd pfd = {.fd = lsock, .events = POLLIN};

		ret = kbed_daemon_alive(d);
		if (ret)
			return ret;
		if (kbed_now_s() > deadline)
			return kbed_fail(-ETIMEDOUT, "daemon never connected to device_socket");
		if (poll(&pfd, 1, 100) > 0)
			break;
	}
	conn = accept4(lsock, NULL, NULL, SOCK_CLOEXEC);
	if (conn < 0)
		return kbed_fail(-errno, "accept: %m");
	ret = send_fd(conn, dev);
	close(conn);
	return ret;
}

static int socket_listen(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	unlink(path);
	if (s < 0 || bind(s, (struct sockaddr *)&sa, sizeof(sa)) || listen(s, 1)) {
		kbed_fail(-errno, "unix socket %s: %m", path);
		if (s >= 0)
			close(s);
		return -EIO;
	}
	return s;
}

int kbed_daemon_start(struct child *d, const char *bin, enum handover how, int dev,
		      const char *uuid, int port)
{
	char listen[32], arg[64], conf[32], sock[32];
	char *argv[] = {(char *)bin, "--foreground", "--listen", listen, arg, arg, NULL};
	int lsock = -1, ret = 0;
	FILE *f;

	snprintf(listen, sizeof(listen), "127.0.0.1:%d", port);
	snprintf(d->log, sizeof(d->log), "/tmp/daemon-%d.log", port);
	d->in = d->out = -1;
	if (how == BY_FD) {
		argv[4] = "--device-fd";
		snprintf(arg, sizeof(arg), "%d", dev);
	} else if (how == BY_UUID) {
		argv[4] = "--uuid";
		snprintf(arg, sizeof(arg), "%s", uuid);
	} else if (how == BY_ATTACH || how == BY_ATTACH_UNPRIVILEGED || how == BY_PIDFILE ||
		   how == BY_PIDFILE_UNPRIVILEGED) {
		snprintf(conf, sizeof(conf), "/tmp/kbed-%d.conf", port);
		f = fopen(conf, "we");
		if (!f)
			return kbed_fail(-errno, "%s: %m", conf);
		if (how == BY_PIDFILE || how == BY_PIDFILE_UNPRIVILEGED)
			fprintf(f, "qemu_pidfile = " KBED_QEMU_PIDFILE "\non_device_loss = wait\n");
		else
			fprintf(f, "qemu_pid = %d\n", dev);
		fprintf(f, "uuid = %s\nlisten = %s\ninstance = kbed\n", uuid, listen);
		fclose(f);
		argv[2] = "--config";
		argv[3] = conf;
		argv[4] = NULL;
	} else {
		snprintf(conf, sizeof(conf), "/tmp/kbed-%d.conf", port);
		snprintf(sock, sizeof(sock), "/tmp/kbed-%d.sock", port);
		f = fopen(conf, "we");
		if (!f)
			return kbed_fail(-errno, "%s: %m", conf);
		fprintf(f, "device_socket = %s\nlisten = %s\nrefresh_hz = 60\ninstance = kbed\n"
			   "edid_size = " KBED_EDID_SIZE "\n",
			sock, listen);
		fclose(f);
		lsock = socket_listen(sock);
		if (lsock < 0)
			return lsock;
		argv[2] = "--config";
		argv[3] = conf;
		argv[4] = NULL;
	}
	d->pid = spawn(argv, how == BY_FD ? dev : -1, -1, -1, d->log,
		       how == BY_ATTACH_UNPRIVILEGED || how == BY_PIDFILE_UNPRIVILEGED);
	if (d->pid < 0)
		ret = d->pid;
	else if (how == BY_SOCKET)
		ret = hand_over_socket(d, lsock, dev);
	if (lsock >= 0)
		close(lsock);
	return ret;
}

int kbed_daemon_start_config(struct child *d, const char *bin, int dev, int port,
			     const char *config)
{
	char conf[32], fdstr[16], listen[32];
	char *argv[] = {(char *)bin, "--foreground", "--config", conf, "--device-fd", fdstr, NULL};
	FILE *f;

	snprintf(conf, sizeof(conf), "/tmp/kbed-%d.conf", port);
	snprintf(fdstr, sizeof(fdstr), "%d", dev);
	snprintf(listen, sizeof(listen), "127.0.0.1:%d", port);
	snprintf(d->log, sizeof(d->log), "/tmp/daemon-%d.log", port);
	d->in = d->out = -1;
	f = fopen(conf, "we");
	if (!f)
		return kbed_fail(-errno, "%s: %m", conf);
	fprintf(f, "%slisten = %s\ninstance = kbed\n", config, listen);
	fclose(f);
	d->pid = spawn(argv, dev, -1, -1, d->log, false);
	return d->pid < 0 ? d->pid : 0;
}

int kbed_find_in_log(const char *log, const char *needle, char *first, size_t len)
{
	char line[1024];
	int n = 0;
	FILE *f = fopen(log, "re");

	if (!f)
		return kbed_fail(-errno, "%s: %m", log);
	while (fgets(line, sizeof(line), f)) {
		if (!strstr(line, needle))
			continue;
		if (!n++ && first)
			snprintf(first, len, "%.*s", (int)strcspn(line, "\n"), line);
	}
	fclose(f);
	return n;
}

int kbed_count_in_log(const char *log, const char *needle)
{
	return kbed_find_in_log(log, needle, NULL, 0);
}

void kbed_dump_log(const struct child *d)
{
	char line[1024];
	FILE *f = d->log[0] ? fopen(d->log, "re") : NULL;

	if (!f)
		return;
	printf("KBED: ---- %s ----\n", d->log);
	while (fgets(line, sizeof(line), f))
		printf("[daemon] %s", line);
	fclose(f);
}
