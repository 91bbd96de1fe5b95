/* report.c — what the compiler did, per layer, for people (<model>.report.md) and
 * for machines (<model>.report.json, from which report_html.c draws <model>.report.html):
 * op, shapes, bits, scales, shifts and multipliers, output clamps, bias and shift
 * clamps and every legalization note (verbatim), MACs, bytes and SQNR against the
 * float graph; the calibration thresholds of every method with a 128-bin histogram;
 * the memory plan (interfaces.md §4). Both files carry the same numbers.
 *
 * Deterministic: the same program gives byte-identical files (no timestamps, no
 * pointers, fixed float formats). JSON numbers are the shortest of %.15g/%.16g/%.17g
 * that reads back as the same double, so a parser recovers every value exactly;
 * NaN and infinities, which JSON cannot hold, are null (the SQNR also has a text
 * form: "n/a", "inf", "-inf"). Nothing is re-derived: the numbers are the ones the
 * passes stored, and the legalization notes are listed as the passes wrote them. */
#include "shiftc.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define HIST_GROUP 16 /* calibration bins summed into one report bin */
#define REPORT_BINS (CALIB_BINS / HIST_GROUP)

static const char *const kernel_names[] = {
    [IL_CONV2D] = "conv2d",       [IL_LINEAR] = "linear",   [IL_MAXPOOL2D] = "maxpool2d",
    [IL_AVGPOOL2D] = "avgpool2d", [IL_ADD] = "add",         [IL_SUB] = "sub",
    [IL_MUL] = "mul",             [IL_LUT] = "lut",         [IL_TRANSPOSE] = "transpose",
    [IL_CONCAT] = "concat",       [IL_MATMUL] = "matmul",   [IL_IGELU] = "i-gelu",
    [IL_SOFTMAX] = "i-softmax",   [IL_MATMUL_SOFTMAX] = "matmul+i-softmax", [IL_LAYERNORM] = "layernorm",
    [IL_EMBEDDING] = "embedding", [IL_SLICE] = "slice", [IL_REDUCEMEAN] = "reducemean", [IL_RESIZE] = "resize",
    [IL_CONV_TRANSPOSE2D] = "conv_transpose2d",
};

static const char *const method_keys[4] = {"max", "percentile", "mse", "entropy"};

/* ------------------------------------------------------------ facts per layer */

const char *il_kernel_name(const ILayer *l) {
  if ((int)l->kind < 0 || (size_t)l->kind >= sizeof kernel_names / sizeof kernel_names[0] || !kernel_names[l->kind])
    internal_error("report: layer %s has unknown kind %d", l->name, (int)l->kind);
  return kernel_names[l->kind];
}

static const char *op_name(const IntProgram *p, const ILayer *l) {
  return op_table[p->g->nodes[l->node].op].name;
}

/* The requantization the kernel applies, or NULL where it applies none (max
 * pooling, tables, transposes, a concat whose inputs share the output's scale). */
static const sc_requant *layer_rq(const ILayer *l) {
  switch (l->kind) {
  case IL_CONV2D:
  case IL_CONV_TRANSPOSE2D: return &l->p.conv.rq;
  case IL_LINEAR: return &l->p.lin.rq;
  case IL_AVGPOOL2D: return &l->p.pool.rq;
  case IL_ADD:
  case IL_SUB:
  case IL_MUL: return &l->p.elt.out;
  case IL_MATMUL: return &l->p.mm.rq;
  case IL_IGELU: return &l->p.gelu.rq;
  case IL_REDUCEMEAN: return &l->p.red.rq;
  case IL_CONCAT: return l->p.cat.rq ? &l->cat_rq[0] : NULL;
  default: return NULL;
  }
}

static int64_t weight_bytes(const ILayer *l) { return l->weight ? l->weight_bytes : 0; }

static int bias_count(const ILayer *l) { return l->bias ? l->nch : 0; }

static int64_t bias_bytes(const IntProgram *p, const ILayer *l) {
  (void)p;
  return (int64_t)bias_count(l) * (l->bias_bits == 16 ? 2 : 4);
}

/* Notes the passes wrote when they clamped a bias or a shift ("...; clamped"). */
static int count_notes(const ILayer *l, bool bias) {
  int n = 0;
  for (int i = 0; i < l->nnotes; i++) {
    const char *t = l->notes[i].text;
    if (strstr(t, "clamped") && (strstr(t, "bias") != NULL) == bias) n++;
  }
  return n;
}

typedef struct Range {
  int64_t lo, hi;
  bool any;
} Range;

static void range_add(Range *r, int64_t v) {
  if (!r->any || v < r->lo) r->lo = v;
  if (!r->any || v > r->hi) r->hi = v;
  r->any = true;
}

static Range shift_range(const ILayer *l) {
  Range r = {0, 0, false};
  for (int c = 0; l->shift && c < l->nch; c++) range_add(&r, l->shift[c]);
  return r;
}

static Range mult_range(const ILayer *l) {
  Range r = {0, 0, false};
  for (int c = 0; l->mult && c < l->nch; c++) range_add(&r, l->mult[c]);
  return r;
}

static Range bias_range(const ILayer *l) {
  Range r = {0, 0, false};
  for (int c = 0; c < bias_count(l); c++) range_add(&r, l->bias[c]);
  return r;
}

static bool shift_mode(const IntProgram *p) { return p->cfg->requantize == REQ_SHIFT; }

/* e with s == 2^e exactly, or false. */
static bool exact_pow2(double s, int *e) {
  if (!(s > 0) || isinf(s)) return false;
  int k;
  double f = frexp(s, &k);
  if (f != 0.5) return false;
  *e = k - 1;
  return true;
}

