// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * VNC side of the input test bed: a libvncclient client of mdev-vncd.
 *
 *   input_check PORT CONSOLE steps    sends keys (plain keysyms and QEMU
 *       extended key events), pointer moves, a drag, wheel steps and other
 *       buttons, one step at a time; after each step it waits until the
 *       guest's serial console (file CONSOLE, written by guest_evprint)
 *       shows exactly that step's evdev events, in order, and nothing else.
 *       Last, it leaves while holding a key and a button: the guest must
 *       see both released.
 *   input_check PORT - picture        the picture keeps coming while input
 *       goes nowhere: a full update, 40 keys and pointer events, then
 *       another full update.
 *
 * Exit 0 when every step passed; otherwise 1 with what the console showed.
 */
#include <errno.h>
#include <linux/input-event-codes.h>
#include <rfb/rfbclient.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define STEP_TIMEOUT_S 30.0
#define QEMU_ABS_MAX 0x7fff
#define MAX_EXPECTED 8

/* RFB button-mask bits. */
#define RFB_LEFT 0x01
#define RFB_MIDDLE 0x02
#define RFB_RIGHT 0x04
#define RFB_WHEEL_UP 0x08
#define RFB_WHEEL_DOWN 0x10

struct bed {
	rfbClient *client;
	FILE *console;
	char pending[4096]; /* a console line not yet ended */
	int last_x, last_y; /* the guest's absolute position as last reported */
	bool full_picture;  /* a rectangle covering the whole screen arrived */
};

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void __attribute__((noreturn, format(printf, 1, 2))) fail(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	printf("input_check: FAIL: ");
	vprintf(fmt, ap);
	printf("\n");
	va_end(ap);
	exit(1);
}

/* libvncclient finds our data by the address of this tag. */
static int bed_tag;

static void got_rect(rfbClient *client, int x, int y, int w, int h)
{
	struct bed *bed = rfbClientGetClientData(client, &bed_tag);
	if (x == 0 && y == 0 && w == client->width && h == client->height)
		bed->full_picture = true;
}

/* Handles what the server sent within ms. */
static void pump(struct bed *bed, int ms)
{
	int n = WaitForMessage(bed->client, (unsigned)ms * 1000);
	if (n < 0 || (n > 0 && !HandleRFBServerMessage(bed->client)))
		fail("the VNC connection broke");
}

static void connect_client(struct bed *bed, int port)
{
	rfbClient *cl = rfbGetClient(8, 3, 4);
	if (!cl)
		fail("out of memory");
	/* rfbGetClient set a default host of its own: ours replaces it. */
	free(cl->serverHost);
	cl->serverHost = strdup("127.0.0.1");
	cl->serverPort = port;
	cl->appData.encodingsString = "raw";
	cl->GotFrameBufferUpdate = got_rect;
	rfbClientSetClientData(cl, &bed_tag, bed);
	if (!rfbInitClient(cl, NULL, NULL))
		fail("cannot connect to 127.0.0.1:%d", port); /* rfbInitClient freed cl */
	bed->client = cl;
}

/* The next whole "EVT ..." line of the console, or NULL when none came yet. */
static const char *next_event_line(struct bed *bed, char *line, size_t size)
{
	for (;;) {
		int c = fgetc(bed->console);
		if (c == EOF) {
			clearerr(bed->console);
			return NULL;
		}
		size_t len = strlen(bed->pending);
		if (c != '\n') {
			if (c != '\r' && len + 1 < sizeof(bed->pending)) {
				bed->pending[len] = (char)c;
				bed->pending[len + 1] = '\0';
			}
			continue;
		}
		bool event = strncmp(bed->pending, "EVT ", 4) == 0;
		snprintf(line, size, "%s", bed->pending);
		bed->pending[0] = '\0';
		if (event)
			return line;
	}
}

/* Waits until the console shows exactly these events next, in this order. */
static void expect(struct bed *bed, const char *step, const char *const *want, int n)
{
	double deadline = now_s() + STEP_TIMEOUT_S;
	char seen[MAX_EXPECTED][64];
	for (int i = 0; i < n;) {
		char line[sizeof(bed->pending)];
		if (next_event_line(bed, line, sizeof(line))) {
			snprintf(seen[i], sizeof(seen[i]), "%.63s", line);
			if (strcmp(line, want[i]) != 0)
				fail("step '%s': event %d is '%s', expected '%s'", step, i + 1, line,
				     want[i]);
			i++;
			continue;
		}
		if (now_s() > deadline)
			fail("step '%s': after %.0f s the guest showed %d of %d events (next "
			     "expected: '%s')", step, STEP_TIMEOUT_S, i, n, want[i]);
		pump(bed, 20);
	}
	printf("input_check: step %-34s ok:", step);
	for (int i = 0; i < n; i++)
		printf(" [%s]", seen[i] + 4);
	printf("\n");
}

