/* main.c — the command line (interfaces.md §1): parses arguments and runs one
 * command. Each command is a short function over the passes declared in shiftc.h. */
#define _POSIX_C_SOURCE 200809L
#include "shiftc.h"
#include "../targets/target.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char usage[] =
    "usage: shiftc COMMAND MODEL.nn [options]\n"
    "\n"
    "commands:\n"
    "  compile MODEL.nn -c CONFIG.yaml [--target TARGET] [-o OUTDIR]\n"
    "          calibrate, quantize, legalize and write C, goldens and reports into OUTDIR\n"
    "          (default build/<model>)\n"
    "  compile MODEL.nn --float-c [-c CONFIG.yaml] [-o OUTDIR]\n"
    "          the float32 graph as plain C (the comparison build for make bench); goldens from\n"
    "          the configuration's calibration data and the float interpreter\n"
    "  run     MODEL.nn --input X.npy [--int|--float] [-c CONFIG.yaml] [-o Y.npy] [--raw]\n"
    "          run the model in the compiler's interpreter: --float is the float reference,\n"
    "          --int the bit-exact integer semantics (--raw: write int8 codes)\n"
    "  eval    MODEL.nn -c CONFIG.yaml --data TEST.safetensors [--float] [--html FILE] [--per-layer]\n"
    "          float vs integer top-1 on a labelled set (tensors: the model input, 'labels'),\n"
    "          their agreement, and per-layer SQNR; --html writes the report page with them,\n"
    "          --per-layer measures each layer's top-1 cost (only it in integer / in float)\n"
    "  verify  OUTDIR [--board mps2-an386]\n"
    "          rebuild the generated test and check its goldens bit for bit; with --board,\n"
    "          build the scalar code for the board (Cortex-M4), run its goldens under\n"
    "          qemu-system-arm and add its flash and RAM bytes to the report\n"
    "  verify  OUTDIR --profile [--ms N]\n"
    "          the goldens, then each layer timed on this machine for N ms (default 500):\n"
    "          ms, share and GOPS per layer and per kernel, added to the reports\n"
    "  check   MODEL.nn [-c CONFIG.yaml]\n"
    "          parse, infer shapes and print the graph after lowering\n"
    "  import  MODEL.onnx [-o OUTDIR]\n"
    "          write OUTDIR/<model>.nn and OUTDIR/<model>.safetensors (default OUTDIR: .)\n"
    "\n"
    "Every command that takes MODEL.nn also takes an ONNX model (MODEL.onnx, opsets 11-17).\n"
    "\n"
    "options:\n"
    "  --input [NAME=]X.npy   input samples (.npy or .safetensors); once per model input\n"
    "  -o PATH                output .npy (one output) or folder (several outputs)\n"
    "  -c CONFIG.yaml         configuration (interfaces.md §3)\n"
    "  --data FILE            labelled test set for eval\n"
    "  --html FILE            eval: write the HTML report page with accuracy to FILE\n"
    "  --per-layer            eval: rank layers by the top-1 they cost (mixed float/int runs)\n"
    "  --requantize MODE      shift | dyadic (overrides the YAML)\n"
    "  --calibration METHOD   max | percentile | mse | entropy (overrides the YAML)\n"
    "  --target TARGET        scalar | neon | neon-dotprod | avx2 | avx2-vnni | avx512-vnni\n"
    "                         (overrides the YAML)\n"
    "  --weight-bits N        2..8: weight bits of every layer (overrides the YAML's global bits)\n"
    "  --bias-fix MODE        on | enlarge | off: bias out-of-bounds handling (overrides the YAML)\n"
    "  --shape NAME=[D,...]   shape of an ONNX input with dynamic dimensions; once per input\n"
    "  --help, --version\n";

