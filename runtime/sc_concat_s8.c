/* sc_concat_s8.c — scalar reference concatenation along an axis. */
#include <stddef.h>
#include <string.h>

#include "shiftc_rt.h"

/* For each of the `outer` blocks, input i contributes inner[i] codes, inputs in
 * order: y = [x0 block 0][x1 block 0]...[x0 block 1]... With rq, each code of input i
 * becomes sc_requant_apply(&rq[i], 0, code). */
void sc_concat_s8(const sc_concat_params *p, const int8_t *const *x, int8_t *y) {
  for (int32_t o = 0; o < p->outer; o++) {
    for (int i = 0; i < p->count; i++) {
      const int32_t len = p->inner[i];
      const int8_t *src = x[i] + (ptrdiff_t)o * len;
      if (p->rq) {
        const sc_requant *rq = &p->rq[i];
        for (int32_t j = 0; j < len; j++) y[j] = (int8_t)sc_requant_apply(rq, 0, src[j]);
      } else if (len > 0) {
        memcpy(y, src, (size_t)len);
      }
      y += len;
    }
  }
}
