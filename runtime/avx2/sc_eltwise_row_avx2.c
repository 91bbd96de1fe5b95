/* sc_eltwise_row_avx2.c — one row of add/sub/mul (sc_simd.h), 8 codes a step in int32
 * lanes, with sc_eltwise_s8.c's arithmetic: each operand of add/sub brought to the
 * common scale (x * 2^lshift, then rdmulh by mult if any, then a rounding right shift;
 * |x * 2^lshift| <= 127 * 2^23, no overflow), the sum, difference or product
 * requantized with p->out. A last partial step runs on zero-padded copies. */
#include <string.h>

#include "sc_avx2.h"
#include "sc_simd.h"

static inline __m256i scale_operand(__m256i x, const sc_operand_scale *s) {
  x = _mm256_sllv_epi32(x, _mm256_set1_epi32(s->lshift));
  if (s->mult) x = sc_avx2_rdmulh(x, _mm256_set1_epi32(s->mult));
  return sc_avx2_shift_round(x, _mm256_set1_epi32(s->shift));
}

void sc_eltwise_row_s8(const sc_eltwise_params *p, int op, const int8_t *a, const int8_t *b, int8_t *y, int32_t n) {
  int32_t mult[8], shift[8], out[8];
  for (int j = 0; j < 8; j++) {
    mult[j] = p->out.mult ? p->out.mult[0] : 0;
    shift[j] = p->out.shift[0];
  }
  for (int32_t i = 0; i < n; i += 8) {
    const int32_t m = n - i < 8 ? n - i : 8;
    int8_t ta[8] = {0}, tb[8] = {0};
    const int8_t *pa = a + i, *pb = b + i;
    if (m < 8) {
      memcpy(ta, pa, (size_t)m);
      memcpy(tb, pb, (size_t)m);
      pa = ta;
      pb = tb;
    }
    __m256i va = _mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(const void *)pa));
    __m256i vb = _mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(const void *)pb));
    __m256i acc;
    if (op == 2) {
      acc = _mm256_mullo_epi32(va, vb);
    } else {
      va = scale_operand(va, &p->a);
      vb = scale_operand(vb, &p->b);
      acc = op == 0 ? _mm256_add_epi32(va, vb) : _mm256_sub_epi32(va, vb);
    }
    acc = sc_avx2_requant(acc, mult, shift, p->out.mult != NULL, p->out.lo, p->out.hi);
    _mm256_storeu_si256((__m256i *)(void *)out, acc);
    for (int32_t j = 0; j < m; j++) y[i + j] = (int8_t)out[j];
  }
}