typedef struct Options {
  const char *command;
  const char *model;
  const char *config;
  const char *output;
  const char *data;
  const char **inputs; /* "NAME=path" or "path" */
  int ninputs;
  const char **shapes; /* --shape "NAME=[...]" */
  int nshapes;
  const char *target;
  const char *requantize;
  const char *calibration;
  const char *weight_bits;
  const char *bias_fix;
  const char *board;
  bool profile;          /* verify --profile */
  const char *profile_ms; /* verify --ms N */
  bool mode_float, mode_int, raw;
  const char *html; /* eval --html FILE */
  bool per_layer;   /* eval --per-layer */
  bool float_c;     /* compile --float-c */
} Options;

static Options parse_args(int argc, char **argv) {
  Options o = {0};
  o.inputs = xcalloc((size_t)argc, sizeof(char *));
  o.shapes = xcalloc((size_t)argc, sizeof(char *));
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    bool has_value = i + 1 < argc;
#define VALUE() (has_value ? argv[++i] : (error_cli("option '%s' needs a value", a), NULL))
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
      fputs(usage, stdout);
      exit(0);
    } else if (strcmp(a, "--version") == 0) {
      printf("shiftc %s\n", SHIFTC_VERSION);
      exit(0);
    } else if (strcmp(a, "-c") == 0 || strcmp(a, "--config") == 0) {
      o.config = VALUE();
    } else if (strcmp(a, "-o") == 0) {
      o.output = VALUE();
    } else if (strcmp(a, "--input") == 0 || strcmp(a, "-i") == 0) {
      o.inputs[o.ninputs++] = VALUE();
    } else if (strcmp(a, "--shape") == 0) {
      o.shapes[o.nshapes++] = VALUE();
    } else if (strcmp(a, "--data") == 0) {
      o.data = VALUE();
    } else if (strcmp(a, "--target") == 0) {
      o.target = VALUE();
    } else if (strcmp(a, "--requantize") == 0) {
      o.requantize = VALUE();
    } else if (strcmp(a, "--calibration") == 0) {
      o.calibration = VALUE();
    } else if (strcmp(a, "--html") == 0) {
      o.html = VALUE();
    } else if (strcmp(a, "--per-layer") == 0) {
      o.per_layer = true;
    } else if (strcmp(a, "--weight-bits") == 0) {
      o.weight_bits = VALUE();
    } else if (strcmp(a, "--bias-fix") == 0) {
      o.bias_fix = VALUE();
    } else if (strcmp(a, "--board") == 0) {
      o.board = VALUE();
    } else if (strcmp(a, "--profile") == 0) {
      o.profile = true;
    } else if (strcmp(a, "--ms") == 0) {
      o.profile_ms = VALUE();
    } else if (strcmp(a, "--raw") == 0) {
      o.raw = true;
    } else if (strcmp(a, "--float-c") == 0) {
      o.float_c = true;
    } else if (strcmp(a, "--float") == 0) {
      o.mode_float = true;
    } else if (strcmp(a, "--int") == 0) {
      o.mode_int = true;
    } else if (a[0] == '-' && a[1]) {
      error_cli("unknown option '%s' (see shiftc --help)", a);
    } else if (!o.command) {
      o.command = a;
    } else if (!o.model) {
      o.model = a;
    } else {
      error_cli("unexpected argument '%s' (see shiftc --help)", a);
    }
#undef VALUE
  }
  if (!o.command) {
    fputs(usage, stderr);
    exit(1);
  }
  return o;
}

/* The YAML, then the command-line flags over it. */
static Config load_config(const Options *o) {
  Config c;
  config_defaults(&c);
  if (o->config) config_load(&c, o->config);
  if (o->target) c.target = xstrdup(o->target);
  if (o->requantize) {
    if (strcmp(o->requantize, "shift") == 0) c.requantize = REQ_SHIFT;
    else if (strcmp(o->requantize, "dyadic") == 0) c.requantize = REQ_DYADIC;
    else error_cli("--requantize must be shift or dyadic, got '%s'", o->requantize);
  }
  if (o->calibration) {
    int m = -1;
    for (int k = CAL_MAX; k <= CAL_ENTROPY; k++)
      if (strcmp(o->calibration, calib_method_name((CalibMethod)k)) == 0) m = k;
    if (m < 0) error_cli("--calibration must be max, percentile, mse or entropy, got '%s'", o->calibration);
    c.calib_method = (CalibMethod)m;
  }
  if (o->weight_bits) {
    char *end;
    long b = strtol(o->weight_bits, &end, 10);
    if (*end || end == o->weight_bits || b < 2 || b > 8)
      error_cli("--weight-bits must be an integer from 2 to 8, got '%s'", o->weight_bits);
    c.weight_bits = (int)b;
  }
  if (o->bias_fix && !bias_fix_parse(o->bias_fix, &c.bias_fix))
    error_cli("--bias-fix must be on, enlarge or off, got '%s'", o->bias_fix);
  return c;
}

