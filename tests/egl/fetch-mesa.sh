#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Fetches Mesa 25 (llvmpipe with EGL_EXT_image_dma_buf_import) from Debian's
# bookworm-backports into DEST, without touching the system's Mesa: a private
# apt sources list, state and cache under DEST, `apt-get download` and
# `dpkg-deb -x`. bookworm's own Mesa 22.3 cannot import dmabufs in llvmpipe.
#
# The EGL tests run with:
#   LD_LIBRARY_PATH=DEST/root/usr/lib/x86_64-linux-gnu
#   __EGL_VENDOR_LIBRARY_FILENAMES=DEST/root/usr/share/glvnd/egl_vendor.d/50_mesa.json
# (libglvnd's libEGL loads Mesa's vendor library through that file).
#
# Usage: fetch-mesa.sh DEST. Cached: a complete DEST is left alone. Exits
# non-zero with the reason when the packages cannot be had (the EGL tests
# then fail: they never skip).
set -eu

dest=${1:?usage: fetch-mesa.sh DEST}
suite=bookworm-backports
mirror=${MESA_MIRROR:-http://deb.debian.org/debian}
# Mesa's EGL vendor library, its gallium drivers (llvmpipe), and the libdrm
# they need (>= 2.4.121); LLVM 15 and the X/Wayland client libraries come
# from bookworm itself.
packages="libegl-mesa0 libgbm1 mesa-libgallium libgl1-mesa-dri libdrm2 libdrm-amdgpu1 libdrm-intel1"
stamp="$dest/complete"

if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$suite $packages" ]; then
	exit 0
fi

arch=$(dpkg --print-architecture)
apt_dir="$dest/apt"
rm -rf "$dest/root" "$dest/debs" "$stamp"
mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" "$dest/debs" "$dest/root"
echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror $suite main" \
	>"$apt_dir/sources.list"

apt_private() {
	apt-get -q -o Dir::Etc::SourceList="$apt_dir/sources.list" \
		-o Dir::Etc::SourceParts=/dev/null \
		-o Dir::State="$apt_dir" -o Dir::State::Lists="$apt_dir/lists" \
		-o Dir::State::status=/var/lib/dpkg/status \
		-o Dir::Cache="$apt_dir/cache" -o APT::Architecture="$arch" \
		-o APT::Sandbox::User=root "$@"
}

if ! apt_private update >"$apt_dir/update.log" 2>&1; then
	echo "fetch-mesa: apt-get update of $mirror $suite failed:" >&2
	cat "$apt_dir/update.log" >&2
	exit 1
fi
if ! (cd "$dest/debs" && apt_private download $packages) >"$apt_dir/download.log" 2>&1; then
	echo "fetch-mesa: downloading $packages from $suite failed:" >&2
	cat "$apt_dir/download.log" >&2
	exit 1
fi
for deb in "$dest"/debs/*.deb; do
	dpkg-deb -x "$deb" "$dest/root"
done
vendor="$dest/root/usr/share/glvnd/egl_vendor.d/50_mesa.json"
if [ ! -f "$vendor" ]; then
	echo "fetch-mesa: $vendor missing after unpacking" >&2
	exit 1
fi
echo "$suite $packages" >"$stamp"
echo "fetch-mesa: Mesa from $suite unpacked in $dest/root"
