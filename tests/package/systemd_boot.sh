#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# The packaged unit under systemd as PID 1: boots a minimal Debian 12 root
# (debootstrap minbase + systemd, no procps) with the .deb installed in
# systemd-nspawn, and drives mdev-vncd@sim.service as an operator would:
# start (Type=notify: READY=1, STATUS= with the update mode), a VNC client,
# reload (SIGHUP, the daemon logs it), the watchdog restarting a daemon that
# stopped pinging, stop, and a start without a config file, which must fail
# and say why. Then attaching beside QEMU (mdev-vncd@vm1 with qemu_pidfile):
# refused, with the reason, without the attach drop-in or without each of its
# grants, and attached with it; mdev-vncd@vm2, with the drop-in and
# on_device_loss = wait, stays up when QEMU exits and takes the device from
# the next QEMU (another user's) through its helper. The device is the
# simulated vGPU, preloaded by a drop-in, and QEMU a process holding the
# sim's group: the only parts an operator would not have.
# The roots are kept in the build tree: the first run makes them (minutes).
# Exit 77: not root, a tool missing, or the mirror cannot be reached.
# Usage: systemd_boot.sh BUILD_DIR BASE_ROOT BOOT_ROOT SIM_LIBRARY
set -eu
build=$1 base=$2 boot=$3 simlib=$4
# shellcheck source=tests/package/debian_root.sh
. "$(dirname "$0")/debian_root.sh"
unit=mdev-vncd@sim.service

if [ "$(id -u)" != 0 ]; then
	echo "SKIP: needs root (debootstrap, systemd-nspawn)"
	exit 77
fi
for tool in debootstrap systemd-nspawn nsenter; do
	if ! command -v $tool >/dev/null 2>&1; then
		echo "SKIP: $tool not found (apt-get install debootstrap systemd-container util-linux)"
		exit 77
	fi
done

fail() {
	echo "FAIL: $*"
	exit 1
}

# The boot root: the package test's minbase root plus systemd as init,
# without recommends (so without procps, as on a minimal install).
make_boot_root() {
	debian_root_make "$base"
	unmount_under "$boot.tmp"
	rm -rf "$boot.tmp"
	cp -a "$base" "$boot.tmp"
	apt_update "$boot.tmp"
	echo "installing systemd into $boot (once)"
	if ! in_chroot "$boot.tmp" apt-get install -y -q --no-install-recommends systemd systemd-sysv \
		> "$boot.log" 2>&1; then
		cat "$boot.log"
		fail "apt-get install systemd in the boot root"
	fi
	mv "$boot.tmp" "$boot"
}
[ -x "$boot/lib/systemd/systemd" ] || make_boot_root
for kill in /bin/kill /usr/bin/kill; do
	[ ! -e "$boot$kill" ] ||
		fail "$boot has $kill (procps): the reload check needs a root without it"
done

deb=$(deb_build "$build" "$build/deb-boot")
apt_update "$boot"
deb_install "$boot" "$deb"
install -m 0644 "$simlib" "$boot/usr/local/lib/libvgpusim.so"
mkdir -p "$boot/etc/systemd/system/$unit.d"
printf '[Service]\nEnvironment=LD_PRELOAD=/usr/local/lib/libvgpusim.so\n' \
	> "$boot/etc/systemd/system/$unit.d/simulated-vgpu.conf"
# The simulated vGPU's UUID; port 5900 is the container's own (private network).
uuid=4b20d080-1b54-4048-85b3-a6a62d165c01
printf 'uuid = %s\n' $uuid > "$boot/etc/mdev-vncd/sim.conf"
rm -f "$boot/etc/mdev-vncd/nosuch.conf"
# vm1 attaches beside a process that plays its QEMU; the attach drop-in is
# installed during the test, as an operator does (README).
vm=mdev-vncd@vm1.service
rm -rf "$boot/etc/systemd/system/$vm.d"
mkdir -p "$boot/etc/systemd/system/$vm.d"
cp "$boot/etc/systemd/system/$unit.d/simulated-vgpu.conf" "$boot/etc/systemd/system/$vm.d/"
printf 'uuid = %s\nqemu_pidfile = /run/fake-qemu-vm1.pid\nlisten = 127.0.0.1:5901\n' $uuid \
	> "$boot/etc/mdev-vncd/vm1.conf"
