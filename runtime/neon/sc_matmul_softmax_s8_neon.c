/* sc_matmul_softmax_s8_neon.c — fused attention scores + i-exp softmax on NEON: per block
 * of SC_MMSM_ROWS rows of a and 8 columns, row kk of b widened to int16 once and
 * multiplied by each row's a[kk] with smlal into int32 (exact; the int32 sums equal
 * sc_dot_s8's, integer addition in another order), so each b vector feeds 4 rows. The
 * last n % 8 columns take the scalar sum. Each row of scores then goes through
 * sc_softmax_row_simd. Scratch: the scores of the block's rows, at the offset the
 * SC_MATMUL_SOFTMAX_SCRATCH layout gives them (b needs no repacking here). */
#include "sc_internal.h"
#include "sc_neon.h"
#include "sc_simd.h"

void sc_matmul_softmax_s8_simd(const sc_matmul_softmax_params *p, const int8_t *a, const int8_t *b, int8_t *y,
                               int32_t *scratch) {
  enum { R = SC_MMSM_ROWS };
  const int32_t m = p->m, k = p->k, n = p->n, kp = SC_MMSM_KP(k), np = SC_MMSM_NPAD(n);
  int32_t *s = scratch + (ptrdiff_t)kp * np + R * kp;
  for (int32_t t = 0; t < p->batch; t++) {
    const int8_t *at = a + (ptrdiff_t)t * p->a_batch_stride;
    const int8_t *bt = b + (ptrdiff_t)t * p->b_batch_stride;
    int8_t *yt = y + (ptrdiff_t)t * m * n;
    for (int32_t i0 = 0; i0 < m; i0 += R) {
      const int8_t *ar[R];
      for (int r = 0; r < R; r++) /* rows past m repeat the last one; their scores are dropped */
        ar[r] = at + (ptrdiff_t)(i0 + r < m ? i0 + r : m - 1) * k;
      int32_t j = 0;
      for (; j + 8 <= n; j += 8) {
        int32x4_t c0l = vdupq_n_s32(0), c0h = c0l, c1l = c0l, c1h = c0l, c2l = c0l, c2h = c0l, c3l = c0l, c3h = c0l;
        const int8_t *bj = bt + j;
        for (int32_t kk = 0; kk < k; kk++, bj += n) {
          int16x8_t bw = vmovl_s8(vld1_s8(bj));
          int16x4_t bl = vget_low_s16(bw), bh = vget_high_s16(bw);
          c0l = vmlal_n_s16(c0l, bl, ar[0][kk]);
          c0h = vmlal_n_s16(c0h, bh, ar[0][kk]);
          c1l = vmlal_n_s16(c1l, bl, ar[1][kk]);
          c1h = vmlal_n_s16(c1h, bh, ar[1][kk]);
          c2l = vmlal_n_s16(c2l, bl, ar[2][kk]);
          c2h = vmlal_n_s16(c2h, bh, ar[2][kk]);
          c3l = vmlal_n_s16(c3l, bl, ar[3][kk]);
          c3h = vmlal_n_s16(c3h, bh, ar[3][kk]);
        }
        vst1q_s32(s + j, c0l);
        vst1q_s32(s + j + 4, c0h);
        vst1q_s32(s + np + j, c1l);
        vst1q_s32(s + np + j + 4, c1h);
        vst1q_s32(s + 2 * np + j, c2l);
        vst1q_s32(s + 2 * np + j + 4, c2h);
        vst1q_s32(s + 3 * np + j, c3l);
        vst1q_s32(s + 3 * np + j + 4, c3h);
      }
      for (; j < n; j++)
        for (int r = 0; r < R; r++) s[r * np + j] = sc_dot_s8(ar[r], 1, bt + j, n, k);
      for (int r = 0; r < R && i0 + r < m; r++)
        sc_softmax_row_simd(&p->sm, n, s + r * np, p->score_lshift, yt + (ptrdiff_t)(i0 + r) * n, s + r * np);
    }
  }
}
