/* peer_gemm.h — the timing harness the peer GEMM benchmarks share (bench/dnnl_bench.c,
 * bench/xnnpack_bench.c): the BERT-base layer's four weight GEMMs (M = 128 rows; N x K as
 * bench/gemm_bench.c times shiftc's packed GEMM on) and interleaved timed rounds over every
 * (series, shape) pair, so that the series of one binary see the same machine state.
 *
 * Each round times every series on every shape for MS / 4 milliseconds of the thread's CPU
 * time (other processes on a shared machine do not count) and keeps the time per call; the
 * report is the median over the rounds and the min-max spread, one line per series and shape
 *   "<series> <shape> M N K <ms> ms <GOPS> GOPS (min-max <lo>-<hi>)"
 * and one "<series> all <ms> ms <GOPS> GOPS" line with the four medians summed. bench.sh
 * reads these lines and runs the binaries interleaved too (one round per invocation).
 * Bench only: never part of `make test`, never linked into shiftc. C99 + POSIX. */
#ifndef PEER_GEMM_H
#define PEER_GEMM_H

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

enum { PEER_M = 128, PEER_NSHAPES = 4, PEER_MAX_SERIES = 4, PEER_MAX_ROUNDS = 64 };

typedef struct {
  const char *name;
  int n, k; /* output channels x reduction depth */
} PeerShape;

static const PeerShape peer_shapes[PEER_NSHAPES] = {
    {"qkv", 2304, 768}, {"out", 768, 768}, {"ffn_up", 3072, 768}, {"ffn_down", 768, 3072}};

/* One library configuration (e.g. "onednn-s8s8") on the four shapes: run(ctx[i]) does one
 * GEMM of shape i with everything (weights packed, primitives made) prepared beforehand. */
typedef struct {
  const char *name;
  void (*run)(void *ctx);
  void *ctx[PEER_NSHAPES];
} PeerSeries;

static double peer_now(void) {
  struct timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t); /* CPU time: a shared machine deschedules us */
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int peer_cmp(const void *a, const void *b) {
  const double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* Rounds: argv[2], default 9; milliseconds per round and series: argv[1], default 200. */
static void peer_args(int argc, char **argv, double *ms, int *rounds) {
  *ms = argc > 1 ? atof(argv[1]) : 200;
  *rounds = argc > 2 ? atoi(argv[2]) : 9;
  if (*rounds < 1) *rounds = 1;
  if (*rounds > PEER_MAX_ROUNDS) *rounds = PEER_MAX_ROUNDS;
}

static void peer_time(const PeerSeries *s, int nseries, double ms, int rounds) {
  static double t[PEER_MAX_SERIES][PEER_NSHAPES][PEER_MAX_ROUNDS];
  for (int j = 0; j < nseries; j++) /* warm up: first touches, lazy JIT, caches */
    for (int i = 0; i < PEER_NSHAPES; i++) s[j].run(s[j].ctx[i]);
  for (int r = 0; r < rounds; r++)
    for (int j = 0; j < nseries; j++)
      for (int i = 0; i < PEER_NSHAPES; i++) {
        int calls = 0;
        const double t0 = peer_now();
        double t1;
        do s[j].run(s[j].ctx[i]), calls++;
        while ((t1 = peer_now()) - t0 < ms * 1e-3 / PEER_NSHAPES);
        t[j][i][r] = (t1 - t0) / calls;
      }
  for (int j = 0; j < nseries; j++) {
    double total_ops = 0, total_s = 0;
    for (int i = 0; i < PEER_NSHAPES; i++) {
      double *v = t[j][i];
      qsort(v, (size_t)rounds, sizeof(double), peer_cmp);
      const double med = v[rounds / 2], ops = 2.0 * PEER_M * peer_shapes[i].n * peer_shapes[i].k;
      printf("%s %-9s %d %5d %5d %8.3f ms %7.1f GOPS (min-max %.1f-%.1f)\n", s[j].name, peer_shapes[i].name,
             PEER_M, peer_shapes[i].n, peer_shapes[i].k, med * 1e3, ops / med * 1e-9, ops / v[rounds - 1] * 1e-9,
             ops / v[0] * 1e-9);
      total_ops += ops, total_s += med;
    }
    printf("%s all %8.3f ms %7.1f GOPS\n", s[j].name, total_s * 1e3, total_ops / total_s * 1e-9);
  }
}

/* Deterministic codes and floats for the operands (xorshift32; the values do not matter
 * to the timing, but a fixed seed keeps every run the same work). */
static unsigned peer_rand_state = 2463534242u;
static unsigned peer_rand(void) {
  peer_rand_state ^= peer_rand_state << 13;
  peer_rand_state ^= peer_rand_state >> 17;
  peer_rand_state ^= peer_rand_state << 5;
  return peer_rand_state;
}
static signed char peer_code(void) { return (signed char)((int)(peer_rand() % 255u) - 127); }
static float peer_float(void) { return (float)((int)(peer_rand() % 2001u) - 1000) * 1e-3f; }

#endif
