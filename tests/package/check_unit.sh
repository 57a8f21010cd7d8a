#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# systemd-analyze verify on the unit (any complaint fails), then its security
# exposure, which must stay at or below 2.5. Exit 77: cannot run here.
# Usage: check_unit.sh UNIT_FILE DAEMON_BINARY MAN_DIR
set -eu
unit=$1 binary=$2 mansrc=$3

if ! command -v systemd-analyze >/dev/null 2>&1; then
	echo "SKIP: systemd-analyze not found (apt-get install systemd)"
	exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# verify checks that ExecStart and the Documentation= man pages exist:
# point them at this build instead of an installed system.
mkdir -p "$tmp/man/man8" "$tmp/man/man5"
cp "$mansrc/mdev-vncd.8" "$tmp/man/man8/"
cp "$mansrc/mdev-vncd.conf.5" "$tmp/man/man5/"
sed "s|/usr/bin/mdev-vncd|$binary|" "$unit" > "$tmp/mdev-vncd@.service"

if ! MANPATH="$tmp/man" systemd-analyze verify "$tmp/mdev-vncd@.service" > "$tmp/verify" 2>&1; then
	if grep -q "Failed to initialize manager\|Operation not permitted" "$tmp/verify"; then
		cat "$tmp/verify"
		echo "SKIP: systemd-analyze verify cannot run in this environment"
		exit 77
	fi
	cat "$tmp/verify"
	echo "FAIL: systemd-analyze verify"
	exit 1
fi
# It warns about unknown keys and bad values without failing: any line fails.
if [ -s "$tmp/verify" ]; then
	cat "$tmp/verify"
	echo "FAIL: systemd-analyze verify complained"
	exit 1
fi
echo "systemd-analyze verify: clean"

# The documented command: systemd-analyze security --offline=true UNIT.
# --threshold counts tenths: 25 means an exposure of 2.5.
if ! systemd-analyze security --offline=true "$tmp/mdev-vncd@.service" > "$tmp/security" 2>&1; then
	cat "$tmp/security"
	echo "SKIP: this systemd-analyze cannot review a unit offline (needs systemd >= 250)"
	exit 77
fi
grep "Overall exposure level" "$tmp/security"
if ! systemd-analyze security --offline=true --threshold=25 "$tmp/mdev-vncd@.service" >/dev/null 2>&1; then
	echo "FAIL: exposure above 2.5; what counts:"
	grep "✗" "$tmp/security" || true
	exit 1
fi
echo "exposure at most 2.5"
