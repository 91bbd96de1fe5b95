/* sc_layernorm_s8.c — scalar reference integer LayerNorm, L2 (i-sqrt, algorithms.md §5)
 * or L1 (mean absolute deviation, §6), with the gamma/beta output stage. */
#include <stddef.h>

#include "shiftc_rt.h"

/* Per row: the mean with 8 fractional bits, the factor, then per channel c
 * y = clamp(rshift_round64(yn * g[c] + b[c], shift), lo, hi). Three passes over the
 * row (sum, deviation, output), no scratch; x and y may be the same buffer. */
void sc_layernorm_s8(const sc_layernorm_params *p, const int8_t *x, int8_t *y) {
  const int32_t n = p->n;
  for (int32_t r = 0; r < p->rows; r++) {
    const int8_t *xr = x + (ptrdiff_t)r * n;
    int8_t *yr = y + (ptrdiff_t)r * n;
    int32_t mu8 = sc_layernorm_mean8(n, xr);
    int64_t fac = sc_layernorm_factor(p->l1, n, xr, mu8);
    for (int32_t c = 0; c < n; c++) {
      int64_t yn = sc_layernorm_norm(p->l1, xr[c], mu8, fac);
      int64_t v = sc_rshift_round64(yn * p->g[c] + p->b[c], p->shift);
      yr[c] = (int8_t)(v < p->lo ? p->lo : v > p->hi ? p->hi : v);
    }
  }
}
