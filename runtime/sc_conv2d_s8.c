/* sc_conv2d_s8.c — scalar reference 2-D convolution (NCHW, groups, dilation). */
#include "sc_internal.h"
#include "shiftc_rt.h"

/* y[b][oc][oh][ow] = requant_oc(bias[oc] * 2^bias_lshift[oc] + sum over (ic, kh, kw) of
 *   x[b][g*icg + ic][oh*stride_h - pad_t + kh*dil_h][ow*stride_w - pad_l + kw*dil_w]
 *   * weight[oc][ic][kh][kw]),  g = oc / ocg,
 * positions outside the input contributing 0 (this implies the bottom/right padding).
 * The reduction runs in the order ic, kh, kw, through sc_kacc (k-split). Weights are
 * int8 codes, or packed when weight_bits is 2..7 (shiftc_rt.h). */
void sc_conv2d_s8(const sc_conv2d_params *p, const int8_t *x, int8_t *y) {
  const int32_t icg = p->in_c / p->groups, ocg = p->out_c / p->groups;
  const int32_t in_h = p->in_h, in_w = p->in_w, out_h = p->out_h, out_w = p->out_w;
  const int32_t k_h = p->k_h, k_w = p->k_w, dil_h = p->dil_h, dil_w = p->dil_w;
  const ptrdiff_t in_plane = (ptrdiff_t)in_h * in_w, out_plane = (ptrdiff_t)out_h * out_w;
  const ptrdiff_t w_ic = (ptrdiff_t)k_h * k_w; /* weights per (oc, ic) */
  const ptrdiff_t w_oc = icg * w_ic;           /* weights per oc */

  for (int32_t b = 0; b < p->n; b++) {
    for (int32_t oc = 0; oc < p->out_c; oc++) {
      const int32_t g = oc / ocg;
      const int8_t *xg = x + ((ptrdiff_t)b * p->in_c + (ptrdiff_t)g * icg) * in_plane;
      const ptrdiff_t wo = oc * w_oc; /* element index of the channel's first weight */
      const int32_t bias = sc_bias_acc(p->bias, &p->rq, oc);
      int8_t *yo = y + ((ptrdiff_t)b * p->out_c + oc) * out_plane;

      for (int32_t oh = 0; oh < out_h; oh++) {
        const int32_t ih0 = oh * p->stride_h - p->pad_t;
        int32_t kh_lo, kh_hi;
        sc_tap_range(ih0, dil_h, k_h, in_h, &kh_lo, &kh_hi);

        for (int32_t ow = 0; ow < out_w; ow++) {
          const int32_t iw0 = ow * p->stride_w - p->pad_l;
          int32_t kw_lo, kw_hi, kh0 = kh_lo, kh1 = kh_hi;
          sc_tap_range(iw0, dil_w, k_w, in_w, &kw_lo, &kw_hi);
          if (kw_lo == kw_hi) kh0 = kh1 = 0; /* no column inside: every term is padding */
          const int32_t n_taps = kw_hi - kw_lo;
          /* offset of tap (kh, kw_lo) in an input plane, for kh = kh0 */
          const ptrdiff_t x_first = (ptrdiff_t)(ih0 + kh0 * dil_h) * in_w + iw0 + kw_lo * dil_w;
          const ptrdiff_t x_row = (ptrdiff_t)dil_h * in_w;

          sc_kacc acc;
          sc_kacc_init(&acc, &p->rq, bias);
          for (int32_t ic = 0; ic < icg; ic++) {
            const int8_t *xc = xg + ic * in_plane;
            const ptrdiff_t wc = wo + ic * w_ic;
            sc_kacc_zeros(&acc, kh0 * k_w);
            for (int32_t kh = kh0; kh < kh1; kh++) {
              sc_kacc_zeros(&acc, kw_lo);
              sc_kacc_dot_w(&acc, xc + x_first + (kh - kh0) * x_row, dil_w, p->weight, p->weight_bits,
                            wc + kh * k_w + kw_lo, n_taps);
              sc_kacc_zeros(&acc, k_w - kw_hi);
            }
            sc_kacc_zeros(&acc, (k_h - kh1) * k_w);
          }
          yo[oh * out_w + ow] = (int8_t)sc_requant_apply(&p->rq, oc, sc_kacc_end(&acc));
        }
      }
    }
  }
}
