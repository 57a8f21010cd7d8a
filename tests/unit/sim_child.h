/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef MDEVVNCD_TESTS_SIM_CHILD_H
#define MDEVVNCD_TESTS_SIM_CHILD_H

/*
 * Unit tests that drive the simulated vGPU run themselves again under
 * LD_PRELOAD=../sim/libvgpusim.so (relative to the test binary): the sim reads
 * its configuration once, when it loads, so each configuration needs its own
 * process. The parent re-executes the binary once per run, each child with its
 * own VGPU_SIM_CONTROL socket in a fresh temporary directory; the child runs
 * the one group its run names.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include <cmocka.h>

struct sim_child_run {
	const char *name; /* the cmocka group; also names the control socket */
	const char *const *env; /* "KEY=VALUE" for the child, NULL-terminated; may be NULL */
	const struct CMUnitTest *tests;
	size_t count;
};

#define SIM_CHILD_TESTS(tests) (tests), (sizeof(tests) / sizeof((tests)[0]))

/* Open fds of this process, to show that a test released what it opened. */
unsigned sim_child_count_fds(void);

/* True in a child started by sim_child_main. */
bool sim_child_active(void);

/*
 * In a child: runs the group of runs[] it was started for. In the parent:
 * starts one child per run, in order, and waits for each. Returns 0 when every
 * run passed, otherwise nonzero: usable as main's return value.
 */
int sim_child_main(const struct sim_child_run *runs, size_t n);

#endif
