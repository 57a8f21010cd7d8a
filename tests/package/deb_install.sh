#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Builds the .deb, installs it into a minimal Debian 12 root with apt
# resolving its dependencies, and runs `mdev-vncd --version` there.
# The root is made once with debootstrap from the mirror apt uses here and
# kept in the build tree; each run purges the package again afterwards.
# Exit 77: no debootstrap, or the mirror cannot be reached.
# Usage: deb_install.sh BUILD_DIR ROOT_DIR VERSION
set -eu
build=$1 root=$2 version=$3
suite=bookworm

if [ "$(id -u)" != 0 ]; then
	echo "SKIP: needs root (debootstrap, chroot)"
	exit 77
fi
if ! command -v debootstrap >/dev/null 2>&1; then
	echo "SKIP: debootstrap not found (apt-get install debootstrap)"
	exit 77
fi

# The first Debian archive apt is configured with (deb822 or one-line form).
mirror() {
	cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources \
		2>/dev/null | grep -v '^[[:space:]]*#' | grep -o 'https\?://[^ ]*/debian/\?' |
		grep -v security | head -n 1
}

# debootstrap mounts /proc and /sys in the root: never rm -rf through them.
unmount_all() {
	grep -o " $1/[^ ]*" /proc/mounts | sort -r | while read -r m; do umount -l "$m"; done
}

make_root() {
	url=$(mirror)
	if [ -z "$url" ]; then
		echo "SKIP: no Debian mirror in apt's sources"
		exit 77
	fi
	unmount_all "$root.tmp"
	rm -rf "$root.tmp"
	mkdir -p "$(dirname "$root")"
	echo "debootstrap $suite from $url into $root (a few minutes, once)"
	if ! debootstrap --variant=minbase "$suite" "$root.tmp" "$url" > "$root.log" 2>&1; then
		tail -n 5 "$root.log"
		unmount_all "$root.tmp"
		rm -rf "$root.tmp"
		echo "SKIP: debootstrap could not fetch $suite from $url"
		exit 77
	fi
	mv "$root.tmp" "$root"
}

[ -x "$root/usr/bin/apt-get" ] || make_root

in_root() {
	chroot "$root" env DEBIAN_FRONTEND=noninteractive PATH=/usr/sbin:/usr/bin:/sbin:/bin "$@"
}

rm -rf "$build/deb"
(cd "$build" && cpack -G DEB -B "$build/deb" >/dev/null)
deb=$(ls "$build"/deb/mdev-vncd_*.deb)
echo "built $(basename "$deb"):"
dpkg-deb -f "$deb" Depends

cp /etc/resolv.conf "$root/etc/resolv.conf"
cp "$deb" "$root/tmp/mdev-vncd.deb"
trap 'in_root apt-get purge -y -q --autoremove mdev-vncd >/dev/null 2>&1 || true; rm -f "$root/tmp/mdev-vncd.deb"' EXIT
in_root apt-get purge -y -q --autoremove mdev-vncd >/dev/null 2>&1 || true
if ! in_root apt-get update -q > "$root.apt" 2>&1; then
	cat "$root.apt"
	echo "SKIP: apt-get update in the root cannot reach the mirror"
	exit 77
fi
if ! in_root apt-get install -y -q /tmp/mdev-vncd.deb > "$root.apt" 2>&1; then
	cat "$root.apt"
	echo "FAIL: apt-get install of the .deb"
	exit 1
fi
grep -E '^(Setting up|Unpacking) ' "$root.apt" | sed 's/^/  /'

out=$(in_root mdev-vncd --version)
echo "in the root: $out"
if [ "$out" != "mdev-vncd $version" ]; then
	echo "FAIL: expected 'mdev-vncd $version'"
	exit 1
fi
for f in /usr/lib/systemd/system/mdev-vncd@.service /usr/lib/sysusers.d/mdev-vncd.conf \
	/usr/share/man/man8/mdev-vncd.8.gz /usr/share/man/man5/mdev-vncd.conf.5.gz; do
	if [ ! -f "$root$f" ]; then
		echo "FAIL: $f not installed"
		exit 1
	fi
done
if ! in_root getent passwd mdev-vncd >/dev/null; then
	echo "FAIL: the postinst did not create the mdev-vncd user"
	exit 1
fi
echo "installed, runs, user mdev-vncd exists"
