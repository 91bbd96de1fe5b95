/* interp_float.c — the float reference: evaluates the graph in float32, one sample
 * at a time, with each op's float definition from the op table. */
#include "shiftc.h"

#include <stdlib.h>
#include <string.h>

FloatRun *float_run_new(const Graph *g) {
  FloatRun *r = xcalloc(1, sizeof(FloatRun));
  r->g = g;
  r->buf = xcalloc((size_t)g->nvalues, sizeof(float *));
  for (int i = 0; i < g->nvalues; i++) {
    const Value *v = &g->values[i];
    if (v->is_const) r->buf[i] = v->data;
    else r->buf[i] = xcalloc((size_t)shape_numel(&v->shape), sizeof(float));
  }
  return r;
}

void float_run_free(FloatRun *r) {
  if (!r) return;
  for (int i = 0; i < r->g->nvalues; i++)
    if (!r->g->values[i].is_const) free(r->buf[i]);
  free(r->buf);
  free(r);
}

void float_run(FloatRun *r, const float *const *inputs) {
  const Graph *g = r->g;
  for (int i = 0; i < g->ninputs; i++) {
    const Value *v = &g->values[g->inputs[i]];
    memcpy(r->buf[v->id], inputs[i], sizeof(float) * (size_t)shape_numel(&v->shape));
  }
  for (int i = 0; i < g->nnodes; i++) {
    const Node *n = &g->nodes[i];
    op_table[n->op].eval_float(g, n, r->buf);
  }
}
