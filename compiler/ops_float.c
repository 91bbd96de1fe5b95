/* ops_float.c — the float32 definition of every operator in ops.def: its shape rule
 * (validates inputs and attributes, sets the output's shape and dtype) and its float
 * evaluation (the reference the integer pipeline is measured against). Semantics
 * are PyTorch's; tensors are row major.
 *
 * Numerics (the choices, so that other passes can mirror them):
 *   - linear, matmul, conv2d: float accumulation, reduction index in its natural
 *     order (k for linear/matmul; input channel, then kernel row, then kernel column
 *     for conv2d), starting from 0; the bias is added once, after the sum. So
 *     linear(x, W, b) has the same bits as add(linear(x, W), b).
 *   - Elementwise transcendentals (gelu, sigmoid, tanh): computed in double and
 *     rounded once to float, i.e. the correctly rounded result in practice (within
 *     an ulp of PyTorch's float kernels).
 *   - Reductions (softmax sums, layernorm moments, batchnorm, average pools):
 *     double, rounded once at the end.
 *   - attention is evaluated exactly as its natural lowering would be by these same
 *     kernels, see eval_attention.
 *
 * Shared index arithmetic: Iter (an odometer over an output shape carrying the
 * offsets of up to three broadcast operands) serves add/sub/mul, matmul's batch
 * axes, transpose and attention's mask; Window2d (kernel, stride, dilation, pads,
 * output size) serves conv2d and both pools. */
#include "shiftc.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ shape helpers */

bool broadcast_shapes(const Shape *a, const Shape *b, Shape *out) {
  Shape r;
  memset(&r, 0, sizeof r);
  r.rank = a->rank > b->rank ? a->rank : b->rank;
  if (r.rank > MAX_RANK) return false;
  for (int i = 0; i < r.rank; i++) {
    int ia = i - (r.rank - a->rank), ib = i - (r.rank - b->rank);
    int64_t da = ia >= 0 ? a->d[ia] : 1, db = ib >= 0 ? b->d[ib] : 1;
    if (da != db && da != 1 && db != 1) return false;
    r.d[i] = da == 1 ? db : da;
  }
  *out = r;
  return true;
}

int normalize_axis(int64_t axis, int rank) {
  if (axis < -(int64_t)rank || axis >= rank) return -1;
  return (int)(axis < 0 ? axis + rank : axis);
}

/* ------------------------------------------------------ inputs and messages */

static const char *op_name(const Node *n) { return op_table[n->op].name; }

/* How a message names input slot k: "input" for the data operand(s) (x, a, b),
 * otherwise the slot's name without its "?"/"..." suffix ("weight", "mask"). */
static const char *slot_word(const Node *n, int k, char buf[32]) {
  const OpDef *def = &op_table[n->op];
  int nslots = 0;
  while (nslots < MAX_OP_INPUTS && def->inputs[nslots]) nslots++;
  if (nslots == 0) return "input";
  if (k >= nslots) k = nslots - 1; /* a variadic slot is the last one */
  const char *s = def->inputs[k];
  size_t len = strcspn(s, "?.");
  if (len >= 32) len = 31;
  memcpy(buf, s, len);
  buf[len] = '\0';
  if (strcmp(buf, "x") == 0 || strcmp(buf, "a") == 0 || strcmp(buf, "b") == 0) return "input";
  return buf;
}

static int input_id(const Node *n, int k) { return k < n->ninputs ? n->inputs[k] : -1; }

/* Input k, or NULL when an optional input is absent. Requires dtype `want`. */
static const Value *input_typed(const Graph *g, const Node *n, int k, bool optional, DType want) {
  int id = input_id(n, k);
  char w[32];
  if (id < 0) {
    if (optional) return NULL;
    internal_error("%s '%s': required %s is missing", op_name(n), n->name, slot_word(n, k, w));
  }
  const Value *v = &g->values[id];
  if (v->dtype != want)
    error_at(n->loc, "%s: %s '%s' must be %s, got %s", op_name(n), slot_word(n, k, w), v->name,
             dtype_name(want), dtype_name(v->dtype));
  return v;
}
static const Value *in_f32(const Graph *g, const Node *n, int k) {
  return input_typed(g, n, k, false, DT_F32);
}
static const Value *opt_f32(const Graph *g, const Node *n, int k) {
  return input_typed(g, n, k, true, DT_F32);
}

/* `OP: SLOT 'NAME' has shape [..], expected EXPECTED` */
static _Noreturn void shape_mismatch(const Node *n, int k, const Value *v, const char *expected) {
  char w[32], s[SHAPE_STR_MAX];
  error_at(n->loc, "%s: %s '%s' has shape %s, expected %s", op_name(n), slot_word(n, k, w), v->name,
           shape_str(&v->shape, s), expected);
}

static void expect_shape(const Node *n, int k, const Value *v, const Shape *want) {
  char s[SHAPE_STR_MAX];
  if (v && !shape_eq(&v->shape, want)) shape_mismatch(n, k, v, shape_str(want, s));
}

static void expect_vec(const Node *n, int k, const Value *v, int64_t len) {
  Shape s = shape_make(1, &len);
  expect_shape(n, k, v, &s);
}

/* `OP: input 'NAME' has rank R, expected WHAT` when the rank is outside [lo, hi]. */
static void expect_rank(const Node *n, int k, const Value *v, int lo, int hi, const char *what) {
  char w[32];
  if (v->shape.rank < lo || v->shape.rank > hi)
    error_at(n->loc, "%s: %s '%s' has rank %d, expected %s", op_name(n), slot_word(n, k, w), v->name,
             v->shape.rank, what);
}

static void set_output(Graph *g, const Node *n, const Shape *s) {
  g->values[n->output].shape = *s;
  g->values[n->output].dtype = DT_F32;
}

static const Shape *shape_of(const Graph *g, int id) { return &g->values[id].shape; }
static int64_t numel_of(const Graph *g, int id) { return shape_numel(&g->values[id].shape); }

/* Attribute errors point at the attribute (its loc is the node's unless the parser
 * recorded where the attribute was written). */
static int64_t attr_int_min(const Node *n, const char *name, int64_t min) {
  const AttrValue *a = node_attr(n, name);
  int64_t v = node_attr_int(n, name);
  if (v < min)
    error_at(a->loc, "%s: attribute '%s' must be >= %lld, got %lld", op_name(n), name,
             (long long)min, (long long)v);
  return v;
}

static double attr_eps(const Node *n) {
  const AttrValue *a = node_attr(n, "eps");
  if (!(a->f > 0) || !isfinite(a->f))
    error_at(a->loc, "%s: attribute 'eps' must be > 0, got %g", op_name(n), a->f);
  return a->f;
}

/* An ATTR_INTS attribute with one of the allowed counts (allowed[] ends with 0)
 * and every value >= min. */
static const AttrValue *attr_ints(const Node *n, const char *name, const int *allowed,
                                  const char *allowed_text, int64_t min) {
  const AttrValue *a = node_attr(n, name);
  bool ok = false;
  for (int i = 0; allowed[i]; i++) ok |= a->nints == allowed[i];
  if (!ok)
    error_at(a->loc, "%s: attribute '%s' must have %s values, got %d", op_name(n), name,
             allowed_text, a->nints);
  for (int i = 0; i < a->nints; i++)
    if (a->ints[i] < min)
      error_at(a->loc, "%s: attribute '%s' must be >= %lld, got %lld", op_name(n), name,
               (long long)min, (long long)a->ints[i]);
  return a;
}

/* ----------------------------------------------------------------- Iter */

/* An odometer over `dims` that keeps, for each operand, the offset of the element
 * that goes with the current index. Operands broadcast through zero strides. */
#define ITER_OPS 3
typedef struct Iter {
  int rank, nops;
  int64_t dims[MAX_RANK], idx[MAX_RANK];
  int64_t stride[ITER_OPS][MAX_RANK];
  int64_t off[ITER_OPS];
} Iter;

static void iter_init(Iter *it, const Shape *over) {
  memset(it, 0, sizeof *it);
  it->rank = over->rank;
  for (int i = 0; i < over->rank; i++) it->dims[i] = over->d[i];
}

/* Adds an operand of shape `in` (right-aligned against the iteration shape, size-1
 * axes broadcast) whose elements are `unit` apart. Returns the operand's index. */
