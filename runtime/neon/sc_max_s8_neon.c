/* sc_max_s8_neon.c — byte-wise maxima for max pooling (sc_simd.h), 16 codes a step. */
#include "sc_neon.h"
#include "sc_simd.h"

void sc_max_s8_rows(int8_t *acc, const int8_t *x, int32_t n) {
  int32_t i = 0;
  for (; i + 16 <= n; i += 16) vst1q_s8(acc + i, vmaxq_s8(vld1q_s8(acc + i), vld1q_s8(x + i)));
  for (; i < n; i++)
    if (x[i] > acc[i]) acc[i] = x[i];
}

void sc_max_s8_pairs(const int8_t *v, int8_t *y, int32_t n) {
  int32_t i = 0;
  for (; i + 16 <= n; i += 16) { /* vld2q splits even and odd codes */
    int8x16x2_t w = vld2q_s8(v + 2 * i);
    vst1q_s8(y + i, vmaxq_s8(w.val[0], w.val[1]));
  }
  for (; i < n; i++) y[i] = v[2 * i] > v[2 * i + 1] ? v[2 * i] : v[2 * i + 1];
}
