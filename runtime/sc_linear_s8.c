/* sc_linear_s8.c — scalar reference fully connected layer. */
#include "sc_internal.h"
#include "shiftc_rt.h"

/* y[r][o] = requant_o(bias[o] * 2^bias_lshift[o] + sum_i x[r][i] * weight[o][i]), through sc_kacc (k-split);
 * weights are int8 codes, or packed when weight_bits is 2..7 (shiftc_rt.h). */
void sc_linear_s8(const sc_linear_params *p, const int8_t *x, int8_t *y) {
  const int32_t in = p->in, out = p->out;
  for (int32_t r = 0; r < p->rows; r++) {
    const int8_t *xr = x + (ptrdiff_t)r * in;
    int8_t *yr = y + (ptrdiff_t)r * out;
    for (int32_t o = 0; o < out; o++) {
      sc_kacc acc;
      sc_kacc_init(&acc, &p->rq, sc_bias_acc(p->bias, &p->rq, o));
      sc_kacc_dot_w(&acc, xr, 1, p->weight, p->weight_bits, (ptrdiff_t)o * in, in);
      yr[o] = (int8_t)sc_requant_apply(&p->rq, o, sc_kacc_end(&acc));
    }
  }
}
