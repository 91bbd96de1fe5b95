/* bench_run.c — times one generated model: <model>_run over its golden inputs, in a
 * loop that lasts at least the given milliseconds; prints the nanoseconds per run.
 * bench/bench.sh builds it once per target against that target's generated folder:
 *   cc -O2 <target flags> -I<folder> -DBENCH_MODEL=digits_cnn -DBENCH_UPPER=DIGITS_CNN
 *      -DBENCH_HEADER='"digits_cnn.h"' bench_run.c <folder>/<model>.c <folder>/<model>_golden.c <runtime .c>
 * With -DBENCH_FLOAT it times the float32 build instead (shiftc compile --float-c): <model>_float_run
 * over <model>_float_golden.c's inputs, with its scratch buffer.
 * Where the time goes per layer is `shiftc verify OUTDIR --profile` (the generated test
 * built with -DSC_PROFILE).
 * C99 + POSIX clock_gettime. Single-input, single-output models (the examples). */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include BENCH_HEADER

#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)
#ifdef BENCH_FLOAT
#define RUN CAT(BENCH_MODEL, _float_run)
#define GOLDEN_IN CAT(BENCH_MODEL, _float_golden_input)
#define GOLDEN_COUNT CAT(BENCH_MODEL, _float_golden_count)
#define IN_SIZE CAT(BENCH_UPPER, _FLOAT_INPUT_SIZE)
#define OUT_SIZE CAT(BENCH_UPPER, _FLOAT_OUTPUT_SIZE)
#define ARENA_SIZE (CAT(BENCH_UPPER, _FLOAT_SCRATCH_SIZE) + 1)
typedef float elem;
#define ARENA_FIELD floats
#else
#define RUN CAT(BENCH_MODEL, _run)
#define GOLDEN_IN CAT(BENCH_MODEL, _golden_input)
#define GOLDEN_COUNT CAT(BENCH_MODEL, _golden_count)
#define IN_SIZE CAT(BENCH_UPPER, _INPUT_SIZE)
#define OUT_SIZE CAT(BENCH_UPPER, _OUTPUT_SIZE)
#define ARENA_SIZE CAT(BENCH_UPPER, _ARENA_SIZE)
typedef int8_t elem;
#define ARENA_FIELD bytes
#endif

extern const int GOLDEN_COUNT;
extern const elem GOLDEN_IN[][IN_SIZE];

static union {
  elem ARENA_FIELD[ARENA_SIZE];
  uint64_t align;
} arena;
static elem out[OUT_SIZE];

static double now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t); /* CPU time: a shared machine deschedules us */
  return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

int main(int argc, char **argv) {
  double ms = argc > 1 ? atof(argv[1]) : 200.0;
  int n = GOLDEN_COUNT > 0 ? GOLDEN_COUNT : 1;
  long runs = 0, batch = 1;
  unsigned sink = 0;
  double start = now_ns(), t = start;
  while (t - start < ms * 1e6) {
    for (long i = 0; i < batch; i++, runs++) {
      RUN(GOLDEN_IN[runs % n], out, arena.ARENA_FIELD);
      sink += (unsigned)(out[0] > 0);
    }
    batch *= 2;
    t = now_ns();
  }
  printf("%.1f ns/run (%ld runs, check %u)\n", (t - start) / (double)runs, runs, sink & 0xff);
  return 0;
}
