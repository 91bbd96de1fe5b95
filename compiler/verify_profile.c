/* verify_profile.c — `shiftc verify OUTDIR --profile`: where the generated code spends its
 * time on this machine, layer by layer, put into the folder's reports.
 *
 * The folder's Makefile builds the golden test with -DSC_PROFILE (`make profile`): the run
 * function then marks the end of every layer (shiftc_rt.h's SC_PROFILE_MARK), and after
 * the goldens pass the test runs them round robin for PROFILE_MS milliseconds of process
 * CPU time and prints "profile layer <i> <name> <kernel> <ns per run> <macs>" lines. Here
 * they become a table — ms per inference, share, GOPS (2 x MACs / time) for the layers
 * that multiply — per layer and per kernel, printed, written as the .report.md section
 * "Profile on this machine" (replaced on every run), as "profile" in the .report.json,
 * and drawn into the .report.html. */
#define _POSIX_C_SOURCE 200809L
#include "shiftc.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  char *name, *kernel;
  double ns;
  long long macs;
} ProfLayer;

/* The CPU's name from /proc/cpuinfo where there is one. Heap. */
static char *cpu_name(void) {
  char *info = read_whole_file("/proc/cpuinfo", NULL);
  char *name = NULL;
  const char *line = info ? strstr(info, "model name") : NULL;
  if (line && (line = strchr(line, ':'))) {
    line++;
    while (*line == ' ' || *line == '\t') line++;
    size_t n = strcspn(line, "\n");
    name = xstrndup(line, n);
  }
  free(info);
  return name ? name : xstrdup("unknown CPU");
}

/* The .md section: the layers, then the kernels in order of first appearance. */
static void md_section(StrBuf *md, const ProfLayer *l, int n, long runs, double ns_run, const char *cpu, double ms) {
  double total = 0;
  for (int i = 0; i < n; i++) total += l[i].ns;
  sb_printf(md, "\n## Profile on this machine\n\n"
                "`make profile` (this folder's flags and the target's, plus -DSC_PROFILE), then %ld runs over the\n"
                "goldens' inputs (%.0f ms of process CPU time) on %s: %.4f ms per inference,\n"
                "%.4f ms of it in the layers. GOPS counts 2 operations per multiply-accumulate.\n\n",
            runs, ms, cpu, ns_run * 1e-6, total * 1e-6);
  sb_puts(md, "| # | layer | kernel | ms | share | GOPS |\n|---|---|---|---|---|---|\n");
  for (int i = 0; i < n; i++) {
    sb_printf(md, "| %d | %s | %s | %.4f | %.1f%% |", i + 1, l[i].name, l[i].kernel, l[i].ns * 1e-6,
              total > 0 ? 100 * l[i].ns / total : 0.0);
    if (l[i].macs > 0 && l[i].ns > 0) sb_printf(md, " %.1f |\n", 2.0 * (double)l[i].macs / l[i].ns);
    else sb_puts(md, " - |\n");
  }
  sb_puts(md, "\n| kernel | layers | ms | share | GOPS |\n|---|---|---|---|---|\n");
  for (int i = 0; i < n; i++) {
    bool seen = false;
    for (int j = 0; j < i; j++) seen = seen || strcmp(l[j].kernel, l[i].kernel) == 0;
    if (seen) continue;
    double ns = 0, macs = 0;
    int count = 0;
    for (int j = i; j < n; j++)
      if (strcmp(l[j].kernel, l[i].kernel) == 0) ns += l[j].ns, macs += (double)l[j].macs, count++;
    sb_printf(md, "| %s | %d | %.4f | %.1f%% |", l[i].kernel, count, ns * 1e-6, total > 0 ? 100 * ns / total : 0.0);
    if (macs > 0 && ns > 0) sb_printf(md, " %.1f |\n", 2.0 * macs / ns);
    else sb_puts(md, " - |\n");
  }
}

/* report text with its section starting at `head` (up to the next "\n## ") replaced by sec. */
static char *replace_section(const char *report, const char *head, const char *sec) {
  StrBuf out = {0};
  const char *old = strstr(report, head);
  if (old) {
    const char *next = strstr(old + strlen(head), "\n## ");
    for (const char *p = report; p < old; p++) sb_putc(&out, *p);
    sb_puts(&out, sec);
    if (next) sb_puts(&out, next);
  } else {
    sb_puts(&out, report);
    sb_puts(&out, sec);
  }
  return out.data;
}

/* The JSON report with "profile" set (replacing an earlier one). Heap; NULL when the
 * file does not parse. */
