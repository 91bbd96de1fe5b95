/* test_config.c — the YAML configuration (config.c): defaults, the example of
 * interfaces.md §3, block vs flow style, paths relative to the YAML file, and every
 * user error with its exact three-line message (a child process loads the file, so
 * that the error's exit(1) can be observed).
 *
 *   test_config              run the checks (from the repository root, it also checks
 *                            tests/errors/yaml_*.yaml against their .expect files)
 *   test_config --load FILE  just load FILE, to regenerate a .expect by hand
 */
#define _POSIX_C_SOURCE 200809L
#include "shiftc.h"
#include "testlib.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* The error cases exit on purpose without freeing anything; with leak detection
 * on, every such child would add a leak report to the stderr being compared. */
const char *__asan_default_options(void);
const char *__asan_default_options(void) { return "detect_leaks=0"; }

static char *tmp; /* this run's scratch folder */

static char *write_file(const char *name, const char *text) {
  char *path = xformat("%s/%s", tmp, name);
  FILE *f = fopen(path, "wb");
  if (!f) internal_error("cannot write %s", path);
  fputs(text, f);
  fclose(f);
  return path;
}

static Config load(const char *path) {
  Config c;
  config_defaults(&c);
  config_load(&c, path);
  return c;
}

/* Every field on one line, so that a mismatch shows all differences at once. */
static char *summary(const Config *c) {
  static const char *const gran[] = {"per-channel", "per-tensor"};
  static const char *const ln[] = {"i-sqrt", "l1"};
  StrBuf sb = {0};
  sb_printf(&sb, "target=%s w=%d/%s a=%d req=%s bias=%d cal=%s/%g/%s/%d gelu=%d softmax=%d ln=%s golden=%d",
            c->target, c->weight_bits, gran[c->granularity], c->act_bits,
            requant_mode_name(c->requantize), c->bias_bits, calib_method_name(c->calib_method),
            c->percentile, c->calib_data ? c->calib_data : "-", c->calib_samples, (int)c->gelu,
            (int)c->softmax, ln[c->layernorm], c->golden);
  for (int i = 0; i < c->nlayers; i++) {
    const LayerOverride *o = &c->layers[i];
    sb_printf(&sb, " [%s@%d:%d w=%d g=%d a=%d b=%d]", o->pattern, o->loc.line, o->loc.col,
              o->weight_bits, o->granularity, o->act_bits, o->bias_bits);
  }
  return sb.data;
}

static void check_summary(const char *name, const Config *c, const char *want) {
  char *got = summary(c);
  t_check(strcmp(got, want) == 0, name, "\n  got  %s\n  want %s", got, want);
  free(got);
}

/* Loads `path` in a child with stderr sent to a file; returns the exit status
 * (128 + signal if killed) and the captured stderr. */
static int load_in_child(const char *path, char **err) {
  char *errpath = xformat("%s/stderr.txt", tmp);
  fflush(stdout);
  fflush(stderr);
  pid_t pid = fork();
  if (pid < 0) internal_error("fork failed");
  if (pid == 0) {
    int fd = open(errpath, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) _exit(99);
    dup2(fd, 2);
    close(fd);
    load(path);
    _exit(0); /* no error: the parent reports status 0 */
  }
  int st = 0;
  waitpid(pid, &st, 0);
  *err = t_read_file(errpath, NULL);
  if (!*err) *err = xstrdup("");
  free(errpath);
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* `want` is the expected stderr after the file's path (which is the temp folder's). */
static void expect_error_at(const char *name, const char *path, const char *want) {
  char *expected = xformat("%s%s", path, want), *err;
  int status = load_in_child(path, &err);
  t_check(status == 1 && strcmp(err, expected) == 0, name,
          "exit status %d (want 1)\n--- got stderr:\n%s--- want:\n%s---", status, err, expected);
  free(expected);
  free(err);
}

static void expect_error(const char *name, const char *yaml, const char *want) {
  char *file = xformat("%s.yaml", name), *path = write_file(file, yaml);
  expect_error_at(name, path, want);
  free(file);
  free(path);
}

