/* sc_igelu_s8_simd.c — i-GELU for the SIMD targets. The op is a function of one int8
 * code, so the scalar helpers of shiftc_rt.h (sc_igelu_s32, then sc_requant_apply) are
 * evaluated once per code into a table, and every element is looked up with the ISA's
 * sc_lut_s8_simd: the int64 intermediates are computed by the scalar kernel's own code,
 * so the result is bit-identical for every input by construction. */
#include "sc_simd.h"

void sc_igelu_s8_simd(const sc_igelu_params *p, int32_t n, const int8_t *x, int8_t *y) {
  if (n < 512) { /* building the table would cost more than the elements */
    sc_igelu_s8(p, n, x, y);
    return;
  }
  int8_t table[256];
  for (int32_t q = -128; q < 128; q++) table[q + 128] = (int8_t)sc_requant_apply(&p->rq, 0, sc_igelu_s32(p, q));
  sc_lut_s8_simd(n, table, x, y);
}
