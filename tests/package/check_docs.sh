#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# The documentation says what the program does: every option of main.c's
# table is in --help, the README and mdev-vncd(8); --help shows the defaults;
# refresh_hz has one description; a file without a device is named in the
# error with both the keys and the flags; --device-socket sets device_socket;
# the built man pages carry the project version.
# Usage: check_docs.sh DAEMON_BINARY SOURCE_DIR BUILT_MAN_DIR VERSION
set -eu
binary=$1 src=$2 built=$3 version=$4
failed=0

fail() {
	echo "FAIL: $*"
	failed=1
}

docs=$(mktemp -d)
trap 'rm -rf "$docs"' EXIT
"$binary" --help > "$docs/help"
cp "$src/README.md" "$docs/README"
cp "$src/conf/mdev-vncd.conf.example" "$docs/example"
# The man page sources with plain dashes and no font changes.
sed 's/\\-/-/g; s/\\f[BIRP]//g' "$src/packaging/man/mdev-vncd.8" > "$docs/mdev-vncd.8"
sed 's/\\-/-/g; s/\\f[BIRP]//g' "$src/packaging/man/mdev-vncd.conf.5" > "$docs/mdev-vncd.conf.5"

# has DOC TEXT: DOC contains TEXT, lines joined, comment marks and runs of
# blanks squeezed (so wrapping does not matter).
has() {
	tr '\n#' '  ' < "$docs/$1" | tr -s ' ' | grep -qF -- "$2"
}

# The long options and the getopt string, read from main.c itself.
options=$(sed -n '/struct option options\[\]/,/{ 0 }/p' "$src/src/main.c" |
	sed -n 's/^[[:space:]]*{ "\([a-z-]*\)".*/\1/p')
shorts=$(sed -n 's/.*getopt_long(argc, argv, "\([^"]*\)".*/\1/p' "$src/src/main.c" | tr -d :)
[ "$(echo "$options" | wc -w)" -ge 14 ] || fail "read only these options from main.c: $options"
[ -n "$shorts" ] || fail "no getopt string found in main.c"
for opt in $options; do
	for doc in help README mdev-vncd.8; do
		grep -q -- "--$opt\b" "$docs/$doc" || fail "--$opt is not in $doc"
	done
done
for letter in $(echo "$shorts" | sed 's/./& /g'); do
	has help "-$letter, --" || fail "-$letter is not in --help"
	has README "\`-$letter\`" || fail "-$letter is not in the README"
	has mdev-vncd.8 "-$letter \", \"" || fail "-$letter is not in mdev-vncd(8)"
done

# --help shows the defaults.
for want in "127.0.0.1" "[::1]" "5900 + display" "default 60"; do
	has help "$want" || fail "--help does not show '$want'"
done

# One description of refresh_hz: polled N times without the IRQ, on each
# event at most 2N times with it.
for doc in help README mdev-vncd.8; do
	has $doc "at most 2N times a second, plus once a second" ||
		fail "$doc does not describe refresh_hz as the others do"
done
for doc in mdev-vncd.conf.5 example; do
	has $doc "at most twice a period, plus once a second" ||
		fail "$doc does not describe refresh_hz as the others do"
done

# The reference example names no device: the error names the file and both
# ways to give one, and exits 6 (not configured).
status=0
err=$("$binary" --check-config "$src/conf/mdev-vncd.conf.example" 2>&1 >/dev/null) || status=$?
[ "$status" = 6 ] || fail "--check-config of the example without a device exited $status, not 6"
for want in "$src/conf/mdev-vncd.conf.example: no device given" "uuid, device_fd, device_socket" \
	"--uuid, --device-fd, --device-socket"; do
	printf '%s\n' "$err" | grep -qF -- "$want" || fail "no '$want' in: $err"
done
has README "--check-config conf/mdev-vncd.conf.example --uuid" ||
	fail "the README does not say how to check the reference example"

# --device-socket is the flag of device_socket.
out=$("$binary" --check-config "$src/conf/mdev-vncd.conf.example" --device-socket /run/vmm.sock) ||
	fail "--check-config with --device-socket failed"
printf '%s\n' "$out" | grep -qx "device_socket = /run/vmm.sock" ||
	fail "--device-socket did not set device_socket: $out"

# From a source tree: the README says how to read the man pages.
has README "man -l packaging/man/mdev-vncd.8" ||
	fail "the README does not say how to read the man pages from the source tree"

# .TH carries the version, written by the build, never by hand.
for page in mdev-vncd.8 mdev-vncd.conf.5; do
	grep -q '^\.TH [^ ]* [0-9] "" "mdev-vncd" ' "$src/packaging/man/$page" ||
		fail "packaging/man/$page: .TH should leave date and version to the build"
	grep -q "^\.TH [^ ]* [0-9] \"[0-9-]*\" \"mdev-vncd $version\" " "$built/$page" ||
		fail "$built/$page: .TH does not carry version $version"
done

[ $failed = 0 ] || exit 1
echo "docs agree with the program: options, defaults, refresh_hz, errors, man page versions"
