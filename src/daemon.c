// SPDX-License-Identifier: GPL-2.0-or-later
#include "daemon.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <event2/event.h>
#include <event2/thread.h>
#include <systemd/sd-daemon.h>

#include "display.h"
#include "display_irq.h"
#include "fd_util.h"
#include "frame_store.h"
#include "import.h"
#include "log.h"
#include "plane.h"
#include "refresh.h"
#include "vfio_device.h"
#include "vnc_server.h"

struct daemon {
	struct config cfg;
	const char *config_path;
	struct event_base *base;
	struct vfio_device *device;
	struct plane_source *planes;
	struct frame_store *store;
	struct display *display;
	struct vnc_server *server;
	struct refresh *refresh;
	struct event *sigterm, *sigint, *sighup;
	int exit_status;
};

static int open_device(const struct config *cfg, struct vfio_device **out)
{
	const char *why = "";
	int ret;
	if (cfg->device_fd >= 0) {
		ret = vfio_device_adopt_fd(cfg->device_fd, "inherited fd", out, &why);
		if (ret < 0)
			log_error("cannot use device fd %d: %s (%s); exiting", cfg->device_fd, why,
				  strerror(-ret));
	} else if (cfg->device_socket[0]) {
		ret = vfio_device_receive(cfg->device_socket, out, &why);
		if (ret < 0)
			log_error("cannot receive the device fd from %s: %s (%s); exiting",
				  cfg->device_socket, why, strerror(-ret));
	} else {
		ret = vfio_device_open_uuid(cfg->uuid, out, &why);
		if (ret < 0)
			log_error("cannot open mdev %s: %s (%s); exiting", cfg->uuid, why,
				  strerror(-ret));
	}
	if (ret == 0)
		log_info("opened the vGPU through %s", vfio_device_origin(*out));
	return ret;
}

static void on_refresh(void *ctx, unsigned planes)
{
	struct daemon *d = ctx;
	if (planes & DISPLAY_EVENT_PRIMARY)
		display_refresh(d->display);
}

/* With nobody watching, the device is left alone: an idle VM costs nothing. */
static void on_clients_changed(void *ctx, unsigned count)
{
	struct daemon *d = ctx;
	refresh_set_active(d->refresh, count > 0);
	if (count == 0)
		log_info("no clients: display updates paused");
	sd_notifyf(0, "STATUS=serving %u client(s); display updates by %s", count,
		   refresh_uses_irq(d->refresh) ? "IRQ" : "polling");
}

static void on_stop_signal(evutil_socket_t sig, short what, void *arg)
{
	struct daemon *d = arg;
	log_info("%s received: shutting down", strsignal((int)sig));
	sd_notify(0, "STOPPING=1");
	event_base_loopbreak(d->base);
}

static void reload_config(struct daemon *d)
{
	struct config fresh = d->cfg;
	char err[512];
	if (!d->config_path) {
		log_info("SIGHUP: no config file to reload");
		return;
	}
	/* Keys from the file are re-read over the running settings (which include the flags). */
	if (config_load(&fresh, d->config_path, err, sizeof(err)) < 0 ||
	    config_validate(&fresh, err, sizeof(err)) < 0) {
		log_error("SIGHUP: %s; keeping the running configuration", err);
		return;
	}
	char restart[256] = "";
	if (config_restart_needed(&d->cfg, &fresh, restart, sizeof(restart)) > 0)
		log_warning("SIGHUP: changes to %s take effect only after a restart", restart);
	log_set_level(fresh.log_level);
	d->cfg.log_level = fresh.log_level;
	if (fresh.refresh_hz != d->cfg.refresh_hz) {
		d->cfg.refresh_hz = fresh.refresh_hz;
		refresh_set_rate(d->refresh, fresh.refresh_hz);
	}
	log_info("SIGHUP: configuration reloaded (log_level %s, refresh_hz %u)",
		 log_level_name(d->cfg.log_level), d->cfg.refresh_hz);
}

