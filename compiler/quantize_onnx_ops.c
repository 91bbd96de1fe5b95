/* quantize_onnx_ops.c — integer layers for ops that ONNX exporters emit beyond the
 * core set (ops.def's second part) and that are not elementwise functions of one
 * tensor (those become tables in quantize.c):
 *   slice       a strided copy; the output keeps the input's scale, so no arithmetic
 *               (the q/k/v column blocks of a fused in_proj, a class token);
 *   reducemean  an int32 sum per output, then one requantization that carries 1/count
 *               with the machinery of average pooling (a shift when count is a power
 *               of two in shift mode, else a dyadic multiplier); legalization bounds
 *               the sum like any reduction and splits it where int32 could overflow.
 * Div by a constant never gets here: fold_div.c made it a mul by the reciprocal. */
#include "quantize_internal.h"

#include <math.h>
#include <stdint.h>

/* outer x len x inner around axis ax of s. */
static void around_axis(const Shape *s, int ax, int64_t *outer, int64_t *len, int64_t *inner) {
  *outer = *inner = 1;
  for (int i = 0; i < ax; i++) *outer *= s->d[i];
  for (int i = ax + 1; i < s->rank; i++) *inner *= s->d[i];
  *len = s->d[ax];
}

static void check_int32(const Node *n, int64_t count) {
  if (count > INT32_MAX)
    error_at(n->loc, "%s: node '%s' has %lld elements, beyond what the int32 sizes of the integer kernels hold",
             op_table[n->op].name, n->name, (long long)count);
}

void q_slice(Q *q, int ni) {
  Graph *g = q->g;
  const Node *n = &g->nodes[ni];
  int x = n->inputs[0];
  const Shape *xs = &g->values[x].shape, *ys = &g->values[n->output].shape;
  check_int32(n, shape_numel(xs));
  int ax = normalize_axis(node_attr_int(n, "axis"), xs->rank);
  if (ax < 0) internal_error("slice %s: axis escaped shape inference", n->name);
  ILayer *l = new_layer(q, IL_SLICE, ni, n->output);
  l->in[0] = x;
  l->nin = 1;
  same_q(q, n->output, x); /* a copy: no requantization */
  int64_t outer, len, inner;
  around_axis(xs, ax, &outer, &len, &inner);
  sc_slice_params *p = &l->p.slice;
  p->outer = (int32_t)outer;
  p->len = (int32_t)len;
  p->inner = (int32_t)inner;
  p->start = (int32_t)node_attr_int(n, "start");
  p->step = (int32_t)node_attr_int(n, "step");
  p->count = (int32_t)ys->d[ax];
}

