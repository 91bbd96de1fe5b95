/* model.c — the compiler's pass list, top to bottom (as QBE's func() is). */
#include "shiftc.h"

Graph *load_model(const char *path) {
  if (onnx_file_sniff(path)) return onnx_import(path); /* by content: ONNX nodes -> core ops */
  Graph *g = parse_model_file(path); /* syntax, names, blocks, weights */
  infer_shapes(g);                   /* shapes and their errors, at the statement */
  lower_composites(g);               /* attention -> linear/matmul/softmax/transpose */
  infer_shapes(g);                   /* the lowered nodes' shapes */
  return g;
}

Samples *samples_from_file(const Graph *g, const char *path, SrcLoc where) {
  TensorFile *tf = tensorfile_load(path);
  Samples *s = xcalloc((size_t)g->ninputs, sizeof(Samples));
  for (int i = 0; i < g->ninputs; i++) {
    const Value *in = &g->values[g->inputs[i]];
    const Tensor *t = tensorfile_find(tf, in->name);
    if (!t) {
      if (where.file) error_at(where, "%s holds no tensor named '%s' (the model's input)", path, in->name);
      error_file(path, "no tensor named '%s' (the model's input)", in->name);
    }
    s[i] = samples_from_tensor(t, in, path);
    if (i > 0 && s[i].n != s[0].n)
      error_file(path, "tensors '%s' and '%s' hold different numbers of samples", g->values[g->inputs[0]].name,
                 in->name);
  }
  return s;
}

IntProgram *load_int_program(const char *path, const Config *cfg) {
  Graph *g = load_model(path);
  fold_batchnorm(g);                 /* conv/linear + batchnorm -> one layer */
  fold_const_div(g);                 /* x / c -> x * (1/c): the integer mul path */
  if (!cfg->calib_data)
    error_file(cfg->path ? cfg->path : path, "integer output needs calibration data: set "
               "quantization.calibration.data in the configuration (-c CONFIG.yaml)");
  Samples *cal = samples_from_file(g, cfg->calib_data, cfg->calib_data_loc);
  int n = cal[0].n < cfg->calib_samples ? cal[0].n : cfg->calib_samples;
  CalibStats **stats = calibrate(g, cal, n, cfg); /* one range per activation */
  IntProgram *p = quantize(g, stats, cfg);        /* scales, codes, biases, requantization */
  p->stats = stats;
  p->calib_samples = n;
  p->calib = cal;
  legalize(p);                                    /* shift ranges, int32 overflow proof */
  plan_memory(p);                                 /* one arena, by liveness */
  return p;
}
