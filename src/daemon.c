// SPDX-License-Identifier: GPL-2.0-or-later
#include "daemon.h"

#include <errno.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <event2/event.h>
#include <event2/thread.h>
#include <systemd/sd-daemon.h>

#include "attach_helper.h"
#include "cursor.h"
#include "device_loss.h"
#include "display.h"
#include "display_irq.h"
#include "edid_region.h"
#include "fd_util.h"
#include "frame_store.h"
#include "import_auto.h"
#include "import_egl.h"
#include "input.h"
#include "log.h"
#include "metrics.h"
#include "plane.h"
#include "privdrop.h"
#include "qemu_attach.h"
#include "refresh.h"
#include "tls_cert.h"
#include "vfio_device.h"
#include "vnc_server.h"

struct daemon {
	struct config cfg;
	const char *config_path;
	const struct config_override *overrides;
	size_t n_overrides;
	struct event_base *base;
	struct vfio_device *device;
	struct import_choice import;
	const struct import_method *import_method; /* chosen once, kept across device losses */
	struct plane_source *planes;
	struct frame_store *store;
	struct display *display;
	struct cursor_source *cursor;
	struct vnc_server *server;
	struct refresh *refresh;
	struct event *sigterm, *sigint, *sighup;
	struct event *watchdog;
	struct metrics *metrics;
	struct edid_region *edid; /* NULL: the device has none */
	atomic_bool has_edid;     /* edid != NULL, for the clients' threads */
	struct device_request *request; /* NULL: the device offers no request IRQ */
	/* A lost device, released on the next loop turn (never inside the callback that saw it). */
	struct {
		struct event *release;
		char why[128];
		bool pending;
		bool exiting;
		struct event *look_again; /* on_device_loss = wait: the return poll */
		struct log_latch reopen_failed;
	} loss;
	struct input *input;      /* NULL: input = none */
	struct qemu_attach *qemu; /* NULL: the device did not come from a running QEMU */
	struct attach_helper *helper; /* qemu_pidfile with on_device_loss = wait, else NULL */
	/* tls_cert and tls_key as used: tls_cert = auto resolves to files under state_dir. */
	char tls_cert[512], tls_key[512];
	/* The latest desktop size a client asked for, from its thread to the loop. */
	struct {
		pthread_mutex_t lock;
		struct event *wake;
		bool pending;
		uint32_t width, height;
		char peer[64];
	} size_request;
	int exit_status;
};

/* Called where the loss shows: the release runs on the next loop turn. */
static void schedule_release(struct daemon *d, const char *why)
{
	if (d->loss.pending)
		return;
	d->loss.pending = true;
	snprintf(d->loss.why, sizeof(d->loss.why), "%s", why);
	event_active(d->loss.release, 0, 0);
}

static void on_removal_request(void *ctx)
{
	schedule_release(ctx, "the kernel asked for it back (device removal)");
}

static unsigned on_refresh(void *ctx, unsigned planes, enum display_read read, bool *flipped)
{
	struct daemon *d = ctx;
	unsigned again = 0;
	const char *why;
	*flipped = false;
	uint64_t changed = display_stats(d->display)->frames_changed;
	int ret = (planes & DISPLAY_EVENT_PRIMARY) ? display_poll(d->display, read, flipped) : 0;
	if (ret == -EAGAIN)
		again |= DISPLAY_EVENT_PRIMARY;
	if (display_stats(d->display)->frames_changed != changed)
		again |= REFRESH_CHANGED;
	if ((ret == -ENODEV || ret == -EIO) && device_is_gone(d->device, &why)) {
		schedule_release(d, why);
		return 0;
	}
	if (planes & DISPLAY_EVENT_CURSOR)
		cursor_refresh(d->cursor);
	return again;
}

/* Updates run while clients watch; systemd's status line says how many and how. */
static void serve_clients(struct daemon *d, unsigned count)
{
	if (!d->refresh) {
		sd_notifyf(0, "STATUS=serving %u client(s); device lost, waiting for it", count);
		return;
	}
	refresh_set_active(d->refresh, count > 0);
	sd_notifyf(0, "STATUS=serving %u client(s); display updates by %s", count,
		   refresh_uses_irq(d->refresh) ? "IRQ" : "polling");
}

