// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Real viewers against the daemon: noVNC in headless Chromium over a
 * websocket on the VNC port (ws, and wss through the daemon's own TLS),
 * vncsnapshot, TigerVNC's vncviewer under Xvfb (also over VeNCrypt), and
 * gtk-vnc's gvncviewer over VeNCrypt. Each takes a picture
 * (viewer_shot.sh) that must show the source frame: a solid block at its
 * place on a solid background, found in the picture and measured. A viewer
 * whose packages are missing is skipped with the package named, and the
 * program exits 77 (CI counts that as a failure).
 */
#include <libgen.h>
#include <sys/wait.h>
#include <signal.h>

#include "net_helpers.h"
#include "test_cert.h"

#define WIDTH 640
#define HEIGHT 480
#define BLOCK_X 200
#define BLOCK_Y 120
#define BLOCK_W 240
#define BLOCK_H 160
#define BACKGROUND 0x306090u
#define BLOCK 0xf0d020u
#define TOLERANCE 24 /* per channel: JPEG (vncsnapshot) and browser colour handling */
#define SHOT_DEADLINE_MS 60000

struct image {
	int width, height;
	uint8_t *rgb;
};

/* The next header number of a PPM file, past whitespace and # comments. */
static int ppm_number(FILE *f)
{
	int c;
	while ((c = fgetc(f)) != EOF) {
		if (c == '#')
			while ((c = fgetc(f)) != EOF && c != '\n')
				;
		else if (c != ' ' && c != '\n' && c != '\t' && c != '\r')
			break;
	}
	int value = 0;
	for (; c >= '0' && c <= '9'; c = fgetc(f))
		value = value * 10 + (c - '0');
	return value; /* the one whitespace byte after it is consumed */
}

static bool read_ppm(const char *path, struct image *img)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return false;
	bool ok = fgetc(f) == 'P' && fgetc(f) == '6';
	img->width = ppm_number(f);
	img->height = ppm_number(f);
	ok = ok && img->width > 0 && img->height > 0 && ppm_number(f) == 255;
	if (ok) {
		size_t size = (size_t)img->width * img->height * 3;
		img->rgb = malloc(size);
		ok = fread(img->rgb, 1, size, f) == size;
	}
	fclose(f);
	return ok;
}

static bool near(const struct image *img, int x, int y, uint32_t colour)
{
	if (x < 0 || y < 0 || x >= img->width || y >= img->height)
		return false;
	const uint8_t *p = &img->rgb[((size_t)y * img->width + x) * 3];
	for (int c = 0; c < 3; c++) {
		int want = (int)(colour >> (16 - 8 * c)) & 0xff;
		if (abs(p[c] - want) > TOLERANCE)
			return false;
	}
	return true;
}

/* Whether the picture shows the whole source frame; its origin in the picture then in *ox, *oy. */
static bool frame_shown(const struct image *img, int *ox, int *oy)
{
	int x0 = img->width, y0 = img->height, x1 = -1, y1 = -1;
	for (int y = 0; y < img->height; y++)
		for (int x = 0; x < img->width; x++)
			if (near(img, x, y, BLOCK)) {
				x0 = x < x0 ? x : x0;
				y0 = y < y0 ? y : y0;
				x1 = x > x1 ? x : x1;
				y1 = y > y1 ? y : y1;
			}
	print_message("block found at %d,%d size %dx%d in a %dx%d picture\n", x0, y0, x1 - x0 + 1,
		      y1 - y0 + 1, img->width, img->height);
	if (x1 - x0 + 1 != BLOCK_W || y1 - y0 + 1 != BLOCK_H)
		return false;
	*ox = x0 - BLOCK_X;
	*oy = y0 - BLOCK_Y;
	/* The block is solid, and the background around it is the source's. */
	for (int y = 0; y < BLOCK_H; y += 7)
		for (int x = 0; x < BLOCK_W; x += 7)
			if (!near(img, x0 + x, y0 + y, BLOCK))
				return false;
	static const int corners[][2] = { { 2, 2 }, { WIDTH - 3, 2 }, { 2, HEIGHT - 3 },
					  { WIDTH - 3, HEIGHT - 3 }, { BLOCK_X - 3, BLOCK_Y },
					  { BLOCK_X + BLOCK_W + 2, BLOCK_Y + BLOCK_H - 1 } };
	for (size_t i = 0; i < sizeof(corners) / sizeof(corners[0]); i++)
		if (!near(img, *ox + corners[i][0], *oy + corners[i][1], BACKGROUND))
			return false;
	return true;
}

