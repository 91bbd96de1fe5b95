/* test_report_html.c — the HTML report in a real browser: `shiftc compile` writes
 * <model>.report.html for two examples (digits_cnn, digits_mlp) and `shiftc eval
 * --html --per-layer` the page with accuracy; headless Chromium (no network: every
 * host name maps to nothing) renders each to PNG and dumps its DOM. Checks: the PNG
 * has the window's size and is far larger than a blank page's (it drew something),
 * no console message, every data-j/data-v number survived parsing (as many in the
 * DOM as in the file), each equals the .report.json value at its path bit for bit
 * (eval's numbers equal what eval printed), and the rounded text people see agrees.
 * Without Chromium the test fails and says how to install it. */
#define _GNU_SOURCE
#include "testlib.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define WIN_W 1200
#define WIN_H 1600

static const char *shiftc, *chromium;
static char *tmp;

/* ------------------------------------------------------------ the browser */

typedef struct Render {
  bool ok;
  long png_bytes;
  unsigned width, height;
  char *dom;
} Render;

static uint32_t be32(const unsigned char *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Screenshot and DOM of a local file in one headless run; checks exit status,
 * console messages and the PNG header. */
static Render render(const char *html, const char *tag) {
  Render r = {0};
  char *png = t_fmt("%s/%s.png", tmp, tag), *profile = t_fmt("%s/profile-%s", tmp, tag);
  char *abs = realpath(html, NULL);
  char *url = t_fmt("file://%s", abs ? abs : html);
  char *shot = t_fmt("--screenshot=%s", png), *prof = t_fmt("--user-data-dir=%s", profile);
  char *size = t_fmt("--window-size=%d,%d", WIN_W, WIN_H);
  char *argv[] = {(char *)chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                  "--host-resolver-rules=MAP * ~NOTFOUND", "--no-first-run", "--disable-dev-shm-usage", prof, shot, "--dump-dom", size,
                  "--enable-logging=stderr", "--v=0", url, NULL};
  TRun run = t_run(argv);
  char *name = t_fmt("chromium %s: renders (exit 0)", tag);
  t_check(run.status == 0, name, "status %d: %.400s", run.status, run.err);
  free(name);
  name = t_fmt("chromium %s: no console messages", tag);
  const char *console = strstr(run.err, ":CONSOLE");
  t_check(!console, name, "%.200s", console ? console : "");
  free(name);
  size_t n = 0;
  unsigned char *p = (unsigned char *)t_read_file(png, &n);
  bool png_ok = p && n > 24 && memcmp(p, "\x89PNG\r\n\x1a\n", 8) == 0 && memcmp(p + 12, "IHDR", 4) == 0;
  if (png_ok) {
    r.width = be32(p + 16);
    r.height = be32(p + 20);
  }
  name = t_fmt("chromium %s: PNG of %dx%d", tag, WIN_W, WIN_H);
  t_check(png_ok && r.width == WIN_W && r.height == WIN_H, name, "%s: %zu bytes, %ux%u", png, n, r.width, r.height);
  free(name);
  r.png_bytes = (long)n;
  r.dom = run.out;
  run.out = NULL;
  r.ok = run.status == 0 && png_ok && r.dom && strstr(r.dom, "</html>");
  t_run_free(&run);
  free(p);
  free(png);
  free(profile);
  free(abs);
  free(url);
  free(shot);
  free(prof);
  free(size);
  return r;
}

/* ------------------------------------------------------------ numbers in a page */

typedef struct Datum {
  char *key, *exact, *visible;
} Datum;

/* Every data-j/data-v pair with the text it shows, in document order. */
static Datum *data_of(const char *page, int *count) {
  Datum *d = NULL;
  int n = 0;
  for (const char *s = page; (s = strstr(s, "data-j=\"")) != NULL;) {
    s += 8;
    const char *e = strchr(s, '"');
    const char *v = e ? strstr(e, "data-v=\"") : NULL;
    const char *ve = v ? strchr(v + 8, '"') : NULL;
    const char *t = ve ? strchr(ve, '>') : NULL;
    const char *te = t ? strchr(t, '<') : NULL;
    if (!te || v != e + 2) break; /* data-v right after data-j: ` data-v="` */
    d = realloc(d, sizeof(Datum) * (size_t)(n + 1));
    d[n].key = strndup(s, (size_t)(e - s));
    d[n].exact = strndup(v + 8, (size_t)(ve - v - 8));
    d[n].visible = strndup(t + 1, (size_t)(te - t - 1));
    n++;
    s = te;
  }
  *count = n;
  return d;
}

static int count_str(const char *hay, const char *needle) {
  int n = 0;
  for (const char *s = hay; (s = strstr(s, needle)) != NULL; s++) n++;
  return n;
}

/* The JSON value at a dotted path ("layers.3.weights.bytes"). */
static const cJSON *at_path(const cJSON *root, const char *path) {
  char *p = strdup(path), *save = NULL;
  const cJSON *cur = root;
  for (char *seg = strtok_r(p, ".", &save); seg && cur; seg = strtok_r(NULL, ".", &save)) {
    if (cJSON_IsArray(cur)) cur = cJSON_GetArrayItem(cur, atoi(seg));
    else cur = cJSON_GetObjectItemCaseSensitive(cur, seg);
  }
  free(p);
  return cur;
}

/* The text shown agrees with the exact value (rounded to 2 decimals or 6 digits). */
static bool visible_agrees(const Datum *d) {
  if (strcmp(d->exact, "null") == 0)
    return !strcmp(d->visible, "n/a") || !strcmp(d->visible, "inf") || !strcmp(d->visible, "-inf");
  double v = strtod(d->exact, NULL);
  char *end;
  double w = strtod(d->visible, &end);
  if (end == d->visible || (*end && strcmp(end, "%") != 0)) return false;
  return fabs(w - v) <= 0.005 + 1e-5 * fabs(v);
}

typedef struct Expect {
  int float_correct, int_correct, agree, samples; /* from eval's output */
  double sqnr[64];                                /* eval's per-layer SQNR (%.1f) */
  int nsqnr;
  int sens_float, sens_int, sens_samples;
  int int_only[64], float_only[64]; /* by layer index */
} Expect;

/* What eval printed, with layer names mapped to indices through the JSON. */
static bool parse_eval(const char *out, const cJSON *json, Expect *x) {
  memset(x, 0, sizeof *x);
  const char *f = strstr(out, "float top-1: "), *a = strstr(out, "agreement: ");
  if (!f || !a) return false;
  const char *i = strstr(f + strlen("float top-1: "), " top-1: "); /* "int8 top-1: " */
  if (!i || sscanf(strchr(f, '(') + 1, "%d/%d", &x->float_correct, &x->samples) != 2 ||
      sscanf(strchr(i, '(') + 1, "%d", &x->int_correct) != 1 || sscanf(strchr(a, '(') + 1, "%d", &x->agree) != 1)
    return false;
  const cJSON *layers = cJSON_GetObjectItemCaseSensitive(json, "layers");
  int nl = cJSON_GetArraySize(layers);
  const char *sq = strstr(out, "per-layer SQNR");
  const char *line = sq ? strchr(sq, '\n') : NULL;
  for (int k = 0; k < nl && k < 64 && line; k++) {
    const char *eol = strchr(line + 1, '\n');
    if (!eol) return false;
    const char *last = eol;
    while (last > line && last[-1] != ' ') last--;
    x->sqnr[x->nsqnr++] = strtod(last, NULL);
    line = eol;
  }
  const char *s = strstr(out, "per-layer sensitivity (top-1 on ");
  if (!s || sscanf(s, "per-layer sensitivity (top-1 on %d samples; float %d, integer %d correct)", &x->sens_samples,
                   &x->sens_float, &x->sens_int) != 3)
    return false;
  line = strchr(strchr(s, '\n') + 1, '\n'); /* past the column header */
  for (int r = 0; r < nl && line; r++) {
    int rank, io;
    char name[128], fo[32];
    double cost;
    if (sscanf(line + 1, "%d %127s %d %lf %31s", &rank, name, &io, &cost, fo) != 5) return false;
    for (int k = 0; k < nl && k < 64; k++) {
      const cJSON *l = cJSON_GetArrayItem(layers, k);
      const cJSON *nm = cJSON_GetObjectItemCaseSensitive(l, "name");
      if (cJSON_IsString(nm) && strcmp(nm->valuestring, name) == 0) {
        x->int_only[k] = io;
        x->float_only[k] = strcmp(fo, "n/a") == 0 ? -1 : atoi(fo);
      }
    }
    line = strchr(line + 1, '\n');
  }
  return true;
}

/* The value an "eval." key must have, from eval's output. */
static bool eval_value(const Expect *x, const char *key, double *v) {
  int k;
  char what[64];
  double n = x->samples;
  if (!strcmp(key, "eval.samples")) *v = n;
  else if (!strcmp(key, "eval.float_correct")) *v = x->float_correct;
  else if (!strcmp(key, "eval.int_correct")) *v = x->int_correct;
  else if (!strcmp(key, "eval.agree_correct")) *v = x->agree;
  else if (!strcmp(key, "eval.float_percent") || !strcmp(key, "eval.float_top1_percent")) *v = 100.0 * x->float_correct / n;
  else if (!strcmp(key, "eval.int_percent") || !strcmp(key, "eval.int_top1_percent")) *v = 100.0 * x->int_correct / n;
  else if (!strcmp(key, "eval.agree_percent")) *v = 100.0 * x->agree / n;
  else if (!strcmp(key, "eval.sensitivity.samples")) *v = x->sens_samples;
  else if (!strcmp(key, "eval.sensitivity.float_correct")) *v = x->sens_float;
  else if (!strcmp(key, "eval.sensitivity.int_correct")) *v = x->sens_int;
  else if (sscanf(key, "eval.sensitivity.%d.%63s", &k, what) == 2 && k >= 0 && k < 64) {
    if (!strcmp(what, "int_only")) *v = x->int_only[k];
    else if (!strcmp(what, "float_only")) *v = x->float_only[k];
    else if (!strcmp(what, "cost")) *v = 100.0 * (x->sens_float - x->int_only[k]) / x->sens_samples;
    else if (!strcmp(what, "gain")) *v = 100.0 * (x->float_only[k] - x->sens_int) / x->sens_samples;
    else return false;
  } else return false;
  return true;
}

/* Every number of the rendered page against the JSON (and eval's output). */
static void check_numbers(const char *tag, const char *file_html, const Render *r, const cJSON *json, const Expect *x) {
  int n, nfile = count_str(file_html, "data-j=\"");
  Datum *d = data_of(r->dom, &n);
  char *name = t_fmt("%s: every number survived parsing (%d in the DOM)", tag, n);
  t_check(n == nfile && n > 0, name, "%d in the DOM, %d in the file", n, nfile);
  free(name);
  int bad = 0, checked = 0, shown_bad = 0, thresholds = 0, sqnr = 0, evals = 0;
  char why[512] = "";
  for (int i = 0; i < n; i++) {
    int k;
    char rest[64];
    bool is_sqnr = sscanf(d[i].key, "layers.%d.%63s", &k, rest) == 2 && !strcmp(rest, "sqnr_db");
    double want;
    bool have;
    if (!strncmp(d[i].key, "eval.", 5)) {
      have = x && eval_value(x, d[i].key, &want);
      evals += have;
    } else if (x && (is_sqnr || !strncmp(d[i].key, "totals.worst_sqnr.", 18))) {
      /* eval measures SQNR on its own data: compare with what it printed. */
      if (is_sqnr && k < x->nsqnr) {
        sqnr++;
        checked++;
        if (fabs(strtod(d[i].exact, NULL) - x->sqnr[k]) > 0.05 + 1e-9) {
          bad++;
          snprintf(why, sizeof why, "%s = %s, eval printed %.1f", d[i].key, d[i].exact, x->sqnr[k]);
        }
      }
      continue;
    } else if (x && !strncmp(d[i].key, "measurement.", 12)) {
      continue;
    } else {
      const cJSON *j = at_path(json, d[i].key);
      have = j && (cJSON_IsNumber(j) || cJSON_IsNull(j));
      want = j && cJSON_IsNumber(j) ? j->valuedouble : NAN;
      sqnr += is_sqnr;
    }
    if (!have) {
      bad++;
      snprintf(why, sizeof why, "%s: no such number", d[i].key);
      continue;
    }
    checked++;
    thresholds += strstr(d[i].key, ".thresholds.") != NULL;
    bool same = isnan(want) ? strcmp(d[i].exact, "null") == 0 : strtod(d[i].exact, NULL) == want;
    if (!same) {
      bad++;
      snprintf(why, sizeof why, "%s = %s, want %.17g", d[i].key, d[i].exact, want);
    }
    if (!visible_agrees(&d[i])) {
      shown_bad++;
      snprintf(why, sizeof why, "%s shows '%s' for %s", d[i].key, d[i].visible, d[i].exact);
    }
  }
  const cJSON *layers = cJSON_GetObjectItemCaseSensitive(json, "layers");
  const cJSON *vals = at_path(json, "calibration.values");
  name = t_fmt("%s: the page's %d numbers equal the report's", tag, checked);
  t_check(bad == 0 && shown_bad == 0, name, "%d wrong, %d shown wrong; %s", bad, shown_bad, why);
  free(name);
  name = t_fmt("%s: page holds every layer's SQNR and every method's threshold", tag);
  t_check(sqnr == cJSON_GetArraySize(layers) && thresholds == 4 * cJSON_GetArraySize(vals), name,
          "%d SQNRs for %d layers, %d thresholds for %d values", sqnr, cJSON_GetArraySize(layers), thresholds,
          cJSON_GetArraySize(vals));
  free(name);
  if (x) {
    name = t_fmt("%s: accuracy and per-layer sensitivity shown", tag);
    t_check(evals >= 9 + 4 * cJSON_GetArraySize(layers), name, "%d eval numbers", evals);
    free(name);
  }
  for (int i = 0; i < n; i++) {
    free(d[i].key);
    free(d[i].exact);
    free(d[i].visible);
  }
  free(d);
}

static cJSON *load_json(const char *path) {
  char *text = t_read_file(path, NULL);
  cJSON *j = text ? cJSON_Parse(text) : NULL;
  free(text);
  return j;
}

/* compile an example; returns its report page path (NULL on failure). */
static char *compile(const char *ex) {
  char *model = t_fmt("examples/%s/%s.nn", ex, ex), *yaml = t_fmt("examples/%s/%s.yaml", ex, ex);
  char *out = t_fmt("%s/%s", tmp, ex);
  char *argv[] = {(char *)shiftc, "compile", model, "-c", yaml, "-o", out, NULL};
  TRun r = t_run(argv);
  char *name = t_fmt("compile %s: report page written", ex);
  char *page = t_fmt("%s/%s.report.html", out, ex);
  bool ok = t_check(r.status == 0 && access(page, R_OK) == 0, name, "status %d: %.300s", r.status, r.err);
  t_run_free(&r);
  free(name);
  free(model);
  free(yaml);
  free(out);
  if (!ok) {
    free(page);
    return NULL;
  }
  return page;
}

int main(void) {
  shiftc = getenv("SHIFTC") ? getenv("SHIFTC") : "build/san/shiftc";
  chromium = getenv("CHROMIUM") ? getenv("CHROMIUM") : "chromium";
  tmp = t_tempdir();
  char *ver[] = {(char *)chromium, "--version", NULL};
  TRun v = t_run(ver);
  if (!t_check(v.status == 0, "chromium: available for the report test",
               "'%s --version' failed (status %d): install the Debian package chromium "
               "(sh tools/ensure-deps.sh test does it as root)", chromium, v.status))
    return t_exit_status();
  t_run_free(&v);

  /* A blank page at the same size: what "drew nothing" would weigh. */
  char *blank = t_fmt("%s/blank.html", tmp);
  FILE *bf = fopen(blank, "w");
  if (bf) {
    fputs("<!DOCTYPE html><html><head><title>blank</title></head><body></body></html>\n", bf);
    fclose(bf);
  }
  Render rb = render(blank, "blank");

  static const char *examples[] = {"digits_cnn", "digits_mlp"};
  cJSON *cnn_json = NULL;
  for (int e = 0; e < 2; e++) {
    char *page = compile(examples[e]);
    if (!page) continue;
    char *json_path = t_fmt("%s/%s/%s.report.json", tmp, examples[e], examples[e]);
    cJSON *json = load_json(json_path);
    char *text = t_read_file(page, NULL);
    Render r = render(page, examples[e]);
    char *name = t_fmt("%s: rendered page is not blank", examples[e]);
    t_check(r.ok && rb.png_bytes > 0 && r.png_bytes > 5 * rb.png_bytes, name, "%ld bytes against a blank %ld",
            r.png_bytes, rb.png_bytes);
    free(name);
    if (r.ok && json && text) check_numbers(examples[e], text, &r, json, NULL);
    if (e == 0) cnn_json = json;
    else cJSON_Delete(json);
    free(r.dom);
    free(text);
    free(json_path);
    free(page);
  }

  /* eval --html --per-layer: the same page with accuracy and each layer's cost. */
  char *page = t_fmt("%s/eval.html", tmp);
  char *argv[] = {(char *)shiftc, "eval", "examples/digits_cnn/digits_cnn.nn", "-c", "examples/digits_cnn/digits_cnn.yaml",
                  "--data", "examples/digits_cnn/test.safetensors", "--html", page, "--per-layer", NULL};
  TRun ev = t_run(argv);
  bool ok = t_check(ev.status == 0 && access(page, R_OK) == 0, "eval --html --per-layer: page written",
                    "status %d: %.300s", ev.status, ev.err);
  Expect x;
  if (ok && cnn_json) {
    bool parsed = parse_eval(ev.out, cnn_json, &x);
    t_check(parsed, "eval --per-layer: output has accuracy, SQNR and the sensitivity table", "%.600s", ev.out);
    t_check(parsed && x.sens_int == x.int_correct, "eval --per-layer: all-integer baseline equals eval's int top-1",
            "%d vs %d", x.sens_int, x.int_correct);
    char *text = t_read_file(page, NULL);
    Render r = render(page, "eval");
    t_check(r.ok && r.png_bytes > 5 * rb.png_bytes, "eval: rendered page is not blank", "%ld bytes against %ld",
            r.png_bytes, rb.png_bytes);
    if (parsed && r.ok && text) check_numbers("eval", text, &r, cnn_json, &x);
    free(text);
    free(r.dom);
  }
  t_run_free(&ev);
  cJSON_Delete(cnn_json);
  free(rb.dom);
  return t_exit_status();
}