/* With nobody watching, the device is left alone: an idle VM costs nothing. */
static void on_clients_changed(void *ctx, unsigned count)
{
	struct daemon *d = ctx;
	if (count == 0)
		log_info("no clients: display updates paused");
	serve_clients(d, count);
}

static void write_edid(struct daemon *d, const char *who, uint32_t width, uint32_t height)
{
	uint32_t w, h;
	int ret = edid_region_set_mode(d->edid, width, height, d->cfg.instance, &w, &h);
	if (ret < 0)
		log_warning("EDID: %ux%u asked by %s not written: %s", width, height, who,
			    strerror(-ret));
	else
		log_info("EDID: %s asked for %ux%u; preferred mode %ux%u written", who, width,
			 height, w, h);
}

/* A client's thread: only the latest request matters, the loop writes it. */
static bool on_size_request(void *ctx, const char *peer, uint32_t width, uint32_t height)
{
	struct daemon *d = ctx;
	if (!d->cfg.follow_client_size || !atomic_load(&d->has_edid))
		return false;
	pthread_mutex_lock(&d->size_request.lock);
	d->size_request.pending = true;
	d->size_request.width = width;
	d->size_request.height = height;
	snprintf(d->size_request.peer, sizeof(d->size_request.peer), "client %s", peer);
	pthread_mutex_unlock(&d->size_request.lock);
	event_active(d->size_request.wake, EV_READ, 0);
	return true;
}

static void on_size_wake(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;
	char who[sizeof(d->size_request.peer)];
	uint32_t width, height;
	pthread_mutex_lock(&d->size_request.lock);
	bool pending = d->size_request.pending;
	d->size_request.pending = false;
	width = d->size_request.width;
	height = d->size_request.height;
	memcpy(who, d->size_request.peer, sizeof(who));
	pthread_mutex_unlock(&d->size_request.lock);
	/* The device may have gone since the client asked. */
	if (pending && d->edid)
		write_edid(d, who, width, height);
}

/* Without the region, size requests are refused and edid_size is ignored, both said once here. */
static int setup_edid(struct daemon *d)
{
	bool wanted = d->cfg.follow_client_size || d->cfg.edid_width;
	int ret = edid_region_new(d->device, &d->edid);
	if (ret == -ENODEV) {
		if (wanted)
			log_warning("the device has no EDID region: desktop size requests refused%s",
				    d->cfg.edid_width ? ", edid_size ignored" : "");
	} else if (ret < 0) {
		log_warning("EDID region unusable (%s): desktop size requests refused",
			    strerror(-ret));
	}
	atomic_store(&d->has_edid, d->edid != NULL);
	if (d->edid && d->cfg.edid_width)
		write_edid(d, "edid_size", d->cfg.edid_width, d->cfg.edid_height);
	return 0;
}

static void collect_metrics(void *ctx, struct metrics_sample *out)
{
	struct daemon *d = ctx;
	const struct display_stats *stats = display_stats(d->display);
	out->frames_seen = stats->refreshes;
	out->frames_changed = stats->frames_changed;
	out->query_errors = stats->query_errors;
	out->tiles_changed = stats->tiles_changed;
	out->tiles_total = stats->tiles_compared;
	out->gpu_import = d->import.gpu != NULL;
	if (d->import.gpu)
		out->gpu_readback_bytes = import_egl_bytes_read(d->import.gpu);
	out->clients = vnc_server_client_count(d->server);
	vnc_server_stats(d->server, &out->frames_sent, &out->bytes_sent,
			 &out->stages[METRICS_STAGE_ENCODE]);
	for (int stage = 0; stage < METRICS_STAGE_COUNT; stage++)
		metrics_histogram_add(&out->stages[stage], &stats->stages[stage]);
}

static void on_watchdog(evutil_socket_t fd, short what, void *arg)
{
	sd_notify(0, "WATCHDOG=1");
}

