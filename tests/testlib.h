/* testlib.h — the small harness every test program uses. Each check prints
 * `ok - NAME` or `not ok - NAME: why`; tests/runner.c counts those lines across all
 * suites and prints the closing `N passed, N failed`. */
#ifndef TESTLIB_H
#define TESTLIB_H

#include <stdbool.h>
#include <stddef.h>

void t_ok(const char *name);
void t_fail(const char *name, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* ok or not ok in one call; the message is printed only on failure. */
bool t_check(bool cond, const char *name, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Exit status for main(): 1 if any check failed. */
int t_exit_status(void);

/* Runs argv[0] with argv (PATH searched), stdin from /dev/null, capturing both
 * streams. status is the exit code, or 128 + signal number when killed. */
typedef struct TRun {
  int status;
  char *out;
  char *err;
} TRun;
TRun t_run(char *const argv[]);
void t_run_free(TRun *r);

/* printf into a fresh heap string (aborts when out of memory). */
char *t_fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));

/* Whole file, NUL-terminated; NULL if unreadable. */
char *t_read_file(const char *path, size_t *len);
/* A fresh empty folder under $TMPDIR (removed by the OS, not by us). */
char *t_tempdir(void);

#endif
