/* sc_eltwise_row_neon.c — one row of add/sub/mul (sc_simd.h), 8 codes a step in two
 * int32x4 halves, with sc_eltwise_s8.c's arithmetic: each operand of add/sub brought to
 * the common scale (x * 2^lshift, then vqrdmulhq_s32 by mult if any, then a rounding
 * right shift; |x * 2^lshift| <= 127 * 2^23, so nothing saturates or wraps), the sum,
 * difference or product requantized with p->out. A last partial step runs on
 * zero-padded copies. */
#include <string.h>

#include "sc_neon.h"
#include "sc_simd.h"

static inline int32x4_t scale_operand(int32x4_t x, const sc_operand_scale *s) {
  x = vshlq_s32(x, vdupq_n_s32(s->lshift));
  if (s->mult) x = vqrdmulhq_s32(x, vdupq_n_s32(s->mult));
  return vrshlq_s32(x, vdupq_n_s32(-s->shift));
}

static inline int32x4_t combine(const sc_eltwise_params *p, int op, int32x4_t a, int32x4_t b) {
  if (op == 2) return vmulq_s32(a, b);
  a = scale_operand(a, &p->a);
  b = scale_operand(b, &p->b);
  return op == 0 ? vaddq_s32(a, b) : vsubq_s32(a, b);
}

void sc_eltwise_row_s8(const sc_eltwise_params *p, int op, const int8_t *a, const int8_t *b, int8_t *y, int32_t n) {
  int32_t mult[4], shift[4], out[8];
  for (int j = 0; j < 4; j++) {
    mult[j] = p->out.mult ? p->out.mult[0] : 0;
    shift[j] = p->out.shift[0];
  }
  const int has_mult = p->out.mult != NULL;
  for (int32_t i = 0; i < n; i += 8) {
    const int32_t m = n - i < 8 ? n - i : 8;
    int8_t ta[8] = {0}, tb[8] = {0};
    const int8_t *pa = a + i, *pb = b + i;
    if (m < 8) {
      memcpy(ta, pa, (size_t)m);
      memcpy(tb, pb, (size_t)m);
      pa = ta;
      pb = tb;
    }
    int16x8_t wa = vmovl_s8(vld1_s8(pa)), wb = vmovl_s8(vld1_s8(pb));
    int32x4_t lo = combine(p, op, vmovl_s16(vget_low_s16(wa)), vmovl_s16(vget_low_s16(wb)));
    int32x4_t hi = combine(p, op, vmovl_s16(vget_high_s16(wa)), vmovl_s16(vget_high_s16(wb)));
    vst1q_s32(out, sc_neon_requant(lo, mult, shift, has_mult, p->out.lo, p->out.hi));
    vst1q_s32(out + 4, sc_neon_requant(hi, mult, shift, has_mult, p->out.lo, p->out.hi));
    for (int32_t j = 0; j < m; j++) y[i + j] = (int8_t)out[j];
  }
}