/* Pings systemd's watchdog from the loop itself: a stuck loop stops the pings. */
static int start_watchdog(struct daemon *d)
{
	uint64_t usec;
	if (sd_watchdog_enabled(0, &usec) <= 0)
		return 0;
	d->watchdog = event_new(d->base, -1, EV_PERSIST, on_watchdog, d);
	if (!d->watchdog)
		return -ENOMEM;
	struct timeval tv = { .tv_sec = (time_t)(usec / 2 / 1000000),
			      .tv_usec = (suseconds_t)(usec / 2 % 1000000) };
	return event_add(d->watchdog, &tv);
}

/* Whether we attached beside the QEMU that opened the device. */
static bool device_shared(const struct daemon *d)
{
	return d->qemu != NULL;
}

/* Everything made from the open device: what a loss releases and a return makes again. */
static int attach_device(struct daemon *d)
{
	int ret = setup_edid(d);
	if (ret == 0)
		ret = plane_source_new(d->device, d->import_method, &d->planes);
	if (ret < 0)
		return ret;
	d->cursor = cursor_source_new(d->planes, d->store);
	if (d->cursor)
		d->refresh = refresh_new(d->base, d->device, d->cfg.display_event,
					 d->cfg.refresh_hz, on_refresh, d);
	if (!d->refresh)
		return -ENOMEM;
	/*
	 * A device has one request IRQ trigger (SET_IRQS replaces it): beside
	 * QEMU it is QEMU's, and taking it would leave QEMU deaf to removal
	 * requests. QEMU's exit (the pidfd) is when we let go.
	 */
	if (device_shared(d)) {
		log_info("device removal requests: left to QEMU (its request IRQ); the device is "
			 "released when QEMU exits");
		ret = -ENOENT;
	} else {
		ret = device_request_open(d->device, d->base, on_removal_request, d, &d->request);
	}
	if (ret == 0)
		log_info("device removal requests: released at once (request IRQ)");
	else if (ret != -ENOENT)
		log_warning("cannot listen for device removal requests (%s): a removal waits "
			    "until the daemon stops", strerror(-ret));
	display_set_planes(d->display, d->planes);
	return 0;
}

/* In reverse order of attach_device: nothing made from the device outlives it. */
static void release_device(struct daemon *d)
{
	device_request_free(d->request);
	d->request = NULL;
	refresh_free(d->refresh);
	d->refresh = NULL;
	cursor_source_free(d->cursor);
	d->cursor = NULL;
	plane_source_free(d->planes);
	d->planes = NULL;
	atomic_store(&d->has_edid, false);
	edid_region_free(d->edid);
	d->edid = NULL;
	vfio_device_free(d->device);
	d->device = NULL;
}

static const char *device_name(const struct daemon *d, char *buf, size_t len)
{
	if (d->helper)
		snprintf(buf, len, "a QEMU holding mdev %s (pidfile %s)", d->cfg.uuid,
			 d->cfg.qemu_pidfile);
	else if (d->cfg.device_socket[0])
		snprintf(buf, len, "the VMM's socket %s", d->cfg.device_socket);
	else
		snprintf(buf, len, "mdev %s", d->cfg.uuid);
	return buf;
}

/*
 * Releases every fd and mapping made from the device at once: a kernel
 * removing it waits for that. exit leaves for the service manager;
 * wait shows the loss and looks for the device's return.
 */
static void on_release(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;
	char name[512];
	d->loss.pending = false;
	if (!d->device)
		return;
	release_device(d);
	qemu_attach_free(d->qemu); /* after the device fd it handed over */
	d->qemu = NULL;
	frame_store_set_cursor_pos(d->store, 0, 0, false);
	if (d->cfg.on_device_loss == DEVICE_LOSS_EXIT) {
		log_error("device lost: %s; released it, exiting with status %d for the service "
			  "manager to restart the daemon (on_device_loss = exit)", d->loss.why,
			  DEVICE_LOSS_EXIT_STATUS);
		d->loss.exiting = true;
		sd_notify(0, "STOPPING=1");
		event_base_loopbreak(d->base);
		return;
	}
	display_device_lost(d->display, d->loss.why);
	log_warning("device lost: %s; released it, clients see a placeholder until %s is back",
		    d->loss.why, device_name(d, name, sizeof(name)));
	sd_notifyf(0, "STATUS=device lost, waiting for %s", name);
	struct timeval every = { .tv_sec = DEVICE_RETURN_POLL_SEC };
	event_add(d->loss.look_again, &every);
}

