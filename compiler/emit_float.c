/* emit_float.c — `shiftc compile MODEL --float-c`: the float32 graph (batchnorm folded) as
 * plain C99, the comparison build for the int8 code (make bench). It writes into OUTDIR:
 *   <model>_float.h         sizes and `void <model>_float_run(const float *input,
 *                           float *output, float *scratch)`
 *   <model>_float.c         the kernels used (emit_float_kernels.c), every constant as a
 *                           static const float array (linear weights transposed to [K][O]),
 *                           one function per node, and the run function
 *   <model>_float_golden.c  golden inputs (the calibration samples) and the outputs of the
 *                           float interpreter (`shiftc run --float`) on them
 *   <model>_float_test.c    a main() that checks every golden output within 1e-4 of the
 *                           output's largest magnitude
 * Intermediate values live in one scratch buffer of floats, placed first-fit by liveness.
 * Models with one input and one output (the examples, the BERT layer). */
#include "shiftc.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct FEmit {
  const Graph *g;
  const char *m;  /* the model's C identifier */
  int64_t *off;   /* per value: offset in scratch, -1 when not in scratch */
  int64_t scratch;
  bool *const_used;   /* per value: its plain array is referenced */
  bool used[16];      /* per kernel of float_kernels[] */
  bool rows[OP__COUNT]; /* binary row functions needed */
} FEmit;

static int kernel_index(const char *name) {
  for (int i = 0; float_kernels[i].name; i++)
    if (strcmp(float_kernels[i].name, name) == 0) return i;
  internal_error("no float kernel '%s'", name);
}
static void use_kernel(FEmit *e, const char *name) { e->used[kernel_index(name)] = true; }

/* ------------------------------------------------------------- scratch plan */

/* First-fit in a list of live blocks: each node's output is placed before its inputs'
 * blocks are freed, so no kernel reads and writes the same floats. */
typedef struct Block {
  int64_t off, size;
  int value;
} Block;

static void plan_scratch(FEmit *e) {
  const Graph *g = e->g;
  int *last = xcalloc((size_t)g->nvalues, sizeof(int));
  for (int v = 0; v < g->nvalues; v++) last[v] = -1;
  for (int i = 0; i < g->nnodes; i++)
    for (int k = 0; k < g->nodes[i].ninputs; k++)
      if (g->nodes[i].inputs[k] >= 0) last[g->nodes[i].inputs[k]] = i;
  e->off = xcalloc((size_t)g->nvalues, sizeof(int64_t));
  for (int v = 0; v < g->nvalues; v++) e->off[v] = -1;
  Block *live = xcalloc((size_t)g->nvalues + 1, sizeof(Block));
  int nlive = 0;
  for (int i = 0; i < g->nnodes; i++) {
    int v = g->nodes[i].output;
    if (v != g->outputs[0]) {
      int64_t size = (shape_numel(&g->values[v].shape) + 15) / 16 * 16; /* 64-byte blocks */
      int64_t at = 0;
      int pos = 0;
      for (; pos < nlive; pos++) { /* live is sorted by offset */
        if (live[pos].off - at >= size) break;
        at = live[pos].off + live[pos].size;
      }
      memmove(&live[pos + 1], &live[pos], sizeof(Block) * (size_t)(nlive - pos));
      live[pos] = (Block){at, size, v};
      nlive++;
      e->off[v] = at;
      if (at + size > e->scratch) e->scratch = at + size;
    }
    for (int b = 0; b < nlive; b++)
      if (last[live[b].value] <= i && live[b].value != v) {
        memmove(&live[b], &live[b + 1], sizeof(Block) * (size_t)(nlive - b - 1));
        nlive--, b--;
      }
  }
  free(live);
  free(last);
}

/* ------------------------------------------------------------------ helpers */

static const Value *val(const FEmit *e, int v) { return &e->g->values[v]; }
static int64_t numel(const FEmit *e, int v) { return shape_numel(&e->g->values[v].shape); }

