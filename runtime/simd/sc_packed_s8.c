/* sc_packed_s8.c — linear and conv2d over packed weights, for every SIMD target: the
 * loops and the patch gathering are plain C99; the arithmetic is the ISA's
 * GEMM sc_packed_gemm (runtime/<isa>/sc_packed_gemm_<isa>.c). */
#include <string.h>

#include "sc_internal.h"
#include "sc_simd.h"

void sc_linear_s8_packed(const sc_linear_packed *p, const int8_t *x, int8_t *y) {
  sc_packed_gemm(&p->w, p->w.w, 0, p->w.n, x, p->w.k, p->rows, y, p->w.n, 1);
}

/* Bytes the row-major gather may write past a tile's last patch (see gather_row). */
#define GATHER_SLACK 8

#ifndef SC_GEMM_KMAJOR

/* The patches of the output pixels ow in [ow0, ow1) of output row oh, one group: row
 * ow - ow0 of q holds K codes in the order ic, kh, kw (the scalar kernel's reduction
 * order), positions outside the input as 0. The window rows kh in [kh_lo, kh_hi) fall
 * inside the input for the whole output row. Where a pixel's window also lies inside
 * horizontally (undilated, k_w <= 8), each window row is one 8-byte move: the bytes past
 * its k_w land on columns written after it (or the next pixel's, or GATHER_SLACK), and
 * the source bytes past it are still inside the input tensor (x_end), else the pixel
 * takes the general path. One move per (ic, kh) instead of k_w tested byte copies. */
static void gather_row(const sc_conv2d_packed *p, const int8_t *xg, const int8_t *x_end, int32_t oh, int32_t ow0,
                       int32_t ow1, int8_t *q) {
  const int32_t icg = p->in_c / p->groups, in_h = p->in_h, in_w = p->in_w, k = p->w.k;
  const int32_t k_h = p->k_h, k_w = p->k_w, dil_h = p->dil_h, dil_w = p->dil_w;
  const ptrdiff_t in_plane = (ptrdiff_t)in_h * in_w;
  const int32_t ih0 = oh * p->stride_h - p->pad_t;
  int32_t kh_lo, kh_hi;
  sc_tap_range(ih0, dil_h, k_h, in_h, &kh_lo, &kh_hi);
  for (int32_t ow = ow0; ow < ow1; ow++, q += k) {
    const int32_t iw0 = ow * p->stride_w - p->pad_l;
    const int inside_w = iw0 >= 0 && iw0 + (k_w - 1) * dil_w < in_w; /* every column of the window */
    int8_t *d = q;
    if (inside_w && dil_w == 1 && k_w <= 8 && kh_lo < kh_hi &&
        x_end - (xg + (icg - 1) * in_plane + (ptrdiff_t)(ih0 + (kh_hi - 1) * dil_h) * in_w + iw0) >= 8) {
      const int8_t *xc = xg + (ptrdiff_t)(ih0 + kh_lo * dil_h) * in_w + iw0;
      for (int32_t ic = 0; ic < icg; ic++, xc += in_plane) {
        for (int32_t kh = 0; kh < kh_lo; kh++, d += k_w) memset(d, 0, 8);
        const int8_t *src = xc;
        for (int32_t kh = kh_lo; kh < kh_hi; kh++, d += k_w, src += (ptrdiff_t)dil_h * in_w) memcpy(d, src, 8);
        for (int32_t kh = kh_hi; kh < k_h; kh++, d += k_w) memset(d, 0, 8);
      }
      continue;
    }
    int32_t kw_lo, kw_hi; /* the taps inside the row; the others are padding */
    sc_tap_range(iw0, dil_w, k_w, in_w, &kw_lo, &kw_hi);
    for (int32_t ic = 0; ic < icg; ic++) {
      const int8_t *xc = xg + ic * in_plane;
      for (int32_t kh = 0; kh < k_h; kh++, d += k_w) {
        int32_t kw = 0;
        if (kh >= kh_lo && kh < kh_hi) {
          const int8_t *src = xc + (ptrdiff_t)(ih0 + kh * dil_h) * in_w + iw0;
          for (; kw < kw_lo; kw++) d[kw] = 0;
          for (; kw < kw_hi; kw++) d[kw] = src[kw * dil_w];
        }
        for (; kw < k_w; kw++) d[kw] = 0;
      }
    }
  }
}

