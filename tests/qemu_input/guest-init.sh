#!/bin/busybox sh
# SPDX-License-Identifier: GPL-2.0-or-later
# /init of the input test bed's guest: the virtio input drivers, then the
# event printer on the serial console until the host ends QEMU.
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs dev /dev
echo "INPUT-BED: init, kernel $(uname -r)"
for m in $(cat /lib/modules/input/order); do
	insmod "/lib/modules/input/$m" || echo "INPUT-BED: FAIL insmod $m"
done
# The devices appear as the drivers probe: wait for both.
for i in $(seq 100); do
	[ "$(ls /dev/input/ 2>/dev/null | grep -c event)" -ge 2 ] && break
	sleep 0.1
done
exec /bin/guest_evprint
