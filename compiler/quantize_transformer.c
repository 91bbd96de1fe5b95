/* quantize_transformer.c — the integer-only Transformer layers (algorithms.md §5-6):
 * i-GELU, i-exp softmax (alone, or fused with the attention scores that feed it),
 * and LayerNorm by integer Newton square root or by the L1 norm. The constants
 * each kernel needs come from int_ops.c; this file decides scales and layer shapes.
 *
 * Softmax needs a fine input scale (S <= 2^-8) because its x0 = floor(-ln2/S)
 * stands in for ln2: int8 codes at activation scales (0.05-0.4) would be far off.
 * So attention scores are never requantized to int8: matmul(q, k) -> scale ->
 * softmax runs as one layer over int32 rows, and the probabilities leave it as int8
 * at the fixed scale 2^-7. */
#include "quantize_internal.h"

#include <math.h>
#include <stdlib.h>

/* The extent of the last axis and how many rows of it a value holds. */
static void rows_of(const Shape *s, int32_t *rows, int32_t *n) {
  *n = s->rank ? (int32_t)s->d[s->rank - 1] : 1;
  *rows = *n ? (int32_t)(shape_numel(s) / *n) : 0;
}

static void check_last_axis(const Graph *g, const Node *n) {
  const Shape *s = &g->values[n->inputs[0]].shape;
  int axis = normalize_axis(node_attr_int(n, "axis"), s->rank);
  if (axis != s->rank - 1)
    error_at(n->loc, "softmax: integer mode computes softmax over the last axis only (axis=%lld of rank %d); "
             "transpose first, or run with --float", (long long)node_attr_int(n, "axis"), s->rank);
}

bool q_gelu(Q *q, int ni) {
  Graph *g = q->g;
  const Node *n = &g->nodes[ni];
  int x = n->inputs[0];
  QParam *qx = activation_q(q, x);
  sc_igelu_params probe;
  if (igelu_derive(qx->scale, &probe) == 0) return false; /* constants beyond int32 at this scale */
  ILayer *l = new_layer(q, IL_IGELU, ni, n->output);
  l->in[0] = x;
  l->nin = 1;
  QParam *qy = activation_q(q, n->output);
  sc_igelu_params *p = &l->p.gelu;
  double s32 = igelu_derive(qx->scale, p);
  /* The polynomial's output scale S * S_erf / 2 has no power-of-two form, so even
   * shift mode rescales it with a multiplier (or use `gelu: table`, exact and shift-free). */
  /* i-GELU approximates GELU itself; for the tanh form (which differs from the erf
   * form by at most 4.7e-4) the note says so, and `gelu: table` tabulates the tanh form. */
  bool tanh_form = node_attr(n, "approximate")->e == GELU_TANH;
  char *why = xformat("i-GELU (I-BERT)%s: b = %d, c = %d, 1/S_erf = %d; output at scale %.6g rescaled by %s",
                      tanh_form ? " for gelu(approximate=tanh) (within 4.7e-4 of the erf form; `gelu: table` "
                                  "tabulates the tanh form exactly)" : "",
                      (int)p->b_int, (int)p->c_int, (int)p->one_int, s32,
                      q->shift_mode ? "a multiplier (the i-GELU scale is not a power of two)" : "a multiplier");
  set_requant_multiplier(q, l, &p->rq, s32 / qy->scale, qy, why);
  free(why);
  return true;
}

/* Softmax's output: int8 probabilities in [0, 127] at 2^-7. */
static void softmax_output(Q *q, int v) { fixed_q(q, v, 8, -7); }

void q_softmax(Q *q, int ni) {
  Graph *g = q->g;
  const Node *n = &g->nodes[ni];
  check_last_axis(g, n);
  int x = n->inputs[0];
  ILayer *l = new_layer(q, IL_SOFTMAX, ni, n->output);
  l->in[0] = x;
  l->nin = 1;
  QParam *qx = activation_q(q, x);
  softmax_derive(qx->scale, &l->p.sm);
  softmax_output(q, n->output);
  int32_t rows, cols;
  rows_of(&g->values[x].shape, &rows, &cols);
  l->scratch_words = cols;
  ilayer_add_note(l, "i-exp softmax over %d x %d: int8 input << %d (scale %.3g), x0 = %d, probabilities at 2^-7",
                  (int)rows, (int)cols, l->p.sm.in_lshift, qx->scale / ldexp(1.0, l->p.sm.in_lshift),
                  (int)l->p.sm.x0);
}

/* The positive factor by which node n (a mul) scales its operand x: the other operand,
 * a positive one-element constant, when the output has x's shape; 0 otherwise. (A div by
 * a constant is a mul by its reciprocal by now: fold_div.c.) */
