/* sc_packed_row_avx2.c — the avx2 target's GEMM micro-kernel (sc_simd.h): one row of
 * activations times 8 packed output channels at a time. Exact: codes are sign-extended
 * to int16 and vpmaddwd adds pairs of products into int32 (no saturating step). */
#include <string.h>

#include "sc_avx2.h"
#include "sc_simd.h"

static inline __m256i load16_s16(const int8_t *p) {
  return _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(const void *)p));
}

void sc_packed_row(const sc_packed_weights *pw, const int8_t *w, int32_t c0, int32_t n, const int8_t *a,
                   int8_t *y, ptrdiff_t y_stride) {
  const int32_t k = pw->k, groups = pw->k_pad / SC_PACK_KB, full = k / SC_PACK_KB;
  int8_t tail[SC_PACK_KB] = {0}; /* the last, partial group of a, zero padded */
  if (full < groups) memcpy(tail, a + (ptrdiff_t)full * SC_PACK_KB, (size_t)(k - full * SC_PACK_KB));
  for (int32_t nb = 0; nb < n; nb += SC_PACK_NR, w += (ptrdiff_t)SC_PACK_NR * pw->k_pad) {
    __m256i c0v = _mm256_setzero_si256(), c1 = c0v, c2 = c0v, c3 = c0v, c4 = c0v, c5 = c0v, c6 = c0v, c7 = c0v;
    const int8_t *wg = w;
    for (int32_t g = 0; g < groups; g++, wg += SC_PACK_NR * SC_PACK_KB) {
      const __m256i av = load16_s16(g < full ? a + (ptrdiff_t)g * SC_PACK_KB : tail);
      c0v = _mm256_add_epi32(c0v, _mm256_madd_epi16(av, load16_s16(wg + 0 * SC_PACK_KB)));
      c1 = _mm256_add_epi32(c1, _mm256_madd_epi16(av, load16_s16(wg + 1 * SC_PACK_KB)));
      c2 = _mm256_add_epi32(c2, _mm256_madd_epi16(av, load16_s16(wg + 2 * SC_PACK_KB)));
      c3 = _mm256_add_epi32(c3, _mm256_madd_epi16(av, load16_s16(wg + 3 * SC_PACK_KB)));
      c4 = _mm256_add_epi32(c4, _mm256_madd_epi16(av, load16_s16(wg + 4 * SC_PACK_KB)));
      c5 = _mm256_add_epi32(c5, _mm256_madd_epi16(av, load16_s16(wg + 5 * SC_PACK_KB)));
      c6 = _mm256_add_epi32(c6, _mm256_madd_epi16(av, load16_s16(wg + 6 * SC_PACK_KB)));
      c7 = _mm256_add_epi32(c7, _mm256_madd_epi16(av, load16_s16(wg + 7 * SC_PACK_KB)));
    }
    const int32_t nc = n - nb < SC_PACK_NR ? n - nb : SC_PACK_NR;
    int32_t bias[SC_PACK_NR], mult[SC_PACK_NR], shift[SC_PACK_NR], out[SC_PACK_NR];
    sc_packed_lanes(pw, c0 + nb, nc, bias, mult, shift);
    __m256i v = _mm256_add_epi32(sc_avx2_hsum8(c0v, c1, c2, c3, c4, c5, c6, c7),
                                 _mm256_loadu_si256((const __m256i *)(const void *)bias));
    v = sc_avx2_requant(v, mult, shift, pw->rq.mult != NULL, pw->rq.lo, pw->rq.hi);
    _mm256_storeu_si256((__m256i *)(void *)out, v);
    for (int32_t j = 0; j < nc; j++) y[(nb + j) * y_stride] = (int8_t)out[j];
  }
}
