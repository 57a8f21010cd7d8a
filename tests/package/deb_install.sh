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
# shellcheck source=tests/package/debian_root.sh
. "$(dirname "$0")/debian_root.sh"

if [ "$(id -u)" != 0 ]; then
	echo "SKIP: needs root (debootstrap, chroot)"
	exit 77
fi
if ! command -v debootstrap >/dev/null 2>&1; then
	echo "SKIP: debootstrap not found (apt-get install debootstrap)"
	exit 77
fi
debian_root_make "$root"

in_root() {
	in_chroot "$root" "$@"
}

deb=$(deb_build "$build" "$build/deb")
echo "built $(basename "$deb"):"
dpkg-deb -f "$deb" Depends

trap 'in_root apt-get purge -y -q --autoremove mdev-vncd >/dev/null 2>&1 || true' EXIT
apt_update "$root"
deb_install "$root" "$deb"

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
hook=/etc/libvirt/hooks/qemu.d/mdev-vncd
if [ ! -x "$root$hook" ] || ! in_root dpkg-query --control-show mdev-vncd conffiles | grep -qx "$hook"; then
	echo "FAIL: the libvirt hook $hook is not installed as an executable conffile"
	exit 1
fi
if ! zcat "$root/usr/share/man/man8/mdev-vncd.8.gz" | grep -q "^\.TH .* \"mdev-vncd $version\""; then
	echo "FAIL: the installed mdev-vncd(8) does not carry version $version in .TH"
	exit 1
fi
if ! in_root getent passwd mdev-vncd >/dev/null; then
	echo "FAIL: the postinst did not create the mdev-vncd user"
	exit 1
fi
echo "installed, runs, user mdev-vncd exists"
