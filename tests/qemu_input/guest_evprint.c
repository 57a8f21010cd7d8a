// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * In the input test bed's guest: prints every key, relative and absolute
 * event of every /dev/input/event* device on stdout (the serial console),
 * one line each, in the order the kernel delivers them:
 *
 *   INPUT-DEV eventN NAME     one per device, at start
 *   INPUT-READY N             all N devices open: events from here on show
 *   EVT TYPE CODE VALUE       EV_KEY (not autorepeat), EV_REL, EV_ABS
 *
 * Runs until killed; the bed copies it into the guest with its libraries.
 */
#include <dirent.h>
#include <fcntl.h>
#include <linux/input.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define MAX_DEVICES 16

static int open_devices(struct pollfd *fds)
{
	DIR *dir = opendir("/dev/input");
	if (!dir) {
		perror("/dev/input");
		return -1;
	}
	int n = 0;
	struct dirent *d;
	while ((d = readdir(dir)) && n < MAX_DEVICES) {
		if (strncmp(d->d_name, "event", 5) != 0)
			continue;
		char path[300], name[128] = "?";
		snprintf(path, sizeof(path), "/dev/input/%s", d->d_name);
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			perror(path);
			continue;
		}
		ioctl(fd, EVIOCGNAME(sizeof(name)), name);
		printf("INPUT-DEV %s %s\n", d->d_name, name);
		fds[n++] = (struct pollfd){ .fd = fd, .events = POLLIN };
	}
	closedir(dir);
	return n;
}

static void print_events(int fd)
{
	struct input_event ev[64];
	ssize_t len = read(fd, ev, sizeof(ev));
	for (ssize_t i = 0; len > 0 && i < len / (ssize_t)sizeof(ev[0]); i++) {
		bool shown = (ev[i].type == EV_KEY && ev[i].value != 2) || ev[i].type == EV_REL ||
			     ev[i].type == EV_ABS;
		if (shown)
			printf("EVT %u %u %d\n", ev[i].type, ev[i].code, ev[i].value);
	}
	fflush(stdout);
}

int main(void)
{
	struct pollfd fds[MAX_DEVICES];
	int n = open_devices(fds);
	if (n <= 0)
		return 1;
	printf("INPUT-READY %d\n", n);
	fflush(stdout);
	for (;;) {
		if (poll(fds, (nfds_t)n, -1) < 0)
			return 1;
		for (int i = 0; i < n; i++)
			if (fds[i].revents & POLLIN)
				print_events(fds[i].fd);
	}
}
