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

# initramfs_add_programs ROOT FILE:NAME...: each FILE as /bin/NAME, with the
# shared libraries and the loader that ldd names, at the same paths.
initramfs_add_programs() {
	local root=$1 spec bin lib
	shift
	for spec in "$@"; do
		bin=${spec%%:*}
		cp "$bin" "$root/bin/${spec#*:}"
		for lib in $(ldd "$bin" 2>/dev/null | grep -o '/[^ ]*' || true); do
			mkdir -p "$root$(dirname "$lib")"
			cp -L "$lib" "$root$lib"
		done
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
