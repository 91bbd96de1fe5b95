/* onnx_import.c — an ONNX graph (onnx_read.c) as a shiftc Graph of core ops.
 *
 * Nodes are taken in file order (ONNX requires a topological order). Each ONNX
 * name is bound either to a graph value or to a known constant (initializers,
 * Constant nodes, and everything computed only from constants: the
 * Shape/Gather/Unsqueeze/Concat chains exporters put in front of Reshape fold
 * here, because every activation's shape is known as soon as its node is added).
 * Constants become graph constants only where an op consumes them, so folded
 * shape arithmetic leaves nothing behind. Shape rules run as each node is added.
 *
 * Names become .nn identifiers ("/layer1/conv/Conv_output_0" -> layer1_conv_Conv_output_0;
 * weights keep their dots). Errors name the file, the ONNX node and its op type.
 * What is rewritten afterwards (MatMul + Add -> linear, LayerNorm and GELU
 * decompositions) is in onnx_patterns.c. */
#define _POSIX_C_SOURCE 200809L
#include "shiftc.h"
#include "onnx.pb-c.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ --shape pins */

typedef struct Pin {
  char *name;
  Shape shape;
  bool used;
} Pin;
static Pin *pins;
static int npins;

void onnx_pin_shape(const char *name, const Shape *s) {
  for (int i = 0; i < npins; i++)
    if (strcmp(pins[i].name, name) == 0) error_cli("--shape: input '%s' is given twice", name);
  pins = xrealloc(pins, sizeof(Pin) * (size_t)(npins + 1));
  pins[npins].name = xstrdup(name);
  pins[npins].shape = *s;
  pins[npins].used = false;
  npins++;
}

/* ------------------------------------------------------------------ state */

typedef struct Sym {
  char *name;  /* the ONNX name */
  int value;   /* graph value id, or -1 */
  Tensor *k;   /* known constant, or NULL */
} Sym;

typedef struct Imp {
  Graph *g;
  const char *path;
  int64_t opset;
  SrcLoc loc;
  Sym *syms;
  int nsyms, cap;
  const Onnx__NodeProto *node; /* the node being imported */
  struct Dq *dq;               /* constants that came out of DequantizeLinear */
  int ndq;
} Imp;

/* A constant DequantizeLinear made from int8 codes: its scales, one per tensor (n 1)
 * or one per slice along `axis`. Where it becomes a graph constant the scales go with
 * it (Value.wscale), so that the quantizer keeps the model's weight codes. */
typedef struct Dq {
  const Tensor *t;
  double *scale;
  int n, axis;
} Dq;

static const Dq *dq_of(const Imp *I, const Tensor *t) {
  for (int i = 0; t && i < I->ndq; i++)
    if (I->dq[i].t == t) return &I->dq[i];
  return NULL;
}

/* Graph constant v holds d's tensor (transposed: its axes swapped, a 2-D one) times
 * |alpha|: it takes d's scales. */
static void carry_scales(Imp *I, int v, const Dq *d, bool transposed, double alpha) {
  if (!d) return;
  Value *val = &I->g->values[v];
  val->nwscale = d->n;
  val->wscale_axis = transposed && d->n > 1 ? 1 - d->axis : d->axis;
  val->wscale = xmalloc(sizeof(double) * (size_t)d->n);
  for (int i = 0; i < d->n; i++) val->wscale[i] = d->scale[i] * fabs(alpha);
}

static _Noreturn void __attribute__((format(printf, 2, 3))) fail(const Imp *I, const char *fmt, ...) {
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  const Onnx__NodeProto *n = I->node;
  if (!n) error_file(I->path, "%s", msg);
  error_file(I->path, "node '%s' (%s): %s", n->name && *n->name ? n->name : (n->n_output ? n->output[0] : "?"),
             n->op_type ? n->op_type : "?", msg);
}

static Sym *sym_find(const Imp *I, const char *name) {
  for (int i = I->nsyms - 1; i >= 0; i--)
    if (strcmp(I->syms[i].name, name) == 0) return &I->syms[i];
  return NULL;
}

static Sym *sym_add(Imp *I, const char *name) {
  if (I->nsyms == I->cap) {
    I->cap = I->cap ? I->cap * 2 : 256;
    I->syms = xrealloc(I->syms, sizeof(Sym) * (size_t)I->cap);
  }
  Sym *s = &I->syms[I->nsyms++];
  s->name = xstrdup(name);
  s->value = -1;
  s->k = NULL;
  return s;
}

static void bind_value(Imp *I, const char *name, int v) { sym_add(I, name)->value = v; }
static void bind_const(Imp *I, const char *name, Tensor *t) { sym_add(I, name)->k = t; }

/* A .nn identifier for an ONNX name, unique in the graph. Weights keep dots. */
static char *ident(const Imp *I, const char *name, bool dots) {
  static const char *const keywords[] = {"model", "weights", "input", "output", "block", "return"};
  StrBuf sb = {0};
  for (const char *p = name; *p; p++) {
    char c = *p;
    bool ok = isalnum((unsigned char)c) || c == '_' || (dots && c == '.' && sb.len && p[1]);
    if (!ok && (sb.len == 0 || sb.data[sb.len - 1] == '_')) continue;
    sb_putc(&sb, ok ? c : '_');
  }
  while (sb.len && (sb.data[sb.len - 1] == '_' || sb.data[sb.len - 1] == '.')) sb.data[--sb.len] = '\0';
  if (sb.len == 0 || isdigit((unsigned char)sb.data[0])) {
    char *t = xformat("v%s", sb.len ? sb.data : "");
    sb_free(&sb);
    sb_puts(&sb, t);
    free(t);
  }
  for (size_t i = 0; i < sizeof keywords / sizeof keywords[0]; i++)
    if (strcmp(sb.data, keywords[i]) == 0) sb_putc(&sb, '_');
  char *base = sb.data, *out = xstrdup(base);
  for (int k = 2; graph_find_value(I->g, out) >= 0; k++) {
    free(out);
    out = xformat("%s_%d", base, k);
  }
  free(base);
  return out;
}

/* ------------------------------------------------------- node inputs, attrs */

static const char *in_name(const Imp *I, int k) {
  const Onnx__NodeProto *n = I->node;
  return k < (int)n->n_input && n->input[k] && *n->input[k] ? n->input[k] : NULL;
}

static bool has_in(const Imp *I, int k) { return in_name(I, k) != NULL; }

static Sym *in_sym(const Imp *I, int k) {
  const char *nm = in_name(I, k);
  if (!nm) fail(I, "input %d is missing", k);
  Sym *s = sym_find(I, nm);
  if (!s) fail(I, "input '%s' is not defined (not a graph input, an initializer or an earlier node's output)", nm);
  return s;
}

/* The constant behind input k, or NULL when it is computed at run time. */
static Tensor *in_const(const Imp *I, int k) { return has_in(I, k) ? in_sym(I, k)->k : NULL; }

static Tensor *need_const(const Imp *I, int k, const char *what) {
  Tensor *t = in_const(I, k);
  if (!t) fail(I, "%s (input %d, '%s') is computed at run time, which is not supported (it must be a constant)", what, k,
               in_name(I, k));
  return t;
}

static int out_count(const Imp *I) {
  int c = 0;
  for (size_t i = 0; i < I->node->n_output; i++)
    if (I->node->output[i] && *I->node->output[i]) c = (int)i + 1;
  return c;
}

/* The graph value behind input k (a constant becomes a graph constant on first use). */
static int in_value(Imp *I, int k) {
  Sym *s = in_sym(I, k);
  if (s->value >= 0) return s->value;
  char *nm = ident(I, s->name, true);
  s->value = graph_add_const(I->g, nm, s->k, I->loc);
  free(nm);
  carry_scales(I, s->value, dq_of(I, s->k), false, 1.0);
  return s->value;
}

static const Shape *in_shape(const Imp *I, int k) {
  Sym *s = in_sym(I, k);
  return s->k ? &s->k->shape : &I->g->values[s->value].shape;
}

static const Onnx__AttributeProto *attr(const Imp *I, const char *name) {
  for (size_t i = 0; i < I->node->n_attribute; i++)
    if (I->node->attribute[i]->name && strcmp(I->node->attribute[i]->name, name) == 0) return I->node->attribute[i];
  return NULL;
}
static int64_t attr_i(const Imp *I, const char *name, int64_t d) {
  const Onnx__AttributeProto *a = attr(I, name);
  return a ? a->i : d;
}
static double attr_f(const Imp *I, const char *name, double d) {
  const Onnx__AttributeProto *a = attr(I, name);
  return a ? a->f : d;
}
/* The ints of an attribute (at most max); -1 when absent. */
static int attr_ints(const Imp *I, const char *name, int64_t *out, int max) {
  const Onnx__AttributeProto *a = attr(I, name);
  if (!a) return -1;
  if ((int)a->n_ints > max) fail(I, "attribute '%s' has %zu values; at most %d are supported", name, a->n_ints, max);
  for (size_t i = 0; i < a->n_ints; i++) out[i] = a->ints[i];
  return (int)a->n_ints;
}
static const char *attr_s(const Imp *I, const char *name, const char *d) {
  static char buf[64];
  const Onnx__AttributeProto *a = attr(I, name);
  if (!a || !a->has_s) return d;
  size_t n = a->s.len < sizeof buf - 1 ? a->s.len : sizeof buf - 1;
  memcpy(buf, a->s.data, n);
  buf[n] = '\0';
  return buf;
}

/* ----------------------------------------------------------- emitting nodes */

/* Adds a node whose output is named after ONNX output `onnx_out` (suffix for
 * helper nodes). Set its attributes, then call done(). */
static Node *emit(Imp *I, OpKind op, const int *in, int nin, const char *onnx_out, const char *suffix) {
  char *base = suffix ? xformat("%s_%s", onnx_out, suffix) : xstrdup(onnx_out);
  char *nm = ident(I, base, false);
  int ni = graph_add_node(I->g, op, nm, I->loc, in, nin, nm);
  free(base), free(nm);
  return &I->g->nodes[ni];
}

static int done(Imp *I, Node *n) {
  op_table[n->op].shape(I->g, n);
  return n->output;
}

