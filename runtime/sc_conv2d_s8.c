/* sc_conv2d_s8.c — scalar reference 2-D convolution (NCHW, groups, dilation). */
#include "sc_internal.h"
#include "shiftc_rt.h"

/* Output columns per pass of conv_rows: its int32 row of sums lives on the stack. */
#define ROW_CHUNK 256
enum { KW_CACHED = 16 }; /* kernel columns whose output-column range is worked out once per row */

/* The same sums, when nothing splits them (k_chunk == 0) and the weights are int8 codes:
 * for one output channel and a run of up to ROW_CHUNK columns of one output row, each tap
 * (ic, kh, kw) adds w * x along the run, over the columns whose input falls inside the
 * row (the rest is padding, which adds 0). The integer sum of the same terms in another
 * order is the same sum (every partial sum is bounded by the sum of the terms' magnitudes,
 * which the compiler's legalization keeps inside int32), and the inner loop is a plain
 * strided multiply-add a compiler vectorizes: several times fewer instructions than one
 * output at a time through sc_kacc. */
static void conv_rows(const sc_conv2d_params *p, const int8_t *x, int8_t *y) {
  const int32_t icg = p->in_c / p->groups, ocg = p->out_c / p->groups;
  const int32_t in_h = p->in_h, in_w = p->in_w, out_h = p->out_h, out_w = p->out_w;
  const int32_t k_h = p->k_h, k_w = p->k_w, sw = p->stride_w;
  const ptrdiff_t in_plane = (ptrdiff_t)in_h * in_w, out_plane = (ptrdiff_t)out_h * out_w;
  int32_t acc[ROW_CHUNK], lo_kw[KW_CACHED], hi_kw[KW_CACHED];
  for (int32_t kw = 0; kw < k_w && kw < KW_CACHED; kw++) /* the same for every row; clipped to each run */
    sc_out_range(kw * p->dil_w - p->pad_l, sw, in_w, out_w, &lo_kw[kw], &hi_kw[kw]);
  for (int32_t b = 0; b < p->n; b++)
    for (int32_t oc = 0; oc < p->out_c; oc++) {
      const int8_t *xg = x + ((ptrdiff_t)b * p->in_c + (ptrdiff_t)(oc / ocg) * icg) * in_plane;
      const int8_t *wo = p->weight + (ptrdiff_t)oc * icg * k_h * k_w;
      const int32_t bias = sc_bias_acc(p->bias, &p->rq, oc);
      int8_t *yo = y + ((ptrdiff_t)b * p->out_c + oc) * out_plane;
      for (int32_t oh = 0; oh < out_h; oh++) {
        const int32_t ih0 = oh * p->stride_h - p->pad_t;
        int32_t kh_lo, kh_hi;
        sc_tap_range(ih0, p->dil_h, k_h, in_h, &kh_lo, &kh_hi);
        for (int32_t c0 = 0; c0 < out_w; c0 += ROW_CHUNK) {
          const int32_t c1 = out_w - c0 < ROW_CHUNK ? out_w : c0 + ROW_CHUNK;
          for (int32_t ow = c0; ow < c1; ow++) acc[ow - c0] = bias;
          for (int32_t ic = 0; ic < icg; ic++)
            for (int32_t kh = kh_lo; kh < kh_hi; kh++) {
              const int8_t *row = xg + ic * in_plane + (ptrdiff_t)(ih0 + kh * p->dil_h) * in_w;
              const int8_t *wr = wo + ((ptrdiff_t)ic * k_h + kh) * k_w;
              for (int32_t kw = 0; kw < k_w; kw++) {
                const int32_t w = wr[kw], off = kw * p->dil_w - p->pad_l; /* iw = ow * sw + off */
                int32_t lo, hi;
                if (kw < KW_CACHED) lo = lo_kw[kw], hi = hi_kw[kw];
                else sc_out_range(off, sw, in_w, out_w, &lo, &hi);
                lo = lo < c0 ? c0 : lo;
                hi = hi > c1 ? c1 : hi;
                if (w == 0 || lo >= hi) continue;
                int32_t *a = acc + (lo - c0);
                const int8_t *src = row + (ptrdiff_t)lo * sw + off; /* inside the row: lo's tap */
                const int32_t n = hi - lo;
                if (sw == 1)
                  for (int32_t i = 0; i < n; i++) a[i] += w * src[i];
                else
                  for (int32_t i = 0; i < n; i++) a[i] += w * src[(ptrdiff_t)i * sw];
              }
            }
          for (int32_t ow = c0; ow < c1; ow++) yo[oh * out_w + ow] = (int8_t)sc_requant_apply(&p->rq, oc, acc[ow - c0]);
        }
      }
    }
}

/* y[b][oc][oh][ow] = requant_oc(bias[oc] * 2^bias_lshift[oc] + sum over (ic, kh, kw) of
 *   x[b][g*icg + ic][oh*stride_h - pad_t + kh*dil_h][ow*stride_w - pad_l + kw*dil_w]
 *   * weight[oc][ic][kh][kw]),  g = oc / ocg,
 * positions outside the input contributing 0 (this implies the bottom/right padding).
 * The reduction runs in the order ic, kh, kw, through sc_kacc (k-split). Weights are
 * int8 codes, or packed when weight_bits is 2..7 (shiftc_rt.h). */
void sc_conv2d_s8(const sc_conv2d_params *p, const int8_t *x, int8_t *y) {
  if (p->rq.k_chunk == 0 && (p->weight_bits == 0 || p->weight_bits == 8)) {
    conv_rows(p, x, y);
    return;
  }
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
