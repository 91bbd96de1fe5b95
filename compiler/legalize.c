/* legalize.c — makes every layer's integer arithmetic provably safe on every target
 * (algorithms.md §3): shifts within [-31, 31] (0..31 where a rounding right shift
 * is used), dyadic multipliers within [2^30, 2^31), and no int32 overflow in an
 * accumulator, the rounding term included:
 *     K * max|q_x| * max|q_w| + |bias| + 2^(n-1) < 2^31,
 * with max|q| taken from the bit widths. Where the bound fails, the reduction is
 * split into chunks whose partial sums are pre-shifted (sc_requant.k_chunk). */
#include "shiftc.h"

#include <stdlib.h>

static int64_t qmax_bits(int bits) { return ((int64_t)1 << (bits - 1)) - 1; }

/* Largest right shift the requantization applies to an accumulator. */
static int max_rshift(const ILayer *l) {
  int m = 0;
  for (int c = 0; c < l->nch; c++)
    if (l->shift[c] > m) m = l->shift[c];
  return m;
}

static int64_t max_abs_bias(const ILayer *l) {
  int64_t m = 0;
  for (int c = 0; l->bias && c < l->nch; c++) {
    int64_t b = l->bias[c] < 0 ? -(int64_t)l->bias[c] : l->bias[c];
    if (l->bias_lshift) b <<= l->bias_lshift[c]; /* as the kernel adds it (sc_bias_acc) */
    if (b > m) m = b;
  }
  return m;
}

/* The accumulator bound of a K-term reduction of `xbits` x `wbits` products. */
static void check_reduction(ILayer *l, int64_t K, int xbits, int wbits, sc_requant *rq) {
  const int64_t limit = (int64_t)1 << 31;
  int64_t prod = qmax_bits(xbits) * qmax_bits(wbits);
  int n = max_rshift(l);
  int64_t round = n > 0 ? (int64_t)1 << (n - 1) : 0;
  int64_t bias = max_abs_bias(l);
  int64_t bound = K * prod + bias + round;
  if (bound < limit) {
    ilayer_add_note(l, "accumulator bound %lld < 2^31 (K=%lld, |q| <= %lld x %lld, |bias| <= %lld, "
                    "rounding %lld): no split", (long long)bound, (long long)K,
                    (long long)qmax_bits(xbits), (long long)qmax_bits(wbits), (long long)bias,
                    (long long)round);
    return;
  }
  /* Split: chunks of k terms fit int32; each partial is rounded right by pre bits,
   * and the remaining shift shrinks by the same amount. */
  int64_t k = (limit - 1 - bias - round) / prod;
  if (k < 1) k = 1;
  int pre = 0;
  while (((K + k - 1) / k) * ((k * prod >> pre) + 1) + (bias >> pre) + round >= limit) pre++;
  rq->k_chunk = (int32_t)k;
  rq->pre_shift = pre;
  for (int c = 0; c < l->nch; c++) l->shift[c] = (int8_t)(l->shift[c] - pre);
  ilayer_add_note(l, "accumulator bound %lld >= 2^31: reduction of %lld split into chunks of %lld, "
                  "partials pre-shifted by %d", (long long)bound, (long long)K, (long long)k, pre);
}

/* Quantization already clamps shifts into range; this proves it held, and that
 * every dyadic multiplier is normalized (0 only for an all-zero channel). */
static void check_shifts(const ILayer *l, const sc_requant *rq) {
  for (int c = 0; c < l->nch; c++) {
    if (l->shift[c] < -31 || l->shift[c] > 31)
      internal_error("layer %s: shift %d escaped quantization's clamp", l->name, l->shift[c]);
    if (rq->mult && rq->mult[c] != 0 && rq->mult[c] < (1 << 30))
      internal_error("layer %s: multiplier %d below 2^30", l->name, rq->mult[c]);
  }
}

/* add/sub: |t_a| + |t_b| + 2^(n-1) < 2^31 where t = (x << lshift) [* M >> shift].
 * If not, trade one bit of alignment at a time: the shifted operand shifts one
 * bit less, the other is rounded right one bit more, and the output shift drops. */
