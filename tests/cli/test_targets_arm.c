/* test_targets_arm.c — the ARM half of test_targets.c (neon and neon-dotprod under qemu),
 * a program of its own so that make test runs it beside the x86 half. */
#define TARGETS_PART 1
#include "test_targets.c"