/* The worst (lowest) SQNR layer, or -1 when no layer has a measurement. */
static int worst_layer(const IntProgram *p, const Measurement *m) {
  int worst = -1;
  for (int k = 0; k < p->nlayers && k < m->nlayers; k++)
    if (!isnan(m->sqnr_db[k]) && (worst < 0 || m->sqnr_db[k] < m->sqnr_db[worst])) worst = k;
  return worst;
}

static double sqnr_of(const Measurement *m, int k) { return k < m->nlayers ? m->sqnr_db[k] : NAN; }

/* "31.42", "inf", "-inf" or "n/a". */
static void sqnr_text(double db, char *buf, size_t n) {
  if (isnan(db)) snprintf(buf, n, "n/a");
  else if (isinf(db)) snprintf(buf, n, db > 0 ? "inf" : "-inf");
  else snprintf(buf, n, "%.2f", db);
}

/* The value with the lowest id that shares v's QParam (maxpool, transpose, alias),
 * or -1: v's scale was decided for that value, not from v's own statistics. */
static int scale_owner(const IntProgram *p, int v) {
  const QParam *q = p->g->values[v].q;
  if (!q) return -1;
  for (int u = 0; u < v; u++)
    if (p->g->values[u].q == q) return u;
  return -1;
}

/* ------------------------------------------------------------ memory facts */

typedef struct MemTensor {
  int v;
  int first, last;
} MemTensor;

/* Every arena tensor (its own storage, placed) with the first and last layer that
 * touches it, as plan_memory recorded them; ordered by first use, then value id. */
static MemTensor *arena_tensors(const IntProgram *p, int *count) {
  int nv = p->g->nvalues;
  MemTensor *t = xcalloc((size_t)nv, sizeof(MemTensor));
  int n = 0;
  for (int i = 0; i < p->nlayers; i++)
    for (int v = 0; v < nv; v++)
      if (p->live_first && p->live_first[v] == i && p->offset[v] >= 0)
        t[n++] = (MemTensor){v, p->live_first[v], p->live_last[v]};
  *count = n;
  return t;
}

static int64_t value_bytes(const Value *v) { return shape_numel(&v->shape); /* int8 codes */ }

/* ------------------------------------------------------------ JSON writer */

#define J_MAX_DEPTH 32

typedef struct J {
  StrBuf sb;
  int depth;
  int count[J_MAX_DEPTH];
  bool compact[J_MAX_DEPTH];
} J;

static void j_escape(StrBuf *sb, const char *s) {
  sb_putc(sb, '"');
  for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
    switch (*c) {
    case '"': sb_puts(sb, "\\\""); break;
    case '\\': sb_puts(sb, "\\\\"); break;
    case '\n': sb_puts(sb, "\\n"); break;
    case '\r': sb_puts(sb, "\\r"); break;
    case '\t': sb_puts(sb, "\\t"); break;
    default:
      if (*c < 0x20 || *c == 0x7f) sb_printf(sb, "\\u%04x", *c);
      else sb_putc(sb, (char)*c);
    }
  }
  sb_putc(sb, '"');
}

/* Separator, line break and indentation before an element, then its key. */
static void j_sep(J *j, const char *key) {
  int d = j->depth;
  if (d > 0) {
    if (j->count[d]++) sb_putc(&j->sb, ',');
    if (j->compact[d]) {
      if (j->count[d] > 1) sb_putc(&j->sb, ' ');
    } else {
      sb_putc(&j->sb, '\n');
      for (int i = 0; i < d; i++) sb_puts(&j->sb, "  ");
    }
  }
  if (key) {
    j_escape(&j->sb, key);
    sb_puts(&j->sb, ": ");
  }
}

/* Opens an object ('{') or array ('['); a compact one stays on one line. */
static void j_open(J *j, const char *key, char c, bool compact) {
  j_sep(j, key);
  sb_putc(&j->sb, c);
  if (++j->depth >= J_MAX_DEPTH) internal_error("report: JSON nested too deeply");
  j->count[j->depth] = 0;
  j->compact[j->depth] = compact || j->compact[j->depth - 1];
}

static void j_close(J *j, char c) {
  int d = j->depth--;
  if (!j->compact[d] && j->count[d]) {
    sb_putc(&j->sb, '\n');
    for (int i = 0; i < d - 1; i++) sb_puts(&j->sb, "  ");
  }
  sb_putc(&j->sb, c);
}

static void j_obj(J *j, const char *key) { j_open(j, key, '{', false); }
static void j_obj_compact(J *j, const char *key) { j_open(j, key, '{', true); }
static void j_end_obj(J *j) { j_close(j, '}'); }
static void j_arr(J *j, const char *key) { j_open(j, key, '[', false); }
static void j_arr_compact(J *j, const char *key) { j_open(j, key, '[', true); }
static void j_end_arr(J *j) { j_close(j, ']'); }

static void j_str(J *j, const char *key, const char *s) {
  j_sep(j, key);
  if (s) j_escape(&j->sb, s);
  else sb_puts(&j->sb, "null");
}

static void j_int(J *j, const char *key, int64_t v) {
  j_sep(j, key);
  sb_printf(&j->sb, "%lld", (long long)v);
}

static void j_bool(J *j, const char *key, bool v) {
  j_sep(j, key);
  sb_puts(&j->sb, v ? "true" : "false");
}

static void j_null(J *j, const char *key) {
  j_sep(j, key);
  sb_puts(&j->sb, "null");
}

/* The shortest of %.15g, %.16g, %.17g that reads back as x; null if not finite. */
static void j_num(J *j, const char *key, double x) {
  j_sep(j, key);
  char buf[DOUBLE_EXACT_MAX];
  sb_puts(&j->sb, format_double_exact(x, buf));
}

