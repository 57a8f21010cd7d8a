#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Kernel test bed: runs mdev-vncd against the REAL kernel samples mbochs
# (stock and with tests/kernel/mbochs-fixes.patch) and mdpy inside a QEMU
# guest (software emulation, no KVM needed), and checks over VNC that every
# picture the guest draws arrives exactly. On both mbochs builds the guest
# also cycles through 20 modes three times (more than any dmabuf cache) and
# the guest's kernel log must stay clean: no splat, and no mbochs dmabuf id
# fetched again after its fd was closed (stock mbochs then puts its pages twice).
# The qemu case runs a real qemu-system-x86_64 -S in the guest, holding the
# fixed mbochs, and attaches beside it (kbed_attach.h).
#
# Run alone (as root is not needed; Debian 12 packages):
#   apt-get install -y qemu-system-x86 linux-image-amd64 linux-headers-amd64 \
#       linux-source busybox-static cpio xz-utils zstd gcc make libvncserver-dev
#   tests/egl/fetch-mesa.sh build/mesa-backports
#   tests/kernel/run-kernel-tests.sh --daemon build/src/mdev-vncd --mesa build/mesa-backports
# or through ctest:  ctest --test-dir build -L kernel --output-on-failure
#
# Cost: about 1.5 GB of disk for the packages (mostly linux-source and the
# headers), under 10 MB in the work dir; the first run extracts and builds
# the sample modules (~20 s, cached by input hash afterwards); then four
# guest boots of ~10 s each plus the steps (the mode cycle: ~4 s per mbochs
# case), 1-3 minutes in all on 2 cores; the qemu case's boot carries QEMU
# (18 MB more), ~35-45 s; and the egl case: the Mesa archive
# (~7 s to build, cached), a boot that unpacks it, and llvmpipe compiling its
# shaders under TCG (~10-25 s for the first frame): 1-2 minutes more.
#
# The egl case (issue 11) serves fixed mbochs through import = egl, mdpy and
# stock mbochs through import = auto, on llvmpipe from the Mesa that
# tests/egl/fetch-mesa.sh unpacks (--mesa: its DEST; ctest runs the
# egl.fetch_mesa fixture first). That Mesa with its libraries (217 MB, most
# of it libLLVM; 70 MB as zstd) goes into an archive of its own, appended to
# the egl case's initramfs only; without it the egl case fails, never skips.
#
# Options: --daemon PATH (required), --driver PATH, --checker PATH (built
# from tests/kernel with cc when not given), --work DIR (default
# /tmp/kbed-$UID), --case NAME (repeatable: stock, fixed, mdpy, qemu, egl; default
# all), --mesa DIR (fetch-mesa.sh's DEST; the egl case needs it).
# Exit: 0 pass, 1 fail (the guest's console is printed), 77 skip (QEMU cannot
# start or a package is missing; the reason is printed).

set -euo pipefail

SRC=$(cd "$(dirname "$0")" && pwd)
. "$SRC/initramfs.sh"
WORK=/tmp/kbed-$UID
DAEMON= DRIVER= CHECKER= MESA=
CASES=()

while [ $# -gt 0 ]; do
	case "$1" in
	--daemon) DAEMON=$2; shift 2 ;;
	--driver) DRIVER=$2; shift 2 ;;
	--checker) CHECKER=$2; shift 2 ;;
	--work) WORK=$2; shift 2 ;;
	--case) CASES+=("$2"); shift 2 ;;
	--mesa) MESA=$2; shift 2 ;;
	*) echo "usage: $0 --daemon PATH [--driver PATH] [--checker PATH] [--work DIR]" \
		"[--mesa DIR] [--case NAME]..." >&2
	   exit 2 ;;
	esac
