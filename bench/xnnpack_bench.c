/* xnnpack_bench.c — XNNPACK (Debian libxnnpack-dev, 2022-02 snapshot) on the BERT layer's four
 * weight GEMMs, one thread: the fully-connected operators qs8 ("xnnpack-qs8": s8 x s8 -> s32,
 * requantized to s8 with one scale per tensor, the closest to shiftc's int8 linear) and f32
 * ("xnnpack-f32"). Operators are created once (XNNPACK packs the weights then) and set up once;
 * only xnn_run_operator is timed (bench/peer_gemm.h). No threadpool: XNNPACK runs the whole
 * operator on the calling thread. XNNPACK picks its kernels from the CPU it finds (cpuinfo).
 *   cc -O2 -Ibench xnnpack_bench.c -lXNNPACK ; ./a.out [MS [ROUNDS]]
 * Bench only: never part of `make test`. C99. */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */
#include <math.h> /* INFINITY */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <xnnpack.h>

#include "peer_gemm.h"

static void check(enum xnn_status st, const char *what) {
  if (st != xnn_status_success) {
    fprintf(stderr, "xnnpack_bench: %s failed (status %d)\n", what, (int)st);
    exit(1);
  }
}

static void run_op(void *ctx) { check(xnn_run_operator((xnn_operator_t)ctx, NULL), "run"); }

static void *xmalloc(size_t n) {
  void *p = malloc(n);
  if (!p) exit(1);
  return p;
}

/* Scales: input 0.02, weights 0.01, output 0.5 — an output/accumulator ratio of 4e-4,
 * inside the range XNNPACK accepts; the values do not change the work done. */
static xnn_operator_t make_qs8(const PeerShape *sh) {
  const size_t n = (size_t)sh->n, k = (size_t)sh->k;
  int8_t *w = xmalloc(n * k), *in = xmalloc(PEER_M * k), *out = xmalloc(PEER_M * n);
  int32_t *bias = xmalloc(sizeof(int32_t) * n);
  for (size_t i = 0; i < n * k; i++) w[i] = (int8_t)peer_code();
  for (size_t i = 0; i < PEER_M * k; i++) in[i] = (int8_t)peer_code();
  for (size_t c = 0; c < n; c++) bias[c] = (int32_t)(peer_rand() % 1000u);
  xnn_operator_t op;
  check(xnn_create_fully_connected_nc_qs8(k, n, k, n, 0, 0.02f, 0.01f, w, bias, 0, 0.5f, -128, 127, 0, &op),
        "create qs8 fully connected");
  check(xnn_setup_fully_connected_nc_qs8(op, PEER_M, in, out, NULL), "setup qs8 fully connected");
  free(w), free(bias); /* packed into the operator */
  return op;
}

static xnn_operator_t make_f32(const PeerShape *sh) {
  const size_t n = (size_t)sh->n, k = (size_t)sh->k;
  float *w = xmalloc(sizeof(float) * n * k), *in = xmalloc(sizeof(float) * PEER_M * k);
  float *out = xmalloc(sizeof(float) * PEER_M * n), *bias = xmalloc(sizeof(float) * n);
  for (size_t i = 0; i < n * k; i++) w[i] = peer_float();
  for (size_t i = 0; i < PEER_M * k; i++) in[i] = peer_float();
  for (size_t c = 0; c < n; c++) bias[c] = peer_float();
  xnn_operator_t op;
  check(xnn_create_fully_connected_nc_f32(k, n, k, n, w, bias, -INFINITY, INFINITY, 0, &op),
        "create f32 fully connected");
  check(xnn_setup_fully_connected_nc_f32(op, PEER_M, in, out, NULL), "setup f32 fully connected");
  free(w), free(bias);
  return op;
}

int main(int argc, char **argv) {
  double ms;
  int rounds;
  peer_args(argc, argv, &ms, &rounds);
  check(xnn_initialize(NULL), "initialize");
  PeerSeries s[2] = {{"xnnpack-qs8", run_op, {0}}, {"xnnpack-f32", run_op, {0}}};
  for (int i = 0; i < PEER_NSHAPES; i++) {
    s[0].ctx[i] = make_qs8(&peer_shapes[i]);
    s[1].ctx[i] = make_f32(&peer_shapes[i]);
  }
  peer_time(s, 2, ms, rounds);
  /* The process ends here; the OS takes back the operators and buffers. */
  return 0;
}