static void j_shape(J *j, const char *key, const Shape *s) {
  j_arr_compact(j, key);
  for (int i = 0; i < s->rank; i++) j_int(j, NULL, s->d[i]);
  j_end_arr(j);
}

/* A value as layers see it: name, shape, bytes and quantization. */
static void j_value(J *j, const char *key, const IntProgram *p, int v) {
  const Value *val = &p->g->values[v];
  const QParam *q = val->q;
  j_obj_compact(j, key);
  j_str(j, "name", val->name);
  j_shape(j, "shape", &val->shape);
  j_int(j, "bytes", value_bytes(val));
  if (q) {
    j_int(j, "bits", q->bits);
    j_num(j, "scale", q->scale);
    if (shift_mode(p)) j_int(j, "exp", q->exp);
    else j_null(j, "exp");
  } else {
    j_null(j, "bits");
    j_null(j, "scale");
    j_null(j, "exp");
  }
  j_end_obj(j);
}

static void j_range(J *j, const char *key, Range r) {
  if (!r.any) {
    j_null(j, key);
    return;
  }
  j_arr_compact(j, key);
  j_int(j, NULL, r.lo);
  j_int(j, NULL, r.hi);
  j_end_arr(j);
}

/* ------------------------------------------------------------ JSON report */

static void json_layer(J *j, const IntProgram *p, const Measurement *m, int k) {
  const ILayer *l = &p->layers[k];
  const Graph *g = p->g;
  const Node *n = &g->nodes[l->node];
  j_obj(j, NULL);
  j_int(j, "index", k);
  j_str(j, "name", l->name);
  j_str(j, "node", n->name);
  j_int(j, "line", n->loc.line);
  j_str(j, "op", op_name(p, l));
  j_str(j, "kernel", il_kernel_name(l));
  j_str(j, "fused", l->fused);
  j_arr(j, "inputs");
  for (int i = 0; i < l->nin; i++) j_value(j, NULL, p, l->in[i]);
  j_end_arr(j);
  j_value(j, "output", p, l->out);

  if (l->weight) {
    j_obj(j, "weights");
    j_int(j, "count", l->weight_count);
    j_int(j, "bits", l->weight_bits);
    j_int(j, "bytes", weight_bytes(l));
    j_int(j, "channels", l->nch);
    double lo = INFINITY, hi = -INFINITY;
    for (int c = 0; l->w_scale && c < l->nch; c++) {
      lo = fmin(lo, l->w_scale[c]);
      hi = fmax(hi, l->w_scale[c]);
    }
    j_num(j, "scale_min", lo);
    j_num(j, "scale_max", hi);
    j_arr_compact(j, "scales");
    for (int c = 0; l->w_scale && c < l->nch; c++) j_num(j, NULL, l->w_scale[c]);
    j_end_arr(j);
    if (shift_mode(p)) {
      j_arr_compact(j, "exps");
      for (int c = 0; l->w_scale && c < l->nch; c++) {
        int e;
        if (exact_pow2(l->w_scale[c], &e)) j_int(j, NULL, e);
        else j_null(j, NULL);
      }
      j_end_arr(j);
    }
    j_end_obj(j);
  } else {
    j_null(j, "weights");
  }

  if (l->bias) {
    j_obj(j, "bias");
    j_int(j, "count", bias_count(l));
    j_int(j, "bits", l->bias_bits);
    j_int(j, "bytes", bias_bytes(p, l));
    j_range(j, "range", bias_range(l));
    j_int(j, "clamped", count_notes(l, true));
    j_arr_compact(j, "codes");
    for (int c = 0; c < bias_count(l); c++) j_int(j, NULL, l->bias[c]);
    j_end_arr(j);
    if (l->out_add) {
      j_arr_compact(j, "out_add");
      for (int c = 0; c < l->nch; c++) j_int(j, NULL, l->out_add[c]);
      j_end_arr(j);
    } else {
      j_null(j, "out_add");
    }
    if (l->bias_lshift) {
      j_arr_compact(j, "bias_lshift");
      for (int c = 0; c < l->nch; c++) j_int(j, NULL, l->bias_lshift[c]);
      j_end_arr(j);
    } else {
      j_null(j, "bias_lshift");
    }
    j_end_obj(j);
  } else {
    j_null(j, "bias");
  }

  const sc_requant *rq = layer_rq(l);
  if (rq) {
    j_obj(j, "requant");
    j_str(j, "mode", l->mult ? "dyadic" : "shift");
    j_int(j, "channels", l->nch);
    j_bool(j, "per_channel", rq->per_channel != 0 || l->kind == IL_CONCAT);
    j_range(j, "shift_range", shift_range(l));
    j_arr_compact(j, "shifts");
    for (int c = 0; c < l->nch; c++) j_int(j, NULL, l->shift[c]);
    j_end_arr(j);
    j_range(j, "multiplier_range", mult_range(l));
    if (l->mult) {
      j_arr_compact(j, "multipliers");
      for (int c = 0; c < l->nch; c++) j_int(j, NULL, l->mult[c]);
      j_end_arr(j);
    } else {
      j_null(j, "multipliers");
    }
    j_arr_compact(j, "clamp");
    j_int(j, NULL, rq->lo);
    j_int(j, NULL, rq->hi);
    j_end_arr(j);
    j_int(j, "k_chunk", rq->k_chunk);
    j_int(j, "pre_shift", rq->pre_shift);
    j_int(j, "shifts_clamped", count_notes(l, false));
    j_end_obj(j);
  } else {
    j_null(j, "requant");
  }

  if (l->kind == IL_ADD || l->kind == IL_SUB) {
    const sc_operand_scale *ops[2] = {&l->p.elt.a, &l->p.elt.b};
    j_arr(j, "operands");
    for (int i = 0; i < 2; i++) {
      j_obj_compact(j, NULL);
      j_str(j, "name", g->values[l->in[i]].name);
      j_int(j, "lshift", ops[i]->lshift);
      j_int(j, "multiplier", ops[i]->mult);
      j_int(j, "shift", ops[i]->shift);
      j_end_obj(j);
    }
    j_end_arr(j);
  }
  if (l->kind == IL_LUT) {
    j_arr_compact(j, "lut");
    for (int c = 0; c < 256; c++) j_int(j, NULL, l->lut[c]);
    j_end_arr(j);
  }

  /* Every channel the bias out-of-bounds handling touched (algorithms.md §4). */
  j_str(j, "bias_fix_mode", bias_fix_name(p->cfg->bias_fix));
  j_arr(j, "bias_fixes");
  for (int i = 0; i < l->nfixes; i++) {
    const BiasFix *f = &l->fixes[i];
    j_obj_compact(j, NULL);
    j_int(j, "channel", f->channel);
    j_num(j, "bias_codes_needed", f->bias_codes);
    j_int(j, "naive_shift", f->shift);
    j_str(j, "fix", f->fix);
    j_int(j, "out_add", f->out_add);
    j_int(j, "bias_lshift", f->bias_lshift);
    j_num(j, "bias_error_lsb", f->bias_err_lsb);
    j_num(j, "weight_sqnr_db", f->w_sqnr_db);
    j_num(j, "weight_sqnr_naive_db", f->w_sqnr_naive_db);
    j_end_obj(j);
  }
  j_end_arr(j);
  j_int(j, "macs", l->macs);
  double db = sqnr_of(m, k);
  char sq[32];
  sqnr_text(db, sq, sizeof sq);
  j_num(j, "sqnr_db", db);
  j_str(j, "sqnr", sq);
  j_arr(j, "notes");
  for (int i = 0; i < l->nnotes; i++) j_str(j, NULL, l->notes[i].text);
  j_end_arr(j);
  j_end_obj(j);
}

