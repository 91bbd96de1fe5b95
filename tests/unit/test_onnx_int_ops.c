/* test_onnx_int_ops.c — the integer layers of slice, reducemean and div by a constant
 * (tests/models/onnx_ops) against the float ops of the model as written (div, not the
 * mul by a reciprocal that fold_div.c makes of it), one layer at a time, in both
 * requantization modes:
 *   the layer's inputs are the float graph's values on the calibration samples,
 *   quantized with the layer's scales; the runtime kernel runs (int_run_layer); the
 *   reference is the float nodes the layer implements, run in double-free float32 on the
 *   dequantized inputs, so that only the layer's own arithmetic is measured:
 *     slice          equal (a copy, no rounding at all);
 *     reducemean     within half an output step (1/count folded into shift or multiplier);
 *     div by c       within half an output step plus |x| times half the step of the
 *                    reciprocal's code (the mul path codes 1/c as a constant operand);
 *     scores / c     q / c @ k^T -> softmax, with 1/c folded into the scores' scale:
 *                    within one output step (2^-7, i-exp's own error, test_int_ops.c).
 * A factor applied the wrong way round (c instead of 1/c, or dropped) is off by far more. */
#include "shiftc.h"
#include "testlib.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define DIR "tests/models/onnx_ops/"
#define N 32 /* calibration samples used */

typedef struct Stat {
  double max_err, max_bound_ratio;
  long n, clipped;
} Stat;

/* The float nodes that compute layer k's output from its inputs in the reference graph
 * fg: every node after the first producer of an input, up to the output's producer,
 * except the producers of the inputs themselves (those values are set from codes). */
static void run_reference(const Graph *fg, FloatRun *fr, const int *in_fg, int nin, int out_fg) {
  int first = fg->nnodes, last = fg->values[out_fg].producer;
  for (int m = 0; m < nin; m++)
    if (in_fg[m] >= 0 && fg->values[in_fg[m]].producer >= 0 && fg->values[in_fg[m]].producer < first)
      first = fg->values[in_fg[m]].producer;
  for (int j = first; j <= last; j++) {
    bool is_input = false;
    for (int m = 0; m < nin; m++) is_input |= in_fg[m] >= 0 && fg->nodes[j].output == in_fg[m];
    if (!is_input) op_table[fg->nodes[j].op].eval_float(fg, &fg->nodes[j], fr->buf);
  }
}

static void check_mode(const char *mode) {
  Config c;
  config_defaults(&c);
  config_load(&c, DIR "onnx_ops.yaml");
  c.requantize = strcmp(mode, "shift") == 0 ? REQ_SHIFT : REQ_DYADIC;
  IntProgram *p = load_int_program(DIR "onnx_ops.nn", &c);
  const Graph *g = p->g;
  Graph *fg = load_model(DIR "onnx_ops.nn");
  FloatRun *fr = float_run_new(fg);
  IntRun *ir = int_run_new(p);
  Stat st[4] = {{0}}; /* slice, reducemean, div, scores */
  int seen[4] = {0};
  for (int i = 0; i < N && i < p->calib[0].n; i++) {
    const float *x = p->calib[0].data + (size_t)i * (size_t)p->calib[0].per_sample;
    for (int k = 0; k < p->nlayers; k++) {
      const ILayer *l = &p->layers[k];
      const Node *nd = &g->nodes[l->node];
      int kind = l->kind == IL_SLICE ? 0 : l->kind == IL_REDUCEMEAN ? 1 : l->kind == IL_MUL && nd->folded ? 2
               : l->kind == IL_MATMUL_SOFTMAX ? 3 : -1;
      if (kind < 0) continue;
      seen[kind] += i == 0;
      float_run(fr, &x); /* every value at its float value */
      int in_fg[MAX_OP_INPUTS], out_fg = graph_find_value(fg, g->values[l->out].name);
      double xmax = 0;
      for (int m = 0; m < l->nin; m++) {
        const Value *v = &g->values[l->in[m]];
        in_fg[m] = v->is_const ? -1 : graph_find_value(fg, v->name);
        if (v->is_const) continue;
        int64_t n = shape_numel(&v->shape);
        quantize_values(v->q, fr->buf[in_fg[m]], ir->buf[l->in[m]], n);
        for (int64_t e = 0; e < n; e++) { /* the reference reads the dequantized inputs */
          fr->buf[in_fg[m]][e] = (float)(ir->buf[l->in[m]][e] * v->q->scale);
          xmax = fmax(xmax, fabs(fr->buf[in_fg[m]][e]));
        }
      }
      int_run_layer(ir, k);
      run_reference(fg, fr, in_fg, l->nin, out_fg);
      const QParam *qy = g->values[l->out].q;
      /* slack for the float32 rounding of the reference: 1e-5 of an output step */
      double bound = kind == 0 ? 0 : kind == 1 ? qy->scale / 2 : kind == 3 ? 1.0 / 128 : 0;
      if (kind == 2) bound = qy->scale / 2 + xmax * g->values[l->in[1]].q->scale / 2;
      if (kind) bound += 1e-5 * qy->scale;
      double qmax = (1 << (qy->bits - 1)) - 1;
      for (int64_t e = 0; e < shape_numel(&g->values[l->out].shape); e++) {
        double ref = fr->buf[out_fg][e], got = (float)(ir->buf[l->out][e] * qy->scale);
        if (fabs(ref) > (qmax + 0.5) * qy->scale) {
          st[kind].clipped++;
          continue;
        }
        double err = fabs(got - ref);
        st[kind].n++;
        st[kind].max_err = fmax(st[kind].max_err, err);
        st[kind].max_bound_ratio = fmax(st[kind].max_bound_ratio, bound > 0 ? err / bound : err > 0 ? INFINITY : 0);
      }
    }
  }
  static const char *const what[4] = {"slice: the input's codes, exactly",
                                      "reducemean: within half an output step",
                                      "div by a constant: within half a step + |x| * half the reciprocal's step",
                                      "div in front of attention scores: within one probability step (2^-7)"};
  static const int expect[4] = {4, 3, 1, 1}; /* layers of each kind in onnx_ops.nn */
  for (int k = 0; k < 4; k++) {
    printf("# %s %s: %d layers, %ld values (%ld clipped), max |error| %.3g (%.2f of the bound)\n", mode, what[k],
           seen[k], st[k].n, st[k].clipped, st[k].max_err, st[k].max_bound_ratio);
    char *label = t_fmt("onnx int ops, %s: %s", mode, what[k]);
    t_check(seen[k] == expect[k] && st[k].n > 0 && st[k].max_bound_ratio <= 1, label,
            "%d layers (want %d), %ld values, max error %g, %.3g of the bound", seen[k], expect[k], st[k].n,
            st[k].max_err, st[k].max_bound_ratio);
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
