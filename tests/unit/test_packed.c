/* test_packed.c — the SIMD targets' compile-time side (targets/packed.c, targets.c):
 * the packed weight layout element by element (blocks of 8 channels, groups of 16
 * codes, zero padding, conv groups one after another), the targets by name with their
 * flags and runtime files, which layers go to the packed GEMM (none whose reduction
 * legalization split), and the scalar target's list of layer kinds it can compile. */
#include "../targets/target.h"
#include "testlib.h"

#include <stdlib.h>
#include <string.h>


/* Every weight at its place in the layout of blocks of nr channels by groups of kb codes;
 * the padding zero. */
static void check_layout(int nr, int kb) {
  /* 2 groups of n = 11 channels by k = 21 codes: w[g][c][k] = a code that names it */
  enum { G = 2, N = 11, K = 21 };
  int8_t w[G * N * K];
  for (int g = 0; g < G; g++)
    for (int c = 0; c < N; c++)
      for (int k = 0; k < K; k++) w[(g * N + c) * K + k] = (int8_t)((g * 50 + c * 3 + k) % 127 + 1);
  int64_t count;
  int8_t *p = pack_weights(w, G, N, K, nr, kb, &count);
  const int k_pad = (K + kb - 1) / kb * kb, blocks = (N + nr - 1) / nr;
  t_check(count == (int64_t)G * blocks * nr * k_pad, "packed: size is groups x blocks x NR x k_pad",
          "%dx%d: count %lld", nr, kb, (long long)count);
  int bad = 0, zeros_bad = 0;
  for (int g = 0; g < G; g++)
    for (int nb = 0; nb < blocks; nb++)
      for (int q = 0; q < k_pad / kb; q++)
        for (int j = 0; j < nr; j++)
          for (int i = 0; i < kb; i++) {
            int c = nb * nr + j, k = q * kb + i;
            int8_t got = p[(((g * blocks + nb) * (k_pad / kb) + q) * nr + j) * kb + i];
            if (c < N && k < K) bad += got != w[(g * N + c) * K + k];
            else zeros_bad += got != 0;
          }
  t_check(bad == 0, "packed: [group][block of NR channels][K/KB][channel][KB] holds every weight", "%dx%d: %d wrong",
          nr, kb, bad);
  t_check(zeros_bad == 0, "packed: channel and K padding is zero", "%dx%d: %d nonzero", nr, kb, zeros_bad);
  free(p);
}

static void test_layout(void) {
  /* each SIMD family's layout, as its Target declares it */
  const char *names[] = {"neon", "neon-dotprod", "avx2"};
  for (int i = 0; i < 3; i++) {
    const Target *t = target_lookup(names[i]);
    t_check(t->pack_nr > 0 && t->pack_kb > 0, "packed: every SIMD target declares its layout", "%s", names[i]);
    check_layout(t->pack_nr, t->pack_kb);
  }
}

static void test_targets(void) {
  const char *names[] = {"scalar", "neon", "neon-dotprod", "avx2"};
  for (int i = 0; i < 4; i++) {
    const Target *t = target_lookup(names[i]);
    t_check(t && strcmp(t->name, names[i]) == 0, "targets: lookup by name", "%s", names[i]);
  }
  const Target *dot = target_lookup("neon-dotprod"), *neon = target_lookup("neon"), *avx2 = target_lookup("avx2");
  t_check(strstr(dot->cflags, "+dotprod") && !strstr(neon->cflags, "dotprod"),
          "targets: only neon-dotprod asks for the dot product", "neon '%s', dotprod '%s'", neon->cflags, dot->cflags);
  t_check(strstr(avx2->cflags, "-mavx2") && !strstr(avx2->cflags, "512"), "targets: avx2 flags stop at AVX2/FMA",
          "'%s'", avx2->cflags);
  t_check(neon->makefile_vars && strstr(neon->makefile_vars, "-mfpu=neon"), "targets: neon adds -mfpu=neon for ARMv7",
          "no -mfpu=neon in the Makefile text");
  bool has_pattern = false;
  for (int i = 0; avx2->runtime_files[i]; i++) has_pattern |= strcmp(avx2->runtime_files[i], "avx2/sc_*") == 0;
  t_check(has_pattern, "targets: avx2 copies runtime/avx2", "no avx2/sc_* pattern");
}

static void test_choice(void) {
  int8_t weight[10 * 64];
  int8_t shift[10] = {0};
  memset(weight, 1, sizeof weight);
  ILayer l = {0};
  l.kind = IL_LINEAR;
  l.weight = weight;
  l.weight_count = 10 * 64;
  l.weight_bits = 8;
  l.shift = shift;
  l.nch = 10;
  l.p.lin = (sc_linear_params){.rows = 1, .in = 64, .out = 10, .weight = weight};
  l.p.lin.rq.shift = shift;
  LayerCtx c = {.l = &l, .fn = "layer1_fc", .weight = "layer1_fc_weight"};
  t_check(packed_packs_weights(&c), "packed: a linear layer runs on the packed GEMM", "not packed");
  l.p.lin.rq.k_chunk = 32;
  t_check(!packed_packs_weights(&c), "packed: a split reduction stays on the scalar kernel", "packed");
  l.p.lin.rq.k_chunk = 0;
  l.weight_bits = 4; /* two codes a byte: unpacked into the GEMM's int8 layout */
  t_check(packed_packs_weights(&c), "packed: 4-bit weights run on the packed GEMM too", "not packed");
  l.weight_bits = 8;
  l.weight_count = 10 * 32; /* a count that is not the GEMM's n x k */
  t_check(!packed_packs_weights(&c), "packed: weights the GEMM shape does not account for stay scalar", "packed");
  l.kind = IL_MAXPOOL2D;
  t_check(!packed_packs_weights(&c), "packed: only conv2d and linear pack weights", "packed");

  for (int k = IL_CONV2D; k <= IL_MATMUL; k++) {
    l.kind = (ILayerKind)k;
    t_check(target_scalar.cannot_emit(&c) == NULL, "scalar: compiles every layer kind", "kind %d refused", k);
  }
  l.kind = (ILayerKind)1000; /* a kind no build knows */
  t_check(target_scalar.cannot_emit(&c) != NULL && packed_cannot_emit(&c) != NULL,
          "scalar and SIMD targets refuse a layer kind they have no kernel for", "accepted");
}

int main(void) {
  test_layout();
  test_targets();
  test_choice();
  return t_exit_status();
}
