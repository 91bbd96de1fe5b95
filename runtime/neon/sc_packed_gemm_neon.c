/* sc_packed_gemm_neon.c — the neon targets' packed GEMM (sc_simd.h): each row of
 * activations times 8 packed output channels at a time, the 8 accumulators in
 * registers over the whole K loop (sdot with neon-dotprod, smull/smlal/sadalp else). */
#include <string.h>

#include "sc_neon.h"
#include "sc_simd.h"

#if SC_PACK_NR != 8 || SC_PACK_KB != 16
#error "sc_packed_gemm_neon.c reads the 8 x 16 layout"
#endif

/* One row a of pw->k codes: y[j * y_stride] for the channels j < n. */
static void packed_row(const sc_packed_weights *pw, const int8_t *w, int32_t c0, int32_t n, const int8_t *a,
                       int8_t *y, ptrdiff_t y_stride) {
  const int32_t k = pw->k, groups = pw->k_pad / SC_PACK_KB, full = k / SC_PACK_KB;
  int8_t tail[SC_PACK_KB] = {0}; /* the last, partial group of a, zero padded */
  if (full < groups) memcpy(tail, a + (ptrdiff_t)full * SC_PACK_KB, (size_t)(k - full * SC_PACK_KB));
  for (int32_t nb = 0; nb < n; nb += SC_PACK_NR, w += (ptrdiff_t)SC_PACK_NR * pw->k_pad) {
    int32x4_t c0v = vdupq_n_s32(0), c1 = c0v, c2 = c0v, c3 = c0v, c4 = c0v, c5 = c0v, c6 = c0v, c7 = c0v;
    const int8_t *wg = w;
    for (int32_t g = 0; g < groups; g++, wg += SC_PACK_NR * SC_PACK_KB) {
      const int8x16_t av = vld1q_s8(g < full ? a + (ptrdiff_t)g * SC_PACK_KB : tail);
      c0v = sc_neon_dot16(c0v, av, vld1q_s8(wg + 0 * SC_PACK_KB));
      c1 = sc_neon_dot16(c1, av, vld1q_s8(wg + 1 * SC_PACK_KB));
      c2 = sc_neon_dot16(c2, av, vld1q_s8(wg + 2 * SC_PACK_KB));
      c3 = sc_neon_dot16(c3, av, vld1q_s8(wg + 3 * SC_PACK_KB));
      c4 = sc_neon_dot16(c4, av, vld1q_s8(wg + 4 * SC_PACK_KB));
      c5 = sc_neon_dot16(c5, av, vld1q_s8(wg + 5 * SC_PACK_KB));
      c6 = sc_neon_dot16(c6, av, vld1q_s8(wg + 6 * SC_PACK_KB));
      c7 = sc_neon_dot16(c7, av, vld1q_s8(wg + 7 * SC_PACK_KB));
    }
    const int32_t nc = n - nb < SC_PACK_NR ? n - nb : SC_PACK_NR;
    int32_t bias[SC_PACK_NR], mult[SC_PACK_NR], shift[SC_PACK_NR], out[SC_PACK_NR];
    sc_packed_lanes(pw, c0 + nb, nc, bias, mult, shift);
    const int has_mult = pw->rq.mult != NULL;
    int32x4_t lo = vaddq_s32(sc_neon_hsum4(c0v, c1, c2, c3), vld1q_s32(bias));
    int32x4_t hi = vaddq_s32(sc_neon_hsum4(c4, c5, c6, c7), vld1q_s32(bias + 4));
    vst1q_s32(out, sc_neon_requant(lo, mult, shift, has_mult, pw->rq.lo, pw->rq.hi));
    vst1q_s32(out + 4, sc_neon_requant(hi, mult + 4, shift + 4, has_mult, pw->rq.lo, pw->rq.hi));
    for (int32_t j = 0; j < nc; j++) y[(nb + j) * y_stride] = (int8_t)out[j];
  }
}

void sc_packed_gemm(const sc_packed_weights *pw, const int8_t *w, int32_t c0, int32_t n, const int8_t *a,
                    ptrdiff_t a_stride, int32_t m, int8_t *y, ptrdiff_t y_row_stride, ptrdiff_t y_col_stride) {
  for (int32_t i = 0; i < m; i++) packed_row(pw, w, c0, n, a + i * a_stride, y + i * y_row_stride, y_col_stride);
}
