/* gemm_f32.c — the float reference's one matrix product (linear, matmul, attention), fast
 * and with exactly the bits of the naive loop:
 *
 *   c[i*crs + j] = (sum over k = 0..K-1 of a[i*ars + k*aks] * b[k*bks + j*bjs]) + bias[j]
 *
 * with one float accumulator per output starting at 0, k ascending, each product rounded
 * to float and then added (no fused multiply-add), and the bias (if any) added once after
 * the sum. Calibration runs the float graph over every sample, so this loop is most of
 * `shiftc compile`'s time on a Transformer (BERT-base layer: 0.9 G multiply-adds per sample).
 *
 * The speed comes from blocking, never from reassociation: every output still has its own
 * accumulator and sees its K terms in the same order, so the result cannot depend on the
 * blocking, the vector width or the machine. B is packed, NR columns at a time, into a
 * k-major panel (zero-padded past N); a 4 x NR tile of outputs is held in vector
 * accumulators (generic vector types: SSE2 on any x86-64, NEON on AArch64) and each k
 * step adds one broadcast A element times one panel row to each of the 4 rows. On x86-64
 * hosts with AVX (checked at run time) the same kernel runs on 8-float vectors (NR = 16);
 * elsewhere on 4-float vectors (NR = 8). Both round every lane as the scalar loop does.
 *
 * The product and the sum are separate statements: clang's default -ffp-contract=on may
 * fuse a*b + c written as one expression into an FMA on targets that have one, which would
 * round once instead of twice and change the reference's bits. */
#include "shiftc.h"

#include <stdlib.h>
#include <string.h>

enum { MR = 4 };

/* Packs columns j0 .. j0+nr-1 of B (nr <= NR) into panel[k*NR + t], zeros past nr. */
static void pack_panel(const float *b, int64_t bks, int64_t bjs, int64_t K, int64_t j0, int nr, int NR, float *panel) {
  if (nr < NR) memset(panel, 0, sizeof(float) * (size_t)(K * NR));
  for (int t = 0; t < nr; t++) {
    const float *col = b + (j0 + t) * bjs;
    for (int64_t k = 0; k < K; k++) panel[k * NR + t] = col[k * bks];
  }
}

/* The kernel for one vector type VT of VW floats (NR = 2 VW columns per panel), compiled
 * with the function attribute ATTR: SUFFIX names its functions. tile_4 holds a 4 x NR
 * tile in 8 vector accumulators; tile_1 is one row (the rows past the last full tile). */
