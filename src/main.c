// SPDX-License-Identifier: GPL-2.0-or-later
/* mdev-vncd: command line, configuration, then the daemon. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "daemon.h"
#include "fd_util.h"
#include "log.h"
#include "snapshot.h"
#include "tls_cert.h"
#include "users_file.h"

/*
 * LSB's "program is not configured" (systemd shows 6/NOTCONFIGURED): the
 * unit's RestartPreventExitStatus=6 keeps systemd from restarting a daemon
 * that cannot start until someone fixes its configuration.
 */
enum { EXIT_NOT_CONFIGURED = 6 };

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: mdev-vncd [OPTIONS]\n"
		"Serves the display of a VFIO mediated vGPU to VNC clients.\n\n"
		"Settings (each flag overrides the config file's key):\n"
		"  -c, --config FILE      read settings from FILE (see mdev-vncd.conf(5));\n"
		"                         without it: the flags and the built-in defaults\n"
		"  The device, exactly one of (keys uuid, device_fd, device_socket):\n"
		"  -u, --uuid UUID        open the mdev with this UUID through VFIO\n"
		"  -d, --device-fd N      use the already open VFIO device fd N\n"
		"  -s, --device-socket PATH\n"
		"                         receive the device fd from the VMM on this unix\n"
		"                         socket (SCM_RIGHTS)\n"
		"  -l, --listen ADDR:PORT[,...]\n"
		"                         listen for VNC clients there; default: 127.0.0.1\n"
		"                         and [::1] on port 5900 + display (5900)\n"
		"  -r, --refresh-hz N     display reads per second, 1..240, default 60:\n"
		"                         polled N times a second or, with the device's\n"
		"                         display-event IRQ, read on each guest event, at\n"
		"                         most 2N times a second, plus once a second\n"
		"  -i, --instance NAME    name in logs and shown to clients; default: the\n"
		"                         config file's name without .conf, else \"default\"\n"
		"  -v, --verbose          log debug detail (log_level = debug)\n"
		"Modes:\n"
		"  -f, --foreground       do not detach from the terminal\n"
		"      --check-config FILE\n"
		"                         validate FILE with the flags, print the effective\n"
		"                         settings, exit\n"
		"      --snapshot OUT.png write one frame of the display to OUT.png, exit\n"
		"                         (0: guest picture, 3: placeholder)\n"
		"      --no-cursor        leave the guest's cursor out of the snapshot\n"
		"      --hash-password USER\n"
		"                         read a password on stdin, print USER's line for\n"
		"                         users_file (yescrypt), exit\n"
		"      --print-fingerprint\n"
		"                         print the SHA-256 fingerprint and pin-sha256 of\n"
		"                         tls_cert (auto: the one under state_dir), exit\n"
		"  -h, --help             show this help\n"
		"  -V, --version          show the version\n"
		"Exit status: 0 success, 1 failure, 2 bad usage, 6 invalid or missing\n"
		"configuration. More in mdev-vncd(8).\n");
}

struct cli {
	const char *config_path;
	const char *check_path;
	const char *snapshot_path;
	bool foreground;
	bool no_cursor;
	bool print_fingerprint;
	struct config_override overrides[16];
	unsigned n_overrides;
};