/* ---------------------------------------------------------------- values */

#define DEFAULTS                                                                          \
  "target=scalar w=8/per-channel a=8 req=shift bias=32 cal=percentile/99.99/-/256 gelu=0 " \
  "softmax=0 ln=i-sqrt golden=0"

/* interfaces.md §3, verbatim. */
static const char example_yaml[] =
    "target: scalar                 # scalar | neon | neon-dotprod | avx2 | avx2-vnni | avx512-vnni\n"
    "quantization:\n"
    "  weights:     { bits: 8, granularity: per-channel }   # bits 2..8; per-channel | per-tensor\n"
    "  activations: { bits: 8 }\n"
    "  requantize: shift            # shift: power-of-two scales, pure shifts | dyadic: int32 multiplier + shift\n"
    "  bias_bits: 32                # 16 or 32: the width a bias is stored and added in\n"
    "  calibration:\n"
    "    method: percentile         # max | percentile | mse | entropy\n"
    "    percentile: 99.99\n"
    "    data: calib.safetensors    # tensor named like the model input: [N, ...]\n"
    "    samples: 256\n"
    "  integer_ops:                 # how non-linear ops run without floats\n"
    "    gelu: i-gelu               # I-BERT second-order polynomial\n"
    "    softmax: i-exp\n"
    "    layernorm: i-sqrt          # i-sqrt (L2, integer Newton sqrt) | l1 (model trained with norm=l1)\n"
    "  layers:                      # overrides by op name or glob\n"
    "    conv1: { weights: { bits: 4 } }\n"
    "golden: 16                     # golden input/output pairs written next to the code\n";