static int iter_add_broadcast(Iter *it, const Shape *in, int64_t unit) {
  int op = it->nops++;
  int64_t st = unit;
  for (int i = it->rank - 1; i >= 0; i--) {
    int j = i - (it->rank - in->rank);
    int64_t d = j >= 0 ? in->d[j] : 1;
    it->stride[op][i] = d == 1 ? 0 : st;
    st *= d;
  }
  return op;
}

/* Adds an operand with explicit per-axis strides. */
static int iter_add_strides(Iter *it, const int64_t *strides) {
  int op = it->nops++;
  for (int i = 0; i < it->rank; i++) it->stride[op][i] = strides[i];
  return op;
}

static void iter_next(Iter *it) {
  for (int a = it->rank - 1; a >= 0; a--) {
    for (int o = 0; o < it->nops; o++) it->off[o] += it->stride[o][a];
    if (++it->idx[a] < it->dims[a]) return;
    for (int o = 0; o < it->nops; o++) it->off[o] -= it->stride[o][a] * it->dims[a];
    it->idx[a] = 0;
  }
}

static void contiguous_strides(const Shape *s, int64_t *st) {
  int64_t m = 1;
  for (int i = s->rank - 1; i >= 0; i--) {
    st[i] = m;
    m *= s->d[i];
  }
}

/* --------------------------------------------------------- shared kernels */

/* y[r, o] = sum_k x[r, k] w[o, k] (float, k ascending) + b[o]: gemm_f32 with B = W^T. */
static void linear_rows(const float *x, int64_t rows, int64_t in, const float *w, const float *b,
                        int64_t out, float *y) {
  gemm_f32(x, in, 1, w, 1, in, b, y, out, rows, in, out);
}

/* c[i*crs + j] = sum_k a[i*ars + k*aks] b[k*bks + j*bjs] (float, k ascending).
 * Strided so that attention can multiply by k^T and read and write heads in place. */
static void matmul_strided(const float *a, int64_t ars, int64_t aks, const float *b, int64_t bks,
                           int64_t bjs, float *c, int64_t crs, int64_t M, int64_t K, int64_t N) {
  gemm_f32(a, ars, aks, b, bks, bjs, NULL, c, crs, M, K, N);
}

/* Softmax of len elements `stride` apart: max subtracted, exp and sum in double. */
static void softmax_strided(const float *x, float *y, int64_t len, int64_t stride) {
  float mx = -INFINITY;
  for (int64_t i = 0; i < len; i++) mx = fmaxf(mx, x[i * stride]);
  double sum = 0;
  for (int64_t i = 0; i < len; i++) sum += exp((double)x[i * stride] - mx);
  for (int64_t i = 0; i < len; i++) y[i * stride] = (float)(exp((double)x[i * stride] - mx) / sum);
}

/* --------------------------------------------------------------- linear */

void shape_linear(Graph *g, Node *n) {
  const Value *x = in_f32(g, n, 0), *w = in_f32(g, n, 1), *b = opt_f32(g, n, 2);
  expect_rank(n, 0, x, 1, MAX_RANK, "at least 1");
  int64_t in = x->shape.d[x->shape.rank - 1];
  if (w->shape.rank != 2) {
    char e[64];
    snprintf(e, sizeof e, "[out,%lld]", (long long)in);
    shape_mismatch(n, 1, w, e);
  }
  int64_t want[2] = {w->shape.d[0], in};
  Shape ws = shape_make(2, want);
  expect_shape(n, 1, w, &ws);
  expect_vec(n, 2, b, w->shape.d[0]);
  Shape out = x->shape;
  out.d[out.rank - 1] = w->shape.d[0];
  set_output(g, n, &out);
}

void eval_linear(const Graph *g, const Node *n, float *const *buf) {
  const Shape *w = shape_of(g, n->inputs[1]);
  int64_t in = w->d[1], out = w->d[0];
  int bid = input_id(n, 2);
  linear_rows(buf[n->inputs[0]], numel_of(g, n->inputs[0]) / in, in, buf[n->inputs[1]],
              bid >= 0 ? buf[bid] : NULL, out, buf[n->output]);
}

/* --------------------------------------------------------------- matmul */

/* a [..., M, K] @ b [..., K, N]; a 1-D a is [1, K] with M dropped from the result,
 * a 1-D b is [K, 1] with N dropped (numpy.matmul). */
typedef struct MatmulDims {
  int64_t M, K, N;
  Shape abatch, bbatch, batch, out;
} MatmulDims;

static bool matmul_dims(const Shape *a, const Shape *b, MatmulDims *m) {
  memset(m, 0, sizeof *m);
  int64_t kb;
  if (a->rank == 1) {
    m->M = 1, m->K = a->d[0];
  } else {
    m->M = a->d[a->rank - 2], m->K = a->d[a->rank - 1];
    m->abatch = shape_make(a->rank - 2, a->d);
  }
  if (b->rank == 1) {
    kb = b->d[0], m->N = 1;
  } else {
    kb = b->d[b->rank - 2], m->N = b->d[b->rank - 1];
    m->bbatch = shape_make(b->rank - 2, b->d);
  }
  if (kb != m->K) return false;
  if (!broadcast_shapes(&m->abatch, &m->bbatch, &m->batch)) return false;
  m->out = m->batch;
  if (a->rank > 1) m->out.d[m->out.rank++] = m->M;
  if (b->rank > 1) m->out.d[m->out.rank++] = m->N;
  return true;
}

void shape_matmul(Graph *g, Node *n) {
  const Value *a = in_f32(g, n, 0), *b = in_f32(g, n, 1);
  expect_rank(n, 0, a, 1, MAX_RANK, "at least 1");
  expect_rank(n, 1, b, 1, MAX_RANK, "at least 1");
  MatmulDims m;
  if (!matmul_dims(&a->shape, &b->shape, &m)) {
    char sa[SHAPE_STR_MAX], sb[SHAPE_STR_MAX], ba[SHAPE_STR_MAX], bb[SHAPE_STR_MAX];
    int64_t kb = b->shape.rank == 1 ? b->shape.d[0] : b->shape.d[b->shape.rank - 2];
    if (kb != m.K)
      error_at(n->loc, "matmul: cannot multiply %s by %s: inner dimensions %lld and %lld differ",
               shape_str(&a->shape, sa), shape_str(&b->shape, sb), (long long)m.K, (long long)kb);
    error_at(n->loc, "matmul: cannot broadcast batch dimensions %s with %s (shapes %s and %s)",
             shape_str(&m.abatch, ba), shape_str(&m.bbatch, bb), shape_str(&a->shape, sa),
             shape_str(&b->shape, sb));
  }
  set_output(g, n, &m.out);
}

void eval_matmul(const Graph *g, const Node *n, float *const *buf) {
  MatmulDims m;
  matmul_dims(shape_of(g, n->inputs[0]), shape_of(g, n->inputs[1]), &m);
  Iter it;
  iter_init(&it, &m.batch);
  int oa = iter_add_broadcast(&it, &m.abatch, m.M * m.K);
  int ob = iter_add_broadcast(&it, &m.bbatch, m.K * m.N);
  const float *a = buf[n->inputs[0]], *b = buf[n->inputs[1]];
  float *c = buf[n->output];
  int64_t count = shape_numel(&m.batch);
  for (int64_t i = 0; i < count; i++, iter_next(&it))
    matmul_strided(a + it.off[oa], m.K, 1, b + it.off[ob], m.N, 1, c + i * m.M * m.N, m.N, m.M, m.K,
                   m.N);
}

/* -------------------------------------------------- Window2d: conv and pools */

typedef struct Window2d {
  int64_t k[2];   /* kernel h, w */
  int64_t s[2];   /* stride h, w */
  int64_t dil[2]; /* dilation h, w */
  int64_t p[4];   /* pads top, left, bottom, right */
  int64_t in[2], out[2];
} Window2d;

static const int COUNT_1_2[] = {1, 2, 0}, COUNT_1_2_4[] = {1, 2, 4, 0};

/* [h, w] from an attribute of 1 or 2 values >= min. */
static void attr_hw(const Node *n, const char *name, int64_t min, int64_t hw[2]) {
  const AttrValue *a = attr_ints(n, name, COUNT_1_2, "1 or 2", min);
  hw[0] = a->ints[0];
  hw[1] = a->ints[a->nints - 1];
}