static int emit1(Imp *I, OpKind op, int x, const char *onnx_out, const char *suffix) {
  return done(I, emit(I, op, &x, 1, onnx_out, suffix));
}

static int emit_reshape(Imp *I, int x, const Shape *to, const char *onnx_out, const char *suffix) {
  Node *n = emit(I, OP_RESHAPE, &x, 1, onnx_out, suffix);
  node_set_attr_ints(n, "shape", to->rank, to->d);
  return done(I, n);
}

static const char *out0(const Imp *I) { return I->node->output[0]; }

static void check_outputs(const Imp *I, int max) {
  if (out_count(I) > max) fail(I, "output %d ('%s') is not supported", max, I->node->output[max]);
}

/* --------------------------------------------------------- constant tensors */

static Tensor *tensor_new(DType dt, const Shape *s) {
  Tensor *t = xcalloc(1, sizeof(Tensor));
  t->dtype = dt;
  t->shape = *s;
  int64_t n = shape_numel(s);
  t->f = xcalloc((size_t)(n ? n : 1), sizeof(float));
  if (dtype_is_int(dt)) t->i = xcalloc((size_t)(n ? n : 1), sizeof(int64_t));
  return t;
}

static int64_t tget_i(const Tensor *t, int64_t k) { return t->i ? t->i[k] : (int64_t)t->f[k]; }

/* Integer list from a 0-D/1-D constant input (shapes, axes, pads). */
static int const_ints(const Imp *I, int k, int64_t *out, int max, const char *what) {
  Tensor *t = need_const(I, k, what);
  int64_t n = shape_numel(&t->shape);
  if (t->shape.rank > 1 || n > max) fail(I, "%s must be a list of at most %d integers", what, max);
  for (int64_t j = 0; j < n; j++) out[j] = tget_i(t, j);
  return (int)n;
}

static int norm_axis(const Imp *I, int64_t axis, int rank) {
  int a = normalize_axis(axis, rank);
  if (a < 0) fail(I, "axis %lld is out of range for rank %d", (long long)axis, rank);
  return a;
}

/* Strides (elements) of a row-major shape. */
static void strides_of(const Shape *s, int64_t *st) {
  int64_t m = 1;
  for (int i = s->rank - 1; i >= 0; i--) st[i] = m, m *= s->d[i];
}

/* Offset into `in` (right-aligned, broadcasting) of the element at out index idx. */
static int64_t bcast_off(const Shape *in, const Shape *out, const int64_t *idx) {
  int64_t st[MAX_RANK], off = 0;
  strides_of(in, st);
  for (int i = 0; i < in->rank; i++) {
    int oi = i + out->rank - in->rank;
    if (in->d[i] != 1) off += idx[oi] * st[i];
  }
  return off;
}

static void unravel(const Shape *s, int64_t flat, int64_t *idx) {
  for (int i = s->rank - 1; i >= 0; i--) {
    idx[i] = s->d[i] ? flat % s->d[i] : 0;
    flat = s->d[i] ? flat / s->d[i] : 0;
  }
}

static Tensor *retyped_copy(const Tensor *a, const Shape *s) {
  Tensor *t = tensor_new(a->dtype, s);
  int64_t n = shape_numel(s);
  memcpy(t->f, a->f, sizeof(float) * (size_t)n);
  if (a->i) memcpy(t->i, a->i, sizeof(int64_t) * (size_t)n);
  return t;
}

/* Gathers along `axis` of t the elements at `idx` (count per index: indices' shape). */
static Tensor *const_gather(const Imp *I, const Tensor *t, const Tensor *ix, int axis) {
  Shape out = {0};
  for (int i = 0; i < axis; i++) out.d[out.rank++] = t->shape.d[i];
  for (int i = 0; i < ix->shape.rank; i++) out.d[out.rank++] = ix->shape.d[i];
  for (int i = axis + 1; i < t->shape.rank; i++) out.d[out.rank++] = t->shape.d[i];
  if (out.rank > MAX_RANK) fail(I, "result has more than %d dimensions", MAX_RANK);
  Tensor *r = tensor_new(t->dtype, &out);
  int64_t outer = 1, inner = 1, len = t->shape.d[axis], nix = shape_numel(&ix->shape);
  for (int i = 0; i < axis; i++) outer *= t->shape.d[i];
  for (int i = axis + 1; i < t->shape.rank; i++) inner *= t->shape.d[i];
  for (int64_t o = 0; o < outer; o++)
    for (int64_t j = 0; j < nix; j++) {
      int64_t at = tget_i(ix, j);
      if (at < 0) at += len;
      if (at < 0 || at >= len) fail(I, "index %lld is out of range [0, %lld)", (long long)tget_i(ix, j), (long long)len);
      for (int64_t k = 0; k < inner; k++) {
        int64_t src = (o * len + at) * inner + k, dst = (o * nix + j) * inner + k;
        r->f[dst] = t->f[src];
        if (r->i) r->i[dst] = t->i[src];
      }
    }
  return r;
}

static Tensor *const_transpose(const Tensor *t, const int64_t *perm) {
  Shape out = t->shape;
  for (int i = 0; i < out.rank; i++) out.d[i] = t->shape.d[perm[i]];
  Tensor *r = tensor_new(t->dtype, &out);
  int64_t st[MAX_RANK], idx[MAX_RANK], n = shape_numel(&out);
  strides_of(&t->shape, st);
  for (int64_t j = 0; j < n; j++) {
    unravel(&out, j, idx);
    int64_t off = 0;
    for (int i = 0; i < out.rank; i++) off += idx[i] * st[perm[i]];
    r->f[j] = t->f[off];
    if (r->i) r->i[j] = t->i[off];
  }
  return r;
}

/* The output shape of a Reshape: 0 copies the input's dimension (unless
 * allowzero), one -1 is inferred. */
static Shape reshape_target(const Imp *I, const Shape *in, const int64_t *spec, int n, bool allowzero) {
  Shape s = {0};
  s.rank = n;
  int infer = -1;
  int64_t known = 1;
  for (int i = 0; i < n; i++) {
    int64_t d = spec[i];
    if (d == 0 && !allowzero) {
      if (i >= in->rank) fail(I, "shape copies dimension %d of a rank-%d input", i, in->rank);
      d = in->d[i];
    }
    if (d == -1) {
      if (infer >= 0) fail(I, "shape has more than one -1");
      infer = i;
      continue;
    }
    if (d < 0) fail(I, "shape has a negative dimension %lld", (long long)d);
    s.d[i] = d;
    known *= d;
  }
  int64_t total = shape_numel(in);
  if (infer >= 0) {
    if (known == 0 || total % known) fail(I, "cannot reshape %lld elements with a -1 dimension", (long long)total);
    s.d[infer] = total / known;
  } else if (known != total) {
    char a[SHAPE_STR_MAX], b[SHAPE_STR_MAX];
    fail(I, "cannot reshape %s to %s", shape_str(in, a), shape_str(&s, b));
  }
  return s;
}

/* Squeeze/Unsqueeze axes: attribute before opset 13, input from 13 on. */
static int axes_of(const Imp *I, int64_t *axes, bool *given) {
  int n;
  if (I->opset >= 13) n = has_in(I, 1) ? const_ints(I, 1, axes, MAX_RANK, "axes") : -1;
  else n = attr_ints(I, "axes", axes, MAX_RANK);
  *given = n >= 0;
  return n < 0 ? 0 : n;
}

static Shape squeezed(const Imp *I, const Shape *in, const int64_t *axes, int n, bool given) {
  bool drop[MAX_RANK] = {false};
  for (int i = 0; i < n; i++) {
    int a = norm_axis(I, axes[i], in->rank);
    if (in->d[a] != 1) fail(I, "cannot squeeze axis %d of size %lld", a, (long long)in->d[a]);
    drop[a] = true;
  }
  Shape s = {0};
  for (int i = 0; i < in->rank; i++)
    if (!(given ? drop[i] : in->d[i] == 1)) s.d[s.rank++] = in->d[i];
  return s;
}

static Shape unsqueezed(const Imp *I, const Shape *in, const int64_t *axes, int n) {
  int rank = in->rank + n;
  if (rank > MAX_RANK) fail(I, "result has more than %d dimensions", MAX_RANK);
  bool add[MAX_RANK] = {false};
  for (int i = 0; i < n; i++) {
    int a = norm_axis(I, axes[i], rank);
    if (add[a]) fail(I, "axis %d is given twice", a);
    add[a] = true;
  }
  Shape s = {0};
  s.rank = rank;
  for (int i = 0, j = 0; i < rank; i++) s.d[i] = add[i] ? 1 : in->d[j++];
  return s;
}

/* Elementwise arithmetic on constants: int64 when both are integers, else float32. */
static Tensor *const_binary(const Imp *I, const char *op, const Tensor *a, const Tensor *b) {
  Shape out;
  if (!broadcast_shapes(&a->shape, &b->shape, &out)) fail(I, "operand shapes do not broadcast");
  bool ints = a->i && b->i;
  Tensor *r = tensor_new(ints ? DT_I64 : DT_F32, &out);
  int64_t n = shape_numel(&out), idx[MAX_RANK];
  for (int64_t j = 0; j < n; j++) {
    unravel(&out, j, idx);
    int64_t oa = bcast_off(&a->shape, &out, idx), ob = bcast_off(&b->shape, &out, idx);
    if (ints) {
      int64_t u = a->i[oa], v = b->i[ob], y;
      if (!strcmp(op, "Add")) y = u + v;
      else if (!strcmp(op, "Sub")) y = u - v;
      else if (!strcmp(op, "Mul")) y = u * v;
      else {
        if (v == 0) fail(I, "integer division by zero");
        y = u / v - ((u % v != 0) && ((u < 0) != (v < 0))); /* floor, as numpy */
      }
      r->i[j] = y;
      r->f[j] = (float)y;
    } else {
      float u = a->f[oa], v = b->f[ob];
      r->f[j] = !strcmp(op, "Add") ? u + v : !strcmp(op, "Sub") ? u - v : !strcmp(op, "Mul") ? u * v : u / v;
    }
  }
  return r;
}

