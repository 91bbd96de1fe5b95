/* sc_eltwise_s8_simd.c — add, sub and mul for the SIMD targets: the walk over the
 * outer axes (as sc_eltwise_s8.c's, NumPy broadcasting through strides) in C99, each
 * output row of the last axis in the ISA's sc_eltwise_row_s8. The compiler calls these
 * only when both operands have stride 1 along the last axis. */
#include <stddef.h>

#include "sc_internal.h"
#include "sc_simd.h"

static void eltwise(const sc_eltwise_params *p, int op, const int8_t *a, const int8_t *b, int8_t *y) {
  const int rank = p->rank;
  if (rank <= 0) {
    sc_eltwise_row_s8(p, op, a, b, y, 1);
    return;
  }
  for (int d = 0; d < rank; d++)
    if (p->dims[d] <= 0) return;
  const int last = rank - 1;
  const int32_t len = p->dims[last];
  int32_t idx[SC_MAX_RANK] = {0};
  ptrdiff_t oa = 0, ob = 0; /* offsets of the current row's first element */
  do {
    sc_eltwise_row_s8(p, op, a + oa, b + ob, y, len);
    y += len;
  } while (sc_eltwise_next_row(p, idx, &oa, &ob));
}

void sc_add_s8_simd(const sc_eltwise_params *p, const int8_t *a, const int8_t *b, int8_t *y) { eltwise(p, 0, a, b, y); }
void sc_sub_s8_simd(const sc_eltwise_params *p, const int8_t *a, const int8_t *b, int8_t *y) { eltwise(p, 1, a, b, y); }
void sc_mul_s8_simd(const sc_eltwise_params *p, const int8_t *a, const int8_t *b, int8_t *y) { eltwise(p, 2, a, b, y); }
