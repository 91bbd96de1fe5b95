/* sc_matmul_softmax_s8.c — scalar reference fused attention scores + i-exp softmax:
 * the int32 scores of a row never leave scratch. */
#include "sc_internal.h"
#include "shiftc_rt.h"

/* Per batch t and row i: scratch[j] = sum_kk a[t*a_batch_stride + i*k + kk] *
 * b[t*b_batch_stride + kk*n + j], then the softmax of the row with << score_lshift. */
void sc_matmul_softmax_s8(const sc_matmul_softmax_params *p, const int8_t *a, const int8_t *b, int8_t *y,
                          int32_t *scratch) {
  const int32_t m = p->m, k = p->k, n = p->n;
  for (int32_t t = 0; t < p->batch; t++) {
    const int8_t *at = a + (ptrdiff_t)t * p->a_batch_stride;
    const int8_t *bt = b + (ptrdiff_t)t * p->b_batch_stride;
    int8_t *yt = y + (ptrdiff_t)t * m * n;
    for (int32_t i = 0; i < m; i++) {
      const int8_t *ai = at + (ptrdiff_t)i * k;
      for (int32_t j = 0; j < n; j++) scratch[j] = sc_dot_s8(ai, 1, bt + j, n, k);
      sc_softmax_row_shifted(&p->sm, n, scratch, p->score_lshift, yt + (ptrdiff_t)i * n, scratch);
    }
  }
}
