/* sc_matmul_softmax_s8_avx2.c — fused attention scores + i-exp softmax on AVX2. Per batch,
 * b is repacked once into int32 words holding the int16 pair (b[kk][j], b[kk+1][j]); per
 * block of SC_MMSM_ROWS rows of a, each row's pairs (a[kk], a[kk+1]) are broadcast and
 * vpmaddwd gives a[kk]*b[kk][j] + a[kk+1]*b[kk+1][j] exactly (int8 products in int32),
 * 16 columns by 4 rows in 8 accumulators: each packed b vector feeds 4 rows. The int32
 * sums equal sc_dot_s8's (integer addition in another order; legalization proves no
 * partial sum overflows). Each row of scores then goes through sc_softmax_row_simd. */
#include "sc_avx2.h"
#include "sc_internal.h"
#include "sc_simd.h"

/* (a0, a1) as two int16 in one int32 word, a0 in the low half (little endian: the layout
 * vpmaddwd pairs with the packed b). */
static inline int32_t pair16(int32_t a0, int32_t a1) {
  return (int32_t)(((uint32_t)(uint16_t)(int16_t)a1 << 16) | (uint32_t)(uint16_t)(int16_t)a0);
}

/* bp[kk2 * np + j] = pair16(b[2 kk2][j], b[2 kk2 + 1][j]), zero past k and n. */
static void pack_b(const int8_t *b, int32_t k, int32_t n, int32_t np, int32_t *bp) {
  for (int32_t kk = 0; kk < k; kk += 2) {
    const int8_t *r0 = b + (ptrdiff_t)kk * n, *r1 = kk + 1 < k ? r0 + n : NULL;
    int32_t *o = bp + (ptrdiff_t)(kk / 2) * np;
    int32_t j = 0;
    for (; j + 16 <= n; j += 16) {
      __m128i v0 = _mm_loadu_si128((const __m128i *)(const void *)(r0 + j));
      __m128i v1 = r1 ? _mm_loadu_si128((const __m128i *)(const void *)(r1 + j)) : _mm_setzero_si128();
      _mm256_storeu_si256((__m256i *)(void *)(o + j), _mm256_cvtepi8_epi16(_mm_unpacklo_epi8(v0, v1)));
      _mm256_storeu_si256((__m256i *)(void *)(o + j + 8), _mm256_cvtepi8_epi16(_mm_unpackhi_epi8(v0, v1)));
    }
    for (; j < np; j++) o[j] = j < n ? pair16(r0[j], r1 ? r1[j] : 0) : 0;
  }
}

void sc_matmul_softmax_s8_simd(const sc_matmul_softmax_params *p, const int8_t *a, const int8_t *b, int8_t *y,
                               int32_t *scratch) {
  enum { R = SC_MMSM_ROWS };
  const int32_t m = p->m, k = p->k, n = p->n, kp = SC_MMSM_KP(k), np = SC_MMSM_NPAD(n);
  int32_t *bp = scratch, *ap = bp + (ptrdiff_t)kp * np, *s = ap + R * kp;
  for (int32_t t = 0; t < p->batch; t++) {
    const int8_t *at = a + (ptrdiff_t)t * p->a_batch_stride;
    int8_t *yt = y + (ptrdiff_t)t * m * n;
    pack_b(b + (ptrdiff_t)t * p->b_batch_stride, k, n, np, bp);
    for (int32_t i0 = 0; i0 < m; i0 += R) {
      for (int r = 0; r < R; r++) { /* rows past m repeat the last one; their scores are dropped */
        const int8_t *ai = at + (ptrdiff_t)(i0 + r < m ? i0 + r : m - 1) * k;
        for (int32_t kk = 0; kk < k; kk += 2) ap[r * kp + kk / 2] = pair16(ai[kk], kk + 1 < k ? ai[kk + 1] : 0);
      }
      for (int32_t j = 0; j < np; j += 16) {
        __m256i c00 = _mm256_setzero_si256(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00,
                c31 = c00;
        const int32_t *bj = bp + j;
        for (int32_t q = 0; q < kp; q++, bj += np) {
          __m256i b0 = _mm256_loadu_si256((const __m256i *)(const void *)bj);
          __m256i b1 = _mm256_loadu_si256((const __m256i *)(const void *)(bj + 8));
          __m256i v = _mm256_set1_epi32(ap[q]);
          c00 = _mm256_add_epi32(c00, _mm256_madd_epi16(b0, v));
          c01 = _mm256_add_epi32(c01, _mm256_madd_epi16(b1, v));
          v = _mm256_set1_epi32(ap[kp + q]);
          c10 = _mm256_add_epi32(c10, _mm256_madd_epi16(b0, v));
          c11 = _mm256_add_epi32(c11, _mm256_madd_epi16(b1, v));
          v = _mm256_set1_epi32(ap[2 * kp + q]);
          c20 = _mm256_add_epi32(c20, _mm256_madd_epi16(b0, v));
          c21 = _mm256_add_epi32(c21, _mm256_madd_epi16(b1, v));
          v = _mm256_set1_epi32(ap[3 * kp + q]);
          c30 = _mm256_add_epi32(c30, _mm256_madd_epi16(b0, v));
          c31 = _mm256_add_epi32(c31, _mm256_madd_epi16(b1, v));
        }
        _mm256_storeu_si256((__m256i *)(void *)(s + j), c00);
        _mm256_storeu_si256((__m256i *)(void *)(s + j + 8), c01);
        _mm256_storeu_si256((__m256i *)(void *)(s + np + j), c10);
        _mm256_storeu_si256((__m256i *)(void *)(s + np + j + 8), c11);
        _mm256_storeu_si256((__m256i *)(void *)(s + 2 * np + j), c20);
        _mm256_storeu_si256((__m256i *)(void *)(s + 2 * np + j + 8), c21);
        _mm256_storeu_si256((__m256i *)(void *)(s + 3 * np + j), c30);
        _mm256_storeu_si256((__m256i *)(void *)(s + 3 * np + j + 8), c31);
      }
      for (int r = 0; r < R && i0 + r < m; r++)
        sc_softmax_row_simd(&p->sm, n, s + r * np, p->score_lshift, yt + (ptrdiff_t)(i0 + r) * n, s + r * np);
    }
  }
}
