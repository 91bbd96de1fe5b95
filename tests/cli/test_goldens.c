/* test_goldens.c — `shiftc compile` end to end: for each example and each
 * requantization mode, the generated folder builds warning-free (-Werror) with gcc
 * and with clang, its test reproduces every golden bit for bit, compiling twice
 * gives byte-identical folders, and `shiftc verify` agrees. */
#define _GNU_SOURCE
#include "testlib.h"

#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *examples[] = {"digits_mlp", "digits_cnn", "mnist_cnn", "digits_cnn_w4", "digits_cnn_w5",
                                 "digits_vit", "digits_vit_l1"};
static const char *modes[] = {"shift", "dyadic"};
#define GOLDENS 8 /* the examples' YAMLs say golden: 8 */
#define STRICT "-std=c99 -O2 -Wall -Wextra -pedantic -Werror"

static const char *shiftc;

static TRun compile(const char *ex, const char *mode, const char *outdir) {
  char *model = t_fmt("examples/%s/%s.nn", ex, ex), *yaml = t_fmt("examples/%s/%s.yaml", ex, ex);
  char *argv[] = {(char *)shiftc, "compile", model, "-c", yaml, "--requantize", (char *)mode, "-o", (char *)outdir,
                  NULL};
  TRun r = t_run(argv);
  free(model);
  free(yaml);
  return r;
}

static int cmp_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* The sorted file names of a folder (NULL-terminated). */
static char **list_dir(const char *dir, int *n) {
  DIR *d = opendir(dir);
  char **names = NULL;
  *n = 0;
  if (!d) return NULL;
  for (struct dirent *e; (e = readdir(d));) {
    if (e->d_name[0] == '.') continue;
    names = realloc(names, sizeof(char *) * (size_t)(*n + 2));
    names[(*n)++] = strdup(e->d_name);
  }
  closedir(d);
  if (names) qsort(names, (size_t)*n, sizeof(char *), cmp_name);
  return names;
}

/* "" when the two folders hold the same files with the same bytes, else what differs. */
static char *compare_dirs(const char *a, const char *b) {
  int na, nb;
  char **fa = list_dir(a, &na), **fb = list_dir(b, &nb);
  if (na != nb) return t_fmt("%s has %s files, %s another number", a, na > nb ? "more" : "fewer", b);
  for (int i = 0; i < na; i++) {
    if (strcmp(fa[i], fb[i]) != 0) return t_fmt("file sets differ at '%s' / '%s'", fa[i], fb[i]);
    char *pa = t_fmt("%s/%s", a, fa[i]), *pb = t_fmt("%s/%s", b, fb[i]);
    size_t la, lb;
    char *da = t_read_file(pa, &la), *db = t_read_file(pb, &lb);
    bool same = da && db && la == lb && memcmp(da, db, la) == 0;
    free(da);
    free(db);
    free(pa);
    free(pb);
    if (!same) return t_fmt("'%s' differs between the two compiles", fa[i]);
  }
  return strdup("");
}

static bool have(const char *prog) {
  char *argv[] = {(char *)prog, "--version", NULL};
  TRun r = t_run(argv);
  bool ok = r.status == 0;
  t_run_free(&r);
  return ok;
}

/* Builds the folder's test from scratch with `cc` and runs it. */
static void build_and_run(const char *dir, const char *ex, const char *cc, const char *label) {
  char *ccvar = t_fmt("CC=%s", cc), *cflags = t_fmt("CFLAGS=%s", STRICT);
  char *make_argv[] = {"make", "-B", "-s", "-C", (char *)dir, ccvar, cflags, NULL};
  TRun m = t_run(make_argv);
  if (m.status != 0) {
    t_fail(label, "make with %s failed (status %d):\n%s%s", cc, m.status, m.out, m.err);
  } else {
    char *test = t_fmt("%s/%s_test", dir, ex);
    char *test_argv[] = {test, NULL};
    TRun r = t_run(test_argv);
    char want[64];
    snprintf(want, sizeof want, "%d/%d goldens bit-exact", GOLDENS, GOLDENS);
    t_check(r.status == 0 && strstr(r.out, want) != NULL, label, "%s exited %d, expected '%s':\n%s%s", test,
            r.status, want, r.out, r.err);
    t_run_free(&r);
    free(test);
  }
  t_run_free(&m);
  free(ccvar);
  free(cflags);
}

int main(void) {
  shiftc = getenv("SHIFTC") ? getenv("SHIFTC") : "build/san/shiftc";
  /* The generated Makefile's build must not see the outer make's flags or jobserver. */
  unsetenv("MAKEFLAGS");
  unsetenv("MFLAGS");
  unsetenv("MAKELEVEL");
  bool gcc = have("gcc"), clang = have("clang");
  char *tmp = t_tempdir();
  for (size_t i = 0; i < sizeof examples / sizeof *examples; i++)
    for (size_t k = 0; k < sizeof modes / sizeof *modes; k++) {
      const char *ex = examples[i], *mode = modes[k];
      char *dir = t_fmt("%s/%s_%s", tmp, ex, mode), *dir2 = t_fmt("%s/%s_%s_again", tmp, ex, mode);
      char *name = t_fmt("goldens %s %s", ex, mode);
      char label[256];

      snprintf(label, sizeof label, "%s: compile", name);
      TRun r = compile(ex, mode, dir);
      if (!t_check(r.status == 0, label, "status %d:\n%s%s", r.status, r.out, r.err)) {
        t_run_free(&r);
        continue;
      }
      t_run_free(&r);
      const char *files[] = {"%s.h", "%s.c", "%s_golden.c", "%s_test.c", NULL};
      snprintf(label, sizeof label, "%s: writes the API, code, goldens, test, Makefile, runtime", name);
      char *missing = NULL;
      for (int f = 0; f < 6 && !missing; f++) {
        char *base = f < 4 ? t_fmt(files[f], ex) : strdup(f == 4 ? "Makefile" : "shiftc_rt.h");
        char *path = t_fmt("%s/%s", dir, base);
        free(base);
        char *text = t_read_file(path, NULL);
        if (!text) missing = path;
        else free(path);
        free(text);
      }
      t_check(!missing, label, "%s is missing", missing ? missing : "");

      snprintf(label, sizeof label, "%s: compiling twice gives byte-identical folders", name);
      r = compile(ex, mode, dir2);
      char *diff = r.status == 0 ? compare_dirs(dir, dir2) : strdup("the second compile failed");
      t_check(!*diff, label, "%s", diff);
      t_run_free(&r);
      free(diff);

      snprintf(label, sizeof label, "%s: gcc -Werror build, %d/%d goldens bit-exact", name, GOLDENS, GOLDENS);
      if (gcc) build_and_run(dir, ex, "gcc", label);
      else printf("ok - %s # skip: no gcc\n", label);
      snprintf(label, sizeof label, "%s: clang -Werror build, %d/%d goldens bit-exact", name, GOLDENS, GOLDENS);
      if (clang) build_and_run(dir, ex, "clang", label);
      else printf("ok - %s # skip: no clang\n", label);

      snprintf(label, sizeof label, "%s: shiftc verify", name);
      char *verify_argv[] = {(char *)shiftc, "verify", dir, NULL};
      r = t_run(verify_argv);
      t_check(r.status == 0, label, "status %d:\n%s%s", r.status, r.out, r.err);
      t_run_free(&r);
      free(dir);
      free(dir2);
      free(name);
    }
  return t_exit_status();
}