/* Values with calibration statistics that the program reads or writes. */
static bool *calibrated_values(const IntProgram *p) {
  const Graph *g = p->g;
  bool *use = xcalloc((size_t)g->nvalues, sizeof(bool));
  for (int i = 0; i < g->ninputs; i++) use[g->inputs[i]] = true;
  for (int k = 0; k < p->nlayers; k++) {
    use[p->layers[k].out] = true;
    for (int i = 0; i < p->layers[k].nin; i++) use[p->layers[k].in[i]] = true;
  }
  for (int v = 0; v < g->nvalues; v++)
    if (!p->stats || !p->stats[v]) use[v] = false;
  return use;
}

static void json_calibration(J *j, const IntProgram *p) {
  const Graph *g = p->g;
  const Config *cfg = p->cfg;
  j_obj(j, "calibration");
  j_str(j, "method", calib_method_name(cfg->calib_method));
  j_num(j, "percentile", cfg->percentile);
  j_int(j, "samples", p->calib_samples);
  j_arr(j, "values");
  bool *use = calibrated_values(p);
  for (int v = 0; v < g->nvalues; v++) {
    if (!use[v]) continue;
    const CalibStats *st = p->stats[v];
    const QParam *q = g->values[v].q;
    j_obj(j, NULL);
    j_str(j, "name", g->values[v].name);
    j_int(j, "count", st->count);
    j_num(j, "absmax", st->absmax);
    j_obj_compact(j, "thresholds");
    for (int c = 0; c < 4; c++) j_num(j, method_keys[c], st->amax[c]);
    j_end_obj(j);
    j_str(j, "used", calib_method_name(cfg->calib_method));
    if (q) {
      int owner = scale_owner(p, v);
      j_num(j, "amax", q->amax);
      j_int(j, "bits", q->bits);
      j_num(j, "scale", q->scale);
      if (shift_mode(p)) j_int(j, "exp", q->exp);
      else j_null(j, "exp");
      j_bool(j, "from_annotation", q->from_annot);
      j_str(j, "shares_scale_with", owner >= 0 ? g->values[owner].name : NULL);
    } else {
      j_null(j, "amax");
      j_null(j, "bits");
      j_null(j, "scale");
      j_null(j, "exp");
      j_bool(j, "from_annotation", false);
      j_null(j, "shares_scale_with");
    }
    j_obj(j, "histogram");
    j_int(j, "bins", REPORT_BINS);
    j_num(j, "bin_width", st->bin_width * HIST_GROUP);
    j_arr_compact(j, "counts");
    for (int b = 0; b < REPORT_BINS; b++) {
      double s = 0;
      for (int i = 0; i < HIST_GROUP; i++) s += st->hist[b * HIST_GROUP + i];
      j_num(j, NULL, s);
    }
    j_end_arr(j);
    j_end_obj(j);
    j_end_obj(j);
  }
  free(use);
  j_end_arr(j);
  j_end_obj(j);
}

/* Bytes of arena tensors alive during each layer (what the lower bound maximizes). */
static int64_t live_at(const IntProgram *p, const MemTensor *t, int nt, int layer) {
  int64_t at = 0;
  for (int i = 0; i < nt; i++)
    if (t[i].first <= layer && layer <= t[i].last) at += value_bytes(&p->g->values[t[i].v]);
  return at;
}