static Graph *need_model(const Options *o) {
  if (!o->model) error_cli("%s: no model given (shiftc %s MODEL.nn ...)", o->command, o->command);
  return load_model(o->model);
}

/* Samples for every model input from the --input options. */
static Samples *gather_inputs(const Graph *g, const Options *o) {
  if (o->ninputs == 0) error_cli("%s: no input given (--input X.npy)", o->command);
  Samples *s = xcalloc((size_t)g->ninputs, sizeof(Samples));
  bool *seen = xcalloc((size_t)g->ninputs, sizeof(bool));
  for (int i = 0; i < o->ninputs; i++) {
    const char *spec = o->inputs[i], *eq = strchr(spec, '=');
    int which = 0;
    const char *path = spec;
    if (eq) {
      char *name = xstrndup(spec, (size_t)(eq - spec));
      path = eq + 1;
      which = -1;
      for (int k = 0; k < g->ninputs; k++)
        if (strcmp(g->values[g->inputs[k]].name, name) == 0) which = k;
      if (which < 0) error_cli("--input %s: the model has no input named '%s'", spec, name);
    } else if (g->ninputs > 1) {
      error_cli("the model has %d inputs: give each as --input NAME=X.npy", g->ninputs);
    }
    if (seen[which]) error_cli("--input: input '%s' is given twice", g->values[g->inputs[which]].name);
    seen[which] = true;
    const Value *in = &g->values[g->inputs[which]];
    Tensor t = npy_load(path);
    s[which] = samples_from_tensor(&t, in, path);
  }
  for (int k = 0; k < g->ninputs; k++)
    if (!seen[k]) error_cli("no data for input '%s' (--input %s=X.npy)", g->values[g->inputs[k]].name,
                            g->values[g->inputs[k]].name);
  for (int k = 1; k < g->ninputs; k++)
    if (s[k].n != s[0].n)
      error_cli("inputs hold different numbers of samples (%d and %d)", s[0].n, s[k].n);
  free(seen);
  return s;
}

/* The shape of N stacked results of a value: N == 1 keeps the shape; otherwise
 * a leading batch axis of 1 becomes N, or N is put in front. */
static Shape stacked_shape(const Shape *one, int n) {
  Shape s = *one;
  if (n == 1) return s;
  if (s.rank > 0 && s.d[0] == 1) {
    s.d[0] = n;
    return s;
  }
  if (s.rank == MAX_RANK) internal_error("cannot stack rank-%d outputs", MAX_RANK);
  memmove(s.d + 1, s.d, sizeof(int64_t) * (size_t)s.rank);
  s.d[0] = n;
  s.rank++;
  return s;
}

/* mkdir -p */
static void make_dirs(const char *path) {
  if (!*path) error_cli("the output folder name is empty");
  char *p = xstrdup(path);
  for (char *c = p + 1; *c; c++) {
    if (*c != '/') continue;
    *c = '\0';
    if (mkdir(p, 0777) != 0 && errno != EEXIST) error_cli("cannot create folder '%s': %s", p, strerror(errno));
    *c = '/';
  }
  if (mkdir(p, 0777) != 0 && errno != EEXIST) error_cli("cannot create folder '%s': %s", p, strerror(errno));
  free(p);
}

/* Where output v goes: -o itself for one output; DIR/<name>.npy for several. */
static const char *output_path(const Graph *g, const Options *o, const Value *v) {
  if (g->noutputs == 1) return o->output;
  make_dirs(o->output);
  return xformat("%s/%s.npy", o->output, v->name);
}

