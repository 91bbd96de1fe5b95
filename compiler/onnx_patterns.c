/* onnx_patterns.c — exporters' idioms rewritten into core ops, so that the integer
 * back end sees one layer where PyTorch had one module:
 *
 *   add(linear(x, W), b), add(conv2d / conv_transpose2d(x, W), b[O,1,1]) -> the layer with bias b
 *   x - mean(x); / sqrt(mean(d^2) + eps)                       -> layernorm(x, eps)
 *   mul(layernorm, gamma[D]), add(layernorm, beta[D])          -> layernorm's gamma, beta
 *   0.5 * (x * (1 + erf(x / sqrt 2)))                          -> gelu(x)
 *   0.5 * (x * (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))))      -> gelu(x, approximate=tanh)
 *
 * Each rewrite turns the pattern's last node into the fused op in place (so the
 * node order stays valid and consumers keep their value), which leaves the
 * pattern's other nodes dead; they and unused values are then dropped and the
 * graph renumbered. The fused float ops give the same bits as the pattern for the
 * bias folds (the bias is added once after the sum, ops_float.c) and agree within
 * float rounding for layernorm and gelu. */
#include "shiftc.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct Pat {
  Graph *g;
  int *uses; /* per value: consuming node inputs + graph outputs */
} Pat;

static void count_uses(Pat *P) {
  Graph *g = P->g;
  free(P->uses);
  P->uses = xcalloc((size_t)g->nvalues, sizeof(int));
  for (int i = 0; i < g->nnodes; i++)
    for (int k = 0; k < g->nodes[i].ninputs; k++)
      if (g->nodes[i].inputs[k] >= 0) P->uses[g->nodes[i].inputs[k]]++;
  for (int i = 0; i < g->noutputs; i++) P->uses[g->outputs[i]]++;
}

/* The node producing v when it is `op` and v has exactly one use; else NULL. */
static Node *only_producer(const Pat *P, int v, OpKind op) {
  if (v < 0) return NULL;
  int p = P->g->values[v].producer;
  if (p < 0 || P->g->nodes[p].op != op || P->uses[v] != 1) return NULL;
  return &P->g->nodes[p];
}

/* The node producing v when it is `op` (any number of uses). */
static Node *producer(const Pat *P, int v, OpKind op) {
  if (v < 0) return NULL;
  int p = P->g->values[v].producer;
  return p >= 0 && P->g->nodes[p].op == op ? &P->g->nodes[p] : NULL;
}

static const Value *const_val(const Pat *P, int v) {
  return v >= 0 && P->g->values[v].is_const ? &P->g->values[v] : NULL;
}

/* v is a constant holding the single value x (to within tol). */
static bool is_scalar(const Pat *P, int v, double x, double tol) {
  const Value *c = const_val(P, v);
  return c && shape_numel(&c->shape) == 1 && fabs(c->data[0] - x) <= tol;
}

/* A constant whose elements lie along one axis of size len at position `axis` of a
 * rank-`rank` result (every other dimension 1): a per-channel vector. */
static bool is_vector_along(const Pat *P, int v, int64_t len, int axis, int rank) {
  const Value *c = const_val(P, v);
  if (!c || shape_numel(&c->shape) != len || c->shape.rank > rank) return false;
  for (int i = 0; i < c->shape.rank; i++) {
    int ri = i + rank - c->shape.rank;
    if (c->shape.d[i] != (ri == axis ? len : 1)) return false;
  }
  return c->shape.rank >= rank - axis;
}

/* A 1-D copy of constant v, as a new graph constant named after it. */
static int as_vector(Pat *P, int v) {
  const Value *c = &P->g->values[v];
  Tensor t = {0};
  t.dtype = DT_F32;
  int64_t n = shape_numel(&c->shape);
  t.shape = shape_make(1, &n);
  t.f = c->data;
  char *nm = xformat("%s.vec", c->name);
  int id = graph_add_const(P->g, nm, &t, c->loc);
  free(nm);
  return id;
}

/* The other operand of binary node n, given one of them. */
static int other(const Node *n, int v) { return n->inputs[0] == v ? n->inputs[1] : n->inputs[0]; }