/* Slice's starts, ends, axes and steps (n of each; returns n): attributes before opset
 * 10 (no steps: 1), constant inputs from opset 10 on. */
static int slice_params(Imp *I, int64_t *st, int64_t *en, int64_t *ax, int64_t *sp) {
  int n;
  if (I->opset < 10) {
    n = attr_ints(I, "starts", st, MAX_RANK);
    if (n < 0) fail(I, "the starts attribute is missing");
    if (attr_ints(I, "ends", en, MAX_RANK) != n) fail(I, "starts and ends differ in length");
    int na = attr_ints(I, "axes", ax, MAX_RANK);
    if (na >= 0 && na != n) fail(I, "axes and starts differ in length");
    if (na < 0) for (int i = 0; i < n; i++) ax[i] = i;
    for (int i = 0; i < n; i++) sp[i] = 1;
    return n;
  }
  n = const_ints(I, 1, st, MAX_RANK, "starts");
  if (const_ints(I, 2, en, MAX_RANK, "ends") != n) fail(I, "starts and ends differ in length");
  if (has_in(I, 3)) const_ints(I, 3, ax, MAX_RANK, "axes");
  else for (int i = 0; i < n; i++) ax[i] = i;
  if (has_in(I, 4)) const_ints(I, 4, sp, MAX_RANK, "steps");
  else for (int i = 0; i < n; i++) sp[i] = 1;
  return n;
}

/* Slice on constants. */
static Tensor *const_slice(Imp *I, const Tensor *t) {
  int64_t st[MAX_RANK], en[MAX_RANK], ax[MAX_RANK], sp[MAX_RANK];
  int n = slice_params(I, st, en, ax, sp);
  int64_t start[MAX_RANK], step[MAX_RANK];
  Shape out = t->shape;
  for (int i = 0; i < t->shape.rank; i++) start[i] = 0, step[i] = 1;
  for (int i = 0; i < n; i++) {
    int a = norm_axis(I, ax[i], t->shape.rank);
    int64_t dim = t->shape.d[a], s = st[i], e = en[i], k = sp[i];
    if (k == 0) fail(I, "slice step 0");
    if (s < 0) s += dim;
    if (e < 0) e += dim;
    if (k > 0) {
      s = s < 0 ? 0 : s > dim ? dim : s;
      e = e < 0 ? 0 : e > dim ? dim : e;
      out.d[a] = e > s ? (e - s + k - 1) / k : 0;
    } else {
      s = s < 0 ? -1 : s > dim - 1 ? dim - 1 : s;
      e = e < -1 ? -1 : e > dim - 1 ? dim - 1 : e;
      out.d[a] = s > e ? (s - e + (-k) - 1) / (-k) : 0;
    }
    start[a] = s, step[a] = k;
  }
  Tensor *r = tensor_new(t->dtype, &out);
  int64_t ts[MAX_RANK], idx[MAX_RANK], total = shape_numel(&out);
  strides_of(&t->shape, ts);
  for (int64_t j = 0; j < total; j++) {
    unravel(&out, j, idx);
    int64_t off = 0;
    for (int i = 0; i < out.rank; i++) off += (start[i] + idx[i] * step[i]) * ts[i];
    r->f[j] = t->f[off];
    if (r->i) r->i[j] = t->i[off];
  }
  return r;
}

static Tensor *attr_tensor(const Imp *I, const Onnx__TensorProto *tp) {
  Tensor *t = xcalloc(1, sizeof(Tensor));
  const char *err = onnx_tensor_read(tp, I->path, t);
  if (err) fail(I, "%s", err);
  return t;
}

static Tensor *scalar_tensor(DType dt, double v) {
  Shape s = {0};
  Tensor *t = tensor_new(dt, &s);
  t->f[0] = (float)v;
  if (t->i) t->i[0] = (int64_t)v;
  return t;
}

/* Constant, folded. */
static Tensor *fold_constant(Imp *I) {
  const Onnx__AttributeProto *a;
  if ((a = attr(I, "value")) && a->t) return attr_tensor(I, a->t);
  if ((a = attr(I, "value_float"))) return scalar_tensor(DT_F32, a->f);
  if ((a = attr(I, "value_int"))) return scalar_tensor(DT_I64, (double)a->i);
  if ((a = attr(I, "value_floats")) || (a = attr(I, "value_ints"))) {
    bool f = a->n_floats > 0 || strcmp(a->name, "value_floats") == 0;
    int64_t n = f ? (int64_t)a->n_floats : (int64_t)a->n_ints;
    Shape s = shape_make(1, &n);
    Tensor *t = tensor_new(f ? DT_F32 : DT_I64, &s);
    for (int64_t j = 0; j < n; j++) {
      if (f) t->f[j] = a->floats[j];
      else t->i[j] = a->ints[j], t->f[j] = (float)a->ints[j];
    }
    return t;
  }
  fail(I, "only tensor, float and int values are supported");
}

/* ONNX Cast's target type as a shiftc dtype (floats stay f32; integers i64). */
static Tensor *const_cast(const Imp *I, const Tensor *t) {
  int64_t to = attr_i(I, "to", 1);
  bool to_int = to == 2 || to == 3 || to == 4 || to == 5 || to == 6 || to == 7 || to == 9 || to == 12 || to == 13;
  if (!to_int && to != 1 && to != 10 && to != 11 && to != 16) fail(I, "cast to %s is not supported", onnx_dtype_name((int)to));
  Tensor *r = tensor_new(to_int ? (to == 9 ? DT_BOOL : DT_I64) : DT_F32, &t->shape);
  int64_t n = shape_numel(&t->shape);
  for (int64_t j = 0; j < n; j++) {
    if (to_int) {
      int64_t v = t->i ? t->i[j] : (int64_t)t->f[j];
      if (to == 9) v = t->i ? v != 0 : t->f[j] != 0;
      r->i[j] = v, r->f[j] = (float)v;
    } else {
      r->f[j] = t->f[j];
    }
  }
  return r;
}

/* DequantizeLinear of a constant (QDQ weights): (q - 0) * scale, per tensor or per axis. */
static Tensor *const_dequantize(Imp *I, const Tensor *q) {
  Tensor *sc = need_const(I, 1, "scale");
  Tensor *zp = in_const(I, 2);
  int64_t nsc = shape_numel(&sc->shape);
  if (zp)
    for (int64_t j = 0; j < shape_numel(&zp->shape); j++)
      if (tget_i(zp, j) != 0)
        fail(I, "zero point %lld: only symmetric int8 quantization (zero point 0) is supported until "
             "asymmetric quantization exists", (long long)tget_i(zp, j));
  if (q->dtype != DT_I8 && q->dtype != DT_I32) fail(I, "only int8 (and int32 bias) tensors can be dequantized");
  Tensor *r = tensor_new(DT_F32, &q->shape);
  int64_t n = shape_numel(&q->shape), inner = 1, len = 1;
  if (nsc > 1) {
    int ax = norm_axis(I, attr_i(I, "axis", 1), q->shape.rank);
    len = q->shape.d[ax];
    if (len != nsc) fail(I, "scale has %lld values for axis %d of size %lld", (long long)nsc, ax, (long long)len);
    for (int i = ax + 1; i < q->shape.rank; i++) inner *= q->shape.d[i];
  }
  for (int64_t j = 0; j < n; j++) r->f[j] = (float)((double)tget_i(q, j) * sc->f[nsc > 1 ? j / inner % len : 0]);
  if (q->dtype == DT_I8) {
    I->dq = xrealloc(I->dq, sizeof(Dq) * (size_t)(I->ndq + 1));
    Dq *d = &I->dq[I->ndq++];
    d->t = r;
    d->n = (int)nsc;
    d->axis = nsc > 1 ? norm_axis(I, attr_i(I, "axis", 1), q->shape.rank) : 0;
    d->scale = xmalloc(sizeof(double) * (size_t)nsc);
    for (int64_t j = 0; j < nsc; j++) d->scale[j] = sc->f[j];
  }
  return r;
}

/* Folds a node whose inputs are all constants (or, for Shape, whose input's shape
 * is known). Returns false when the op is not one of those folded here. */
