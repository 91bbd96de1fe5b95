/* sc_dwconv_s8_avx2.c — depthwise 2-D convolution (one input channel per output channel:
 * groups = in_c = out_c) for the avx2 family, as sc_conv2d_s8 computes it when nothing
 * splits the sum (k_chunk 0) and the weights are int8 codes. A depthwise layer does not
 * fit the packed GEMM (one channel per group would fill one lane of each block), so it
 * runs directly: per output row, blocks of 8 output columns keep their int32 sums in a
 * register over every tap of the window (sign-extended input times the broadcast weight:
 * exact, products of codes fit int32 and the sum is bounded by legalization), then are
 * requantized in vector registers (sc_avx2_requant, the scalar arithmetic lane by lane)
 * and stored as 8 codes. Columns whose window reaches into the padding, the last columns
 * of a row, strides above 2 and layers with output-domain addends take the scalar
 * arithmetic per column. */
#include "sc_simd.h"

#ifdef SC_GEMM_KMAJOR /* the x86 family */
#include "sc_avx2.h"
#include "sc_internal.h"
#include "shiftc_rt.h"

/* One output column the scalar way: the taps inside the input, then sc_requant_apply. */
static int8_t column(const sc_conv2d_params *p, const int8_t *xc, const int8_t *wc, int32_t bias, int c, int32_t ih0,
                     int32_t kh_lo, int32_t kh_hi, int32_t ow) {
  int32_t acc = bias, kw_lo, kw_hi;
  const int32_t iw0 = ow * p->stride_w - p->pad_l;
  sc_tap_range(iw0, p->dil_w, p->k_w, p->in_w, &kw_lo, &kw_hi);
  for (int32_t kh = kh_lo; kh < kh_hi; kh++) {
    const int8_t *row = xc + (ptrdiff_t)(ih0 + kh * p->dil_h) * p->in_w + iw0;
    for (int32_t kw = kw_lo; kw < kw_hi; kw++) acc += (int32_t)row[kw * p->dil_w] * wc[kh * p->k_w + kw];
  }
  return (int8_t)sc_requant_apply(&p->rq, c, acc);
}

/* 8 input codes x[0], x[s], ..., x[7 s] (s = 1 or 2) as int32 lanes. */
static inline __m256i load8_taps(const int8_t *x, int32_t s) {
  if (s == 1) return _mm256_cvtepi8_epi32(sc_avx2_load8(x));
  /* stride 2: the even bytes of x[0..15] */
  const __m128i even = _mm_setr_epi8(0, 2, 4, 6, 8, 10, 12, 14, -1, -1, -1, -1, -1, -1, -1, -1);
  return _mm256_cvtepi8_epi32(_mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(const void *)x), even));
}

/* Output columns o .. o+7 of one row, every tap of their windows inside the row. */
static void block(const sc_conv2d_params *p, const int8_t *xc, const int8_t *wc, int32_t bias, const int32_t *mult,
                  const int32_t *shift, int32_t ih0, int32_t kh_lo, int32_t kh_hi, int32_t o, int8_t *yr) {
  const int32_t k_w = p->k_w, sw = p->stride_w, dil_w = p->dil_w;
  __m256i acc = _mm256_set1_epi32(bias);
  const int32_t iw0 = o * sw - p->pad_l;
  for (int32_t kh = kh_lo; kh < kh_hi; kh++) {
    const int8_t *row = xc + (ptrdiff_t)(ih0 + kh * p->dil_h) * p->in_w + iw0;
    for (int32_t kw = 0; kw < k_w; kw++)
      acc = _mm256_add_epi32(acc, _mm256_mullo_epi32(load8_taps(row + kw * dil_w, sw), _mm256_set1_epi32(wc[kh * k_w + kw])));
  }
  sc_avx2_store8_s8(yr + o, sc_avx2_requant(acc, mult, shift, p->rq.mult != NULL, p->rq.lo, p->rq.hi));
}

void sc_dwconv_s8_simd(const sc_conv2d_params *p, const int8_t *x, int8_t *y) {
  const int8_t *x_end = x + (ptrdiff_t)p->n * p->in_c * p->in_h * p->in_w;
  const int32_t in_h = p->in_h, in_w = p->in_w, out_h = p->out_h, out_w = p->out_w;
  const int32_t k_h = p->k_h, k_w = p->k_w, sw = p->stride_w, dil_w = p->dil_w;
  const ptrdiff_t in_plane = (ptrdiff_t)in_h * in_w, out_plane = (ptrdiff_t)out_h * out_w;
  const int vector = (sw == 1 || sw == 2) && !p->rq.out_add;
  /* from column c_lo on, the window's first tap is inside the row (its last one is checked
   * per block, with the bytes the block reads) */
  int32_t c_lo, c_unused;
  sc_out_range(-p->pad_l, sw, in_w, out_w, &c_lo, &c_unused);
  for (int32_t b = 0; b < p->n; b++)
    for (int32_t c = 0; c < p->out_c; c++) {
      const int8_t *xc = x + ((ptrdiff_t)b * p->in_c + c) * in_plane;
      const int8_t *wc = p->weight + (ptrdiff_t)c * k_h * k_w;
      const int32_t bias = sc_bias_acc(p->bias, &p->rq, c);
      const int i = p->rq.per_channel ? c : 0;
      int32_t mult[8], shift[8];
      for (int j = 0; j < 8; j++) mult[j] = p->rq.mult ? p->rq.mult[i] : 0, shift[j] = p->rq.shift[i];
      int8_t *yc = y + ((ptrdiff_t)b * p->out_c + c) * out_plane;
      for (int32_t oh = 0; oh < out_h; oh++) {
        const int32_t ih0 = oh * p->stride_h - p->pad_t;
        int32_t kh_lo, kh_hi;
        sc_tap_range(ih0, p->dil_h, k_h, in_h, &kh_lo, &kh_hi);
        int8_t *yr = yc + (ptrdiff_t)oh * out_w;
        int32_t ow = 0;
        for (; ow < c_lo && ow < out_w; ow++) yr[ow] = column(p, xc, wc, bias, c, ih0, kh_lo, kh_hi, ow);
        if (vector && kh_lo < kh_hi) {
          /* the last column a block may start at: its 8 columns' taps inside the row, and its
           * widest read (16 bytes for stride 2 from the last tap) inside the input tensor */
          const int8_t *last_row = xc + (ptrdiff_t)(ih0 + (kh_hi - 1) * p->dil_h) * in_w;
          int32_t end = (in_w - 1 + p->pad_l - (k_w - 1) * dil_w) / sw - 7; /* (end+7)*sw+... <= in_w-1 */
          if (in_w - 1 + p->pad_l - (k_w - 1) * dil_w < 0) end = -1;
          while (end >= ow && x_end - (last_row + end * sw - p->pad_l + (k_w - 1) * dil_w) < 16) end--;
          if (end > out_w - 8) end = out_w - 8;
          for (int32_t o = ow; o <= end; o = o + 8 <= end || o == end ? o + 8 : end) {
            block(p, xc, wc, bias, mult, shift, ih0, kh_lo, kh_hi, o, yr);
            ow = o + 8;
          }
        }
        for (; ow < out_w; ow++) yr[ow] = column(p, xc, wc, bias, c, ih0, kh_lo, kh_hi, ow);
      }
    }
}
#else
typedef int sc_dwconv_s8_avx2_unused; /* NEON: depthwise layers keep the scalar kernel */
#endif
