/* fold_div.c — div by a constant becomes a mul by its reciprocal in the graph the
 * integer program is made from (before calibration), so the integer back end takes it
 * on the existing mul path: a constant operand with a scale of its own, or, for a
 * positive scalar in front of or behind attention scores (ONNX exports write q / sqrt(d)
 * as a Div), a factor that q_matmul_softmax folds into the scores' scale, exactly.
 * Division by an activation is left alone (quantize.c reports it), as is a divisor
 * holding 0 or a non-finite value. The float reference (`run --float`, the SQNR in the
 * report) runs the model's own div; x * (1/c) differs from x / c by an ulp at most. */
#include "shiftc.h"

#include <math.h>
#include <stdlib.h>

static bool usable_divisor(const Value *v) {
  if (!v->is_const || !v->data) return false;
  for (int64_t i = 0; i < shape_numel(&v->shape); i++)
    if (!(v->data[i] != 0) || !isfinite(v->data[i])) return false;
  return true;
}

/* A constant holding 1/c of every element of constant c, named after it. */
static int reciprocal_of(Graph *g, int c) {
  const Value *cv = &g->values[c];
  int64_t n = shape_numel(&cv->shape);
  Tensor t = {.dtype = DT_F32, .shape = cv->shape};
  t.f = xmalloc(sizeof(float) * (size_t)(n ? n : 1));
  for (int64_t i = 0; i < n; i++) t.f[i] = (float)(1.0 / cv->data[i]);
  char *name = xformat("%s_recip", cv->name);
  for (int k = 2; graph_find_value(g, name) >= 0; k++) {
    free(name);
    name = xformat("%s_recip%d", cv->name, k);
  }
  SrcLoc loc = cv->loc;
  int r = graph_add_const(g, name, &t, loc); /* takes t.f; may move g->values */
  free(name);
  return r;
}

void fold_const_div(Graph *g) {
  int n0 = g->nvalues;
  int *recip = xmalloc(sizeof(int) * (size_t)(n0 ? n0 : 1));
  for (int v = 0; v < n0; v++) recip[v] = -1;
  for (int i = 0; i < g->nnodes; i++) {
    Node *n = &g->nodes[i];
    if (n->op != OP_DIV) continue;
    int a = n->inputs[0], b = n->inputs[1];
    if (g->values[a].is_const || !usable_divisor(&g->values[b])) continue;
    if (recip[b] < 0) recip[b] = reciprocal_of(g, b);
    n = &g->nodes[i];
    n->op = OP_MUL;
    n->inputs[1] = recip[b];
    n->folded = xformat("div by %s: a mul by its reciprocal %s", g->values[b].name, g->values[recip[b]].name);
  }
  free(recip);
}
