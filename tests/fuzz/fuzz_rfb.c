// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer harness for what a VNC client sends: the bytes are the whole
 * client side of a connection (version, security type, password response,
 * ClientInit, then any client-to-server messages, SetDesktopSize among
 * them), played into one client thread of the daemon (vnc_client.c, with
 * the login of vnc_auth.c) over a socketpair and then closed. The run ends
 * when the client thread has finished; one that does not within a few
 * seconds is a hang, reported as a crash.
 *
 * The first byte chooses the server: bit 0 a VNC password (the right one is
 * "fuzzpass"), bit 1 whether a desktop size request is taken.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/eventfd.h>
#include <stdio.h>
#include <sys/socket.h>
#include <rfb/rfb.h>

#include "frame_store.h"
#include "fuzz_util.h"
#include "vnc_auth.h"
#include "vnc_client.h"

#define PICTURE_WIDTH 64
#define PICTURE_HEIGHT 48

static struct frame_store *store;
static struct vnc_auth *open_auth, *password_auth;
static int finished_fd = -1; /* readable once the client thread has finished */

/*
 * libvncserver 0.9.14's own leaks, the ones tests/e2e/lsan.supp names for
 * the e2e runs; built in, so a run of the bare binary needs no options.
 */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
	return "leak:rfbEnableExtension\nleak:rfbGetClientIterator\nleak:webSocketsCheck\n";
}

static void quiet_rfb_log(const char *fmt, ...)
{
}

static void client_finished(void *ctx, struct vnc_client *client)
{
	uint64_t one = 1;
	if (write(finished_fd, &one, sizeof(one)) != sizeof(one))
		abort();
}

static bool size_request(void *ctx, const char *peer, uint32_t width, uint32_t height)
{
	return *(const bool *)ctx;
}

static void write_password_file(char *path, size_t size)
{
	char dir[] = "/tmp/fuzz-rfb-XXXXXX";
	if (!mkdtemp(dir))
		abort();
	snprintf(path, size, "%s/password", dir);
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, "fuzzpass\n", 9) != 9)
		abort();
	close(fd);
}

static void setup(void)
{
	fuzz_setup_as_daemon();
	finished_fd = eventfd(0, EFD_CLOEXEC);
	if (finished_fd < 0)
		abort();
	rfbLog = quiet_rfb_log;
	rfbErr = quiet_rfb_log;
	store = frame_store_new();
	uint8_t *pixels;
	size_t stride;
	bool resized;
	if (!store || frame_store_begin_write(store, PICTURE_WIDTH, PICTURE_HEIGHT, &pixels,
					      &stride, &resized) < 0)
		abort();
	for (size_t i = 0; i < stride * PICTURE_HEIGHT; i++)
		pixels[i] = (uint8_t)(i * 7);
	frame_store_end_write(store, NULL);

	char path[64];
	write_password_file(path, sizeof(path));
	struct vnc_auth_options none = { 0 }, with_password = { .password_file = path };
	if (vnc_auth_new(&none, &open_auth) < 0 || vnc_auth_new(&with_password, &password_auth) < 0)
		abort();
	unlink(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static unsigned connection;
	if (!store)
		setup();
	/*
	 * libvncserver 0.9.14 peeks for a 4-byte websocket "GET " before it
	 * speaks RFB, and spins in rfbPeekExactTimeout while fewer bytes wait
	 * and the peer neither sends more nor closes: a known finding, bounded
	 * in the daemon by handshake_timeout (README, "Fuzzing"). Shorter inputs
	 * would only find it again.
	 */
	if (size < 5)
		return 0;
	struct vnc_auth *auth = data[0] & 1 ? password_auth : open_auth;
	bool take_size = data[0] & 2;
	data++, size--;

	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		abort();
	/* Each run from its own address: the failed-login limiter would block a reused one. */
	char addr[32];
	snprintf(addr, sizeof(addr), "fuzz-%u", connection++);
	struct vnc_session *session = vnc_session_new(auth, sv[0], addr, NULL, NULL);
	if (!session)
		abort();
	struct vnc_client_params params = {
		.fd = sv[0],
		.peer = addr,
		.desktop_name = "fuzz",
		.store = store,
		.finished = client_finished,
		.size_request = size_request,
		.size_ctx = &take_size,
	};
	struct vnc_client *client;
	if (vnc_client_start(&params, &client) < 0)
		abort();
	fuzz_converse(sv[1], data, size, finished_fd);
	close(sv[1]);
	vnc_client_join(client);
	uint64_t count;
	if (read(finished_fd, &count, sizeof(count)) != sizeof(count)) /* and resets it */
		abort();
	vnc_session_free(session);
	return 0;
}