static void put_floats(StrBuf *sb, const float *v, int64_t n, const char *what) {
  for (int64_t i = 0; i < n; i++) {
    if (!isfinite(v[i])) error_cli("--float-c: %s holds a non-finite value at element %lld", what, (long long)i);
    char *s = float_literal(v[i]);
    sb_printf(sb, "%s%s", s, i + 1 < n ? (i % 8 == 7 ? ",\n  " : ", ") : "");
    free(s);
  }
}

static void put_array(StrBuf *sb, const char *name, const float *v, int64_t n, const char *what) {
  sb_printf(sb, "static const float %s[%lld] = {\n  ", name, (long long)n);
  put_floats(sb, v, n, what);
  sb_puts(sb, "\n};\n");
}

static void put_ints(StrBuf *sb, const char *name, const int64_t *v, int n) {
  sb_printf(sb, "  static const int %s[%d] = {", name, n);
  for (int i = 0; i < n; i++) sb_printf(sb, "%s%lld", i ? ", " : "", (long long)v[i]);
  sb_puts(sb, "};\n");
}

/* The plain array of a constant operand (written once, before the node that first uses it). */
static char *const_name(const FEmit *e, int v) { return xformat("k%d_%s", v, c_ident(val(e, v)->name)); }

static char *operand(FEmit *e, StrBuf *data, int v) {
  if (v < 0) return xstrdup("NULL");
  if (!val(e, v)->is_const) return xformat("v%d", v);
  char *name = const_name(e, v);
  if (!e->const_used[v]) {
    e->const_used[v] = true;
    put_array(data, name, val(e, v)->data, numel(e, v), val(e, v)->name);
  }
  return name;
}

/* [h, w] from an attribute of one or two values; pads [t, l] from one, two or four. */
static void attr_hw(const Node *n, const char *name, int64_t hw[2]) {
  const AttrValue *a = node_attr(n, name);
  hw[0] = a->ints[0], hw[1] = a->ints[a->nints - 1];
}
static void attr_pad(const Node *n, int64_t tl[2]) {
  const AttrValue *a = node_attr(n, "pad");
  tl[0] = a->ints[0], tl[1] = a->ints[a->nints == 2 ? 1 : a->nints == 4 ? 1 : 0];
}

/* Strides of `in` broadcast against the output shape `out` (right-aligned, 0 where size 1). */
static void broadcast_strides(const Shape *in, const Shape *out, int64_t *st) {
  int64_t s = 1;
  for (int i = out->rank - 1; i >= 0; i--) {
    int j = i - (out->rank - in->rank);
    int64_t d = j >= 0 ? in->d[j] : 1;
    st[i] = d == 1 ? 0 : s;
    s *= d;
  }
}

/* The C expression of a unary op on `u`, or NULL. */
static char *unary_expr(const Node *n) {
  switch (n->op) {
  case OP_RELU: return xstrdup("u > 0.0f ? u : 0.0f");
  case OP_RELU6: return xstrdup("u < 0.0f ? 0.0f : u > 6.0f ? 6.0f : u");
  case OP_GELU: return xstrdup("0.5f * u * (1.0f + erff(u * 0.70710678f))");
  case OP_SIGMOID: return xstrdup("1.0f / (1.0f + expf(-u))");
  case OP_TANH: return xstrdup("tanhf(u)");
  case OP_ERF: return xstrdup("erff(u)");
  case OP_EXP: return xstrdup("expf(u)");
  case OP_SQRT: return xstrdup("sqrtf(u)");
  case OP_ABS: return xstrdup("fabsf(u)");
  case OP_NEG: return xstrdup("-u");
  case OP_HARDSWISH: return xstrdup("u * fminf(fmaxf(u + 3.0f, 0.0f), 6.0f) / 6.0f");
  case OP_HARDSIGMOID:
    return xformat("fmaxf(0.0f, fminf(1.0f, %.9gf * u + %.9gf))", node_attr_float(n, "alpha"),
                   node_attr_float(n, "beta"));
  case OP_LEAKYRELU: return xformat("u >= 0.0f ? u : %.9gf * u", node_attr_float(n, "alpha"));
  case OP_CLIP:
    return xformat("fminf(fmaxf(u, %.9g), %.9g)", node_attr_float(n, "min"), node_attr_float(n, "max"));
  default: return NULL;
  }
}

