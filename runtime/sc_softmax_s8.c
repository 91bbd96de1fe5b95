/* sc_softmax_s8.c — scalar reference i-exp softmax (I-BERT, algorithms.md §5) over
 * rows of int32 scores or int8 codes; probabilities as int8 at scale 2^-7. */
#include "sc_internal.h"
#include "shiftc_rt.h"

void sc_softmax_row_s32(const sc_softmax_params *p, int32_t n, const int32_t *x, int8_t *y, int32_t *scratch) {
  sc_softmax_row_shifted(p, n, x, 0, y, scratch);
}

void sc_softmax_s8(const sc_softmax_params *p, int32_t rows, int32_t n, const int8_t *x, int8_t *y,
                   int32_t *scratch) {
  for (int32_t r = 0; r < rows; r++) {
    const int8_t *xr = x + (ptrdiff_t)r * n;
    for (int32_t j = 0; j < n; j++) scratch[j] = xr[j];
    sc_softmax_row_shifted(p, n, scratch, p->in_lshift, y + (ptrdiff_t)r * n, scratch);
  }
}
