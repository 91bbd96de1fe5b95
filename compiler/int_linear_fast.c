/* int_linear_fast.c — the integer interpreter's linear layer, blocked and vectorized, with
 * the int32 sums of runtime/sc_linear_s8.c (the reference every target matches).
 *
 * `shiftc compile` runs the integer program over every calibration sample to measure SQNR,
 * and linear layers are nearly all of a Transformer's work (BERT-base layer: 0.9 G MACs per
 * sample). The reference computes each output as one dot product through sc_kacc; here four
 * rows share each weight load and SSE2's pmaddwd multiplies 8 int16 pairs and adds
 * adjacent products into int32 lanes. Every term of every output is still added exactly
 * once into that output's sum, and only the order of integer additions differs: the result
 * is the same int32 because legalize.c bounds every partial sum (a sum over a subset of the
 * terms) by K * max|x| * max|w| < 2^31. The k-split of sc_kacc is reproduced chunk by chunk:
 * chunk boundaries at multiples of k_chunk, each chunk's sum (and the bias) rounded right
 * by pre_shift before they are added.
 *
 * Used for 8-bit weights on hosts with SSE2 (every x86-64); anything else, and every
 * generated target, runs the runtime kernel. tests/unit/test_int_linear_fast.c compares
 * the two on random layers, split and unsplit. */
#include "shiftc.h"

#include <stdlib.h>
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>

#define RB 4 /* rows per block */

static int32_t hsum(__m128i v) {
  int32_t l[4];
  _mm_storeu_si128((__m128i *)(void *)l, v);
  return l[0] + l[1] + l[2] + l[3];
}

/* Sums over k in [k0, k1) of x16[r][k] * w[k] for nr <= RB rows (x16: int16 rows of
 * length `in`). */
static void dot_rows(const int16_t *x16, int32_t in, int nr, const int8_t *w, int32_t k0, int32_t k1,
                     int32_t part[RB]) {
  __m128i acc[RB];
  for (int r = 0; r < RB; r++) acc[r] = _mm_setzero_si128();
  int32_t k = k0;
  for (; k + 16 <= k1; k += 16) {
    __m128i w8 = _mm_loadu_si128((const __m128i *)(const void *)(w + k));
    /* Sign-extend 16 int8 to two vectors of 8 int16: the byte in the high half, then >> 8. */
    __m128i wl = _mm_srai_epi16(_mm_unpacklo_epi8(w8, w8), 8), wh = _mm_srai_epi16(_mm_unpackhi_epi8(w8, w8), 8);
    for (int r = 0; r < nr; r++) {
      const int16_t *xr = x16 + (size_t)r * (size_t)in + k;
      __m128i xl = _mm_loadu_si128((const __m128i *)(const void *)xr);
      __m128i xh = _mm_loadu_si128((const __m128i *)(const void *)(xr + 8));
      acc[r] = _mm_add_epi32(acc[r], _mm_add_epi32(_mm_madd_epi16(xl, wl), _mm_madd_epi16(xh, wh)));
    }
  }
  for (int r = 0; r < nr; r++) {
    int32_t s = hsum(acc[r]);
    const int16_t *xr = x16 + (size_t)r * (size_t)in;
    for (int32_t j = k; j < k1; j++) s += (int32_t)xr[j] * (int32_t)w[j];
    part[r] = s;
  }
}

bool int_linear_fast(const sc_linear_params *p, const int8_t *x, int8_t *y) {
  if (p->weight_bits > 0 && p->weight_bits < 8) return false;
  const int32_t in = p->in, out = p->out, chunk = p->rq.k_chunk > 0 ? p->rq.k_chunk : in;
  const int pre = p->rq.k_chunk > 0 ? p->rq.pre_shift : 0;
  int16_t *x16 = xmalloc(sizeof(int16_t) * (size_t)RB * (size_t)(in > 0 ? in : 1));
  for (int32_t r0 = 0; r0 < p->rows; r0 += RB) {
    int nr = p->rows - r0 < RB ? p->rows - r0 : RB;
    for (int r = 0; r < nr; r++)
      for (int32_t k = 0; k < in; k++) x16[(size_t)r * (size_t)in + k] = x[(ptrdiff_t)(r0 + r) * in + k];
    for (int32_t o = 0; o < out; o++) {
      const int8_t *w = p->weight + (ptrdiff_t)o * in;
      int32_t bias = sc_bias_acc(p->bias, &p->rq, o), total[RB], part[RB];
      for (int r = 0; r < nr; r++) total[r] = sc_rshift_round(bias, pre);
      /* Chunks as sc_kacc cuts them; an empty reduction still closes one (empty) chunk. */
      int32_t k0 = 0;
      do {
        int32_t k1 = in - k0 < chunk ? in : k0 + chunk;
        dot_rows(x16, in, nr, w, k0, k1, part);
        for (int r = 0; r < nr; r++) total[r] += sc_rshift_round(part[r], pre);
        k0 = k1;
      } while (k0 < in);
      for (int r = 0; r < nr; r++) y[(ptrdiff_t)(r0 + r) * out + o] = (int8_t)sc_requant_apply(&p->rq, o, total[r]);
    }
  }
  free(x16);
  return true;
}

#else

bool int_linear_fast(const sc_linear_params *p, const int8_t *x, int8_t *y) {
  (void)p, (void)x, (void)y;
  return false;
}

#endif
