/* sc_softmax_s8_avx2.c — i-exp softmax rows on AVX2, 8 int32 lanes, bit-identical to
 * sc_softmax_row_shifted (sc_internal.h) and the helpers it calls (shiftc_rt.h):
 *   diff   (x - max) << lshift clamped below at lo = 30*x0, in int32 without the scalar's
 *          int64: d < lo exactly when x - max <= lim = floor((lo - 1) / 2^lshift), i.e. when
 *          x < thr = max + lim + 1; other lanes have x - max > lim >= lo, so neither the
 *          difference (x clamped to >= thr first) nor the shift leaves int32.
 *   exp    z = d / x0 in [0, 30] from a float estimate (off by at most one: |d| < 2^31, both
 *          roundings relative 2^-24) corrected so that r = d - z*x0 lies in (x0, 0]; then
 *          poly = (r + b_int)^2 + c_int, in int32 when its largest value (r = 0) fits, else
 *          in int64 lanes (vpmuldq), shifted by poly_shift, then right by z.
 *   prob   (e * floor(2^31/sum) + 2^23) >> 24 in uint32: e <= sum, so e * f <= 2^31. */
#include "sc_avx2.h"
#include "sc_internal.h"
#include "sc_simd.h"

/* e of 8 differences d (already clamped to [30*x0, 0]). */
static inline __m256i exp8(const sc_softmax_params *p, __m256i d, __m256 rcp, int wide) {
  const __m256i zero = _mm256_setzero_si256(), x0 = _mm256_set1_epi32(p->x0);
  __m256i z = _mm256_cvttps_epi32(_mm256_mul_ps(_mm256_cvtepi32_ps(d), rcp));
  __m256i r = _mm256_sub_epi32(d, _mm256_mullo_epi32(z, x0));
  __m256i over = _mm256_cmpgt_epi32(r, zero); /* z one too large: r in (0, -x0] */
  z = _mm256_add_epi32(z, over);
  r = _mm256_add_epi32(r, _mm256_and_si256(over, x0));
  __m256i under = _mm256_cmpgt_epi32(_mm256_add_epi32(x0, _mm256_set1_epi32(1)), r); /* r <= x0: one too small */
  z = _mm256_sub_epi32(z, under);
  r = _mm256_sub_epi32(r, _mm256_and_si256(under, x0));
  __m256i t = _mm256_add_epi32(r, _mm256_set1_epi32(p->b_int));
  if (!wide) {
    __m256i poly = _mm256_add_epi32(_mm256_mullo_epi32(t, t), _mm256_set1_epi32((int32_t)p->c_int));
    poly = p->poly_shift >= 0 ? _mm256_sra_epi32(poly, _mm_cvtsi32_si128(p->poly_shift))
                              : _mm256_sll_epi32(poly, _mm_cvtsi32_si128(-p->poly_shift));
    return _mm256_srav_epi32(poly, z);
  }
  const __m256i c = _mm256_set1_epi64x(p->c_int), low = _mm256_set1_epi64x(0xFFFFFFFF);
  __m256i pe = _mm256_add_epi64(_mm256_mul_epi32(t, t), c); /* lanes 0, 2, 4, 6 */
  __m256i to = _mm256_srli_epi64(t, 32);
  __m256i po = _mm256_add_epi64(_mm256_mul_epi32(to, to), c); /* lanes 1, 3, 5, 7 */
  if (p->poly_shift >= 0) { /* poly > 0: the logical shift is the scalar's >> */
    pe = _mm256_srl_epi64(pe, _mm_cvtsi32_si128(p->poly_shift));
    po = _mm256_srl_epi64(po, _mm_cvtsi32_si128(p->poly_shift));
  } else {
    pe = _mm256_sll_epi64(pe, _mm_cvtsi32_si128(-p->poly_shift));
    po = _mm256_sll_epi64(po, _mm_cvtsi32_si128(-p->poly_shift));
  }
  pe = _mm256_srlv_epi64(pe, _mm256_and_si256(z, low));
  po = _mm256_srlv_epi64(po, _mm256_srli_epi64(z, 32));
  return _mm256_blend_epi32(pe, _mm256_slli_epi64(po, 32), 0xAA); /* the low 32 bits, as (int32_t) */
}