/* Reads stride, pad (and dilation for conv2d, kernel for the pools). For conv2d
 * the kernel comes from the weight and is set by the caller before window_size. */
static void window_attrs(const Node *n, bool conv, Window2d *w) {
  memset(w, 0, sizeof *w);
  if (conv) {
    attr_hw(n, "dilation", 1, w->dil);
  } else {
    w->dil[0] = w->dil[1] = 1;
    attr_hw(n, "kernel", 1, w->k);
  }
  if (conv || node_attr(n, "stride")->set) {
    attr_hw(n, "stride", 1, w->s);
  } else {
    w->s[0] = w->k[0], w->s[1] = w->k[1]; /* pools: stride defaults to the kernel */
  }
  const AttrValue *p = attr_ints(n, "pad", COUNT_1_2_4, "1, 2 or 4", 0);
  if (p->nints == 4) {
    for (int i = 0; i < 4; i++) w->p[i] = p->ints[i];
  } else {
    w->p[0] = w->p[2] = p->ints[0];
    w->p[1] = w->p[3] = p->ints[p->nints - 1];
  }
}

/* "3" when h == w, else "[3,2]" */
static char *hw_text(const int64_t *v, char *buf, size_t size) {
  if (v[0] == v[1]) snprintf(buf, size, "%lld", (long long)v[0]);
  else snprintf(buf, size, "[%lld,%lld]", (long long)v[0], (long long)v[1]);
  return buf;
}

/* Output size (floor mode) for input [N, C, H, W]; user errors when a window
 * cannot be placed. Pools also follow PyTorch in keeping each pad at most half
 * the kernel, so that every window holds at least one real element. */
static void window_size(const Node *n, bool conv, const Shape *x, Window2d *w) {
  w->in[0] = x->d[2], w->in[1] = x->d[3];
  if (!conv)
    for (int i = 0; i < 4; i++)
      if (w->p[i] * 2 > w->k[i % 2])
        error_at(node_attr(n, "pad")->loc, "%s: pad %lld must be at most half the kernel size %lld",
                 op_name(n), (long long)w->p[i], (long long)w->k[i % 2]);
  bool empty = false;
  for (int a = 0; a < 2; a++) {
    int64_t span = w->in[a] + w->p[a] + w->p[a + 2] - (w->dil[a] * (w->k[a] - 1) + 1);
    empty |= span < 0;
    w->out[a] = span < 0 ? 0 : span / w->s[a] + 1;
  }
  if (empty) {
    char xs[SHAPE_STR_MAX], st[48], pd[96], dl[64] = "";
    if (w->p[0] == w->p[1] && w->p[0] == w->p[2] && w->p[0] == w->p[3])
      snprintf(pd, sizeof pd, "%lld", (long long)w->p[0]);
    else if (w->p[0] == w->p[2] && w->p[1] == w->p[3])
      snprintf(pd, sizeof pd, "[%lld,%lld]", (long long)w->p[0], (long long)w->p[1]);
    else
      snprintf(pd, sizeof pd, "[%lld,%lld,%lld,%lld]", (long long)w->p[0], (long long)w->p[1],
               (long long)w->p[2], (long long)w->p[3]);
    if (w->dil[0] != 1 || w->dil[1] != 1) {
      char d[48];
      snprintf(dl, sizeof dl, ", dilation %s", hw_text(w->dil, d, sizeof d));
    }
    error_at(n->loc, "%s: output would be empty: input %s, kernel %lldx%lld, stride %s, pad %s%s",
             op_name(n), shape_str(x, xs), (long long)w->k[0], (long long)w->k[1],
             hw_text(w->s, st, sizeof st), pd, dl);
  }
}

/* Input row (a = 0) or column (a = 1) under kernel tap `t` of output position `o`;
 * outside [0, in) it falls in the padding. */
static inline int64_t window_pos(const Window2d *w, int a, int64_t o, int64_t t) {
  return o * w->s[a] - w->p[a] + t * w->dil[a];
}

/* --------------------------------------------------------------- conv2d */

static void conv_geometry(const Graph *g, const Node *n, Window2d *w, int64_t *groups) {
  const Shape *x = shape_of(g, n->inputs[0]), *wt = shape_of(g, n->inputs[1]);
  window_attrs(n, true, w);
  *groups = node_attr_int(n, "groups");
  w->k[0] = wt->d[2], w->k[1] = wt->d[3];
  window_size(n, true, x, w);
}

/* The groups attribute and the weight [O, C/groups, kh, kw] and bias [O] of a conv2d or
 * conv_transpose2d over x [N, C, H, W]: both ops check them alike. Returns O. */
static int64_t conv_weight_checks(const Node *n, const Value *x, const Value *wt, const Value *b) {
  int64_t groups = attr_int_min(n, "groups", 1), C = x->shape.d[1];
  if (C % groups)
    error_at(node_attr(n, "groups")->loc, "%s: groups %lld does not divide input channels %lld", op_name(n),
             (long long)groups, (long long)C);
  if (wt->shape.rank != 4) {
    char e[64];
    snprintf(e, sizeof e, "[O,%lld,kh,kw]", (long long)(C / groups));
    shape_mismatch(n, 1, wt, e);
  }
  int64_t want[4] = {wt->shape.d[0], C / groups, wt->shape.d[2], wt->shape.d[3]};
  Shape ws = shape_make(4, want);
  expect_shape(n, 1, wt, &ws);
  int64_t O = wt->shape.d[0];
  if (O % groups)
    error_at(node_attr(n, "groups")->loc, "%s: groups %lld does not divide output channels %lld", op_name(n),
             (long long)groups, (long long)O);
  expect_vec(n, 2, b, O);
  return O;
}

void shape_conv2d(Graph *g, Node *n) {
  const Value *x = in_f32(g, n, 0), *wt = in_f32(g, n, 1), *b = opt_f32(g, n, 2);
  expect_rank(n, 0, x, 4, 4, "4 (NCHW)");
  Window2d w;
  window_attrs(n, true, &w);
  const int64_t O = conv_weight_checks(n, x, wt, b);
  w.k[0] = wt->shape.d[2], w.k[1] = wt->shape.d[3];
  window_size(n, true, &x->shape, &w);
  int64_t od[4] = {x->shape.d[0], O, w.out[0], w.out[1]};
  Shape out = shape_make(4, od);
  set_output(g, n, &out);
}

void eval_conv2d(const Graph *g, const Node *n, float *const *buf) {
  Window2d w;
  int64_t groups;
  conv_geometry(g, n, &w, &groups);
  const Shape *xs = shape_of(g, n->inputs[0]), *ws = shape_of(g, n->inputs[1]);
  int64_t N = xs->d[0], C = xs->d[1], H = w.in[0], W = w.in[1];
  int64_t O = ws->d[0], Cg = C / groups, Og = O / groups, OH = w.out[0], OW = w.out[1];
  const float *x = buf[n->inputs[0]], *wt = buf[n->inputs[1]];
  const float *bias = input_id(n, 2) >= 0 ? buf[n->inputs[2]] : NULL;
  float *y = buf[n->output];
  for (int64_t b = 0; b < N; b++)
    for (int64_t oc = 0; oc < O; oc++) {
      int64_t c0 = oc / Og * Cg; /* first input channel of this output's group */
      for (int64_t oh = 0; oh < OH; oh++)
        for (int64_t ow = 0; ow < OW; ow++) {
          float acc = 0.0f;
          for (int64_t ic = 0; ic < Cg; ic++) {
            const float *xc = x + (b * C + c0 + ic) * H * W;
            const float *wc = wt + (oc * Cg + ic) * w.k[0] * w.k[1];
            for (int64_t ky = 0; ky < w.k[0]; ky++) {
              int64_t ih = window_pos(&w, 0, oh, ky);
              if (ih < 0 || ih >= H) continue;
              for (int64_t kx = 0; kx < w.k[1]; kx++) {
                int64_t iw = window_pos(&w, 1, ow, kx);
                if (iw < 0 || iw >= W) continue;
                acc += xc[ih * W + iw] * wc[ky * w.k[1] + kx];
              }
            }
          }
          y[((b * O + oc) * OH + oh) * OW + ow] = bias ? acc + bias[oc] : acc;
        }
    }
}

/* ------------------------------------------------------------------ pools */

