/* sensitivity.c — which layer costs accuracy, measured rather than guessed from
 * SQNR: mixed float/integer execution of the program's own (batchnorm-folded)
 * graph, one layer switched at a time.
 *
 *   only layer k in integer: the float graph runs node by node; where it reaches
 *     the node producing layer k's output, the layer's float inputs are quantized
 *     with their QParams, the runtime kernel runs (int_run_layer, the interpreter's
 *     own dispatch), and its output codes are dequantized into the float buffer;
 *   only layer k in float: the integer program runs; layer k's input codes are
 *     dequantized, the float nodes it implements (its node and a fused activation)
 *     run, and the result is quantized with the output's QParam.
 *
 * Top-1 of each variant against the labels gives the cost of quantizing that one
 * layer (float top-1 minus "only k integer") and what keeping it in float would
 * win back ("only k float" minus integer top-1). */
#include "shiftc.h"

#include <stdlib.h>
#include <string.h>

static void dequantize(const QParam *q, const int8_t *c, float *x, int64_t n) {
  if (q->bits == QPARAM_ID_BITS) { /* int32 ids back to the floats the float graph reads */
    for (int64_t i = 0; i < n; i++) {
      int32_t id;
      memcpy(&id, c + i * (int64_t)sizeof id, sizeof id);
      x[i] = (float)id;
    }
    return;
  }
  float sc = (float)q->scale; /* as `run --int` dequantizes outputs */
  for (int64_t i = 0; i < n; i++) x[i] = (float)c[i] * sc;
}

static int64_t numel(const Graph *g, int v) { return shape_numel(&g->values[v].shape); }

/* The float nodes layer k implements, in order: its node and, when an activation
 * was fused, the chain up to the node producing its output. Returns how many, or
 * 0 when they cannot be run from the layer's inputs alone (then "only k in float"
 * is not measurable). */
static int layer_nodes(const IntProgram *p, int k, int *nodes, int max) {
  const Graph *g = p->g;
  const ILayer *l = &p->layers[k];
  int n = 0;
  for (int i = g->values[l->out].producer; i >= 0; i = g->nodes[i].ninputs ? g->values[g->nodes[i].inputs[0]].producer : -1) {
    if (n == max) return 0;
    nodes[n++] = i;
    if (i == l->node) break;
    if (i < l->node) return 0;
  }
  if (n == 0 || nodes[n - 1] != l->node) return 0;
  for (int a = 0, b = n - 1; a < b; a++, b--) {
    int t = nodes[a];
    nodes[a] = nodes[b];
    nodes[b] = t;
  }
  /* Every input must be a constant, one of the layer's inputs, or made inside the chain. */
  for (int i = 0; i < n; i++) {
    const Node *nd = &g->nodes[nodes[i]];
    for (int j = 0; j < nd->ninputs; j++) {
      int v = nd->inputs[j];
      if (v < 0 || g->values[v].is_const) continue;
      bool ok = false;
      for (int m = 0; m < l->nin && !ok; m++) ok = l->in[m] == v;
      for (int m = 0; m < i && !ok; m++) ok = g->nodes[nodes[m]].output == v;
      if (!ok) return 0;
    }
  }
  return n;
}

/* Quantizes the (non-constant) inputs of layer k from float buffers into its codes. */
static void quantize_layer_inputs(const IntProgram *p, int k, FloatRun *fr, IntRun *ir) {
  const Graph *g = p->g;
  const ILayer *l = &p->layers[k];
  for (int i = 0; i < l->nin; i++) {
    int v = l->in[i];
    if (!g->values[v].is_const) quantize_values(g->values[v].q, fr->buf[v], ir->buf[v], numel(g, v));
  }
}

/* Top-1 correct with only layer k in integer. */
static int only_int(const IntProgram *p, int k, const Samples *s, int n, const int64_t *labels, FloatRun *fr,
                    IntRun *ir) {
  const Graph *g = p->g;
  const ILayer *l = &p->layers[k];
  int at = g->values[l->out].producer, out = g->outputs[0], correct = 0;
  for (int i = 0; i < n; i++) {
    memcpy(fr->buf[g->inputs[0]], s->data + (size_t)i * (size_t)s->per_sample, sizeof(float) * (size_t)s->per_sample);
    for (int j = 0; j < g->nnodes; j++) {
      op_table[g->nodes[j].op].eval_float(g, &g->nodes[j], fr->buf);
      if (j != at) continue;
      quantize_layer_inputs(p, k, fr, ir);
      int_run_layer(ir, k);
      dequantize(g->values[l->out].q, ir->buf[l->out], fr->buf[l->out], numel(g, l->out));
    }
    correct += argmax_f(fr->buf[out], numel(g, out)) == labels[i];
  }
  return correct;
}