void sc_softmax_row_simd(const sc_softmax_params *p, int32_t n, const int32_t *x, int lshift, int8_t *y,
                         int32_t *scratch) {
  if (n < 16) {
    sc_softmax_row_shifted(p, n, x, lshift, y, scratch);
    return;
  }
  const int32_t n8 = n & ~7;
  __m256i vm = _mm256_loadu_si256((const __m256i *)(const void *)x);
  for (int32_t j = 8; j < n8; j += 8)
    vm = _mm256_max_epi32(vm, _mm256_loadu_si256((const __m256i *)(const void *)(x + j)));
  int32_t max = sc_avx2_hmax(vm);
  for (int32_t j = n8; j < n; j++)
    if (x[j] > max) max = x[j];
  const int64_t lo = 30 * (int64_t)p->x0;
  int64_t thr = (int64_t)max + sc_sra64(lo - 1, lshift) + 1;
  if (thr < INT32_MIN) thr = INT32_MIN; /* then no x is below it */
  /* The largest poly (r = 0, t = b_int) and the smallest t (r -> x0) bound the int32 path. */
  const int64_t t_hi = p->b_int, t_lo = (int64_t)p->b_int + p->x0 + 1;
  const int64_t t_big = t_hi > -t_lo ? (t_hi > t_lo ? t_hi : t_lo) : -t_lo;
  const int64_t poly_max = t_big * t_big + p->c_int;
  const int wide = !(p->c_int >= 0 && poly_max < ((int64_t)1 << 31) &&
                     (p->poly_shift >= 0 || poly_max < ((int64_t)1 << (31 + p->poly_shift))));
  const __m256i vmax = _mm256_set1_epi32(max), vthr = _mm256_set1_epi32((int32_t)thr);
  const __m256i vlo = _mm256_set1_epi32((int32_t)lo);
  const __m128i sh = _mm_cvtsi32_si128(lshift);
  const __m256 rcp = _mm256_set1_ps(1.0f / (float)p->x0);
  __m256i vsum = _mm256_setzero_si256();
  for (int32_t j = 0; j < n8; j += 8) {
    __m256i v = _mm256_loadu_si256((const __m256i *)(const void *)(x + j));
    __m256i below = _mm256_cmpgt_epi32(vthr, v);
    __m256i d = _mm256_sll_epi32(_mm256_sub_epi32(_mm256_max_epi32(v, vthr), vmax), sh);
    __m256i e = exp8(p, _mm256_blendv_epi8(d, vlo, below), rcp, wide);
    vsum = _mm256_add_epi32(vsum, e);
    _mm256_storeu_si256((__m256i *)(void *)(scratch + j), e);
  }
  int32_t sum = sc_avx2_hsum(vsum);
  for (int32_t j = n8; j < n; j++) {
    scratch[j] = sc_softmax_exp(p, sc_softmax_diff(p, x[j], max, lshift));
    sum += scratch[j];
  }
  const int32_t f = (int32_t)(((int64_t)1 << 31) / sum); /* sum >= 2^14: f <= 2^17 */
  const __m256i vf = _mm256_set1_epi32(f), rnd = _mm256_set1_epi32(1 << 23), cap = _mm256_set1_epi32(127);
  for (int32_t j = 0; j < n8; j += 8) {
    __m256i e = _mm256_loadu_si256((const __m256i *)(const void *)(scratch + j));
    __m256i o = _mm256_srli_epi32(_mm256_add_epi32(_mm256_mullo_epi32(e, vf), rnd), 24);
    sc_avx2_store8_s8(y + j, _mm256_min_epi32(o, cap));
  }
  for (int32_t j = n8; j < n; j++) y[j] = sc_softmax_prob(scratch[j], sum);
}

void sc_softmax_s8_simd(const sc_softmax_params *p, int32_t rows, int32_t n, const int8_t *x, int8_t *y,
                        int32_t *scratch) {
  const int32_t n8 = n & ~7;
  for (int32_t r = 0; r < rows; r++) {
    const int8_t *xr = x + (ptrdiff_t)r * n;
    for (int32_t j = 0; j < n8; j += 8)
      _mm256_storeu_si256((__m256i *)(void *)(scratch + j),
                          _mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(const void *)(xr + j))));
    for (int32_t j = n8; j < n; j++) scratch[j] = xr[j];
    sc_softmax_row_simd(p, n, scratch, p->in_lshift, y + (ptrdiff_t)r * n, scratch);
  }
}