void shape_pool2d(Graph *g, Node *n) {
  const Value *x = in_f32(g, n, 0);
  expect_rank(n, 0, x, 4, 4, "4 (NCHW)");
  Window2d w;
  window_attrs(n, false, &w);
  window_size(n, false, &x->shape, &w);
  int64_t od[4] = {x->shape.d[0], x->shape.d[1], w.out[0], w.out[1]};
  Shape out = shape_make(4, od);
  set_output(g, n, &out);
}

/* Max ignores the padding (it is -inf); average divides by the whole window
 * (count_include_pad=True; in floor mode a window never passes the padding). */
static void eval_pool(const Graph *g, const Node *n, float *const *buf, bool is_max) {
  const Shape *xs = shape_of(g, n->inputs[0]);
  Window2d w;
  window_attrs(n, false, &w);
  window_size(n, false, xs, &w);
  int64_t planes = xs->d[0] * xs->d[1], H = w.in[0], W = w.in[1], OH = w.out[0], OW = w.out[1];
  const float *x = buf[n->inputs[0]];
  float *y = buf[n->output];
  for (int64_t p = 0; p < planes; p++)
    for (int64_t oh = 0; oh < OH; oh++)
      for (int64_t ow = 0; ow < OW; ow++) {
        float mx = -INFINITY;
        double sum = 0;
        for (int64_t ky = 0; ky < w.k[0]; ky++) {
          int64_t ih = window_pos(&w, 0, oh, ky);
          if (ih < 0 || ih >= H) continue;
          for (int64_t kx = 0; kx < w.k[1]; kx++) {
            int64_t iw = window_pos(&w, 1, ow, kx);
            if (iw < 0 || iw >= W) continue;
            float v = x[(p * H + ih) * W + iw];
            if (v > mx || isnan(v)) mx = v; /* NaN propagates, as in PyTorch */
            sum += v;
          }
        }
        y[(p * OH + oh) * OW + ow] = is_max ? mx : (float)(sum / (double)(w.k[0] * w.k[1]));
      }
}

void eval_maxpool2d(const Graph *g, const Node *n, float *const *buf) { eval_pool(g, n, buf, true); }
void eval_avgpool2d(const Graph *g, const Node *n, float *const *buf) { eval_pool(g, n, buf, false); }

void shape_global_pool(Graph *g, Node *n) {
  const Value *x = in_f32(g, n, 0);
  expect_rank(n, 0, x, 4, 4, "4 (NCHW)");
  int64_t od[4] = {x->shape.d[0], x->shape.d[1], 1, 1};
  Shape out = shape_make(4, od);
  set_output(g, n, &out);
}

void eval_global_avgpool(const Graph *g, const Node *n, float *const *buf) {
  const Shape *xs = shape_of(g, n->inputs[0]);
  int64_t planes = xs->d[0] * xs->d[1], hw = xs->d[2] * xs->d[3];
  const float *x = buf[n->inputs[0]];
  for (int64_t p = 0; p < planes; p++) {
    double sum = 0;
    for (int64_t i = 0; i < hw; i++) sum += x[p * hw + i];
    buf[n->output][p] = (float)(sum / (double)hw);
  }
}

/* ------------------------------------------------------------ batchnorm */

void shape_batchnorm(Graph *g, Node *n) {
  const Value *x = in_f32(g, n, 0);
  expect_rank(n, 0, x, 2, MAX_RANK, "at least 2 (N, C, ...)");
  for (int k = 1; k <= 4; k++) expect_vec(n, k, in_f32(g, n, k), x->shape.d[1]);
  attr_eps(n);
  set_output(g, n, &x->shape);
}

void eval_batchnorm(const Graph *g, const Node *n, float *const *buf) {
  const Shape *xs = shape_of(g, n->inputs[0]);
  int64_t C = xs->d[1], inner = shape_numel(xs) / (xs->d[0] * C), total = shape_numel(xs);
  const float *x = buf[n->inputs[0]], *gamma = buf[n->inputs[1]], *beta = buf[n->inputs[2]];
  const float *mean = buf[n->inputs[3]], *var = buf[n->inputs[4]];
  double eps = node_attr_float(n, "eps");
  float *y = buf[n->output];
  for (int64_t i = 0; i < total; i++) {
    int64_t c = i / inner % C;
    y[i] = (float)(((double)x[i] - mean[c]) / sqrt((double)var[c] + eps) * gamma[c] + beta[c]);
  }
}

/* ------------------------------------------------------------ elementwise */

void shape_unary(Graph *g, Node *n) {
  const Value *x = in_f32(g, n, 0);
  set_output(g, n, &x->shape);
}

static void eval_map(const Graph *g, const Node *n, float *const *buf, float (*f)(float)) {
  const float *x = buf[n->inputs[0]];
  float *y = buf[n->output];
  int64_t total = numel_of(g, n->inputs[0]);
  for (int64_t i = 0; i < total; i++) y[i] = f(x[i]);
}

static float f_relu(float x) { return x > 0 ? x : (x == x ? 0.0f : x); }
static float f_relu6(float x) { return x != x ? x : x < 0 ? 0.0f : x > 6 ? 6.0f : x; }
static float f_gelu(float x) {
  const double sqrt1_2 = 0.70710678118654752440;
  return (float)(0.5 * x * (1.0 + erf((double)x * sqrt1_2)));
}
/* GELU's tanh form (torch GELU(approximate='tanh'), BERT's gelu_new): its own
 * function, not the erf one, so that float results match the exporting framework. */
double gelu_tanh(double x) {
  const double sqrt_2_pi = 0.79788456080286535588; /* sqrt(2/pi) */
  return 0.5 * x * (1.0 + tanh(sqrt_2_pi * (x + 0.044715 * x * x * x)));
}
static float f_gelu_tanh(float x) { return (float)gelu_tanh((double)x); }
static float f_sigmoid(float x) { return (float)(1.0 / (1.0 + exp(-(double)x))); }
static float f_tanh(float x) { return (float)tanh((double)x); }

void eval_relu(const Graph *g, const Node *n, float *const *buf) { eval_map(g, n, buf, f_relu); }
void eval_relu6(const Graph *g, const Node *n, float *const *buf) { eval_map(g, n, buf, f_relu6); }
void eval_gelu(const Graph *g, const Node *n, float *const *buf) {
  eval_map(g, n, buf, node_attr(n, "approximate")->e == GELU_TANH ? f_gelu_tanh : f_gelu);
}
void eval_sigmoid(const Graph *g, const Node *n, float *const *buf) { eval_map(g, n, buf, f_sigmoid); }
void eval_tanh(const Graph *g, const Node *n, float *const *buf) { eval_map(g, n, buf, f_tanh); }

/* -------------------------------------------------------------- softmax */

static int axis_attr(const Node *n, const Shape *s) {
  const AttrValue *a = node_attr(n, "axis");
  int64_t axis = node_attr_int(n, "axis");
  int ax = normalize_axis(axis, s->rank);
  if (ax < 0)
    error_at(a->loc, "%s: axis %lld is out of range for rank %d", op_name(n), (long long)axis, s->rank);
  return ax;
}

void shape_unary_axis(Graph *g, Node *n) {
  const Value *x = in_f32(g, n, 0);
  axis_attr(n, &x->shape);
  set_output(g, n, &x->shape);
}

/* outer x len x inner around axis `ax` */
static void split_at_axis(const Shape *s, int ax, int64_t *outer, int64_t *len, int64_t *inner) {
  *outer = *inner = 1;
  for (int i = 0; i < ax; i++) *outer *= s->d[i];
  for (int i = ax + 1; i < s->rank; i++) *inner *= s->d[i];
  *len = s->d[ax];
}

void eval_softmax(const Graph *g, const Node *n, float *const *buf) {
  const Shape *xs = shape_of(g, n->inputs[0]);
  int64_t outer, len, inner;
  split_at_axis(xs, axis_attr(n, xs), &outer, &len, &inner);
  for (int64_t o = 0; o < outer; o++)
    for (int64_t i = 0; i < inner; i++) {
      int64_t base = o * len * inner + i;
      softmax_strided(buf[n->inputs[0]] + base, buf[n->output] + base, len, inner);
    }
}

/* ------------------------------------------------------------ layernorm */

