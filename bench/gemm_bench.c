/* gemm_bench.c — GOPS of one ISA's packed GEMM (runtime/<isa>/sc_packed_gemm_<isa>.c) on
 * the BERT-base layer's four weight GEMMs (M = 128 rows): qkv 2304x768, out 768x768,
 * ffn_up 3072x768, ffn_down 768x3072 (N x K). bench/bench.sh builds it per target:
 *   cc -O2 <target flags> -Iruntime -Iruntime/simd -Iruntime/<isa> gemm_bench.c <kernel>.c
 * Prints one line per shape: "name M N K ms GOPS" (median of ROUNDS timed calls, each
 * timing as many calls as fill MS milliseconds), then the four together. Random codes;
 * per-channel dyadic requantization, as the BERT layer compiles. Times are the thread's
 * CPU time, so other processes on a shared machine do not count. C99 + POSIX. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sc_simd.h"

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t); /* CPU time: a shared machine deschedules us */
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

typedef struct {
  const char *name;
  int32_t n, k;
  sc_packed_weights pw;
  int8_t *a, *y;
} Shape;

enum { M = 128 };

static void setup(Shape *s) {
  const int32_t n = s->n, k = s->k, k_pad = (k + SC_PACK_KB - 1) / SC_PACK_KB * SC_PACK_KB;
  const int32_t nb = (n + SC_PACK_NR - 1) / SC_PACK_NR;
  int8_t *w = calloc((size_t)nb * SC_PACK_NR * k_pad, 1), *shift = malloc((size_t)n);
  int32_t *bias = malloc(sizeof(int32_t) * (size_t)n), *mult = malloc(sizeof(int32_t) * (size_t)n);
  srand(7);
  for (size_t i = 0; i < (size_t)n * k_pad; i++) w[i] = (int8_t)(rand() % 255 - 127);
  for (int32_t c = 0; c < n; c++) bias[c] = rand() % 1000, mult[c] = 0x50000000, shift[c] = 14;
  s->pw = (sc_packed_weights){.n = n, .k = k, .k_pad = k_pad, .w = w, .bias = bias};
  s->pw.rq = (sc_requant){.mult = mult, .shift = shift, .per_channel = 1, .lo = -128, .hi = 127};
#if SC_PACK_U8
  /* the VNNI layouts take a + 128: 128 * sum_k W[c][k] per channel, as the compiler gives it
   * (packed order: blocks of NR channels, groups of KB terms, [NR][KB] within a group) */
  int32_t *wsum128 = calloc((size_t)nb * SC_PACK_NR, sizeof(int32_t));
  for (size_t i = 0; i < (size_t)nb * SC_PACK_NR * k_pad; i++) {
    const size_t blk = i / ((size_t)SC_PACK_NR * k_pad), in = i % ((size_t)SC_PACK_NR * k_pad);
    wsum128[blk * SC_PACK_NR + in % (SC_PACK_NR * SC_PACK_KB) / SC_PACK_KB] += 128 * w[i];
  }
  s->pw.wsum128 = wsum128;
#endif
  s->a = malloc((size_t)M * k);
  s->y = malloc((size_t)M * n);
  for (size_t i = 0; i < (size_t)M * k; i++) s->a[i] = (int8_t)(rand() % 256 - 128);
}

static void run(const Shape *s) { sc_packed_gemm(&s->pw, s->pw.w, 0, s->n, s->a, s->k, M, s->y, s->n, 1); }

int main(int argc, char **argv) {
  const double ms = argc > 1 ? atof(argv[1]) : 200;
  const int rounds = argc > 2 ? atoi(argv[2]) : 9;
  Shape shapes[] = {{"qkv", 2304, 768, {0}, 0, 0},
                    {"out", 768, 768, {0}, 0, 0},
                    {"ffn_up", 3072, 768, {0}, 0, 0},
                    {"ffn_down", 768, 3072, {0}, 0, 0}};
  enum { NS = sizeof shapes / sizeof *shapes };
  double t[NS][64];
  for (int i = 0; i < NS; i++) setup(&shapes[i]), run(&shapes[i]);
  for (int r = 0; r < rounds && r < 64; r++) /* interleaved rounds */
    for (int i = 0; i < NS; i++) {
      int calls = 0;
      const double t0 = now();
      double t1;
      do run(&shapes[i]), calls++;
      while ((t1 = now()) - t0 < ms * 1e-3 / NS);
      t[i][r] = (t1 - t0) / calls;
    }
  double total_ops = 0, total_s = 0;
  for (int i = 0; i < NS; i++) {
    qsort(t[i], (size_t)rounds, sizeof(double), cmp);
    const double med = t[i][rounds / 2], ops = 2.0 * M * shapes[i].n * shapes[i].k;
    printf("%-9s %d %5d %5d %8.3f ms %7.1f GOPS (min-max %.1f-%.1f)\n", shapes[i].name, M, (int)shapes[i].n,
           (int)shapes[i].k, med * 1e3, ops / med * 1e-9, ops / t[i][rounds - 1] * 1e-9, ops / t[i][0] * 1e-9);
    total_ops += ops, total_s += med;
  }
  printf("all       %8.3f ms %7.1f GOPS\n", total_s * 1e3, total_ops / total_s * 1e-9);
  return 0;
}