static const char *binary_row_name(OpKind op) {
  switch (op) {
  case OP_ADD: return "row_add";
  case OP_SUB: return "row_sub";
  case OP_MUL: return "row_mul";
  case OP_DIV: return "row_div";
  case OP_POW: return "row_pow";
  default: return NULL;
  }
}
static const char *binary_row_expr(OpKind op) {
  switch (op) {
  case OP_ADD: return "u + v";
  case OP_SUB: return "u - v";
  case OP_MUL: return "u * v";
  case OP_DIV: return "u / v";
  default: return "powf(u, v)";
  }
}

/* -------------------------------------------------------------------- nodes */

/* The body of node i's function: reads x0.. (its inputs), writes y. */
static void emit_body(FEmit *e, StrBuf *data, StrBuf *b, const Node *n, char **in) {
  const Shape *ys = &val(e, n->output)->shape;
  const Shape *xs = &val(e, n->inputs[0])->shape;
  int64_t total = shape_numel(ys);
  char *ue = unary_expr(n);
  if (ue) {
    sb_printf(b, "  int i;\n  for (i = 0; i < %lld; i++) {\n    float u = %s[i];\n    y[i] = %s;\n  }\n",
              (long long)total, in[0], ue);
    free(ue);
    return;
  }
  switch (n->op) {
  case OP_LINEAR: {
    const Value *w = val(e, n->inputs[1]);
    int64_t O = w->shape.d[0], K = w->shape.d[1];
    if (!w->is_const) error_at(n->loc, "--float-c: linear needs constant weights");
    float *wt = xmalloc(sizeof(float) * (size_t)(O * K));
    for (int64_t o = 0; o < O; o++)
      for (int64_t k = 0; k < K; k++) wt[k * O + o] = w->data[o * K + k];
    char *name = xformat("n_%s_wt", c_ident(n->name));
    sb_printf(data, "/* %s transposed to [%lld][%lld] */\n", w->name, (long long)K, (long long)O);
    put_array(data, name, wt, O * K, w->name);
    free(wt);
    use_kernel(e, "linear");
    sb_printf(b, "  k_linear(%s, %lld, %lld, %s, %s, %lld, y);\n", in[0], (long long)(shape_numel(xs) / K),
              (long long)K, name, in[2], (long long)O);
    return;
  }
  case OP_MATMUL: {
    const Shape *as = xs, *bs = &val(e, n->inputs[1])->shape;
    if (as->rank < 2 || bs->rank < 2) error_at(n->loc, "--float-c: matmul needs operands of rank 2 or more");
    int64_t M = as->d[as->rank - 2], K = as->d[as->rank - 1], N = bs->d[bs->rank - 1];
    Shape ab = shape_make(as->rank - 2, as->d), bb = shape_make(bs->rank - 2, bs->d);
    Shape batch = shape_make(ys->rank - 2, ys->d);
    int64_t sa[MAX_RANK], sbb[MAX_RANK], count = shape_numel(&batch);
    broadcast_strides(&ab, &batch, sa);
    broadcast_strides(&bb, &batch, sbb);
    int64_t *oa = xcalloc((size_t)count, sizeof(int64_t)), *ob = xcalloc((size_t)count, sizeof(int64_t));
    int64_t idx[MAX_RANK] = {0};
    for (int64_t c = 0; c < count; c++) {
      for (int d = 0; d < batch.rank; d++) oa[c] += idx[d] * sa[d] * M * K, ob[c] += idx[d] * sbb[d] * K * N;
      for (int d = batch.rank - 1; d >= 0 && ++idx[d] == batch.d[d]; d--) idx[d] = 0;
    }
    use_kernel(e, "matmul");
    put_ints(b, "oa", oa, (int)count);
    put_ints(b, "ob", ob, (int)count);
    sb_printf(b, "  int i;\n  for (i = 0; i < %lld; i++)\n    k_matmul(%s + oa[i], %s + ob[i], y + (size_t)i * %lld, %lld, "
                 "%lld, %lld);\n", (long long)count, in[0], in[1], (long long)(M * N), (long long)M, (long long)K,
              (long long)N);
    free(oa);
    free(ob);
    return;
  }
  case OP_CONV2D: {
    const Shape *ws = &val(e, n->inputs[1])->shape;
    int64_t s[2], p[2], d[2];
    attr_hw(n, "stride", s);
    attr_hw(n, "dilation", d);
    attr_pad(n, p);
    int64_t geo[16] = {xs->d[0], xs->d[1], xs->d[2], xs->d[3], ys->d[1], ys->d[2], ys->d[3], ws->d[2], ws->d[3],
                       s[0], s[1], p[0], p[1], d[0], d[1], node_attr_int(n, "groups")};
    use_kernel(e, "conv2d");
    put_ints(b, "geo", geo, 16);
    sb_printf(b, "  k_conv2d(%s, %s, %s, y, geo);\n", in[0], in[1], in[2]);
    return;
  }
  case OP_MAXPOOL2D:
  case OP_AVGPOOL2D:
  case OP_GLOBAL_AVGPOOL: {
    int64_t k[2] = {xs->d[2], xs->d[3]}, s[2] = {1, 1}, p[2] = {0, 0};
    if (n->op != OP_GLOBAL_AVGPOOL) {
      attr_hw(n, "kernel", k);
      if (node_attr(n, "stride")->set) attr_hw(n, "stride", s);
      else s[0] = k[0], s[1] = k[1];
      attr_pad(n, p);
    }
    int64_t geo[11] = {xs->d[0] * xs->d[1], xs->d[2], xs->d[3], ys->d[2], ys->d[3], k[0], k[1], s[0], s[1], p[0], p[1]};
    use_kernel(e, "pool2d");
    put_ints(b, "geo", geo, 11);
    sb_printf(b, "  k_pool2d(%s, y, geo, %d);\n", in[0], n->op == OP_MAXPOOL2D);
    return;
  }
  case OP_SOFTMAX: {
    int ax = normalize_axis(node_attr_int(n, "axis"), xs->rank);
    int64_t outer = 1, inner = 1;
    for (int i = 0; i < ax; i++) outer *= xs->d[i];
    for (int i = ax + 1; i < xs->rank; i++) inner *= xs->d[i];
    use_kernel(e, "softmax");
    sb_printf(b, "  k_softmax(%s, y, %lld, %lld, %lld);\n", in[0], (long long)outer, (long long)xs->d[ax],
              (long long)inner);
    return;
  }
  case OP_LAYERNORM: {
    int64_t D = xs->d[xs->rank - 1];
    use_kernel(e, "layernorm");
    sb_printf(b, "  k_layernorm(%s, y, %lld, %lld, %s, %s, %.9gf, %d);\n", in[0], (long long)(total / D),
              (long long)D, in[1], in[2], node_attr_float(n, "eps"), node_attr(n, "norm")->e == 1);
    return;
  }
  case OP_BATCHNORM: { /* one not folded (no conv/linear before it): y = x * k[c] + t[c] */
    int64_t C = xs->d[1], inner = total / (xs->d[0] * C);
    float *kt = xmalloc(sizeof(float) * (size_t)(2 * C));
    for (int k = 1; k <= 4; k++)
      if (!val(e, n->inputs[k])->is_const) error_at(n->loc, "--float-c: batchnorm needs constant statistics");
    const float *ga = val(e, n->inputs[1])->data, *be = val(e, n->inputs[2])->data;
    const float *mu = val(e, n->inputs[3])->data, *var = val(e, n->inputs[4])->data;
    for (int64_t c = 0; c < C; c++) {
      double k = ga[c] / sqrt((double)var[c] + node_attr_float(n, "eps"));
      kt[c] = (float)k, kt[C + c] = (float)(be[c] - mu[c] * k);
    }
    char *name = xformat("n_%s_kt", c_ident(n->name));
    put_array(data, name, kt, 2 * C, n->name);
    free(kt);
    sb_printf(b, "  int i;\n  for (i = 0; i < %lld; i++) {\n    int c = i / %lld %% %lld;\n"
                 "    y[i] = %s[i] * %s[c] + %s[%lld + c];\n  }\n",
              (long long)total, (long long)inner, (long long)C, in[0], name, name, (long long)C);
    return;
  }
  case OP_ADD:
  case OP_SUB:
  case OP_MUL:
  case OP_DIV:
  case OP_POW: {
    int64_t geo[1 + 3 * MAX_RANK];
    int r = ys->rank ? ys->rank : 1;
    Shape os = *ys;
    if (!ys->rank) os.rank = 1, os.d[0] = 1;
    geo[0] = r;
    for (int i = 0; i < r; i++) geo[1 + i] = os.d[i];
    broadcast_strides(&val(e, n->inputs[0])->shape, &os, geo + 1 + r);
    broadcast_strides(&val(e, n->inputs[1])->shape, &os, geo + 1 + 2 * r);
    use_kernel(e, "binary");
    e->rows[n->op] = true;
    put_ints(b, "geo", geo, 1 + 3 * r);
    sb_printf(b, "  k_binary(%s, %s, y, geo, %s);\n", in[0], in[1], binary_row_name(n->op));
    return;
  }
  case OP_TRANSPOSE: {
    const AttrValue *perm = node_attr(n, "perm");
    int64_t geo[1 + 2 * MAX_RANK], xst[MAX_RANK], s = 1;
    for (int i = xs->rank - 1; i >= 0; i--) xst[i] = s, s *= xs->d[i];
    geo[0] = ys->rank;
    for (int i = 0; i < ys->rank; i++) {
      int pi = normalize_axis(perm->ints[i], xs->rank);
      geo[1 + i] = ys->d[i];
      geo[1 + ys->rank + i] = xst[pi];
    }
    use_kernel(e, "transpose");
    put_ints(b, "geo", geo, 1 + 2 * ys->rank);
    sb_printf(b, "  k_transpose(%s, y, geo);\n", in[0]);
    return;
  }
  case OP_CONCAT: {
    int ax = normalize_axis(node_attr_int(n, "axis"), ys->rank);
    int64_t outer = 1, inner = 1;
    for (int i = 0; i < ax; i++) outer *= ys->d[i];
    for (int i = ax + 1; i < ys->rank; i++) inner *= ys->d[i];
    sb_printf(b, "  int o;\n  for (o = 0; o < %lld; o++) {\n", (long long)outer);
    int64_t at = 0;
    for (int k = 0; k < n->ninputs; k++) {
      int64_t len = val(e, n->inputs[k])->shape.d[ax] * inner;
      sb_printf(b, "    memcpy(y + (size_t)o * %lld + %lld, %s + (size_t)o * %lld, sizeof(float) * %lld);\n",
                (long long)(ys->d[ax] * inner), (long long)at, in[k], (long long)len, (long long)len);
      at += len;
    }
    sb_puts(b, "  }\n");
    return;
  }
  case OP_REDUCEMEAN: {
    const AttrValue *axes = node_attr(n, "axes");
    bool red[MAX_RANK] = {false};
    for (int i = 0; i < axes->nints; i++) red[normalize_axis(axes->ints[i], xs->rank)] = true; /* checked by the shape pass */
    int64_t geo[1 + 2 * MAX_RANK], ost[MAX_RANK], st = 1, count = 1;
    for (int i = xs->rank - 1; i >= 0; i--) { /* the output's strides over the kept axes, in x's axis order */
      ost[i] = red[i] ? 0 : st;
      if (!red[i]) st *= xs->d[i];
      else count *= xs->d[i];
    }
    geo[0] = xs->rank;
    for (int i = 0; i < xs->rank; i++) geo[1 + i] = xs->d[i], geo[1 + xs->rank + i] = ost[i];
    use_kernel(e, "reducemean");
    put_ints(b, "geo", geo, 1 + 2 * xs->rank);
    sb_printf(b, "  k_reducemean(%s, y, geo, %lld, %lld);\n", in[0], (long long)total, (long long)count);
    return;
  }
  case OP_SLICE: { /* rows of `inner` floats: start, start+step, ... of each outer block */
    int ax = normalize_axis(node_attr_int(n, "axis"), xs->rank); /* checked by shape_slice */
    int64_t outer = 1, inner = 1, len = xs->d[ax], start = node_attr_int(n, "start"), step = node_attr_int(n, "step");
    for (int i = 0; i < ax; i++) outer *= xs->d[i];
    for (int i = ax + 1; i < xs->rank; i++) inner *= xs->d[i];
    sb_printf(b, "  int o, j;\n  for (o = 0; o < %lld; o++)\n    for (j = 0; j < %lld; j++)\n", (long long)outer,
              (long long)ys->d[ax]);
    sb_printf(b, "      memcpy(y + ((size_t)o * %lld + j) * %lld, %s + ((size_t)o * %lld + %lld + (size_t)j * %lld) * %lld,\n"
                 "             sizeof(float) * %lld);\n",
              (long long)ys->d[ax], (long long)inner, in[0], (long long)len, (long long)start, (long long)step,
              (long long)inner, (long long)inner);
    return;
  }
  case OP_FLATTEN:
  case OP_RESHAPE:
  case OP_SQUEEZE:
  case OP_UNSQUEEZE:
    sb_printf(b, "  memcpy(y, %s, sizeof(float) * %lld);\n", in[0], (long long)total);
    return;
  default:
    error_at(n->loc, "--float-c: op '%s' is not supported by the float C emitter yet", op_table[n->op].name);
  }
}