static void write_outputs(const Graph *g, const Options *o, float **out, int n) {
  for (int k = 0; k < g->noutputs; k++) {
    const Value *v = &g->values[g->outputs[k]];
    Shape s = stacked_shape(&v->shape, n);
    if (!o->output) {
      int64_t per = shape_numel(&v->shape);
      for (int i = 0; i < n; i++) {
        printf("%s[%d]:", v->name, i);
        for (int64_t j = 0; j < per; j++) printf(" %.6g", out[k][i * per + j]);
        putchar('\n');
      }
      continue;
    }
    const char *path = output_path(g, o, v);
    if (!npy_save_f32(path, &s, out[k])) error_cli("cannot write '%s': %s", path, strerror(errno));
  }
}

/* run --int: quantize each input sample, run the integer program, write the
 * output dequantized (or, with --raw, the int8 codes as stored). */
static int cmd_run_int(const Options *o) {
  if (!o->model) error_cli("run: no model given (shiftc run MODEL.nn ...)");
  Config cfg = load_config(o);
  IntProgram *p = load_int_program(o->model, &cfg);
  const Graph *g = p->g;
  Samples *s = gather_inputs(g, o);
  int n = s[0].n;
  IntRun *r = int_run_new(p);
  int8_t **codes = xcalloc((size_t)g->ninputs, sizeof(int8_t *));
  for (int k = 0; k < g->ninputs; k++) codes[k] = xmalloc((size_t)value_code_bytes(&g->values[g->inputs[k]]));
  float **out = xcalloc((size_t)g->noutputs, sizeof(float *));
  int8_t **raw = xcalloc((size_t)g->noutputs, sizeof(int8_t *));
  for (int k = 0; k < g->noutputs; k++) {
    int64_t per = shape_numel(&g->values[g->outputs[k]].shape);
    out[k] = xmalloc(sizeof(float) * (size_t)(per * n));
    raw[k] = xmalloc((size_t)(per * n));
  }
  for (int i = 0; i < n; i++) {
    for (int k = 0; k < g->ninputs; k++)
      quantize_values(g->values[g->inputs[k]].q, s[k].data + (size_t)i * (size_t)s[k].per_sample, codes[k],
                      s[k].per_sample);
    int_run(r, (const int8_t *const *)codes);
    for (int k = 0; k < g->noutputs; k++) {
      const Value *v = &g->values[g->outputs[k]];
      int64_t per = shape_numel(&v->shape);
      float sc = (float)v->q->scale;
      for (int64_t j = 0; j < per; j++) {
        int8_t c = r->buf[v->id][j];
        raw[k][i * per + j] = c;
        out[k][i * per + j] = (float)c * sc;
      }
    }
  }
  if (o->raw) {
    for (int k = 0; k < g->noutputs; k++) {
      const Value *v = &g->values[g->outputs[k]];
      Shape sh = stacked_shape(&v->shape, n);
      if (!o->output) error_cli("run --raw needs -o Y.npy");
      const char *path = output_path(g, o, v);
      if (!npy_save_i8(path, &sh, raw[k])) error_cli("cannot write '%s': %s", path, strerror(errno));
    }
  } else {
    write_outputs(g, o, out, n);
  }
  int_run_free(r);
  return 0;
}

static int cmd_run(const Options *o) {
  if (o->mode_int && o->mode_float) error_cli("run: choose one of --int and --float");
  if (o->mode_int) return cmd_run_int(o);
  if (o->raw) error_cli("run: --raw goes with --int");
  Graph *g = need_model(o);
  if (o->config) load_config(o);
  Samples *s = gather_inputs(g, o);
  int n = s[0].n;
  float **out = xcalloc((size_t)g->noutputs, sizeof(float *));
  for (int k = 0; k < g->noutputs; k++)
    out[k] = xmalloc(sizeof(float) * (size_t)(shape_numel(&g->values[g->outputs[k]].shape) * n));
  FloatRun *r = float_run_new(g);
  const float **in = xcalloc((size_t)g->ninputs, sizeof(float *));
  for (int i = 0; i < n; i++) {
    for (int k = 0; k < g->ninputs; k++) in[k] = s[k].data + (size_t)i * (size_t)s[k].per_sample;
    float_run(r, in);
    for (int k = 0; k < g->noutputs; k++) {
      int64_t per = shape_numel(&g->values[g->outputs[k]].shape);
      memcpy(out[k] + (size_t)i * (size_t)per, r->buf[g->outputs[k]], sizeof(float) * (size_t)per);
    }
  }
  write_outputs(g, o, out, n);
  float_run_free(r);
  return 0;
}

