#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Input test bed: VNC keyboard and mouse reach a real VM through QMP.
# A real QEMU (software emulation) boots Debian's kernel with a busybox
# initramfs, a virtio tablet and a virtio keyboard; guest_evprint prints
# every input event on the serial console. mdev-vncd runs on the simulated
# vGPU with `input = qmp:` to that QEMU's monitor socket, and input_check
# drives it over VNC, step by step, checking the guest's console after each.
# Then the QMP failure cases, with the picture checked to keep coming:
#   closed:  QEMU goes away; the daemon says so once and keeps serving;
#   refused: a new, paused QEMU on the same socket: the daemon reconnects and
#            every input is refused ("VM not running"), logged once;
#   missing: a daemon whose socket never appears logs it once while retrying.
#
# Run alone:  tests/qemu_input/run-input-tests.sh --daemon build/src/mdev-vncd \
#     --sim build/tests/sim/libvgpusim.so --evprint build/tests/qemu_input/guest_evprint \
#     --checker build/tests/qemu_input/input_check --work /tmp/input-bed
# or through ctest:  ctest --test-dir build -L qemu --output-on-failure
# Needs (Debian 12): qemu-system-x86 linux-image-amd64 busybox-static cpio.
# Cost: one guest boot (~10 s on 2 cores) and a few seconds of steps.
# Exit: 0 pass, 1 fail (logs printed), 77 skip (QEMU cannot start).

set -euo pipefail

SRC=$(cd "$(dirname "$0")" && pwd)
. "$SRC/../kernel/initramfs.sh"
WORK=/tmp/input-bed-$UID
DAEMON= SIM= EVPRINT= CHECKER=
UUID=4b20d080-1b54-4048-85b3-a6a62d165c01
WAIT_S=60

while [ $# -gt 0 ]; do
	case "$1" in
	--daemon) DAEMON=$2; shift 2 ;;
	--sim) SIM=$2; shift 2 ;;
	--evprint) EVPRINT=$2; shift 2 ;;
	--checker) CHECKER=$2; shift 2 ;;
	--work) WORK=$2; shift 2 ;;
	*) echo "usage: $0 --daemon PATH --sim PATH --evprint PATH --checker PATH [--work DIR]" >&2
	   exit 2 ;;
	esac
done
for f in "$DAEMON" "$SIM" "$EVPRINT" "$CHECKER"; do
	[ -n "$f" ] && [ -e "$f" ] || { echo "input-bed: missing --daemon/--sim/--evprint/--checker" >&2; exit 2; }
done
mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd)