static bool fold(Imp *I, const char *op) {
  Tensor *r = NULL;
  if (!strcmp(op, "Shape")) {
    const Shape *s = in_shape(I, 0);
    int64_t start = attr_i(I, "start", 0), end = attr_i(I, "end", s->rank);
    if (start < 0) start += s->rank;
    if (end < 0) end += s->rank;
    start = start < 0 ? 0 : start > s->rank ? s->rank : start;
    end = end < start ? start : end > s->rank ? s->rank : end;
    int64_t n = end - start;
    Shape o = shape_make(1, &n);
    r = tensor_new(DT_I64, &o);
    for (int64_t j = 0; j < n; j++) r->i[j] = s->d[start + j], r->f[j] = (float)s->d[start + j];
  } else if (!strcmp(op, "Constant")) {
    r = fold_constant(I);
  } else {
    /* Everything else folds only when every input is constant. */
    for (int k = 0; k < (int)I->node->n_input; k++)
      if (has_in(I, k) && !in_const(I, k)) return false;
    if (!has_in(I, 0)) return false;
    Tensor *a = in_const(I, 0);
    if (!strcmp(op, "Identity") || !strcmp(op, "Dropout")) {
      r = a;
    } else if (!strcmp(op, "Cast")) {
      r = const_cast(I, a);
    } else if (!strcmp(op, "Gather")) {
      r = const_gather(I, a, need_const(I, 1, "indices"), norm_axis(I, attr_i(I, "axis", 0), a->shape.rank));
    } else if (!strcmp(op, "Unsqueeze") || !strcmp(op, "Squeeze")) {
      int64_t axes[MAX_RANK];
      bool given;
      int n = axes_of(I, axes, &given);
      Shape s = op[0] == 'U' ? unsqueezed(I, &a->shape, axes, n) : squeezed(I, &a->shape, axes, n, given);
      r = retyped_copy(a, &s);
    } else if (!strcmp(op, "Reshape")) {
      int64_t spec[MAX_RANK];
      int n = const_ints(I, 1, spec, MAX_RANK, "shape");
      Shape s = reshape_target(I, &a->shape, spec, n, attr_i(I, "allowzero", 0) != 0);
      r = retyped_copy(a, &s);
    } else if (!strcmp(op, "Flatten")) {
      int ax = norm_axis(I, attr_i(I, "axis", 1), a->shape.rank + 1);
      int64_t d[2] = {1, 1};
      for (int i = 0; i < a->shape.rank; i++) d[i >= ax] *= a->shape.d[i];
      Shape s = shape_make(2, d);
      r = retyped_copy(a, &s);
    } else if (!strcmp(op, "Concat")) {
      int ax = norm_axis(I, attr_i(I, "axis", 0), a->shape.rank);
      Shape s = a->shape;
      s.d[ax] = 0;
      bool ints = true;
      for (int k = 0; k < (int)I->node->n_input; k++) {
        Tensor *t = need_const(I, k, "input");
        if (t->shape.rank != s.rank) fail(I, "inputs differ in rank");
        s.d[ax] += t->shape.d[ax];
        ints &= t->i != NULL;
      }
      r = tensor_new(ints ? a->dtype : DT_F32, &s);
      int64_t outer = 1, pos = 0;
      for (int i = 0; i < ax; i++) outer *= s.d[i];
      for (int64_t o = 0; o < outer; o++)
        for (int k = 0; k < (int)I->node->n_input; k++) {
          Tensor *t = in_const(I, k);
          int64_t chunk = shape_numel(&t->shape) / (outer ? outer : 1);
          for (int64_t j = 0; j < chunk; j++, pos++) {
            r->f[pos] = t->f[o * chunk + j];
            if (r->i) r->i[pos] = t->i[o * chunk + j];
          }
        }
    } else if (!strcmp(op, "Slice")) {
      r = const_slice(I, a);
    } else if (!strcmp(op, "Add") || !strcmp(op, "Sub") || !strcmp(op, "Mul") || !strcmp(op, "Div")) {
      r = const_binary(I, op, a, need_const(I, 1, "operand"));
    } else if (!strcmp(op, "Transpose")) {
      int64_t perm[MAX_RANK];
      int n = attr_ints(I, "perm", perm, MAX_RANK);
      if (n < 0)
        for (int i = 0; i < (n = a->shape.rank); i++) perm[i] = a->shape.rank - 1 - i;
      if (n != a->shape.rank) fail(I, "perm has %d values for rank %d", n, a->shape.rank);
      r = const_transpose(a, perm);
    } else if (!strcmp(op, "Sqrt") || !strcmp(op, "Neg") || !strcmp(op, "Reciprocal")) {
      r = tensor_new(DT_F32, &a->shape);
      for (int64_t j = 0; j < shape_numel(&a->shape); j++)
        r->f[j] = op[0] == 'S' ? (float)sqrt(a->f[j]) : op[0] == 'N' ? -a->f[j] : 1.0f / a->f[j];
    } else if (!strcmp(op, "ConstantOfShape")) {
      int64_t d[MAX_RANK];
      int n = const_ints(I, 0, d, MAX_RANK, "shape");
      Shape s = shape_make(n, d);
      const Onnx__AttributeProto *va = attr(I, "value");
      Tensor *v = va && va->t ? attr_tensor(I, va->t) : scalar_tensor(DT_F32, 0);
      r = tensor_new(v->dtype, &s);
      for (int64_t j = 0; j < shape_numel(&s); j++) {
        r->f[j] = v->f[0];
        if (r->i) r->i[j] = v->i ? v->i[0] : (int64_t)v->f[0];
      }
    } else if (!strcmp(op, "Range")) {
      Tensor *l = need_const(I, 1, "limit"), *d = need_const(I, 2, "delta");
      double s0 = a->f[0], lim = l->f[0], dl = d->f[0];
      if (dl == 0) fail(I, "delta 0");
      int64_t n = (int64_t)fmax(ceil((lim - s0) / dl), 0);
      Shape s = shape_make(1, &n);
      r = tensor_new(a->i ? DT_I64 : DT_F32, &s);
      for (int64_t j = 0; j < n; j++) {
        if (r->i) r->i[j] = a->i[0] + j * d->i[0], r->f[j] = (float)r->i[j];
        else r->f[j] = (float)(s0 + (double)j * dl);
      }
    } else if (!strcmp(op, "DequantizeLinear")) {
      r = const_dequantize(I, a);
    } else {
      return false;
    }
  }
  bind_const(I, out0(I), r);
  return true;
}

/* --------------------------------------------------------------- the ops */

/* Kernel, strides, dilations and pads (NCHW, 2-D; 1-D as height 1) of Conv and pools. */
typedef struct Window {
  int rank; /* spatial rank: 1 or 2 */
  int64_t k[2], s[2], dil[2], pad[4]; /* pad: top, left, bottom, right */
} Window;

static void window(Imp *I, const Shape *x, const int64_t *kernel, int rank, Window *w) {
  memset(w, 0, sizeof *w);
  w->rank = rank;
  int64_t s[2] = {1, 1}, d[2] = {1, 1}, p[4] = {0, 0, 0, 0};
  int ns = attr_ints(I, "strides", s, 2), nd = attr_ints(I, "dilations", d, 2), np = attr_ints(I, "pads", p, 4);
  if ((ns >= 0 && ns != rank) || (nd >= 0 && nd != rank) || (np >= 0 && np != 2 * rank))
    fail(I, "strides, dilations and pads must match the %d spatial dimension(s)", rank);
  int off = 2 - rank; /* a 1-D window is the width of a height-1 2-D one */
  for (int i = 0; i < 2; i++) w->k[i] = 1, w->s[i] = 1, w->dil[i] = 1;
  for (int i = 0; i < rank; i++) {
    w->k[off + i] = kernel[i], w->s[off + i] = s[i], w->dil[off + i] = d[i];
    w->pad[off + i] = p[i], w->pad[2 + off + i] = p[rank + i];
  }
  const char *ap = attr_s(I, "auto_pad", "NOTSET");
  if (!strcmp(ap, "VALID")) {
    memset(w->pad, 0, sizeof w->pad);
  } else if (!strcmp(ap, "SAME_UPPER") || !strcmp(ap, "SAME_LOWER")) {
    for (int i = 0; i < rank; i++) {
      int a = off + i;
      int64_t in = x->d[2 + i], out = (in + w->s[a] - 1) / w->s[a];
      int64_t total = (out - 1) * w->s[a] + (w->k[a] - 1) * w->dil[a] + 1 - in;
      if (total < 0) total = 0;
      int64_t small = total / 2, big = total - small;
      w->pad[a] = ap[5] == 'U' ? small : big;
      w->pad[2 + a] = ap[5] == 'U' ? big : small;
    }
  } else if (strcmp(ap, "NOTSET") != 0) {
    fail(I, "auto_pad '%s' is not supported", ap);
  }
}

static void set_window(Node *n, const Window *w, bool conv) {
  node_set_attr_ints(n, "stride", 2, w->s);
  node_set_attr_ints(n, "pad", 4, w->pad);
  if (conv) node_set_attr_ints(n, "dilation", 2, w->dil);
  else node_set_attr_ints(n, "kernel", 2, w->k);
}

/* [N, C, L] -> [N, C, 1, L] for the 1-D ops. */
static int to_2d(Imp *I, int x) {
  const Shape *s = &I->g->values[x].shape;
  int64_t d[4] = {s->d[0], s->d[1], 1, s->d[2]};
  Shape t = shape_make(4, d);
  return emit_reshape(I, x, &t, out0(I), "2d");
}

static int from_2d(Imp *I, int y) {
  const Shape *s = &I->g->values[y].shape;
  int64_t d[3] = {s->d[0], s->d[1], s->d[3]};
  Shape t = shape_make(3, d);
  return emit_reshape(I, y, &t, out0(I), NULL);
}

static int spatial_rank(Imp *I, const Shape *x) {
  if (x->rank != 3 && x->rank != 4) fail(I, "rank-%d inputs are not supported (only 1-D and 2-D: rank 3 or 4)", x->rank);
  return x->rank - 2;
}

static int imp_conv(Imp *I) {
  check_outputs(I, 1);
  const Shape *xs = in_shape(I, 0);
  int rank = spatial_rank(I, xs);
  Tensor *wt = in_const(I, 1);
  const Shape *ws = in_shape(I, 1);
  if (ws->rank != rank + 2) fail(I, "weight rank %d does not match the input", ws->rank);
  Window w;
  window(I, xs, ws->d + 2, rank, &w);
  int x = in_value(I, 0), wv;
  if (rank == 1) {
    if (!wt) fail(I, "a 1-D convolution needs a constant weight");
    int64_t d[4] = {ws->d[0], ws->d[1], 1, ws->d[2]};
    Shape s4 = shape_make(4, d);
    char *nm = ident(I, in_name(I, 1), true);
    wv = graph_add_const(I->g, nm, retyped_copy(wt, &s4), I->loc);
    free(nm);
    x = to_2d(I, x);
  } else {
    wv = in_value(I, 1);
  }
  int in[3] = {x, wv, has_in(I, 2) ? in_value(I, 2) : -1};
  Node *n = emit(I, OP_CONV2D, in, 3, out0(I), rank == 1 ? "conv" : NULL);
  set_window(n, &w, true);
  node_set_attr_int(n, "groups", attr_i(I, "group", 1));
  int y = done(I, n);
  return rank == 1 ? from_2d(I, y) : y;
}

static int imp_pool(Imp *I, OpKind op) {
  check_outputs(I, 1);
  const Shape *xs = in_shape(I, 0);
  int rank = spatial_rank(I, xs);
  int64_t k[2];
  if (attr_ints(I, "kernel_shape", k, 2) != rank) fail(I, "kernel_shape must have %d values", rank);
  Window w;
  window(I, xs, k, rank, &w);
  if (w.dil[0] != 1 || w.dil[1] != 1) fail(I, "dilated pooling is not supported");
  if (attr_i(I, "ceil_mode", 0)) fail(I, "ceil_mode=1 is not supported");
  if (op == OP_AVGPOOL2D && !attr_i(I, "count_include_pad", 0))
    for (int i = 0; i < 4; i++)
      if (w.pad[i]) fail(I, "padded average pooling with count_include_pad=0 is not supported");
  for (int i = 0; i < 4; i++)
    if (w.pad[i] * 2 > w.k[i % 2]) fail(I, "a pad larger than half the kernel is not supported");
  int x = in_value(I, 0);
  if (rank == 1) x = to_2d(I, x);
  Node *n = emit(I, op, &x, 1, out0(I), rank == 1 ? "pool" : NULL);
  set_window(n, &w, false);
  int y = done(I, n);
  return rank == 1 ? from_2d(I, y) : y;
}

