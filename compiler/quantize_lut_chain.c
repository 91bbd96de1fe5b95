/* quantize_lut_chain.c — a chain of elementwise ops that is a function of one tensor
 * becomes one 256-entry table.
 *
 * Exporters write activations as several elementwise nodes: Paddle's hardswish is
 * x * clip(x + 3, 0, 6) * (1/6), swish is x * sigmoid(x * 1), and PP-LCNetV3 puts a
 * learnable affine (mul by a scalar, add a scalar) before and after each of them.
 * Quantized node by node, every intermediate is rounded to int8 at its own calibrated
 * scale, and the errors add up block after block (PP-OCRv4 rec: output SQNR below 0 dB).
 * But the whole chain is a function y = f(x) of the int8 codes of its one input x, so
 * a table over x's 256 codes computes it exactly (algorithms.md: any elementwise
 * function of one int8 tensor is a table): the only rounding left is the output's.
 *
 * A chain here: the nodes whose every non-constant input is x or another chain node's
 * output — unary table ops, and add/sub/mul/div/pow whose other operand is a
 * one-element constant or also comes from x — with x's shape (no broadcasting), at
 * least two nodes, and exactly one node (the sink) whose value anything outside the
 * chain (or the graph's outputs) reads. A relu/relu6 that is x's only consumer is left
 * out: the layer producing x clamps it (fuse_activation), as before this pass. */
#include "quantize_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static bool is_table_unary(OpKind op) {
  switch (op) {
  case OP_RELU:
  case OP_RELU6:
  case OP_GELU:
  case OP_SIGMOID:
  case OP_TANH:
  case OP_ERF:
  case OP_EXP:
  case OP_SQRT:
  case OP_ABS:
  case OP_NEG:
  case OP_HARDSWISH:
  case OP_HARDSIGMOID:
  case OP_LEAKYRELU:
  case OP_CLIP: return true;
  default: return false;
  }
}

static bool is_scalar_const(const Graph *g, int v) {
  return v >= 0 && g->values[v].is_const && g->values[v].data && shape_numel(&g->values[v].shape) == 1;
}

/* How many node inputs read v, plus 1 if it is a graph output. */
static int *count_uses(const Graph *g) {
  int *uses = xcalloc((size_t)g->nvalues, sizeof(int));
  for (int i = 0; i < g->nnodes; i++)
    for (int k = 0; k < g->nodes[i].ninputs; k++)
      if (g->nodes[i].inputs[k] >= 0) uses[g->nodes[i].inputs[k]]++;
  for (int k = 0; k < g->noutputs; k++) uses[g->outputs[k]]++;
  return uses;
}

static int find(int *comp, int i) {
  while (comp[i] != i) i = comp[i] = comp[comp[i]];
  return i;
}

int *lut_chains_find(Q *q) {
  Graph *g = q->g;
  int *root = xmalloc(sizeof(int) * (size_t)g->nvalues); /* per value: the tensor it is a function of */
  int *sink = xmalloc(sizeof(int) * (size_t)(g->nnodes ? g->nnodes : 1));
  int *uses = count_uses(g);
  for (int v = 0; v < g->nvalues; v++) root[v] = v;
  for (int i = 0; i < g->nnodes; i++) {
    const Node *n = &g->nodes[i];
    sink[i] = -1;
    int r = -1;
    if (is_table_unary(n->op)) {
      int x = n->inputs[0];
      bool fused_by_producer = (n->op == OP_RELU || n->op == OP_RELU6) && root[x] == x && uses[x] == 1;
      if (!g->values[x].is_const && !fused_by_producer) r = root[x];
    } else if (n->op == OP_ADD || n->op == OP_SUB || n->op == OP_MUL || n->op == OP_DIV || n->op == OP_POW) {
      int a = n->inputs[0], b = n->inputs[1];
      bool ca = is_scalar_const(g, a), cb = is_scalar_const(g, b);
      if (ca && !cb && !g->values[b].is_const) r = root[b];
      else if (cb && !ca && !g->values[a].is_const) r = root[a];
      else if (!g->values[a].is_const && !g->values[b].is_const && root[a] == root[b]) r = root[a];
    }
    if (r < 0 || g->values[r].is_const || g->values[r].dtype != DT_F32 || g->values[n->output].dtype != DT_F32 ||
        !shape_eq(&g->values[n->output].shape, &g->values[r].shape))
      continue;
    root[n->output] = r;
    sink[i] = -2; /* a member; its sink is found below */
  }
  /* Members joined through the values they pass each other form one chain (two chains
   * may share their input x and stay apart); union-find over node indices. */
  int *comp = xmalloc(sizeof(int) * (size_t)(g->nnodes ? g->nnodes : 1));
  for (int i = 0; i < g->nnodes; i++) {
    comp[i] = i;
    if (sink[i] != -2) continue;
    for (int s = 0; s < g->nodes[i].ninputs; s++) {
      int v = g->nodes[i].inputs[s], p = v >= 0 ? g->values[v].producer : -1;
      if (p < 0 || sink[p] != -2 || root[v] != root[g->nodes[i].output]) continue;
      int a = find(comp, p), b = find(comp, i);
      comp[a > b ? a : b] = a < b ? a : b; /* the earliest node names the chain */
    }
  }
  /* Per chain: its members, and the ones read from outside it (exactly one: the sink). */
  for (int i = 0; i < g->nnodes; i++) {
    if (sink[i] != -2 || find(comp, i) != i) continue;
    int members = 0, the_sink = -1;
    bool ok = true;
    for (int j = i; j < g->nnodes; j++) {
      if (sink[j] != -2 || find(comp, j) != i) continue;
      members++;
      int v = g->nodes[j].output, inside = 0;
      for (int k = j + 1; k < g->nnodes; k++)
        for (int s = 0; s < g->nodes[k].ninputs; s++)
          if (g->nodes[k].inputs[s] == v && sink[k] == -2 && find(comp, k) == i) inside++;
      if (uses[v] > inside) {
        if (the_sink >= 0) ok = false;
        the_sink = j;
      }
    }
    int mark = ok && members >= 2 && the_sink >= 0 ? the_sink : -1;
    for (int j = i; j < g->nnodes; j++)
      if (sink[j] == -2 && find(comp, j) == i) sink[j] = mark;
  }
  free(comp);
  for (int i = 0; i < g->nnodes; i++)
    if (sink[i] >= 0 && sink[i] != i) q->done[i] = true; /* the sink's turn makes the layer */
  free(uses);
  free(root);
  return sink;
}

