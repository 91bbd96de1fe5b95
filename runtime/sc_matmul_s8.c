/* sc_matmul_s8.c — scalar reference batched matmul of two int8 activations. */
#include "sc_internal.h"
#include "shiftc_rt.h"

/* y[t][i][j] = requant_0(sum_kk a[t*a_batch_stride + i*k + kk] * b[t*b_batch_stride + kk*n + j]),
 * through sc_kacc (k-split, no bias); y is dense [batch][m][n]. A batch stride of 0
 * repeats the operand for every batch. */
void sc_matmul_s8(const sc_matmul_params *p, const int8_t *a, const int8_t *b, int8_t *y) {
  const int32_t m = p->m, k = p->k, n = p->n;
  for (int32_t t = 0; t < p->batch; t++) {
    const int8_t *at = a + (ptrdiff_t)t * p->a_batch_stride;
    const int8_t *bt = b + (ptrdiff_t)t * p->b_batch_stride;
    int8_t *yt = y + (ptrdiff_t)t * m * n;
    for (int32_t i = 0; i < m; i++) {
      const int8_t *ai = at + (ptrdiff_t)i * k;
      for (int32_t j = 0; j < n; j++) {
        sc_kacc acc;
        sc_kacc_init(&acc, &p->rq, 0);
        sc_kacc_dot(&acc, ai, 1, bt + j, n, k);
        yt[(ptrdiff_t)i * n + j] = (int8_t)sc_requant_apply(&p->rq, 0, sc_kacc_end(&acc));
      }
    }
  }
}
