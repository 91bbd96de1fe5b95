/* interp_int.c — the bit-exact integer semantics (`shiftc run --int`): runs the
 * integer program layer by layer with the runtime's own kernels, each value in a
 * buffer of its own (the generated code shares one arena instead, so comparing
 * the two also checks the memory plan). */
#include "shiftc.h"

#include <stdlib.h>
#include <string.h>

int64_t value_code_bytes(const Value *v) {
  return shape_numel(&v->shape) * (v->q && v->q->bits == QPARAM_ID_BITS ? (int64_t)sizeof(int32_t) : 1);
}

IntRun *int_run_new(const IntProgram *p) {
  const Graph *g = p->g;
  IntRun *r = xcalloc(1, sizeof(IntRun));
  r->p = p;
  r->buf = xcalloc((size_t)g->nvalues, sizeof(int8_t *));
  for (int v = 0; v < g->nvalues; v++)
    if (p->storage[v] == v && !g->values[v].is_const)
      r->buf[v] = xcalloc((size_t)value_code_bytes(&g->values[v]), 1);
  for (int v = 0; v < g->nvalues; v++)
    if (p->storage[v] != v) r->buf[v] = r->buf[p->storage[v]];
  int32_t words = 1;
  for (int i = 0; i < p->nlayers; i++)
    if (p->layers[i].scratch_words > words) words = p->layers[i].scratch_words;
  r->scratch = xcalloc((size_t)words, sizeof(int32_t));
  return r;
}

void int_run_free(IntRun *r) {
  if (!r) return;
  for (int v = 0; v < r->p->g->nvalues; v++)
    if (r->p->storage[v] == v) free(r->buf[v]);
  free(r->buf);
  free(r->scratch);
  free(r);
}

void quantize_values(const QParam *q, const float *x, int8_t *out, int64_t n) {
  if (q->bits == QPARAM_ID_BITS) {
    for (int64_t i = 0; i < n; i++) {
      int32_t id = sc_id_from_f32(x[i]);
      memcpy(out + i * (int64_t)sizeof id, &id, sizeof id); /* native endianness, as generated code */
    }
    return;
  }
  float inv = (float)(1.0 / q->scale);
  for (int64_t i = 0; i < n; i++) out[i] = sc_quantize_f32(x[i], inv);
}

/* Constant operands (add(x, bias_table)) are quantized once, on first use. */
static const int8_t *operand(IntRun *r, int v) {
  const Value *val = &r->p->g->values[v];
  if (!val->is_const) return r->buf[v];
  if (!r->buf[v]) {
    int64_t n = shape_numel(&val->shape);
    r->buf[v] = xmalloc((size_t)(n ? n : 1));
    quantize_values(val->q, val->data, r->buf[v], n);
  }
  return r->buf[v];
}

void int_run(IntRun *r, const int8_t *const *inputs) {
  const IntProgram *p = r->p;
  const Graph *g = p->g;
  for (int i = 0; i < g->ninputs; i++)
    memcpy(r->buf[g->inputs[i]], inputs[i], (size_t)value_code_bytes(&g->values[g->inputs[i]]));
  for (int i = 0; i < p->nlayers; i++) int_run_layer(r, i);
}

void int_run_layer(IntRun *r, int k) {
  const ILayer *l = &r->p->layers[k];
  int8_t *y = r->buf[l->out];
  const int8_t *a = operand(r, l->in[0]);
  switch (l->kind) {
  case IL_CONV2D: sc_conv2d_s8(&l->p.conv, a, y); break;
  case IL_CONV_TRANSPOSE2D: sc_conv_transpose_s8(&l->p.conv, a, y); break;
  case IL_LINEAR: /* the reference's int32 sums, faster where the host allows (int_linear_fast.c) */
    if (!int_linear_fast(&l->p.lin, a, y)) sc_linear_s8(&l->p.lin, a, y);
    break;
  case IL_MAXPOOL2D: sc_maxpool2d_s8(&l->p.pool, a, y); break;
  case IL_AVGPOOL2D: sc_avgpool2d_s8(&l->p.pool, a, y); break;
  case IL_ADD: sc_add_s8(&l->p.elt, a, operand(r, l->in[1]), y); break;
  case IL_SUB: sc_sub_s8(&l->p.elt, a, operand(r, l->in[1]), y); break;
  case IL_MUL: sc_mul_s8(&l->p.elt, a, operand(r, l->in[1]), y); break;
  case IL_LUT: sc_lut_s8(l->lut_n, l->lut, a, y); break;
  case IL_TRANSPOSE: sc_transpose_s8(&l->p.tr, a, y); break;
  case IL_MATMUL: sc_matmul_s8(&l->p.mm, a, operand(r, l->in[1]), y); break;
  case IL_IGELU: sc_igelu_s8(&l->p.gelu, (int32_t)shape_numel(&r->p->g->values[l->in[0]].shape), a, y); break;
  case IL_SOFTMAX: {
    const Shape *s = &r->p->g->values[l->in[0]].shape;
    int32_t n = s->rank ? (int32_t)s->d[s->rank - 1] : 1;
    sc_softmax_s8(&l->p.sm, (int32_t)(shape_numel(s) / n), n, a, y, r->scratch);
    break;
  }
  case IL_MATMUL_SOFTMAX: sc_matmul_softmax_s8(&l->p.mmsm, a, operand(r, l->in[1]), y, r->scratch); break;
  case IL_LAYERNORM: sc_layernorm_s8(&l->p.ln, a, y); break;
  case IL_SLICE: sc_slice_s8(&l->p.slice, a, y); break;
  case IL_RESIZE: sc_resize_s8(&l->p.resize, a, y); break;
  case IL_REDUCEMEAN: sc_reducemean_s8(&l->p.red, a, y); break;
  case IL_EMBEDDING: {
    /* The ids buffer holds int32 (xcalloc: aligned); dim from the output's last axis. */
    const Shape *ys = &r->p->g->values[l->out].shape;
    int32_t dim = (int32_t)ys->d[ys->rank - 1];
    sc_embedding_s8((int32_t)shape_numel(&r->p->g->values[l->in[0]].shape), (const int32_t *)(const void *)a,
                    (int32_t)(dim ? l->weight_count / dim : 0), dim, l->weight, y);
    break;
  }
  case IL_CONCAT: {
    const int8_t *xs[MAX_OP_INPUTS];
    for (int i = 0; i < l->nin; i++) xs[i] = operand(r, l->in[i]);
    sc_concat_s8(&l->p.cat, xs, y);
    break;
  }
  }
}