static void test_values(void) {
  Config c;
  config_defaults(&c);
  check_summary("defaults", &c, DEFAULTS);
  t_check(c.path == NULL && c.nlayers == 0 && c.layers == NULL && c.target_loc.file == NULL,
          "defaults: no file, no layers, no locations", "path %p nlayers %d", (void *)c.path,
          c.nlayers);

  t_check(strcmp(calib_method_name(CAL_MAX), "max") == 0 &&
              strcmp(calib_method_name(CAL_PERCENTILE), "percentile") == 0 &&
              strcmp(calib_method_name(CAL_MSE), "mse") == 0 &&
              strcmp(calib_method_name(CAL_ENTROPY), "entropy") == 0 &&
              strcmp(requant_mode_name(REQ_SHIFT), "shift") == 0 &&
              strcmp(requant_mode_name(REQ_DYADIC), "dyadic") == 0,
          "calib_method_name and requant_mode_name", "a name differs");

  char *p = write_file("empty.yaml", "");
  c = load(p);
  check_summary("empty file: all defaults", &c, DEFAULTS);
  t_check(c.path && strcmp(c.path, p) == 0, "empty file: path recorded", "path %s", c.path);
  free(p);

  p = write_file("comments.yaml", "# nothing here yet\n\n   # still nothing\n");
  c = load(p);
  check_summary("comments only: all defaults", &c, DEFAULTS);
  free(p);

  p = write_file("nullsections.yaml",
                 "quantization:\n  calibration:   # every key commented out\n  #  samples: 3\n"
                 "  integer_ops: ~\n  layers:\n");
  c = load(p);
  check_summary("empty sections keep the defaults", &c, DEFAULTS);
  free(p);

  /* The example: its values are the defaults except data, golden and one layer. */
  p = write_file("example.yaml", example_yaml);
  c = load(p);
  char *want = xformat("target=scalar w=8/per-channel a=8 req=shift bias=32 "
                       "cal=percentile/99.99/%s/calib.safetensors/256 gelu=0 softmax=0 "
                       "ln=i-sqrt golden=16 [conv1@17:5 w=4 g=-1 a=-1 b=-1]",
                       tmp);
  check_summary("interfaces.md example", &c, want);
  free(want);
  t_check(c.target_loc.line == 1 && c.target_loc.col == 9 && c.calib_data_loc.line == 10 &&
              c.calib_data_loc.col == 11 && strcmp(c.calib_data_loc.file, p) == 0,
          "example: locations of target and data", "target %d:%d data %d:%d",
          c.target_loc.line, c.target_loc.col, c.calib_data_loc.line, c.calib_data_loc.col);
  free(p);

  /* Every key away from its default, once in block style and once in flow style. */
  p = write_file("block.yaml",
                 "# every key set\n"
                 "target: avx2-vnni\n"
                 "quantization:\n"
                 "  weights:\n"
                 "    bits: 4\n"
                 "    granularity: per-tensor\n"
                 "  activations:\n"
                 "    bits: \"8\"            # quoted numbers are numbers\n"
                 "  requantize: dyadic\n"
                 "  bias_bits: 16\n"
                 "  calibration:\n"
                 "    method: mse\n"
                 "    percentile: 1e2\n"
                 "    data: 'data/calib.npy'\n"
                 "    samples: 64\n"
                 "  integer_ops:\n"
                 "    gelu: i-gelu\n"
                 "    softmax: i-exp\n"
                 "    layernorm: l1\n"
                 "  layers:\n"
                 "    conv1:\n"
                 "      weights:\n"
                 "        bits: 2\n"
                 "        granularity: per-channel\n"
                 "      activations:\n"
                 "        bits: 8\n"
                 "      bias_bits: 32\n"
                 "    \"encoder.*.up\":\n"
                 "      bias_bits: 16\n"
                 "golden: 3\n");
  Config block = load(p);
  want = xformat("target=avx2-vnni w=4/per-tensor a=8 req=dyadic bias=16 "
                 "cal=mse/100/%s/data/calib.npy/64 gelu=0 softmax=0 ln=l1 golden=3 "
                 "[conv1@21:5 w=2 g=0 a=8 b=32] [encoder.*.up@28:5 w=-1 g=-1 a=-1 b=16]",
                 tmp);
  check_summary("block style: every key", &block, want);
  free(want);
  free(p);

  p = write_file("flow.yaml",
                 "{target: avx2-vnni, quantization: {weights: {bits: 4, granularity: per-tensor},\n"
                 " activations: {bits: \"8\"}, requantize: dyadic, bias_bits: 16,\n"
                 " calibration: {method: mse, percentile: 1e2, data: 'data/calib.npy', samples: 64},\n"
                 " integer_ops: {gelu: i-gelu, softmax: i-exp, layernorm: l1},\n"
                 " layers: {conv1: {weights: {bits: 2, granularity: per-channel}, activations: {bits: 8},\n"
                 "                  bias_bits: 32}, \"encoder.*.up\": {bias_bits: 16}}},\n"
                 " golden: 3}\n");
  Config flow = load(p);
  char *sb = summary(&block), *sf = summary(&flow);
  /* The same settings; only the layers' source locations differ. */
  char *cut_b = strchr(sb, '['), *cut_f = strchr(sf, '[');
  if (cut_b) *cut_b = '\0';
  if (cut_f) *cut_f = '\0';
  t_check(strcmp(sb, sf) == 0 && flow.nlayers == 2 && flow.layers[0].weight_bits == 2 &&
              flow.layers[0].act_bits == 8 && flow.layers[0].bias_bits == 32 &&
              flow.layers[0].granularity == GRAN_PER_CHANNEL &&
              strcmp(flow.layers[1].pattern, "encoder.*.up") == 0 &&
              flow.layers[1].bias_bits == 16 && flow.layers[1].weight_bits == -1 &&
              flow.layers[0].loc.line == 5 && flow.layers[0].loc.col == 11,
          "flow style: same values as block style", "\n  flow  %s\n  block %s", sf, sb);
  free(sb);
  free(sf);
  free(p);

  /* Paths resolve against the YAML's folder, not the working directory. */
  char *sub = xformat("%s/cfg", tmp);
  mkdir(sub, 0755);
  p = write_file("cfg/rel.yaml", "quantization: {calibration: {data: ../data/c.safetensors}}\n");
  c = load(p);
  want = xformat("%s/cfg/../data/c.safetensors", tmp);
  t_check(c.calib_data && strcmp(c.calib_data, want) == 0, "data: relative to the YAML's folder",
          "got %s, want %s", c.calib_data, want);
  free(want);
  free(p);
  p = write_file("cfg/abs.yaml", "quantization: {calibration: {data: /abs/c.safetensors}}\n");
  c = load(p);
  t_check(c.calib_data && strcmp(c.calib_data, "/abs/c.safetensors") == 0,
          "data: an absolute path is kept", "got %s", c.calib_data);
  free(p);
  free(sub);

  /* A second file overlays the first: untouched keys keep their values. */
  char *p1 = write_file("base.yaml", "target: neon\nquantization: {layers: {fc: {bias_bits: 16}}}\n");
  char *p2 = write_file("over.yaml", "golden: 5\nquantization: {layers: {conv*: {bias_bits: 32}}}\n");
  config_defaults(&c);
  config_load(&c, p1);
  config_load(&c, p2);
  t_check(strcmp(c.target, "neon") == 0 && c.golden == 5 && c.nlayers == 2 &&
              strcmp(c.layers[0].pattern, "fc") == 0 && strcmp(c.layers[1].pattern, "conv*") == 0 &&
              strcmp(c.path, p2) == 0,
          "a second config_load overlays the first", "target %s golden %d nlayers %d", c.target,
          c.golden, c.nlayers);
  free(p1);
  free(p2);
}