static int imp_global_avgpool(Imp *I) {
  if (in_shape(I, 0)->rank != 4) fail(I, "only rank-4 (NCHW) inputs are supported");
  return emit1(I, OP_GLOBAL_AVGPOOL, in_value(I, 0), out0(I), NULL);
}

static int imp_batchnorm(Imp *I) {
  check_outputs(I, 1);
  if (attr_i(I, "training_mode", 0)) fail(I, "training_mode=1 is not supported");
  int in[5];
  for (int k = 0; k < 5; k++) in[k] = in_value(I, k);
  Node *n = emit(I, OP_BATCHNORM, in, 5, out0(I), NULL);
  node_set_attr_float(n, "eps", attr_f(I, "epsilon", 1e-5));
  return done(I, n);
}

/* A new constant, named after the ONNX tensor it was derived from. */
static int add_const(Imp *I, const char *from, const char *suffix, Tensor *t) {
  char *base = xformat("%s%s", from, suffix), *nm = ident(I, base, true);
  int v = graph_add_const(I->g, nm, t, I->loc);
  free(base), free(nm);
  return v;
}

/* ConvTranspose (1-D as 2-D with height 1, and 2-D): the weight [C, O/groups, k...]
 * rearranged into conv_transpose2d's per-output-channel [O, C/groups, kh, kw]; pads as
 * given, or from output_shape / auto_pad SAME_* as ONNX computes them. */
static int imp_conv_transpose(Imp *I) {
  check_outputs(I, 1);
  const Shape *xs = in_shape(I, 0);
  int rank = spatial_rank(I, xs);
  Tensor *wt = need_const(I, 1, "the weight");
  int64_t groups = attr_i(I, "group", 1), C = xs->d[1];
  if (wt->shape.rank != rank + 2 || groups < 1 || C % groups || wt->shape.d[0] != C)
    fail(I, "the weight must be [%lld, O/group, kernel...] of rank %d", (long long)C, rank + 2);
  /* Spatial attributes on [h, w]; a 1-D one is w alone (h: kernel 1, stride 1, no pads). */
  int64_t k[2] = {1, 1}, st[2] = {1, 1}, dil[2] = {1, 1}, pads[4] = {0, 0, 0, 0}, outpad[2] = {0, 0}, oshape[2];
  int64_t v[4], in[2] = {1, xs->d[2 + rank - 1]};
  if (rank == 2) in[0] = xs->d[2];
  for (int a = 0; a < rank; a++) k[2 - rank + a] = wt->shape.d[2 + a];
  int n;
  if ((n = attr_ints(I, "kernel_shape", v, 2)) >= 0)
    for (int a = 0; a < rank; a++)
      if (n != rank || v[a] != k[2 - rank + a]) fail(I, "kernel_shape does not match the weight");
  const char *names[3] = {"strides", "dilations", "output_padding"};
  int64_t *dst[3] = {st, dil, outpad};
  for (int t = 0; t < 3; t++)
    if ((n = attr_ints(I, names[t], v, 2)) >= 0) {
      if (n != rank) fail(I, "%s needs %d values", names[t], rank);
      for (int a = 0; a < rank; a++) dst[t][2 - rank + a] = v[a];
    }
  if ((n = attr_ints(I, "pads", v, 4)) >= 0) {
    if (n != 2 * rank) fail(I, "pads needs %d values", 2 * rank);
    for (int a = 0; a < rank; a++) pads[2 - rank + a] = v[a], pads[4 - rank + a] = v[rank + a];
  }
  const char *ap = attr_s(I, "auto_pad", "NOTSET");
  bool same = !strcmp(ap, "SAME_UPPER") || !strcmp(ap, "SAME_LOWER");
  if (!strcmp(ap, "VALID")) memset(pads, 0, sizeof pads);
  else if (!same && strcmp(ap, "NOTSET")) fail(I, "auto_pad %s is not supported", ap);
  n = attr_ints(I, "output_shape", v, 4);
  if (n >= 0 || same) {
    if (n >= 0 && n != rank) fail(I, "output_shape needs %d values", rank);
    for (int a = 0; a < 2; a++) {
      oshape[a] = n >= 0 ? (a < 2 - rank ? 1 : v[a - (2 - rank)]) : in[a] * st[a];
      int64_t total = st[a] * (in[a] - 1) + outpad[a] + (k[a] - 1) * dil[a] + 1 - oshape[a];
      /* ONNX's split (in floor division); a negative end pad is output beyond what the
       * kernel reaches: output_padding. */
      int64_t half = total >= 0 ? total / 2 : -((1 - total) / 2);
      bool upper = !strcmp(ap, "SAME_UPPER");
      pads[a] = upper ? half : total - half;
      pads[a + 2] = total - pads[a];
      if (pads[a + 2] < 0) outpad[a] -= pads[a + 2], pads[a + 2] = 0;
      if (pads[a] < 0) fail(I, "output_shape %lld needs output before the first row or column", (long long)oshape[a]);
    }
  }
  int64_t Cg = C / groups, Og = wt->shape.d[1], kk = k[0] * k[1];
  int64_t d[4] = {groups * Og, Cg, k[0], k[1]};
  Shape s4 = shape_make(4, d);
  Tensor *tw = tensor_new(DT_F32, &s4);
  for (int64_t gi = 0; gi < groups; gi++)
    for (int64_t j = 0; j < Og; j++)
      for (int64_t ic = 0; ic < Cg; ic++)
        memcpy(tw->f + ((gi * Og + j) * Cg + ic) * kk, wt->f + ((gi * Cg + ic) * Og + j) * kk, sizeof(float) * (size_t)kk);
  int wv = add_const(I, in_name(I, 1), ".per_out", tw), x = in_value(I, 0);
  if (rank == 1) x = to_2d(I, x);
  int ins[3] = {x, wv, has_in(I, 2) ? in_value(I, 2) : -1};
  Node *nd = emit(I, OP_CONV_TRANSPOSE2D, ins, 3, out0(I), rank == 1 ? "convt" : NULL);
  node_set_attr_ints(nd, "stride", 2, st);
  node_set_attr_ints(nd, "pad", 4, pads);
  node_set_attr_ints(nd, "dilation", 2, dil);
  node_set_attr_int(nd, "groups", groups);
  node_set_attr_ints(nd, "output_padding", 2, outpad);
  int y = done(I, nd);
  return rank == 1 ? from_2d(I, y) : y;
}

/* y = x W^T (+ b) with W given as [in, out] (MatMul's B): stored transposed. */
static int linear_from_kxn(Imp *I, int x, const Tensor *b, const char *bname, double alpha, int bias,
                           const char *suffix) {
  int64_t perm[2] = {1, 0};
  Tensor *w = const_transpose(b, perm);
  if (alpha != 1.0)
    for (int64_t j = 0; j < shape_numel(&w->shape); j++) w->f[j] = (float)(w->f[j] * alpha);
  int in[3] = {x, add_const(I, bname, "_t", w), bias};
  carry_scales(I, in[1], dq_of(I, b), true, alpha);
  return done(I, emit(I, OP_LINEAR, in, 3, out0(I), suffix));
}

static int imp_matmul(Imp *I) {
  Tensor *b = in_const(I, 1);
  if (b && b->shape.rank == 2 && in_shape(I, 0)->rank >= 1)
    return linear_from_kxn(I, in_value(I, 0), b, in_name(I, 1), 1.0, -1, NULL);
  int in[2] = {in_value(I, 0), in_value(I, 1)};
  return done(I, emit(I, OP_MATMUL, in, 2, out0(I), NULL));
}

static int transpose2(Imp *I, int x, const char *suffix) {
  Node *n = emit(I, OP_TRANSPOSE, &x, 1, out0(I), suffix);
  int64_t perm[2] = {1, 0};
  node_set_attr_ints(n, "perm", 2, perm);
  return done(I, n);
}

/* Gemm whose B is computed at run time: alpha (A' B') + beta C with matmul. */
static int gemm_runtime_b(Imp *I, int a, double alpha, double beta) {
  int b = in_value(I, 1);
  if (attr_i(I, "transB", 0)) b = transpose2(I, b, "b_t");
  bool more = alpha != 1.0 || (has_in(I, 2) && beta != 0);
  int y = done(I, emit(I, OP_MATMUL, (int[]){a, b}, 2, out0(I), more ? "mm" : NULL));
  if (alpha != 1.0) {
    int sc = graph_add_const(I->g, ident(I, "alpha", true), scalar_tensor(DT_F32, alpha), I->loc);
    bool last = !(has_in(I, 2) && beta != 0);
    y = done(I, emit(I, OP_MUL, (int[]){y, sc}, 2, out0(I), last ? NULL : "alpha"));
  }
  if (!has_in(I, 2) || beta == 0) return y;
  int c = in_value(I, 2);
  if (beta != 1.0) {
    int sc = graph_add_const(I->g, ident(I, "beta", true), scalar_tensor(DT_F32, beta), I->loc);
    c = done(I, emit(I, OP_MUL, (int[]){c, sc}, 2, out0(I), "c"));
  }
  return done(I, emit(I, OP_ADD, (int[]){y, c}, 2, out0(I), NULL));
}