/* Node n becomes op(inputs) with the attributes of `like` (or defaults). */
static void become(Node *n, OpKind op, const int *in, int nin, const Node *like) {
  n->op = op;
  n->ninputs = nin;
  for (int i = 0; i < nin; i++) n->inputs[i] = in[i];
  memset(n->attrs, 0, sizeof n->attrs);
  if (like) memcpy(n->attrs, like->attrs, sizeof n->attrs);
  for (int i = 0; i < MAX_OP_ATTRS; i++) n->attrs[i].loc = n->loc;
  node_fill_defaults(n);
}

/* add(layer(x, W), b) with the layer used once and without bias. */
static bool fold_bias(Pat *P, Node *n) {
  if (n->op != OP_ADD) return false;
  for (int s = 0; s < 2; s++) {
    int lv = n->inputs[s], bv = n->inputs[1 - s];
    Node *l = only_producer(P, lv, OP_LINEAR);
    if (!l) l = only_producer(P, lv, OP_CONV2D);
    if (!l) l = only_producer(P, lv, OP_CONV_TRANSPOSE2D);
    if (!l || (l->ninputs > 2 && l->inputs[2] >= 0)) continue;
    const Shape *ys = &P->g->values[lv].shape;
    bool conv = l->op != OP_LINEAR;
    int64_t len = conv ? ys->d[1] : ys->d[ys->rank - 1];
    if (!is_vector_along(P, bv, len, conv ? 1 : ys->rank - 1, ys->rank)) continue;
    if (!shape_eq(&P->g->values[n->output].shape, ys)) continue;
    Node like = *l;
    int in[3] = {l->inputs[0], l->inputs[1], as_vector(P, bv)};
    become(n, l->op, in, 3, &like);
    return true;
  }
  return false;
}

/* reducemean over the last axis with keepdims, of x. */
static Node *mean_last(const Pat *P, int v, int x) {
  Node *m = producer(P, v, OP_REDUCEMEAN);
  if (!m || (x >= 0 && m->inputs[0] != x) || !node_attr_int(m, "keepdims")) return NULL;
  const AttrValue *a = node_attr(m, "axes");
  int rank = P->g->values[m->inputs[0]].shape.rank;
  return a->nints == 1 && normalize_axis(a->ints[0], rank) == rank - 1 ? m : NULL;
}

/* div(x - mean(x), sqrt(mean((x - mean(x))^2) + eps)) -> layernorm(x, eps). */
static bool fold_layernorm(Pat *P, Node *n) {
  if (n->op != OP_DIV) return false;
  Node *d = producer(P, n->inputs[0], OP_SUB), *s = producer(P, n->inputs[1], OP_SQRT);
  if (!d || !s) return false;
  int x = d->inputs[0];
  if (!mean_last(P, d->inputs[1], x)) return false;
  Node *e = producer(P, s->inputs[0], OP_ADD);
  if (!e) return false;
  int epsv = const_val(P, e->inputs[1]) ? e->inputs[1] : e->inputs[0];
  if (!const_val(P, epsv) || shape_numel(&P->g->values[epsv].shape) != 1) return false;
  Node *var = mean_last(P, other(e, epsv), -1);
  if (!var) return false;
  Node *sq = producer(P, var->inputs[0], OP_POW);
  bool squared = sq && sq->inputs[0] == d->output && is_scalar(P, sq->inputs[1], 2.0, 0);
  if (!squared) {
    sq = producer(P, var->inputs[0], OP_MUL);
    squared = sq && sq->inputs[0] == d->output && sq->inputs[1] == d->output;
  }
  if (!squared) return false;
  double eps = P->g->values[epsv].data[0];
  if (!(eps > 0)) return false;
  int in[3] = {x, -1, -1};
  become(n, OP_LAYERNORM, in, 3, NULL);
  node_set_attr_float(n, "eps", eps);
  return true;
}

