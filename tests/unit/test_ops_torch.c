/* test_ops_torch.c — every operator's float evaluation agrees with PyTorch.
 *
 * For each folder of tests/ops/cases (made by tests/ops/gen_cases.py: model.nn, w/,
 * input.npy or input_<name>.npy, expected.npy from torch.nn.functional in float32),
 * runs `$SHIFTC run model.nn --float --input ... -o OUT.npy` and requires the same
 * shape as expected.npy and a max abs error <= 1e-5. Prints one line per case. */
#define _GNU_SOURCE
#include "shiftc.h"
#include "testlib.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CASES_DIR "tests/ops/cases"
#define TOLERANCE 1e-5
#define MIN_CASES 40

static bool is_dir(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static bool is_file(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted names of the sub-folders of `dir` (the cases); NULL if unreadable. */
static char **list_cases(const char *dir, int *n) {
  DIR *d = opendir(dir);
  *n = 0;
  if (!d) return NULL;
  int cap = 64;
  char **names = malloc(sizeof(char *) * (size_t)cap);
  struct dirent *e;
  while ((e = readdir(d))) {
    if (e->d_name[0] == '.') continue;
    char *path = xformat("%s/%s", dir, e->d_name);
    bool ok = is_dir(path);
    free(path);
    if (!ok) continue;
    if (*n == cap) names = realloc(names, sizeof(char *) * (size_t)(cap *= 2));
    names[(*n)++] = xstrdup(e->d_name);
  }
  closedir(d);
  qsort(names, (size_t)*n, sizeof(char *), cmp_str);
  return names;
}

/* The --input arguments for the case: `input.npy`, or NAME=input_NAME.npy for each
 * input_*.npy file (sorted, so the command line is stable). Returns the count. */
static int case_inputs(const char *casedir, char **args, int max) {
  char *single = xformat("%s/input.npy", casedir);
  if (is_file(single)) {
    args[0] = single;
    return 1;
  }
  free(single);
  DIR *d = opendir(casedir);
  if (!d) return 0;
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d)) && n < max) {
    size_t len = strlen(e->d_name);
    if (strncmp(e->d_name, "input_", 6) != 0 || len <= 10 || strcmp(e->d_name + len - 4, ".npy") != 0)
      continue;
    char *name = xstrndup(e->d_name + 6, len - 10);
    args[n++] = xformat("%s=%s/%s", name, casedir, e->d_name);
    free(name);
  }
  closedir(d);
  qsort(args, (size_t)n, sizeof(char *), cmp_str);
  return n;
}

static void run_case(const char *shiftc, const char *name, const char *tmp) {
  char label[256];
  snprintf(label, sizeof label, "op %s", name);
  char *casedir = xformat("%s/%s", CASES_DIR, name);
  char *model = xformat("%s/model.nn", casedir);
  char *expected_path = xformat("%s/expected.npy", casedir);
  char *out_path = xformat("%s/%s.npy", tmp, name);

  char *inputs[16];
  int ninputs = case_inputs(casedir, inputs, 16);
  if (!is_file(model) || !is_file(expected_path) || ninputs == 0) {
    t_fail(label, "incomplete case folder %s (needs model.nn, expected.npy and input.npy or "
                  "input_<name>.npy)", casedir);
    goto done;
  }

  char *argv[8 + 2 * 16];
  int k = 0;
  argv[k++] = (char *)shiftc;
  argv[k++] = "run";
  argv[k++] = model;
  argv[k++] = "--float";
  for (int i = 0; i < ninputs; i++) {
    argv[k++] = "--input";
    argv[k++] = inputs[i];
  }
  argv[k++] = "-o";
  argv[k++] = out_path;
  argv[k] = NULL;

  TRun r = t_run(argv);
  if (r.status != 0) {
    t_fail(label, "shiftc run exited with status %d:\n%s%s", r.status, r.out, r.err);
    t_run_free(&r);
    goto free_inputs;
  }
  t_run_free(&r);
  if (!is_file(out_path)) {
    t_fail(label, "shiftc run succeeded but wrote no %s", out_path);
    goto free_inputs;
  }

  /* npy_load reports a malformed file as a user error and exits; shiftc wrote the
   * output and the generator the expectation, so both are well formed here. */
  Tensor got = npy_load(out_path), want = npy_load(expected_path);
  char gs[SHAPE_STR_MAX], ws[SHAPE_STR_MAX];
  if (!shape_eq(&got.shape, &want.shape)) {
    t_fail(label, "output shape %s, expected %s", shape_str(&got.shape, gs),
           shape_str(&want.shape, ws));
  } else {
    int64_t n = shape_numel(&want.shape), worst = 0;
    double err = 0;
    bool nan = false;
    for (int64_t i = 0; i < n; i++) {
      double e = fabs((double)got.f[i] - (double)want.f[i]);
      if (isnan(e)) {
        nan = true;
        worst = i;
        break;
      }
      if (e > err) err = e, worst = i;
    }
    if (nan || err > TOLERANCE)
      t_fail(label, "max err %.3g at flat index %lld (got %.9g, expected %.9g; shape %s)",
             nan ? NAN : err, (long long)worst, (double)got.f[worst], (double)want.f[worst],
             shape_str(&want.shape, ws));
    else {
      snprintf(label, sizeof label, "op %s (max err %.1e)", name, err);
      t_ok(label);
    }
  }
  free(got.f);
  free(got.i);
  free(want.f);
  free(want.i);
  free(got.name);
  free(want.name);
  remove(out_path);

free_inputs:
  for (int i = 0; i < ninputs; i++) free(inputs[i]);
done:
  free(casedir);
  free(model);
  free(expected_path);
  free(out_path);
}

int main(void) {
  const char *shiftc = getenv("SHIFTC") && *getenv("SHIFTC") ? getenv("SHIFTC") : "build/san/shiftc";
  int n = 0;
  char **cases = list_cases(CASES_DIR, &n);
  t_check(n >= MIN_CASES, "op cases present",
          "found %d case folders in %s (run from the repository root; expected at least %d — "
          "regenerate with /usr/bin/python3 tests/ops/gen_cases.py)",
          n, CASES_DIR, MIN_CASES);
  char *tmp = t_tempdir();
  for (int i = 0; i < n; i++) {
    run_case(shiftc, cases[i], tmp);
    free(cases[i]);
  }
  free(cases);
  rmdir(tmp);
  free(tmp);
  return t_exit_status();
}