/* ------------------------------------------------------------------- files */

static void write_into(const char *dir, const char *name, const StrBuf *sb) {
  char *path = xformat("%s/%s", dir, name);
  if (!write_file_atomic(path, sb->data ? sb->data : "", sb->len))
    error_cli("cannot write '%s': %s", path, strerror(errno));
  free(path);
}

static char *upper_ident(const char *s) {
  char *u = xstrdup(s);
  for (char *p = u; *p; p++)
    if (*p >= 'a' && *p <= 'z') *p = (char)(*p - 'a' + 'A');
  return u;
}

/* Goldens: the float interpreter on the reference graph `ref` (unfolded, as `run --float`). */
static void emit_golden(const FEmit *e, StrBuf *c, const Graph *ref, const Samples *s, int ng) {
  const char *m = e->m;
  int64_t in_n = numel(e, e->g->inputs[0]), out_n = numel(e, e->g->outputs[0]);
  sb_printf(c, "/* %s_float_golden.c — generated by shiftc %s: %d inputs (calibration samples) and\n"
               " * the float interpreter's outputs on them (shiftc run --float). */\n",
            m, SHIFTC_VERSION, ng);
  sb_printf(c, "#include \"%s_float.h\"\n\nconst int %s_float_golden_count = %d;\n", m, m, ng);
  int rows = ng ? ng : 1;
  sb_printf(c, "const float %s_float_golden_input[%d][%lld] = {\n", m, rows, (long long)in_n);
  for (int i = 0; i < rows; i++) {
    sb_puts(c, "  {");
    if (ng) put_floats(c, s->data + (int64_t)i * in_n, in_n, "a golden input");
    else sb_puts(c, "0.0f");
    sb_puts(c, "},\n");
  }
  sb_printf(c, "};\nconst float %s_float_golden_output[%d][%lld] = {\n", m, rows, (long long)out_n);
  FloatRun *r = float_run_new(ref);
  for (int i = 0; i < rows; i++) {
    sb_puts(c, "  {");
    if (ng) {
      const float *in = s->data + (int64_t)i * in_n;
      float_run(r, &in);
      put_floats(c, r->buf[ref->outputs[0]], out_n, "a golden output");
    } else {
      sb_puts(c, "0.0f");
    }
    sb_puts(c, "},\n");
  }
  sb_puts(c, "};\n");
  float_run_free(r);
}

