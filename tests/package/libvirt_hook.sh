#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# The libvirt hook as libvirtd runs it: the VM's name and the operation as
# arguments, the domain XML on stdin, against a systemctl and a logger on
# PATH that record what they were asked. The XML is the README's libvirt
# example, first validated with libvirt's own schema (virt-xml-validate).
# Every call must exit 0 and print nothing (libvirt reads a hook's stdout on
# migrate and restore).
# Usage: libvirt_hook.sh HOOK README
set -eu
hook=$1 readme=$2

if ! command -v virt-xml-validate >/dev/null 2>&1; then
	echo "FAIL: virt-xml-validate not found (apt-get install libvirt-clients, see packaging/test-deps.txt)"
	exit 1
fi
tmp=$(mktemp -d /tmp/libvirt-hook-test.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

fail() {
	echo "FAIL: $*"
	exit 1
}

# The first ```xml block of the README's "libvirt, end to end" section.
awk '/^### libvirt, end to end/ { section = 1 }
     section && /^ *```xml/ { block = 1; next }
     block && /^ *```/ { exit }
     block { sub(/^   /, ""); print }' "$readme" > "$tmp/vm1.xml"
[ -s "$tmp/vm1.xml" ] || fail "no xml example in the README's libvirt section"
virt-xml-validate "$tmp/vm1.xml" domain || fail "the README's domain XML is not valid"

mkdir "$tmp/bin" "$tmp/conf"
cat > "$tmp/bin/systemctl" <<EOF
#!/bin/sh
echo "\$*" >> "$tmp/systemctl.calls"
[ ! -e "$tmp/systemctl.fails" ] || { echo "Failed to start: unit masked" >&2; exit 1; }
EOF
cat > "$tmp/bin/logger" <<EOF
#!/bin/sh
echo "\$*" >> "$tmp/logger.lines"
EOF
chmod +x "$tmp/bin/systemctl" "$tmp/bin/logger"

# The same domain without its hostdev, and with its UUID in capitals.
sed '/<hostdev/,/<\/hostdev>/d' "$tmp/vm1.xml" > "$tmp/no-mdev.xml"
grep -q "type='mdev'" "$tmp/no-mdev.xml" && fail "could not remove the hostdev"
uuid=4b20d080-1b54-4048-85b3-a6a62d165c01
sed "s/$uuid/$(echo $uuid | tr 'a-f' 'A-F')/" "$tmp/vm1.xml" > "$tmp/upper.xml"
grep -q 4B20D080 "$tmp/upper.xml" || fail "could not write the UUID in capitals"
printf 'uuid = %s\nqemu_pidfile = /run/libvirt/qemu/vm1.pid\n' "$uuid" > "$tmp/conf/vm1.conf"
printf 'uuid = 11111111-2222-3333-4444-555555555555\n' > "$tmp/conf/other.conf"
printf 'device_socket = /run/vmm/vm.sock\n' > "$tmp/conf/by-socket.conf"
printf 'uuid = %s\n' "$uuid" > "$tmp/conf/my vm.conf"

# run XML VM OPERATION SUB-OPERATION: the hook as libvirtd calls it; exit 0 and no stdout.
run() {
	xml=$1
	shift
	rm -f "$tmp/systemctl.calls" "$tmp/logger.lines"
	touch "$tmp/systemctl.calls" "$tmp/logger.lines"
	out=$(env -i PATH="$tmp/bin:/usr/bin:/bin" MDEV_VNCD_CONF_DIR="$tmp/conf" \
		"$hook" "$@" - < "$xml") || fail "hook $* exited $?"
	[ -z "$out" ] || fail "hook $* printed on stdout: $out"
}

# asked "SYSTEMCTL ARGS" or asked "": exactly that call, or none.
asked() {
	calls=$(cat "$tmp/systemctl.calls")
	[ "$calls" = "$1" ] || fail "expected systemctl '$1', got '$calls'"
}

logged() {
	grep -q -- "$1" "$tmp/logger.lines" || fail "no log line with '$1' in: $(cat "$tmp/logger.lines")"
}

quiet() {
	[ ! -s "$tmp/logger.lines" ] || fail "unexpected log: $(cat "$tmp/logger.lines")"
}

echo "started, reconnect: start the instance, without waiting"
run "$tmp/vm1.xml" vm1 started begin
asked "--no-block start mdev-vncd@vm1.service"
quiet
run "$tmp/vm1.xml" vm1 reconnect begin
asked "--no-block start mdev-vncd@vm1.service"
run "$tmp/upper.xml" vm1 started begin
asked "--no-block start mdev-vncd@vm1.service"

echo "stopped, release: stop it"
run "$tmp/vm1.xml" vm1 stopped end
asked "--no-block stop mdev-vncd@vm1.service"
run "$tmp/vm1.xml" vm1 release end
asked "--no-block stop mdev-vncd@vm1.service"

echo "every other operation, and unknown ones: nothing"
for op in prepare start stop migrate restore attach frobnicate ""; do
	run "$tmp/vm1.xml" vm1 "$op" begin
	asked ""
	quiet
done

echo "a VM without a configuration: nothing, silently"
for op in started stopped release; do
	run "$tmp/vm1.xml" vm2 "$op" begin
	asked ""
	quiet
done

echo "a configured VM without an mdev hostdev, or without the configured one: not started, logged"
run "$tmp/no-mdev.xml" vm1 started begin
asked ""
logged "no mdev hostdev"
run "$tmp/vm1.xml" other started begin
asked ""
logged "no hostdev for mdev 11111111-2222-3333-4444-555555555555"
echo "a configuration without uuid (device_socket): any mdev hostdev starts it"
run "$tmp/vm1.xml" by-socket started begin
asked "--no-block start mdev-vncd@by-socket.service"
run "$tmp/no-mdev.xml" by-socket started begin
asked ""

echo "a name systemd cannot take as it is: nothing, logged"
run "$tmp/vm1.xml" "my vm" started begin
asked ""
logged "cannot be a systemd instance name"
run "$tmp/vm1.xml" "" started begin
asked ""

echo "systemctl failing: logged with its message, still exit 0"
touch "$tmp/systemctl.fails"
run "$tmp/vm1.xml" vm1 started begin
asked "--no-block start mdev-vncd@vm1.service"
logged "systemctl start mdev-vncd@vm1.service failed: Failed to start: unit masked"
rm "$tmp/systemctl.fails"

echo "no XML on stdin (an empty pipe): no start, no failure"
: > "$tmp/empty.xml"
run "$tmp/empty.xml" vm1 started begin
asked ""
logged "no mdev hostdev"
echo "libvirt hook: every operation as documented; the README's domain XML is valid"
