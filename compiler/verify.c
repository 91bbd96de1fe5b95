/* verify.c — `shiftc verify OUTDIR`: rebuilds the generated test with the folder's
 * own Makefile and runs it, so the stored goldens are checked against the C exactly
 * as a user would build it. */
#define _POSIX_C_SOURCE 200809L
#include "shiftc.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* Runs argv (PATH searched) with our stdout/stderr; its exit status, or 128 + the
 * signal that killed it, or 127 when it could not be started. */
static int run_echoed(char *const argv[]) {
  printf("$");
  for (int i = 0; argv[i]; i++) printf(" %s", argv[i]);
  printf("\n");
  fflush(stdout);
  fflush(stderr);
  pid_t pid = fork();
  if (pid < 0) error_cli("cannot start '%s': %s", argv[0], strerror(errno));
  if (pid == 0) {
    execvp(argv[0], argv);
    fprintf(stderr, "shiftc: error: cannot run '%s': %s\n", argv[0], strerror(errno));
    _exit(127);
  }
  int st = 0;
  while (waitpid(pid, &st, 0) < 0)
    if (errno != EINTR) return 127;
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* The model's name from the folder's one <model>_test.c. */
static char *model_of(const char *outdir) {
  DIR *d = opendir(outdir);
  if (!d) error_cli("verify: cannot read '%s': %s", outdir, strerror(errno));
  char *found = NULL;
  int count = 0;
  for (struct dirent *e; (e = readdir(d));) {
    size_t n = strlen(e->d_name);
    if (n > 7 && ends_with(e->d_name, "_test.c")) {
      count++;
      if (!found || strcmp(e->d_name, found) < 0) {
        free(found);
        found = xstrndup(e->d_name, n - 7);
      }
    }
  }
  closedir(d);
  if (count == 0)
    error_cli("verify: '%s' is not a folder written by shiftc compile (it has no <model>_test.c)", outdir);
  if (count > 1) error_cli("verify: '%s' holds %d *_test.c files; expected the one shiftc compile wrote", outdir, count);
  return found;
}

static bool exists_in(const char *dir, const char *name) {
  char *path = xformat("%s/%s", dir, name);
  struct stat st;
  bool ok = stat(path, &st) == 0 && S_ISREG(st.st_mode);
  free(path);
  return ok;
}

int verify_outdir(const char *outdir) {
  struct stat st;
  if (!outdir) error_cli("verify: no folder given (shiftc verify OUTDIR)");
  if (stat(outdir, &st) != 0) error_cli("verify: '%s': %s", outdir, strerror(errno));
  if (!S_ISDIR(st.st_mode)) error_cli("verify: '%s' is not a folder (give the OUTDIR of shiftc compile)", outdir);
  char *model = model_of(outdir);
  const char *needed[] = {"Makefile", "shiftc_rt.h", NULL};
  for (int i = 0; needed[i]; i++)
    if (!exists_in(outdir, needed[i]))
      error_cli("verify: '%s' is not a complete shiftc output folder: %s is missing", outdir, needed[i]);
  char *files[] = {xformat("%s.h", model), xformat("%s.c", model), xformat("%s_golden.c", model)};
  for (int i = 0; i < 3; i++)
    if (!exists_in(outdir, files[i]))
      error_cli("verify: '%s' is not a complete shiftc output folder: %s is missing", outdir, files[i]);

  char *make_argv[] = {"make", "-C", (char *)outdir, NULL};
  int st_make = run_echoed(make_argv);
  if (st_make != 0) {
    printf("verify: building the test failed (make exited with %d)\n", st_make);
    return 1;
  }
  char *test = xformat("%s/%s_test", outdir, model);
  if (!strchr(test, '/')) test = xformat("./%s", test);
  char *test_argv[] = {test, NULL};
  int st_test = run_echoed(test_argv);
  if (st_test != 0) {
    printf("verify: %s: goldens do not match (the test exited with %d)\n", outdir, st_test);
    return 1;
  }
  printf("verify: %s: every golden bit-exact\n", outdir);
  return 0;
}