# vm2 waits for QEMU to come back (on_device_loss = wait), with the packaged
# attach drop-in from the start.
vm2=mdev-vncd@vm2.service
rm -rf "$boot/etc/systemd/system/$vm2.d"
mkdir -p "$boot/etc/systemd/system/$vm2.d"
cp "$boot/etc/systemd/system/$unit.d/simulated-vgpu.conf" "$boot/etc/systemd/system/$vm2.d/"
cp "$boot/usr/share/doc/mdev-vncd/examples/mdev-vncd-attach.conf" \
	"$boot/etc/systemd/system/$vm2.d/attach.conf"
printf 'uuid = %s\nqemu_pidfile = /run/fake-qemu-vm2.pid\non_device_loss = wait\nlisten = 127.0.0.1:5902\n' \
	$uuid > "$boot/etc/mdev-vncd/vm2.conf"
# libvirt runs QEMU as libvirt-qemu: the second QEMU player's user.
chroot "$boot" sh -c 'id -u libvirt-qemu >/dev/null 2>&1 ||
	useradd --system --no-create-home --shell /usr/sbin/nologin libvirt-qemu'

# --keep-unit and --register=no: no host systemd or machined needed.
# nspawn's own seccomp filter refuses pidfd_getfd (@debug) to the whole
# container, root too: let it through, as a host's PID 1 does, so that the
# unit's filter is what decides.
systemd-nspawn -D "$boot" -b --register=no --keep-unit --pipe --private-network \
	--system-call-filter=pidfd_getfd \
	-M "mdev-vncd-test-$$" > "$boot.console" 2>&1 &
nspawn=$!
pid1=

in_container() {
	nsenter -t "$pid1" -a "$@"
}

show_logs() {
	[ -n "$pid1" ] || return 0
	echo "--- the container's journal of mdev-vncd@*.service (last 60 lines)"
	in_container journalctl -b --no-pager -n 60 -u 'mdev-vncd@*' || true
}

shutdown_container() {
	rc=$?
	[ $rc = 0 ] || show_logs
	if kill -0 "$nspawn" 2>/dev/null; then
		# nspawn asks the container's systemd to halt on SIGTERM.
		kill -TERM "$nspawn"
		i=0
		while kill -0 "$nspawn" 2>/dev/null && [ $i -lt 60 ]; do
			sleep 0.5
			i=$((i + 1))
		done
		kill -0 "$nspawn" 2>/dev/null && kill -KILL "$nspawn"
	fi
	wait "$nspawn" 2>/dev/null || true
	exit $rc
}
trap shutdown_container EXIT

# wait_for SECONDS WHAT COMMAND...: polls COMMAND until it succeeds.
wait_for() {
	limit=$(($1 * 10)) what=$2
	shift 2
	i=0
	until "$@" >/dev/null 2>&1; do
		i=$((i + 1))
		[ $i -lt $limit ] || fail "no $what within $((limit / 10)) s"
		sleep 0.1
	done
	echo "  $what after $((i / 10)).$((i % 10)) s"
}

prop() {
	in_container systemctl show -p "$2" --value "$1"
}

prop_is() {
	[ "$(prop "$1" "$2")" = "$3" ]
}

journal_count() {
	in_container journalctl -b --no-pager -o cat -u "$1" | grep -c "$2" || true
}

journal_has_more() {
	[ "$(journal_count "$1" "$2")" -gt "$3" ]
}

# play_qemu UNIT USER: a process of USER under the sim holding the mdev's
# group, as QEMU does, in the transient UNIT; sets qemu_pid once it holds it.
play_qemu() {
	in_container systemd-run -q --unit="$1" --uid="$2" --property=Environment=LD_PRELOAD=$sim \
		/bin/sh -c "exec 3<>/dev/vfio/$group; exec sleep infinity" || fail "systemd-run of $1"
	wait_for 10 "$1 holding the group" player_holds_group "$1"
	qemu_pid=$(prop "$1.service" MainPID)
}

