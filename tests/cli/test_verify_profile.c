/* test_verify_profile.c — `shiftc verify OUTDIR --profile` (issue 10, item 5: the report
 * gives each layer's GOPS): on digits_cnn's avx2 code (scalar where the CPU has no AVX2)
 * the goldens pass, then every layer gets a time, the conv and linear layers a GOPS above
 * zero, in the .report.md (one section, however often it runs), the .report.json
 * ("profile", one entry per layer, the layer names of the report's layer list) and the
 * .report.html; a folder whose golden is off by one code fails and leaves the reports as
 * they were; the option errors are user errors. */
#define _GNU_SOURCE
#include "testlib.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int count(const char *hay, const char *needle) {
  int n = 0;
  for (const char *p = hay; p && (p = strstr(p, needle)); p += strlen(needle)) n++;
  return n;
}

/* The GOPS column of the .md profile row of `layer` (its last cell): < 0 when absent or "-". */
static double md_gops(const char *md, const char *layer) {
  const char *sec = md ? strstr(md, "## Profile on this machine") : NULL;
  char *key = t_fmt("| %s |", layer);
  const char *row = sec ? strstr(sec, key) : NULL;
  free(key);
  if (!row) return -1;
  const char *end = strchr(row, '\n');
  const char *last = end;
  while (last > row && last[-1] != '|') last--; /* after the closing bar */
  last--;
  while (last > row && last[-1] != '|') last--; /* the last cell */
  double g = -1;
  return sscanf(last, " %lf", &g) == 1 ? g : -1;
}

int main(void) {
  const char *shiftc = getenv("SHIFTC") ? getenv("SHIFTC") : "build/san/shiftc";
  unsetenv("MAKEFLAGS");
  unsetenv("MFLAGS");
  unsetenv("MAKELEVEL");
  char *tmp = t_tempdir();
  char *dir = t_fmt("%s/digits_cnn", tmp);
  char *md_path = t_fmt("%s/digits_cnn.report.md", dir), *json_path = t_fmt("%s/digits_cnn.report.json", dir);
  char *html_path = t_fmt("%s/digits_cnn.report.html", dir);
  FILE *cpu = fopen("/proc/cpuinfo", "r");
  char line[4096];
  bool avx2 = false;
  while (cpu && fgets(line, sizeof line, cpu))
    if (strncmp(line, "flags", 5) == 0) {
      avx2 = strstr(line, " avx2") != NULL;
      break;
    }
  if (cpu) fclose(cpu);
  char *compile[] = {(char *)shiftc, "compile", "examples/digits_cnn/digits_cnn.nn", "-c",
                     "examples/digits_cnn/digits_cnn.yaml", "--target", avx2 ? "avx2" : "scalar", "-o", dir, NULL};
  TRun r = t_run(compile);
  if (!t_check(r.status == 0, "verify --profile: compile digits_cnn", "status %d:\n%s%s", r.status, r.out, r.err))
    return t_exit_status();
  t_run_free(&r);

  char *verify[] = {(char *)shiftc, "verify", dir, "--profile", "--ms", "50", NULL};
  for (int round = 0; round < 2; round++) { /* twice: the section is replaced, not added */
    r = t_run(verify);
    t_check(r.status == 0 && strstr(r.out, "8/8 goldens bit-exact") && strstr(r.out, "| kernel | layers |"),
            round ? "verify --profile: a second run" : "verify --profile: goldens, then the table", "status %d:\n%s%s",
            r.status, r.out, r.err);
    t_run_free(&r);
  }
  char *md = t_read_file(md_path, NULL), *json = t_read_file(json_path, NULL), *html = t_read_file(html_path, NULL);
  /* digits_cnn: conv c1, pool, conv c2, pool, linear logits (layer1_c1 ... layer5_logits) */
  const double g1 = md_gops(md, "layer1_c1"), g3 = md_gops(md, "layer3_c2"), g5 = md_gops(md, "layer5_logits");
  const double gp = md_gops(md, "layer2_p1");
  t_check(md && count(md, "## Profile on this machine") == 1 && g1 > 0 && g3 > 0 && g5 > 0 && gp < 0,
          "verify --profile: one .md section, GOPS for the convs and the linear, none for pooling",
          "sections %d, GOPS c1 %g c2 %g logits %g pool %g in:\n%s", md ? count(md, "## Profile on this machine") : -1,
          g1, g3, g5, gp, md ? md : "(no report)");
  const char *prof = json ? strstr(json, "\"profile\"") : NULL;
  t_check(prof && count(prof, "\"kernel\"") == 5 && count(prof, "\"gops\":\tnull") == 2 && strstr(prof, "layer3_c2") &&
              count(json, "\"profile\"") == 1,
          "verify --profile: .report.json has profile.layers, one per layer", "%s", prof ? prof : "(no profile)");
  t_check(html && count(html, "profile-table") == 1 && strstr(html, "profile.layers.2.gops"),
          "verify --profile: the .report.html draws the profile", "%s", html ? "no profile table" : "(no html)");

  /* One golden output code off by one: the profile must not be taken, the reports unchanged. */
  char *golden = t_fmt("%s/digits_cnn_golden.c", dir);
  size_t len = 0;
  char *g = t_read_file(golden, &len);
  char *out = g ? strstr(g, "digits_cnn_golden_output[DIGITS_CNN_GOLDEN_COUNT]") : NULL;
  char *first = out ? strstr(out, "/* golden 0 */") : NULL;
  if (first) {
    first = strchr(first, '\n');
    while (first && *first && *first != '-' && (*first < '0' || *first > '9')) first++;
  }
  bool changed = false;
  if (first && *first) {
    long v = strtol(first, NULL, 10);
    char *end = first + strspn(first, "-0123456789");
    char *text = t_fmt("%.*s%ld%s", (int)(first - g), g, v == 127 ? 126 : v + 1, end);
    FILE *f = fopen(golden, "w");
    changed = f && fputs(text, f) >= 0;
    if (f) fclose(f);
    free(text);
  }
  r = t_run(verify);
  char *md2 = t_read_file(md_path, NULL), *json2 = t_read_file(json_path, NULL);
  t_check(changed && r.status == 1 && strstr(r.out, "MISMATCH") && md2 && md && strcmp(md, md2) == 0 && json2 &&
              json && strcmp(json, json2) == 0,
          "verify --profile: a golden off by one fails, the reports untouched", "changed %d status %d:\n%s%s", changed,
          r.status, r.out, r.err);
  t_run_free(&r);

  /* option errors */
  struct {
    const char *label, *want;
    char *argv[8];
  } bad[] = {
      {"--ms without --profile", "--ms is the length of a profile", {(char *)shiftc, "verify", dir, "--ms", "50", NULL}},
      {"--ms 0", "--ms wants milliseconds", {(char *)shiftc, "verify", dir, "--profile", "--ms", "0", NULL}},
      {"--ms abc", "--ms wants milliseconds", {(char *)shiftc, "verify", dir, "--profile", "--ms", "abc", NULL}},
      {"--profile with --board", "does not go with --board",
       {(char *)shiftc, "verify", dir, "--profile", "--board", "mps2-an386", NULL}},
  };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    r = t_run(bad[i].argv);
    char *label = t_fmt("verify --profile: %s is a user error", bad[i].label);
    t_check(r.status == 1 && strstr(r.err, bad[i].want), label, "status %d:\n%s%s", r.status, r.out, r.err);
    free(label);
    t_run_free(&r);
  }
  free(md), free(json), free(html), free(md2), free(json2), free(g), free(golden);
  free(dir), free(md_path), free(json_path), free(html_path);
  return t_exit_status();
}