/* login: NULL, or how a client gets in over VeNCrypt. */
static void show_test_frame(struct daemon_proc *d, const struct tls_login *login)
{
	uint32_t *px = malloc((size_t)WIDTH * HEIGHT * 4);
	for (int y = 0; y < HEIGHT; y++)
		for (int x = 0; x < WIDTH; x++) {
			bool in = x >= BLOCK_X && x < BLOCK_X + BLOCK_W && y >= BLOCK_Y &&
				  y < BLOCK_Y + BLOCK_H;
			px[y * WIDTH + x] = in ? BLOCK : BACKGROUND;
		}
	net_set_mode(d, WIDTH, HEIGHT);
	assert_int_equal(simctl_flip(d->sim, NET_PRIMARY, px, (size_t)WIDTH * HEIGHT * 4), 0);
	/* Until a client reads it the daemon pauses: a probe makes sure the frame is in. */
	struct vnc_probe *probe = login ? net_tls_login("127.0.0.1", d->port, login, "raw")
				       : vnc_probe_connect(d->port, "raw");
	assert_non_null(probe);
	assert_true(vnc_probe_wait_picture(probe, (uint8_t *)px, WIDTH, HEIGHT, NET_WAIT_MS));
	vnc_probe_free(probe);
	free(px);
}

