/* sc_eltwise_s8.c — scalar reference add, sub and mul with broadcasting. */
#include <stddef.h>

#include "sc_internal.h"
#include "shiftc_rt.h"

enum { SC_ADD, SC_SUB, SC_MUL };

/* An operand brought to the common scale: shift_round(mult ? rdmulh(x * 2^lshift, mult)
 * : x * 2^lshift, shift). The left shift is written as a product: shifting a negative
 * int left is undefined in C99 (lshift <= 23 keeps it in range for int8 codes). */
static inline int32_t scale_operand(int32_t x, const sc_operand_scale *s) {
  int32_t v = x * ((int32_t)1 << s->lshift);
  if (s->mult) v = sc_rdmulh(v, s->mult);
  return sc_shift_round(v, s->shift);
}

static inline int8_t combine(const sc_eltwise_params *p, int op, int32_t a, int32_t b) {
  int32_t acc;
  if (op == SC_MUL)
    acc = a * b;
  else if (op == SC_ADD)
    acc = scale_operand(a, &p->a) + scale_operand(b, &p->b);
  else
    acc = scale_operand(a, &p->a) - scale_operand(b, &p->b);
  return (int8_t)sc_requant_apply(&p->out, 0, acc);
}

/* The output is dense over dims[0..rank) (row major); element (i_0, ..., i_{rank-1})
 * reads a[sum i_d * a_strides[d]] and b[sum i_d * b_strides[d]]. rank 0 is one element.
 * Inlined with a constant op, so each public kernel gets its own loop. */
static inline void eltwise(const sc_eltwise_params *p, int op, const int8_t *a, const int8_t *b,
                           int8_t *y) {
  const int rank = p->rank;
  if (rank <= 0) {
    y[0] = combine(p, op, a[0], b[0]);
    return;
  }
  for (int d = 0; d < rank; d++)
    if (p->dims[d] <= 0) return;

  const int last = rank - 1;
  const int32_t len = p->dims[last];
  const ptrdiff_t sa = p->a_strides[last], sb = p->b_strides[last];
  int32_t idx[SC_MAX_RANK] = {0};
  ptrdiff_t oa = 0, ob = 0; /* offsets of the current row's first element */
  do {
    for (int32_t j = 0; j < len; j++) y[j] = combine(p, op, a[oa + j * sa], b[ob + j * sb]);
    y += len;
  } while (sc_eltwise_next_row(p, idx, &oa, &ob));
}

void sc_add_s8(const sc_eltwise_params *p, const int8_t *a, const int8_t *b, int8_t *y) {
  eltwise(p, SC_ADD, a, b, y);
}

void sc_sub_s8(const sc_eltwise_params *p, const int8_t *a, const int8_t *b, int8_t *y) {
  eltwise(p, SC_SUB, a, b, y);
}

void sc_mul_s8(const sc_eltwise_params *p, const int8_t *a, const int8_t *b, int8_t *y) {
  eltwise(p, SC_MUL, a, b, y);
}