static void json_memory(J *j, const IntProgram *p) {
  const Graph *g = p->g;
  int nt;
  MemTensor *t = arena_tensors(p, &nt);
  j_obj(j, "memory");
  j_int(j, "arena_bytes", p->arena_bytes);
  j_int(j, "sum_bytes", p->sum_bytes);
  j_int(j, "lower_bound", p->lower_bound);
  /* In-place ops (plan_memory.c): the bound when each in-place pair counts once, and the
   * arena over it (the planner's quality; <= 1.05 on every example). */
  j_int(j, "lower_bound_inplace", p->lower_bound_inplace);
  j_num(j, "arena_ratio", p->lower_bound_inplace ? (double)p->arena_bytes / (double)p->lower_bound_inplace : 1.0);
  j_arr(j, "tensors");
  for (int i = 0; i < nt; i++) {
    int v = t[i].v;
    j_obj_compact(j, NULL);
    j_str(j, "name", g->values[v].name);
    j_int(j, "bytes", value_bytes(&g->values[v]));
    j_int(j, "offset", p->offset[v]);
    j_int(j, "first_layer", t[i].first);
    j_int(j, "last_layer", t[i].last);
    j_arr_compact(j, "aliases");
    for (int u = 0; u < g->nvalues; u++)
      if (u != v && p->storage[u] == v) j_str(j, NULL, g->values[u].name);
    j_end_arr(j);
    if (p->in_place_of && p->in_place_of[v] >= 0) j_str(j, "in_place_of", g->values[p->in_place_of[v]].name);
    else j_null(j, "in_place_of");
    j_end_obj(j);
  }
  j_end_arr(j);
  j_arr_compact(j, "live_bytes_per_layer");
  for (int k = 0; k < p->nlayers; k++) j_int(j, NULL, live_at(p, t, nt, k));
  j_end_arr(j);
  j_end_obj(j);
  free(t);
}

typedef struct Totals {
  int64_t macs, weight_bytes, bias_bytes, biases;
  int worst;
} Totals;

static Totals totals_of(const IntProgram *p, const Measurement *m) {
  Totals t = {0, 0, 0, 0, worst_layer(p, m)};
  for (int k = 0; k < p->nlayers; k++) {
    const ILayer *l = &p->layers[k];
    t.macs += l->macs;
    t.weight_bytes += weight_bytes(l);
    t.bias_bytes += bias_bytes(p, l);
    t.biases += bias_count(l);
  }
  return t;
}

char *report_json(const IntProgram *p, const Measurement *m) {
  const Graph *g = p->g;
  const Config *cfg = p->cfg;
  J j;
  memset(&j, 0, sizeof j);
  j_obj(&j, NULL);
  j_str(&j, "schema", "shiftc-report/1");
  j_str(&j, "shiftc_version", SHIFTC_VERSION);
  j_str(&j, "model", g->name);
  j_str(&j, "source", g->source);
  j_obj(&j, "config");
  j_str(&j, "target", cfg->target);
  j_str(&j, "requantize", requant_mode_name(cfg->requantize));
  j_int(&j, "weight_bits", cfg->weight_bits);
  j_str(&j, "weight_granularity", cfg->granularity == GRAN_PER_TENSOR ? "per-tensor" : "per-channel");
  j_int(&j, "activation_bits", cfg->act_bits);
  j_int(&j, "bias_bits", cfg->bias_bits);
  j_str(&j, "bias_fix", bias_fix_name(cfg->bias_fix));
  j_str(&j, "calibration_method", calib_method_name(cfg->calib_method));
  j_num(&j, "percentile", cfg->percentile);
  j_int(&j, "calibration_samples", p->calib_samples);
  j_end_obj(&j);
  j_obj(&j, "measurement");
  j_int(&j, "samples", m->samples);
  j_int(&j, "top1_agree", m->agree);
  j_end_obj(&j);
  j_arr(&j, "inputs");
  for (int i = 0; i < g->ninputs; i++) j_value(&j, NULL, p, g->inputs[i]);
  j_end_arr(&j);
  j_arr(&j, "outputs");
  for (int i = 0; i < g->noutputs; i++) j_value(&j, NULL, p, g->outputs[i]);
  j_end_arr(&j);
  j_arr(&j, "layers");
  for (int k = 0; k < p->nlayers; k++) json_layer(&j, p, m, k);
  j_end_arr(&j);
  json_calibration(&j, p);
  json_memory(&j, p);
  Totals t = totals_of(p, m);
  j_obj(&j, "totals");
  j_int(&j, "layers", p->nlayers);
  j_int(&j, "macs", t.macs);
  j_int(&j, "weight_bytes", t.weight_bytes);
  j_int(&j, "biases", t.biases);
  j_int(&j, "bias_bytes", t.bias_bytes);
  if (t.worst >= 0) {
    j_obj_compact(&j, "worst_sqnr");
    j_int(&j, "layer", t.worst);
    j_str(&j, "name", p->layers[t.worst].name);
    j_num(&j, "sqnr_db", m->sqnr_db[t.worst]);
    char sq[32];
    sqnr_text(m->sqnr_db[t.worst], sq, sizeof sq);
    j_str(&j, "sqnr", sq);
    j_end_obj(&j);
  } else {
    j_null(&j, "worst_sqnr");
  }
  j_end_obj(&j);
  j_end_obj(&j);
  sb_putc(&j.sb, '\n');
  return j.sb.data;
}

/* ------------------------------------------------------------ Markdown report */

/* Text for a table cell: '|' escaped, line breaks as spaces. */
static void md_cell(StrBuf *sb, const char *s) {
  for (; *s; s++) {
    if (*s == '|') sb_puts(sb, "\\|");
    else if (*s == '\n' || *s == '\r') sb_putc(sb, ' ');
    else sb_putc(sb, *s);
  }
}