/* eval --per-layer: the layers ranked by the top-1 they cost. */
static void print_sensitivity(const IntProgram *p, const Sensitivity *s) {
  printf("per-layer sensitivity (top-1 on %d samples; float %d, integer %d correct):\n", s->samples,
         s->float_correct, s->int_correct);
  printf("  %-4s %-24s %14s %8s %15s %8s\n", "rank", "layer", "only-int top-1", "cost", "only-float top-1", "gain");
  for (int i = 0; i < s->nlayers; i++) {
    int k = s->rank[i];
    char fo[32] = "n/a", gain[32] = "n/a";
    if (s->float_only[k] >= 0) {
      snprintf(fo, sizeof fo, "%d", s->float_only[k]);
      snprintf(gain, sizeof gain, "%+.2f", 100.0 * (s->float_only[k] - s->int_correct) / s->samples);
    }
    printf("  %-4d %-24s %14d %+8.2f %15s %8s\n", i + 1, p->layers[k].name, s->int_only[k],
           100.0 * (s->float_correct - s->int_only[k]) / s->samples, fo, gain);
  }
}

static int cmd_eval(const Options *o) {
  if (o->mode_float && (o->html || o->per_layer))
    error_cli("eval: --html and --per-layer compare integer with float; drop --float");
  Graph *g = need_model(o);
  Config cfg = load_config(o);
  if (!o->data) error_cli("eval: no test set given (--data TEST.safetensors)");
  if (g->ninputs != 1 || g->noutputs != 1)
    error_cli("eval: the model must have one input and one output (it has %d and %d)", g->ninputs,
              g->noutputs);
  TensorFile *tf = tensorfile_load(o->data);
  const Value *in = &g->values[g->inputs[0]];
  const Tensor *x = tensorfile_find(tf, in->name);
  if (!x) error_file(o->data, "no tensor named '%s' (the model's input)", in->name);
  const Tensor *labels = tensorfile_find(tf, "labels");
  if (!labels) error_file(o->data, "no tensor named 'labels'");
  if (!labels->i || labels->shape.rank != 1)
    error_file(o->data, "tensor 'labels' must be a 1-D integer tensor");
  Samples s = samples_from_tensor(x, in, o->data);
  if (labels->shape.d[0] != s.n)
    error_file(o->data, "'labels' holds %lld labels for %d samples", (long long)labels->shape.d[0], s.n);
  printf("%s: %d samples from %s\n", g->name, s.n, o->data);
  if (o->mode_float) {
    int correct = float_top1(g, &s, s.n, labels->i);
    printf("float top-1: %.2f%% (%d/%d)\n", 100.0 * correct / s.n, correct, s.n);
    return 0;
  }
  IntProgram *p = load_int_program(o->model, &cfg);
  Measurement m = measure(p, g, &s, s.n, labels->i);
  printf("float top-1: %.2f%% (%d/%d)\n", 100.0 * m.float_correct / s.n, m.float_correct, s.n);
  printf("int%d top-1: %.2f%% (%d/%d)  [requantize: %s, calibration: %s, weights: %d-bit %s]\n",
         p->g->values[p->g->outputs[0]].q->bits, 100.0 * m.int_correct / s.n, m.int_correct, s.n,
         requant_mode_name(cfg.requantize), calib_method_name(cfg.calib_method), cfg.weight_bits,
         cfg.granularity == GRAN_PER_CHANNEL ? "per-channel" : "per-tensor");
  printf("agreement: %.2f%% (%d/%d)\n", 100.0 * m.agree / s.n, m.agree, s.n);
  printf("per-layer SQNR (dB, integer vs float on these samples):\n");
  for (int k = 0; k < p->nlayers; k++) {
    const ILayer *l = &p->layers[k];
    const Node *n = &p->g->nodes[l->node];
    printf("  %-24s %-10s%s%-28s %6.1f\n", p->g->values[l->out].name, op_table[n->op].name,
           l->fused ? " + " : "   ", l->fused ? l->fused : "", m.sqnr_db[k]);
  }
  Sensitivity *sens = o->per_layer ? measure_sensitivity(p, &s, s.n, labels->i) : NULL;
  if (sens) print_sensitivity(p, sens);
  if (o->html) {
    EvalResult ev = {o->data, s.n, m.float_correct, m.int_correct, m.agree, sens};
    char *json = report_json(p, &m), *html = report_html(json, &ev);
    if (!write_file_atomic(o->html, html, strlen(html))) error_cli("cannot write '%s': %s", o->html, strerror(errno));
    printf("report page: %s\n", o->html);
    free(json);
    free(html);
  }
  return 0;
}