/* mul(layernorm, gamma) / add(layernorm, beta) with a [D] constant. */
static bool fold_affine(Pat *P, Node *n) {
  if (n->op != OP_MUL && n->op != OP_ADD) return false;
  int slot = n->op == OP_MUL ? 1 : 2;
  for (int s = 0; s < 2; s++) {
    Node *ln = only_producer(P, n->inputs[s], OP_LAYERNORM);
    int cv = n->inputs[1 - s];
    if (!ln || node_attr(ln, "norm")->e != 0) continue;
    if (ln->inputs[slot] >= 0 || (slot == 1 && ln->inputs[2] >= 0)) continue;
    const Shape *ys = &P->g->values[ln->output].shape;
    if (!is_vector_along(P, cv, ys->d[ys->rank - 1], ys->rank - 1, ys->rank)) continue;
    if (!shape_eq(&P->g->values[n->output].shape, ys)) continue;
    Node like = *ln;
    int in[3] = {ln->inputs[0], ln->inputs[1], ln->inputs[2]};
    in[slot] = as_vector(P, cv);
    become(n, OP_LAYERNORM, in, 3, &like);
    return true;
  }
  return false;
}

/* v == x^3: pow(x, 3), x * (x * x) or (x * x) * x. */
static bool is_cube(const Pat *P, int v, int x) {
  Node *p = producer(P, v, OP_POW);
  if (p) return p->inputs[0] == x && is_scalar(P, p->inputs[1], 3.0, 0);
  Node *m = producer(P, v, OP_MUL);
  if (!m) return false;
  for (int s = 0; s < 2; s++) {
    Node *sq = producer(P, m->inputs[1 - s], OP_MUL);
    if (m->inputs[s] == x && sq && sq->inputs[0] == x && sq->inputs[1] == x) return true;
  }
  return false;
}

/* v == erf(x / sqrt 2) (or erf(x * sqrt 1/2)): GELU_NONE; v == tanh(sqrt(2/pi) *
 * (x + 0.044715 x^3)): GELU_TANH; otherwise -1. */
static int gelu_inner(const Pat *P, int v, int x) {
  Node *e = producer(P, v, OP_ERF);
  if (e) {
    Node *dv = producer(P, e->inputs[0], OP_DIV);
    Node *ml = producer(P, e->inputs[0], OP_MUL);
    if (dv && dv->inputs[0] == x && is_scalar(P, dv->inputs[1], sqrt(2.0), 1e-6)) return GELU_NONE;
    if (ml && (ml->inputs[0] == x || ml->inputs[1] == x) && is_scalar(P, other(ml, x), sqrt(0.5), 1e-6))
      return GELU_NONE;
    return -1;
  }
  Node *t = producer(P, v, OP_TANH);
  Node *c = t ? producer(P, t->inputs[0], OP_MUL) : NULL;
  if (!c) return -1;
  for (int s = 0; s < 2; s++) {
    if (!is_scalar(P, c->inputs[s], 0.79788456080286535588 /* sqrt(2/pi) */, 1e-6)) continue;
    Node *a = producer(P, c->inputs[1 - s], OP_ADD);
    if (!a || (a->inputs[0] != x && a->inputs[1] != x)) continue;
    Node *k = producer(P, other(a, x), OP_MUL);
    if (!k) continue;
    for (int u = 0; u < 2; u++)
      if (is_scalar(P, k->inputs[u], 0.044715, 1e-7) && is_cube(P, k->inputs[1 - u], x)) return GELU_TANH;
  }
  return -1;
}

/* v == 1 + F(x) with F one of gelu_inner's: its form, or -1. */
static int one_plus(const Pat *P, int v, int x) {
  Node *a = producer(P, v, OP_ADD);
  if (!a) return -1;
  for (int t = 0; t < 2; t++)
    if (is_scalar(P, a->inputs[1 - t], 1.0, 0)) {
      int f = gelu_inner(P, a->inputs[t], x);
      if (f >= 0) return f;
    }
  return -1;
}

/* v == x * (1 + F(x)): returns x (and *form), or -1. */
static int gelu_half(const Pat *P, int v, int *form) {
  Node *m = producer(P, v, OP_MUL);
  if (!m) return -1;
  for (int s = 0; s < 2; s++) {
    int x = m->inputs[s];
    if ((*form = one_plus(P, m->inputs[1 - s], x)) >= 0) return x;
  }
  return -1;
}

