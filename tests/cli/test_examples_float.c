/* test_examples_float.c — the float interpreter reproduces, on each example's
 * held-out set, the accuracy its train.py reported (to within one sample). */
#define _GNU_SOURCE
#include "testlib.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *examples[] = {"digits_mlp", "digits_cnn", "mnist_cnn", "digits_cnn_w4", "digits_cnn_w5",
                                 "digits_vit", "digits_vit_l1"};

int main(void) {
  const char *shiftc = getenv("SHIFTC") ? getenv("SHIFTC") : "build/san/shiftc";
  for (size_t i = 0; i < sizeof examples / sizeof *examples; i++) {
    const char *ex = examples[i];
    char model[256], data[256], acc[256], label[256];
    snprintf(model, sizeof model, "examples/%s/%s.nn", ex, ex);
    snprintf(data, sizeof data, "examples/%s/test.safetensors", ex);
    snprintf(acc, sizeof acc, "examples/%s/float_accuracy.txt", ex);
    snprintf(label, sizeof label, "example %s: float top-1 as trained", ex);
    char *reported = t_read_file(acc, NULL);
    int want = -1, total = -1;
    if (!reported || sscanf(reported, "correct %d total %d", &want, &total) != 2) {
      t_fail(label, "cannot read %s", acc);
      continue;
    }
    char *argv[] = {(char *)shiftc, "eval", model, "--data", data, "--float", NULL};
    TRun r = t_run(argv);
    const char *line = strstr(r.out, "float top-1:");
    int got = -1, n = -1;
    if (r.status != 0 || !line || sscanf(line, "float top-1: %*f%% (%d/%d)", &got, &n) != 2)
      t_fail(label, "eval failed (status %d):\n%s%s", r.status, r.out, r.err);
    else
      t_check(n == total && abs(got - want) <= 1, label, "shiftc %d/%d, train.py %d/%d", got, n, want,
              total);
    t_run_free(&r);
    free(reported);
  }
  return t_exit_status();
}