/* "0.0625 (2^-4)" in shift mode, "0.00787402" otherwise. */
static void md_scale(StrBuf *sb, const IntProgram *p, double s) {
  int e;
  sb_printf(sb, "%.6g", s);
  if (shift_mode(p) && exact_pow2(s, &e)) sb_printf(sb, " (2^%d)", e);
}

static void md_range(StrBuf *sb, Range r) {
  if (!r.any) sb_puts(sb, "-");
  else if (r.lo == r.hi) sb_printf(sb, "%lld", (long long)r.lo);
  else sb_printf(sb, "%lld..%lld", (long long)r.lo, (long long)r.hi);
}

static void md_value(StrBuf *sb, const IntProgram *p, int v) {
  const Value *val = &p->g->values[v];
  char shape[SHAPE_STR_MAX];
  sb_printf(sb, "`%s` %s", val->name, shape_str(&val->shape, shape));
  if (val->q) {
    sb_puts(sb, ", scale ");
    md_scale(sb, p, val->q->scale);
    sb_printf(sb, ", %d bits", val->q->bits);
  }
}

static void md_op(StrBuf *sb, const IntProgram *p, const ILayer *l) {
  const char *op = op_name(p, l), *kernel = il_kernel_name(l);
  md_cell(sb, op);
  if (strcmp(op, kernel) != 0) sb_printf(sb, " (as %s)", kernel);
  if (l->fused) {
    sb_puts(sb, " + ");
    md_cell(sb, l->fused);
  }
}

static void md_summary_row(StrBuf *sb, const IntProgram *p, const Measurement *m, int k) {
  const ILayer *l = &p->layers[k];
  const Graph *g = p->g;
  char shape[SHAPE_STR_MAX], sq[32];
  sb_printf(sb, "| %d | ", k);
  md_cell(sb, l->name);
  sb_puts(sb, " | ");
  md_op(sb, p, l);
  sb_puts(sb, " | ");
  for (int i = 0; i < l->nin; i++) sb_printf(sb, "%s%s", i ? ", " : "", shape_str(&g->values[l->in[i]].shape, shape));
  sb_printf(sb, " -> %s | ", shape_str(&g->values[l->out].shape, shape));
  if (l->weight) sb_printf(sb, "%d", l->weight_bits);
  else sb_puts(sb, "-");
  const QParam *qo = g->values[l->out].q;
  if (qo) sb_printf(sb, "/%d | ", qo->bits);
  else sb_puts(sb, "/- | ");
  if (layer_rq(l)) md_range(sb, shift_range(l));
  else sb_puts(sb, "-");
  sqnr_text(sqnr_of(m, k), sq, sizeof sq);
  sb_printf(sb, " | %lld | %lld | %s |\n", (long long)l->macs, (long long)weight_bytes(l), sq);
}

static void md_layer_details(StrBuf *sb, const IntProgram *p, const Measurement *m, int k) {
  const ILayer *l = &p->layers[k];
  const Graph *g = p->g;
  const Node *n = &g->nodes[l->node];
  char sq[32];
  sb_printf(sb, "### %d. %s — ", k, l->name);
  md_op(sb, p, l);
  sb_printf(sb, "\n\n- node `%s` (line %d)\n", n->name, n->loc.line);
  for (int i = 0; i < l->nin; i++) {
    sb_puts(sb, l->nin > 1 ? "- input " : "- input: ");
    if (l->nin > 1) sb_printf(sb, "%d: ", i);
    md_value(sb, p, l->in[i]);
    sb_putc(sb, '\n');
  }
  sb_puts(sb, "- output: ");
  md_value(sb, p, l->out);
  sb_putc(sb, '\n');
  if (l->weight) {
    Range er = {0, 0, false};
    double lo = INFINITY, hi = -INFINITY;
    bool all_pow2 = true;
    for (int c = 0; l->w_scale && c < l->nch; c++) {
      int e;
      lo = fmin(lo, l->w_scale[c]);
      hi = fmax(hi, l->w_scale[c]);
      if (exact_pow2(l->w_scale[c], &e)) range_add(&er, e);
      else all_pow2 = false;
    }
    sb_printf(sb, "- weights: %lld codes of %d bits = %lld bytes; ", (long long)l->weight_count, l->weight_bits,
              (long long)weight_bytes(l));
    if (lo == hi) sb_printf(sb, "scale %.6g for all %d channel%s", lo, l->nch, l->nch == 1 ? "" : "s");
    else sb_printf(sb, "%d channel scales %.6g..%.6g", l->nch, lo, hi);
    if (shift_mode(p) && all_pow2 && er.any) {
      if (er.lo == er.hi) sb_printf(sb, " (2^%lld)", (long long)er.lo);
      else sb_printf(sb, " (2^%lld..2^%lld)", (long long)er.lo, (long long)er.hi);
    }
    sb_putc(sb, '\n');
  }
  if (l->bias) {
    Range br = bias_range(l);
    sb_printf(sb, "- bias: %d x int%d (%lld bytes), codes %lld..%lld, %d clamped\n", bias_count(l),
              p->cfg->bias_bits, (long long)bias_bytes(p, l), (long long)br.lo, (long long)br.hi,
              count_notes(l, true));
  }
  const sc_requant *rq = layer_rq(l);
  if (rq) {
    sb_puts(sb, "- requantization: shift ");
    md_range(sb, shift_range(l));
    if (l->mult) {
      sb_puts(sb, ", multiplier M0 ");
      md_range(sb, mult_range(l));
    }
    sb_printf(sb, "; output clamp [%d, %d]", (int)rq->lo, (int)rq->hi);
    if (rq->k_chunk)
      sb_printf(sb, "; reduction split into chunks of %d, partials pre-shifted by %d", (int)rq->k_chunk,
                rq->pre_shift);
    int sc = count_notes(l, false);
    if (sc) sb_printf(sb, "; %d shift%s clamped", sc, sc == 1 ? "" : "s");
    sb_putc(sb, '\n');
  } else if (l->kind == IL_LUT) {
    sb_puts(sb, "- requantization: none; a 256-entry table maps input codes to output codes\n");
  } else if (l->kind == IL_CONCAT) {
    sb_puts(sb, "- requantization: none (every input has the output's scale)\n");
  } else {
    sb_puts(sb, "- requantization: none (the output keeps the input's scale)\n");
  }
  if (l->kind == IL_ADD || l->kind == IL_SUB) {
    const sc_operand_scale *ops[2] = {&l->p.elt.a, &l->p.elt.b};
    for (int i = 0; i < 2; i++)
      sb_printf(sb, "- operand %s: << %d, multiplier %d, >> %d\n", g->values[l->in[i]].name, ops[i]->lshift,
                (int)ops[i]->mult, ops[i]->shift);
  }
  sqnr_text(sqnr_of(m, k), sq, sizeof sq);
  sb_printf(sb, "- MACs: %lld; SQNR: %s%s\n\n", (long long)l->macs, sq, isnan(sqnr_of(m, k)) ? "" : " dB");
}