/* The chain's value for one real x: every member in node order, in double. */
static double chain_apply(const Graph *g, const int *members, int nm, int x, double xv, double *val) {
  for (int m = 0; m < nm; m++) {
    const Node *n = &g->nodes[members[m]];
    double in[2] = {0, 0};
    for (int s = 0; s < n->ninputs && s < 2; s++) {
      int v = n->inputs[s];
      if (v == x) in[s] = xv;
      else if (g->values[v].is_const) in[s] = g->values[v].data[0];
      else
        for (int k = 0; k < m; k++)
          if (g->nodes[members[k]].output == v) in[s] = val[k];
    }
    switch (n->op) {
    case OP_ADD: val[m] = in[0] + in[1]; break;
    case OP_SUB: val[m] = in[0] - in[1]; break;
    case OP_MUL: val[m] = in[0] * in[1]; break;
    case OP_DIV: val[m] = in[0] / in[1]; break;
    case OP_POW: val[m] = pow(in[0], in[1]); break;
    default: val[m] = q_apply_unary(n, in[0]); break;
    }
  }
  return val[nm - 1];
}

void q_lut_chain(Q *q, int sink_node, const int *sink) {
  Graph *g = q->g;
  int *members = xmalloc(sizeof(int) * (size_t)g->nnodes), nm = 0;
  for (int i = 0; i <= sink_node; i++)
    if (sink[i] == sink_node) members[nm++] = i;
  /* The chain's input: the one non-constant value no member makes. */
  int x = -1;
  for (int m = 0; m < nm && x < 0; m++) {
    const Node *n = &g->nodes[members[m]];
    for (int s = 0; s < n->ninputs; s++) {
      int v = n->inputs[s], p = g->values[v].producer;
      if (g->values[v].is_const || (p >= 0 && sink[p] == sink_node)) continue;
      x = v;
    }
  }
  const Node *sn = &g->nodes[sink_node];
  ILayer *l = new_layer(q, IL_LUT, sink_node, sn->output);
  l->in[0] = x;
  l->nin = 1;
  QParam *qx = activation_q(q, x), *qy = activation_q(q, sn->output);
  int qmax = qmax_of(qy->bits);
  double *val = xmalloc(sizeof(double) * (size_t)nm);
  for (int c = -128; c < 128; c++) {
    double y = floor(chain_apply(g, members, nm, x, c * qx->scale, val) / qy->scale + 0.5);
    l->lut[c + 128] = (int8_t)(isnan(y) ? 0 : y > qmax ? qmax : y < -qmax ? -qmax : y);
  }
  l->lut_n = (int32_t)shape_numel(&g->values[x].shape);
  StrBuf sb = {0};
  for (int m = 0; m < nm - 1; m++)
    sb_printf(&sb, "%s%s %s", m ? ", " : "", op_table[g->nodes[members[m]].op].name, g->nodes[members[m]].name);
  l->fused = sb.data;
  ilayer_add_note(l, "%d elementwise ops of one tensor (%s ... %s) as one 256-entry table", nm,
                  op_table[g->nodes[members[0]].op].name, op_table[sn->op].name);
  free(val);
  free(members);
}