static double scalar_factor(const Graph *g, const Node *n, int x) {
  if (n->op != OP_MUL || !shape_eq(&g->values[n->output].shape, &g->values[x].shape)) return 0;
  for (int k = 0; k < 2; k++) {
    int v = n->inputs[k];
    if (v == x && n->inputs[1 - k] != x) continue;
    const Value *c = &g->values[v];
    if (c->is_const && shape_numel(&c->shape) == 1 && c->data[0] > 0 && isfinite(c->data[0])) return c->data[0];
  }
  return 0;
}

/* The activation a scaling mul reads: its non-constant operand, or -1. */
static int scaled_operand(const Graph *g, const Node *n) {
  if (n->op != OP_MUL) return -1;
  for (int k = 0; k < 2; k++)
    if (!g->values[n->inputs[k]].is_const) return n->inputs[k];
  return -1;
}

/* What one layer of attention scores takes in: [mul by c ->] matmul(a, b) [-> mul by c]
 * -> softmax. A scaling mul in front of an operand counts when the matmul is the only
 * reader of its output (ONNX exports write q / sqrt(d) there); all factors multiply. */
typedef struct ScoresPattern {
  int in[2];   /* the values the layer reads (before any scaling in front) */
  int pre[2];  /* the scaling node in front of operand k, or -1 */
  int post;    /* the scaling node between matmul and softmax, or -1 */
  int softmax; /* the softmax node */
  double factor;
} ScoresPattern;

static bool scores_pattern(const Graph *g, int ni, ScoresPattern *sp) {
  const Node *n = &g->nodes[ni];
  if (n->op != OP_MATMUL) return false;
  sp->factor = 1;
  for (int k = 0; k < 2; k++) {
    int v = n->inputs[k], pr = g->values[v].producer;
    sp->in[k] = v;
    sp->pre[k] = -1;
    if (g->values[v].is_const || g->values[v].shape.rank < 2) return false;
    int x = pr >= 0 ? scaled_operand(g, &g->nodes[pr]) : -1;
    double f = x >= 0 ? scalar_factor(g, &g->nodes[pr], x) : 0;
    if (f > 0 && sole_consumer(g, v) == ni && n->inputs[0] != n->inputs[1]) {
      sp->in[k] = x;
      sp->pre[k] = pr;
      sp->factor *= f;
    }
  }
  int next = sole_consumer(g, n->output);
  sp->post = -1;
  if (next >= 0 && g->nodes[next].op == OP_MUL) {
    double f = scalar_factor(g, &g->nodes[next], n->output);
    if (!(f > 0)) return false;
    sp->factor *= f;
    sp->post = next;
    next = sole_consumer(g, g->nodes[next].output);
  }
  if (next < 0 || g->nodes[next].op != OP_SOFTMAX) return false;
  sp->softmax = next;
  return true;
}

bool q_scores_prescale(Q *q, int ni) {
  const Graph *g = q->g;
  int mm = sole_consumer(g, g->nodes[ni].output);
  ScoresPattern sp;
  if (mm < 0 || !scores_pattern(g, mm, &sp) || (sp.pre[0] != ni && sp.pre[1] != ni)) return false;
  q->done[ni] = true; /* q_matmul_softmax, at the matmul, takes the factor */
  return true;
}

bool q_matmul_softmax(Q *q, int ni) {
  Graph *g = q->g;
  const Node *n = &g->nodes[ni];
  ScoresPattern sp;
  if (!scores_pattern(g, ni, &sp)) return false;
  const Node *sm = &g->nodes[sp.softmax];
  check_last_axis(g, sm);
  int a = sp.in[0], b = sp.in[1];
  ILayer *l = new_layer(q, IL_MATMUL_SOFTMAX, ni, sm->output);
  StrBuf fused = {0};
  for (int k = 0; k < 2; k++)
    if (sp.pre[k] >= 0) {
      q->done[sp.pre[k]] = true;
      const Node *pre = &g->nodes[sp.pre[k]];
      sb_printf(&fused, "%s %s (into the scores' scale), ", pre->folded ? "div" : "mul", pre->name);
    }
  if (sp.post >= 0) {
    q->done[sp.post] = true;
    sb_printf(&fused, "%s %s, ", g->nodes[sp.post].folded ? "div" : "mul", g->nodes[sp.post].name);
  }
  q->done[sp.softmax] = true;
  sb_printf(&fused, "softmax %s", sm->name);
  l->fused = fused.data;
  l->in[0] = a;
  l->in[1] = b;
  l->nin = 2;
  QParam *qa = activation_q(q, a), *qb = activation_q(q, b);
  sc_matmul_softmax_params *m = &l->p.mmsm;
  MatmulShape ms = matmul_shape(g, n);
  m->batch = ms.batch;
  m->m = ms.m;
  m->k = ms.k;
  m->n = ms.n;
  m->a_batch_stride = ms.a_batch_stride;
  m->b_batch_stride = ms.b_batch_stride;
  int64_t batch = ms.batch;
  /* Scores are exact int32 products at s_a * s_b; the 1/sqrt(d) factor only moves
   * their scale. Shift them left until that scale is fine enough for i-exp. */
  double s = qa->scale * qb->scale * sp.factor;
  m->score_lshift = softmax_score_lshift(s);
  int64_t bound = (int64_t)m->k * qmax_of(qa->bits) * qmax_of(qb->bits);
  if ((bound << m->score_lshift) >= ((int64_t)1 << 31))
    error_at(n->loc, "matmul: attention scores of %d terms at scale %.3g need a left shift of %d, which could "
             "overflow int32", m->k, s, m->score_lshift);
  softmax_derive(s / ldexp(1.0, m->score_lshift), &m->sm);
  softmax_output(q, sm->output);
  l->scratch_words = m->n;
  l->macs = batch * (int64_t)m->m * m->n * m->k;
  ilayer_add_note(l, "scores int32 at scale %.3g (s_a * s_b%s) << %d, |score| <= %lld; i-exp softmax, x0 = %d, "
                  "probabilities at 2^-7", s, sp.factor != 1 ? " * factor" : "", m->score_lshift, (long long)bound,
                  (int)m->sm.x0);
  return true;
}

