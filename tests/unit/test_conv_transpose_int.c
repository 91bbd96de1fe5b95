/* test_conv_transpose_int.c — the integer transposed convolution (sc_conv_transpose_s8 with
 * conv2d's per-channel quantization) against the float op, one layer at a time, on
 * tests/models/convt (PP-OCR det's 2x2 stride-2 head with batchnorm and relu folded in; a
 * 3x3 stride 2 pad 1 output_padding 1; grouped and dilated with asymmetric pads), in both
 * requantization modes. The layer runs alone on the float graph's values quantized with
 * its input scale; the float nodes it implements (conv_transpose2d, and the batchnorm and
 * relu folded into it) run on the dequantized input, so only the layer's own rounding
 * (8-bit per-channel weights, the output step) is measured: its SQNR must stay above
 * 30 dB, where a wrong tap or a weight read in the wrong layout gives about 0 dB. */
#include "shiftc.h"
#include "testlib.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define DIR "tests/models/convt/"

static void check_mode(const char *mode) {
  Config c;
  config_defaults(&c);
  config_load(&c, DIR "convt.yaml");
  c.requantize = strcmp(mode, "shift") == 0 ? REQ_SHIFT : REQ_DYADIC;
  IntProgram *p = load_int_program(DIR "convt.nn", &c);
  Graph *fg = load_model(DIR "convt.nn"); /* as written: batchnorm and relu apart */
  FloatRun *fr = float_run_new(fg);
  IntRun *ir = int_run_new(p);
  int layers = 0;
  for (int k = 0; k < p->nlayers; k++) {
    const ILayer *l = &p->layers[k];
    if (l->kind != IL_CONV_TRANSPOSE2D) continue;
    layers++;
    const Value *xv = &p->g->values[l->in[0]], *yv = &p->g->values[l->out];
    int xf = graph_find_value(fg, xv->name), yf = graph_find_value(fg, yv->name);
    double sig = 0, err = 0;
    for (int i = 0; i < p->calib[0].n; i++) {
      const float *x = p->calib[0].data + (size_t)i * (size_t)p->calib[0].per_sample;
      float_run(fr, &x);
      int64_t nx = shape_numel(&xv->shape);
      quantize_values(xv->q, fr->buf[xf], ir->buf[l->in[0]], nx);
      for (int64_t e = 0; e < nx; e++) fr->buf[xf][e] = (float)(ir->buf[l->in[0]][e] * xv->q->scale);
      for (int j = fg->values[xf].producer + 1; j <= fg->values[yf].producer; j++) /* none rewrites x */
        op_table[fg->nodes[j].op].eval_float(fg, &fg->nodes[j], fr->buf);
      int_run_layer(ir, k);
      for (int64_t e = 0; e < shape_numel(&yv->shape); e++) {
        double ref = fr->buf[yf][e], got = ir->buf[l->out][e] * yv->q->scale;
        sig += ref * ref;
        err += (got - ref) * (got - ref);
      }
    }
    double db = 10 * log10(sig / (err > 0 ? err : 1e-30));
    printf("# %s %s: SQNR of the layer alone %.2f dB\n", mode, yv->name, db);
    char *label = t_fmt("conv_transpose int, %s: layer %s alone above 30 dB SQNR against the float op", mode, yv->name);
    t_check(db > 30, label, "%.2f dB", db);
    free(label);
  }
  char *label = t_fmt("conv_transpose int, %s: three transposed-convolution layers", mode);
  t_check(layers == 3, label, "%d", layers);
  free(label);
  int_run_free(ir);
  float_run_free(fr);
}

int main(void) {
  check_mode("shift");
  check_mode("dyadic");
  return t_exit_status();
}
