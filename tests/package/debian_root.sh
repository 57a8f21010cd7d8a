# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=sh
# Shared by the package tests (sourced, not run): a minimal Debian root made
# once with debootstrap from the mirror apt uses here, commands run inside
# it, and the .deb built from the build tree. Failures to reach the mirror
# exit 77 (cannot run here), with the reason.

debian_suite=bookworm

# The first Debian archive apt is configured with (deb822 or one-line form).
debian_mirror() {
	cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources \
		2>/dev/null | grep -v '^[[:space:]]*#' | grep -o 'https\?://[^ ]*/debian/\?' |
		grep -v security | head -n 1
}

# debootstrap mounts /proc and /sys in the root: never rm -rf through them.
unmount_under() {
	grep -o " $1/[^ ]*" /proc/mounts | sort -r | while read -r m; do umount -l "$m"; done
}

# debian_root_make ROOT: a minbase root at ROOT unless one is there.
debian_root_make() {
	_root=$1
	[ -x "$_root/usr/bin/apt-get" ] && return 0
	_url=$(debian_mirror)
	if [ -z "$_url" ]; then
		echo "SKIP: no Debian mirror in apt's sources"
		exit 77
	fi
	unmount_under "$_root.tmp"
	rm -rf "$_root.tmp"
	mkdir -p "$(dirname "$_root")"
	echo "debootstrap $debian_suite from $_url into $_root (a few minutes, once)"
	if ! debootstrap --variant=minbase "$debian_suite" "$_root.tmp" "$_url" > "$_root.log" 2>&1; then
		tail -n 5 "$_root.log"
		unmount_under "$_root.tmp"
		rm -rf "$_root.tmp"
		echo "SKIP: debootstrap could not fetch $debian_suite from $_url"
		exit 77
	fi
	mv "$_root.tmp" "$_root"
}

# in_chroot ROOT COMMAND...
in_chroot() {
	_root=$1
	shift
	chroot "$_root" env DEBIAN_FRONTEND=noninteractive PATH=/usr/sbin:/usr/bin:/sbin:/bin "$@"
}

# apt_update ROOT: refreshes the package lists, or exits 77 without a mirror.
apt_update() {
	cp /etc/resolv.conf "$1/etc/resolv.conf"
	if ! in_chroot "$1" apt-get update -q > "$1.apt" 2>&1; then
		cat "$1.apt"
		echo "SKIP: apt-get update in $1 cannot reach the mirror"
		exit 77
	fi
}

# deb_build BUILD_DIR OUT_DIR: cpack's .deb of the build tree; prints its path.
deb_build() {
	rm -rf "$2"
	(cd "$1" && cpack -G DEB -B "$2" >/dev/null)
	ls "$2"/mdev-vncd_*.deb
}

# deb_install ROOT DEB: purges any earlier install, then installs DEB with
# apt resolving its dependencies; exits 1 when apt fails.
deb_install() {
	cp "$2" "$1/tmp/mdev-vncd.deb"
	in_chroot "$1" apt-get purge -y -q --autoremove mdev-vncd >/dev/null 2>&1 || true
	if ! in_chroot "$1" apt-get install -y -q /tmp/mdev-vncd.deb > "$1.apt" 2>&1; then
		cat "$1.apt"
		echo "FAIL: apt-get install of the .deb"
		exit 1
	fi
	rm -f "$1/tmp/mdev-vncd.deb"
	grep -E '^(Setting up|Unpacking) ' "$1.apt" | sed 's/^/  /'
}
