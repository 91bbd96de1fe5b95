/* sc_conv_transpose_s8.c — scalar reference transposed 2-D convolution (NCHW, groups,
 * stride, dilation, pads), gathered output by output so that it requantizes per output
 * channel exactly like sc_conv2d_s8. */
#include "sc_internal.h"
#include "shiftc_rt.h"

void sc_conv_transpose_s8(const sc_conv2d_params *p, const int8_t *x, int8_t *y) {
  const int32_t icg = p->in_c / p->groups, ocg = p->out_c / p->groups;
  const ptrdiff_t in_plane = (ptrdiff_t)p->in_h * p->in_w, out_plane = (ptrdiff_t)p->out_h * p->out_w;
  const ptrdiff_t w_ic = (ptrdiff_t)p->k_h * p->k_w, w_oc = icg * w_ic;
  for (int32_t b = 0; b < p->n; b++)
    for (int32_t oc = 0; oc < p->out_c; oc++) {
      const int8_t *xg = x + ((ptrdiff_t)b * p->in_c + (ptrdiff_t)(oc / ocg) * icg) * in_plane;
      const int32_t bias = sc_bias_acc(p->bias, &p->rq, oc);
      int8_t *yo = y + ((ptrdiff_t)b * p->out_c + oc) * out_plane;
      for (int32_t oh = 0; oh < p->out_h; oh++)
        for (int32_t ow = 0; ow < p->out_w; ow++) {
          sc_kacc acc;
          sc_kacc_init(&acc, &p->rq, bias);
          for (int32_t ic = 0; ic < icg; ic++) {
            const int8_t *xc = xg + ic * in_plane;
            const ptrdiff_t wc = oc * w_oc + ic * w_ic;
            for (int32_t kh = 0; kh < p->k_h; kh++) {
              const int32_t ih = sc_convt_src(oh, kh, p->stride_h, p->pad_t, p->dil_h, p->in_h);
              for (int32_t kw = 0; kw < p->k_w; kw++) {
                const int32_t iw = ih < 0 ? -1 : sc_convt_src(ow, kw, p->stride_w, p->pad_l, p->dil_w, p->in_w);
                if (iw < 0)
                  sc_kacc_zeros(&acc, 1);
                else
                  sc_kacc_dot_w(&acc, xc + (ptrdiff_t)ih * p->in_w + iw, 1, p->weight, p->weight_bits,
                                wc + kh * p->k_w + kw, 1);
              }
            }
          }
          yo[oh * p->out_w + ow] = (int8_t)sc_requant_apply(&p->rq, oc, sc_kacc_end(&acc));
        }
    }
}
