/* sc_softmax_s8_neon.c — i-exp softmax rows on NEON, 4 int32 lanes, bit-identical to
 * sc_softmax_row_shifted (sc_internal.h); the same steps as the AVX2 kernel
 * (runtime/avx2/sc_softmax_s8_avx2.c says why each is exact):
 *   diff   x < thr = max + floor((lo - 1) / 2^lshift) + 1 gives lo = 30*x0, other lanes
 *          (x clamped to >= thr first) (x - max) << lshift, all in int32;
 *   exp    z = d / x0 from a float estimate corrected by one step, r = d - z*x0, then
 *          poly = (r + b_int)^2 + c_int in int32 when its largest value fits, else in
 *          int64 lanes (smull), shifted by poly_shift, then right by z (sshl by -z);
 *   prob   (e * floor(2^31/sum) + 2^23) >> 24 in uint32 (e <= sum: e * f <= 2^31).
 * Builds for AArch64 and ARMv7 (no 64-bit compares or vnegq_s64 needed). */
#include "sc_internal.h"
#include "sc_neon.h"
#include "sc_simd.h"

static inline int32x4_t exp4(const sc_softmax_params *p, int32x4_t d, float32x4_t rcp, int wide) {
  const int32x4_t zero = vdupq_n_s32(0), x0 = vdupq_n_s32(p->x0);
  int32x4_t z = vcvtq_s32_f32(vmulq_f32(vcvtq_f32_s32(d), rcp)); /* truncates */
  int32x4_t r = vmlsq_s32(d, z, x0);
  int32x4_t over = vreinterpretq_s32_u32(vcgtq_s32(r, zero)); /* z one too large */
  z = vaddq_s32(z, over);
  r = vaddq_s32(r, vandq_s32(over, x0));
  int32x4_t under = vreinterpretq_s32_u32(vcleq_s32(r, x0)); /* z one too small */
  z = vsubq_s32(z, under);
  r = vsubq_s32(r, vandq_s32(under, x0));
  int32x4_t t = vaddq_s32(r, vdupq_n_s32(p->b_int));
  int32x4_t negz = vnegq_s32(z);
  if (!wide) {
    int32x4_t poly = vmlaq_s32(vdupq_n_s32((int32_t)p->c_int), t, t);
    poly = vshlq_s32(poly, vdupq_n_s32(-p->poly_shift)); /* sshl: right for poly_shift > 0 */
    return vshlq_s32(poly, negz);
  }
  const int64x2_t c = vdupq_n_s64(p->c_int), ps = vdupq_n_s64(-p->poly_shift), z64 = vdupq_n_s64(0);
  int64x2_t lo = vaddq_s64(vmull_s32(vget_low_s32(t), vget_low_s32(t)), c);
  int64x2_t hi = vaddq_s64(vmull_s32(vget_high_s32(t), vget_high_s32(t)), c);
  lo = vshlq_s64(vshlq_s64(lo, ps), vsubq_s64(z64, vmovl_s32(vget_low_s32(z))));
  hi = vshlq_s64(vshlq_s64(hi, ps), vsubq_s64(z64, vmovl_s32(vget_high_s32(z))));
  return vcombine_s32(vmovn_s64(lo), vmovn_s64(hi)); /* the low 32 bits, as (int32_t) */
}