static void on_qemu_exit(void *ctx);

/* The device from the QEMU now in the pidfile, through the helper, watched. */
static int reattach(struct daemon *d, char *why, size_t len)
{
	int ret = attach_helper_request(d->helper, d->cfg.uuid, &d->device, &d->qemu, why, len);
	if (ret == 0) {
		ret = qemu_attach_watch(d->qemu, d->base, on_qemu_exit, d);
		snprintf(why, len, "cannot watch QEMU's pidfd");
	}
	return ret;
}

static int reopen_device(struct daemon *d, char *why, size_t len)
{
	if (d->helper)
		return reattach(d, why, len);
	const char *step = "";
	int ret = d->cfg.device_socket[0] ?
			  vfio_device_receive(d->cfg.device_socket, &d->device, &step) :
			  vfio_device_open_uuid(d->cfg.uuid, &d->device, &step);
	snprintf(why, len, "%s", step);
	return ret;
}

/* The helper gone, no QEMU can be attached again: the service manager starts afresh. */
static void helper_lost(struct daemon *d, const char *why)
{
	log_error("%s: QEMU's next start cannot be attached to; exiting with status %d for "
		  "the service manager to restart the daemon", why, DEVICE_LOSS_EXIT_STATUS);
	d->loss.exiting = true;
	sd_notify(0, "STOPPING=1");
	event_base_loopbreak(d->base);
}

/* on_device_loss = wait: opens the device again once it is back (by uuid, from the VMM or QEMU). */
static void on_look_again(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;
	char why[256];
	if (!device_may_be_back(d->cfg.uuid, d->cfg.device_socket))
		return;
	int ret = reopen_device(d, why, sizeof(why));
	if (ret == -EPIPE && d->helper) {
		helper_lost(d, why);
		return;
	}
	if (ret == 0) {
		snprintf(why, sizeof(why), "setting it up failed");
		ret = attach_device(d);
	}
	if (ret < 0) {
		release_device(d);
		qemu_attach_free(d->qemu);
		d->qemu = NULL;
		log_once(&d->loss.reopen_failed, LOG_LEVEL_WARNING,
			 "cannot open the device again yet: %s (%s); trying again every %d s",
			 why, strerror(-ret), DEVICE_RETURN_POLL_SEC);
		return;
	}
	log_latch_clear(&d->loss.reopen_failed);
	event_del(d->loss.look_again);
	log_info("device back: opened the vGPU through %s; clients see the guest again",
		 vfio_device_origin(d->device));
	serve_clients(d, vnc_server_client_count(d->server));
}

static void on_stop_signal(evutil_socket_t sig, short what, void *arg)
{
	struct daemon *d = arg;
	log_info("%s received: shutting down", strsignal((int)sig));
	sd_notify(0, "STOPPING=1");
	event_base_loopbreak(d->base);
}

/* The users file and the certificate's files as they are now; on error the running ones stay. */
static void reload_tls(struct daemon *d, const struct config *fresh)
{
	if (vnc_server_reload_users(d->server, fresh->users_file) == 0)
		memcpy(d->cfg.users_file, fresh->users_file, sizeof(d->cfg.users_file));
	else
		log_error("SIGHUP: keeping the running users");
	/* The daemon made tls_cert = auto itself (maybe as root, before dropping it): nothing to re-read. */
	bool auto_cert = strcmp(d->cfg.tls_cert, CONFIG_TLS_CERT_AUTO) == 0;
	if (!auto_cert && vnc_server_reload_tls(d->server, d->tls_cert, d->tls_key, d->cfg.tls_ca) < 0)
		log_error("SIGHUP: keeping the running certificate");
}