/* ---------------------------------------------------------------- errors */

static void test_errors(void) {
  expect_error("unknown_top", "target: neon\ntargte: avx2\n",
               ":2:1: error: unknown key 'targte' at top level (expected one of: target, quantization, golden)\n"
               "targte: avx2\n"
               "^\n");
  expect_error("unknown_nested", "quantization:\n  calibration:\n    method: max\n    sample: 10\n",
               ":4:5: error: unknown key 'sample' in 'quantization.calibration' (expected one of: method, percentile, data, samples)\n"
               "    sample: 10\n"
               "    ^\n");
  expect_error("unknown_quant", "quantization: {weight: {bits: 4}}\n",
               ":1:16: error: unknown key 'weight' in 'quantization' (expected one of: weights, activations, requantize, bias_bits, bias_fix, calibration, integer_ops, layers)\n"
               "quantization: {weight: {bits: 4}}\n"
               "               ^\n");
  expect_error("unknown_layer_key", "quantization:\n  layers:\n    conv1: {bits: 4}\n",
               ":3:13: error: unknown key 'bits' in 'quantization.layers.conv1' (expected one of: weights, activations, bias_bits)\n"
               "    conv1: {bits: 4}\n"
               "            ^\n");
  expect_error("not_mapping", "quantization:\n  weights: 8\n",
               ":2:12: error: 'quantization.weights' must be a mapping\n"
               "  weights: 8\n"
               "           ^\n");
  expect_error("golden_abc", "golden: abc\n",
               ":1:9: error: 'golden' must be an integer, got 'abc'\n"
               "golden: abc\n"
               "        ^\n");
  expect_error("bits_real", "quantization:\n  weights: {bits: 8.0}\n",
               ":2:19: error: 'quantization.weights.bits' must be an integer, got '8.0'\n"
               "  weights: {bits: 8.0}\n"
               "                  ^\n");
  expect_error("golden_empty", "golden:\ntarget: neon\n",
               ":1:8: error: 'golden' must be an integer, got nothing\n"
               "golden:\n"
               "       ^\n");
  expect_error("samples_list", "quantization: {calibration: {samples: [1, 2]}}\n",
               ":1:39: error: 'quantization.calibration.samples' must be an integer, got a sequence\n"
               "quantization: {calibration: {samples: [1, 2]}}\n"
               "                                      ^\n");
  expect_error("percentile_x", "quantization:\n  calibration:\n    percentile: x\n",
               ":3:17: error: 'quantization.calibration.percentile' must be a number, got 'x'\n"
               "    percentile: x\n"
               "                ^\n");
  expect_error("data_mapping", "quantization:\n  calibration:\n    data: {file: a.npy}\n",
               ":3:11: error: 'quantization.calibration.data' must be a string\n"
               "    data: {file: a.npy}\n"
               "          ^\n");
  expect_error("requantize_foo", "quantization:\n  requantize: foo\n",
               ":2:15: error: 'quantization.requantize' must be one of shift, dyadic; got 'foo'\n"
               "  requantize: foo\n"
               "              ^\n");
  expect_error("target_bad", "target: \"avx512\"\n",
               ":1:9: error: 'target' must be one of scalar, neon, neon-dotprod, avx2, avx2-vnni, avx512-vnni; got 'avx512'\n"
               "target: \"avx512\"\n"
               "        ^\n");
  expect_error("method_bad", "quantization: {calibration: {method: kl}}\n",
               ":1:38: error: 'quantization.calibration.method' must be one of max, percentile, mse, entropy; got 'kl'\n"
               "quantization: {calibration: {method: kl}}\n"
               "                                     ^\n");
  expect_error("layernorm_bad", "quantization:\n  integer_ops:\n    layernorm: l2\n",
               ":3:16: error: 'quantization.integer_ops.layernorm' must be one of i-sqrt, l1; got 'l2'\n"
               "    layernorm: l2\n"
               "               ^\n");
  expect_error("layer_granularity", "quantization:\n  layers:\n    \"enc.*\": {weights: {granularity: per-row}}\n",
               ":3:38: error: 'quantization.layers.enc.*.weights.granularity' must be one of per-channel, per-tensor; got 'per-row'\n"
               "    \"enc.*\": {weights: {granularity: per-row}}\n"
               "                                     ^\n");
  expect_error("bits_9", "quantization:\n  weights:\n    bits: 9\n",
               ":3:11: error: 'quantization.weights.bits' must be between 2 and 8, got 9\n"
               "    bits: 9\n"
               "          ^\n");
  expect_error("layer_bits_1", "quantization:\n  layers:\n    fc: {weights: {bits: 1}}\n",
               ":3:26: error: 'quantization.layers.fc.weights.bits' must be between 2 and 8, got 1\n"
               "    fc: {weights: {bits: 1}}\n"
               "                         ^\n");
  expect_error("bias_24", "quantization:\n  bias_bits: 24\n",
               ":2:14: error: 'quantization.bias_bits' must be 16 or 32, got 24\n"
               "  bias_bits: 24\n"
               "             ^\n");
  expect_error("percentile_0", "quantization:\n  calibration:\n    percentile: 0\n",
               ":3:17: error: 'quantization.calibration.percentile' must be in (0, 100], got 0\n"
               "    percentile: 0\n"
               "                ^\n");
  expect_error("percentile_101", "quantization:\n  calibration:\n    percentile: 100.5\n",
               ":3:17: error: 'quantization.calibration.percentile' must be in (0, 100], got 100.5\n"
               "    percentile: 100.5\n"
               "                ^\n");
  expect_error("samples_0", "quantization:\n  calibration:\n    samples: 0\n",
               ":3:14: error: 'quantization.calibration.samples' must be positive, got 0\n"
               "    samples: 0\n"
               "             ^\n");
  expect_error("golden_neg", "golden: -1\n",
               ":1:9: error: 'golden' must be >= 0, got -1\n"
               "golden: -1\n"
               "        ^\n");
  expect_error("golden_huge", "golden: 99999999999999999999\n",
               ":1:9: error: 'golden' must be at most 2147483647, got 99999999999999999999\n"
               "golden: 99999999999999999999\n"
               "        ^\n");
  expect_error("act_bits_4", "quantization:\n  activations: {bits: 4}\n",
               ":2:23: error: 'quantization.activations.bits' must be 8, got 4\n"
               "  activations: {bits: 4}\n"
               "                      ^\n");
  expect_error("duplicate", "golden: 1\ntarget: neon\ngolden: 2\n",
               ":3:1: error: duplicate key 'golden' (first at line 1)\n"
               "golden: 2\n"
               "^\n");
  expect_error("duplicate_layer", "quantization:\n  layers:\n    fc: {bias_bits: 16}\n    fc: {bias_bits: 32}\n",
               ":4:5: error: duplicate key 'fc' (first at line 3)\n"
               "    fc: {bias_bits: 32}\n"
               "    ^\n");
  expect_error("syntax_unclosed", "quantization:\n  weights: {bits: 4, granularity: per-tensor\n",
               ":2:45: error: YAML syntax error: did not find expected ',' or '}' (while parsing a flow mapping started at line 2)\n"
               "  weights: {bits: 4, granularity: per-tensor\n"
               "                                            ^\n");
  expect_error("syntax_indent", "quantization:\n  weights:\n    bits: 4\n   granularity: per-tensor\n",
               ":4:4: error: YAML syntax error: did not find expected key (while parsing a block mapping started at line 2)\n"
               "   granularity: per-tensor\n"
               "   ^\n");
  expect_error("syntax_value", "target: neon: avx2\n",
               ":1:13: error: YAML syntax error: mapping values are not allowed in this context\n"
               "target: neon: avx2\n"
               "            ^\n");
  expect_error("top_sequence", "- target: neon\n- golden: 3\n",
               ":1:1: error: the configuration must be a mapping at top level\n"
               "- target: neon\n"
               "^\n");
  expect_error("top_scalar", "# a word\nneon\n",
               ":2:1: error: the configuration must be a mapping at top level\n"
               "neon\n"
               "^\n");
  expect_error("two_documents", "target: neon\n---\ntarget: avx2\n",
               ":2:1: error: the configuration must be a single YAML document\n"
               "---\n"
               "^\n");
  expect_error("complex_key", "? [a, b]\n: 1\n",
               ":1:3: error: a key must be a name, got a sequence\n"
               "? [a, b]\n"
               "  ^\n");

  char *missing = xformat("%s/no_such.yaml", tmp);
  expect_error_at("missing file", missing, ": error: cannot read configuration: No such file or directory\n");
  free(missing);
}