void shape_layernorm(Graph *g, Node *n) {
  const Value *x = in_f32(g, n, 0);
  expect_rank(n, 0, x, 1, MAX_RANK, "at least 1");
  int64_t D = x->shape.d[x->shape.rank - 1];
  expect_vec(n, 1, opt_f32(g, n, 1), D);
  expect_vec(n, 2, opt_f32(g, n, 2), D);
  attr_eps(n);
  set_output(g, n, &x->shape);
}

void eval_layernorm(const Graph *g, const Node *n, float *const *buf) {
  const Shape *xs = shape_of(g, n->inputs[0]);
  int64_t D = xs->d[xs->rank - 1], rows = shape_numel(xs) / D;
  int gid = input_id(n, 1), bid = input_id(n, 2);
  const float *gamma = gid >= 0 ? buf[gid] : NULL, *beta = bid >= 0 ? buf[bid] : NULL;
  double eps = node_attr_float(n, "eps");
  bool l1 = node_attr(n, "norm")->e == 1;
  for (int64_t r = 0; r < rows; r++) {
    const float *x = buf[n->inputs[0]] + r * D;
    float *y = buf[n->output] + r * D;
    double mu = 0, dev = 0;
    for (int64_t i = 0; i < D; i++) mu += x[i];
    mu /= (double)D;
    for (int64_t i = 0; i < D; i++) dev += l1 ? fabs(x[i] - mu) : (x[i] - mu) * (x[i] - mu);
    dev /= (double)D;
    double denom = l1 ? dev + eps : sqrt(dev + eps);
    for (int64_t i = 0; i < D; i++) {
      double v = (x[i] - mu) / denom;
      if (gamma) v *= gamma[i];
      if (beta) v += beta[i];
      y[i] = (float)v;
    }
  }
}

/* ------------------------------------------------------- add, sub, mul */

void shape_broadcast(Graph *g, Node *n) {
  const Value *a = in_f32(g, n, 0), *b = in_f32(g, n, 1);
  Shape out;
  if (!broadcast_shapes(&a->shape, &b->shape, &out)) {
    char sa[SHAPE_STR_MAX], sb[SHAPE_STR_MAX];
    error_at(n->loc, "%s: cannot broadcast %s with %s", op_name(n), shape_str(&a->shape, sa),
             shape_str(&b->shape, sb));
  }
  set_output(g, n, &out);
}

static void eval_binary(const Graph *g, const Node *n, float *const *buf) {
  const Shape *os = shape_of(g, n->output);
  Iter it;
  iter_init(&it, os);
  int oa = iter_add_broadcast(&it, shape_of(g, n->inputs[0]), 1);
  int ob = iter_add_broadcast(&it, shape_of(g, n->inputs[1]), 1);
  const float *a = buf[n->inputs[0]], *b = buf[n->inputs[1]];
  float *y = buf[n->output];
  int64_t total = shape_numel(os);
  for (int64_t i = 0; i < total; i++, iter_next(&it)) {
    float u = a[it.off[oa]], v = b[it.off[ob]];
    y[i] = n->op == OP_ADD ? u + v : n->op == OP_SUB ? u - v : n->op == OP_MUL ? u * v
         : n->op == OP_DIV ? u / v : (float)pow((double)u, (double)v);
  }
}

void eval_add(const Graph *g, const Node *n, float *const *buf) { eval_binary(g, n, buf); }
void eval_sub(const Graph *g, const Node *n, float *const *buf) { eval_binary(g, n, buf); }
void eval_mul(const Graph *g, const Node *n, float *const *buf) { eval_binary(g, n, buf); }
void eval_div(const Graph *g, const Node *n, float *const *buf) { eval_binary(g, n, buf); }
void eval_pow(const Graph *g, const Node *n, float *const *buf) { eval_binary(g, n, buf); }

/* ------------------------------------------------ flatten, reshape, copy */

void eval_copy(const Graph *g, const Node *n, float *const *buf) {
  if (buf[n->output] != buf[n->inputs[0]])
    memcpy(buf[n->output], buf[n->inputs[0]], sizeof(float) * (size_t)numel_of(g, n->inputs[0]));
}

void shape_flatten(Graph *g, Node *n) {
  const Value *x = in_f32(g, n, 0);
  expect_rank(n, 0, x, 1, MAX_RANK, "at least 1");
  Shape out = x->shape;
  if (out.rank > 1) {
    int64_t od[2] = {x->shape.d[0], 1};
    for (int i = 1; i < x->shape.rank; i++) od[1] *= x->shape.d[i];
    out = shape_make(2, od);
  }
  set_output(g, n, &out);
}

void shape_reshape(Graph *g, Node *n) {
  const Value *x = in_f32(g, n, 0);
  const AttrValue *a = node_attr(n, "shape");
  char xs[SHAPE_STR_MAX], ss[SHAPE_STR_MAX];
  Shape out = shape_make(a->nints, a->ints); /* as written, for messages */
  shape_str(&out, ss);
  int infer = -1;
  int64_t known = 1;
  for (int i = 0; i < a->nints; i++) {
    int64_t d = a->ints[i];
    if (d == -1 && infer >= 0)
      error_at(a->loc, "reshape: shape %s has more than one -1", ss);
    if (d == -1) {
      infer = i;
    } else if (d == 0) {
      error_at(a->loc, "reshape: shape %s has a 0 dimension; give each size (or -1 for one of them)", ss);
    } else if (d < 0) {
      error_at(a->loc, "reshape: shape %s has a negative dimension %lld", ss, (long long)d);
    } else {
      known *= d;
    }
  }
  int64_t total = shape_numel(&x->shape);
  if (infer >= 0) {
    if (total % known)
      error_at(n->loc, "reshape: cannot reshape %s (%lld elements) to %s (%lld is not a multiple of %lld)",
               shape_str(&x->shape, xs), (long long)total, ss, (long long)total, (long long)known);
    out.d[infer] = total / known;
  } else if (known != total) {
    error_at(n->loc, "reshape: cannot reshape %s (%lld elements) to %s (%lld elements)",
             shape_str(&x->shape, xs), (long long)total, ss, (long long)known);
  }
  set_output(g, n, &out);
}

/* ------------------------------------------------------------ transpose */

void shape_transpose(Graph *g, Node *n) {
  const Value *x = in_f32(g, n, 0);
  const AttrValue *a = node_attr(n, "perm");
  int r = x->shape.rank;
  bool seen[MAX_RANK] = {false}, ok = a->nints == r;
  for (int i = 0; ok && i < r; i++) {
    ok = a->ints[i] >= 0 && a->ints[i] < r && !seen[a->ints[i]];
    if (ok) seen[a->ints[i]] = true;
  }
  if (!ok) {
    Shape p = shape_make(a->nints, a->ints);
    char ps[SHAPE_STR_MAX];
    error_at(a->loc, "transpose: perm %s is not a permutation of %d axes", shape_str(&p, ps), r);
  }
  Shape out = x->shape;
  for (int i = 0; i < r; i++) out.d[i] = x->shape.d[a->ints[i]];
  set_output(g, n, &out);
}

void eval_transpose(const Graph *g, const Node *n, float *const *buf) {
  const Shape *xs = shape_of(g, n->inputs[0]), *os = shape_of(g, n->output);
  const AttrValue *perm = node_attr(n, "perm");
  int64_t xst[MAX_RANK], st[MAX_RANK];
  contiguous_strides(xs, xst);
  for (int i = 0; i < os->rank; i++) st[i] = xst[perm->ints[i]];
  Iter it;
  iter_init(&it, os);
  int ox = iter_add_strides(&it, st);
  const float *x = buf[n->inputs[0]];
  float *y = buf[n->output];
  int64_t total = shape_numel(os);
  for (int64_t i = 0; i < total; i++, iter_next(&it)) y[i] = x[it.off[ox]];
}

/* --------------------------------------------------------------- concat */

void shape_concat(Graph *g, Node *n) {
  if (n->ninputs < 1) internal_error("concat '%s' has no inputs", n->name);
  const Value *first = in_f32(g, n, 0);
  int ax = axis_attr(n, &first->shape);
  Shape out = first->shape;
  for (int k = 1; k < n->ninputs; k++) {
    const Value *v = in_f32(g, n, k);
    bool same = v->shape.rank == first->shape.rank;
    for (int i = 0; same && i < out.rank; i++) same = i == ax || v->shape.d[i] == first->shape.d[i];
    if (!same) {
      char vs[SHAPE_STR_MAX], fs[SHAPE_STR_MAX];
      error_at(n->loc, "concat: input '%s' has shape %s, which differs from %s outside axis %d", v->name,
               shape_str(&v->shape, vs), shape_str(&first->shape, fs), ax);
    }
    out.d[ax] += v->shape.d[ax];
  }
  set_output(g, n, &out);
}