static void md_calibration(StrBuf *sb, const IntProgram *p) {
  const Graph *g = p->g;
  const Config *cfg = p->cfg;
  sb_printf(sb, "## Calibration\n\nMethod **%s**", calib_method_name(cfg->calib_method));
  if (cfg->calib_method == CAL_PERCENTILE) sb_printf(sb, " (%g%%)", cfg->percentile);
  sb_printf(sb, " over %d samples. The threshold (amax) each method picks; the one used is in bold.\n\n",
            p->calib_samples);
  sb_printf(sb, "| value | absmax | max | percentile (%g) | mse | entropy | scale |\n", cfg->percentile);
  sb_puts(sb, "|---|--:|--:|--:|--:|--:|---|\n");
  bool *use = calibrated_values(p);
  for (int v = 0; v < g->nvalues; v++) {
    if (!use[v]) continue;
    const CalibStats *st = p->stats[v];
    const QParam *q = g->values[v].q;
    sb_puts(sb, "| ");
    md_cell(sb, g->values[v].name);
    sb_printf(sb, " | %.6g", st->absmax);
    for (int c = 0; c < 4; c++) {
      bool used = c == (int)cfg->calib_method;
      sb_printf(sb, " | %s%.6g%s", used ? "**" : "", st->amax[c], used ? "**" : "");
    }
    sb_puts(sb, " | ");
    if (q) {
      int owner = scale_owner(p, v);
      md_scale(sb, p, q->scale);
      if (q->from_annot) sb_puts(sb, ", from @quant");
      else if (owner >= 0) {
        sb_puts(sb, ", shared with ");
        md_cell(sb, g->values[owner].name);
      }
    } else {
      sb_puts(sb, "-");
    }
    sb_puts(sb, " |\n");
  }
  free(use);
  sb_puts(sb, "\n");
}

static void md_notes(StrBuf *sb, const IntProgram *p) {
  sb_puts(sb, "## Legalization and fixes\n\n");
  for (int k = 0; k < p->nlayers; k++) {
    const ILayer *l = &p->layers[k];
    sb_printf(sb, "- **%d. %s**", k, l->name);
    if (l->nnotes == 0) sb_puts(sb, ": nothing to note\n");
    else sb_putc(sb, '\n');
    for (int i = 0; i < l->nnotes; i++) {
      sb_puts(sb, "  - ");
      for (const char *c = l->notes[i].text; *c; c++) sb_putc(sb, *c == '\n' || *c == '\r' ? ' ' : *c);
      sb_putc(sb, '\n');
    }
  }
  sb_puts(sb, "\n");
}

/* Every channel whose bias did not fit its word or whose shift left [-31, 31], the
 * fix applied and what it costs (algorithms.md §4). */
static void md_bias_fixes(StrBuf *sb, const IntProgram *p) {
  int n = 0;
  for (int k = 0; k < p->nlayers; k++) n += p->layers[k].nfixes;
  sb_printf(sb, "## Bias out of bounds\n\nHandling: `bias_fix: %s`. ", bias_fix_name(p->cfg->bias_fix));
  if (n == 0) {
    sb_puts(sb, "Every bias fits its word and every shift is in range.\n\n");
    return;
  }
  sb_printf(sb, "%d channel%s touched. Bias error: |bias as applied - folded bias| in output LSBs; "
            "weight SQNR: the channel's effective weights against the folded float weights "
            "(naive: quantized folded, as without the fix); bias shift: the bias word's left shift into the "
            "accumulator.\n\n", n, n == 1 ? "" : "s");
  sb_puts(sb, "| # | layer | channel | bias codes needed | naive shift | fix | output addend | bias shift | "
              "bias error LSB | weight SQNR dB (naive) |\n|--:|---|--:|--:|--:|---|--:|--:|--:|---|\n");
  for (int k = 0; k < p->nlayers; k++) {
    const ILayer *l = &p->layers[k];
    for (int i = 0; i < l->nfixes; i++) {
      const BiasFix *f = &l->fixes[i];
      sb_printf(sb, "| %d | %s | %d | %.0f | %d | %s | %d | %d | %.2g | %.1f (%.1f) |\n", k, l->name, f->channel,
                f->bias_codes, f->shift, f->fix, (int)f->out_add, f->bias_lshift, f->bias_err_lsb, f->w_sqnr_db,
                f->w_sqnr_naive_db);
    }
  }
  sb_puts(sb, "\n");
}