player_holds_group() {
	player=$(prop "$1.service" MainPID)
	[ "$player" != 0 ] && in_container test -e "/proc/$player/fd/3" &&
		in_container readlink "/proc/$player/exe" | grep -q sleep
}

# vnc_greeting PORT: the first 12 bytes a client gets.
vnc_greeting() {
	in_container timeout 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1; head -c 12 <&3"
}

init_pid() {
	for status in /proc/[0-9]*/status; do
		if grep -q "^PPid:[[:space:]]*$nspawn\$" "$status" 2>/dev/null; then
			pid1=$(basename "$(dirname "$status")")
			return 0
		fi
	done
	return 1
}

echo "booting $boot"
wait_for 30 "container init" init_pid
wait_for 120 "booted system" in_container systemctl is-system-running --wait
echo "  system state: $(in_container systemctl is-system-running || true)"

echo "start: Type=notify, returns after READY=1"
in_container systemctl start $unit || fail "systemctl start $unit"
prop_is $unit Type notify || fail "$unit is not Type=notify"
prop_is $unit ActiveState active || fail "$unit not active after start"
prop_is $unit SubState running || fail "$unit not running after start"
# READY=1 carries STATUS=: the status line proves the notification arrived.
status=$(prop $unit StatusText)
echo "  status: $status"
[ "$status" = "waiting for clients" ] || fail "STATUS after READY=1 is '$status'"
pid=$(prop $unit MainPID)

echo "a client: the VNC greeting, then STATUS= shows the update mode"
greeting=$(vnc_greeting 5900)
[ "$greeting" = "RFB 003.008" ] || fail "VNC greeting was '$greeting'"
status_has_mode() {
	prop $unit StatusText | grep -q "display updates by"
}
wait_for 10 "STATUS= with the update mode" status_has_mode
echo "  status: $(prop $unit StatusText)"

echo "reload: systemctl reload sends SIGHUP, the daemon re-reads its config"
before=$(journal_count $unit "SIGHUP: configuration reloaded")
in_container systemctl reload $unit || fail "systemctl reload $unit"
wait_for 10 "reload logged by the daemon" journal_has_more $unit "SIGHUP: configuration reloaded" "$before"
prop_is $unit MainPID "$pid" || fail "reload replaced the daemon"
prop_is $unit ActiveState active || fail "$unit not active after reload"

echo "watchdog: a stopped daemon stops pinging; systemd kills and restarts it"
echo "  WatchdogSec $(prop $unit WatchdogUSec), RestartSec $(prop $unit RestartUSec)"
restarts=$(prop $unit NRestarts)
watchdog_logs=$(journal_count $unit "Watchdog timeout")
in_container sh -c "kill -STOP $pid"
restarted() {
	new=$(prop $unit MainPID)
	[ "$new" != 0 ] && [ "$new" != "$pid" ] && prop_is $unit SubState running
}
wait_for 120 "restart by the watchdog" restarted
journal_has_more $unit "Watchdog timeout" "$watchdog_logs" || fail "no watchdog timeout logged"
prop_is $unit NRestarts $((restarts + 1)) || fail "NRestarts is $(prop $unit NRestarts)"
prop_is $unit StatusText "waiting for clients" || fail "restarted daemon not ready"

echo "stop: SIGTERM, a clean exit"
stopped_logs=$(journal_count $unit "info: stopped")
in_container systemctl stop $unit || fail "systemctl stop $unit"
prop_is $unit ActiveState inactive || fail "$unit not inactive after stop"
prop_is $unit Result success || fail "stop result $(prop $unit Result)"
journal_has_more $unit "info: stopped" "$stopped_logs" || fail "the daemon did not log its stop"

echo "start without /etc/mdev-vncd/nosuch.conf: fails once, saying why"
missing=mdev-vncd@nosuch.service
if out=$(in_container systemctl start $missing 2>&1); then
	fail "systemctl start $missing succeeded"
