/* test_int_linear_fast.c — the interpreter's blocked linear layer (int_linear_fast.c) writes
 * the bytes of the runtime's reference sc_linear_s8 on random layers: row counts around the
 * 4-row block, reductions around the 16-wide step, the k-split of sc_kacc (chunk lengths that
 * do and do not divide K, with pre-shift), shift and dyadic requantization, per-channel,
 * bias left shifts, output addends, no bias, and full-range codes (-128 included). */
#include "shiftc.h"
#include "testlib.h"

#include <stdlib.h>
#include <string.h>

static uint64_t rng = 0x2545f4914f6cdd1dull;
static uint32_t next(void) {
  rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
  return (uint32_t)(rng >> 16);
}

int main(void) {
  static const int32_t ins[] = {1, 7, 15, 16, 17, 33, 64, 100};
  int bad = 0, cases = 0, split = 0;
  for (int rows = 1; rows <= 9; rows++)
    for (size_t ii = 0; ii < sizeof ins / sizeof *ins; ii++)
      for (int variant = 0; variant < 6; variant++) {
        int32_t in = ins[ii], out = 1 + (int32_t)(next() % 11);
        int8_t *w = xmalloc((size_t)(in * out)), *x = xmalloc((size_t)(rows * in));
        int8_t *y1 = xmalloc((size_t)(rows * out)), *y2 = xmalloc((size_t)(rows * out));
        for (int i = 0; i < in * out; i++) w[i] = (int8_t)(next() & 0xff);
        for (int i = 0; i < rows * in; i++) x[i] = (int8_t)(next() & 0xff);
        w[0] = x[0] = -128;
        int32_t *bias = xmalloc(sizeof(int32_t) * (size_t)out), *mult = xmalloc(sizeof(int32_t) * (size_t)out);
        int32_t *add = xmalloc(sizeof(int32_t) * (size_t)out);
        int8_t *shift = xmalloc((size_t)out), *blsh = xmalloc((size_t)out);
        for (int o = 0; o < out; o++) {
          bias[o] = (int32_t)(next() % 20001) - 10000;
          mult[o] = (int32_t)((1u << 30) + next() % (1u << 30));
          shift[o] = (int8_t)(4 + next() % 8);
          blsh[o] = (int8_t)(next() % 3);
          add[o] = (int32_t)(next() % 5) - 2;
        }
        sc_linear_params p = {.rows = rows, .in = in, .out = out, .weight = w, .bias = variant == 1 ? NULL : bias};
        p.rq.mult = variant >= 2 ? mult : NULL;
        p.rq.shift = shift;
        p.rq.per_channel = variant != 4;
        p.rq.lo = variant == 5 ? 0 : -127;
        p.rq.hi = 127;
        p.rq.out_add = variant == 3 ? add : NULL;
        p.rq.bias_lshift = variant == 3 ? blsh : NULL;
        if (variant >= 4 && in > 1) { /* the k-split: chunks that divide K or not */
          p.rq.k_chunk = variant == 4 ? in / 2 : 5;
          p.rq.pre_shift = 3;
          split++;
        }
        sc_linear_s8(&p, x, y1);
        memset(y2, 0x5a, (size_t)(rows * out));
        bool used = int_linear_fast(&p, x, y2);
        if (used && memcmp(y1, y2, (size_t)(rows * out)) != 0) {
          if (bad++ < 3) printf("# differs: rows %d in %d out %d variant %d\n", rows, in, out, variant);
        }
        cases += used;
        free(w), free(x), free(y1), free(y2), free(bias), free(mult), free(add), free(shift), free(blsh);
      }
  t_check(bad == 0, "int_linear_fast: the bytes of sc_linear_s8 (blocks, tails, k-split, requant variants)",
          "%d of %d differ", bad, cases);
  printf("# %d layers compared (%d with the k-split)%s\n", cases, split, cases ? "" : "; host without SSE2: not used");
  return t_exit_status();
}