static void emit_test(const FEmit *e, StrBuf *c) {
  const char *m = e->m;
  char *M = upper_ident(m);
  sb_printf(c, "/* %s_float_test.c — generated by shiftc %s: runs the float C on every golden input and\n"
               " * checks each output within 1e-4 of the output's largest magnitude (the float\n"
               " * interpreter accumulates in double, this code in float). Exit 0 iff all pass. */\n",
            m, SHIFTC_VERSION);
  sb_printf(c, "#include <math.h>\n#include <stdio.h>\n#include <stdlib.h>\n#include \"%s_float.h\"\n\n", m);
  sb_printf(c, "extern const int %s_float_golden_count;\n", m);
  sb_printf(c, "extern const float %s_float_golden_input[][%s_FLOAT_INPUT_SIZE];\n", m, M);
  sb_printf(c, "extern const float %s_float_golden_output[][%s_FLOAT_OUTPUT_SIZE];\n\n", m, M);
  sb_printf(c, "int main(void) {\n"
               "  float *scratch = malloc(sizeof(float) * (%s_FLOAT_SCRATCH_SIZE + 1));\n"
               "  static float out[%s_FLOAT_OUTPUT_SIZE];\n"
               "  int g, i, pass = 0;\n"
               "  for (g = 0; g < %s_float_golden_count; g++) {\n"
               "    const float *ref = %s_float_golden_output[g];\n"
               "    float big = 0.0f, err = 0.0f;\n"
               "    %s_float_run(%s_float_golden_input[g], out, scratch);\n"
               "    for (i = 0; i < %s_FLOAT_OUTPUT_SIZE; i++) {\n"
               "      big = fabsf(ref[i]) > big ? fabsf(ref[i]) : big;\n"
               "      err = fabsf(out[i] - ref[i]) > err || out[i] != out[i] ? fabsf(out[i] - ref[i]) : err;\n"
               "    }\n"
               "    printf(\"golden %%d: max error %%.3g, %%.3g of the largest |output| %%.3g\\n\", g, err,\n"
               "           big > 0 ? err / big : err, big);\n"
               "    pass += err <= 1e-4f * (big > 0 ? big : 1.0f);\n"
               "  }\n"
               "  printf(\"%%d/%%d goldens within 1e-4\\n\", pass, %s_float_golden_count);\n"
               "  free(scratch);\n"
               "  return pass == %s_float_golden_count ? 0 : 1;\n"
               "}\n",
            M, M, m, m, m, m, M, m, m);
  free(M);
}