fi
echo "  systemctl: $out"
# A restart would show as activating/auto-restart: failed means none is coming.
prop_is $missing ActiveState failed || fail "$missing is $(prop $missing ActiveState), not failed"
prop_is $missing NRestarts 0 || fail "$missing was restarted"
prop_is $missing ExecMainStatus 6 || fail "exit status $(prop $missing ExecMainStatus), not 6"
log=$(in_container journalctl -b --no-pager -o cat -u $missing)
echo "$log" | sed 's/^/  journal: /'
echo "$log" | grep -q "/etc/mdev-vncd/nosuch.conf: No such file or directory" ||
	fail "the journal does not name the missing file"
echo "systemd: start, READY, STATUS, reload, watchdog restart, stop, missing config: all as documented"

# Attaching beside QEMU. QEMU is played by a root process under the sim that
# holds the mdev's VFIO group (the sim reads its /proc/PID/fd link as
# /dev/vfio/N and serves the copied group as the kernel would); the daemon,
# user mdev-vncd, must find it, copy it with pidfd_getfd and open the device.
examples=/usr/share/doc/mdev-vncd/examples
dropin=/etc/systemd/system/$vm.d/attach.conf
sim=/usr/local/lib/libvgpusim.so
group=$(in_container env LD_PRELOAD=$sim readlink /sys/bus/mdev/devices/$uuid/iommu_group)
group=${group##*/}
echo "attach: a root process holds /dev/vfio/$group, as QEMU does"
play_qemu fake-qemu-vm1 root
# As libvirt writes /run/libvirt/qemu/NAME.pid.
in_container sh -c "echo $qemu_pid > /run/fake-qemu-vm1.pid"

# attach_with WHAT EDIT: installs the packaged drop-in edited by the sed
# expression EDIT (empty: as packaged; "-": no drop-in), reloads systemd.
attach_with() {
	echo "attach $1"
	if [ "$2" = - ]; then
		in_container rm -f $dropin
	else
		in_container sh -c "sed -e '$2' $examples/mdev-vncd-attach.conf > $dropin"
		if [ -n "$2" ] && in_container cmp -s $dropin $examples/mdev-vncd-attach.conf; then
			fail "the edit '$2' left the drop-in unchanged"
		fi
	fi
	in_container systemctl daemon-reload
}

# refused TEXT: the start fails and the journal says TEXT; the instance is stopped again.
refused() {
	before=$(journal_count $vm "$1")
	if in_container systemctl start $vm 2>/dev/null; then
		fail "$vm started"
	fi
	wait_for 10 "the refusal in the journal" journal_has_more $vm "$1" "$before"
	echo "  journal: $(in_container journalctl -b --no-pager -o cat -u $vm | grep -e "$1" | tail -n 1)"
	in_container systemctl stop $vm
	in_container systemctl reset-failed $vm 2>/dev/null || true
}

# Each grant of the drop-in left out in turn: the start fails, naming it.
attach_with "without the drop-in: QEMU's /proc entry is hidden (ProtectProc=invisible)" -
refused "QEMU's (PID $qemu_pid) /proc entry is hidden from this process"
attach_with "without CAP_SYS_PTRACE: hidden too" 's/CAP_SYS_PTRACE //g'
refused "QEMU's (PID $qemu_pid) /proc entry is hidden from this process"
attach_with "without CAP_DAC_READ_SEARCH: QEMU's fds cannot be listed" 's/ CAP_DAC_READ_SEARCH//g'
refused "listing QEMU's (PID $qemu_pid) fds needs CAP_DAC_READ_SEARCH"
attach_with "without pidfd_getfd in the system call filter" 's/^SystemCallFilter=pidfd_getfd /SystemCallFilter=/'
refused "refused by this process's system call filter"
attach_with "without capset in the system call filter: attached, but the capabilities cannot go" \
	's/^\(SystemCallFilter=.*\) capset/\1/'
refused "giving up capabilities failed: Operation not permitted; exiting"

attach_with "with the drop-in: attached, capabilities given up, clients served" ""
attached_logs=$(journal_count $vm "attached to QEMU (PID $qemu_pid)")
in_container systemctl start $vm || fail "systemctl start $vm with the attach drop-in"
journal_has_more $vm "attached to QEMU (PID $qemu_pid): mdev $uuid opened again from /dev/vfio/$group" \
	"$attached_logs" || fail "the journal does not show the attach"
pid=$(prop $vm MainPID)
caps=$(in_container sh -c "grep -E '^Cap(Eff|Prm|Amb):' /proc/$pid/status" | awk '{ print $2 }' | sort -u)
[ "$caps" = 0000000000000000 ] || fail "the attached daemon kept capabilities: $caps"
greeting=$(vnc_greeting 5901)
[ "$greeting" = "RFB 003.008" ] || fail "VNC greeting of the attached daemon was '$greeting'"
echo "  attached, no capabilities left, VNC greeting '$greeting'"

echo "attach: QEMU exits, the daemon lets go and exits"
exit_logs=$(journal_count $vm "QEMU (PID $qemu_pid) exited")
in_container systemctl stop fake-qemu-vm1.service
wait_for 10 "the daemon seeing QEMU's exit" journal_has_more $vm "QEMU (PID $qemu_pid) exited" "$exit_logs"
in_container systemctl stop $vm
echo "systemd: attach refused with a clear error without each grant of the drop-in, attached with it"

# on_device_loss = wait under systemd: the main process has given every
# capability up; the helper it forked before keeps CAP_SYS_PTRACE, inside the
# unit's sandbox, and takes the device from each QEMU the pidfile names (it
# cannot list their fds: it copies them in turn).
echo "wait: vm2 attaches through its helper, to a root QEMU"
play_qemu fake-qemu-vm2a root
in_container sh -c "echo $qemu_pid > /run/fake-qemu-vm2.pid"
in_container systemctl start $vm2 || fail "systemctl start $vm2"
journal_has_more $vm2 "attached to QEMU (PID $qemu_pid) through the attach helper" 0 ||
	fail "the journal does not show the attach through the helper"
pid=$(prop $vm2 MainPID)
caps=$(in_container sh -c "grep -E '^Cap(Eff|Prm|Amb):' /proc/$pid/status" | awk '{ print $2 }' | sort -u)
[ "$caps" = 0000000000000000 ] || fail "the daemon kept capabilities beside its helper: $caps"
[ "$(vnc_greeting 5902)" = "RFB 003.008" ] || fail "no VNC greeting from $vm2"

echo "wait: QEMU exits; the daemon stays up, says the device is lost"
in_container systemctl stop fake-qemu-vm2a.service
wait_for 10 "the loss in the journal" \
	journal_has_more $vm2 "device lost: QEMU (PID $qemu_pid) exited; released it" 0
status_is_waiting() {
	prop $vm2 StatusText | grep -q "^device lost, waiting for"
}
wait_for 10 "STATUS= waiting for the device" status_is_waiting
prop_is $vm2 ActiveState active || fail "$vm2 is $(prop $vm2 ActiveState) after QEMU exited"
prop_is $vm2 MainPID "$pid" || fail "$vm2 was restarted after QEMU exited"

echo "wait: the next QEMU, as libvirt-qemu, writes the pidfile; the helper takes its device"
play_qemu fake-qemu-vm2b libvirt-qemu
in_container sh -c "echo $qemu_pid > /run/fake-qemu-vm2.pid"
wait_for 30 "the device back through the helper" \
	journal_has_more $vm2 "device back: opened the vGPU through QEMU PID $qemu_pid," 0
echo "  journal: $(in_container journalctl -b --no-pager -o cat -u $vm2 | grep "device back" | tail -n 1)"
status_is_serving() {
	prop $vm2 StatusText | grep -q "display updates by"
}
wait_for 10 "STATUS= with the update mode again" status_is_serving
prop_is $vm2 MainPID "$pid" || fail "$vm2 was restarted instead of waiting"
[ "$(vnc_greeting 5902)" = "RFB 003.008" ] || fail "no VNC greeting from $vm2 after QEMU came back"
in_container systemctl stop $vm2 fake-qemu-vm2b.service
echo "systemd: on_device_loss = wait survives QEMU's exit and takes the next QEMU's device"