#define GEMM_KERNEL(SUFFIX, ATTR, VT, VW)                                                                         \
  static ATTR inline VT load_##SUFFIX(const float *p) {                                                         \
    VT v;                                                                                                       \
    memcpy(&v, p, sizeof v);                                                                                    \
    return v;                                                                                                   \
  }                                                                                                             \
  static ATTR inline void store_##SUFFIX(const VT acc[2], float *c, const float *bias, int nr) {                \
    float lane[2 * VW];                                                                                         \
    memcpy(lane, &acc[0], sizeof(VT));                                                                          \
    memcpy(lane + VW, &acc[1], sizeof(VT));                                                                     \
    for (int t = 0; t < nr; t++) c[t] = bias ? lane[t] + bias[t] : lane[t];                                     \
  }                                                                                                             \
  static ATTR void tile4_##SUFFIX(const float *a, int64_t ars, int64_t aks, const float *panel, int64_t K,      \
                                  float *c, int64_t crs, const float *bias, int nr) {                           \
    VT acc[MR][2];                                                                                              \
    memset(acc, 0, sizeof acc);                                                                                 \
    const float *a0 = a, *a1 = a + ars, *a2 = a + 2 * ars, *a3 = a + 3 * ars;                                   \
    for (int64_t k = 0; k < K; k++) {                                                                           \
      VT b0 = load_##SUFFIX(panel + k * 2 * VW), b1 = load_##SUFFIX(panel + k * 2 * VW + VW), p;                \
      float x0 = a0[k * aks], x1 = a1[k * aks], x2 = a2[k * aks], x3 = a3[k * aks];                             \
      p = b0 * x0;                                                                                              \
      acc[0][0] += p;                                                                                           \
      p = b1 * x0;                                                                                              \
      acc[0][1] += p;                                                                                           \
      p = b0 * x1;                                                                                              \
      acc[1][0] += p;                                                                                           \
      p = b1 * x1;                                                                                              \
      acc[1][1] += p;                                                                                           \
      p = b0 * x2;                                                                                              \
      acc[2][0] += p;                                                                                           \
      p = b1 * x2;                                                                                              \
      acc[2][1] += p;                                                                                           \
      p = b0 * x3;                                                                                              \
      acc[3][0] += p;                                                                                           \
      p = b1 * x3;                                                                                              \
      acc[3][1] += p;                                                                                           \
    }                                                                                                           \
    for (int r = 0; r < MR; r++) store_##SUFFIX(acc[r], c + r * crs, bias, nr);                                 \
  }                                                                                                             \
  static ATTR void tile1_##SUFFIX(const float *a, int64_t aks, const float *panel, int64_t K, float *c,         \
                                  const float *bias, int nr) {                                                  \
    VT acc[2];                                                                                                  \
    memset(acc, 0, sizeof acc);                                                                                 \
    for (int64_t k = 0; k < K; k++) {                                                                           \
      float x = a[k * aks];                                                                                     \
      VT p = load_##SUFFIX(panel + k * 2 * VW) * x;                                                             \
      acc[0] += p;                                                                                              \
      p = load_##SUFFIX(panel + k * 2 * VW + VW) * x;                                                           \
      acc[1] += p;                                                                                              \
    }                                                                                                           \
    store_##SUFFIX(acc, c, bias, nr);                                                                           \
  }                                                                                                             \
  static ATTR void gemm_##SUFFIX(const float *a, int64_t ars, int64_t aks, const float *b, int64_t bks,         \
                                 int64_t bjs, const float *bias, float *c, int64_t crs, int64_t M, int64_t K,   \
                                 int64_t N) {                                                                   \
    const int NR = 2 * VW;                                                                                      \
    float *panel = xmalloc(sizeof(float) * (size_t)((K > 0 ? K : 1) * NR));                                     \
    for (int64_t j0 = 0; j0 < N; j0 += NR) {                                                                    \
      int nr = N - j0 < NR ? (int)(N - j0) : NR;                                                                \
      pack_panel(b, bks, bjs, K, j0, nr, NR, panel);                                                            \
      const float *bj = bias ? bias + j0 : NULL;                                                                \
      int64_t i = 0;                                                                                            \
      for (; i + MR <= M; i += MR) tile4_##SUFFIX(a + i * ars, ars, aks, panel, K, c + i * crs + j0, crs, bj, nr); \
      for (; i < M; i++) tile1_##SUFFIX(a + i * ars, aks, panel, K, c + i * crs + j0, bj, nr);                  \
    }                                                                                                           \
    free(panel);                                                                                                \
  }

typedef float v4f __attribute__((vector_size(16)));
GEMM_KERNEL(v4, , v4f, 4)

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define GEMM_AVX 1
typedef float v8f __attribute__((vector_size(32)));
GEMM_KERNEL(avx, __attribute__((target("avx"))), v8f, 8)
#endif

bool gemm_f32_variant(int variant, const float *a, int64_t ars, int64_t aks, const float *b, int64_t bks, int64_t bjs,
                      const float *bias, float *c, int64_t crs, int64_t M, int64_t K, int64_t N) {
  if (M <= 0 || N <= 0) return true;
  if (variant == 0) {
    gemm_v4(a, ars, aks, b, bks, bjs, bias, c, crs, M, K, N);
    return true;
  }
#ifdef GEMM_AVX
  if (variant == 1 && __builtin_cpu_supports("avx")) {
    gemm_avx(a, ars, aks, b, bks, bjs, bias, c, crs, M, K, N);
    return true;
  }
#endif
  return false;
}

void gemm_f32(const float *a, int64_t ars, int64_t aks, const float *b, int64_t bks, int64_t bjs, const float *bias,
              float *c, int64_t crs, int64_t M, int64_t K, int64_t N) {
  if (!gemm_f32_variant(1, a, ars, aks, b, bks, bjs, bias, c, crs, M, K, N))
    gemm_f32_variant(0, a, ars, aks, b, bks, bjs, bias, c, crs, M, K, N);
}
