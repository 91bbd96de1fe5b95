/* measure.c — how far the integer program is from the float reference: per-layer
 * SQNR = 10 log10(sum x^2 / sum (x - deq(q))^2), with x the float graph's value of
 * the same name (algorithms.md §7), and top-1 agreement on labelled data. */
#include "shiftc.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int argmax_f(const float *x, int64_t n) {
  int best = 0;
  for (int64_t i = 1; i < n; i++)
    if (x[i] > x[best]) best = (int)i;
  return best;
}

int argmax_q(const int8_t *x, int64_t n) {
  int best = 0;
  for (int64_t i = 1; i < n; i++)
    if (x[i] > x[best]) best = (int)i;
  return best;
}

int float_top1(const Graph *fg, const Samples *s, int n, const int64_t *labels) {
  const Value *out = &fg->values[fg->outputs[0]];
  int64_t classes = shape_numel(&out->shape);
  FloatRun *r = float_run_new(fg);
  const float **in = xcalloc((size_t)fg->ninputs, sizeof(float *));
  int correct = 0;
  for (int i = 0; i < n; i++) {
    for (int k = 0; k < fg->ninputs; k++) in[k] = s[k].data + (size_t)i * (size_t)s[k].per_sample;
    float_run(r, in);
    correct += argmax_f(r->buf[out->id], classes) == labels[i];
  }
  float_run_free(r);
  free(in);
  return correct;
}

Measurement measure(const IntProgram *p, const Graph *fg, const Samples *s, int n, const int64_t *labels) {
  const Graph *g = p->g;
  Measurement m = {0};
  m.nlayers = p->nlayers;
  m.samples = n;
  m.sqnr_db = xcalloc((size_t)p->nlayers + 1, sizeof(double));
  double *sig = xcalloc((size_t)p->nlayers + 1, sizeof(double));
  double *noise = xcalloc((size_t)p->nlayers + 1, sizeof(double));
  int *ref = xcalloc((size_t)p->nlayers + 1, sizeof(int));
  for (int k = 0; k < p->nlayers; k++) ref[k] = graph_find_value(fg, g->values[p->layers[k].out].name);
  FloatRun *fr = float_run_new(fg);
  IntRun *ir = int_run_new(p);
  const float **fin = xcalloc((size_t)g->ninputs, sizeof(float *));
  int8_t **codes = xcalloc((size_t)g->ninputs, sizeof(int8_t *));
  for (int k = 0; k < g->ninputs; k++) codes[k] = xmalloc((size_t)value_code_bytes(&g->values[g->inputs[k]]));
  const Value *fout = &fg->values[fg->outputs[0]], *qout = &g->values[g->outputs[0]];
  int64_t classes = shape_numel(&fout->shape);
  for (int i = 0; i < n; i++) {
    for (int k = 0; k < g->ninputs; k++) {
      fin[k] = s[k].data + (size_t)i * (size_t)s[k].per_sample;
      quantize_values(g->values[g->inputs[k]].q, fin[k], codes[k], s[k].per_sample);
    }
    float_run(fr, fin);
    int_run(ir, (const int8_t *const *)codes);
    int fp = argmax_f(fr->buf[fout->id], classes), qp = argmax_q(ir->buf[qout->id], classes);
    m.agree += fp == qp;
    if (labels) {
      m.float_correct += fp == labels[i];
      m.int_correct += qp == labels[i];
    }
    for (int k = 0; k < p->nlayers; k++) {
      if (ref[k] < 0) continue;
      const Value *v = &g->values[p->layers[k].out];
      const float *x = fr->buf[ref[k]];
      const int8_t *q = ir->buf[v->id];
      double sc = v->q->scale;
      for (int64_t j = 0, e = shape_numel(&v->shape); j < e; j++) {
        double d = x[j] - q[j] * sc;
        sig[k] += (double)x[j] * x[j];
        noise[k] += d * d;
      }
    }
  }
  for (int k = 0; k < p->nlayers; k++)
    m.sqnr_db[k] = ref[k] < 0 ? NAN : noise[k] > 0 ? 10 * log10(sig[k] / noise[k]) : INFINITY;
  float_run_free(fr);
  int_run_free(ir);
  for (int k = 0; k < g->ninputs; k++) free(codes[k]);
  free(codes);
  free(fin);
  free(sig);
  free(noise);
  free(ref);
  return m;
}
