/* test_resize_int.c — the integer resize (sc_resize_s8 with the quantizer's compile-time
 * tables) against the float resize op, one layer at a time, on tests/models/resize (nearest
 * with asymmetric/floor and half_pixel/round_prefer_ceil; bilinear with half_pixel,
 * align_corners, pytorch_half_pixel), in both requantization modes: the float op runs on
 * the layer's dequantized input codes, so only the kernel's own arithmetic is measured.
 *   nearest:  the same codes (a copy at the input's scale);
 *   bilinear: within 0.75 of an output step: half a step of rounding, plus the weights'
 *             rounding to 1/2^11 (each of the four products off by under 2^-11 of a code
 *             of at most 127: < 0.25 step).
 * A wrong tap, a swapped weight or a missed rounding is off by far more. */
#include "shiftc.h"
#include "testlib.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define DIR "tests/models/resize/"

static void check_mode(const char *mode) {
  Config c;
  config_defaults(&c);
  config_load(&c, DIR "resize.yaml");
  c.requantize = strcmp(mode, "shift") == 0 ? REQ_SHIFT : REQ_DYADIC;
  IntProgram *p = load_int_program(DIR "resize.nn", &c);
  const Graph *g = p->g;
  FloatRun *fr = float_run_new(g);
  IntRun *ir = int_run_new(p);
  int layers = 0;
  for (int k = 0; k < p->nlayers; k++) {
    const ILayer *l = &p->layers[k];
    if (l->kind != IL_RESIZE) continue;
    layers++;
    const Node *n = &g->nodes[l->node];
    bool linear = node_attr(n, "mode")->e == RESIZE_LINEAR;
    const Value *xv = &g->values[l->in[0]], *yv = &g->values[l->out];
    double worst = 0, s = yv->q->scale;
    long count = 0;
    for (int i = 0; i < p->calib[0].n; i++) {
      const float *x = p->calib[0].data + (size_t)i * (size_t)p->calib[0].per_sample;
      float_run(fr, &x);
      int64_t nx = shape_numel(&xv->shape);
      quantize_values(xv->q, fr->buf[l->in[0]], ir->buf[l->in[0]], nx);
      for (int64_t e = 0; e < nx; e++) fr->buf[l->in[0]][e] = (float)(ir->buf[l->in[0]][e] * xv->q->scale);
      op_table[n->op].eval_float(g, n, fr->buf);
      int_run_layer(ir, k);
      for (int64_t e = 0; e < shape_numel(&yv->shape); e++, count++)
        worst = fmax(worst, fabs(ir->buf[l->out][e] * s - fr->buf[l->out][e]) / s);
    }
    double bound = linear ? 0.75 : 1e-4; /* nearest: the same code, up to float32 rounding of code * scale */
    printf("# %s %s (%s): %ld values, max |int - float| %.4f output steps\n", mode, n->name,
           linear ? "bilinear" : "nearest", count, worst);
    char *label = t_fmt("resize int, %s: %s (%s) within %g output steps of the float op", mode, n->name,
                        linear ? "bilinear" : "nearest", bound);
    t_check(count > 0 && worst <= bound, label, "%ld values, max error %g steps", count, worst);
    free(label);
  }
  char *label = t_fmt("resize int, %s: five resize layers", mode);
  t_check(layers == 5, label, "%d", layers);
  free(label);
  int_run_free(ir);
  float_run_free(fr);
}

int main(void) {
  check_mode("shift");
  check_mode("dyadic");
  return t_exit_status();
}
