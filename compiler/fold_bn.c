/* fold_bn.c — folds inference batchnorm into the conv2d or linear that feeds it:
 *   W'[c] = W[c] * gamma[c] / sigma[c],   b'[c] = (b[c] - mu[c]) * gamma[c] / sigma[c] + beta[c]
 * with sigma = sqrt(var + eps). The conv then produces the batchnorm's output value,
 * so every later stage (calibration, quantization, reports) sees one layer. The
 * batchnorm is kept per channel on the node (FoldedBN: the unfolded weights, gamma/sigma,
 * the pre-bias and beta), so that quantization can keep gamma apart for a channel
 * whose folded bias does not fit (algorithms.md §4). */
#include "shiftc.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Number of nodes reading value v. */
static int consumers(const Graph *g, int v) {
  int n = 0;
  for (int i = 0; i < g->nnodes; i++)
    for (int k = 0; k < g->nodes[i].ninputs; k++) n += g->nodes[i].inputs[k] == v;
  for (int k = 0; k < g->noutputs; k++) n += g->outputs[k] == v;
  return n;
}

static bool all_const(const Graph *g, const Node *n, int from, int to) {
  for (int k = from; k <= to; k++)
    if (n->inputs[k] < 0 || !g->values[n->inputs[k]].is_const) return false;
  return true;
}

static void fold_one(Graph *g, int conv_i, int bn_i) {
  Node *conv = &g->nodes[conv_i];
  const Node *bn = &g->nodes[bn_i];
  const Value *w = &g->values[conv->inputs[1]];
  int64_t oc = w->shape.d[0], per = shape_numel(&w->shape) / oc;
  const float *gamma = g->values[bn->inputs[1]].data, *beta = g->values[bn->inputs[2]].data;
  const float *mu = g->values[bn->inputs[3]].data, *var = g->values[bn->inputs[4]].data;
  double eps = node_attr_float(bn, "eps");
  const float *b = conv->inputs[2] >= 0 ? g->values[conv->inputs[2]].data : NULL;

  Tensor tw = {0}, tb = {0};
  tw.dtype = tb.dtype = DT_F32;
  tw.shape = w->shape;
  tb.shape = shape_make(1, &oc);
  tw.f = xmalloc(sizeof(float) * (size_t)(oc * per));
  tb.f = xmalloc(sizeof(float) * (size_t)oc);
  FoldedBN *bn_kept = xcalloc(1, sizeof(FoldedBN));
  bn_kept->weight = conv->inputs[1];
  bn_kept->k = xmalloc(sizeof(double) * (size_t)oc);
  bn_kept->pre_bias = xmalloc(sizeof(double) * (size_t)oc);
  bn_kept->beta = xmalloc(sizeof(double) * (size_t)oc);
  for (int64_t c = 0; c < oc; c++) {
    double k = gamma[c] / sqrt((double)var[c] + eps);
    for (int64_t j = 0; j < per; j++) tw.f[c * per + j] = (float)(w->data[c * per + j] * k);
    tb.f[c] = (float)(((b ? b[c] : 0.0) - mu[c]) * k + beta[c]);
    bn_kept->k[c] = k;
    bn_kept->pre_bias[c] = (b ? b[c] : 0.0) - mu[c];
    bn_kept->beta[c] = beta[c];
  }
  SrcLoc loc = conv->loc;
  char *wname = xformat("%s.weight_folded", conv->name), *bname = xformat("%s.bias_folded", conv->name);
  int wv = graph_add_const(g, wname, &tw, loc), bv = graph_add_const(g, bname, &tb, loc);
  conv = &g->nodes[conv_i]; /* graph_add_const may move values, not nodes; refetch for clarity */
  conv->inputs[1] = wv;
  conv->inputs[2] = bv;
  conv->ninputs = 3;
  g->values[conv->output].producer = -1; /* the conv's own output value is now unused */
  conv->output = bn->output;
  g->values[bn->output].producer = conv_i;
  conv->folded = xformat("batchnorm %s", bn->name);
  conv->bn = bn_kept;
}

void fold_batchnorm(Graph *g) {
  for (int i = 0; i < g->nnodes; i++) {
    Node *bn = &g->nodes[i];
    if (bn->op != OP_BATCHNORM) continue;
    int src = g->values[bn->inputs[0]].producer;
    if (src < 0) continue;
    Node *conv = &g->nodes[src];
    if ((conv->op != OP_CONV2D && conv->op != OP_CONV_TRANSPOSE2D && conv->op != OP_LINEAR) ||
        !all_const(g, bn, 1, 4) ||
        !all_const(g, conv, 1, 1) || (conv->inputs[2] >= 0 && !g->values[conv->inputs[2]].is_const) ||
        consumers(g, bn->inputs[0]) != 1)
      continue;
    /* batchnorm normalizes axis 1: for linear that is the output feature only on [N, F]. */
    if (conv->op == OP_LINEAR && g->values[bn->inputs[0]].shape.rank != 2) continue;
    fold_one(g, src, i);
    memmove(&g->nodes[i], &g->nodes[i + 1], sizeof(Node) * (size_t)(g->nnodes - i - 1));
    g->nnodes--;
    for (int v = 0; v < g->nvalues; v++)
      if (g->values[v].producer > i) g->values[v].producer--;
    i--;
  }
}