#endif

#ifdef SC_GEMM_KMAJOR
#include <emmintrin.h> /* SC_GEMM_KMAJOR is x86: SSE2 is its baseline */

/* dst[j] = src[2 j] for j < n: stride-2 taps, 16 at a time, reading no byte past
 * src[2 (n - 1)]: the even bytes of src[2j .. 2j+15], and of src[2j+16 .. 2j+30] as the
 * odd bytes of the 16 from src + 2j + 15; a last group overlapping the one before. */
static void copy_stride2(int8_t *dst, const int8_t *src, int32_t n) {
  if (n < 16) {
    for (int32_t j = 0; j < n; j++) dst[j] = src[2 * j];
    return;
  }
  const __m128i even = _mm_set1_epi16(0x00FF);
  for (int32_t j = 0;; j += 16) {
    if (j + 16 > n) j = n - 16;
    const __m128i lo = _mm_and_si128(_mm_loadu_si128((const __m128i *)(const void *)(src + 2 * j)), even);
    const __m128i hi = _mm_srli_epi16(_mm_loadu_si128((const __m128i *)(const void *)(src + 2 * j + 15)), 8);
    _mm_storeu_si128((__m128i *)(void *)(dst + j), _mm_packus_epi16(lo, hi));
    if (j + 16 == n) break;
  }
}

enum { KW_CACHED = 16 }; /* kernel columns whose output-column range is worked out once per tile */

/* The patches of the tile's count pixels from pixel p0, K-major: tap kk = (ic, kh, kw) of
 * pixel i at q[kk * count + i]. Output row by output row: for one tap, the row's pixels
 * read one input row at a fixed stride (consecutive bytes for stride 1), a copy between
 * zero runs where the tap falls into the padding. */
static void gather_kmajor(const sc_conv2d_packed *p, const int8_t *xg, int32_t p0, int32_t count, int8_t *q) {
  const int32_t icg = p->in_c / p->groups, in_h = p->in_h, in_w = p->in_w, out_w = p->out_w, sw = p->stride_w;
  const ptrdiff_t in_plane = (ptrdiff_t)in_h * in_w;
  int32_t lo_kw[KW_CACHED], hi_kw[KW_CACHED];
  for (int32_t kw = 0; kw < p->k_w && kw < KW_CACHED; kw++)
    sc_out_range(kw * p->dil_w - p->pad_l, sw, in_w, out_w, &lo_kw[kw], &hi_kw[kw]);
  for (int32_t i = 0; i < count;) {
    const int32_t oh = (p0 + i) / out_w, ow0 = (p0 + i) % out_w;
    const int32_t ow1 = ow0 + (count - i) < out_w ? ow0 + (count - i) : out_w, n = ow1 - ow0;
    int8_t *d = q + i - ow0; /* d[kk * count + ow]: tap kk of this row's pixel ow */
    i += n;
    for (int32_t ic = 0; ic < icg; ic++)
      for (int32_t kh = 0; kh < p->k_h; kh++) {
        const int32_t ih = oh * p->stride_h - p->pad_t + kh * p->dil_h;
        const int8_t *row = ih >= 0 && ih < in_h ? xg + ic * in_plane + (ptrdiff_t)ih * in_w : NULL;
        for (int32_t kw = 0; kw < p->k_w; kw++, d += count) {
          if (!row) {
            memset(d + ow0, 0, (size_t)n);
            continue;
          }
          /* iw = ow * sw + off lies inside the row for ow in [lo, hi) */
          const int32_t off = kw * p->dil_w - p->pad_l;
          int32_t lo, hi;
          if (kw < KW_CACHED) lo = lo_kw[kw], hi = hi_kw[kw];
          else sc_out_range(off, sw, in_w, out_w, &lo, &hi);
          lo = lo < ow0 ? ow0 : lo > ow1 ? ow1 : lo;
          hi = hi > ow1 ? ow1 : hi < lo ? lo : hi;
          if (lo > ow0) memset(d + ow0, 0, (size_t)(lo - ow0));
          if (hi < ow1) memset(d + hi, 0, (size_t)(ow1 - hi));
          if (lo == hi) continue;
          const int8_t *src = row + (ptrdiff_t)lo * sw + off;
          if (sw == 1) memcpy(d + lo, src, (size_t)(hi - lo));
          else if (sw == 2) copy_stride2(d + lo, src, hi - lo);
          else
            for (int32_t ow = lo; ow < hi; ow++, src += sw) d[ow] = *src;
        }
      }
  }
}
#endif