static void md_memory(StrBuf *sb, const IntProgram *p) {
  const Graph *g = p->g;
  int nt;
  MemTensor *t = arena_tensors(p, &nt);
  sb_printf(sb, "## Memory\n\nArena: **%lld bytes** (liveness lower bound %lld; all intermediate tensors "
            "together %lld). The model's inputs and outputs live in the caller's buffers.\n\n",
            (long long)p->arena_bytes, (long long)p->lower_bound, (long long)p->sum_bytes);
  sb_printf(sb, "In place (an elementwise output written over an input that dies at that layer): lower bound "
            "**%lld bytes**, arena %.3fx it.\n\n", (long long)p->lower_bound_inplace,
            p->lower_bound_inplace ? (double)p->arena_bytes / (double)p->lower_bound_inplace : 1.0);
  if (nt > 0) {
    sb_puts(sb, "| tensor | bytes | offset | layers live | aliases | in place of |\n|---|--:|--:|---|---|---|\n");
    for (int i = 0; i < nt; i++) {
      int v = t[i].v;
      sb_puts(sb, "| ");
      md_cell(sb, g->values[v].name);
      sb_printf(sb, " | %lld | %lld | %d..%d (%s..%s) | ", (long long)value_bytes(&g->values[v]),
                (long long)p->offset[v], t[i].first, t[i].last, p->layers[t[i].first].name,
                p->layers[t[i].last].name);
      int na = 0;
      for (int u = 0; u < g->nvalues; u++)
        if (u != v && p->storage[u] == v) {
          sb_puts(sb, na++ ? ", " : "");
          md_cell(sb, g->values[u].name);
        }
      sb_puts(sb, na ? " | " : "- | ");
      if (p->in_place_of && p->in_place_of[v] >= 0) md_cell(sb, g->values[p->in_place_of[v]].name);
      else sb_puts(sb, "-");
      sb_puts(sb, " |\n");
    }
    sb_puts(sb, "\n");
  }
  free(t);
}

static char *report_md(const IntProgram *p, const Measurement *m) {
  const Graph *g = p->g;
  const Config *cfg = p->cfg;
  StrBuf sb = {0};
  sb_printf(&sb, "# %s — shiftc report\n\n", g->name);
  sb_puts(&sb, "| setting | value |\n|---|---|\n");
  sb_printf(&sb, "| model | %s |\n| source | ", g->name);
  md_cell(&sb, g->source ? g->source : "-");
  sb_puts(&sb, " |\n| target | ");
  md_cell(&sb, cfg->target);
  sb_printf(&sb, " |\n| requantize | %s |\n", requant_mode_name(cfg->requantize));
  sb_printf(&sb, "| weights | %d bits, %s |\n", cfg->weight_bits,
            cfg->granularity == GRAN_PER_TENSOR ? "per-tensor" : "per-channel");
  sb_printf(&sb, "| activations | %d bits |\n| bias | %d bits |\n", cfg->act_bits, cfg->bias_bits);
  sb_printf(&sb, "| calibration | %s", calib_method_name(cfg->calib_method));
  if (cfg->calib_method == CAL_PERCENTILE) sb_printf(&sb, " (%g%%)", cfg->percentile);
  sb_printf(&sb, ", %d samples |\n", p->calib_samples);
  sb_printf(&sb, "| SQNR measured over | %d samples (integer and float top-1 agree on %d) |\n\n", m->samples,
            m->agree);

  Totals t = totals_of(p, m);
  sb_puts(&sb, "## Layers\n\n");
  sb_puts(&sb, "| # | layer | op | in -> out | bits w/a | shifts | MACs | weight bytes | SQNR dB |\n");
  sb_puts(&sb, "|--:|---|---|---|---|---|--:|--:|--:|\n");
  for (int k = 0; k < p->nlayers; k++) md_summary_row(&sb, p, m, k);
  sb_printf(&sb, "\nTotals: %d layers, %lld MACs, %lld weight bytes, %lld bias bytes (%lld x int%d)", p->nlayers,
            (long long)t.macs, (long long)t.weight_bytes, (long long)t.bias_bytes, (long long)t.biases,
            cfg->bias_bits);
  if (t.worst >= 0) {
    char sq[32];
    sqnr_text(m->sqnr_db[t.worst], sq, sizeof sq);
    sb_printf(&sb, "; worst SQNR %s dB at layer %d (%s)", sq, t.worst, p->layers[t.worst].name);
  }
  sb_puts(&sb, ".\n\n## Layer details\n\n");
  for (int k = 0; k < p->nlayers; k++) md_layer_details(&sb, p, m, k);
  md_calibration(&sb, p);
  md_bias_fixes(&sb, p);
  md_notes(&sb, p);
  md_memory(&sb, p);
  return sb.data;
}

/* ------------------------------------------------------------ entry point */

static void write_or_die(const char *path, const char *text) {
  if (!write_file_atomic(path, text, strlen(text))) error_file(path, "cannot write the report: %s", strerror(errno));
}

void write_report(const IntProgram *p, const Measurement *m, const char *outdir) {
  char *md = report_md(p, m), *json = report_json(p, m), *html = report_html(json, NULL);
  char *md_path = xformat("%s/%s.report.md", outdir, p->g->name);
  char *json_path = xformat("%s/%s.report.json", outdir, p->g->name);
  char *html_path = xformat("%s/%s.report.html", outdir, p->g->name);
  write_or_die(md_path, md);
  write_or_die(json_path, json);
  write_or_die(html_path, html);
  free(md);
  free(json);
  free(html);
  free(md_path);
  free(json_path);
  free(html_path);
}
