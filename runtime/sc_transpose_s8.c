/* sc_transpose_s8.c — scalar reference axis permutation of rank <= SC_MAX_RANK. */
#include <stddef.h>

#include "shiftc_rt.h"

/* Output dims[i] = in_dims[perm[i]]; y (dense, row major over the output dims) at
 * index (j_0, ..., j_{r-1}) = x at the index whose axis perm[i] is j_i. rank 0 (or 1)
 * copies. */
void sc_transpose_s8(const sc_transpose_params *p, const int8_t *x, int8_t *y) {
  const int rank = p->rank;
  if (rank <= 0) {
    y[0] = x[0];
    return;
  }
  ptrdiff_t in_stride[SC_MAX_RANK];
  ptrdiff_t stride[SC_MAX_RANK]; /* input stride of each output axis */
  int32_t dims[SC_MAX_RANK];     /* output dims */
  ptrdiff_t s = 1;
  for (int d = rank - 1; d >= 0; d--) {
    in_stride[d] = s;
    s *= p->in_dims[d];
  }
  if (s == 0) return;
  for (int i = 0; i < rank; i++) {
    dims[i] = p->in_dims[p->perm[i]];
    stride[i] = in_stride[p->perm[i]];
  }

  const int last = rank - 1;
  const int32_t len = dims[last];
  const ptrdiff_t sl = stride[last];
  int32_t idx[SC_MAX_RANK] = {0};
  ptrdiff_t off = 0; /* input offset of the current output row's first element */
  for (;;) {
    for (int32_t j = 0; j < len; j++) y[j] = x[off + j * sl];
    y += len;
    int d = last - 1;
    for (; d >= 0; d--) {
      off += stride[d];
      if (++idx[d] < dims[d]) break;
      off -= stride[d] * dims[d];
      idx[d] = 0;
    }
    if (d < 0) return;
  }
}
