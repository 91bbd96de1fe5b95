/* diag.c — every diagnostic shiftc prints: `file:line:col: error: msg`, the source
 * line, and a caret under the column (as chibicc's verror_at does). User errors exit
 * with 1 after removing temporary files, so no half-written output survives. */
#define _POSIX_C_SOURCE 200809L
#include "shiftc.h"

#include <stdlib.h>
#include <string.h>

typedef struct Source {
  char *file;
  char *text;
} Source;

static Source *sources;
static int nsources;
static char **temps;
static int ntemps;

void diag_add_source(const char *file, const char *text) {
  for (int i = 0; i < nsources; i++)
    if (strcmp(sources[i].file, file) == 0) return;
  sources = xrealloc(sources, sizeof(Source) * (size_t)(nsources + 1));
  sources[nsources].file = xstrdup(file);
  sources[nsources].text = xstrdup(text);
  nsources++;
}

static const char *source_text(const char *file) {
  for (int i = 0; i < nsources; i++)
    if (strcmp(sources[i].file, file) == 0) return sources[i].text;
  return NULL;
}

void diag_track_temp(const char *path) {
  temps = xrealloc(temps, sizeof(char *) * (size_t)(ntemps + 1));
  temps[ntemps++] = xstrdup(path);
}

void diag_untrack_temp(const char *path) {
  for (int i = 0; i < ntemps; i++)
    if (strcmp(temps[i], path) == 0) {
      free(temps[i]);
      temps[i] = temps[--ntemps];
      return;
    }
}

static _Noreturn void die(int status) {
  for (int i = 0; i < ntemps; i++) remove(temps[i]);
  fflush(stdout);
  exit(status);
}

/* Prints the quoted line and a caret; tabs are kept so the caret lines up. */
static void quote_line(SrcLoc loc) {
  const char *text = loc.file ? source_text(loc.file) : NULL;
  if (!text || loc.line <= 0) return;
  const char *p = text;
  for (int l = 1; l < loc.line && *p; p++)
    if (*p == '\n') l++;
  const char *end = strchr(p, '\n');
  int len = end ? (int)(end - p) : (int)strlen(p);
  if (len > 0 && p[len - 1] == '\r') len--;
  fprintf(stderr, "%.*s\n", len, p);
  int col = loc.col > 0 ? loc.col : 1;
  for (int i = 0; i < col - 1 && i < len; i++) fputc(p[i] == '\t' ? '\t' : ' ', stderr);
  fputs("^\n", stderr);
}

static void vreport(SrcLoc loc, const char *kind, const char *fmt, va_list ap) {
  fflush(stdout);
  if (loc.file && loc.line > 0)
    fprintf(stderr, "%s:%d:%d: %s: ", loc.file, loc.line, loc.col > 0 ? loc.col : 1, kind);
  else if (loc.file)
    fprintf(stderr, "%s: %s: ", loc.file, kind);
  else
    fprintf(stderr, "shiftc: %s: ", kind);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  quote_line(loc);
}

void error_at(SrcLoc loc, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vreport(loc, "error", fmt, ap);
  va_end(ap);
  die(1);
}

void error_file(const char *file, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vreport(loc_file(file), "error", fmt, ap);
  va_end(ap);
  die(1);
}

void error_cli(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vreport(loc_file(NULL), "error", fmt, ap);
  va_end(ap);
  die(1);
}

void note_at(SrcLoc loc, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vreport(loc, "note", fmt, ap);
  va_end(ap);
}

void warning_at(SrcLoc loc, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vreport(loc, "warning", fmt, ap);
  va_end(ap);
}

void internal_error(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vreport(loc_file(NULL), "internal error", fmt, ap);
  va_end(ap);
  die(2);
}
