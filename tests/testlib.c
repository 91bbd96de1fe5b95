/* testlib.c — checks, subprocess capture and file helpers for the test programs. */
#define _GNU_SOURCE
#include "testlib.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int failures;

void t_ok(const char *name) {
  printf("ok - %s\n", name);
  fflush(stdout);
}

static void vfail(const char *name, const char *fmt, va_list ap) {
  failures++;
  printf("not ok - %s: ", name);
  vprintf(fmt, ap);
  putchar('\n');
  fflush(stdout);
}

void t_fail(const char *name, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vfail(name, fmt, ap);
  va_end(ap);
}

bool t_check(bool cond, const char *name, const char *fmt, ...) {
  if (cond) {
    t_ok(name);
    return true;
  }
  va_list ap;
  va_start(ap, fmt);
  vfail(name, fmt, ap);
  va_end(ap);
  return false;
}

int t_exit_status(void) { return failures ? 1 : 0; }

char *t_read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  size_t cap = 4096, n = 0;
  char *buf = malloc(cap);
  for (;;) {
    if (n + 1 >= cap) buf = realloc(buf, cap *= 2);
    size_t got = fread(buf + n, 1, cap - n - 1, f);
    if (!got) break;
    n += got;
  }
  fclose(f);
  buf[n] = '\0';
  if (len) *len = n;
  return buf;
}

static char *slurp_fd(int fd) {
  size_t cap = 4096, n = 0;
  char *buf = malloc(cap);
  for (;;) {
    if (n + 1 >= cap) buf = realloc(buf, cap *= 2);
    ssize_t got = read(fd, buf + n, cap - n - 1);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;
    n += (size_t)got;
  }
  buf[n] = '\0';
  return buf;
}

TRun t_run(char *const argv[]) {
  TRun r = {0};
  /* Both streams go to temporary files: no pipe deadlock on large outputs. */
  char outp[] = "/tmp/shiftc_t_outXXXXXX", errp[] = "/tmp/shiftc_t_errXXXXXX";
  int ofd = mkstemp(outp), efd = mkstemp(errp);
  pid_t pid = fork();
  if (pid == 0) {
    int nul = open("/dev/null", O_RDONLY);
    dup2(nul, 0);
    dup2(ofd, 1);
    dup2(efd, 2);
    execvp(argv[0], argv);
    fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
    _exit(127);
  }
  int st = 0;
  while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
  }
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  lseek(ofd, 0, SEEK_SET);
  lseek(efd, 0, SEEK_SET);
  r.out = slurp_fd(ofd);
  r.err = slurp_fd(efd);
  close(ofd);
  close(efd);
  unlink(outp);
  unlink(errp);
  return r;
}

void t_run_free(TRun *r) {
  free(r->out);
  free(r->err);
  r->out = r->err = NULL;
}

char *t_tempdir(void) {
  const char *base = getenv("TMPDIR");
  char *path;
  if (asprintf(&path, "%s/shiftc_test_XXXXXX", base ? base : "/tmp") < 0) abort();
  if (!mkdtemp(path)) abort();
  return path;
}

char *t_fmt(const char *f, ...) {
  va_list ap;
  va_start(ap, f);
  char *s;
  if (vasprintf(&s, f, ap) < 0) abort();
  va_end(ap);
  return s;
}
