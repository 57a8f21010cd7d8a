#!/bin/busybox sh
# SPDX-License-Identifier: GPL-2.0-or-later
# /init of the kernel test bed's guest (busybox sh). The case comes from the
# kernel command line (kbed.case=stock|fixed|mdpy|qemu|egl); the result is printed on
# the serial console for run-kernel-tests.sh and the guest powers off.
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs dev /dev
mount -t tmpfs tmp /tmp
ip link set lo up

kcase=
for arg in $(cat /proc/cmdline); do
	case "$arg" in kbed.case=*) kcase=${arg#kbed.case=} ;; esac
done
echo "KBED: init, case '$kcase', kernel $(uname -r)"

load() {
	insmod "$1" || { echo "KBED-RESULT: FAIL $kcase: insmod $1"; poweroff -f; }
}
for m in $(cat /lib/modules/kbed/order); do
	load "/lib/modules/kbed/$m"
done
case "$kcase" in
stock) load /lib/modules/kbed/stock/mbochs.ko ;;
fixed | qemu) load /lib/modules/kbed/fixed/mbochs.ko ;;
mdpy) load /lib/modules/kbed/stock/mdpy.ko ;;
egl)
	# kbed_egl.c swaps in the stock mbochs itself, after the fixed one's part
	load /lib/modules/kbed/fixed/mbochs.ko
	load /lib/modules/kbed/stock/mdpy.ko
	# the backports Mesa that run-kernel-tests.sh appended, found as the EGL tests find it
	for libs in /opt/mesa/usr/lib/*-linux-gnu; do
		export LD_LIBRARY_PATH=$libs
	done
	export __EGL_VENDOR_LIBRARY_FILENAMES=/opt/mesa/usr/share/glvnd/egl_vendor.d/50_mesa.json
	# llvmpipe's 128-bit (SSE) code instead of AVX2, which TCG emulates slowly:
	# the same import path, the case ~25 % shorter (52-74 s against 65-101 s)
	export LP_NATIVE_VECTOR_WIDTH=128
	;;
esac

/bin/guest_driver "$kcase" /bin/mdev-vncd /bin/vnc_check
status=$?
# A kernel splat fails the case even when every picture was right; judged
# once more now that every device is closed (mbochs puts its pages then).
if ! /bin/guest_driver kernel-log; then
	status=1
	echo "KBED-RESULT: FAIL $kcase: the kernel log is not clean (offending lines above)"
fi
if [ $status -ne 0 ]; then
	echo "KBED: ---- dmesg ----"
	dmesg | tail -n 80
fi
echo "KBED: guest_driver exited with $status"
poweroff -f