void sc_softmax_row_simd(const sc_softmax_params *p, int32_t n, const int32_t *x, int lshift, int8_t *y,
                         int32_t *scratch) {
  if (n < 16) {
    sc_softmax_row_shifted(p, n, x, lshift, y, scratch);
    return;
  }
  const int32_t n4 = n & ~3, n8 = n & ~7;
  int32x4_t vm = vld1q_s32(x);
  for (int32_t j = 4; j < n4; j += 4) vm = vmaxq_s32(vm, vld1q_s32(x + j));
  int32_t max = sc_neon_hmax(vm);
  for (int32_t j = n4; j < n; j++)
    if (x[j] > max) max = x[j];
  const int64_t lo = 30 * (int64_t)p->x0;
  int64_t thr = (int64_t)max + sc_sra64(lo - 1, lshift) + 1;
  if (thr < INT32_MIN) thr = INT32_MIN; /* then no x is below it */
  const int64_t t_hi = p->b_int, t_lo = (int64_t)p->b_int + p->x0 + 1;
  const int64_t t_big = t_hi > -t_lo ? (t_hi > t_lo ? t_hi : t_lo) : -t_lo;
  const int64_t poly_max = t_big * t_big + p->c_int;
  const int wide = !(p->c_int >= 0 && poly_max < ((int64_t)1 << 31) &&
                     (p->poly_shift >= 0 || poly_max < ((int64_t)1 << (31 + p->poly_shift))));
  const int32x4_t vmax = vdupq_n_s32(max), vthr = vdupq_n_s32((int32_t)thr), vlo = vdupq_n_s32((int32_t)lo);
  const int32x4_t sh = vdupq_n_s32(lshift);
  const float32x4_t rcp = vdupq_n_f32(1.0f / (float)p->x0);
  int32x4_t vsum = vdupq_n_s32(0);
  for (int32_t j = 0; j < n4; j += 4) {
    int32x4_t v = vld1q_s32(x + j);
    uint32x4_t below = vcltq_s32(v, vthr);
    int32x4_t d = vshlq_s32(vsubq_s32(vmaxq_s32(v, vthr), vmax), sh);
    int32x4_t e = exp4(p, vbslq_s32(below, vlo, d), rcp, wide);
    vsum = vaddq_s32(vsum, e);
    vst1q_s32(scratch + j, e);
  }
  int32_t sum = sc_neon_hsum(vsum);
  for (int32_t j = n4; j < n; j++) {
    scratch[j] = sc_softmax_exp(p, sc_softmax_diff(p, x[j], max, lshift));
    sum += scratch[j];
  }
  const uint32_t f = (uint32_t)(((int64_t)1 << 31) / sum); /* sum >= 2^14: f <= 2^17 */
  const uint32x4_t rnd = vdupq_n_u32(1u << 23), cap = vdupq_n_u32(127);
  for (int32_t j = 0; j < n8; j += 8) {
    uint32x4_t e0 = vreinterpretq_u32_s32(vld1q_s32(scratch + j));
    uint32x4_t e1 = vreinterpretq_u32_s32(vld1q_s32(scratch + j + 4));
    uint32x4_t o0 = vminq_u32(vshrq_n_u32(vmlaq_n_u32(rnd, e0, f), 24), cap);
    uint32x4_t o1 = vminq_u32(vshrq_n_u32(vmlaq_n_u32(rnd, e1, f), 24), cap);
    sc_neon_store8_s8(y + j, vreinterpretq_s32_u32(o0), vreinterpretq_s32_u32(o1));
  }
  for (int32_t j = n8; j < n; j++) y[j] = sc_softmax_prob(scratch[j], sum);
}

void sc_softmax_s8_simd(const sc_softmax_params *p, int32_t rows, int32_t n, const int8_t *x, int8_t *y,
                        int32_t *scratch) {
  const int32_t n8 = n & ~7;
  for (int32_t r = 0; r < rows; r++) {
    const int8_t *xr = x + (ptrdiff_t)r * n;
    for (int32_t j = 0; j < n8; j += 8) {
      int16x8_t w = vmovl_s8(vld1_s8(xr + j));
      vst1q_s32(scratch + j, vmovl_s16(vget_low_s16(w)));
      vst1q_s32(scratch + j + 4, vmovl_s16(vget_high_s16(w)));
    }
    for (int32_t j = n8; j < n; j++) scratch[j] = xr[j];
    sc_softmax_row_simd(p, n, scratch, p->in_lshift, y + (ptrdiff_t)r * n, scratch);
  }
}