static void reload_config(struct daemon *d)
{
	struct config fresh;
	char err[512];
	if (!d->config_path) {
		log_info("SIGHUP: no config file to reload");
		return;
	}
	if (config_build(&fresh, d->config_path, d->overrides, d->n_overrides, err,
			 sizeof(err)) < 0) {
		log_error("SIGHUP: %s; keeping the running configuration", err);
		return;
	}
	char restart[256] = "";
	if (config_restart_needed(&d->cfg, &fresh, restart, sizeof(restart)) > 0)
		log_warning("SIGHUP: changes to %s take effect only after a restart", restart);
	if (vnc_server_reload_passwords(d->server, fresh.password_file,
					fresh.viewonly_password_file) == 0) {
		memcpy(d->cfg.password_file, fresh.password_file, sizeof(d->cfg.password_file));
		memcpy(d->cfg.viewonly_password_file, fresh.viewonly_password_file,
		       sizeof(d->cfg.viewonly_password_file));
	} else {
		log_error("SIGHUP: keeping the running passwords");
	}
	reload_tls(d, &fresh);
	log_set_level(fresh.log_level);
	d->cfg.log_level = fresh.log_level;
	if (fresh.refresh_hz != d->cfg.refresh_hz) {
		d->cfg.refresh_hz = fresh.refresh_hz;
		refresh_set_rate(d->refresh, fresh.refresh_hz);
	}
	log_info("SIGHUP: configuration reloaded (log_level %s, refresh_hz %u, passwords re-read)",
		 log_level_name(d->cfg.log_level), d->cfg.refresh_hz);
}

static void on_sighup(evutil_socket_t sig, short what, void *arg)
{
	reload_config(arg);
}

static int setup_loop(struct daemon *d)
{
	d->base = refresh_event_base_new();
	if (!d->base)
		return -ENOMEM;
	d->sigterm = evsignal_new(d->base, SIGTERM, on_stop_signal, d);
	d->sigint = evsignal_new(d->base, SIGINT, on_stop_signal, d);
	d->sighup = evsignal_new(d->base, SIGHUP, on_sighup, d);
	d->size_request.wake = event_new(d->base, -1, 0, on_size_wake, d);
	d->loss.release = event_new(d->base, -1, 0, on_release, d);
	d->loss.look_again = event_new(d->base, -1, EV_PERSIST, on_look_again, d);
	if (!d->sigterm || !d->sigint || !d->sighup || !d->size_request.wake || !d->loss.release ||
	    !d->loss.look_again)
		return -ENOMEM;
	evsignal_add(d->sigterm, NULL);
	evsignal_add(d->sigint, NULL);
	evsignal_add(d->sighup, NULL);
	return 0;
}

/*
 * Everything privileged is open: from here on the daemon runs as its own
 * user. A host without the packaged user (a build tree, a test guest) keeps
 * running as started, with a warning; a user named in the config must exist.
 */
static bool packaged_user_missing(const struct config *cfg)
{
	return geteuid() == 0 && strcmp(cfg->user, CONFIG_DEFAULT_USER) == 0 && !getpwnam(cfg->user);
}

static int drop_privileges(const struct config *cfg)
{
	if (packaged_user_missing(cfg)) {
		log_warning("running as root: user %s does not exist (systemd-sysusers creates it "
			    "from the package); set user = to drop privileges", cfg->user);
		return 0;
	}
	char err[256];
	int ret = privdrop_to_user(cfg->user, err, sizeof(err));
	if (ret < 0)
		log_error("%s; exiting", err);
	return ret;
}

/*
 * Our copy of the device would keep QEMU's vGPU busy: it goes with QEMU,
 * and with on_device_loss = wait the daemon waits for QEMU's next start.
 */
static void on_qemu_exit(void *ctx)
{
	struct daemon *d = ctx;
	if (d->helper) {
		char why[64];
		snprintf(why, sizeof(why), "QEMU (PID %d) exited", (int)qemu_attach_pid(d->qemu));
		schedule_release(d, why);
		return;
	}
	log_warning("QEMU (PID %d) exited: letting go of its vGPU and exiting",
		    (int)qemu_attach_pid(d->qemu));
	sd_notify(0, "STOPPING=1");
	event_base_loopbreak(d->base);
}