void sc_conv2d_s8_packed(const sc_conv2d_packed *p, const int8_t *x, int8_t *y) {
  int8_t tile[SC_CONV_TILE_BYTES + GATHER_SLACK];
#ifndef SC_GEMM_KMAJOR
  const int8_t *x_end = x + (ptrdiff_t)p->n * p->in_c * p->in_h * p->in_w; /* gather_row's 8-byte moves */
#endif
  const int32_t icg = p->in_c / p->groups, ocg = p->out_c / p->groups, k = p->w.k;
  const int32_t pixels = p->out_h * p->out_w;
  int32_t per_tile = SC_CONV_TILE_BYTES / k; /* >= 1: k <= SC_GEMM_K_MAX */
  /* whole register tiles: every ISA's rows per tile (2, 4, 6, 8) divides 24; the rows a
   * tile leaves go through the one-row kernel, several times slower per MAC */
  if (per_tile >= 24) per_tile -= per_tile % 24;
  const ptrdiff_t in_plane = (ptrdiff_t)p->in_h * p->in_w, out_plane = pixels;
  const ptrdiff_t w_group = (ptrdiff_t)((ocg + SC_PACK_NR - 1) / SC_PACK_NR) * SC_PACK_NR * p->w.k_pad;
  for (int32_t b = 0; b < p->n; b++)
    for (int32_t g = 0; g < p->groups; g++) {
      const int8_t *xg = x + ((ptrdiff_t)b * p->in_c + (ptrdiff_t)g * icg) * in_plane;
      int8_t *yg = y + ((ptrdiff_t)b * p->out_c + (ptrdiff_t)g * ocg) * out_plane;
      for (int32_t p0 = 0; p0 < pixels; p0 += per_tile) {
        const int32_t count = pixels - p0 < per_tile ? pixels - p0 : per_tile;
#ifdef SC_GEMM_KMAJOR
        gather_kmajor(p, xg, p0, count, tile);
        sc_packed_gemm_kmajor(&p->w, p->w.w + g * w_group, g * ocg, ocg, tile, count, count, yg + p0, 1, out_plane);
#else
        for (int32_t i = 0; i < count;) { /* the tile's pixels, one output row's run at a time */
          const int32_t oh = (p0 + i) / p->out_w, ow0 = (p0 + i) % p->out_w;
          const int32_t ow1 = ow0 + (count - i) < p->out_w ? ow0 + (count - i) : p->out_w;
          gather_row(p, xg, x_end, oh, ow0, ow1, tile + (ptrdiff_t)i * k);
          i += ow1 - ow0;
        }
        /* rows are the tile's pixels, consecutive in each output channel's plane */
        sc_packed_gemm(&p->w, p->w.w + g * w_group, g * ocg, ocg, tile, k, count, yg + p0, 1, out_plane);
#endif
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