void q_reducemean(Q *q, int ni) {
  Graph *g = q->g;
  const Node *n = &g->nodes[ni];
  int x = n->inputs[0];
  const Shape *xs = &g->values[x].shape;
  check_int32(n, shape_numel(xs));
  bool red[MAX_RANK] = {false};
  const AttrValue *axes = node_attr(n, "axes");
  for (int i = 0; i < axes->nints; i++) {
    int ax = normalize_axis(axes->ints[i], xs->rank);
    if (ax < 0) internal_error("reducemean %s: axis escaped shape inference", n->name);
    red[ax] = true;
  }
  ILayer *l = new_layer(q, IL_REDUCEMEAN, ni, n->output);
  l->in[0] = x;
  l->nin = 1;
  sc_reducemean_params *p = &l->p.red;
  /* Axes of extent 1 do not move anything; neighbours of one kind merge into one axis
   * (row-major order is kept), so the kernel's rank stays small. */
  int64_t count = 1;
  for (int i = 0; i < xs->rank; i++) {
    int64_t d = xs->d[i];
    if (red[i]) count *= d;
    if (d == 1 && xs->rank > 1) continue;
    if (p->rank > 0 && p->reduce[p->rank - 1] == (int32_t)red[i]) {
      p->dims[p->rank - 1] = (int32_t)(p->dims[p->rank - 1] * d);
      continue;
    }
    if (p->rank == SC_MAX_RANK)
      error_at(n->loc, "reducemean: node '%s' alternates reduced and kept axes more than %d times; integer mode "
               "supports up to %d", n->name, SC_MAX_RANK, SC_MAX_RANK);
    p->dims[p->rank] = (int32_t)d;
    p->reduce[p->rank++] = red[i];
  }
  QParam *qx = activation_q(q, x), *qy = activation_q(q, n->output);
  set_requant_mean(q, l, &p->rq, count ? count : 1, qx, qy, "mean"); /* an empty tensor: no output to divide */
  /* A multiplier rounds sum * M0 / 2^31 to an integer before the shift n: for a sum of
   * a few codes and a small n that is up to 1/2^(n+1) of an output step on top of the
   * final rounding (a mean of 6 at n = 1: 3/4 of a step in all). Shifting the sum left
   * by L first makes it 1/2^(n+L+1). L keeps |sum| << L <= 2^29 (the int32 proof in
   * legalize.c) and the shift within 31; pure shifts round once and need none. */
  if (p->rq.mult) {
    int L = 0;
    while (L < 30 && (count ? count : 1) * 127 * ((int64_t)2 << L) <= ((int64_t)1 << 29) && l->shift[0] + L < 31) L++;
    p->lshift = L;
    l->shift[0] = (int8_t)(l->shift[0] + L);
  }
  l->macs = shape_numel(xs);
  ilayer_add_note(l, "int32 sum of %lld codes per output%s, then one requantization by 1/%lld", (long long)count,
                  p->lshift ? xformat(" << %d", p->lshift) : "", (long long)count);
}

/* resize: the output keeps the input's scale (nearest copies codes; bilinear weights sum
 * to 1); the taps come from the float op's own resize_tap, the weights rounded to
 * SC_RESIZE_FRAC bits here, once. */
void q_resize(Q *q, int ni) {
  Graph *g = q->g;
  const Node *n = &g->nodes[ni];
  int x = n->inputs[0];
  const Shape *xs = &g->values[x].shape, *ys = &g->values[n->output].shape;
  ILayer *l = new_layer(q, IL_RESIZE, ni, n->output);
  l->in[0] = x;
  l->nin = 1;
  same_q(q, n->output, x);
  int32_t oh = (int32_t)ys->d[2], ow = (int32_t)ys->d[3];
  bool linear = node_attr(n, "mode")->e == RESIZE_LINEAR;
  l->rs_idx = xmalloc(sizeof(int32_t) * (size_t)(2 * (oh + ow)));
  l->rs_w = linear ? xmalloc(sizeof(int16_t) * (size_t)(oh + ow)) : NULL;
  int32_t len[2] = {oh, ow}, *idx = l->rs_idx;
  int16_t *w = l->rs_w;
  for (int axis = 0; axis < 2; axis++) {
    for (int32_t o = 0; o < len[axis]; o++) {
      ResizeTap t = resize_tap(g, n, axis, o);
      idx[o] = (int32_t)t.i0;
      idx[len[axis] + o] = (int32_t)t.i1;
      if (w) w[o] = (int16_t)floor(t.w1 * (1 << SC_RESIZE_FRAC) + 0.5);
    }
    idx += 2 * len[axis];
    if (w) w += len[axis];
  }
  sc_resize_params *p = &l->p.resize;
  p->planes = (int32_t)(xs->d[0] * xs->d[1]);
  p->in_h = (int32_t)xs->d[2];
  p->in_w = (int32_t)xs->d[3];
  p->out_h = oh;
  p->out_w = ow;
  p->idx = l->rs_idx;
  p->w = l->rs_w;
  ilayer_add_note(l, "%s: %s", linear ? "bilinear" : "nearest",
                  linear ? "weights in 1/2^11, one rounding per output" : "a copy of codes");
}