/* ------------------------------------------------- tests/errors/yaml_* */

static int cmp_names(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The CLI suite's YAML cases, loaded with the path it uses, must give its .expect. */
static void test_error_files(void) {
  DIR *d = opendir("tests/errors");
  if (!d) {
    printf("# tests/errors not found from here: its yaml_* cases are not checked\n");
    return;
  }
  char **names = NULL;
  int n = 0;
  for (struct dirent *e; (e = readdir(d));)
    if (strncmp(e->d_name, "yaml_", 5) == 0 && ends_with(e->d_name, ".yaml")) {
      names = xrealloc(names, sizeof(char *) * (size_t)(n + 1));
      names[n++] = xstrdup(e->d_name);
    }
  closedir(d);
  if (n) qsort(names, (size_t)n, sizeof(char *), cmp_names);
  for (int i = 0; i < n; i++) {
    char *path = xformat("tests/errors/%s", names[i]);
    char *expect_path = xformat("%.*sexpect", (int)strlen(path) - 4, path);
    char *want = t_read_file(expect_path, NULL), *err;
    char *name = xformat("%s gives %s", path, expect_path);
    if (!want) {
      t_fail(name, "cannot read %s", expect_path);
    } else {
      int status = load_in_child(path, &err);
      t_check(status == 1 && strcmp(err, want) == 0, name,
              "exit status %d\n--- got stderr:\n%s--- want:\n%s---", status, err, want);
      free(err);
    }
    free(want);
    free(name);
    free(expect_path);
    free(path);
    free(names[i]);
  }
  free(names);
}

int main(int argc, char **argv) {
  if (argc == 3 && strcmp(argv[1], "--load") == 0) {
    load(argv[2]);
    return 0;
  }
  tmp = t_tempdir();
  test_values();
  test_errors();
  test_error_files();
  return t_exit_status();
}