/* Samples over which compile measures SQNR for the report. */
#define REPORT_SQNR_SAMPLES 64

/* compile --float-c: the float graph (batchnorm folded) as C; goldens from the calibration
 * data when a configuration names it, computed on the unfolded graph as `run --float` does. */
static int cmd_compile_float(const Options *o, const Config *cfg) {
  if (o->target) error_cli("compile: --float-c writes float C; it takes no --target");
  Graph *ref = load_model(o->model), *g = load_model(o->model);
  fold_batchnorm(g);
  const char *outdir = o->output ? o->output : xformat("build/%s_float", g->name);
  const Samples *s = NULL;
  int n = 0;
  if (cfg->calib_data && cfg->golden > 0) {
    s = samples_from_file(ref, cfg->calib_data, cfg->calib_data_loc);
    n = s[0].n < cfg->golden ? s[0].n : cfg->golden;
  }
  make_dirs(outdir);
  emit_float_c(g, ref, s, n, outdir);
  return 0;
}

static int cmd_compile(const Options *o) {
  if (!o->model) error_cli("compile: no model given (shiftc compile MODEL.nn -c CONFIG.yaml)");
  Config cfg = load_config(o);
  if (o->float_c) return cmd_compile_float(o, &cfg);
  const Target *t = o->target ? target_lookup(cfg.target) : target_lookup_at(cfg.target, cfg.target_loc);
  IntProgram *p = load_int_program(o->model, &cfg);
  const char *outdir = o->output ? o->output : xformat("build/%s", p->g->name);
  Graph *fg = load_model(o->model);
  const Samples *cal = p->calib;
  /* The samples calibration used (quantization.calibration.samples), at most 64. */
  int nm = p->calib_samples < REPORT_SQNR_SAMPLES ? p->calib_samples : REPORT_SQNR_SAMPLES;
  Measurement m = measure(p, fg, cal, nm, NULL);
  make_dirs(outdir);
  emit_c(p, t, outdir, cal, cfg.golden);
  write_report(p, &m, outdir);
  int64_t macs = 0, wbytes = 0;
  int worst = -1;
  for (int k = 0; k < p->nlayers; k++) {
    macs += p->layers[k].macs;
    wbytes += p->layers[k].weight ? p->layers[k].weight_bytes : 0;
    if (!isnan(m.sqnr_db[k]) && (worst < 0 || m.sqnr_db[k] < m.sqnr_db[worst])) worst = k;
  }
  printf("%s -> %s/ (target %s, requantize %s, calibration %s)\n", o->model, outdir, cfg.target,
         requant_mode_name(cfg.requantize), calib_method_name(cfg.calib_method));
  printf("  %d layers, %lld MACs, %lld weight bytes; arena %lld bytes (liveness lower bound %lld, "
         "all tensors %lld)\n", p->nlayers, (long long)macs, (long long)wbytes, (long long)p->arena_bytes,
         (long long)p->lower_bound, (long long)p->sum_bytes);
  printf("  in place: lower bound %lld bytes, arena %.3fx that bound\n", (long long)p->lower_bound_inplace,
         p->lower_bound_inplace ? (double)p->arena_bytes / (double)p->lower_bound_inplace : 1.0);
  if (worst >= 0)
    printf("  worst SQNR %.1f dB at %s (over %d calibration samples); %d goldens\n", m.sqnr_db[worst],
           p->layers[worst].name, nm, cfg.golden);
  return 0;
}

