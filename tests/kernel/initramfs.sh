# SPDX-License-Identifier: GPL-2.0-or-later
# Shared by the test beds that boot Debian's kernel under QEMU with a busybox
# initramfs (run-kernel-tests.sh, tests/qemu_input/run-input-tests.sh).
# Source it; every function fails the calling script with a message.

# initramfs_start ROOT BUSYBOX INIT: a fresh tree with busybox and INIT as /init.
initramfs_start() {
	rm -rf "$1"
	mkdir -p "$1"/{bin,dev,proc,sys,tmp}
	cp "$2" "$1/bin/busybox"
	cp "$3" "$1/init"
}

# initramfs_add_needed ROOT FILE [PREFIX DEST]: the shared libraries and the
# loader that ldd names for FILE, each at the same path in ROOT; one found
# under the folder PREFIX goes under DEST instead, where it is below PREFIX.
initramfs_add_needed() {
	local root=$1 file=$2 prefix=${3:-} dest=${4:-} lib to
	for lib in $(ldd "$file" 2>/dev/null | grep -o '/[^ ]*' || true); do
		to=$lib
		[ -z "$prefix" ] || [ "${lib#"$prefix"/}" = "$lib" ] || to=$dest/${lib#"$prefix"/}
		mkdir -p "$root$(dirname "$to")"
		cp -L "$lib" "$root$to"
	done
}

# initramfs_add_programs ROOT FILE:NAME...: each FILE as /bin/NAME, with the
# shared libraries and the loader that ldd names, at the same paths.
initramfs_add_programs() {
	local root=$1 spec
	shift
	for spec in "$@"; do
		cp "${spec%%:*}" "$root/bin/${spec#*:}"
		initramfs_add_needed "$root" "${spec%%:*}"
	done
}

# The glvnd vendor file of Mesa's EGL, below the root fetch-mesa.sh unpacks.
MESA_EGL_VENDOR=usr/share/glvnd/egl_vendor.d/50_mesa.json

# initramfs_add_mesa ROOT MESA DEST: the Mesa that tests/egl/fetch-mesa.sh
# unpacked in MESA (its root/) as ROOT/DEST, laid out as below MESA: Mesa's
# EGL vendor library and glvnd vendor file, the system's libglvnd dispatch
# libraries (libEGL.so.1, libGLESv2.so.2, which mdev-vncd dlopens), and
# every library they need, as ldd finds them with Mesa's first. The guest
# runs the daemon with LD_LIBRARY_PATH=DEST/usr/lib/<multiarch> and
# __EGL_VENDOR_LIBRARY_FILENAMES=DEST/$MESA_EGL_VENDOR, as the EGL tests do.
initramfs_add_mesa() {
	local root=$1 mesa=$2 dest=$3 libdir lib
	[ -f "$mesa/$MESA_EGL_VENDOR" ] || { echo "initramfs: no $MESA_EGL_VENDOR in $mesa" >&2; exit 1; }
	libdir=$(cd "$mesa" && echo usr/lib/*-linux-gnu)
	mkdir -p "$root$dest/${MESA_EGL_VENDOR%/*}" "$root$dest/$libdir" "$root/$libdir"
	cp "$mesa/$MESA_EGL_VENDOR" "$root$dest/$MESA_EGL_VENDOR"
	cp -L "$mesa/$libdir/libEGL_mesa.so.0" "$root$dest/$libdir/"
	for lib in libEGL.so.1 libGLESv2.so.2; do
		[ -e "/$libdir/$lib" ] || { echo "initramfs: no /$libdir/$lib (libglvnd)" >&2; exit 1; }
		cp -L "/$libdir/$lib" "$root/$libdir/"
	done
	for lib in "$mesa/$libdir/libEGL_mesa.so.0" "/$libdir/libEGL.so.1" "/$libdir/libGLESv2.so.2"; do
		LD_LIBRARY_PATH=$mesa/$libdir initramfs_add_needed "$root" "$lib" "$mesa" "$dest"
	done
}

# initramfs_add_files ROOT FILE...: each FILE at its own path (symlinks
# followed), with the shared libraries and the loader that ldd names.
initramfs_add_files() {
	local root=$1 file lib
	shift
	for file in "$@"; do
		mkdir -p "$root$(dirname "$file")"
		cp -L "$file" "$root$file"
		for lib in $(ldd "$file" 2>/dev/null | grep -o '/[^ ]*' || true); do
			mkdir -p "$root$(dirname "$lib")"
			cp -L "$lib" "$root$lib"
		done
	done
}

# The files of modules "$@" and of their dependencies, in load order.
initramfs_module_paths() {
	local kmod=$1 m line
	shift
	for m in "$@"; do
		line=$(grep -E "/$m\\.ko(\\.xz|\\.zst)?:" "$kmod/modules.dep") ||
			{ echo "initramfs: $m not in $kmod/modules.dep" >&2; exit 1; }
		# modules.dep lists dependencies nearest first: load them reversed
		echo "${line#*:}" | tr ' ' '\n' | grep . | tac
		echo "${line%%:*}"
	done | awk '!seen[$0]++'
}

# initramfs_add_modules ROOT KMOD DIR MODULE...: the modules and their
# dependencies, decompressed, in ROOT/lib/modules/DIR, with the file "order"
# there naming them in load order (the guest's init insmods them so).
initramfs_add_modules() {
	local root=$1 kmod=$2 dest=$1/lib/modules/$3 path name paths
	shift 3
	mkdir -p "$dest"
	: >"$dest/order"
	paths=$(initramfs_module_paths "$kmod" "$@") || exit 1
	for path in $paths; do
		name=$(basename "$path")
		case "$name" in
		*.xz) xz -dc "$kmod/$path" >"$dest/${name%.xz}"; name=${name%.xz} ;;
		*.zst) zstd -qdc "$kmod/$path" >"$dest/${name%.zst}"; name=${name%.zst} ;;
		*) cp "$kmod/$path" "$dest/" ;;
		esac
		echo "$name" >>"$dest/order"
	done
}

# initramfs_pack ROOT OUT: a gzip-compressed newc archive of ROOT.
initramfs_pack() {
	(cd "$1" && find . | cpio -o -H newc --quiet | gzip -1) >"$2"
}