/* Top-1 correct with only layer k in float, or -1 when not measurable. */
static int only_float(const IntProgram *p, int k, const Samples *s, int n, const int64_t *labels, FloatRun *fr,
                      IntRun *ir) {
  const Graph *g = p->g;
  const ILayer *l = &p->layers[k];
  int nodes[8];
  int nn = layer_nodes(p, k, nodes, 8);
  if (nn == 0) return -1;
  int in = g->inputs[0], out = g->outputs[0], correct = 0;
  for (int i = 0; i < n; i++) {
    quantize_values(g->values[in].q, s->data + (size_t)i * (size_t)s->per_sample, ir->buf[in], s->per_sample);
    for (int j = 0; j < k; j++) int_run_layer(ir, j);
    for (int m = 0; m < l->nin; m++) {
      int v = l->in[m];
      if (!g->values[v].is_const) dequantize(g->values[v].q, ir->buf[v], fr->buf[v], numel(g, v));
    }
    for (int j = 0; j < nn; j++) op_table[g->nodes[nodes[j]].op].eval_float(g, &g->nodes[nodes[j]], fr->buf);
    quantize_values(g->values[l->out].q, fr->buf[l->out], ir->buf[l->out], numel(g, l->out));
    for (int j = k + 1; j < p->nlayers; j++) int_run_layer(ir, j);
    correct += argmax_q(ir->buf[out], numel(g, out)) == labels[i];
  }
  return correct;
}

static const Sensitivity *sort_by;

/* Largest cost first, then largest gain, then layer order. */
static int cmp_rank(const void *a, const void *b) {
  int x = *(const int *)a, y = *(const int *)b;
  const Sensitivity *s = sort_by;
  int cx = s->float_correct - s->int_only[x], cy = s->float_correct - s->int_only[y];
  if (cx != cy) return cy - cx;
  if (s->float_only[x] != s->float_only[y]) return s->float_only[y] - s->float_only[x];
  return x - y;
}

Sensitivity *measure_sensitivity(const IntProgram *p, const Samples *s, int n, const int64_t *labels) {
  const Graph *g = p->g;
  if (g->ninputs != 1 || g->noutputs != 1)
    internal_error("measure_sensitivity: the model must have one input and one output");
  Sensitivity *r = xcalloc(1, sizeof(Sensitivity));
  r->nlayers = p->nlayers;
  r->samples = n;
  r->int_only = xcalloc((size_t)p->nlayers + 1, sizeof(int));
  r->float_only = xcalloc((size_t)p->nlayers + 1, sizeof(int));
  r->rank = xcalloc((size_t)p->nlayers + 1, sizeof(int));
  FloatRun *fr = float_run_new(g);
  IntRun *ir = int_run_new(p);
  r->float_correct = float_top1(g, s, n, labels);
  int in = g->inputs[0], out = g->outputs[0];
  for (int i = 0; i < n; i++) {
    quantize_values(g->values[in].q, s->data + (size_t)i * (size_t)s->per_sample, ir->buf[in], s->per_sample);
    for (int k = 0; k < p->nlayers; k++) int_run_layer(ir, k);
    r->int_correct += argmax_q(ir->buf[out], numel(g, out)) == labels[i];
  }
  for (int k = 0; k < p->nlayers; k++) {
    r->int_only[k] = only_int(p, k, s, n, labels, fr, ir);
    r->float_only[k] = only_float(p, k, s, n, labels, fr, ir);
    r->rank[k] = k;
  }
  sort_by = r;
  qsort(r->rank, (size_t)p->nlayers, sizeof(int), cmp_rank);
  sort_by = NULL;
  float_run_free(fr);
  int_run_free(ir);
  return r;
}
