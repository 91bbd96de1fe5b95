/* test_gemm_f32.c — gemm_f32 (the float reference's matrix product) gives the bits of the
 * naive loop it replaced (one float accumulator per output from 0, k ascending, product
 * rounded then added, bias after) for every tile remainder (M mod 4, N mod 8 and 16), K = 0,
 * transposed and strided operands, with and without bias; and sc_dot_s8's 16-lane path
 * gives the int32 of the one-accumulator sum. */
#include "shiftc.h"
#include "testlib.h"
#include "sc_internal.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint32_t next(void) {
  rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
  return (uint32_t)(rng >> 11);
}
/* Values with many mantissa bits so that any change of order or rounding shows. */
static float rnd(void) { return ((float)(next() % 2000001) - 1000000.0f) / 77777.0f; }

static void naive(const float *a, int64_t ars, int64_t aks, const float *b, int64_t bks, int64_t bjs,
                  const float *bias, float *c, int64_t crs, int64_t M, int64_t K, int64_t N) {
  for (int64_t i = 0; i < M; i++)
    for (int64_t j = 0; j < N; j++) {
      volatile float acc = 0.0f; /* volatile: one rounding per step, as the reference defines */
      for (int64_t k = 0; k < K; k++) {
        volatile float p = a[i * ars + k * aks] * b[k * bks + j * bjs];
        acc = acc + p;
      }
      c[i * crs + j] = bias ? acc + bias[j] : acc;
    }
}

int main(void) {
  static const int Ns[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 15, 16, 17, 33};
  int bad = 0, cases = 0, ran[3] = {0, 0, 0};
  for (int M = 1; M <= 9; M++)
    for (size_t ni = 0; ni < sizeof Ns / sizeof *Ns; ni++)
      for (int K = 0; K <= 37; K += 9)
        for (int form = 0; form < 3; form++) {
          int N = Ns[ni];
          /* form 0: a [M,K] @ b [K,N]; 1: linear, b = W [N,K] read transposed; 2: a read
           * transposed from [K,M], c with a row stride wider than N, bias. */
          float *a = xmalloc(sizeof(float) * (size_t)(M * K + 1)), *b = xmalloc(sizeof(float) * (size_t)(K * N + 1));
          float *bias = xmalloc(sizeof(float) * (size_t)N);
          int64_t crs = form == 2 ? N + 3 : N;
          float *c1 = xcalloc((size_t)(M * crs), sizeof(float)), *c2 = xcalloc((size_t)(M * crs), sizeof(float));
          for (int i = 0; i < M * K; i++) a[i] = rnd();
          for (int i = 0; i < K * N; i++) b[i] = rnd();
          for (int i = 0; i < N; i++) bias[i] = rnd();
          int64_t ars = form == 2 ? 1 : K, aks = form == 2 ? M : 1;
          int64_t bks = form == 1 ? 1 : N, bjs = form == 1 ? K : 1;
          const float *bs = form >= 1 ? bias : NULL;
          naive(a, ars, aks, b, bks, bjs, bs, c1, crs, M, K, N);
          for (int variant = 0; variant < 3; variant++) {
            memset(c2, 0, sizeof(float) * (size_t)(M * crs));
            if (variant < 2) {
              if (!gemm_f32_variant(variant, a, ars, aks, b, bks, bjs, bs, c2, crs, M, K, N)) continue;
            } else {
              gemm_f32(a, ars, aks, b, bks, bjs, bs, c2, crs, M, K, N);
            }
            if (memcmp(c1, c2, sizeof(float) * (size_t)(M * crs)) != 0) {
              if (bad++ < 3) printf("# differs: M %d K %d N %d form %d variant %d\n", M, K, N, form, variant);
            }
            cases++;
            ran[variant]++;
          }
          free(a), free(b), free(bias), free(c1), free(c2);
        }
  t_check(bad == 0, "gemm_f32: the naive loop's bits for every tile remainder, stride and bias",
          "%d of %d cases differ", bad, cases);
  printf("# cases run: 4-float vectors %d, AVX %d (0: host without AVX), dispatch %d\n", ran[0], ran[1], ran[2]);

  int dbad = 0;
  int8_t x[200], w[400];
  for (int i = 0; i < 200; i++) x[i] = (int8_t)(next() & 0xff);
  for (int i = 0; i < 400; i++) w[i] = (int8_t)(next() & 0xff);
  x[0] = w[0] = -128;
  for (int len = 0; len <= 200; len++)
    for (int sb = 1; sb <= 2; sb++) {
      int32_t ref = 0;
      for (int i = 0; i < len; i++) ref += (int32_t)x[i] * (int32_t)w[i * sb];
      if (sc_dot_s8(x, 1, w, sb, len) != ref) dbad++;
    }
  t_check(dbad == 0, "sc_dot_s8: 16-lane sums equal the one-accumulator sum (lengths 0..200, strides 1, 2)",
          "%d differ", dbad);
  return t_exit_status();
}
