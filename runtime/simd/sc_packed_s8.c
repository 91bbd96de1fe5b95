/* sc_packed_s8.c — linear and conv2d over packed weights, for every SIMD target: the
 * loops and the patch gathering are plain C99; the arithmetic is the ISA's
 * micro-kernel sc_packed_row (runtime/<isa>/sc_packed_row_<isa>.c). */
#include <string.h>

#include "sc_internal.h"
#include "sc_simd.h"

void sc_linear_s8_packed(const sc_linear_packed *p, const int8_t *x, int8_t *y) {
  const int32_t in = p->w.k, out = p->w.n;
  for (int32_t r = 0; r < p->rows; r++)
    sc_packed_row(&p->w, p->w.w, 0, out, x + (ptrdiff_t)r * in, y + (ptrdiff_t)r * out, 1);
}

/* The patch of output pixel (oh, ow) of one group: K codes in the order ic, kh, kw
 * (the scalar kernel's reduction order), positions outside the input as 0. */
static void gather_patch(const sc_conv2d_packed *p, const int8_t *xg, int32_t oh, int32_t ow, int8_t *q) {
  const int32_t icg = p->in_c / p->groups, in_h = p->in_h, in_w = p->in_w;
  const int32_t k_h = p->k_h, k_w = p->k_w, dil_h = p->dil_h, dil_w = p->dil_w;
  const ptrdiff_t in_plane = (ptrdiff_t)in_h * in_w;
  const int32_t ih0 = oh * p->stride_h - p->pad_t, iw0 = ow * p->stride_w - p->pad_l;
  int32_t kh_lo, kh_hi, kw_lo, kw_hi;
  sc_tap_range(ih0, dil_h, k_h, in_h, &kh_lo, &kh_hi);
  sc_tap_range(iw0, dil_w, k_w, in_w, &kw_lo, &kw_hi);
  if (kw_lo == kw_hi) kh_lo = kh_hi = 0; /* no column inside: every term is padding */
  for (int32_t ic = 0; ic < icg; ic++) {
    const int8_t *xc = xg + ic * in_plane;
    memset(q, 0, (size_t)(kh_lo * k_w));
    q += kh_lo * k_w;
    for (int32_t kh = kh_lo; kh < kh_hi; kh++) {
      const int8_t *row = xc + (ptrdiff_t)(ih0 + kh * dil_h) * in_w + iw0;
      int32_t kw = 0;
      for (; kw < kw_lo; kw++) *q++ = 0;
      for (; kw < kw_hi; kw++) *q++ = row[kw * dil_w];
      for (; kw < k_w; kw++) *q++ = 0;
    }
    memset(q, 0, (size_t)((k_h - kh_hi) * k_w));
    q += (k_h - kh_hi) * k_w;
  }
}

void sc_conv2d_s8_packed(const sc_conv2d_packed *p, const int8_t *x, int8_t *y) {
  int8_t patch[SC_PATCH_MAX];
  const int32_t icg = p->in_c / p->groups, ocg = p->out_c / p->groups;
  const ptrdiff_t in_plane = (ptrdiff_t)p->in_h * p->in_w, out_plane = (ptrdiff_t)p->out_h * p->out_w;
  const ptrdiff_t w_group = (ptrdiff_t)((ocg + SC_PACK_NR - 1) / SC_PACK_NR) * SC_PACK_NR * p->w.k_pad;
  for (int32_t b = 0; b < p->n; b++)
    for (int32_t g = 0; g < p->groups; g++) {
      const int8_t *xg = x + ((ptrdiff_t)b * p->in_c + (ptrdiff_t)g * icg) * in_plane;
      int8_t *yg = y + ((ptrdiff_t)b * p->out_c + (ptrdiff_t)g * ocg) * out_plane;
      for (int32_t oh = 0; oh < p->out_h; oh++)
        for (int32_t ow = 0; ow < p->out_w; ow++) {
          gather_patch(p, xg, oh, ow, patch);
          sc_packed_row(&p->w, p->w.w + g * w_group, g * ocg, ocg, patch, yg + (ptrdiff_t)oh * p->out_w + ow,
                        out_plane);
        }
    }
}