static int parse_cli(int argc, char **argv, struct cli *cli)
{
	enum { OPT_CHECK = 256, OPT_SNAPSHOT, OPT_NO_CURSOR, OPT_HASH_PASSWORD, OPT_FINGERPRINT };
	static const struct option options[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check-config", required_argument, NULL, OPT_CHECK },
		{ "snapshot", required_argument, NULL, OPT_SNAPSHOT },
		{ "no-cursor", no_argument, NULL, OPT_NO_CURSOR },
		{ "hash-password", required_argument, NULL, OPT_HASH_PASSWORD },
		{ "print-fingerprint", no_argument, NULL, OPT_FINGERPRINT },
		{ "uuid", required_argument, NULL, 'u' },
		{ "device-fd", required_argument, NULL, 'd' },
		{ "device-socket", required_argument, NULL, 's' },
		{ "listen", required_argument, NULL, 'l' },
		{ "refresh-hz", required_argument, NULL, 'r' },
		{ "instance", required_argument, NULL, 'i' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	static const struct config_override keys[] = {
		['u'] = { "uuid", NULL, "--uuid" },
		['d'] = { "device_fd", NULL, "--device-fd" },
		['s'] = { "device_socket", NULL, "--device-socket" },
		['l'] = { "listen", NULL, "--listen" },
		['r'] = { "refresh_hz", NULL, "--refresh-hz" },
		['i'] = { "instance", NULL, "--instance" },
		['v'] = { "log_level", "debug", "--verbose" },
	};
	int opt;
	while ((opt = getopt_long(argc, argv, "c:u:d:s:l:r:i:fvhV", options, NULL)) != -1) {
		switch (opt) {
		case 'c':
			cli->config_path = optarg;
			break;
		case OPT_CHECK:
			cli->check_path = optarg;
			break;
		case OPT_SNAPSHOT:
			cli->snapshot_path = optarg;
			break;
		case OPT_NO_CURSOR:
			cli->no_cursor = true;
			break;
		case OPT_HASH_PASSWORD:
			exit(users_file_hash_command(optarg, stdin, stdout));
		case OPT_FINGERPRINT:
			cli->print_fingerprint = true;
			break;
		case 'f':
			cli->foreground = true;
			break;
		case 'h':
			usage(stdout);
			exit(EXIT_SUCCESS);
		case 'V':
			printf("mdev-vncd %s\n", MDEV_VNCD_VERSION);
			exit(EXIT_SUCCESS);
		case 'u': case 'd': case 's': case 'l': case 'r': case 'i': case 'v': {
			struct config_override o = keys[opt];
			if (!o.value)
				o.value = optarg;
			if (cli->n_overrides < sizeof(cli->overrides) / sizeof(cli->overrides[0]))
				cli->overrides[cli->n_overrides++] = o;
			break;
		}
		default:
			usage(stderr);
			return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "mdev-vncd: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return -EINVAL;
	}
	return 0;
}

static int build_config(const struct cli *cli, const char *path, struct config *cfg)
{
	char err[512];
	if (config_build(cfg, path, cli->overrides, cli->n_overrides, err, sizeof(err)) < 0) {
		fprintf(stderr, "mdev-vncd: %s\n", err);
		return -EINVAL;
	}
	return 0;
}

/*
 * Detaches, returning in the child the fd to report readiness on. The
 * parent waits for that byte, so its exit status says whether the daemon
 * came up, and errors during start still reach the terminal.
 */
static int detach(void)
{
	int ready[2];
	if (pipe2(ready, O_CLOEXEC) < 0)
		return -errno;
	pid_t pid = fork();
	if (pid < 0)
		return -errno;
	if (pid > 0) {
		close(ready[1]);
		char ok = 0;
		ssize_t n = read(ready[0], &ok, 1);
		_exit(n == 1 && ok == 1 ? EXIT_SUCCESS : EXIT_FAILURE);
	}
	close(ready[0]);
	if (setsid() < 0)
		return -errno;
	return ready[1];
}

int main(int argc, char **argv)
{
	struct cli cli = { 0 };
	if (parse_cli(argc, argv, &cli) < 0)
		return 2;

	struct config cfg;
	if (cli.check_path) {
		if (build_config(&cli, cli.check_path, &cfg) < 0)
			return EXIT_NOT_CONFIGURED;
		config_print(&cfg, stdout);
		return 0;
	}
	if (build_config(&cli, cli.config_path, &cfg) < 0)
		return EXIT_NOT_CONFIGURED;

	log_init(cfg.instance, cfg.log_level);
	if (cli.print_fingerprint)
		return tls_cert_print_fingerprint(cfg.tls_cert, cfg.state_dir, stdout);
	if (cli.snapshot_path)
		return snapshot_run(&cfg, cli.snapshot_path, !cli.no_cursor);
	int ready_fd = -1;
	if (!cli.foreground) {
		ready_fd = detach();
		if (ready_fd < 0) {
			log_error("cannot detach: %s; exiting", strerror(-ready_fd));
			return 1;
		}
	}
	return daemon_run(&cfg, cli.config_path, cli.overrides, cli.n_overrides, ready_fd);
}
