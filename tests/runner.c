/* runner.c — runs every test program named on the command line (each a quoted
 * command line), echoes their output, and closes with `N passed, N failed`.
 * A program that dies without reporting (a crash, a sanitizer abort) counts as one
 * failure of its own. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

int main(int argc, char **argv) {
  int passed = 0, failed = 0;
  for (int i = 1; i < argc; i++) {
    char *cmd;
    if (asprintf(&cmd, "%s 2>&1", argv[i]) < 0) return 2;
    printf("== %s\n", argv[i]);
    fflush(stdout);
    FILE *p = popen(cmd, "r");
    if (!p) {
      printf("not ok - %s: cannot start\n", argv[i]);
      failed++;
      continue;
    }
    char line[8192];
    int fails_here = 0;
    while (fgets(line, sizeof line, p)) {
      fputs(line, stdout);
      if (strncmp(line, "ok - ", 5) == 0) passed++;
      else if (strncmp(line, "not ok - ", 9) == 0) failed++, fails_here++;
    }
    int st = pclose(p);
    int code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    if (code != 0 && fails_here == 0) {
      printf("not ok - %s: exited with status %d without reporting a failure\n", argv[i], code);
      failed++;
    }
    fflush(stdout);
    free(cmd);
  }
  printf("%d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}
