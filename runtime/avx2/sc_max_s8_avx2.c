/* sc_max_s8_avx2.c — byte-wise maxima for max pooling (sc_simd.h), 32 codes a step. */
#include "sc_avx2.h"
#include "sc_simd.h"

void sc_max_s8_rows(int8_t *acc, const int8_t *x, int32_t n) {
  int32_t i = 0;
  for (; i + 32 <= n; i += 32) {
    __m256i a = _mm256_loadu_si256((const __m256i *)(const void *)(acc + i));
    __m256i b = _mm256_loadu_si256((const __m256i *)(const void *)(x + i));
    _mm256_storeu_si256((__m256i *)(void *)(acc + i), _mm256_max_epi8(a, b));
  }
  for (; i < n; i++)
    if (x[i] > acc[i]) acc[i] = x[i];
}

void sc_max_s8_pairs(const int8_t *v, int8_t *y, int32_t n) {
  int32_t i = 0;
  for (; i + 16 <= n; i += 16) { /* 32 codes in, 16 out */
    __m256i w = _mm256_loadu_si256((const __m256i *)(const void *)(v + 2 * i));
    __m256i even = _mm256_srai_epi16(_mm256_slli_epi16(w, 8), 8); /* v[2j] as int16 */
    __m256i odd = _mm256_srai_epi16(w, 8);                        /* v[2j+1] as int16 */
    __m256i m = _mm256_max_epi16(even, odd);
    /* packs works within 128-bit halves: [m0..7, m0..7 | m8..15, m8..15]; gather lanes 0 and 2 */
    __m256i packed = _mm256_permute4x64_epi64(_mm256_packs_epi16(m, m), 0x08);
    _mm_storeu_si128((__m128i *)(void *)(y + i), _mm256_castsi256_si128(packed));
  }
  for (; i < n; i++) y[i] = v[2 * i] > v[2 * i + 1] ? v[2 * i] : v[2 * i + 1];
}