static void check_eltwise(ILayer *l) {
  sc_eltwise_params *e = &l->p.elt;
  const int64_t limit = (int64_t)1 << 31;
  int moved = 0;
  for (;;) {
    int64_t ta = ((int64_t)127 << e->a.lshift) >> e->a.shift, tb = ((int64_t)127 << e->b.lshift) >> e->b.shift;
    int n = l->shift[0];
    int64_t bound = ta + tb + 1 + (n > 0 ? (int64_t)1 << (n - 1) : 0);
    if (bound < limit) break;
    sc_operand_scale *ops[2] = {&e->a, &e->b};
    for (int k = 0; k < 2; k++) {
      if (ops[k]->lshift > 0) ops[k]->lshift--;
      else ops[k]->shift++;
    }
    l->shift[0]--;
    moved++;
  }
  if (moved) ilayer_add_note(l, "operand alignment reduced by %d bits so the sum fits int32", moved);
  check_shifts(l, &e->out);
}

void legalize(IntProgram *p) {
  for (int i = 0; i < p->nlayers; i++) {
    ILayer *l = &p->layers[i];
    const Value *x = &p->g->values[l->in[0]];
    int xbits = x->q ? x->q->bits : 8;
    switch (l->kind) {
    case IL_CONV2D:
    case IL_CONV_TRANSPOSE2D: {
      sc_conv2d_params *c = &l->p.conv;
      check_reduction(l, (int64_t)(c->in_c / c->groups) * c->k_h * c->k_w, xbits, l->weight_bits, &c->rq);
      check_shifts(l, &c->rq);
      break;
    }
    case IL_LINEAR:
      check_reduction(l, l->p.lin.in, xbits, l->weight_bits, &l->p.lin.rq);
      check_shifts(l, &l->p.lin.rq);
      break;
    case IL_MATMUL: {
      const Value *b = &p->g->values[l->in[1]];
      check_reduction(l, l->p.mm.k, xbits, b->q ? b->q->bits : 8, &l->p.mm.rq);
      check_shifts(l, &l->p.mm.rq);
      break;
    }
    case IL_ADD:
    case IL_SUB: check_eltwise(l); break;
    case IL_MUL: check_shifts(l, &l->p.elt.out); break;
    case IL_IGELU: check_shifts(l, &l->p.gelu.rq); break;
    case IL_AVGPOOL2D:
      /* A window sum is a reduction whose "weights" are 1 (a 2-bit code). */
      check_reduction(l, (int64_t)l->p.pool.k_h * l->p.pool.k_w, xbits, 2, &l->p.pool.rq);
      check_shifts(l, &l->p.pool.rq);
      break;
    case IL_REDUCEMEAN: {
      /* A sum of count codes: a reduction whose "weights" are 1, as for average pooling. */
      int64_t count = 1;
      for (int d = 0; d < l->p.red.rank; d++)
        if (l->p.red.reduce[d]) count *= l->p.red.dims[d];
      if (l->p.red.lshift > 0) {
        /* The sum shifted left (quantize_onnx_ops.c chose lshift for this bound). */
        int64_t round = l->shift[0] > 0 ? (int64_t)1 << (l->shift[0] - 1) : 0;
        int64_t bound = (count * ((int64_t)1 << (xbits - 1)) << l->p.red.lshift) + round;
        if (bound >= ((int64_t)1 << 31))
          internal_error("layer %s: sum of %lld codes << %d can overflow int32", l->name, (long long)count,
                         l->p.red.lshift);
        ilayer_add_note(l, "accumulator bound %lld < 2^31 (%lld codes << %d, rounding %lld): no split",
                        (long long)bound, (long long)count, l->p.red.lshift, (long long)round);
      } else {
        check_reduction(l, count, xbits, 2, &l->p.red.rq);
      }
      check_shifts(l, &l->p.red.rq);
      break;
    }
    default: break;
    }
  }
}