/* Runs viewer_shot.sh; its exit status (77 = a package is missing). */
static int viewer_shot(const char *kind, uint16_t port, const char *dir, const char *out)
{
	char script[512], cmd[1024];
	snprintf(script, sizeof(script), "%s", __FILE__);
	snprintf(cmd, sizeof(cmd), "sh '%s/viewer_shot.sh' %s %u '%s' '%s'", dirname(script), kind,
		 port, out, dir);
	int status = system(cmd);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

/*
 * A self-signed certificate for localhost and 127.0.0.1 in dir (cert.pem),
 * as the daemon's config text.
 */
static void tls_config(const struct net_dir *dir, char *text, size_t size)
{
	char cert[128], key[128];
	snprintf(cert, sizeof(cert), "%s/cert.pem", dir->path);
	snprintf(key, sizeof(key), "%s/key.pem", dir->path);
	test_make_certificate(cert, key);
	snprintf(text, size, "tls_cert = %s\ntls_key = %s\n", cert, key);
}

enum transport { CLEAR, WSS, VENCRYPT };

/*
 * VeNCrypt's config text after text: user alice (password wonderland, hashed
 * by the daemon's own command) and the VNC password sesame, only over TLS.
 */
static void vencrypt_config(const struct net_dir *dir, const char *auth, char *text, size_t size)
{
	char users[128], password[128], cmd[512], line[256];
	snprintf(cmd, sizeof(cmd), "echo wonderland | '%s' --hash-password alice", DAEMON_BINARY);
	FILE *f = popen(cmd, "r");
	assert_non_null(f);
	assert_non_null(fgets(line, sizeof(line), f));
	assert_int_equal(pclose(f), 0);
	net_write_file(dir, "users", line, 0600, users, sizeof(users));
	net_write_file(dir, "password", "sesame\n", 0600, password, sizeof(password));
	size_t used = strlen(text);
	snprintf(text + used, size - used,
		 "tls = required\nauth = %s\nusers_file = %s\npassword_file = %s\n", auth, users,
		 password);
}

/*
 * auth: the VeNCrypt method for transport VENCRYPT, else NULL. Pictures from
 * the viewer until one shows the source frame: a viewer on a busy machine
 * may take its picture before it has drawn everything.
 */
static void check_viewer(const char *kind, enum transport transport, const char *auth, int *ox,
			 int *oy)
{
	struct net_dir dir;
	net_dir_make(&dir);
	char text[1024] = "", cert[128];
	snprintf(cert, sizeof(cert), "%s/cert.pem", dir.path);
	if (transport != CLEAR)
		tls_config(&dir, text, sizeof(text));
	if (transport == VENCRYPT)
		vencrypt_config(&dir, auth, text, sizeof(text));
	struct net_config cfg;
	net_config(&cfg, &dir, text);
	struct daemon_proc d;
	daemon_start(&d, &(struct daemon_options){ .extra_args = cfg.args });
	const struct tls_login login = { .ca = cert, .user = "alice",
					 .password = strcmp(auth ? auth : "", "vnc") == 0 ? "sesame"
											  : "wonderland" };
	show_test_frame(&d, transport == VENCRYPT ? &login : NULL);
	char out[128];
	snprintf(out, sizeof(out), "%s/shot.ppm", dir.path);
	setenv("VNC_USERNAME", login.user, 1);
	setenv("VNC_PASSWORD", login.password, 1);
	bool shown = false;
	int status = 0, shots = 0;
	for (uint64_t deadline = now_ms() + SHOT_DEADLINE_MS; !shown && now_ms() < deadline;) {
		status = viewer_shot(kind, d.port, dir.path, out);
		if (status != 0)
			break;
		shots++;
		struct image img = { 0 };
		assert_true(read_ppm(out, &img));
		shown = frame_shown(&img, ox, oy);
		free(img.rgb);
	}
	int over_tls = daemon_log_count(&d, "connected over TLS");
	/* The probe logged in once; the viewer once per picture. */
	int over_vencrypt = daemon_log_count(&d, "connected over VeNCrypt");
	int by_method = daemon_log_count(&d, strcmp(auth ? auth : "", "vnc") == 0
						 ? "logged in with VeNCrypt X509Vnc"
						 : "logged in with VeNCrypt X509Plain as alice");
	assert_int_equal(daemon_stop(&d, SIGTERM), 0);
	net_dir_remove(&dir);
	if (status == 77)
		test_skip("the viewer is not installed (the package is named above)");
	assert_int_equal(status, 0);
	if (!shown)
		fail_msg("%s never showed the frame in %d s", kind, SHOT_DEADLINE_MS / 1000);
	assert_int_equal(over_tls > 0, transport == WSS);
	assert_int_equal(over_vencrypt, transport == VENCRYPT ? 1 + shots : 0);
	assert_int_equal(by_method, transport == VENCRYPT ? 1 + shots : 0);
}

static void test_novnc_over_websocket(void **state)
{
	int ox, oy;
	check_viewer("novnc", CLEAR, NULL, &ox, &oy);
}

/* The daemon ends TLS itself: libvncserver 0.9.14's own wss stalls noVNC. */
static void test_novnc_over_wss(void **state)
{
	int ox, oy;
	check_viewer("novnc-wss", WSS, NULL, &ox, &oy);
}

/* vncsnapshot saves the framebuffer itself: the block is exactly where the source has it. */
static void test_vncsnapshot(void **state)
{
	int ox, oy;
	check_viewer("snapshot", CLEAR, NULL, &ox, &oy);
	assert_int_equal(ox, 0);
	assert_int_equal(oy, 0);
}

static void test_tigervnc_viewer(void **state)
{
	int ox, oy;
	check_viewer("tiger", CLEAR, NULL, &ox, &oy);
}

/* TigerVNC over VeNCrypt with a user name and password inside TLS (X509Plain). */
static void test_tigervnc_x509plain(void **state)
{
	int ox, oy;
	check_viewer("tiger-x509plain", VENCRYPT, "plain", &ox, &oy);
}

/* gtk-vnc's gvncviewer (virt-viewer's and Remmina's library) over VeNCrypt X509Plain. */
static void test_gvncviewer_x509plain(void **state)
{
	int ox, oy;
	check_viewer("gvnc-x509plain", VENCRYPT, "plain", &ox, &oy);
}

/* TigerVNC over VeNCrypt with the VNC password inside TLS (X509Vnc). */
static void test_tigervnc_x509vnc(void **state)
{
	int ox, oy;
	check_viewer("tiger-x509vnc", VENCRYPT, "vnc", &ox, &oy);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_novnc_over_websocket),
		cmocka_unit_test(test_novnc_over_wss),
		cmocka_unit_test(test_vncsnapshot),
		cmocka_unit_test(test_tigervnc_viewer),
		cmocka_unit_test(test_tigervnc_x509plain),
		cmocka_unit_test(test_tigervnc_x509vnc),
		cmocka_unit_test(test_gvncviewer_x509plain),
	};
	signal(SIGPIPE, SIG_IGN);
	return test_exit_status(cmocka_run_group_tests(tests, NULL, NULL));
}