void eval_concat(const Graph *g, const Node *n, float *const *buf) {
  const Shape *os = shape_of(g, n->output);
  int ax = axis_attr(n, os);
  int64_t outer, len, inner;
  split_at_axis(os, ax, &outer, &len, &inner);
  float *y = buf[n->output];
  for (int64_t o = 0; o < outer; o++)
    for (int k = 0; k < n->ninputs; k++) {
      int64_t chunk = shape_of(g, n->inputs[k])->d[ax] * inner; /* its part of one outer row */
      memcpy(y, buf[n->inputs[k]] + o * chunk, sizeof(float) * (size_t)chunk);
      y += chunk;
    }
}

/* ------------------------------------------------------------ embedding */

void shape_embedding(Graph *g, Node *n) {
  const Value *ids = input_typed(g, n, 0, false, DT_I32), *t = in_f32(g, n, 1);
  if (t->shape.rank != 2) shape_mismatch(n, 1, t, "[V,D]");
  char w[32];
  if (ids->shape.rank + 1 > MAX_RANK)
    error_at(n->loc, "embedding: %s '%s' has rank %d, expected at most %d", slot_word(n, 0, w),
             ids->name, ids->shape.rank, MAX_RANK - 1);
  Shape out = ids->shape;
  out.d[out.rank++] = t->shape.d[1];
  set_output(g, n, &out);
}

void eval_embedding(const Graph *g, const Node *n, float *const *buf) {
  const Shape *ts = shape_of(g, n->inputs[1]);
  int64_t V = ts->d[0], D = ts->d[1], count = numel_of(g, n->inputs[0]);
  const float *ids = buf[n->inputs[0]], *table = buf[n->inputs[1]];
  for (int64_t i = 0; i < count; i++) {
    double id = ids[i];
    if (!(id >= 0 && id < (double)V) || id != floor(id)) {
      long long shown = isnan(id) ? 0 : id < -9e18 ? -9000000000000000000LL
                        : id > 9e18 ? 9000000000000000000LL : (long long)id;
      error_at(n->loc, "embedding: id %lld is out of range [0, %lld)", shown, (long long)V);
    }
    memcpy(buf[n->output] + i * D, table + (int64_t)id * D, sizeof(float) * (size_t)D);
  }
}

/* ------------------------------------------------------------ attention */

enum { AT_X, AT_WQ, AT_BQ, AT_WK, AT_BK, AT_WV, AT_BV, AT_WO, AT_BO, AT_MASK };

void shape_attention(Graph *g, Node *n) {
  const Value *x = in_f32(g, n, AT_X);
  expect_rank(n, AT_X, x, 3, 3, "3 (N, T, D)");
  int64_t N = x->shape.d[0], T = x->shape.d[1], D = x->shape.d[2];
  int64_t dd[2] = {D, D};
  Shape wsq = shape_make(2, dd);
  for (int k = AT_WQ; k <= AT_BO; k += 2) {
    expect_shape(n, k, in_f32(g, n, k), &wsq);
    expect_vec(n, k + 1, opt_f32(g, n, k + 1), D);
  }
  int64_t H = attr_int_min(n, "heads", 1);
  if (D % H)
    error_at(node_attr(n, "heads")->loc, "attention: heads %lld does not divide model width %lld",
             (long long)H, (long long)D);
  const Value *mask = opt_f32(g, n, AT_MASK);
  if (mask) {
    int64_t sd[4] = {N, H, T, T};
    Shape s = shape_make(4, sd), b;
    if (!broadcast_shapes(&mask->shape, &s, &b) || !shape_eq(&b, &s)) {
      char ms[SHAPE_STR_MAX], ss[SHAPE_STR_MAX];
      error_at(n->loc, "attention: mask '%s' has shape %s, which does not broadcast to %s (N, heads, T, T)",
               mask->name, shape_str(&mask->shape, ms), shape_str(&s, ss));
    }
  }
  set_output(g, n, &x->shape);
}

/* The reference for the lowering: exactly these kernels in this order.
 *   q = linear(x, wq, bq), k = linear(x, wk, bk), v = linear(x, wv, bv)   [N,T,D]
 *   per head h (columns h*dh .. h*dh+dh-1, dh = D/H):
 *     s = matmul(q_h, k_h^T)          float accumulation over dh, ascending
 *     s = s * scale                   scale = (float)(1/sqrt((double)dh)), one float multiply
 *     s = s + mask                    float add, mask broadcast to [N,H,T,T]
 *     p = softmax(s, axis=-1)         softmax_strided, as eval_softmax
 *     ctx_h = matmul(p, v_h)          float accumulation over keys, ascending
 *   out = linear(concat of ctx_h over heads, wo, bo) */
void eval_attention(const Graph *g, const Node *n, float *const *buf) {
  const Shape *xs = shape_of(g, n->inputs[AT_X]);
  int64_t N = xs->d[0], T = xs->d[1], D = xs->d[2], H = node_attr_int(n, "heads"), dh = D / H;
  int64_t rows = N * T;
  const float *x = buf[n->inputs[AT_X]];
  float *q = xmalloc(sizeof(float) * (size_t)(rows * D)), *k = xmalloc(sizeof(float) * (size_t)(rows * D));
  float *v = xmalloc(sizeof(float) * (size_t)(rows * D)), *ctx = xmalloc(sizeof(float) * (size_t)(rows * D));
  float *s = xmalloc(sizeof(float) * (size_t)(T * T)), *p = xmalloc(sizeof(float) * (size_t)(T * T));
  float *proj[3] = {q, k, v};
  for (int i = 0; i < 3; i++) {
    int wid = n->inputs[AT_WQ + 2 * i], bid = input_id(n, AT_BQ + 2 * i);
    linear_rows(x, rows, D, buf[wid], bid >= 0 ? buf[bid] : NULL, D, proj[i]);
  }
  const float scale = (float)(1.0 / sqrt((double)dh));
  int mid = input_id(n, AT_MASK);
  Iter it; /* over [N, H, T, T], carrying the mask's offset */
  int om = 0;
  if (mid >= 0) {
    int64_t sd[4] = {N, H, T, T};
    Shape ss = shape_make(4, sd);
    iter_init(&it, &ss);
    om = iter_add_broadcast(&it, shape_of(g, mid), 1);
  }
  for (int64_t b = 0; b < N; b++)
    for (int64_t h = 0; h < H; h++) {
      const float *qh = q + b * T * D + h * dh, *kh = k + b * T * D + h * dh, *vh = v + b * T * D + h * dh;
      matmul_strided(qh, D, 1, kh, 1, D, s, T, T, dh, T); /* k_h^T read in place */
      for (int64_t i = 0; i < T * T; i++) {
        s[i] = s[i] * scale;
        if (mid >= 0) {
          s[i] = s[i] + buf[mid][it.off[om]];
          iter_next(&it);
        }
      }
      for (int64_t i = 0; i < T; i++) softmax_strided(s + i * T, p + i * T, T, 1);
      /* ctx[b, i, h*dh + d] = sum_j p[i, j] v[b, j, h*dh + d] */
      matmul_strided(p, T, 1, vh, D, 1, ctx + b * T * D + h * dh, D, T, T, dh);
    }
  int bo = input_id(n, AT_BO);
  linear_rows(ctx, rows, D, buf[n->inputs[AT_WO]], bo >= 0 ? buf[bo] : NULL, D, buf[n->output]);
  free(q), free(k), free(v), free(ctx), free(s), free(p);
}

/* ------------------------------------------------ unary ops from ONNX */

/* The unary elementwise ops added for ONNX, in double: the float reference rounds
 * it once to float, and quantize.c tabulates it over the 256 int8 codes. */
