/* sc_resize_s8.c — scalar reference resize of NCHW planes: nearest (a gather of codes)
 * and bilinear (fixed-point weights from compile time, one rounding per output). */
#include <stddef.h>

#include "shiftc_rt.h"

void sc_resize_s8(const sc_resize_params *p, const int8_t *x, int8_t *y) {
  const int32_t *y0 = p->idx, *y1 = y0 + p->out_h, *x0 = y1 + p->out_h, *x1 = x0 + p->out_w;
  const int32_t one = (int32_t)1 << SC_RESIZE_FRAC;
  for (int32_t c = 0; c < p->planes; c++) {
    const int8_t *plane = x + (ptrdiff_t)c * p->in_h * p->in_w;
    for (int32_t i = 0; i < p->out_h; i++) {
      const int8_t *r0 = plane + (ptrdiff_t)y0[i] * p->in_w, *r1 = plane + (ptrdiff_t)y1[i] * p->in_w;
      int8_t *out = y + ((ptrdiff_t)c * p->out_h + i) * p->out_w;
      if (!p->w) {
        for (int32_t j = 0; j < p->out_w; j++) out[j] = r0[x0[j]];
        continue;
      }
      const int32_t wy = p->w[i];
      const int16_t *wx = p->w + p->out_h;
      for (int32_t j = 0; j < p->out_w; j++) {
        int32_t top = r0[x0[j]] * (one - wx[j]) + r0[x1[j]] * wx[j];
        int32_t bot = r1[x0[j]] * (one - wx[j]) + r1[x1[j]] * wx[j];
        out[j] = sc_sat_s8(sc_rshift_round(top * (one - wy) + bot * wy, 2 * SC_RESIZE_FRAC));
      }
    }
  }
}
