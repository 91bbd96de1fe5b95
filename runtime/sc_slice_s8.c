/* sc_slice_s8.c — scalar reference slice along one axis (a strided copy). */
#include <stddef.h>
#include <string.h>

#include "shiftc_rt.h"

/* y[o][j][i] = x[o][start + j*step][i]: a plain copy, no requantization (the output
 * keeps the input's scale). A step of 1 copies each block's rows in one memcpy. */
void sc_slice_s8(const sc_slice_params *p, const int8_t *x, int8_t *y) {
  const ptrdiff_t inner = p->inner, in_block = (ptrdiff_t)p->len * inner, out_block = (ptrdiff_t)p->count * inner;
  if (out_block == 0) return;
  for (int32_t o = 0; o < p->outer; o++) {
    const int8_t *src = x + o * in_block + (ptrdiff_t)p->start * inner;
    int8_t *dst = y + o * out_block;
    if (p->step == 1) {
      memcpy(dst, src, (size_t)out_block);
      continue;
    }
    for (int32_t j = 0; j < p->count; j++) memcpy(dst + j * inner, src + (ptrdiff_t)j * p->step * inner, (size_t)inner);
  }
}
