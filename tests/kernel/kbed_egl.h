/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef KBED_EGL_H
#define KBED_EGL_H

/*
 * The kernel bed's "egl" case: mdev-vncd's GPU import (import = egl|auto) of
 * real kernel dmabufs on the backports Mesa's llvmpipe, which
 * run-kernel-tests.sh puts in this guest's initramfs. guest-init.sh loads
 * the fixed mbochs and mdpy first and points libglvnd at that Mesa.
 * Returns 0, or the first failure recorded with kbed_fail().
 */
int kbed_egl_case(const char *daemon, const char *checker);

#endif