#define EXPECT(bed, step, ...) \
	do { \
		const char *const want_[] = { __VA_ARGS__ }; \
		expect(bed, step, want_, (int)(sizeof(want_) / sizeof(want_[0]))); \
	} while (0)

static void key(struct bed *bed, uint32_t keysym, bool down)
{
	if (!SendKeyEvent(bed->client, keysym, down))
		fail("cannot send a key event");
}

static void key_code(struct bed *bed, uint32_t keysym, uint32_t keycode, bool down)
{
	if (!SendExtendedKeyEvent(bed->client, keysym, keycode, down))
		fail("cannot send an extended key event");
}

static void pointer(struct bed *bed, int x, int y, int buttons)
{
	if (!SendPointerEvent(bed->client, x, y, buttons))
		fail("cannot send a pointer event");
}

/* What the guest must see for a pixel on an axis of size pixels; checked to map back to it. */
static int scaled(int pos, int size)
{
	int v = (int)(((long)pos * QEMU_ABS_MAX + (size - 1) / 2) / (size - 1));
	int back = (int)(((long)v * (size - 1) + QEMU_ABS_MAX / 2) / QEMU_ABS_MAX);
	if (back != pos)
		fail("pixel %d of %d scales to %d, which maps back to pixel %d", pos, size, v, back);
	return v;
}

/* Moves to (x, y) and expects the axes that changed (the kernel drops repeats). */
static void move(struct bed *bed, const char *step, int x, int y, int buttons)
{
	int vx = scaled(x, bed->client->width), vy = scaled(y, bed->client->height);
	char ex[64], ey[64];
	const char *want[2];
	int n = 0;
	snprintf(ex, sizeof(ex), "EVT %d %d %d", EV_ABS, ABS_X, vx);
	snprintf(ey, sizeof(ey), "EVT %d %d %d", EV_ABS, ABS_Y, vy);
	if (vx != bed->last_x)
		want[n++] = ex;
	if (vy != bed->last_y)
		want[n++] = ey;
	pointer(bed, x, y, buttons);
	expect(bed, step, want, n);
	bed->last_x = vx;
	bed->last_y = vy;
}

static void wait_extended_keys(struct bed *bed)
{
	double deadline = now_s() + STEP_TIMEOUT_S;
	while (!SupportsClient2Server(bed->client, rfbQemuEvent)) {
		if (now_s() > deadline)
			fail("the server never acknowledged QEMU's extended key event (-258)");
		pump(bed, 20);
	}
	printf("input_check: extended key events acknowledged\n");
}

#define E(type, code, value) "EVT " #type " " #code " " #value

static void keyboard_steps(struct bed *bed)
{
	key(bed, XK_a, true);
	key(bed, XK_a, false);
	EXPECT(bed, "keysym a", E(1, 30, 1), E(1, 30, 0));

	key(bed, XK_Shift_L, true);
	key(bed, XK_B, true);
	key(bed, XK_B, false);
	key(bed, XK_Shift_L, false);
	EXPECT(bed, "keysyms Shift_L B", E(1, 42, 1), E(1, 48, 1), E(1, 48, 0), E(1, 42, 0));

	key(bed, XK_Return, true);
	key(bed, XK_Return, false);
	EXPECT(bed, "keysym Return", E(1, 28, 1), E(1, 28, 0));

	/* The key's number wins over its keysym: an AZERTY 'a' is the key at US 'q' (0x10). */
	key_code(bed, XK_a, 0x10, true);
	key_code(bed, XK_a, 0x10, false);
	EXPECT(bed, "extended key 0x10 (keysym a)", E(1, 16, 1), E(1, 16, 0));

	/* An E0-prefixed key: right Ctrl is E0 1D, number 0x9d. */
	key_code(bed, XK_Control_R, 0x9d, true);
	key_code(bed, XK_Control_R, 0x9d, false);
	EXPECT(bed, "extended key 0x9d (Control_R)", E(1, 97, 1), E(1, 97, 0));
}