static int open_device(struct daemon *d)
{
	if (!d->cfg.qemu_pid && !d->cfg.qemu_pidfile[0])
		return vfio_device_open_configured(d->cfg.uuid, d->cfg.device_fd,
						   d->cfg.device_socket, &d->device);
	if (!d->helper) {
		int ret = qemu_attach_open((pid_t)d->cfg.qemu_pid, d->cfg.qemu_pidfile,
					   d->cfg.uuid, &d->device, &d->qemu);
		return ret < 0 ? ret : qemu_attach_watch(d->qemu, d->base, on_qemu_exit, d);
	}
	char why[256];
	int ret = reattach(d, why, sizeof(why));
	if (ret < 0)
		log_error("cannot attach to QEMU for mdev %s: %s (%s); giving up", d->cfg.uuid, why,
			  strerror(-ret));
	else
		log_info("attached to QEMU (PID %d) through the attach helper: mdev %s (%s)",
			 (int)qemu_attach_pid(d->qemu), d->cfg.uuid, vfio_device_origin(d->device));
	return ret;
}

/* tls_cert = auto: the files under state_dir, made on first start. */
static int resolve_tls_files(struct daemon *d)
{
	if (strcmp(d->cfg.tls_cert, CONFIG_TLS_CERT_AUTO) == 0)
		return tls_cert_auto(d->cfg.state_dir, d->tls_cert, sizeof(d->tls_cert), d->tls_key,
				     sizeof(d->tls_key));
	snprintf(d->tls_cert, sizeof(d->tls_cert), "%s", d->cfg.tls_cert);
	snprintf(d->tls_key, sizeof(d->tls_key), "%s", d->cfg.tls_key);
	return 0;
}

static enum vnc_tls_mode server_tls_mode(const struct config *cfg)
{
	switch (config_tls_policy(cfg)) {
	case TLS_POLICY_REQUIRED:
		return VNC_TLS_REQUIRED;
	case TLS_POLICY_OPTIONAL:
		return VNC_TLS_OPTIONAL;
	default:
		return VNC_TLS_OFF;
	}
}

static unsigned server_auth_methods(const struct config *cfg)
{
	unsigned methods = config_auth_methods(cfg);
	return (methods & CONFIG_AUTH_PLAIN ? VNC_AUTH_METHOD_PLAIN : 0u) |
	       (methods & CONFIG_AUTH_VNC ? VNC_AUTH_METHOD_VNC : 0u) |
	       (methods & CONFIG_AUTH_NONE ? VNC_AUTH_METHOD_NONE : 0u);
}

static int setup_pipeline(struct daemon *d)
{
	int ret = open_device(d);
	if (ret < 0)
		return ret;
	d->import_method = import_choose(&d->import, d->cfg.import, d->cfg.uuid);
	if (!d->import_method)
		return -ENOMEM;
	d->store = frame_store_new();
	d->display = d->store ? display_new(NULL, d->store, d->cfg.instance) : NULL;
	if (!d->display)
		return -ENOMEM;
	ret = attach_device(d);
	if (ret < 0)
		return ret;

	ret = resolve_tls_files(d);
	if (ret < 0)
		return ret;
	struct vnc_server_options options = {
		.desktop_name = d->cfg.instance,
		.max_clients = d->cfg.max_clients,
		.exclusive = d->cfg.share == SHARE_EXCLUSIVE,
		.password_file = d->cfg.password_file,
		.viewonly_password_file = d->cfg.viewonly_password_file,
		.tls_cert = d->tls_cert,
		.tls_key = d->tls_key,
		.tls_ca = d->cfg.tls_ca,
		.tls_verify_client = d->cfg.tls_verify_client,
		.tls_mode = server_tls_mode(&d->cfg),
		.auth_methods = server_auth_methods(&d->cfg),
		.users_file = d->cfg.users_file,
		.clients_changed = on_clients_changed,
		.size_request = on_size_request,
		.ctx = d,
	};
	if (d->cfg.input_qmp[0]) {
		ret = input_new(d->base, d->cfg.input_qmp, &d->input);
		if (ret < 0) {
			log_error("input = qmp:%s: %s; exiting", d->cfg.input_qmp, strerror(-ret));
			return ret;
		}
		options.input = d->input;
	}
	d->server = vnc_server_new(d->base, d->store, &options);
	if (!d->server)
		return -ENOMEM;
	for (unsigned i = 0; i < d->cfg.n_listen; i++) {
		ret = vnc_server_listen_tcp(d->server, d->cfg.listen[i].host, d->cfg.listen[i].port);
		if (ret < 0)
			return ret;
	}
	if (d->cfg.unix_socket[0]) {
		ret = vnc_server_listen_unix(d->server, d->cfg.unix_socket);
		if (ret < 0)
			return ret;
	}
	if (d->cfg.metrics_listen[0]) {
		ret = metrics_new(d->base, d->cfg.metrics_listen, d->cfg.instance, collect_metrics, d,
				  &d->metrics);
		if (ret < 0)
			return ret;
	}
	ret = drop_privileges(&d->cfg);
	if (ret < 0)
		return ret;
	return start_watchdog(d);
}