/* 0.5 * (x * (1 + F(x))) or (x * 0.5) * (1 + F(x)) -> gelu(x), F the erf form
 * (approximate=none) or the tanh form (approximate=tanh) exporters write. */
static bool fold_gelu(Pat *P, Node *n) {
  if (n->op != OP_MUL) return false;
  for (int s = 0; s < 2; s++) {
    int x = -1, form = -1;
    if (is_scalar(P, n->inputs[1 - s], 0.5, 0)) {
      x = gelu_half(P, n->inputs[s], &form);
    } else {
      Node *h = producer(P, n->inputs[s], OP_MUL);
      for (int u = 0; h && u < 2 && x < 0; u++)
        if (is_scalar(P, h->inputs[1 - u], 0.5, 0) && (form = one_plus(P, n->inputs[1 - s], h->inputs[u])) >= 0)
          x = h->inputs[u];
    }
    if (x < 0) continue;
    int in[1] = {x};
    become(n, OP_GELU, in, 1, NULL);
    if (form == GELU_TANH) node_set_attr_enum(n, "approximate", GELU_TANH);
    return true;
  }
  return false;
}

/* Drops nodes whose outputs nobody uses and values nothing refers to; renumbers. */
static void compact(Pat *P) {
  Graph *g = P->g;
  bool changed = true;
  bool *dead = xcalloc((size_t)(g->nnodes ? g->nnodes : 1), sizeof(bool));
  while (changed) {
    changed = false;
    count_uses(P);
    for (int i = g->nnodes - 1; i >= 0; i--) {
      Node *n = &g->nodes[i];
      if (dead[i] || P->uses[n->output] > 0) continue;
      dead[i] = true;
      changed = true;
      n->ninputs = 0; /* its inputs lose this use */
    }
  }
  /* Values kept: inputs, outputs, and whatever a live node reads or writes. */
  bool *keep = xcalloc((size_t)g->nvalues, sizeof(bool));
  for (int i = 0; i < g->ninputs; i++) keep[g->inputs[i]] = true;
  for (int i = 0; i < g->noutputs; i++) keep[g->outputs[i]] = true;
  for (int i = 0; i < g->nnodes; i++) {
    if (dead[i]) continue;
    keep[g->nodes[i].output] = true;
    for (int k = 0; k < g->nodes[i].ninputs; k++)
      if (g->nodes[i].inputs[k] >= 0) keep[g->nodes[i].inputs[k]] = true;
  }
  int *map = xmalloc(sizeof(int) * (size_t)g->nvalues), nv = 0;
  for (int v = 0; v < g->nvalues; v++) {
    map[v] = keep[v] ? nv : -1;
    if (keep[v]) {
      g->values[nv] = g->values[v];
      g->values[nv].id = nv;
      nv++;
    }
  }
  g->nvalues = nv;
  int nn = 0;
  for (int i = 0; i < g->nnodes; i++) {
    if (dead[i]) continue;
    Node n = g->nodes[i];
    for (int k = 0; k < n.ninputs; k++)
      if (n.inputs[k] >= 0) n.inputs[k] = map[n.inputs[k]];
    n.output = map[n.output];
    g->nodes[nn] = n;
    g->values[n.output].producer = nn;
    nn++;
  }
  g->nnodes = nn;
  for (int i = 0; i < g->ninputs; i++) g->inputs[i] = map[g->inputs[i]];
  for (int i = 0; i < g->noutputs; i++) g->outputs[i] = map[g->outputs[i]];
  free(map), free(keep), free(dead);
}

void onnx_rewrite_patterns(Graph *g) {
  Pat P = {g, NULL};
  count_uses(&P);
  for (int i = 0; i < g->nnodes; i++) {
    Node *n = &g->nodes[i];
    if (fold_layernorm(&P, n) || fold_gelu(&P, n)) count_uses(&P);
  }
  /* Second sweep: biases and layernorm affines need the first sweep's results. */
  for (int i = 0; i < g->nnodes; i++) {
    Node *n = &g->nodes[i];
    if (fold_bias(&P, n) || fold_affine(&P, n)) count_uses(&P);
  }
  compact(&P);
  free(P.uses);
  infer_shapes(g);
}
