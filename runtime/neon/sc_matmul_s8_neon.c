/* sc_matmul_s8_neon.c — batched matmul of two int8 activations on NEON: 8 output
 * columns at a time, row kk of b widened to int16 and multiplied by the scalar a[kk]
 * with smlal into int32 (exact). */
#include "sc_internal.h"
#include "sc_neon.h"
#include "sc_simd.h"

/* output columns per step: one vector of int32 lanes */
enum { SC_LANES = 8 };

void sc_matmul_s8_simd(const sc_matmul_params *p, const int8_t *a, const int8_t *b, int8_t *y) {
  const int32_t m = p->m, k = p->k, n = p->n;
  int32_t mult[SC_LANES], shift[SC_LANES], out[SC_LANES];
  for (int j = 0; j < SC_LANES; j++) {
    mult[j] = p->rq.mult ? p->rq.mult[0] : 0;
    shift[j] = p->rq.shift[0];
  }
  const int has_mult = p->rq.mult != NULL;
  for (int32_t t = 0; t < p->batch; t++) {
    const int8_t *at = a + (ptrdiff_t)t * p->a_batch_stride;
    const int8_t *bt = b + (ptrdiff_t)t * p->b_batch_stride;
    int8_t *yt = y + (ptrdiff_t)t * m * n;
    for (int32_t i = 0; i < m; i++) {
      const int8_t *ai = at + (ptrdiff_t)i * k;
      int8_t *yi = yt + (ptrdiff_t)i * n;
      int32_t j = 0;
      for (; j + SC_LANES <= n; j += SC_LANES) {
        int32x4_t lo = vdupq_n_s32(0), hi = lo;
        for (int32_t kk = 0; kk < k; kk++) {
          int16x8_t bw = vmovl_s8(vld1_s8(bt + (ptrdiff_t)kk * n + j));
          lo = vmlal_n_s16(lo, vget_low_s16(bw), ai[kk]);
          hi = vmlal_n_s16(hi, vget_high_s16(bw), ai[kk]);
        }
        vst1q_s32(out, sc_neon_requant(lo, mult, shift, has_mult, p->rq.lo, p->rq.hi));
        vst1q_s32(out + 4, sc_neon_requant(hi, mult + 4, shift + 4, has_mult, p->rq.lo, p->rq.hi));
        for (int c = 0; c < SC_LANES; c++) yi[j + c] = (int8_t)out[c];
      }
      for (; j < n; j++) /* the last n % 8 columns: the scalar sum */
        yi[j] = (int8_t)sc_requant_apply(&p->rq, 0, sc_dot_s8(ai, 1, bt + j, n, k));
    }
  }
}
