/* test_lut_chain.c — elementwise chains of one tensor as one table (quantize_lut_chain.c)
 * on tests/models/lut_chain, in both requantization modes:
 *   which chains become a table: the affine + hardswish + swish chain (nine nodes) from
 *   the conv output c; the affine after relu(conv) — the relu stays the conv's clamp;
 *   not the tanh chain, whose two values (t and u) both leave it;
 *   each table's accuracy: the layer run alone (int_run_layer) on the float graph's
 *   input values quantized with the layer's scale, against the chain's float nodes on the
 *   dequantized input: within half an output step (the table's only rounding) where the
 *   output does not saturate. Node by node (each intermediate rounded to int8) misses
 *   that bound by far. */
#include "shiftc.h"
#include "testlib.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define DIR "tests/models/lut_chain/"

static int layer_of(const IntProgram *p, const char *value) {
  for (int k = 0; k < p->nlayers; k++)
    if (strcmp(p->g->values[p->layers[k].out].name, value) == 0) return k;
  return -1;
}

/* Layer k's output against the float graph's nodes between its input's and its
 * output's producers, run on the dequantized input; returns max |error| / (step / 2). */
static double table_error(const IntProgram *p, int k, const Graph *fg, FloatRun *fr, IntRun *ir, long *n) {
  const Graph *g = p->g;
  const ILayer *l = &p->layers[k];
  const Value *xv = &g->values[l->in[0]], *yv = &g->values[l->out];
  int xf = graph_find_value(fg, xv->name), yf = graph_find_value(fg, yv->name);
  double worst = 0;
  for (int i = 0; i < p->calib[0].n; i++) {
    const float *x = p->calib[0].data + (size_t)i * (size_t)p->calib[0].per_sample;
    float_run(fr, &x);
    int64_t nx = shape_numel(&xv->shape);
    quantize_values(xv->q, fr->buf[xf], ir->buf[l->in[0]], nx);
    for (int64_t e = 0; e < nx; e++) fr->buf[xf][e] = (float)(ir->buf[l->in[0]][e] * xv->q->scale);
    for (int j = fg->values[xf].producer + 1; j <= fg->values[yf].producer; j++)
      op_table[fg->nodes[j].op].eval_float(fg, &fg->nodes[j], fr->buf);
    int_run_layer(ir, k);
    double s = yv->q->scale, qmax = (1 << (yv->q->bits - 1)) - 1;
    for (int64_t e = 0; e < shape_numel(&yv->shape); e++) {
      double ref = fr->buf[yf][e];
      if (fabs(ref) > (qmax + 0.5) * s) continue;
      worst = fmax(worst, fabs(ir->buf[l->out][e] * s - ref) / (s / 2 * (1 + 1e-5)));
      ++*n;
    }
  }
  return worst;
}

static void check_mode(const char *mode) {
  Config c;
  config_defaults(&c);
  config_load(&c, DIR "lut_chain.yaml");
  c.requantize = strcmp(mode, "shift") == 0 ? REQ_SHIFT : REQ_DYADIC;
  IntProgram *p = load_int_program(DIR "lut_chain.nn", &c);
  const Graph *g = p->g;
  int sw = layer_of(p, "sw"), z = layer_of(p, "z"), r = layer_of(p, "r"), u = layer_of(p, "u"), t = layer_of(p, "t");
  char *label = t_fmt("lut chain, %s: hardswish/swish chain of 9 nodes is one table from c", mode);
  t_check(sw >= 0 && p->layers[sw].kind == IL_LUT && strcmp(g->values[p->layers[sw].in[0]].name, "c") == 0 &&
              layer_of(p, "a") < 0 && layer_of(p, "hs") < 0,
          label, "layer sw: kind %d, input %s", sw >= 0 ? (int)p->layers[sw].kind : -1,
          sw >= 0 ? g->values[p->layers[sw].in[0]].name : "-");
  free(label);
  label = t_fmt("lut chain, %s: relu stays fused into its conv, the affine after it is a table", mode);
  t_check(r >= 0 && p->layers[r].kind == IL_CONV2D && p->layers[r].fused && strstr(p->layers[r].fused, "relu") &&
              z >= 0 && p->layers[z].kind == IL_LUT && p->layers[z].in[0] == p->layers[r].out,
          label, "r %d, z %d", r, z);
  free(label);
  label = t_fmt("lut chain, %s: a chain two of whose values leave it is not fused", mode);
  t_check(t >= 0 && u >= 0 && p->layers[u].kind == IL_ADD, label, "t %d, u %d", t, u);
  free(label);

  Graph *fg = load_model(DIR "lut_chain.nn");
  FloatRun *fr = float_run_new(fg);
  IntRun *ir = int_run_new(p);
  const char *tables[2] = {"sw", "z"};
  for (int i = 0; i < 2; i++) {
    int k = layer_of(p, tables[i]);
    if (k < 0) continue;
    long n = 0;
    double e = table_error(p, k, fg, fr, ir, &n);
    printf("# %s %s: %ld values, max |error| %.3f half steps\n", mode, tables[i], n, e);
    label = t_fmt("lut chain, %s: table %s within half an output step of the float chain", mode, tables[i]);
    t_check(n > 1000 && e <= 1, label, "%ld values, max error %g half steps", n, e);
    free(label);
  }
  int_run_free(ir);
  float_run_free(fr);
}

int main(void) {
  check_mode("shift");
  check_mode("dyadic");
  return t_exit_status();
}
