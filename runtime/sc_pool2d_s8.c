/* sc_pool2d_s8.c — scalar reference max and average pooling over planes. */
#include "sc_internal.h"
#include "shiftc_rt.h"

/* y[c][oh][ow] = max of x[c][ih][iw] over the window ih = oh*stride_h - pad_t + [0, k_h),
 * iw = ow*stride_w - pad_l + [0, k_w), positions outside the input ignored. A window
 * entirely outside the input (never built by the compiler) gives -127. rq is unused. */
void sc_maxpool2d_s8(const sc_pool2d_params *p, const int8_t *x, int8_t *y) {
  const int32_t in_h = p->in_h, in_w = p->in_w, out_h = p->out_h, out_w = p->out_w;
  const ptrdiff_t in_plane = (ptrdiff_t)in_h * in_w, out_plane = (ptrdiff_t)out_h * out_w;
  for (int32_t c = 0; c < p->planes; c++) {
    const int8_t *xc = x + c * in_plane;
    int8_t *yc = y + c * out_plane;
    for (int32_t oh = 0; oh < out_h; oh++) {
      const int32_t ih0 = oh * p->stride_h - p->pad_t;
      int32_t kh_lo, kh_hi;
      sc_tap_range(ih0, 1, p->k_h, in_h, &kh_lo, &kh_hi);
      for (int32_t ow = 0; ow < out_w; ow++) {
        const int32_t iw0 = ow * p->stride_w - p->pad_l;
        int32_t kw_lo, kw_hi;
        sc_tap_range(iw0, 1, p->k_w, in_w, &kw_lo, &kw_hi);
        const int32_t n_taps = kw_hi - kw_lo;
        int32_t m = -127;
        if (kh_lo < kh_hi && n_taps > 0) {
          m = INT8_MIN;
          for (int32_t kh = kh_lo; kh < kh_hi; kh++) {
            const int8_t *xr = xc + (ptrdiff_t)(ih0 + kh) * in_w + (iw0 + kw_lo);
            for (int32_t j = 0; j < n_taps; j++)
              if (xr[j] > m) m = xr[j];
          }
        }
        yc[oh * out_w + ow] = (int8_t)m;
      }
    }
  }
}

/* y[c][oh][ow] = sc_requant_apply(&rq, 0, sum of x over the same window), positions
 * outside the input counting as 0 (count_include_pad: rq carries 1/(k_h*k_w)).
 * rq's k-split does not apply (|sum| <= 128 * k_h * k_w). */
void sc_avgpool2d_s8(const sc_pool2d_params *p, const int8_t *x, int8_t *y) {
  const int32_t in_h = p->in_h, in_w = p->in_w, out_h = p->out_h, out_w = p->out_w;
  const ptrdiff_t in_plane = (ptrdiff_t)in_h * in_w, out_plane = (ptrdiff_t)out_h * out_w;
  for (int32_t c = 0; c < p->planes; c++) {
    const int8_t *xc = x + c * in_plane;
    int8_t *yc = y + c * out_plane;
    for (int32_t oh = 0; oh < out_h; oh++) {
      const int32_t ih0 = oh * p->stride_h - p->pad_t;
      int32_t kh_lo, kh_hi;
      sc_tap_range(ih0, 1, p->k_h, in_h, &kh_lo, &kh_hi);
      for (int32_t ow = 0; ow < out_w; ow++) {
        const int32_t iw0 = ow * p->stride_w - p->pad_l;
        int32_t kw_lo, kw_hi;
        sc_tap_range(iw0, 1, p->k_w, in_w, &kw_lo, &kw_hi);
        const int32_t n_taps = kw_hi - kw_lo;
        int32_t sum = 0;
        if (n_taps > 0) {
          for (int32_t kh = kh_lo; kh < kh_hi; kh++) {
            const int8_t *xr = xc + (ptrdiff_t)(ih0 + kh) * in_w + (iw0 + kw_lo);
            for (int32_t j = 0; j < n_taps; j++) sum += xr[j];
          }
        }
        yc[oh * out_w + ow] = (int8_t)sc_requant_apply(&p->rq, 0, sum);
      }
    }
  }
}
