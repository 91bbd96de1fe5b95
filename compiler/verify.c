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
char *verify_model_of(const char *outdir) {
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
  char *model = verify_model_of(outdir);
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

/* Runs argv (PATH searched) with its stdout captured into *out (stderr passes through);
 * its exit status as run_echoed gives it. */
int verify_run_captured(char *const argv[], StrBuf *out) {
  int fd[2];
  fflush(stdout);
  fflush(stderr);
  if (pipe(fd) != 0) error_cli("cannot start '%s': %s", argv[0], strerror(errno));
  pid_t pid = fork();
  if (pid < 0) error_cli("cannot start '%s': %s", argv[0], strerror(errno));
  if (pid == 0) {
    close(fd[0]);
    dup2(fd[1], 1);
    close(fd[1]);
    execvp(argv[0], argv);
    fprintf(stderr, "shiftc: error: cannot run '%s': %s\n", argv[0], strerror(errno));
    _exit(127);
  }
  close(fd[1]);
  char buf[4096];
  for (ssize_t n; (n = read(fd[0], buf, sizeof buf)) != 0;) {
    if (n < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (ssize_t i = 0; i < n; i++) sb_putc(out, buf[i]);
  }
  close(fd[0]);
  int st = 0;
  while (waitpid(pid, &st, 0) < 0)
    if (errno != EINTR) return 127;
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* The boards verify --board knows: the generated Makefile's rules for each. */
static const struct {
  const char *board, *cpu, *rule;
} boards[] = {
    {"mps2-an386", "Cortex-M4", "cortex-m4"},
};

int verify_board(const char *outdir, const char *board) {
  int b = -1;
  for (size_t i = 0; i < sizeof boards / sizeof *boards; i++)
    if (strcmp(boards[i].board, board) == 0) b = (int)i;
  if (b < 0) error_cli("verify: unknown board '%s' (boards: mps2-an386)", board);
  struct stat st;
  if (stat(outdir, &st) != 0 || !S_ISDIR(st.st_mode))
    error_cli("verify: '%s' is not a folder (give the OUTDIR of shiftc compile)", outdir);
  char *model = verify_model_of(outdir);
  char *mk_path = xformat("%s/Makefile", outdir);
  char *mk = read_whole_file(mk_path, NULL);
  if (!mk) error_cli("verify: cannot read '%s': %s", mk_path, strerror(errno));
  char *rule = xformat("\n%s:", boards[b].rule);
  if (!strstr(mk, rule))
    error_cli("verify: '%s' has no %s build: bare-metal builds come with the scalar target (compile with --target "
              "scalar)", outdir, boards[b].cpu);

  char *test_rule = xformat("test-%s", boards[b].rule), *size_rule = xformat("size-%s", boards[b].rule);
  char *test_argv[] = {"make", "-s", "-C", (char *)outdir, test_rule, NULL};
  StrBuf run = {0};
  printf("$ make -s -C %s %s\n", outdir, test_rule);
  int st_test = verify_run_captured(test_argv, &run);
  fputs(run.data ? run.data : "", stdout);
  if (st_test != 0) {
    printf("verify: %s: goldens do not match on %s (exit %d)\n", outdir, board, st_test);
    return 1;
  }
  const char *verdict = run.data ? strstr(run.data, "goldens bit-exact") : NULL;
  const char *line = verdict;
  while (line && line > run.data && line[-1] != '\n') line--;
  char *passed = line ? xstrndup(line, (size_t)(verdict - line) + strlen("goldens bit-exact")) : xstrdup("?");

  char *size_argv[] = {"make", "-s", "-C", (char *)outdir, size_rule, NULL};
  StrBuf sizes = {0};
  printf("$ make -s -C %s %s\n", outdir, size_rule);
  int st_size = verify_run_captured(size_argv, &sizes);
  fputs(sizes.data ? sizes.data : "", stdout);
  if (st_size != 0) {
    printf("verify: %s: measuring the sizes failed (exit %d)\n", outdir, st_size);
    return 1;
  }

  /* The report keeps one such section per board, rewritten on every run. */
  char *report_path = xformat("%s/%s.report.md", outdir, model);
  size_t len = 0;
  char *report = read_whole_file(report_path, &len);
  if (!report) error_cli("verify: cannot read '%s': %s", report_path, strerror(errno));
  char *head = xformat("\n## Bare metal: %s (%s)\n", board, boards[b].cpu);
  char *old = strstr(report, head);
  StrBuf out = {0};
  if (old) {
    char *next = strstr(old + strlen(head), "\n## ");
    for (char *p = report; p < old; p++) sb_putc(&out, *p);
    if (next) sb_puts(&out, next);
  } else {
    sb_puts(&out, report);
  }
  sb_puts(&out, head);
  sb_printf(&out, "\nBuilt by `make %s` (arm-none-eabi-gcc -mcpu=%s -mthumb -O2, picolibc); run under\n"
                  "`qemu-system-arm -M %s -semihosting`: %s. Bytes from the link map\n"
                  "(flash: code and constants; RAM: data and bss, without the stack):\n\n```\n%s```\n",
            boards[b].rule, boards[b].rule, board, passed, sizes.data ? sizes.data : "");
  if (!write_file_atomic(report_path, out.data, out.len))
    error_cli("verify: cannot write '%s': %s", report_path, strerror(errno));
  printf("verify: %s: every golden bit-exact on %s; sizes added to %s\n", outdir, board, report_path);
  return 0;
}