static void pointer_steps(struct bed *bed)
{
	int w = bed->client->width, h = bed->client->height;
	move(bed, "pointer to a quarter", w / 4, h / 4, 0);

	pointer(bed, w / 4, h / 4, RFB_LEFT);
	EXPECT(bed, "drag: left down", E(1, 272, 1));
	move(bed, "drag: to the middle", w / 2, h / 2, RFB_LEFT);
	move(bed, "drag: on", 3 * w / 4, h / 3, RFB_LEFT);
	pointer(bed, 3 * w / 4, h / 3, 0);
	EXPECT(bed, "drag: left up", E(1, 272, 0));

	pointer(bed, 3 * w / 4, h / 3, RFB_WHEEL_UP);
	pointer(bed, 3 * w / 4, h / 3, 0);
	EXPECT(bed, "wheel up", E(2, 8, 1));
	pointer(bed, 3 * w / 4, h / 3, RFB_WHEEL_DOWN);
	pointer(bed, 3 * w / 4, h / 3, 0);
	pointer(bed, 3 * w / 4, h / 3, RFB_WHEEL_DOWN);
	pointer(bed, 3 * w / 4, h / 3, 0);
	EXPECT(bed, "wheel down twice", E(2, 8, -1), E(2, 8, -1));

	pointer(bed, 3 * w / 4, h / 3, RFB_RIGHT);
	pointer(bed, 3 * w / 4, h / 3, RFB_RIGHT | RFB_MIDDLE);
	pointer(bed, 3 * w / 4, h / 3, 0);
	/* Both released by one message: in button-mask bit order, middle (1) before right (2). */
	EXPECT(bed, "right, middle", E(1, 273, 1), E(1, 274, 1), E(1, 274, 0), E(1, 273, 0));

	move(bed, "last pixel", w - 1, h - 1, 0);
	move(bed, "first pixel", 0, 0, 0);
}

/* Leaves holding Shift and the left button: the daemon releases both. */
static void leave_holding(struct bed *bed)
{
	key(bed, XK_Shift_L, true);
	pointer(bed, 0, 0, RFB_LEFT);
	EXPECT(bed, "hold Shift_L and left", E(1, 42, 1), E(1, 272, 1));
	rfbClientCleanup(bed->client);
	bed->client = NULL;
	double deadline = now_s() + STEP_TIMEOUT_S;
	char line[sizeof(bed->pending)];
	const char *want[] = { E(1, 42, 0), E(1, 272, 0) };
	for (int i = 0; i < 2;) {
		if (next_event_line(bed, line, sizeof(line))) {
			if (strcmp(line, want[i]) != 0)
				fail("step 'leave': event %d is '%s', expected '%s'", i + 1, line,
				     want[i]);
			i++;
		} else if (now_s() > deadline) {
			fail("step 'leave': the guest did not see '%s'", want[i]);
		} else {
			struct timespec ts = { .tv_nsec = 20 * 1000 * 1000 };
			nanosleep(&ts, NULL);
		}
	}
	printf("input_check: step %-34s ok: [1 42 0] [1 272 0]\n", "leave: released in the guest");
}

/* In order: when the picture asked for after some input arrives, the server has read that input. */
static void full_update(struct bed *bed, const char *when)
{
	bed->full_picture = false;
	if (!SendFramebufferUpdateRequest(bed->client, 0, 0, bed->client->width,
					  bed->client->height, FALSE))
		fail("cannot ask for an update");
	double deadline = now_s() + STEP_TIMEOUT_S;
	while (!bed->full_picture) {
		if (now_s() > deadline)
			fail("no picture %s", when);
		pump(bed, 20);
	}
}

static void picture_steps(struct bed *bed)
{
	full_update(bed, "at first");
	for (int i = 0; i < 10; i++) {
		key(bed, XK_a, true);
		key(bed, XK_a, false);
		pointer(bed, i, i, RFB_LEFT);
		pointer(bed, i, i, 0);
	}
	full_update(bed, "after the input");
	printf("input_check: picture %dx%d served before and after 40 input events\n",
	       bed->client->width, bed->client->height);
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: input_check PORT CONSOLE|- steps|picture\n");
		return 2;
	}
	struct bed bed = { .last_x = 0, .last_y = 0 };
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (strcmp(argv[3], "steps") == 0) {
		bed.console = fopen(argv[2], "r");
		if (!bed.console)
			fail("cannot open %s: %s", argv[2], strerror(errno));
		/* Only what happens from now on counts. */
		fseek(bed.console, 0, SEEK_END);
	}
	connect_client(&bed, atoi(argv[1]));
	if (strcmp(argv[3], "picture") == 0) {
		picture_steps(&bed);
	} else if (bed.console) {
		wait_extended_keys(&bed);
		keyboard_steps(&bed);
		pointer_steps(&bed);
		leave_holding(&bed);
		fclose(bed.console);
	} else {
		fail("unknown mode %s", argv[3]);
	}
	if (bed.client)
		rfbClientCleanup(bed.client);
	printf("input_check: PASS %s\n", argv[3]);
	return 0;
}