double unary_apply(const Node *n, double x) {
  switch (n->op) {
  case OP_ERF: return erf(x);
  case OP_EXP: return exp(x);
  case OP_SQRT: return sqrt(x);
  case OP_ABS: return fabs(x);
  case OP_NEG: return -x;
  case OP_HARDSWISH: return x * fmin(fmax(x + 3, 0), 6) / 6;
  case OP_HARDSIGMOID: {
    double y = node_attr_float(n, "alpha") * x + node_attr_float(n, "beta");
    return isnan(y) ? y : fmax(0, fmin(1, y));
  }
  case OP_LEAKYRELU: return x >= 0 || isnan(x) ? x : node_attr_float(n, "alpha") * x;
  case OP_CLIP: return isnan(x) ? x : fmin(fmax(x, node_attr_float(n, "min")), node_attr_float(n, "max"));
  default: internal_error("%s is not a unary op", op_name(n));
  }
}

void eval_unary(const Graph *g, const Node *n, float *const *buf) {
  const float *x = buf[n->inputs[0]];
  float *y = buf[n->output];
  int64_t total = numel_of(g, n->inputs[0]);
  for (int64_t i = 0; i < total; i++) y[i] = (float)unary_apply(n, (double)x[i]);
}

/* ------------------------------------------------------------ reducemean */

/* Which axes of x the reduction covers (every listed axis, normalized). */
static void reduced_axes(const Node *n, const Shape *xs, bool *red) {
  const AttrValue *a = node_attr(n, "axes");
  for (int i = 0; i < xs->rank; i++) red[i] = false;
  for (int i = 0; i < a->nints; i++) {
    int ax = normalize_axis(a->ints[i], xs->rank);
    if (ax < 0)
      error_at(a->loc, "%s: axis %lld is out of range for rank %d", op_name(n), (long long)a->ints[i], xs->rank);
    red[ax] = true;
  }
}

void shape_reducemean(Graph *g, Node *n) {
  const Value *x = in_f32(g, n, 0);
  bool red[MAX_RANK];
  reduced_axes(n, &x->shape, red);
  bool keep = node_attr_int(n, "keepdims") != 0;
  Shape out = {0};
  for (int i = 0; i < x->shape.rank; i++)
    if (!red[i]) out.d[out.rank++] = x->shape.d[i];
    else if (keep) out.d[out.rank++] = 1;
  set_output(g, n, &out);
}

void eval_reducemean(const Graph *g, const Node *n, float *const *buf) {
  const Shape *xs = shape_of(g, n->inputs[0]);
  bool red[MAX_RANK];
  reduced_axes(n, xs, red);
  /* The kept axes index the output; sums in double, in input order. */
  Shape kept = *xs;
  int64_t count = 1;
  for (int i = 0; i < xs->rank; i++)
    if (red[i]) count *= xs->d[i], kept.d[i] = 1;
  int64_t nout = shape_numel(&kept), total = shape_numel(xs);
  double *sum = xcalloc((size_t)(nout ? nout : 1), sizeof(double));
  Iter it;
  iter_init(&it, xs);
  int o = iter_add_broadcast(&it, &kept, 1);
  const float *x = buf[n->inputs[0]];
  for (int64_t i = 0; i < total; i++, iter_next(&it)) sum[it.off[o]] += x[i];
  for (int64_t j = 0; j < nout; j++) buf[n->output][j] = (float)(sum[j] / (double)count);
  free(sum);
}

/* ------------------------------------------------- squeeze, unsqueeze */

void shape_squeeze(Graph *g, Node *n) {
  const Value *x = in_f32(g, n, 0);
  const AttrValue *a = node_attr(n, "axes");
  bool drop[MAX_RANK] = {false};
  for (int i = 0; i < a->nints; i++) {
    int ax = normalize_axis(a->ints[i], x->shape.rank);
    if (ax < 0 || x->shape.d[ax] != 1)
      error_at(a->loc, "squeeze: axis %lld is not a size-1 axis of the rank-%d input", (long long)a->ints[i],
               x->shape.rank);
    drop[ax] = true;
  }
  Shape out = {0};
  for (int i = 0; i < x->shape.rank; i++)
    if (!drop[i]) out.d[out.rank++] = x->shape.d[i];
  set_output(g, n, &out);
}

void shape_unsqueeze(Graph *g, Node *n) {
  const Value *x = in_f32(g, n, 0);
  const AttrValue *a = node_attr(n, "axes");
  int rank = x->shape.rank + a->nints;
  if (rank > MAX_RANK) error_at(a->loc, "unsqueeze: the result would have more than %d axes", MAX_RANK);
  bool add[MAX_RANK] = {false};
  for (int i = 0; i < a->nints; i++) {
    int ax = normalize_axis(a->ints[i], rank);
    if (ax < 0 || add[ax])
      error_at(a->loc, "unsqueeze: axis %lld is out of range or repeated for a rank-%d result",
               (long long)a->ints[i], rank);
    add[ax] = true;
  }
  Shape out = {0};
  out.rank = rank;
  for (int i = 0, j = 0; i < rank; i++) out.d[i] = add[i] ? 1 : x->shape.d[j++];
  set_output(g, n, &out);
}

/* ------------------------------------------------------------------ pad */

void shape_pad(Graph *g, Node *n) {
  const Value *x = in_f32(g, n, 0);
  const AttrValue *a = node_attr(n, "pads");
  int r = x->shape.rank;
  if (a->nints != 2 * r)
    error_at(a->loc, "pad: 'pads' must have %d values (begin and end of each axis), got %d", 2 * r, a->nints);
  Shape out = x->shape;
  for (int i = 0; i < r; i++) {
    if (a->ints[i] < 0 || a->ints[r + i] < 0)
      error_at(a->loc, "pad: negative pads (cropping) are not supported");
    out.d[i] += a->ints[i] + a->ints[r + i];
  }
  set_output(g, n, &out);
}

void eval_pad(const Graph *g, const Node *n, float *const *buf) {
  const Shape *xs = shape_of(g, n->inputs[0]), *os = shape_of(g, n->output);
  const AttrValue *a = node_attr(n, "pads");
  float value = (float)node_attr_float(n, "value");
  int64_t total = shape_numel(os), ost[MAX_RANK];
  contiguous_strides(os, ost);
  float *y = buf[n->output];
  for (int64_t i = 0; i < total; i++) y[i] = value;
  /* Each input element to its place: offset by the begin pads. */
  int64_t base = 0;
  for (int i = 0; i < xs->rank; i++) base += a->ints[i] * ost[i];
  Iter it;
  iter_init(&it, xs);
  int o = iter_add_strides(&it, ost);
  const float *x = buf[n->inputs[0]];
  int64_t nx = shape_numel(xs);
  for (int64_t i = 0; i < nx; i++, iter_next(&it)) y[base + it.off[o]] = x[i];
}

/* ---------------------------------------------------------------- slice */

void shape_slice(Graph *g, Node *n) {
  const Value *x = in_f32(g, n, 0);
  int ax = axis_attr(n, &x->shape);
  int64_t start = node_attr_int(n, "start"), end = node_attr_int(n, "end"), step = node_attr_int(n, "step");
  if (start < 0 || end < start || end > x->shape.d[ax] || step < 1)
    error_at(n->loc, "slice: need 0 <= start <= end <= %lld and step >= 1, got start %lld, end %lld, step %lld",
             (long long)x->shape.d[ax], (long long)start, (long long)end, (long long)step);
  Shape out = x->shape;
  out.d[ax] = (end - start + step - 1) / step;
  set_output(g, n, &out);
}

void eval_slice(const Graph *g, const Node *n, float *const *buf) {
  const Shape *xs = shape_of(g, n->inputs[0]), *os = shape_of(g, n->output);
  int ax = axis_attr(n, xs);
  int64_t outer, len, inner, start = node_attr_int(n, "start"), step = node_attr_int(n, "step");
  split_at_axis(xs, ax, &outer, &len, &inner);
  int64_t olen = os->d[ax];
  const float *x = buf[n->inputs[0]];
  float *y = buf[n->output];
  for (int64_t o = 0; o < outer; o++)
    for (int64_t j = 0; j < olen; j++)
      memcpy(y + (o * olen + j) * inner, x + (o * len + start + j * step) * inner, sizeof(float) * (size_t)inner);
}

/* --------------------------------------------------------------- resize */

