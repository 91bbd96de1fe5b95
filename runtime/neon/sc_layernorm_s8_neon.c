/* sc_layernorm_s8_neon.c — integer LayerNorm (L2 and L1 forms) on NEON, bit-identical to
 * sc_layernorm_s8; the same steps as the AVX2 kernel (runtime/avx2/sc_layernorm_s8_avx2.c
 * says why each is exact):
 *   sum q (saddlp, sadalp) and sum q^2 (smull of the codes, each square <= 2^14, sadalp)
 *   in one pass; L2: sum (256 q - mu8)^2 = 65536 sum q^2 - 512 mu8 sum q + n mu8^2;
 *   L1: sum |256 q - mu8| (sabd) in int32 lanes;
 *   output in int64 lanes (smull / umull): L2 yn = (d*fac) >> 1; L1 yn = (|d|*fac_lo +
 *   (|d|*fac_hi << 32)) with d's sign, + 2^15, >> 16; then yn*g[c] + b[c], rounded right
 *   by shift (sshl), saturated to int32 (sqxtn: the clamp [lo, hi] lies inside int32, so
 *   saturating first changes nothing) and clamped. ARMv7 has no 64-bit compare: none used. */
#include "sc_neon.h"
#include "sc_simd.h"

/* Output codes of 2 channels c, c+1 from their d = 256 q - mu8, as int32. */
static inline int32x2_t out2(const sc_layernorm_params *p, int32_t c, int32x2_t d, int32x2_t fl, uint32x2_t flu,
                             uint32x2_t fhu, int64x2_t rnd, int64x2_t sh) {
  int64x2_t yn;
  if (!p->l1) {
    yn = vshrq_n_s64(vmull_s32(d, fl), 1);
  } else {
    uint32x2_t ad = vreinterpret_u32_s32(vabs_s32(d));
    int64x2_t m = vreinterpretq_s64_u64(vaddq_u64(vmull_u32(ad, flu), vshlq_n_u64(vmull_u32(ad, fhu), 32)));
    int64x2_t neg = vmovl_s32(vshr_n_s32(d, 31)); /* -1 where d < 0 */
    m = vsubq_s64(veorq_s64(m, neg), neg);
    yn = vshrq_n_s64(vaddq_s64(m, vdupq_n_s64((int64_t)1 << 15)), 16);
  }
  int64x2_t v = vmlal_s32(vld1q_s64(p->b + c), vmovn_s64(yn), vld1_s32(p->g + c)); /* |yn| < 2^31 */
  if (p->shift > 0) v = vshlq_s64(vaddq_s64(v, rnd), sh);
  return vqmovn_s64(v);
}

void sc_layernorm_s8_simd(const sc_layernorm_params *p, const int8_t *x, int8_t *y) {
  const int32_t n = p->n;
  if (n < 16 || n >= 32768) {
    sc_layernorm_s8(p, x, y);
    return;
  }
  const int32_t n16 = n & ~15, n8 = n & ~7;
  const int64x2_t rnd = vdupq_n_s64(p->shift > 0 ? (int64_t)1 << (p->shift - 1) : 0), sh = vdupq_n_s64(-p->shift);
  const int32x4_t lo = vdupq_n_s32(p->lo), hi = vdupq_n_s32(p->hi);
  for (int32_t r = 0; r < p->rows; r++) {
    const int8_t *xr = x + (ptrdiff_t)r * n;
    int8_t *yr = y + (ptrdiff_t)r * n;
    int32x4_t s1 = vdupq_n_s32(0), s2 = s1;
    for (int32_t j = 0; j < n16; j += 16) {
      int8x16_t q = vld1q_s8(xr + j);
      s1 = vpadalq_s16(s1, vpaddlq_s8(q));
      s2 = vpadalq_s16(s2, vmull_s8(vget_low_s8(q), vget_low_s8(q)));
      s2 = vpadalq_s16(s2, vmull_s8(vget_high_s8(q), vget_high_s8(q)));
    }
    int64_t sum = sc_neon_hsum(s1), sq = sc_neon_hsum(s2);
    for (int32_t j = n16; j < n; j++) {
      sum += xr[j];
      sq += (int32_t)xr[j] * xr[j];
    }
    const int32_t mu8 = (int32_t)sc_floor_div64(sum * 256 + n / 2, n);
    const int32x4_t vmu = vdupq_n_s32(mu8);
    uint64_t acc;
    if (!p->l1) {
      acc = (uint64_t)(65536 * sq - 512 * (int64_t)mu8 * sum + (int64_t)n * mu8 * mu8);
    } else {
      int32x4_t s = vdupq_n_s32(0);
      for (int32_t j = 0; j < n8; j += 8) {
        int16x8_t q = vmovl_s8(vld1_s8(xr + j));
        s = vaddq_s32(s, vabdq_s32(vshlq_n_s32(vmovl_s16(vget_low_s16(q)), 8), vmu));
        s = vaddq_s32(s, vabdq_s32(vshlq_n_s32(vmovl_s16(vget_high_s16(q)), 8), vmu));
      }
      acc = (uint64_t)(uint32_t)sc_neon_hsum(s); /* below 2^31: n < 2^15 codes, each |d| < 2^16 */
      for (int32_t j = n8; j < n; j++) {
        int64_t d = (int64_t)xr[j] * 256 - mu8;
        acc += (uint64_t)(d < 0 ? -d : d);
      }
    }
    /* sc_layernorm_factor's last lines, on the same sum */
    int64_t fac = acc == 0 ? 0
                  : p->l1  ? (int64_t)(((uint64_t)n << 32) / acc)
                           : (int64_t)(INT32_MAX / sc_isqrt64(acc));
    const int32x2_t fl = vdup_n_s32((int32_t)(fac & 0x7FFFFFFF)); /* L2: fac < 2^31 */
    const uint32x2_t flu = vdup_n_u32((uint32_t)(fac & 0xFFFFFFFF)), fhu = vdup_n_u32((uint32_t)(fac >> 32));
    for (int32_t c = 0; c < n8; c += 8) {
      int16x8_t q = vmovl_s8(vld1_s8(xr + c));
      int32x4_t d0 = vsubq_s32(vshlq_n_s32(vmovl_s16(vget_low_s16(q)), 8), vmu);
      int32x4_t d1 = vsubq_s32(vshlq_n_s32(vmovl_s16(vget_high_s16(q)), 8), vmu);
      int32x4_t o0 = vcombine_s32(out2(p, c, vget_low_s32(d0), fl, flu, fhu, rnd, sh),
                                  out2(p, c + 2, vget_high_s32(d0), fl, flu, fhu, rnd, sh));
      int32x4_t o1 = vcombine_s32(out2(p, c + 4, vget_low_s32(d1), fl, flu, fhu, rnd, sh),
                                  out2(p, c + 6, vget_high_s32(d1), fl, flu, fhu, rnd, sh));
      sc_neon_store8_s8(yr + c, vminq_s32(vmaxq_s32(o0, lo), hi), vminq_s32(vmaxq_s32(o1, lo), hi));
    }
    for (int32_t c = n8; c < n; c++) {
      int64_t v = sc_rshift_round64(sc_layernorm_norm(p->l1, xr[c], mu8, fac) * p->g[c] + p->b[c], p->shift);
      yr[c] = (int8_t)(v < p->lo ? p->lo : v > p->hi ? p->hi : v);
    }
  }
}
