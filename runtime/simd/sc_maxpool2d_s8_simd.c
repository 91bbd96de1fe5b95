/* sc_maxpool2d_s8_simd.c — max pooling for the SIMD targets: the loops in C99, the
 * byte-wise maxima in the ISA's sc_max_s8_rows / sc_max_s8_pairs. Same result as
 * sc_maxpool2d_s8: the max over the window's positions inside the input (max is
 * associative, so first rows then columns gives the same value), -127 for a window
 * with no position inside (which the compiler never builds). */
#include <string.h>

#include "sc_internal.h"
#include "sc_simd.h"

void sc_maxpool2d_s8_simd(const sc_pool2d_params *p, const int8_t *x, int8_t *y) {
  int8_t vrow[SC_POOL_ROW_MAX]; /* the vertical max of the window's rows, one per input column */
  const int32_t in_h = p->in_h, in_w = p->in_w, out_h = p->out_h, out_w = p->out_w;
  const ptrdiff_t in_plane = (ptrdiff_t)in_h * in_w, out_plane = (ptrdiff_t)out_h * out_w;
  const int pairs = p->k_w == 2 && p->stride_w == 2 && p->pad_l == 0 && 2 * out_w <= in_w;
  for (int32_t c = 0; c < p->planes; c++) {
    const int8_t *xc = x + c * in_plane;
    int8_t *yc = y + c * out_plane;
    for (int32_t oh = 0; oh < out_h; oh++) {
      int8_t *yr = yc + (ptrdiff_t)oh * out_w;
      const int32_t ih0 = oh * p->stride_h - p->pad_t;
      int32_t kh_lo, kh_hi;
      sc_tap_range(ih0, 1, p->k_h, in_h, &kh_lo, &kh_hi);
      if (kh_lo == kh_hi) {
        memset(yr, -127, (size_t)out_w);
        continue;
      }
      memcpy(vrow, xc + (ptrdiff_t)(ih0 + kh_lo) * in_w, (size_t)in_w);
      for (int32_t kh = kh_lo + 1; kh < kh_hi; kh++) sc_max_s8_rows(vrow, xc + (ptrdiff_t)(ih0 + kh) * in_w, in_w);
      if (pairs) {
        sc_max_s8_pairs(vrow, yr, out_w);
        continue;
      }
      for (int32_t ow = 0; ow < out_w; ow++) {
        const int32_t iw0 = ow * p->stride_w - p->pad_l;
        int32_t kw_lo, kw_hi;
        sc_tap_range(iw0, 1, p->k_w, in_w, &kw_lo, &kw_hi);
        int32_t m = kw_lo < kw_hi ? INT8_MIN : -127;
        for (int32_t kw = kw_lo; kw < kw_hi; kw++)
          if (vrow[iw0 + kw] > m) m = vrow[iw0 + kw];
        yr[ow] = (int8_t)m;
      }
    }
  }
}
