/* sc_lut_s8.c — scalar reference table lookup (any function of one int8 code). */
#include "shiftc_rt.h"

/* y[i] = table[x[i] + 128]; x and y may be the same buffer. */
void sc_lut_s8(int32_t n, const int8_t table[256], const int8_t *x, int8_t *y) {
  for (int32_t i = 0; i < n; i++) y[i] = table[(int32_t)x[i] + 128];
}