void q_layernorm(Q *q, int ni) {
  Graph *g = q->g;
  const Node *n = &g->nodes[ni];
  bool l1 = node_attr(n, "norm")->e == 1;
  if (l1 != (q->cfg->layernorm == ILAYERNORM_L1))
    error_at(n->loc, "layernorm: the model says norm=%s but the configuration's integer_ops.layernorm is %s; "
             "i-sqrt computes the L2 form and l1 the L1 form the model was trained with",
             l1 ? "l1" : "l2", q->cfg->layernorm == ILAYERNORM_L1 ? "l1" : "i-sqrt");
  int x = n->inputs[0], gv = n->inputs[1], bv = n->inputs[2];
  if ((gv >= 0 && !g->values[gv].is_const) || (bv >= 0 && !g->values[bv].is_const))
    error_at(n->loc, "layernorm: integer mode needs constant gamma and beta");
  ILayer *l = new_layer(q, IL_LAYERNORM, ni, n->output);
  l->in[0] = x;
  l->nin = 1;
  activation_q(q, x); /* the input's scale cancels in the normalization, but it must exist */
  QParam *qy = activation_q(q, n->output);
  sc_layernorm_params *p = &l->p.ln;
  rows_of(&g->values[x].shape, &p->rows, &p->n);
  p->l1 = l1;
  l->nch = p->n;
  l->ln_g = xcalloc((size_t)p->n, sizeof(int32_t));
  l->ln_b = xcalloc((size_t)p->n, sizeof(int64_t));
  layernorm_derive(p->n, l1, gv >= 0 ? g->values[gv].data : NULL, bv >= 0 ? g->values[bv].data : NULL, qy->scale,
                   q->shift_mode, l->ln_g, l->ln_b, &p->shift);
  p->g = l->ln_g;
  p->b = l->ln_b;
  p->lo = -qmax_of(qy->bits);
  p->hi = qmax_of(qy->bits);
  ilayer_add_note(l, "%s over rows of %d (8 fractional bits in the mean); gamma and beta applied as "
                  "(y * g + b) >> %d", l1 ? "L1 LayerNorm: mean absolute deviation, no square root"
                                          : "LayerNorm: integer Newton square root",
                  (int)p->n, p->shift);
}

void q_embedding(Q *q, int ni) {
  Graph *g = q->g;
  const Node *n = &g->nodes[ni];
  int ids = n->inputs[0], tv = n->inputs[1];
  const Value *t = &g->values[tv];
  if (!t->is_const) error_at(n->loc, "embedding: integer mode needs a constant table (a weight)");
  if (!g->values[ids].q || g->values[ids].q->bits != QPARAM_ID_BITS)
    error_at(n->loc, "embedding: integer mode needs the ids straight from an i32 model input");
  int64_t rows = t->shape.d[0], dim = t->shape.d[1], count = shape_numel(&g->values[ids].shape);
  if (rows > INT32_MAX || count * dim > INT32_MAX)
    error_at(n->loc, "embedding: a table of %lld rows or an output of %lld codes is beyond int32 sizes",
             (long long)rows, (long long)(count * dim));
  ILayer *l = new_layer(q, IL_EMBEDDING, ni, n->output);
  l->in[0] = ids;
  l->nin = 1;
  l->weight_count = l->weight_bytes = rows * dim;
  l->weight_bits = 8;
  l->weight = xmalloc((size_t)(l->weight_count ? l->weight_count : 1));
  QParam *qy = table_q(q, n->output, t->data, l->weight_count, l->weight);
  l->nch = 1;
  l->w_scale = xcalloc(1, sizeof(double));
  l->w_scale[0] = qy->scale;
  ilayer_add_note(l, "table [%lld][%lld] coded at the output's scale (max|table| = %.4g); %lld int32 ids in, an id "
                  "outside [0, %lld) gives a zero row", (long long)rows, (long long)dim, qy->amax, (long long)count,
                  (long long)rows);
}