static int imp_gemm(Imp *I) {
  double alpha = attr_f(I, "alpha", 1.0), beta = attr_f(I, "beta", 1.0);
  int x = in_value(I, 0);
  if (attr_i(I, "transA", 0)) x = transpose2(I, x, "a_t");
  Tensor *b = in_const(I, 1);
  if (!b) return gemm_runtime_b(I, x, alpha, beta);
  if (b->shape.rank != 2) fail(I, "B must be a matrix");
  int64_t N = attr_i(I, "transB", 0) ? b->shape.d[0] : b->shape.d[1];
  Tensor *c = in_const(I, 2);
  int bias = -1;
  bool add_c = has_in(I, 2) && beta != 0;
  if (add_c && c && shape_numel(&c->shape) == N && (c->shape.rank == 1 || (c->shape.rank == 2 && c->shape.d[0] == 1))) {
    Shape s = shape_make(1, &N);
    Tensor *bt = tensor_new(DT_F32, &s);
    for (int64_t j = 0; j < N; j++) bt->f[j] = (float)(c->f[j] * beta);
    bias = add_const(I, in_name(I, 2), beta == 1.0 ? "" : "_scaled", bt);
    add_c = false;
  }
  int y;
  const char *sfx = add_c ? "mm" : NULL;
  if (attr_i(I, "transB", 0)) {
    Tensor *w = b;
    if (alpha != 1.0) {
      w = retyped_copy(b, &b->shape);
      for (int64_t j = 0; j < shape_numel(&w->shape); j++) w->f[j] = (float)(w->f[j] * alpha);
    }
    int in[3] = {x, alpha != 1.0 ? add_const(I, in_name(I, 1), "_scaled", w) : in_value(I, 1), bias};
    if (alpha != 1.0) carry_scales(I, in[1], dq_of(I, b), false, alpha);
    y = done(I, emit(I, OP_LINEAR, in, 3, out0(I), sfx));
  } else {
    y = linear_from_kxn(I, x, b, in_name(I, 1), alpha, bias, sfx);
  }
  if (!add_c) return y;
  int cv = in_value(I, 2);
  if (beta != 1.0) {
    int in[2] = {cv, graph_add_const(I->g, ident(I, "beta", true), scalar_tensor(DT_F32, beta), I->loc)};
    cv = done(I, emit(I, OP_MUL, in, 2, out0(I), "c"));
  }
  int in[2] = {y, cv};
  return done(I, emit(I, OP_ADD, in, 2, out0(I), NULL));
}

static int imp_binary(Imp *I, OpKind op) {
  int in[2] = {in_value(I, 0), in_value(I, 1)};
  return done(I, emit(I, op, in, 2, out0(I), NULL));
}

static int imp_unary(Imp *I, OpKind op) { return emit1(I, op, in_value(I, 0), out0(I), NULL); }

static int imp_clip(Imp *I) {
  double lo = -3.4e38, hi = 3.4e38;
  if (I->opset < 11) {
    lo = attr_f(I, "min", lo), hi = attr_f(I, "max", hi);
  } else {
    if (has_in(I, 1)) lo = need_const(I, 1, "min")->f[0];
    if (has_in(I, 2)) hi = need_const(I, 2, "max")->f[0];
  }
  int x = in_value(I, 0);
  if (lo == 0 && hi == 6) return emit1(I, OP_RELU6, x, out0(I), NULL);
  if (lo == 0 && hi >= 3.4e38) return emit1(I, OP_RELU, x, out0(I), NULL);
  Node *n = emit(I, OP_CLIP, &x, 1, out0(I), NULL);
  node_set_attr_float(n, "min", lo);
  node_set_attr_float(n, "max", hi);
  return done(I, n);
}

static int imp_leakyrelu(Imp *I) {
  Node *n = emit(I, OP_LEAKYRELU, (int[]){in_value(I, 0)}, 1, out0(I), NULL);
  node_set_attr_float(n, "alpha", attr_f(I, "alpha", 0.01));
  return done(I, n);
}

static int imp_hardsigmoid(Imp *I) {
  Node *n = emit(I, OP_HARDSIGMOID, (int[]){in_value(I, 0)}, 1, out0(I), NULL);
  node_set_attr_float(n, "alpha", attr_f(I, "alpha", 0.2));
  node_set_attr_float(n, "beta", attr_f(I, "beta", 0.5));
  return done(I, n);
}

static int imp_softmax(Imp *I) {
  const Shape *xs = in_shape(I, 0);
  int x = in_value(I, 0);
  int ax = norm_axis(I, attr_i(I, "axis", I->opset >= 13 ? -1 : 1), xs->rank);
  if (I->opset >= 13 || ax == xs->rank - 1) {
    Node *n = emit(I, OP_SOFTMAX, &x, 1, out0(I), NULL);
    node_set_attr_int(n, "axis", ax);
    return done(I, n);
  }
  /* Before opset 13: softmax over all axes from `axis` on, as one flattened row. */
  Shape orig = *xs;
  int64_t d[2] = {1, 1};
  for (int i = 0; i < xs->rank; i++) d[i >= ax] *= xs->d[i];
  Shape flat = shape_make(2, d);
  int f = emit_reshape(I, x, &flat, out0(I), "rows");
  int s = emit1(I, OP_SOFTMAX, f, out0(I), "flat");
  return emit_reshape(I, s, &orig, out0(I), NULL);
}

static int imp_reshape(Imp *I) {
  int64_t spec[MAX_RANK];
  int n = const_ints(I, 1, spec, MAX_RANK, "shape");
  Shape s = reshape_target(I, in_shape(I, 0), spec, n, attr_i(I, "allowzero", 0) != 0);
  return emit_reshape(I, in_value(I, 0), &s, out0(I), NULL);
}

static int imp_flatten(Imp *I) {
  const Shape *xs = in_shape(I, 0);
  int ax = norm_axis(I, attr_i(I, "axis", 1), xs->rank + 1);
  if (ax == 1 && xs->rank >= 2) return emit1(I, OP_FLATTEN, in_value(I, 0), out0(I), NULL);
  int64_t d[2] = {1, 1};
  for (int i = 0; i < xs->rank; i++) d[i >= ax] *= xs->d[i];
  Shape s = shape_make(2, d);
  return emit_reshape(I, in_value(I, 0), &s, out0(I), NULL);
}

static int imp_squeeze(Imp *I, bool un) {
  int64_t axes[MAX_RANK];
  bool given;
  int n = axes_of(I, axes, &given);
  const Shape *xs = in_shape(I, 0);
  /* The axes, resolved against the input, become the op's attribute. */
  int64_t res[MAX_RANK];
  int nr = 0;
  if (un) {
    Shape s = unsqueezed(I, xs, axes, n);
    for (int i = 0; i < n; i++) res[nr++] = normalize_axis(axes[i], s.rank);
  } else {
    squeezed(I, xs, axes, n, given);
    for (int i = 0; i < xs->rank; i++) {
      bool drop = false;
      for (int j = 0; j < n; j++) drop |= normalize_axis(axes[j], xs->rank) == i;
      if (given ? drop : xs->d[i] == 1) res[nr++] = i;
    }
  }
  Node *node = emit(I, un ? OP_UNSQUEEZE : OP_SQUEEZE, (int[]){in_value(I, 0)}, 1, out0(I), NULL);
  node_set_attr_ints(node, "axes", nr, res);
  return done(I, node);
}

static int imp_transpose(Imp *I) {
  const Shape *xs = in_shape(I, 0);
  int64_t perm[MAX_RANK];
  int n = attr_ints(I, "perm", perm, MAX_RANK);
  if (n < 0)
    for (int i = 0; i < (n = xs->rank); i++) perm[i] = xs->rank - 1 - i;
  Node *node = emit(I, OP_TRANSPOSE, (int[]){in_value(I, 0)}, 1, out0(I), NULL);
  node_set_attr_ints(node, "perm", n, perm);
  return done(I, node);
}

static int imp_concat(Imp *I) {
  int in[MAX_OP_INPUTS], n = (int)I->node->n_input;
  if (n > MAX_OP_INPUTS) fail(I, "more than %d inputs are not supported", MAX_OP_INPUTS);
  for (int k = 0; k < n; k++) in[k] = in_value(I, k);
  Node *node = emit(I, OP_CONCAT, in, n, out0(I), NULL);
  node_set_attr_int(node, "axis", norm_axis(I, attr_i(I, "axis", 0), in_shape(I, 0)->rank));
  return done(I, node);
}

static int imp_reducemean(Imp *I) {
  const Shape *xs = in_shape(I, 0);
  int64_t axes[MAX_RANK];
  int n = attr_ints(I, "axes", axes, MAX_RANK);
  if (n < 0)
    for (int i = 0; i < (n = xs->rank); i++) axes[i] = i;
  for (int i = 0; i < n; i++) axes[i] = norm_axis(I, axes[i], xs->rank);
  Node *node = emit(I, OP_REDUCEMEAN, (int[]){in_value(I, 0)}, 1, out0(I), NULL);
  node_set_attr_ints(node, "axes", n, axes);
  node_set_attr_int(node, "keepdims", attr_i(I, "keepdims", 1));
  return done(I, node);
}

static int imp_pad(Imp *I) {
  const char *mode = attr_s(I, "mode", "constant");
  if (strcmp(mode, "constant")) fail(I, "pad mode '%s' is not supported (only constant)", mode);
  int64_t pads[2 * MAX_ATTR_INTS];
  /* Before opset 11 pads and the value are attributes; from 11 on, inputs. */
  int n = I->opset < 11 ? attr_ints(I, "pads", pads, 2 * MAX_ATTR_INTS) : const_ints(I, 1, pads, 2 * MAX_ATTR_INTS, "pads");
  const Shape *xs = in_shape(I, 0);
  if (n != 2 * xs->rank) fail(I, "pads has %d values for rank %d", n, xs->rank);
  if (n > MAX_ATTR_INTS) fail(I, "padding a rank-%d tensor is not supported (at most rank %d)", xs->rank, MAX_ATTR_INTS / 2);
  if (has_in(I, 3)) fail(I, "the axes input is not supported");
  double value = I->opset < 11 ? attr_f(I, "value", 0.0) : has_in(I, 2) ? need_const(I, 2, "constant_value")->f[0] : 0.0;
  Node *node = emit(I, OP_PAD, (int[]){in_value(I, 0)}, 1, out0(I), NULL);
  node_set_attr_ints(node, "pads", n, pads);
  node_set_attr_float(node, "value", value);
  return done(I, node);
}

