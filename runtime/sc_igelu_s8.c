/* sc_igelu_s8.c — scalar reference i-GELU (I-BERT, algorithms.md §5) on int8 codes. */
#include "shiftc_rt.h"

/* y[i] = requant(sc_igelu_s32(x[i])) with the per-tensor rq; x and y may be the same buffer. */
void sc_igelu_s8(const sc_igelu_params *p, int32_t n, const int8_t *x, int8_t *y) {
  for (int32_t i = 0; i < n; i++) y[i] = (int8_t)sc_requant_apply(&p->rq, 0, sc_igelu_s32(p, x[i]));
}