void shape_resize(Graph *g, Node *n) {
  const Value *x = in_f32(g, n, 0);
  const AttrValue *sz = node_attr(n, "size");
  if (x->shape.rank != 4)
    error_at(n->loc, "resize: input '%s' has rank %d; resize takes NCHW (rank 4)", x->name, x->shape.rank);
  if (sz->nints != 2 || sz->ints[0] < 1 || sz->ints[1] < 1)
    error_at(sz->loc, "resize: size must be two positive integers [H, W]");
  Shape out = x->shape;
  out.d[2] = sz->ints[0];
  out.d[3] = sz->ints[1];
  set_output(g, n, &out);
}

/* ONNX's coordinate_transformation_mode: output index o to an input coordinate. `out` is
 * the resized length before flooring (input length * scale), as ONNX's reference has it. */
static double resize_source(int coord, double o, int64_t in, double out, double scale) {
  switch (coord) {
  case RESIZE_PYTORCH_HALF_PIXEL: return out > 1 ? (o + 0.5) / scale - 0.5 : 0;
  case RESIZE_ALIGN_CORNERS: return out > 1 ? o * (double)(in - 1) / (out - 1) : 0;
  case RESIZE_ASYMMETRIC: return o / scale;
  case RESIZE_TF_HALF_PIXEL_FOR_NEAREST: return (o + 0.5) / scale;
  default: return (o + 0.5) / scale - 0.5; /* half_pixel */
  }
}

ResizeTap resize_tap(const Graph *g, const Node *n, int axis, int64_t o) {
  int64_t in = g->values[n->inputs[0]].shape.d[2 + axis], out = node_attr(n, "size")->ints[axis];
  double scale = node_attr_float(n, axis ? "scale_w" : "scale_h");
  if (!(scale > 0)) scale = (double)out / (double)in;
  double x = resize_source(node_attr(n, "coord")->e, (double)o, in, (double)in * scale, scale);
  ResizeTap t = {0, 0, 0};
  if (node_attr(n, "mode")->e == RESIZE_NEAREST) {
    double f = floor(x), r;
    switch (node_attr(n, "nearest")->e) {
    case RESIZE_ROUND_PREFER_CEIL: r = floor(x + 0.5); break;
    case RESIZE_FLOOR: r = f; break;
    case RESIZE_CEIL: r = ceil(x); break;
    default: r = x - f == 0.5 ? f : floor(x + 0.5); break; /* round_prefer_floor */
    }
    int64_t i = r < 0 ? 0 : r > (double)(in - 1) ? in - 1 : (int64_t)r;
    t.i0 = t.i1 = i;
    return t;
  }
  /* linear: the coordinate clamped into the input, its two neighbours and the far one's weight */
  if (x < 0) x = 0;
  if (x > (double)(in - 1)) x = (double)(in - 1);
  t.i0 = (int64_t)floor(x);
  t.i1 = t.i0 + 1 < in ? t.i0 + 1 : in - 1;
  t.w1 = x - (double)t.i0;
  return t;
}

void eval_resize(const Graph *g, const Node *n, float *const *buf) {
  const Shape *xs = shape_of(g, n->inputs[0]), *ys = shape_of(g, n->output);
  int64_t planes = xs->d[0] * xs->d[1], ih = xs->d[2], iw = xs->d[3], oh = ys->d[2], ow = ys->d[3];
  ResizeTap *tx = xmalloc(sizeof(ResizeTap) * (size_t)ow);
  for (int64_t j = 0; j < ow; j++) tx[j] = resize_tap(g, n, 1, j);
  const float *x = buf[n->inputs[0]];
  float *y = buf[n->output];
  for (int64_t p = 0; p < planes; p++)
    for (int64_t i = 0; i < oh; i++) {
      ResizeTap ty = resize_tap(g, n, 0, i);
      const float *r0 = x + (p * ih + ty.i0) * iw, *r1 = x + (p * ih + ty.i1) * iw;
      float *yr = y + (p * oh + i) * ow;
      for (int64_t j = 0; j < ow; j++) {
        double top = r0[tx[j].i0] * (1 - tx[j].w1) + r0[tx[j].i1] * tx[j].w1;
        double bot = r1[tx[j].i0] * (1 - tx[j].w1) + r1[tx[j].i1] * tx[j].w1;
        yr[j] = (float)(top * (1 - ty.w1) + bot * ty.w1);
      }
    }
  free(tx);
}

/* ------------------------------------------------------- conv_transpose2d */

/* The window of a transposed convolution: stride, pads, dilation and kernel as for conv2d
 * (w->in the input, w->out the output size), and output_padding in op[2]. */
static void conv_transpose_window(const Graph *g, const Node *n, Window2d *w, int64_t op[2]) {
  window_attrs(n, true, w);
  attr_hw(n, "output_padding", 0, op);
  const Shape *xs = shape_of(g, n->inputs[0]), *ws = shape_of(g, n->inputs[1]);
  w->k[0] = ws->d[2], w->k[1] = ws->d[3];
  for (int a = 0; a < 2; a++) {
    w->in[a] = xs->d[2 + a];
    w->out[a] = (w->in[a] - 1) * w->s[a] - w->p[a] - w->p[a + 2] + w->dil[a] * (w->k[a] - 1) + 1 + op[a];
  }
}

void shape_conv_transpose2d(Graph *g, Node *n) {
  const Value *x = in_f32(g, n, 0), *wt = in_f32(g, n, 1), *b = opt_f32(g, n, 2);
  expect_rank(n, 0, x, 4, 4, "4 (NCHW)");
  const int64_t O = conv_weight_checks(n, x, wt, b);
  Window2d w;
  int64_t op[2];
  conv_transpose_window(g, n, &w, op);
  for (int a = 0; a < 2; a++) {
    if (op[a] >= w.s[a] && op[a] >= w.dil[a])
      error_at(node_attr(n, "output_padding")->loc,
               "conv_transpose2d: output_padding %lld must be smaller than the stride or the dilation",
               (long long)op[a]);
    if (w.out[a] < 1)
      error_at(n->loc, "conv_transpose2d: the output would be empty (%lld along %s)", (long long)w.out[a],
               a ? "W" : "H");
  }
  int64_t od[4] = {x->shape.d[0], O, w.out[0], w.out[1]};
  Shape out = shape_make(4, od);
  set_output(g, n, &out);
}

void eval_conv_transpose2d(const Graph *g, const Node *n, float *const *buf) {
  Window2d w;
  int64_t op[2];
  conv_transpose_window(g, n, &w, op);
  const Shape *xs = shape_of(g, n->inputs[0]), *ws = shape_of(g, n->inputs[1]);
  int64_t groups = node_attr_int(n, "groups"), N = xs->d[0], C = xs->d[1], H = w.in[0], W = w.in[1];
  int64_t O = ws->d[0], Cg = C / groups, Og = O / groups, OH = w.out[0], OW = w.out[1];
  const float *x = buf[n->inputs[0]], *wt = buf[n->inputs[1]];
  const float *bias = input_id(n, 2) >= 0 ? buf[n->inputs[2]] : NULL;
  float *y = buf[n->output];
  for (int64_t b = 0; b < N; b++)
    for (int64_t oc = 0; oc < O; oc++) {
      int64_t c0 = oc / Og * Cg;
      for (int64_t oh = 0; oh < OH; oh++)
        for (int64_t ow = 0; ow < OW; ow++) {
          float acc = 0.0f;
          for (int64_t ic = 0; ic < Cg; ic++) {
            const float *xc = x + (b * C + c0 + ic) * H * W, *wc = wt + (oc * Cg + ic) * w.k[0] * w.k[1];
            for (int64_t ky = 0; ky < w.k[0]; ky++) {
              int64_t ih = sc_convt_src((int32_t)oh, (int32_t)ky, (int32_t)w.s[0], (int32_t)w.p[0], (int32_t)w.dil[0], (int32_t)H);
              if (ih < 0) continue;
              for (int64_t kx = 0; kx < w.k[1]; kx++) {
                int64_t iw = sc_convt_src((int32_t)ow, (int32_t)kx, (int32_t)w.s[1], (int32_t)w.p[1], (int32_t)w.dil[1], (int32_t)W);
                if (iw >= 0) acc += xc[ih * W + iw] * wc[ky * w.k[1] + kx];
              }
            }
          }
          y[((b * O + oc) * OH + oh) * OW + ow] = bias ? acc + bias[oc] : acc;
        }
    }
}