void emit_float_c(const Graph *g, const Graph *ref, const Samples *golden, int ngolden, const char *outdir) {
  if (g->ninputs != 1 || g->noutputs != 1)
    error_file(g->source, "--float-c handles models with one input and one output (this one has %d and %d)",
               g->ninputs, g->noutputs);
  FEmit e = {.g = g, .m = c_ident(g->name)};
  e.const_used = xcalloc((size_t)g->nvalues, sizeof(bool));
  plan_scratch(&e);
  char *M = upper_ident(e.m);
  int in = g->inputs[0], out = g->outputs[0];

  /* Node functions first (they decide which kernels and arrays are needed). */
  StrBuf data = {0}, fns = {0}, run = {0};
  for (int i = 0; i < g->nnodes; i++) {
    const Node *n = &g->nodes[i];
    char *in_names[MAX_OP_INPUTS];
    StrBuf sig = {0}, body = {0};
    char *fn = xformat("n%d_%s", i, c_ident(n->name));
    sb_printf(&sig, "/* %s = %s(...) -> %s */\nstatic void %s(", g->values[n->output].name, op_table[n->op].name,
              shape_str(&g->values[n->output].shape, (char[SHAPE_STR_MAX]){0}), fn);
    sb_printf(&run, "  %s(", fn);
    int nparams = 0;
    for (int k = 0; k < n->ninputs; k++) {
      int v = n->inputs[k];
      if (n->op == OP_LINEAR && k == 1) { /* written transposed by emit_body */
        in_names[k] = NULL;
        continue;
      }
      if (v < 0 || g->values[v].is_const) {
        in_names[k] = operand(&e, &data, v);
        continue;
      }
      in_names[k] = xformat("x%d", k);
      sb_printf(&sig, "%sconst float *x%d", nparams ? ", " : "", k);
      sb_printf(&run, "%sv%d", nparams ? ", " : "", v);
      nparams++;
    }
    sb_printf(&sig, "%sfloat *y) {\n", nparams ? ", " : "");
    sb_printf(&run, "%sv%d);\n", nparams ? ", " : "", n->output);
    emit_body(&e, &data, &body, n, in_names);
    sb_printf(&fns, "%s%s}\n\n", sig.data, body.data);
    sb_free(&sig);
    sb_free(&body);
  }

  StrBuf c = {0};
  sb_printf(&c, "/* %s_float.c — generated by shiftc %s from %s: the float32 graph (batchnorm folded)\n"
                " * as plain C99, the comparison build for the int8 code. Build with -lm. */\n",
            e.m, SHIFTC_VERSION, g->source);
  sb_printf(&c, "#include \"%s_float.h\"\n\n", e.m);
  for (int k = 0; float_kernels[k].name; k++)
    if (k == 0 || e.used[k]) sb_printf(&c, "%s\n", float_kernels[k].text);
  for (int op = 0; op < OP__COUNT; op++)
    if (e.rows[op]) {
      const char *name = binary_row_name((OpKind)op);
      sb_printf(&c, "BINARY_ROW(%s, %s)\n", name ? name : "?", binary_row_expr((OpKind)op));
    }
  sb_printf(&c, "\n%s\n%s", data.data ? data.data : "", fns.data ? fns.data : "");
  sb_printf(&c, "void %s_float_run(const float *input, float *output, float *scratch) {\n", e.m);
  sb_printf(&c, "  const float *v%d = input;\n", in);
  for (int v = 0; v < g->nvalues; v++)
    if (e.off[v] >= 0) sb_printf(&c, "  float *v%d = scratch + %lld;\n", v, (long long)e.off[v]);
  sb_printf(&c, "  float *v%d = output;\n", out);
  if (e.scratch == 0) sb_puts(&c, "  (void)scratch;\n");
  sb_printf(&c, "%s}\n", run.data ? run.data : "");

  StrBuf h = {0};
  sb_printf(&h, "/* %s_float.h — generated by shiftc %s: the float32 build of %s. */\n", e.m, SHIFTC_VERSION,
            g->name);
  sb_printf(&h, "#ifndef %s_FLOAT_H\n#define %s_FLOAT_H\n\n", M, M);
  sb_printf(&h, "#define %s_FLOAT_INPUT_SIZE %lld /* %s */\n", M, (long long)numel(&e, in), g->values[in].name);
  sb_printf(&h, "#define %s_FLOAT_OUTPUT_SIZE %lld /* %s */\n", M, (long long)numel(&e, out), g->values[out].name);
  sb_printf(&h, "#define %s_FLOAT_SCRATCH_SIZE %lld /* floats of intermediate values */\n\n", M,
            (long long)e.scratch);
  sb_printf(&h, "void %s_float_run(const float *input, float *output, float *scratch);\n\n#endif\n", e.m);

  StrBuf gold = {0}, test = {0};
  emit_golden(&e, &gold, ref, golden, ngolden);
  emit_test(&e, &test);
  write_into(outdir, xformat("%s_float.h", e.m), &h);
  write_into(outdir, xformat("%s_float.c", e.m), &c);
  write_into(outdir, xformat("%s_float_golden.c", e.m), &gold);
  write_into(outdir, xformat("%s_float_test.c", e.m), &test);
  printf("%s -> %s/%s_float.c (float32, %d nodes, scratch %lld floats, %d goldens)\n", g->source, outdir, e.m,
         g->nnodes, (long long)e.scratch, ngolden);
}
