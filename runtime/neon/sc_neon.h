/* sc_neon.h — NEON helpers of the neon and neon-dotprod targets' kernels: the
 * requantization of shiftc_rt.h on 4 int32 lanes, bit for bit, and lane sums. Builds
 * for AArch64 and for ARMv7 with -mfpu=neon: AArch64-only intrinsics (vpaddq_s32,
 * vaddvq_s32 ...) stay behind __aarch64__. */
#ifndef SC_NEON_H
#define SC_NEON_H

#include <arm_neon.h>
#include <stdint.h>

/* clamp(shift_round(mult ? rdmulh(v, mult) : v, shift), lo, hi) per lane:
 * vqrdmulhq_s32 is sc_rdmulh exactly; vqrshlq_s32 by -shift is a rounding right shift
 * for shift >= 0 (in a wider intermediate: equal to the scalar 32-bit add, which
 * legalization keeps from wrapping) and a saturating left shift for shift < 0. */
static inline int32x4_t sc_neon_requant(int32x4_t v, const int32_t *mult, const int32_t *shift, int has_mult,
                                        int32_t lo, int32_t hi) {
  if (has_mult) v = vqrdmulhq_s32(v, vld1q_s32(mult));
  v = vqrshlq_s32(v, vnegq_s32(vld1q_s32(shift)));
  return vminq_s32(vmaxq_s32(v, vdupq_n_s32(lo)), vdupq_n_s32(hi));
}

/* The 4 lane sums of a, b, c, d, in order. */
static inline int32x4_t sc_neon_hsum4(int32x4_t a, int32x4_t b, int32x4_t c, int32x4_t d) {
#if defined(__aarch64__)
  return vpaddq_s32(vpaddq_s32(a, b), vpaddq_s32(c, d));
#else
  int32x2_t ab = vpadd_s32(vpadd_s32(vget_low_s32(a), vget_high_s32(a)), vpadd_s32(vget_low_s32(b), vget_high_s32(b)));
  int32x2_t cd = vpadd_s32(vpadd_s32(vget_low_s32(c), vget_high_s32(c)), vpadd_s32(vget_low_s32(d), vget_high_s32(d)));
  return vcombine_s32(ab, cd);
#endif
}

/* acc + a . w over 16 codes, 4 lanes of partial sums. With dotprod one sdot; else
 * smull + smlal into int16, then sadalp. Exact: a pair of products is at most
 * 2 * 128 * 127 = 32512 in magnitude (activations -128..127, weights -127..127, as
 * weights are symmetric), which int16 holds. */
static inline int32x4_t sc_neon_dot16(int32x4_t acc, int8x16_t a, int8x16_t w) {
#if defined(__ARM_FEATURE_DOTPROD)
  return vdotq_s32(acc, a, w);
#else
  int16x8_t p = vmull_s8(vget_low_s8(a), vget_low_s8(w));
  p = vmlal_s8(p, vget_high_s8(a), vget_high_s8(w));
  return vpadalq_s16(acc, p);
#endif
}

#if defined(__ARM_FEATURE_DOTPROD)
/* acc[i] += w[4i..4i+3] . a[4q..4q+3] (sdot by element; q a constant 0..3): 4 channels'
 * codes in w times one activation quad. AArch64 indexes a 128-bit a; AArch32 a half. */
#if defined(__aarch64__)
#define SC_NEON_SDOT_LANE(acc, w, a, q) vdotq_laneq_s32(acc, w, a, q)
#else
#define SC_NEON_SDOT_LANE(acc, w, a, q) vdotq_lane_s32(acc, w, (q) < 2 ? vget_low_s8(a) : vget_high_s8(a), (q)&1)
#endif
#endif

/* The horizontal max / sum of 4 int32 lanes. */
static inline int32_t sc_neon_hmax(int32x4_t v) {
#if defined(__aarch64__)
  return vmaxvq_s32(v);
#else
  int32x2_t m = vpmax_s32(vget_low_s32(v), vget_high_s32(v));
  return vget_lane_s32(vpmax_s32(m, m), 0);
#endif
}

static inline int32_t sc_neon_hsum(int32x4_t v) {
#if defined(__aarch64__)
  return vaddvq_s32(v);
#else
  int32x2_t m = vpadd_s32(vget_low_s32(v), vget_high_s32(v));
  return vget_lane_s32(vpadd_s32(m, m), 0);
#endif
}

/* Stores 8 int32 lanes (a: 0-3, b: 4-7) that lie in [-128, 127] as 8 int8 codes. */
static inline void sc_neon_store8_s8(int8_t *y, int32x4_t a, int32x4_t b) {
  vst1_s8(y, vmovn_s16(vcombine_s16(vmovn_s32(a), vmovn_s32(b))));
}

#endif