static int cmd_verify(const Options *o) {
  if (!o->model) error_cli("verify: no output folder given (shiftc verify OUTDIR)");
  if (o->profile_ms && !o->profile) error_cli("verify: --ms is the length of a profile: give it with --profile");
  if (o->profile && o->board) error_cli("verify: --profile times the code on this machine; it does not go with --board");
  if (o->profile) {
    char *end = NULL;
    double ms = o->profile_ms ? strtod(o->profile_ms, &end) : 500;
    if (o->profile_ms && (end == o->profile_ms || *end || !(ms >= 1 && ms <= 600000)))
      error_cli("verify: --ms wants milliseconds from 1 to 600000, not '%s'", o->profile_ms);
    return verify_profile(o->model, ms);
  }
  return o->board ? verify_board(o->model, o->board) : verify_outdir(o->model);
}

static int cmd_check(const Options *o) {
  Graph *g = need_model(o);
  if (o->config) load_config(o);
  graph_dump(g, stdout);
  return 0;
}

/* --shape NAME=[1,3,224,224]: pins an ONNX input's dynamic dimensions. */
static void pin_shapes(const Options *o) {
  for (int i = 0; i < o->nshapes; i++) {
    const char *spec = o->shapes[i], *eq = strchr(spec, '=');
    if (!eq || eq == spec || eq[1] != '[')
      error_cli("--shape %s: expected NAME=[D,...] (for example --shape x=[1,3,224,224])", spec);
    Shape s = {0};
    const char *p = eq + 2;
    while (*p != ']') {
      char *end;
      long long d = strtoll(p, &end, 10);
      if (end == p || d <= 0 || s.rank == MAX_RANK || (*end != ',' && *end != ']'))
        error_cli("--shape %s: expected NAME=[D,...] with positive sizes, at most %d", spec, MAX_RANK);
      s.d[s.rank++] = d;
      p = end + (*end == ',');
    }
    if (p[1]) error_cli("--shape %s: unexpected text after ']'", spec);
    char *name = xstrndup(spec, (size_t)(eq - spec));
    onnx_pin_shape(name, &s);
    free(name);
  }
  if (o->nshapes && o->model && !onnx_file_sniff(o->model))
    error_cli("--shape applies to ONNX models; '%s' is not one", o->model);
}

static int cmd_import(const Options *o) {
  if (!o->model) error_cli("import: no model given (shiftc import MODEL.onnx -o OUTDIR)");
  if (!onnx_file_sniff(o->model)) error_cli("import: '%s' is not an ONNX model", o->model);
  Graph *g = load_model(o->model);
  const char *outdir = o->output ? o->output : ".";
  make_dirs(outdir);
  write_nn_model(g, outdir);
  return 0;
}

int main(int argc, char **argv) {
  Options o = parse_args(argc, argv);
  pin_shapes(&o);
  if (strcmp(o.command, "import") == 0) return cmd_import(&o);
  if (strcmp(o.command, "run") == 0) return cmd_run(&o);
  if (strcmp(o.command, "eval") == 0) return cmd_eval(&o);
  if (strcmp(o.command, "check") == 0) return cmd_check(&o);
  if (strcmp(o.command, "compile") == 0) return cmd_compile(&o);
  if (strcmp(o.command, "verify") == 0) return cmd_verify(&o);
  error_cli("unknown command '%s' (commands: compile, run, eval, verify, check, import; see shiftc --help)", o.command);
}
