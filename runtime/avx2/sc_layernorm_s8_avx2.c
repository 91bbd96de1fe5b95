/* sc_layernorm_s8_avx2.c — integer LayerNorm (L2 and L1 forms) on AVX2, bit-identical to
 * sc_layernorm_s8 (shiftc_rt.h: sc_layernorm_mean8, _factor, _norm and the output stage).
 *   Statistics: sum q and sum q^2 in one pass (vpmaddwd on the codes widened to int16;
 *     lane sums stay below 2^27 for rows under 2^15 codes). The L2 form needs no second
 *     pass: sum (256 q - mu8)^2 = 65536 sum q^2 - 512 mu8 sum q + n mu8^2, the same
 *     integer (every term below 2^48) the scalar kernel sums element by element. The
 *     L1 form sums |256 q - mu8| in int32 lanes (each below 2^28 for n < 2^15).
 *   The square root and the factor, once per row, are the scalar code's.
 *   Output, 4 channels per int64 lane group: d = 256 q - mu8 (17 bits); L2 yn = (d*fac) >> 1
 *     with fac < 2^31 (one vpmuldq); L1 yn = (d*fac + 2^15) >> 16 with fac up to 2^48,
 *     as |d| times fac's two 32-bit halves, then the sign (|d*fac| <= n 2^32); then
 *     yn*g[c] (|yn| < 2^31: vpmuldq) + b[c], rounded right by shift, clamped. */
#include <string.h>

#include "sc_avx2.h"
#include "sc_simd.h"

static inline __m256i load4_s8_64(const int8_t *x) { /* 4 codes as 4 int64 lanes */
  int32_t w;
  memcpy(&w, x, 4);
  return _mm256_cvtepi8_epi64(_mm_cvtsi32_si128(w));
}

/* The output codes of 4 channels c..c+3 as int64 lanes. */
static inline __m256i out4(const sc_layernorm_params *p, const int8_t *x, int32_t c, __m256i mu, __m256i fl,
                           __m256i fh, __m256i rnd, __m256i lo, __m256i hi) {
  __m256i d = _mm256_sub_epi64(_mm256_slli_epi64(load4_s8_64(x + c), 8), mu);
  __m256i yn;
  if (!p->l1) {
    yn = sc_avx2_sra64(_mm256_mul_epi32(d, fl), 1);
  } else {
    __m256i ad = _mm256_abs_epi32(d); /* low dwords: |d| (d fits int32) */
    __m256i m = _mm256_add_epi64(_mm256_mul_epu32(ad, fl), _mm256_slli_epi64(_mm256_mul_epu32(ad, fh), 32));
    __m256i neg = _mm256_cmpgt_epi64(_mm256_setzero_si256(), d);
    m = _mm256_sub_epi64(_mm256_xor_si256(m, neg), neg);
    yn = sc_avx2_sra64(_mm256_add_epi64(m, _mm256_set1_epi64x((int64_t)1 << 15)), 16);
  }
  __m256i g = _mm256_cvtepi32_epi64(_mm_loadu_si128((const __m128i *)(const void *)(p->g + c)));
  __m256i v = _mm256_add_epi64(_mm256_mul_epi32(yn, g), _mm256_loadu_si256((const __m256i *)(const void *)(p->b + c)));
  if (p->shift > 0) v = sc_avx2_sra64(_mm256_add_epi64(v, rnd), p->shift);
  v = _mm256_blendv_epi8(v, lo, _mm256_cmpgt_epi64(lo, v));
  return _mm256_blendv_epi8(v, hi, _mm256_cmpgt_epi64(v, hi));
}

void sc_layernorm_s8_simd(const sc_layernorm_params *p, const int8_t *x, int8_t *y) {
  const int32_t n = p->n;
  if (n < 16 || n >= 32768) {
    sc_layernorm_s8(p, x, y);
    return;
  }
  const int32_t n16 = n & ~15, n8 = n & ~7;
  const __m256i ones = _mm256_set1_epi16(1), idx = _mm256_setr_epi32(0, 2, 4, 6, 0, 2, 4, 6);
  const __m256i rnd = _mm256_set1_epi64x(p->shift > 0 ? (int64_t)1 << (p->shift - 1) : 0);
  const __m256i lo = _mm256_set1_epi64x(p->lo), hi = _mm256_set1_epi64x(p->hi);
  for (int32_t r = 0; r < p->rows; r++) {
    const int8_t *xr = x + (ptrdiff_t)r * n;
    int8_t *yr = y + (ptrdiff_t)r * n;
    __m256i s1 = _mm256_setzero_si256(), s2 = s1;
    for (int32_t j = 0; j < n16; j += 16) {
      __m256i q = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(const void *)(xr + j)));
      s1 = _mm256_add_epi32(s1, _mm256_madd_epi16(q, ones));
      s2 = _mm256_add_epi32(s2, _mm256_madd_epi16(q, q));
    }
    int64_t sum = sc_avx2_hsum(s1), sq = sc_avx2_hsum(s2);
    for (int32_t j = n16; j < n; j++) {
      sum += xr[j];
      sq += (int32_t)xr[j] * xr[j];
    }
    const int32_t mu8 = (int32_t)sc_floor_div64(sum * 256 + n / 2, n);
    uint64_t acc;
    if (!p->l1) {
      acc = (uint64_t)(65536 * sq - 512 * (int64_t)mu8 * sum + (int64_t)n * mu8 * mu8);
    } else {
      const __m256i vmu = _mm256_set1_epi32(mu8);
      __m256i s = _mm256_setzero_si256();
      for (int32_t j = 0; j < n8; j += 8) {
        __m256i q = _mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(const void *)(xr + j)));
        s = _mm256_add_epi32(s, _mm256_abs_epi32(_mm256_sub_epi32(_mm256_slli_epi32(q, 8), vmu)));
      }
      acc = (uint64_t)(uint32_t)sc_avx2_hsum(s); /* below 2^31: n < 2^15 codes, each |d| < 2^16 */
      for (int32_t j = n8; j < n; j++) {
        int64_t d = (int64_t)xr[j] * 256 - mu8;
        acc += (uint64_t)(d < 0 ? -d : d);
      }
    }
    /* sc_layernorm_factor's last lines, on the same sum */
    int64_t fac = acc == 0 ? 0
                  : p->l1  ? (int64_t)(((uint64_t)n << 32) / acc)
                           : (int64_t)(INT32_MAX / sc_isqrt64(acc));
    const __m256i mu = _mm256_set1_epi64x(mu8), fl = _mm256_set1_epi64x(fac & 0xFFFFFFFF),
                  fh = _mm256_set1_epi64x(fac >> 32);
    for (int32_t c = 0; c < n8; c += 8) {
      __m256i v0 = _mm256_permutevar8x32_epi32(out4(p, xr, c, mu, fl, fh, rnd, lo, hi), idx);
      __m256i v1 = _mm256_permutevar8x32_epi32(out4(p, xr, c + 4, mu, fl, fh, rnd, lo, hi), idx);
      sc_avx2_store8_s8(yr + c, _mm256_inserti128_si256(v0, _mm256_castsi256_si128(v1), 1));
    }
    for (int32_t c = n8; c < n; c++) {
      int64_t v = sc_rshift_round64(sc_layernorm_norm(p->l1, xr[c], mu8, fac) * p->g[c] + p->b[c], p->shift);
      yr[c] = (int8_t)(v < p->lo ? p->lo : v > p->hi ? p->hi : v);
    }
  }
}