static char *json_with_profile(const char *json, const ProfLayer *l, int n, long runs, double ns_run,
                               const char *cpu) {
  cJSON *root = cJSON_Parse(json);
  if (!root) return NULL;
  cJSON *prof = cJSON_CreateObject();
  cJSON_AddStringToObject(prof, "cpu", cpu);
  cJSON_AddNumberToObject(prof, "runs", (double)runs);
  cJSON_AddNumberToObject(prof, "ms_per_run", ns_run * 1e-6);
  double total = 0;
  for (int i = 0; i < n; i++) total += l[i].ns;
  cJSON *arr = cJSON_AddArrayToObject(prof, "layers");
  for (int i = 0; i < n; i++) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "name", l[i].name);
    cJSON_AddStringToObject(o, "kernel", l[i].kernel);
    cJSON_AddNumberToObject(o, "ms", l[i].ns * 1e-6);
    cJSON_AddNumberToObject(o, "share_percent", total > 0 ? 100 * l[i].ns / total : 0);
    cJSON_AddNumberToObject(o, "macs", (double)l[i].macs);
    if (l[i].macs > 0 && l[i].ns > 0) cJSON_AddNumberToObject(o, "gops", 2.0 * (double)l[i].macs / l[i].ns);
    else cJSON_AddNullToObject(o, "gops");
    cJSON_AddItemToArray(arr, o);
  }
  cJSON_DeleteItemFromObjectCaseSensitive(root, "profile");
  cJSON_AddItemToObject(root, "profile", prof);
  char *text = cJSON_Print(root);
  cJSON_Delete(root);
  char *out = xformat("%s\n", text);
  cJSON_free(text);
  return out;
}

int verify_profile(const char *outdir, double ms) {
  char *model = verify_model_of(outdir);
  char *ms_arg = xformat("PROFILE_MS=%.0f", ms);
  char *argv[] = {"make", "-s", "-C", (char *)outdir, "profile", ms_arg, NULL};
  StrBuf run = {0};
  printf("$ make -s -C %s profile %s\n", outdir, ms_arg);
  int st = verify_run_captured(argv, &run);
  const char *text = run.data ? run.data : "";
  /* the goldens' lines, not the profile's */
  for (const char *p = text; *p;) {
    size_t n = strcspn(p, "\n");
    if (strncmp(p, "profile ", 8) != 0) printf("%.*s\n", (int)n, p);
    p += n + (p[n] == '\n');
  }
  if (st != 0) {
    printf("verify: %s: the profile build failed or its goldens do not match (exit %d)\n", outdir, st);
    return 1;
  }
  long runs = 0;
  double ns_run = 0;
  const char *r = strstr(text, "profile runs ");
  if (!r || sscanf(r, "profile runs %ld ns_per_run %lf", &runs, &ns_run) != 2 || runs <= 0) {
    printf("verify: %s: the profile build printed no timing (is it a folder of this shiftc version?)\n", outdir);
    return 1;
  }
  ProfLayer *l = NULL;
  int n = 0, cap = 0;
  for (const char *p = strstr(text, "profile layer "); p; p = strstr(p + 1, "\nprofile layer ")) {
    if (*p == '\n') p++;
    char name[256], kernel[64];
    int idx;
    double ns;
    long long macs;
    if (sscanf(p, "profile layer %d %255s %63s %lf %lld", &idx, name, kernel, &ns, &macs) != 5) continue;
    if (n == cap) l = xrealloc(l, sizeof *l * (size_t)(cap = cap ? 2 * cap : 16));
    l[n++] = (ProfLayer){xstrdup(name), xstrdup(kernel), ns, macs};
  }
  char *cpu = cpu_name();

  StrBuf sec = {0};
  md_section(&sec, l, n, runs, ns_run, cpu, ms);
  fputs(sec.data + 1, stdout); /* the table, as the report gets it */

  char *md_path = xformat("%s/%s.report.md", outdir, model);
  char *json_path = xformat("%s/%s.report.json", outdir, model), *html_path = xformat("%s/%s.report.html", outdir, model);
  char *md = read_whole_file(md_path, NULL), *json = read_whole_file(json_path, NULL);
  if (!md) error_cli("verify: cannot read '%s': %s", md_path, strerror(errno));
  if (!json) error_cli("verify: cannot read '%s': %s", json_path, strerror(errno));
  char *new_json = json_with_profile(json, l, n, runs, ns_run, cpu);
  if (!new_json) error_cli("verify: '%s' is not a JSON report shiftc wrote (it does not parse)", json_path);
  char *new_md = replace_section(md, "\n## Profile on this machine\n", sec.data);
  char *html = report_html(new_json, NULL);
  /* all three written only once all three are made: never a half-updated set */
  if (!write_file_atomic(md_path, new_md, strlen(new_md)))
    error_cli("verify: cannot write '%s': %s", md_path, strerror(errno));
  if (!write_file_atomic(json_path, new_json, strlen(new_json)))
    error_cli("verify: cannot write '%s': %s", json_path, strerror(errno));
  if (!write_file_atomic(html_path, html, strlen(html)))
    error_cli("verify: cannot write '%s': %s", html_path, strerror(errno));
  printf("verify: %s: every golden bit-exact; profile of %d layers added to %s, .json and .html\n", outdir, n, md_path);
  for (int i = 0; i < n; i++) free(l[i].name), free(l[i].kernel);
  free(l), free(cpu), free(md), free(json), free(new_json), free(new_md), free(html), free(sec.data), free(run.data);
  free(md_path), free(json_path), free(html_path), free(ms_arg), free(model);
  return 0;
}
