/* sc_packed_s8.c — linear and conv2d over packed weights, for every SIMD target: the
 * loops and the patch gathering are plain C99; the arithmetic is the ISA's
 * GEMM sc_packed_gemm (runtime/<isa>/sc_packed_gemm_<isa>.c). */
#include <string.h>

#include "sc_internal.h"
#include "sc_simd.h"

void sc_linear_s8_packed(const sc_linear_packed *p, const int8_t *x, int8_t *y) {
  sc_packed_gemm(&p->w, p->w.w, 0, p->w.n, x, p->w.k, p->rows, y, p->w.n, 1);
}

/* The patch of output pixel (oh, ow) of one group: K codes in the order ic, kh, kw
 * (the scalar kernel's reduction order), positions outside the input as 0. Plain loops
 * rather than memset/memcpy calls: rows are a few codes long, and a call costs more. */
static void gather_patch(const sc_conv2d_packed *p, const int8_t *xg, int32_t oh, int32_t ow, int8_t *q) {
  const int32_t icg = p->in_c / p->groups, in_h = p->in_h, in_w = p->in_w;
  const int32_t k_h = p->k_h, k_w = p->k_w, dil_h = p->dil_h, dil_w = p->dil_w;
  const ptrdiff_t in_plane = (ptrdiff_t)in_h * in_w;
  const int32_t ih0 = oh * p->stride_h - p->pad_t, iw0 = ow * p->stride_w - p->pad_l;
  const int inside_w = iw0 >= 0 && iw0 + (k_w - 1) * dil_w < in_w; /* every column of the window */
  for (int32_t ic = 0; ic < icg; ic++) {
    const int8_t *xc = xg + ic * in_plane;
    for (int32_t kh = 0; kh < k_h; kh++) {
      const int32_t ih = ih0 + kh * dil_h;
      if (ih < 0 || ih >= in_h) {
        for (int32_t kw = 0; kw < k_w; kw++) *q++ = 0;
        continue;
      }
      const int8_t *row = xc + (ptrdiff_t)ih * in_w;
      if (inside_w) {
        for (int32_t kw = 0; kw < k_w; kw++) *q++ = row[iw0 + kw * dil_w];
      } else {
        for (int32_t kw = 0; kw < k_w; kw++) {
          const int32_t iw = iw0 + kw * dil_w;
          *q++ = iw >= 0 && iw < in_w ? row[iw] : 0;
        }
      }
    }
  }
}

void sc_conv2d_s8_packed(const sc_conv2d_packed *p, const int8_t *x, int8_t *y) {
  int8_t tile[SC_CONV_TILE_BYTES];
  const int32_t icg = p->in_c / p->groups, ocg = p->out_c / p->groups, k = p->w.k;
  const int32_t pixels = p->out_h * p->out_w, per_tile = SC_CONV_TILE_BYTES / k; /* >= 1: k <= SC_GEMM_K_MAX */
  const ptrdiff_t in_plane = (ptrdiff_t)p->in_h * p->in_w, out_plane = pixels;
  const ptrdiff_t w_group = (ptrdiff_t)((ocg + SC_PACK_NR - 1) / SC_PACK_NR) * SC_PACK_NR * p->w.k_pad;
  for (int32_t b = 0; b < p->n; b++)
    for (int32_t g = 0; g < p->groups; g++) {
      const int8_t *xg = x + ((ptrdiff_t)b * p->in_c + (ptrdiff_t)g * icg) * in_plane;
      int8_t *yg = y + ((ptrdiff_t)b * p->out_c + (ptrdiff_t)g * ocg) * out_plane;
      for (int32_t p0 = 0; p0 < pixels; p0 += per_tile) {
        const int32_t count = pixels - p0 < per_tile ? pixels - p0 : per_tile;
        for (int32_t i = 0; i < count; i++)
          gather_patch(p, xg, (p0 + i) / p->out_w, (p0 + i) % p->out_w, tile + (ptrdiff_t)i * k);
        /* rows are the tile's pixels, consecutive in each output channel's plane */
        sc_packed_gemm(&p->w, p->w.w + g * w_group, g * ocg, ocg, tile, k, count, yg + p0, 1, out_plane);
      }
    }
}

void sc_matmul_s8_packed(const sc_matmul_params *p, const int8_t *a, const int8_t *b, int8_t *y) {
  int8_t wp[SC_MATMUL_PACK_BYTES];
  int32_t wsum128[SC_MATMUL_N_MAX];
  const int32_t m = p->m, k = p->k, n = p->n, k_pad = (k + SC_PACK_KB - 1) / SC_PACK_KB * SC_PACK_KB;
  const int32_t n_pad = (n + SC_PACK_NR - 1) / SC_PACK_NR * SC_PACK_NR;
  sc_packed_weights pw = {0};
  pw.n = n, pw.k = k, pw.k_pad = k_pad, pw.w = wp, pw.rq = p->rq;
  pw.wsum128 = wsum128; /* read by the layouts that feed a + 128 only */
  for (int32_t t = 0; t < p->batch; t++) {
    const int8_t *bt = b + (ptrdiff_t)t * p->b_batch_stride;
    memset(wp, 0, (size_t)n_pad * (size_t)k_pad);
    for (int32_t kk = 0; kk < k; kk++) {
      const int8_t *row = bt + (ptrdiff_t)kk * n;
      int8_t *dst = wp + (ptrdiff_t)(kk / SC_PACK_KB) * SC_PACK_NR * SC_PACK_KB + kk % SC_PACK_KB;
      for (int32_t j = 0; j < n; j++)
        dst[(ptrdiff_t)(j / SC_PACK_NR) * SC_PACK_NR * k_pad + (j % SC_PACK_NR) * SC_PACK_KB] = row[j];
    }
#ifdef SC_PACK_U8 /* only these kernels read the column sums */
    for (int32_t j = 0; j < n; j++) wsum128[j] = 0;
    for (int32_t kk = 0; kk < k; kk++)
      for (int32_t j = 0; j < n; j++) wsum128[j] += 128 * bt[(ptrdiff_t)kk * n + j];
#endif
    sc_packed_gemm(&pw, wp, 0, n, a + (ptrdiff_t)t * p->a_batch_stride, k, m, y + (ptrdiff_t)t * m * n, n, 1);
  }
}