static void on_sighup(evutil_socket_t sig, short what, void *arg)
{
	reload_config(arg);
}

static int setup_loop(struct daemon *d)
{
	d->base = event_base_new();
	if (!d->base)
		return -ENOMEM;
	d->sigterm = evsignal_new(d->base, SIGTERM, on_stop_signal, d);
	d->sigint = evsignal_new(d->base, SIGINT, on_stop_signal, d);
	d->sighup = evsignal_new(d->base, SIGHUP, on_sighup, d);
	if (!d->sigterm || !d->sigint || !d->sighup)
		return -ENOMEM;
	evsignal_add(d->sigterm, NULL);
	evsignal_add(d->sigint, NULL);
	evsignal_add(d->sighup, NULL);
	return 0;
}

static int setup_pipeline(struct daemon *d)
{
	int ret = open_device(&d->cfg, &d->device);
	if (ret < 0)
		return ret;
	ret = plane_source_new(d->device, &import_cpu_mmap, &d->planes);
	if (ret < 0)
		return ret;
	d->store = frame_store_new();
	d->display = d->store ? display_new(d->planes, d->store, d->cfg.instance) : NULL;
	if (!d->display)
		return -ENOMEM;

	struct vnc_server_options options = {
		.desktop_name = d->cfg.instance,
		.max_clients = d->cfg.max_clients,
		.clients_changed = on_clients_changed,
		.ctx = d,
	};
	d->refresh = refresh_new(d->base, d->device, d->cfg.display_event, d->cfg.refresh_hz,
				 on_refresh, d);
	if (!d->refresh)
		return -ENOMEM;
	d->server = vnc_server_new(d->base, d->store, &options);
	if (!d->server)
		return -ENOMEM;
	for (unsigned i = 0; i < d->cfg.n_listen; i++) {
		ret = vnc_server_listen_tcp(d->server, d->cfg.listen[i].host, d->cfg.listen[i].port);
		if (ret < 0)
			return ret;
	}
	return 0;
}

static void teardown(struct daemon *d)
{
	/* Clients first: their threads read the frame store. */
	vnc_server_free(d->server);
	refresh_free(d->refresh);
	display_free(d->display);
	frame_store_free(d->store);
	plane_source_free(d->planes);
	vfio_device_free(d->device);
	if (d->sigterm)
		event_free(d->sigterm);
	if (d->sigint)
		event_free(d->sigint);
	if (d->sighup)
		event_free(d->sighup);
	if (d->base)
		event_base_free(d->base);
	libevent_global_shutdown();
}

static void signal_ready(int ready_fd)
{
	if (ready_fd < 0)
		return;
	char ok = 1;
	if (write(ready_fd, &ok, 1) < 0)
		log_debug("parent gone before ready: %s", strerror(errno));
	close(ready_fd);
}

int daemon_run(const struct config *cfg, const char *config_path, int ready_fd)
{
	struct daemon d = { .cfg = *cfg, .config_path = config_path, .exit_status = EXIT_FAILURE };

	/* Client threads wake the loop (event_active) to be reaped. */
	evthread_use_pthreads();
	/* A client that vanishes mid-write must not kill the daemon. */
	signal(SIGPIPE, SIG_IGN);

	if (setup_loop(&d) == 0 && setup_pipeline(&d) == 0) {
		/* One refresh now: the operator learns the device's state at start. */
		display_refresh(d.display);
		log_info("ready: serving %s", d.cfg.instance);
		sd_notify(0, "READY=1\nSTATUS=waiting for clients");
		signal_ready(ready_fd);
		ready_fd = -1;
		if (event_base_dispatch(d.base) == 0 || event_base_got_break(d.base))
			d.exit_status = EXIT_SUCCESS;
	}
	close_fd(ready_fd);
	teardown(&d);
	log_info("stopped");
	return d.exit_status;
}
