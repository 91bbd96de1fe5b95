/* util.c — allocation, strings, paths and atomic file writes shared by every stage. */
#define _POSIX_C_SOURCE 200809L
#include "shiftc.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void *xmalloc(size_t n) {
  void *p = malloc(n ? n : 1);
  if (!p) internal_error("out of memory (%zu bytes)", n);
  return p;
}

void *xcalloc(size_t n, size_t size) {
  void *p = calloc(n ? n : 1, size ? size : 1);
  if (!p) internal_error("out of memory (%zu x %zu bytes)", n, size);
  return p;
}

void *xrealloc(void *p, size_t n) {
  p = realloc(p, n ? n : 1);
  if (!p) internal_error("out of memory (%zu bytes)", n);
  return p;
}

char *xstrdup(const char *s) { return xstrndup(s, strlen(s)); }

char *xstrndup(const char *s, size_t n) {
  char *p = xmalloc(n + 1);
  memcpy(p, s, n);
  p[n] = '\0';
  return p;
}

char *xformat(const char *fmt, ...) {
  va_list ap, ap2;
  va_start(ap, fmt);
  va_copy(ap2, ap);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  char *p = xmalloc((size_t)n + 1);
  vsnprintf(p, (size_t)n + 1, fmt, ap2);
  va_end(ap2);
  return p;
}

char *read_whole_file(const char *path, size_t *len) {
  struct stat st;
  if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
    errno = EISDIR;
    return NULL;
  }
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  size_t cap = 4096, n = 0;
  char *buf = xmalloc(cap);
  for (;;) {
    if (n + 1 >= cap) buf = xrealloc(buf, cap *= 2);
    size_t got = fread(buf + n, 1, cap - n - 1, f);
    n += got;
    if (got == 0) break;
  }
  int err = ferror(f);
  fclose(f);
  if (err) {
    free(buf);
    errno = EIO;
    return NULL;
  }
  buf[n] = '\0';
  if (len) *len = n;
  return buf;
}

char *path_relative_to(const char *base_file, const char *path) {
  if (path[0] == '/') return xstrdup(path);
  const char *slash = strrchr(base_file, '/');
  if (!slash) return xstrdup(path);
  return xformat("%.*s/%s", (int)(slash - base_file), base_file, path);
}

char *c_ident(const char *s) {
  StrBuf sb = {0};
  if (!*s || isdigit((unsigned char)s[0])) sb_putc(&sb, '_');
  for (; *s; s++) sb_putc(&sb, isalnum((unsigned char)*s) ? *s : '_');
  return sb.data;
}

char *path_stem_identifier(const char *path) {
  const char *base = strrchr(path, '/');
  base = base ? base + 1 : path;
  const char *dot = strrchr(base, '.');
  size_t n = dot && dot != base ? (size_t)(dot - base) : strlen(base);
  StrBuf sb = {0};
  if (n == 0 || isdigit((unsigned char)base[0])) sb_putc(&sb, '_');
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)base[i];
    sb_putc(&sb, isalnum(c) ? (char)c : '_');
  }
  return sb.data;
}

bool ends_with(const char *s, const char *suffix) {
  size_t a = strlen(s), b = strlen(suffix);
  return a >= b && strcmp(s + a - b, suffix) == 0;
}

bool write_file_atomic(const char *path, const void *data, size_t len) {
  char *tmp = xformat("%s.tmp.%ld", path, (long)getpid());
  diag_track_temp(tmp);
  FILE *f = fopen(tmp, "wb");
  bool ok = f != NULL;
  if (ok && len) ok = fwrite(data, 1, len, f) == len;
  if (f && fclose(f) != 0) ok = false;
  if (ok && rename(tmp, path) != 0) ok = false;
  int saved = errno;
  if (!ok) remove(tmp);
  diag_untrack_temp(tmp);
  free(tmp);
  errno = saved;
  return ok;
}

char *format_double_exact(double x, char *buf) {
  if (!isfinite(x)) return strcpy(buf, "null");
  if (x == 0) x = 0; /* -0 prints as 0 */
  for (int prec = 15; prec <= 17; prec++) {
    snprintf(buf, DOUBLE_EXACT_MAX, "%.*g", prec, x);
    if (strtod(buf, NULL) == x) break;
  }
  return buf;
}

static void sb_reserve(StrBuf *sb, size_t extra) {
  if (sb->len + extra + 1 <= sb->cap) return;
  size_t cap = sb->cap ? sb->cap : 256;
  while (cap < sb->len + extra + 1) cap *= 2;
  sb->data = xrealloc(sb->data, cap);
  sb->cap = cap;
}

void sb_putc(StrBuf *sb, char c) {
  sb_reserve(sb, 1);
  sb->data[sb->len++] = c;
  sb->data[sb->len] = '\0';
}

void sb_puts(StrBuf *sb, const char *s) {
  size_t n = strlen(s);
  sb_reserve(sb, n);
  memcpy(sb->data + sb->len, s, n + 1);
  sb->len += n;
}

void sb_printf(StrBuf *sb, const char *fmt, ...) {
  va_list ap, ap2;
  va_start(ap, fmt);
  va_copy(ap2, ap);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  sb_reserve(sb, (size_t)n);
  vsnprintf(sb->data + sb->len, (size_t)n + 1, fmt, ap2);
  va_end(ap2);
  sb->len += (size_t)n;
}

void sb_free(StrBuf *sb) {
  free(sb->data);
  sb->data = NULL;
  sb->len = sb->cap = 0;
}

/* ------------------------------------------------------------ threads */

#define MAX_THREADS 64
#define DEFAULT_MAX_THREADS 2

int parallel_threads(int jobs) {
  int n = 0;
  const char *env = getenv("SHIFTC_THREADS");
  if (env && *env) {
    char *end;
    long v = strtol(env, &end, 10);
    if (*end == '\0' && v >= 1 && v <= MAX_THREADS) n = (int)v;
  }
  if (n == 0) {
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    n = cpus < 1 ? 1 : cpus > DEFAULT_MAX_THREADS ? DEFAULT_MAX_THREADS : (int)cpus;
  }
  if (n > jobs) n = jobs;
  return n < 1 ? 1 : n;
}

/* Worker 0 runs on this thread; a thread that cannot be created has its share run here
 * too (callers make results independent of who computes them). */
void run_parallel(void *workers, size_t size, int nthreads, void *(*fn)(void *)) {
  pthread_t tid[MAX_THREADS];
  bool started[MAX_THREADS] = {false};
  char *w = workers;
  if (nthreads > MAX_THREADS) internal_error("run_parallel: %d threads", nthreads);
  for (int t = 1; t < nthreads; t++) started[t] = pthread_create(&tid[t], NULL, fn, w + (size_t)t * size) == 0;
  fn(w);
  for (int t = 1; t < nthreads; t++) {
    if (started[t]) pthread_join(tid[t], NULL);
    else fn(w + (size_t)t * size);
  }
}
