/* test_float_c.c — `shiftc compile --float-c` (the float32 comparison build of make bench):
 * for every example (the ONNX ones included), the generated C builds warning-free (-std=c99 -pedantic -Werror, gcc
 * and, on one model, clang -O3 -march=haswell as the bench builds it) and its test reproduces
 * the float interpreter's outputs (`shiftc run --float`, written as goldens) within 1e-4 of
 * each output's largest magnitude on all 8 goldens. A golden output moved by 0.01 (over
 * 1e-4 of its scale) must make the generated test fail, and --float-c refuses --target. */
#define _GNU_SOURCE
#include "testlib.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STRICT "-std=c99 -pedantic -Wall -Wextra -Werror"

/* the .nn examples (examples/M/M.nn with M.yaml), then the ONNX ones (onnx_digits) */
static const char *examples[] = {"digits_mlp", "digits_cnn",   "mnist_cnn",    "digits_cnn_w4",
                                 "digits_vit", "digits_vit_l1", "digits_dwcnn", "digits_encoder2l"};
enum { NN_EXAMPLES = 6 };

/* Builds OUT/m's float C with `cc flags` into OUT/m/bin and runs it; the run's result. */
static TRun build_and_run(const char *dir, const char *m, const char *cc, const char *flags) {
  char *cmd = t_fmt("%s %s -o %s/bin %s/%s_float.c %s/%s_float_golden.c %s/%s_float_test.c -lm", cc, flags, dir, dir, m,
                  dir, m, dir, m);
  char *argv[] = {"sh", "-c", cmd, NULL};
  TRun b = t_run(argv);
  free(cmd);
  if (b.status != 0) return b;
  t_run_free(&b);
  char *bin = t_fmt("%s/bin", dir);
  char *run[] = {bin, NULL};
  TRun r = t_run(run);
  free(bin);
  return r;
}

/* clang is installed and this CPU runs -march=haswell code (AVX2 and FMA). */
static bool haswell_clang(void) {
  char *argv[] = {"sh", "-c", "command -v clang", NULL};
  TRun r = t_run(argv);
  bool ok = r.status == 0 && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  t_run_free(&r);
  if (!ok) printf("# skipped: clang -O3 -march=haswell build (no clang, or no AVX2+FMA here)\n");
  return ok;
}

int main(void) {
  const char *shiftc = getenv("SHIFTC") ? getenv("SHIFTC") : "build/san/shiftc";
  char *tmp = t_tempdir();
  for (size_t i = 0; i < sizeof examples / sizeof *examples; i++) {
    const char *m = examples[i];
    const bool onnx = i >= NN_EXAMPLES;
    char *nn = onnx ? t_fmt("examples/onnx_digits/%s.onnx", m) : t_fmt("examples/%s/%s.nn", m, m);
    char *yaml = onnx ? t_fmt("examples/onnx_digits/digits_dwcnn.yaml") : t_fmt("examples/%s/%s.yaml", m, m);
    char *dir = t_fmt("%s/%s", tmp, m), *label = t_fmt("float C of %s equals run --float within 1e-4", m);
    char *argv[] = {(char *)shiftc, "compile", nn, "-c", yaml, "--float-c", "-o", dir, NULL};
    TRun c = t_run(argv);
    if (c.status != 0) {
      t_fail(label, "compile --float-c failed (status %d):\n%s%s", c.status, c.out, c.err);
    } else {
      TRun r = build_and_run(dir, m, "gcc", STRICT " -O2");
      t_check(r.status == 0 && strstr(r.out, "8/8 goldens within 1e-4"), label, "status %d:\n%s%s", r.status, r.out,
              r.err);
      t_run_free(&r);
      if (strcmp(m, "digits_vit") == 0 && haswell_clang()) { /* the Transformer ops, as make bench builds them */
        r = build_and_run(dir, m, "clang", STRICT " -O3 -march=haswell -ffp-contract=fast");
        t_check(r.status == 0 && strstr(r.out, "8/8 goldens within 1e-4"), "float C of digits_vit with clang -O3 -march=haswell",
                "status %d:\n%s%s", r.status, r.out, r.err);
        t_run_free(&r);
      }
    }
    t_run_free(&c);
    free(nn), free(yaml), free(dir), free(label);
  }

  /* The check can fail: golden 0's first output of digits_cnn moved by 1e-3 of the scale. */
  char *gold = t_fmt("%s/digits_cnn/digits_cnn_float_golden.c", tmp);
  char *text = t_read_file(gold, NULL);
  char *at = text ? strstr(text, "digits_cnn_float_golden_output") : NULL;
  at = at ? strstr(at, "{\n  {") : NULL;
  if (!at) {
    t_fail("float C test detects a wrong output", "cannot read %s", gold);
  } else {
    at += 5;
    char *end;
    double first = strtod(at, &end);
    FILE *f = fopen(gold, "w");
    fprintf(f, "%.*s%.9gf%s", (int)(at - text), text, first + 1e-2 + fabs(first) * 1e-3, end + 1);
    fclose(f);
    TRun r = build_and_run(t_fmt("%s/digits_cnn", tmp), "digits_cnn", "gcc", STRICT " -O2");
    t_check(r.status == 1 && strstr(r.out, "7/8 goldens within 1e-4"), "float C test detects a wrong output",
            "status %d:\n%s%s", r.status, r.out, r.err);
    t_run_free(&r);
  }

  char *argv[] = {(char *)shiftc, "compile", "examples/digits_cnn/digits_cnn.nn", "--float-c", "--target", "avx2",
                  "-o", tmp, NULL};
  TRun e = t_run(argv);
  t_check(e.status == 1 && strstr(e.err, "--float-c writes float C; it takes no --target"),
          "--float-c refuses --target", "status %d: %s", e.status, e.err);
  t_run_free(&e);
  return t_exit_status();
}
