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

/* One thread's share of measure(): samples [begin, end), each with its own float and
 * integer runs; per-sample sums go to the shared arrays at the sample's row. */
typedef struct MeasureWorker {
  const IntProgram *p;
  const Graph *fg;
  const Samples *s;
  const int64_t *labels;
  const int *ref;       /* layer -> float value id, -1 if none */
  int begin, end;
  double *sig, *noise;  /* [sample][layer] */
  int agree, float_correct, int_correct;
} MeasureWorker;

static void *measure_samples(void *arg) {
  MeasureWorker *w = arg;
  const IntProgram *p = w->p;
  const Graph *g = p->g, *fg = w->fg;
  FloatRun *fr = float_run_new(fg);
  IntRun *ir = int_run_new(p);
  const float **fin = xcalloc((size_t)g->ninputs, sizeof(float *));
  int8_t **codes = xcalloc((size_t)g->ninputs, sizeof(int8_t *));
  for (int k = 0; k < g->ninputs; k++) codes[k] = xmalloc((size_t)value_code_bytes(&g->values[g->inputs[k]]));
  const Value *fout = &fg->values[fg->outputs[0]], *qout = &g->values[g->outputs[0]];
  int64_t classes = shape_numel(&fout->shape);
  for (int i = w->begin; i < w->end; i++) {
    for (int k = 0; k < g->ninputs; k++) {
      fin[k] = w->s[k].data + (size_t)i * (size_t)w->s[k].per_sample;
      quantize_values(g->values[g->inputs[k]].q, fin[k], codes[k], w->s[k].per_sample);
    }
    float_run(fr, fin);
    int_run(ir, (const int8_t *const *)codes);
    int fp = argmax_f(fr->buf[fout->id], classes), qp = argmax_q(ir->buf[qout->id], classes);
    w->agree += fp == qp;
    if (w->labels) {
      w->float_correct += fp == w->labels[i];
      w->int_correct += qp == w->labels[i];
    }
    double *sig = w->sig + (size_t)i * (size_t)p->nlayers, *noise = w->noise + (size_t)i * (size_t)p->nlayers;
    for (int k = 0; k < p->nlayers; k++) {
      if (w->ref[k] < 0) continue;
      const Value *v = &g->values[p->layers[k].out];
      const float *x = fr->buf[w->ref[k]];
      const int8_t *q = ir->buf[v->id];
      double sc = v->q->scale, sg = 0, ns = 0;
      for (int64_t j = 0, e = shape_numel(&v->shape); j < e; j++) {
        double d = x[j] - q[j] * sc;
        sg += (double)x[j] * x[j];
        ns += d * d;
      }
      sig[k] = sg;
      noise[k] = ns;
    }
  }
  float_run_free(fr);
  int_run_free(ir);
  for (int k = 0; k < g->ninputs; k++) free(codes[k]);
  free(codes);
  free(fin);
  return NULL;
}

/* The samples are shared out to parallel_threads() threads in contiguous ranges; each
 * sample's sums of squares are kept apart and added up in sample order afterwards, so the
 * SQNR has the same bits for any thread count. */
Measurement measure(const IntProgram *p, const Graph *fg, const Samples *s, int n, const int64_t *labels) {
  const Graph *g = p->g;
  Measurement m = {0};
  m.nlayers = p->nlayers;
  m.samples = n;
  m.sqnr_db = xcalloc((size_t)p->nlayers + 1, sizeof(double));
  size_t cells = (size_t)(n > 0 ? n : 1) * (size_t)(p->nlayers + 1);
  double *sig = xcalloc(cells, sizeof(double)), *noise = xcalloc(cells, sizeof(double));
  int *ref = xcalloc((size_t)p->nlayers + 1, sizeof(int));
  for (int k = 0; k < p->nlayers; k++) ref[k] = graph_find_value(fg, g->values[p->layers[k].out].name);
  int nthreads = parallel_threads(n);
  MeasureWorker *ws = xcalloc((size_t)nthreads, sizeof *ws);
  for (int t = 0; t < nthreads; t++)
    ws[t] = (MeasureWorker){.p = p, .fg = fg, .s = s, .labels = labels, .ref = ref,
                            .begin = (int)((int64_t)n * t / nthreads), .end = (int)((int64_t)n * (t + 1) / nthreads),
                            .sig = sig, .noise = noise};
  if (n > 0) run_parallel(ws, sizeof *ws, nthreads, measure_samples);
  for (int t = 0; t < nthreads; t++) {
    m.agree += ws[t].agree;
    m.float_correct += ws[t].float_correct;
    m.int_correct += ws[t].int_correct;
  }
  for (int k = 0; k < p->nlayers; k++) {
    double sg = 0, ns = 0;
    for (int i = 0; i < n; i++) {
      sg += sig[(size_t)i * (size_t)p->nlayers + (size_t)k];
      ns += noise[(size_t)i * (size_t)p->nlayers + (size_t)k];
    }
    m.sqnr_db[k] = ref[k] < 0 ? NAN : ns > 0 ? 10 * log10(sg / ns) : INFINITY;
  }
  free(ws);
  free(sig);
  free(noise);
  free(ref);
  return m;
}