/* Resize (opset 10 and 11+) and Upsample (before 10) of an NCHW tensor over H and W, with
 * constant scales or sizes. Opset 10 and Upsample have one convention: asymmetric
 * coordinates, nearest rounding down; from opset 11 the attributes choose. */
static int imp_resize(Imp *I) {
  const char *op = I->node->op_type;
  bool v11 = !strcmp(op, "Resize") && I->opset >= 11;
  const Shape *xs = in_shape(I, 0);
  if (xs->rank != 4) fail(I, "resizing a rank-%d tensor is not supported (only NCHW, rank 4)", xs->rank);
  const char *mode = attr_s(I, "mode", "nearest");
  int m = !strcmp(mode, "nearest") ? RESIZE_NEAREST : !strcmp(mode, "linear") || !strcmp(mode, "bilinear") ? RESIZE_LINEAR : -1;
  if (m < 0) fail(I, "mode '%s' is not supported (nearest and linear are)", mode);
  int coord = RESIZE_ASYMMETRIC, nearest = RESIZE_FLOOR;
  if (v11) {
    static const char *const coords[] = {"half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric",
                                         "tf_half_pixel_for_nearest"};
    static const char *const nears[] = {"round_prefer_floor", "round_prefer_ceil", "floor", "ceil"};
    const char *c = attr_s(I, "coordinate_transformation_mode", "half_pixel");
    coord = -1;
    for (int k = 0; k < 5; k++)
      if (!strcmp(c, coords[k])) coord = k;
    if (!strcmp(c, "tf_half_pixel_for_nn")) coord = RESIZE_TF_HALF_PIXEL_FOR_NEAREST; /* opset 11's name for it */
    if (coord < 0) fail(I, "coordinate_transformation_mode '%s' is not supported", c);
    const char *nm = attr_s(I, "nearest_mode", "round_prefer_floor");
    nearest = -1;
    for (int k = 0; k < 4; k++)
      if (!strcmp(nm, nears[k])) nearest = k;
    if (nearest < 0) fail(I, "nearest_mode '%s' is not supported", nm);
  }
  /* scales: input 2 (opset 11+), input 1 (opset 9, 10), attribute (Upsample before 9) */
  double scale[4] = {1, 1, 1, 1};
  int64_t size[4] = {0};
  const Tensor *sz = v11 && has_in(I, 3) ? need_const(I, 3, "sizes") : NULL;
  if (sz && shape_numel(&sz->shape) > 0) {
    if (shape_numel(&sz->shape) != 4) fail(I, "sizes has %lld values for rank 4", (long long)shape_numel(&sz->shape));
    for (int k = 0; k < 4; k++) size[k] = tget_i(sz, k);
    scale[2] = scale[3] = 0; /* the transform uses size / input size */
  } else {
    int si = v11 ? 2 : 1;
    const Onnx__AttributeProto *a = attr(I, "scales");
    if (!has_in(I, si) && a && a->n_floats == 4) {
      for (int k = 0; k < 4; k++) scale[k] = a->floats[k];
    } else {
      const Tensor *t = need_const(I, si, "scales");
      if (shape_numel(&t->shape) != 4) fail(I, "scales has %lld values for rank 4", (long long)shape_numel(&t->shape));
      for (int k = 0; k < 4; k++) scale[k] = t->f[k];
    }
    for (int k = 0; k < 4; k++) {
      if (!(scale[k] > 0)) fail(I, "scale %g on axis %d is not supported (scales must be positive)", scale[k], k);
      size[k] = (int64_t)floor((double)xs->d[k] * scale[k]);
    }
  }
  if (size[0] != xs->d[0] || size[1] != xs->d[1])
    fail(I, "resizing the batch or channel axis is not supported (only H and W)");
  if (size[2] < 1 || size[3] < 1) fail(I, "the output size [%lld, %lld] is empty", (long long)size[2], (long long)size[3]);
  if (!v11 && m == RESIZE_NEAREST && (scale[2] < 1 || scale[3] < 1))
    fail(I, "nearest downsampling before opset 11 is not supported");
  Node *node = emit(I, OP_RESIZE, (int[]){in_value(I, 0)}, 1, out0(I), NULL);
  node_set_attr_ints(node, "size", 2, size + 2);
  node_set_attr_float(node, "scale_h", scale[2]);
  node_set_attr_float(node, "scale_w", scale[3]);
  node_set_attr_enum(node, "mode", m);
  node_set_attr_enum(node, "coord", coord);
  node_set_attr_enum(node, "nearest", nearest);
  return done(I, node);
}

/* Slice of an activation with constant starts/ends/axes/steps: one slice per axis. */
static int imp_slice(Imp *I) {
  int64_t st[MAX_RANK], en[MAX_RANK], ax[MAX_RANK], sp[MAX_RANK];
  int n = slice_params(I, st, en, ax, sp);
  int x = in_value(I, 0);
  for (int i = 0; i < n; i++) {
    const Shape *xs = &I->g->values[x].shape;
    int a = norm_axis(I, ax[i], xs->rank);
    int64_t dim = xs->d[a], s = st[i], e = en[i];
    if (sp[i] < 1) fail(I, "slice step %lld is not supported (only positive steps)", (long long)sp[i]);
    if (s < 0) s += dim;
    if (e < 0) e += dim;
    s = s < 0 ? 0 : s > dim ? dim : s;
    e = e < s ? s : e > dim ? dim : e;
    if (e == s) fail(I, "an empty slice is not supported");
    Node *node = emit(I, OP_SLICE, &x, 1, out0(I), i + 1 < n ? "part" : NULL);
    node_set_attr_int(node, "axis", a);
    node_set_attr_int(node, "start", s);
    node_set_attr_int(node, "end", e);
    node_set_attr_int(node, "step", sp[i]);
    x = done(I, node);
  }
  if (n == 0) fail(I, "a slice without axes is not supported");
  return x;
}

static int imp_layernorm(Imp *I) {
  check_outputs(I, 1);
  const Shape *xs = in_shape(I, 0);
  if (norm_axis(I, attr_i(I, "axis", -1), xs->rank) != xs->rank - 1) fail(I, "only axis=-1 is supported");
  int in[3] = {in_value(I, 0), in_value(I, 1), has_in(I, 2) ? in_value(I, 2) : -1};
  Node *node = emit(I, OP_LAYERNORM, in, 3, out0(I), NULL);
  node_set_attr_float(node, "eps", attr_f(I, "epsilon", 1e-5));
  return done(I, node);
}

/* Gather of rows of a constant table by run-time ids: embedding. */
static int imp_gather(Imp *I) {
  Tensor *t = in_const(I, 0);
  if (!t || t->shape.rank != 2 || attr_i(I, "axis", 0) != 0)
    fail(I, "this gather is not supported (only rows of a constant 2-D table by run-time ids: an embedding)");
  int in[2] = {in_value(I, 1), in_value(I, 0)};
  return done(I, emit(I, OP_EMBEDDING, in, 2, out0(I), NULL));
}

/* QuantizeLinear -> DequantizeLinear around an activation (QDQ/QAT exports): the
 * scale is kept as the activation's quantization, like @quant; the value itself
 * passes through (float mode computes in float). */
static int imp_quantize(Imp *I) {
  Tensor *sc = need_const(I, 1, "scale"), *zp = in_const(I, 2);
  if (shape_numel(&sc->shape) != 1) fail(I, "only per-tensor activation scales are supported");
  if (has_in(I, 2) && !zp) fail(I, "zero point must be a constant");
  if (zp && zp->dtype != DT_I8)
    fail(I, "zero point of type %s: only symmetric int8 quantization (int8 zero point 0) is supported until "
         "asymmetric quantization exists", dtype_name(zp->dtype));
  if (!zp) fail(I, "uint8 quantization (no zero point given): only symmetric int8 (int8 zero point 0) is supported "
                "until asymmetric quantization exists");
  if (tget_i(zp, 0) != 0)
    fail(I, "zero point %lld: only symmetric int8 quantization (zero point 0) is supported until asymmetric "
         "quantization exists", (long long)tget_i(zp, 0));
  int x = in_value(I, 0);
  Value *v = &I->g->values[x];
  if (v->is_const) fail(I, "quantizing a constant is not supported (store weights as int8 with DequantizeLinear)");
  if (!strcmp(I->node->op_type, "QuantizeLinear")) {
    v->quant.set = true;
    v->quant.scale = sc->f[0];
    v->quant.bits = 8;
    v->quant.loc = I->loc;
  }
  return x;
}

typedef struct OpMap {
  const char *onnx;
  OpKind op;             /* for the one-to-one ops */
  int (*fn)(Imp *I);     /* or a function */
} OpMap;

static const OpMap op_map[] = {
    {"Conv", OP__COUNT, imp_conv},
    {"ConvTranspose", OP__COUNT, imp_conv_transpose},
    {"Gemm", OP__COUNT, imp_gemm},
    {"MatMul", OP__COUNT, imp_matmul},
    {"BatchNormalization", OP__COUNT, imp_batchnorm},
    {"GlobalAveragePool", OP__COUNT, imp_global_avgpool},
    {"Clip", OP__COUNT, imp_clip},
    {"LeakyRelu", OP__COUNT, imp_leakyrelu},
    {"HardSigmoid", OP__COUNT, imp_hardsigmoid},
    {"Softmax", OP__COUNT, imp_softmax},
    {"Reshape", OP__COUNT, imp_reshape},
    {"Flatten", OP__COUNT, imp_flatten},
    {"Transpose", OP__COUNT, imp_transpose},
    {"Concat", OP__COUNT, imp_concat},
    {"ReduceMean", OP__COUNT, imp_reducemean},
    {"Pad", OP__COUNT, imp_pad},
    {"LayerNormalization", OP__COUNT, imp_layernorm},
    {"Gather", OP__COUNT, imp_gather},
    {"Slice", OP__COUNT, imp_slice},
    {"Resize", OP__COUNT, imp_resize},
    {"Upsample", OP__COUNT, imp_resize},
    {"QuantizeLinear", OP__COUNT, imp_quantize},
    {"DequantizeLinear", OP__COUNT, imp_quantize},
    {"MaxPool", OP_MAXPOOL2D, NULL},
    {"AveragePool", OP_AVGPOOL2D, NULL},
    {"Squeeze", OP_SQUEEZE, NULL},
    {"Unsqueeze", OP_UNSQUEEZE, NULL},
    {"Relu", OP_RELU, NULL},
    {"Sigmoid", OP_SIGMOID, NULL},
    {"Tanh", OP_TANH, NULL},
    {"HardSwish", OP_HARDSWISH, NULL},
    {"Erf", OP_ERF, NULL},
    {"Exp", OP_EXP, NULL},
    {"Sqrt", OP_SQRT, NULL},
    {"Abs", OP_ABS, NULL},
    {"Neg", OP_NEG, NULL},
    {"Add", OP_ADD, NULL},
    {"Sub", OP_SUB, NULL},
    {"Mul", OP_MUL, NULL},
    {"Div", OP_DIV, NULL},
    {"Pow", OP_POW, NULL},
};