done
[ ${#CASES[@]} -gt 0 ] || CASES=(stock fixed mdpy qemu egl)
[ -n "$DAEMON" ] || { echo "kbed: --daemon is required" >&2; exit 2; }
mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd) # kbuild needs an absolute M=

skip() { echo "kbed: SKIP: $*"; exit 77; }
phase_start() { PHASE=$1; T0=$(date +%s.%N); }
phase_end() {
	awk -v p="$PHASE" -v t0="$T0" -v t1="$(date +%s.%N)" -v note="${1:-}" \
		'BEGIN { printf "kbed: phase %-22s %6.1f s %s\n", p, t1 - t0, note }'
}

# --- prerequisites: a missing package is a skip that names it ---------------
phase_start prerequisites
need() { command -v "$1" >/dev/null || skip "$1 not found: apt-get install -y $2"; }
need qemu-system-x86_64 qemu-system-x86
need cpio cpio
need xz xz-utils
[[ " ${CASES[*]} " != *" egl "* ]] || need zstd zstd
need make make
need cc gcc
VMLINUZ=$(ls /boot/vmlinuz-* 2>/dev/null | sort -V | tail -n 1 || true)
[ -n "$VMLINUZ" ] || skip "no /boot/vmlinuz-*: apt-get install -y linux-image-amd64"
KVER=${VMLINUZ#/boot/vmlinuz-}
KMOD=/lib/modules/$KVER
[ -e "$KMOD/build/Makefile" ] || skip "no headers for $KVER: apt-get install -y linux-headers-amd64"
TARBALL=$(ls /usr/src/linux-source-*.tar.xz 2>/dev/null | sort -V | tail -n 1 || true)
[ -n "$TARBALL" ] || skip "no /usr/src/linux-source-*.tar.xz: apt-get install -y linux-source"
BUSYBOX=$(command -v busybox || true)
[ -n "$BUSYBOX" ] && ! ldd "$BUSYBOX" >/dev/null 2>&1 ||
	skip "no static busybox: apt-get install -y busybox-static"
[ -x "$DAEMON" ] || { echo "kbed: FAIL: daemon $DAEMON is not an executable" >&2; exit 1; }
if [[ " ${CASES[*]} " == *" egl "* ]] &&
	! { [ -f "$MESA/complete" ] && [ -f "$MESA/root/$MESA_EGL_VENDOR" ]; }; then
	echo "kbed: FAIL: the egl case needs the backports Mesa: --mesa DIR after" \
		"tests/egl/fetch-mesa.sh DIR (no complete ${MESA:-DIR}/root/$MESA_EGL_VENDOR)" >&2
	exit 1
fi
phase_end "kernel $KVER, $(basename "$TARBALL")"

# --- the sample modules, cached by their inputs -----------------------------
phase_start modules
KEY=$(printf '%s\n' "$KVER" "$(stat -c '%s %Y' "$TARBALL" "$KMOD/build/Makefile")" \
	"$(cat "$SRC/mbochs-fixes.patch")" | sha256sum | cut -c1-16)
MODDIR=$WORK/modules-$KEY
if [ -e "$MODDIR/done" ]; then
	phase_end "(cached: $MODDIR)"
else
	rm -rf "$WORK"/modules-*
	mkdir -p "$MODDIR/src" "$MODDIR/stock" "$MODDIR/fixed"
	tar -xJf "$TARBALL" -C "$MODDIR/src" --strip-components=3 --wildcards \
		'*/samples/vfio-mdev/mbochs.c' '*/samples/vfio-mdev/mdpy.c' \
		'*/samples/vfio-mdev/mdpy-defs.h'
	cp "$MODDIR"/src/* "$MODDIR/stock/"
	cp "$MODDIR/src/mbochs.c" "$MODDIR/fixed/"
	patch -s -p1 -d "$MODDIR/fixed" <"$SRC/mbochs-fixes.patch"
	echo 'obj-m := mbochs.o mdpy.o' >"$MODDIR/stock/Kbuild"
	echo 'obj-m := mbochs.o' >"$MODDIR/fixed/Kbuild"
	for v in stock fixed; do
		make -s -C "$KMOD/build" M="$MODDIR/$v" modules >"$MODDIR/$v/build.log" 2>&1 ||
			{ cat "$MODDIR/$v/build.log"; echo "kbed: FAIL: $v module build"; exit 1; }
	done
	touch "$MODDIR/done"
	phase_end "(built for $KVER)"
fi

# --- the guest programs ------------------------------------------------------
phase_start programs
CFLAGS="-O2 -std=gnu11 -Wall -Wextra -D_GNU_SOURCE"
if [ -z "$DRIVER" ]; then
	DRIVER=$WORK/guest_driver
	cc $CFLAGS -static -o "$DRIVER" "$SRC/guest_driver.c" "$SRC/kbed_attach.c" \
		"$SRC/kbed_children.c" "$SRC/kbed_common.c" "$SRC/kbed_egl.c" "$SRC/kbed_klog.c"
fi
if [ -z "$CHECKER" ]; then
	CHECKER=$WORK/vnc_check
	cc $CFLAGS -o "$CHECKER" "$SRC/vnc_check.c" -lvncclient
fi
phase_end

# --- initramfs ---------------------------------------------------------------
phase_start initramfs
ROOT=$WORK/root
initramfs_start "$ROOT" "$BUSYBOX" "$SRC/guest-init.sh"
initramfs_add_programs "$ROOT" "$DAEMON:mdev-vncd" "$DRIVER:guest_driver" "$CHECKER:vnc_check"
initramfs_add_modules "$ROOT" "$KMOD" kbed vfio vfio_iommu_type1 mdev
mkdir -p "$ROOT/lib/modules/kbed/stock" "$ROOT/lib/modules/kbed/fixed"
cp "$MODDIR"/stock/*.ko "$ROOT/lib/modules/kbed/stock/"
cp "$MODDIR"/fixed/*.ko "$ROOT/lib/modules/kbed/fixed/"
initramfs_pack "$ROOT" "$WORK/initramfs.cpio.gz"
phase_end "($(du -h "$WORK/initramfs.cpio.gz" | cut -f1))"

# --- the qemu case: QEMU itself in the guest, as a second archive -----------
# The kernel unpacks concatenated archives in turn: only that case's boot
# carries QEMU, its libraries, its TCG module and the firmware it loads
# with -nodefaults (the BIOS from its firmware path, and kvmvapic.bin, which it
# reads even without KVM).
if [[ " ${CASES[*]} " == *" qemu "* ]]; then
	phase_start "qemu archive"
	QROOT=$WORK/qemu-root
	QEMU_BIN=$(command -v qemu-system-x86_64)
	TCG_MODULE=$(ls /usr/lib/*/qemu/accel-tcg-x86_64.so 2>/dev/null | head -n 1 || true)
	[ -n "$TCG_MODULE" ] || skip "no accel-tcg-x86_64.so: apt-get install -y qemu-system-x86"
	rm -rf "$QROOT"
	initramfs_add_files "$QROOT" "$QEMU_BIN" "$TCG_MODULE" \
		/usr/share/seabios/bios-256k.bin /usr/share/qemu/kvmvapic.bin
	initramfs_pack "$QROOT" "$WORK/qemu.cpio.gz"
	cat "$WORK/initramfs.cpio.gz" "$WORK/qemu.cpio.gz" >"$WORK/initramfs-qemu.cpio.gz"
	phase_end "($(du -h "$WORK/qemu.cpio.gz" | cut -f1) more)"
fi

# --- the backports Mesa, for the egl case only --------------------------------
# An archive of its own, cached by what goes into it, appended to the egl
# case's initramfs (the kernel unpacks concatenated archives in turn).
# zstd: the guest unpacks it several times faster than gzip under TCG.
if [[ " ${CASES[*]} " == *" egl "* ]]; then
	phase_start "initramfs egl"
	MESA=$(cd "$MESA" && pwd)
	MESA_LIBS=$(cd "$MESA/root" && echo usr/lib/*-linux-gnu)
	MESA_KEY=$(for lib in "$MESA/root/$MESA_LIBS/libEGL_mesa.so.0" /$MESA_LIBS/libEGL.so.1 \
			/$MESA_LIBS/libGLESv2.so.2; do
			LD_LIBRARY_PATH=$MESA/root/$MESA_LIBS ldd "$lib" | grep -o '/[^ ]*' |
				xargs stat -L -c '%n %s %Y'
		done | cat - "$MESA/complete" "$SRC/initramfs.sh" | sha256sum | cut -c1-16)
	MESA_ARCHIVE=$WORK/mesa-$MESA_KEY.cpio.zst
	if [ -e "$MESA_ARCHIVE" ]; then
		note="(cached)"
	else
		rm -rf "$WORK"/mesa-* "$WORK/mesa-root"
		initramfs_add_mesa "$WORK/mesa-root" "$MESA/root" /opt/mesa
		(cd "$WORK/mesa-root" && find . | cpio -o -H newc --quiet | zstd -q -T0 -3) \
			>"$MESA_ARCHIVE.tmp"
		mv "$MESA_ARCHIVE.tmp" "$MESA_ARCHIVE"
		note="(built: $(du -sh "$WORK/mesa-root" | cut -f1) unpacked)"
		rm -rf "$WORK/mesa-root"
	fi
	cat "$WORK/initramfs.cpio.gz" "$MESA_ARCHIVE" >"$WORK/initramfs-egl.cpio"
	phase_end "$note, $(du -h "$MESA_ARCHIVE" | cut -f1) appended"
fi

# --- one guest boot per case -------------------------------------------------
failed=()
for c in "${CASES[@]}"; do
	phase_start "guest $c"
	log=$WORK/console-$c.log
	initrd=$WORK/initramfs.cpio.gz
	[ "$c" != qemu ] || initrd=$WORK/initramfs-qemu.cpio.gz
	[ "$c" != egl ] || initrd=$WORK/initramfs-egl.cpio
	rc=0
	timeout 600 qemu-system-x86_64 -accel tcg -cpu max -smp 2 -m 1024 -nographic \
		-no-reboot -nic none -kernel "$VMLINUZ" -initrd "$initrd" \
		-append "console=ttyS0 quiet panic=-1 kbed.case=$c" \
		</dev/null >"$log" 2>"$WORK/qemu-$c.err" || rc=$?
	if ! grep -q 'KBED: init' "$log"; then
		if [ $rc -ne 0 ] && [ $rc -ne 124 ] && ! grep -q 'SeaBIOS' "$log"; then
			cat "$WORK/qemu-$c.err"
			skip "QEMU cannot start (exit $rc)"
		fi
	fi
	verdict=$(grep -a 'KBED-RESULT:' "$log" | tail -n 1 | tr -d '\r' || true)
	if [[ "$verdict" == "KBED-RESULT: PASS $c" ]]; then
		phase_end "PASS"
		grep -a '^KBED: step' "$log" | tr -d '\r' | sed 's/^/    /'
	else
		phase_end "FAIL ${verdict:-no verdict, qemu exit $rc}"
		echo "kbed: ---- console of guest $c ($log) ----"
		tr -d '\r' <"$log"
		echo "kbed: ---- end of console ----"
		failed+=("$c")
	fi
done

if [ ${#failed[@]} -gt 0 ]; then
	echo "kbed: FAILED: ${failed[*]}"
	exit 1
fi
echo "kbed: all cases passed: ${CASES[*]}"
