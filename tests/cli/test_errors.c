/* test_errors.c — bad inputs give exact messages and exit status 1, never a crash,
 * and leave nothing behind.
 *
 * Each case in tests/errors/ is NAME.expect (the exact stderr expected) plus one of:
 *   NAME.args   the shiftc arguments, one line (paths relative to the repo root)
 *   NAME.nn     run as `shiftc check tests/errors/NAME.nn`
 *   NAME.yaml   run as `shiftc check tests/errors/good.nn -c tests/errors/NAME.yaml`
 * When the arguments name an output (`-o PATH`), PATH must not exist afterwards. */
#define _GNU_SOURCE
#include "testlib.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DIR_ "tests/errors"
#define MAX_ARGS 32

static int cmp_names(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool exists(const char *path) {
  struct stat st;
  return stat(path, &st) == 0;
}

static void run_case(const char *shiftc, const char *name) {
  char path[512], *argv[MAX_ARGS + 2];
  int argc = 0;
  argv[argc++] = (char *)shiftc;
  snprintf(path, sizeof path, DIR_ "/%s.args", name);
  char *args = t_read_file(path, NULL);
  if (args) {
    for (char *tok = strtok(args, " \t\n"); tok && argc < MAX_ARGS; tok = strtok(NULL, " \t\n"))
      argv[argc++] = tok;
  } else {
    snprintf(path, sizeof path, DIR_ "/%s.nn", name);
    argv[argc++] = "check";
    if (exists(path)) {
      argv[argc++] = strdup(path);
    } else {
      argv[argc++] = DIR_ "/good.nn";
      argv[argc++] = "-c";
      snprintf(path, sizeof path, DIR_ "/%s.yaml", name);
      argv[argc++] = strdup(path);
    }
  }
  argv[argc] = NULL;
  const char *outpath = NULL;
  for (int i = 1; i + 1 < argc; i++)
    if (strcmp(argv[i], "-o") == 0) outpath = argv[i + 1];
  if (outpath) remove(outpath);

  snprintf(path, sizeof path, DIR_ "/%s.expect", name);
  char *expect = t_read_file(path, NULL);
  TRun r = t_run(argv);
  char label[300];
  snprintf(label, sizeof label, "error %s", name);
  if (r.status != 1)
    t_fail(label, "exit status %d, expected 1; stderr:\n%s", r.status, r.err);
  else if (!expect || strcmp(r.err, expect) != 0)
    t_fail(label, "stderr differs.\n--- expected\n%s--- got\n%s", expect ? expect : "(no .expect)\n", r.err);
  else if (outpath && exists(outpath))
    t_fail(label, "'%s' was written despite the error", outpath);
  else
    t_ok(label);
  t_run_free(&r);
  free(expect);
  free(args);
}

int main(void) {
  const char *shiftc = getenv("SHIFTC") ? getenv("SHIFTC") : "build/san/shiftc";
  DIR *d = opendir(DIR_);
  if (!d) {
    t_fail("errors", "cannot open " DIR_);
    return 1;
  }
  char **names = NULL;
  int n = 0;
  for (struct dirent *e; (e = readdir(d));) {
    size_t len = strlen(e->d_name);
    if (len > 7 && strcmp(e->d_name + len - 7, ".expect") == 0) {
      names = realloc(names, sizeof(char *) * (size_t)(n + 1));
      names[n++] = strndup(e->d_name, len - 7);
    }
  }
  closedir(d);
  qsort(names, (size_t)n, sizeof(char *), cmp_names);
  for (int i = 0; i < n; i++) run_case(shiftc, names[i]);
  t_check(n >= 30, "errors: at least 30 cases", "only %d cases in " DIR_, n);
  return t_exit_status();
}