/* Ops that only rename (their output is their input). */
static bool is_alias_op(const char *op) { return !strcmp(op, "Identity") || !strcmp(op, "Dropout"); }

/* Ops folded when their inputs are constant and otherwise have no run-time meaning here. */
static const char *const fold_only[] = {"Shape", "Constant", "Cast", "ConstantOfShape", "Range",
                                        "Reciprocal"};

bool onnx_op_supported(const char *op_type) {
  for (size_t i = 0; i < sizeof op_map / sizeof op_map[0]; i++)
    if (!strcmp(op_map[i].onnx, op_type)) return true;
  for (size_t i = 0; i < sizeof fold_only / sizeof fold_only[0]; i++)
    if (!strcmp(fold_only[i], op_type)) return true;
  return is_alias_op(op_type);
}

static void import_node(Imp *I) {
  const Onnx__NodeProto *n = I->node;
  const char *op = n->op_type ? n->op_type : "";
  if (n->domain && *n->domain && strcmp(n->domain, "ai.onnx"))
    fail(I, "op %s of domain '%s' is not supported", op, n->domain);
  if (out_count(I) < 1) fail(I, "the node has no output");
  if (fold(I, op)) return;
  if (is_alias_op(op)) {
    if (out_count(I) > 1) fail(I, "the mask output is not supported");
    bind_value(I, out0(I), in_value(I, 0));
    return;
  }
  if (!strcmp(op, "Cast")) {
    int64_t to = attr_i(I, "to", 1);
    int x = in_value(I, 0);
    if (to != 1 || I->g->values[x].dtype != DT_F32)
      fail(I, "casting activations to %s is not supported", onnx_dtype_name((int)to));
    bind_value(I, out0(I), x);
    return;
  }
  for (size_t i = 0; i < sizeof op_map / sizeof op_map[0]; i++) {
    const OpMap *m = &op_map[i];
    if (strcmp(m->onnx, op)) continue;
    /* Activations other than float32 reach only embedding's ids. */
    if (strcmp(op, "Gather"))
      for (int k = 0; k < (int)n->n_input; k++)
        if (has_in(I, k) && !in_sym(I, k)->k && I->g->values[in_sym(I, k)->value].dtype != DT_F32)
          fail(I, "input '%s' is an integer tensor computed at run time, which is not supported (only float32 "
               "activations; shapes, axes and pads must be constants)", in_name(I, k));
    int y;
    if (m->fn) y = m->fn(I);
    else if (m->op == OP_MAXPOOL2D || m->op == OP_AVGPOOL2D) y = imp_pool(I, m->op);
    else if (m->op == OP_SQUEEZE || m->op == OP_UNSQUEEZE) y = imp_squeeze(I, m->op == OP_UNSQUEEZE);
    else if (op_table[m->op].inputs[1]) y = (check_outputs(I, 1), imp_binary(I, m->op));
    else y = (check_outputs(I, 1), imp_unary(I, m->op));
    bind_value(I, out0(I), y);
    return;
  }
  fail(I, "op %s is not supported", op);
}

/* ----------------------------------------------------------------- inputs */

static void import_input(Imp *I, const Onnx__ValueInfoProto *vi) {
  const char *nm = vi->name ? vi->name : "";
  const Onnx__TypeProto *tp = vi->type;
  if (!tp || tp->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE || !tp->tensor_type)
    error_file(I->path, "input '%s' is not a tensor (sequences, maps and optionals are not supported)", nm);
  const Onnx__TypeProto__Tensor *tt = tp->tensor_type;
  int et = tt->has_elem_type ? tt->elem_type : 0;
  if (et != 1 && et != 6 && et != 7)
    error_file(I->path, "input '%s' has type %s, which is not supported (models take float32 inputs, or "
               "int32/int64 token ids)", nm, onnx_dtype_name(et));
  Pin *pin = NULL;
  for (int i = 0; i < npins; i++)
    if (!strcmp(pins[i].name, nm)) pin = &pins[i];
  Shape s = {0};
  if (!tt->shape) {
    if (!pin) error_file(I->path, "input '%s' has no shape: give it with --shape %s=[...]", nm, nm);
    s = pin->shape;
  } else {
    if (tt->shape->n_dim > MAX_RANK) error_file(I->path, "input '%s' has more than %d dimensions", nm, MAX_RANK);
    s.rank = (int)tt->shape->n_dim;
    for (int i = 0; i < s.rank; i++) {
      const Onnx__TensorShapeProto__Dimension *d = tt->shape->dim[i];
      bool known = d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE && d->dim_value >= 0;
      s.d[i] = known ? d->dim_value : -1;
      if (!known && !pin) {
        const char *param = d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM && d->dim_param
                                ? d->dim_param : "?";
        StrBuf ex = {0};
        for (int j = 0; j < s.rank; j++) {
          const Onnx__TensorShapeProto__Dimension *e = tt->shape->dim[j];
          bool k = e->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE && e->dim_value > 0;
          sb_printf(&ex, "%s%lld", j ? "," : "", k ? (long long)e->dim_value : 1LL);
        }
        error_file(I->path, "input '%s' has a dynamic dimension %d ('%s'): pin it with --shape %s=[%s]", nm, i,
                   param, nm, ex.data ? ex.data : "");
      }
    }
    if (pin) {
      bool ok = pin->shape.rank == s.rank;
      for (int i = 0; ok && i < s.rank; i++) ok = s.d[i] < 0 || s.d[i] == pin->shape.d[i];
      char a[SHAPE_STR_MAX], b[SHAPE_STR_MAX];
      if (!ok)
        error_cli("--shape %s=%s does not match the model's input shape %s (-1: dynamic)", nm,
                  shape_str(&pin->shape, a), shape_str(&s, b));
      s = pin->shape;
    }
  }
  if (pin) pin->used = true;
  for (int i = 0; i < s.rank; i++)
    if (s.d[i] <= 0) error_file(I->path, "input '%s': empty dimensions (size 0) are not supported", nm);
  char *id = ident(I, nm, false);
  int v = graph_add_value(I->g, id, I->loc);
  free(id);
  Value *val = &I->g->values[v];
  val->is_input = true;
  val->shape = s;
  val->dtype = et == 1 ? DT_F32 : DT_I32;
  I->g->inputs = xrealloc(I->g->inputs, sizeof(int) * (size_t)(I->g->ninputs + 1));
  I->g->inputs[I->g->ninputs++] = v;
  bind_value(I, nm, v);
}

/* ------------------------------------------------------------------ driver */

Graph *onnx_import_file(const OnnxFile *f, const char *path) {
  const Onnx__GraphProto *gp = f->model->graph;
  char *stem = path_stem_identifier(path);
  if (!strcmp(stem, "model") || !strcmp(stem, "input") || !strcmp(stem, "output") || !strcmp(stem, "weights") ||
      !strcmp(stem, "block") || !strcmp(stem, "return")) {
    char *t = xformat("%s_", stem); /* a keyword of the .nn language */
    free(stem);
    stem = t;
  }
  Imp I = {0};
  I.g = graph_new(stem, path);
  I.path = path;
  I.opset = f->opset;
  I.loc = loc_file(path);
  free(stem);
  for (size_t i = 0; i < gp->n_initializer; i++) {
    Tensor *t = xcalloc(1, sizeof(Tensor));
    const char *err = onnx_tensor_read(gp->initializer[i], path, t);
    if (err) error_file(path, "initializer: %s", err);
    bind_const(&I, gp->initializer[i]->name ? gp->initializer[i]->name : "", t);
  }
  for (int k = 0; k < npins; k++) {
    bool found = false;
    for (size_t i = 0; i < gp->n_input; i++) found |= gp->input[i]->name && !strcmp(gp->input[i]->name, pins[k].name);
    if (!found) error_cli("--shape: the model has no input named '%s'", pins[k].name);
  }
  for (size_t i = 0; i < gp->n_input; i++) {
    const char *nm = gp->input[i]->name ? gp->input[i]->name : "";
    if (sym_find(&I, nm)) continue; /* an initializer listed as an input (IR < 4) */
    import_input(&I, gp->input[i]);
  }
  if (I.g->ninputs == 0) error_file(path, "a graph without inputs is not supported");
  for (size_t i = 0; i < gp->n_node; i++) {
    I.node = gp->node[i];
    import_node(&I);
  }
  I.node = NULL;
  for (size_t i = 0; i < gp->n_output; i++) {
    const char *nm = gp->output[i]->name ? gp->output[i]->name : "";
    Sym *s = sym_find(&I, nm);
    if (!s) error_file(path, "output '%s' is not computed by any node", nm);
    if (s->value < 0)
      error_file(path, "output '%s' is a constant: outputs that do not depend on the input data are not supported", nm);
    I.g->outputs = xrealloc(I.g->outputs, sizeof(int) * (size_t)(I.g->noutputs + 1));
    I.g->outputs[I.g->noutputs++] = s->value;
  }
  if (I.g->noutputs == 0) error_file(path, "the graph has no outputs");
  return I.g;
}

Graph *onnx_import(const char *path) {
  OnnxFile *f = onnx_load(path);
  Graph *g = onnx_import_file(f, path);
  onnx_file_free(f);
  free(f);
  onnx_rewrite_patterns(g);
  return g;
}
