/* sc_matmul_s8_avx2.c — batched matmul of two int8 activations on AVX2: 8 output
 * columns at a time; rows kk and kk+1 of b are interleaved into int16 pairs and
 * multiplied by the broadcast pair (a[kk], a[kk+1]) with vpmaddwd (exact). */
#include "sc_avx2.h"
#include "sc_internal.h"
#include "sc_simd.h"

static inline __m128i load8(const int8_t *p) { return _mm_loadl_epi64((const __m128i *)(const void *)p); }

/* (a0, a1) as two int16 in one int32 lane, a0 in the low half. */
static inline int32_t pair16(int8_t a0, int8_t a1) {
  return (int32_t)(((uint32_t)(uint16_t)(int16_t)a1 << 16) | (uint32_t)(uint16_t)(int16_t)a0);
}

/* output columns per step: one vector of int32 lanes */
enum { SC_LANES = 8 };

void sc_matmul_s8_simd(const sc_matmul_params *p, const int8_t *a, const int8_t *b, int8_t *y) {
  const int32_t m = p->m, k = p->k, n = p->n;
  int32_t mult[SC_LANES], shift[SC_LANES], out[SC_LANES];
  for (int j = 0; j < SC_LANES; j++) {
    mult[j] = p->rq.mult ? p->rq.mult[0] : 0;
    shift[j] = p->rq.shift[0];
  }
  for (int32_t t = 0; t < p->batch; t++) {
    const int8_t *at = a + (ptrdiff_t)t * p->a_batch_stride;
    const int8_t *bt = b + (ptrdiff_t)t * p->b_batch_stride;
    int8_t *yt = y + (ptrdiff_t)t * m * n;
    for (int32_t i = 0; i < m; i++) {
      const int8_t *ai = at + (ptrdiff_t)i * k;
      int8_t *yi = yt + (ptrdiff_t)i * n;
      int32_t j = 0;
      for (; j + SC_LANES <= n; j += SC_LANES) {
        __m256i acc = _mm256_setzero_si256();
        const int8_t *bj = bt + j;
        int32_t kk = 0;
        for (; kk + 2 <= k; kk += 2) {
          __m256i bw = _mm256_cvtepi8_epi16(_mm_unpacklo_epi8(load8(bj + (ptrdiff_t)kk * n), load8(bj + (ptrdiff_t)(kk + 1) * n)));
          acc = _mm256_add_epi32(acc, _mm256_madd_epi16(bw, _mm256_set1_epi32(pair16(ai[kk], ai[kk + 1]))));
        }
        if (kk < k) {
          __m256i bw = _mm256_cvtepi8_epi16(_mm_unpacklo_epi8(load8(bj + (ptrdiff_t)kk * n), _mm_setzero_si128()));
          acc = _mm256_add_epi32(acc, _mm256_madd_epi16(bw, _mm256_set1_epi32(pair16(ai[kk], 0))));
        }
        acc = sc_avx2_requant(acc, mult, shift, p->rq.mult != NULL, p->rq.lo, p->rq.hi);
        _mm256_storeu_si256((__m256i *)(void *)out, acc);
        for (int c = 0; c < SC_LANES; c++) yi[j + c] = (int8_t)out[c];
      }
      for (; j < n; j++) /* the last n % 8 columns: the scalar sum */
        yi[j] = (int8_t)sc_requant_apply(&p->rq, 0, sc_dot_s8(ai, 1, bt + j, n, k));
    }
  }
}