static void teardown(struct daemon *d)
{
	/* Clients first: their threads read the frame store. */
	metrics_free(d->metrics);
	vnc_server_free(d->server);
	input_free(d->input); /* after the clients, which queue into it */
	release_device(d);
	qemu_attach_free(d->qemu); /* after the device fd it handed over */
	attach_helper_free(d->helper);
	display_free(d->display);
	frame_store_free(d->store);
	/* After the planes (release_device): they hand every imported buffer back first. */
	import_choice_done(&d->import);
	if (d->size_request.wake)
		event_free(d->size_request.wake);
	if (d->loss.release)
		event_free(d->loss.release);
	if (d->loss.look_again)
		event_free(d->loss.look_again);
	if (d->sigterm)
		event_free(d->sigterm);
	if (d->sigint)
		event_free(d->sigint);
	if (d->sighup)
		event_free(d->sighup);
	if (d->watchdog)
		event_free(d->watchdog);
	if (d->base)
		event_base_free(d->base);
	libevent_global_shutdown();
}

/* First, while privileged and before any other fd is open: see attach_helper.h. */
static int start_helper(struct daemon *d, int ready_fd)
{
	if (!d->cfg.qemu_pidfile[0] || d->cfg.on_device_loss != DEVICE_LOSS_WAIT)
		return 0;
	return attach_helper_start(d->cfg.qemu_pidfile, d->cfg.uuid,
				   packaged_user_missing(&d->cfg) ? "" : d->cfg.user, ready_fd,
				   &d->helper);
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

int daemon_run(const struct config *cfg, const char *config_path,
	       const struct config_override *overrides, size_t n_overrides, int ready_fd)
{
	struct daemon d = {
		.cfg = *cfg,
		.config_path = config_path,
		.overrides = overrides,
		.n_overrides = n_overrides,
		.exit_status = EXIT_FAILURE,
	};
	pthread_mutex_init(&d.size_request.lock, NULL);

	/* Client threads wake the loop (event_active) to be reaped. */
	evthread_use_pthreads();
	/* A client that vanishes mid-write must not kill the daemon. */
	signal(SIGPIPE, SIG_IGN);

	if (start_helper(&d, ready_fd) == 0 && setup_loop(&d) == 0 && setup_pipeline(&d) == 0) {
		/* One refresh now: the operator learns the device's state at start. */
		display_refresh(d.display);
		log_info("ready: serving %s", d.cfg.instance);
		sd_notify(0, "READY=1\nSTATUS=waiting for clients");
		signal_ready(ready_fd);
		ready_fd = -1;
		if (event_base_dispatch(d.base) == 0 || event_base_got_break(d.base))
			d.exit_status = d.loss.exiting ? DEVICE_LOSS_EXIT_STATUS : EXIT_SUCCESS;
	}
	close_fd(ready_fd);
	teardown(&d);
	pthread_mutex_destroy(&d.size_request.lock);
	log_info("stopped");
	return d.exit_status;
}