fail() { echo "input-bed: FAIL: $*"; dump_logs; exit 1; }
need() { command -v "$1" >/dev/null || fail "$1 not found: apt-get install -y $2"; }
need qemu-system-x86_64 qemu-system-x86
need cpio cpio
VMLINUZ=$(ls /boot/vmlinuz-* 2>/dev/null | sort -V | tail -n 1 || true)
[ -n "$VMLINUZ" ] || fail "no /boot/vmlinuz-*: apt-get install -y linux-image-amd64"
KMOD=/lib/modules/${VMLINUZ#/boot/vmlinuz-}
BUSYBOX=$(command -v busybox || true)
[ -n "$BUSYBOX" ] && ! ldd "$BUSYBOX" >/dev/null 2>&1 ||
	fail "no static busybox: apt-get install -y busybox-static"

CONSOLE=$WORK/console.log
QMP=$WORK/qmp.sock
QEMU_PID= DAEMON_PID= DAEMON_LOG=

dump_logs() {
	local f
	for f in "$CONSOLE" "$WORK"/qemu*.err "$WORK"/daemon-*.log; do
		[ -s "$f" ] || continue
		echo "input-bed: ---- $f ----"
		tr -d '\r' <"$f" | tail -n 60
	done
}

stop_pid() { # PID: SIGTERM, then wait; the exit status goes to STATUS (no subshell: it must wait)
	STATUS=0
	kill "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || STATUS=$?
}

cleanup() {
	[ -z "$DAEMON_PID" ] || stop_pid "$DAEMON_PID"
	[ -z "$QEMU_PID" ] || stop_pid "$QEMU_PID"
}
trap cleanup EXIT

# wait_for FILE PATTERN COUNT: until FILE has COUNT lines matching PATTERN.
wait_for() {
	local deadline=$((SECONDS + WAIT_S))
	while [ "$(grep -a -c -- "$2" "$1" 2>/dev/null || true)" -lt "$3" ]; do
		[ $SECONDS -lt $deadline ] || fail "no '$2' (x$3) in $1 within $WAIT_S s"
		sleep 0.1
	done
}

count() { grep -a -c -- "$2" "$1" || true; }

# --- the guest -----------------------------------------------------------------
ROOT=$WORK/root
initramfs_start "$ROOT" "$BUSYBOX" "$SRC/guest-init.sh"
initramfs_add_programs "$ROOT" "$EVPRINT:guest_evprint"
initramfs_add_modules "$ROOT" "$KMOD" input virtio_pci virtio_input evdev
initramfs_pack "$ROOT" "$WORK/initramfs.cpio.gz"

# start_qemu NAME ARGS...: a QEMU with the monitor on $QMP and the virtio input devices.
start_qemu() {
	local name=$1
	shift
	rm -f "$QMP"
	qemu-system-x86_64 -accel tcg -cpu max -m 256 -display none -nodefaults -no-reboot \
		-nic none -qmp "unix:$QMP,server=on,wait=off" \
		-device virtio-tablet-pci -device virtio-keyboard-pci "$@" \
		</dev/null >/dev/null 2>"$WORK/qemu-$name.err" &
	QEMU_PID=$!
	local deadline=$((SECONDS + WAIT_S))
	until [ -S "$QMP" ]; do
		kill -0 "$QEMU_PID" 2>/dev/null || { cat "$WORK/qemu-$name.err"; echo "input-bed: SKIP: QEMU cannot start"; exit 77; }
		[ $SECONDS -lt $deadline ] || fail "QEMU made no monitor socket"
		sleep 0.1
	done
}

# start_daemon NAME INPUT: the daemon on the simulated vGPU, on a free port.
start_daemon() {
	local conf=$WORK/daemon-$1.conf
	DAEMON_LOG=$WORK/daemon-$1.log
	for attempt in 1 2 3 4 5; do
		PORT=$((20000 + RANDOM % 20000))
		printf 'uuid = %s\nlisten = 127.0.0.1:%s\ninput = %s\nlog_level = debug\n' \
			"$UUID" "$PORT" "$2" >"$conf"
		LD_PRELOAD=$SIM "$DAEMON" --foreground --config "$conf" >"$DAEMON_LOG" 2>&1 &
		DAEMON_PID=$!
		local deadline=$((SECONDS + WAIT_S))
		while ! grep -q 'ready: serving' "$DAEMON_LOG"; do
			if ! kill -0 "$DAEMON_PID" 2>/dev/null; then
				wait "$DAEMON_PID" || true
				DAEMON_PID=
				grep -q 'cannot listen' "$DAEMON_LOG" && continue 2
				fail "the daemon exited at start"
			fi
			[ $SECONDS -lt $deadline ] || fail "the daemon was not ready in $WAIT_S s"
			sleep 0.1
		done
		return 0
	done
	fail "no free port found"
}

stop_daemon() {
	stop_pid "$DAEMON_PID"
	DAEMON_PID=
	[ "$STATUS" = 0 ] || fail "the daemon exited with $STATUS on SIGTERM"
}

step() { echo "input-bed: $*"; }

# --- steps: every kind of input reaches the guest, in order -------------------
: >"$CONSOLE"
start_qemu boot -serial "file:$CONSOLE" -kernel "$VMLINUZ" -initrd "$WORK/initramfs.cpio.gz" \
	-append "console=ttyS0 quiet panic=-1"
wait_for "$CONSOLE" 'INPUT-READY' 1
grep -a '^INPUT-' "$CONSOLE" | tr -d '\r' | sed 's/^/    /'
start_daemon main "qmp:$QMP"
wait_for "$DAEMON_LOG" 'connected: VNC input goes to the VM' 1
"$CHECKER" "$PORT" "$CONSOLE" steps 2>"$WORK/checker-steps.err" || fail "input steps"

# --- closed: QEMU exits; the picture keeps coming -------------------------------
stop_pid "$QEMU_PID"
QEMU_PID=
[ "$STATUS" = 0 ] || fail "QEMU exited with $STATUS on SIGTERM"
wait_for "$DAEMON_LOG" 'connection closed by QEMU' 1
"$CHECKER" "$PORT" - picture 2>/dev/null || fail "picture with QEMU gone"
step "closed: $(grep -a -m1 'connection closed by QEMU' "$DAEMON_LOG" | sed 's/.*\] //')"

# --- refused: a paused VM on the same socket; the daemon reconnects --------------
start_qemu paused -S
wait_for "$DAEMON_LOG" 'connected: VNC input goes to the VM' 2
"$CHECKER" "$PORT" - picture 2>/dev/null || fail "picture with a paused VM"
wait_for "$DAEMON_LOG" 'the VM is not running' 1
"$CHECKER" "$PORT" - picture 2>/dev/null || fail "picture with a paused VM, again"
refused=$(count "$DAEMON_LOG" 'the VM is not running')
[ "$refused" = 1 ] || fail "'VM not running' logged $refused times for two rounds of input"
step "refused: two rounds of input refused by the paused VM, logged once"
stop_daemon

# --- missing: the socket never appears ----------------------------------------
start_daemon missing "qmp:$WORK/missing.sock"
wait_for "$DAEMON_LOG" 'QMP .*: connecting' 4
"$CHECKER" "$PORT" - picture 2>/dev/null || fail "picture with no QMP socket"
missing=$(count "$DAEMON_LOG" 'cannot connect')
[ "$missing" = 1 ] || fail "'cannot connect' logged $missing times over $(count "$DAEMON_LOG" 'QMP .*: connecting') attempts"
step "missing: $(count "$DAEMON_LOG" 'QMP .*: connecting') connection attempts, logged once"
stop_daemon

echo "input-bed: PASS"
