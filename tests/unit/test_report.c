/* test_report.c — the compile reports (report.c) for the digits_cnn example: both
 * files written, byte-identical across runs, the JSON well formed (parsed with
 * cJSON) and carrying the program's own numbers (layers, scales, shifts, MACs,
 * bytes, SQNR read back exactly, calibration histograms, memory plan, totals), the
 * Markdown holding the summary table and every layer; strings with quotes, control
 * characters and table bars escaped; NaN and infinite SQNR shown as n/a / inf. */
#define _POSIX_C_SOURCE 200809L
#include "shiftc.h"
#include "testlib.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MODEL "examples/digits_cnn/digits_cnn.nn"

static char *path_in(const char *dir, const char *model, const char *ext) {
  return xformat("%s/%s.report.%s", dir, model, ext);
}

static const cJSON *get(const cJSON *o, const char *key) { return cJSON_GetObjectItemCaseSensitive(o, key); }

static double num(const cJSON *o, const char *key) {
  const cJSON *v = get(o, key);
  return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static const char *str(const cJSON *o, const char *key) {
  const cJSON *v = get(o, key);
  return cJSON_IsString(v) ? v->valuestring : NULL;
}

static bool str_is(const cJSON *o, const char *key, const char *want) {
  const char *s = str(o, key);
  return s && want && strcmp(s, want) == 0;
}

static int count_occurrences(const char *hay, const char *needle) {
  int n = 0;
  for (const char *s = hay; (s = strstr(s, needle)) != NULL; s++) n++;
  return n;
}

static void test_files(const IntProgram *p, const Measurement *m) {
  const char *name = p->g->name;
  char *d1 = t_tempdir(), *d2 = t_tempdir();
  write_report(p, m, d1);
  write_report(p, m, d2);
  size_t n1, n2, j1, j2;
  char *md1 = t_read_file(path_in(d1, name, "md"), &n1), *md2 = t_read_file(path_in(d2, name, "md"), &n2);
  char *js1 = t_read_file(path_in(d1, name, "json"), &j1), *js2 = t_read_file(path_in(d2, name, "json"), &j2);
  t_check(md1 && md2, "report: markdown written", "missing %s", path_in(d1, name, "md"));
  t_check(js1 && js2, "report: json written", "missing %s", path_in(d1, name, "json"));
  if (!md1 || !md2 || !js1 || !js2) return;
  t_check(n1 == n2 && memcmp(md1, md2, n1) == 0, "report: markdown byte-identical across runs", "%zu vs %zu bytes",
          n1, n2);
  t_check(j1 == j2 && memcmp(js1, js2, j1) == 0, "report: json byte-identical across runs", "%zu vs %zu bytes", j1,
          j2);
  /* Only the two reports: no temporaries left behind by the atomic writes. */
  int files = 0;
  DIR *dir = opendir(d1);
  for (struct dirent *de; dir && (de = readdir(dir)) != NULL;)
    if (de->d_name[0] != '.') files++;
  if (dir) closedir(dir);
  t_check(files == 3, "report: exactly three files (md, json, html), no temporary left", "%d files in %s", files, d1);
  size_t h1n, h2n;
  char *h1 = t_read_file(path_in(d1, name, "html"), &h1n), *h2 = t_read_file(path_in(d2, name, "html"), &h2n);
  t_check(h1 && h2 && h1n == h2n && memcmp(h1, h2, h1n) == 0, "report: html written, byte-identical across runs",
          "%zu vs %zu bytes", h1 ? h1n : 0, h2 ? h2n : 0);
  t_check(strcmp(p->g->name, "digits_cnn") == 0 && strstr(path_in(d1, name, "md"), "digits_cnn.report.md"),
          "report: files named after the model", "%s", path_in(d1, name, "md"));
  t_check(md1[n1 - 1] == '\n' && js1[j1 - 1] == '\n', "report: both files end with a newline", "no final newline");

  /* ---------------- JSON */
  cJSON *root = cJSON_Parse(js1);
  if (!t_check(root != NULL, "report json: parses", "cJSON_Parse failed near: %.40s", cJSON_GetErrorPtr()))
    return;
  const Config *cfg = p->cfg;
  t_check(str_is(root, "model", "digits_cnn") && str_is(root, "source", p->g->source) &&
              str_is(root, "schema", "shiftc-report/1"),
          "report json: header names model and source", "model/source/schema wrong");
  const cJSON *c = get(root, "config");
  t_check(str_is(c, "target", cfg->target) && str_is(c, "requantize", "shift") && num(c, "weight_bits") == 8 &&
              str_is(c, "weight_granularity", "per-channel") && num(c, "bias_bits") == 32 &&
              str_is(c, "calibration_method", "percentile") && num(c, "percentile") == cfg->percentile &&
              num(c, "calibration_samples") == p->calib_samples,
          "report json: config", "config object differs from the Config");
  t_check(num(get(root, "measurement"), "samples") == m->samples &&
              num(get(root, "measurement"), "top1_agree") == m->agree,
          "report json: measurement samples", "samples %g", num(get(root, "measurement"), "samples"));

  const cJSON *layers = get(root, "layers");
  t_check(cJSON_IsArray(layers) && cJSON_GetArraySize(layers) == p->nlayers, "report json: one entry per layer",
          "%d entries for %d layers", cJSON_GetArraySize(layers), p->nlayers);
  int bad_name = -1, bad_num = -1, bad_sqnr = -1, bad_shift = -1, bad_w = -1, bad_scale = -1, bad_notes = -1;
  for (int k = 0; k < p->nlayers && k < cJSON_GetArraySize(layers); k++) {
    const ILayer *l = &p->layers[k];
    const cJSON *e = cJSON_GetArrayItem(layers, k);
    const Node *n = &p->g->nodes[l->node];
    if (!str_is(e, "name", l->name) || !str_is(e, "node", n->name) || !str_is(e, "op", op_table[n->op].name) ||
        num(e, "index") != k)
      bad_name = k;
    if (num(e, "macs") != (double)l->macs) bad_num = k;
    double db = num(e, "sqnr_db");
    if (!(db == m->sqnr_db[k])) bad_sqnr = k; /* read back exactly */
    const cJSON *rq = get(e, "requant");
    if (l->kind == IL_CONV2D || l->kind == IL_LINEAR) {
      const cJSON *sh = get(rq, "shifts");
      if (cJSON_GetArraySize(sh) != l->nch) bad_shift = k;
      for (int ch = 0; ch < l->nch && ch < cJSON_GetArraySize(sh); ch++)
        if (cJSON_GetArrayItem(sh, ch)->valuedouble != l->shift[ch]) bad_shift = k;
      const cJSON *w = get(e, "weights");
      if (num(w, "bytes") != (double)((l->weight_count * l->weight_bits + 7) / 8) || num(w, "bits") != l->weight_bits)
        bad_w = k;
      const cJSON *ws = get(w, "scales");
      for (int ch = 0; ch < l->nch; ch++)
        if (cJSON_GetArrayItem(ws, ch) == NULL || cJSON_GetArrayItem(ws, ch)->valuedouble != l->w_scale[ch]) bad_w = k;
      const cJSON *cl = get(rq, "clamp");
      const sc_requant *r = l->kind == IL_CONV2D ? &l->p.conv.rq : &l->p.lin.rq;
      if (cJSON_GetArraySize(cl) != 2 || cJSON_GetArrayItem(cl, 0)->valuedouble != r->lo ||
          cJSON_GetArrayItem(cl, 1)->valuedouble != r->hi || num(rq, "k_chunk") != r->k_chunk)
        bad_shift = k;
      if (num(get(e, "bias"), "count") != l->nch) bad_w = k;
    } else if (l->kind == IL_MAXPOOL2D) {
      if (!cJSON_IsNull(rq) || !cJSON_IsNull(get(e, "weights"))) bad_shift = k;
    }
    const cJSON *out = get(e, "output");
    const Value *ov = &p->g->values[l->out];
    if (!str_is(out, "name", ov->name) || num(out, "scale") != ov->q->scale || num(out, "exp") != ov->q->exp ||
        cJSON_GetArraySize(get(out, "shape")) != ov->shape.rank)
      bad_scale = k;
    const cJSON *in0 = cJSON_GetArrayItem(get(e, "inputs"), 0);
    if (!str_is(in0, "name", p->g->values[l->in[0]].name) || num(in0, "scale") != p->g->values[l->in[0]].q->scale)
      bad_scale = k;
    const cJSON *notes = get(e, "notes");
    if (cJSON_GetArraySize(notes) != l->nnotes) bad_notes = k;
    for (int i = 0; i < l->nnotes && i < cJSON_GetArraySize(notes); i++)
      if (strcmp(cJSON_GetArrayItem(notes, i)->valuestring, l->notes[i].text) != 0) bad_notes = k;
  }
  t_check(bad_name < 0, "report json: layer names, nodes and ops in order", "layer %d", bad_name);
  t_check(bad_num < 0, "report json: MACs per layer", "layer %d", bad_num);
  t_check(bad_sqnr < 0, "report json: SQNR per layer read back exactly", "layer %d", bad_sqnr);
  t_check(bad_shift < 0, "report json: shifts, clamp and split per layer", "layer %d", bad_shift);
  t_check(bad_w < 0, "report json: weight bits, bytes, scales and bias count", "layer %d", bad_w);
  t_check(bad_scale < 0, "report json: input/output names, shapes and scales", "layer %d", bad_scale);
  t_check(bad_notes < 0, "report json: legalization notes verbatim", "layer %d", bad_notes);
  t_check(p->nlayers >= 1 && str_is(cJSON_GetArrayItem(layers, 0), "fused", "batchnorm b1, relu r1"),
          "report json: what was fused", "first layer fused '%s'",
          str(cJSON_GetArrayItem(layers, 0), "fused") ? str(cJSON_GetArrayItem(layers, 0), "fused") : "(null)");

  /* Calibration: every value of the program with statistics, in value order. */
  const cJSON *cal = get(root, "calibration"), *vals = get(cal, "values");
  int expect = 0, bad_cal = -1, bad_hist = -1, seen = 0;
  bool *use = xcalloc((size_t)p->g->nvalues, sizeof(bool));
  use[p->g->inputs[0]] = true;
  for (int k = 0; k < p->nlayers; k++) {
    use[p->layers[k].out] = true;
    for (int i = 0; i < p->layers[k].nin; i++) use[p->layers[k].in[i]] = true;
  }
  for (int v = 0; v < p->g->nvalues; v++) {
    if (!use[v] || !p->stats[v]) continue;
    const CalibStats *st = p->stats[v];
    const cJSON *e = cJSON_GetArrayItem(vals, expect++);
    if (!e) continue;
    seen++;
    const cJSON *th = get(e, "thresholds");
    if (!str_is(e, "name", p->g->values[v].name) || num(e, "absmax") != st->absmax ||
        num(th, "max") != st->amax[CAL_MAX] || num(th, "percentile") != st->amax[CAL_PERCENTILE] ||
        num(th, "mse") != st->amax[CAL_MSE] || num(th, "entropy") != st->amax[CAL_ENTROPY] ||
        !str_is(e, "used", "percentile") || num(e, "scale") != p->g->values[v].q->scale)
      bad_cal = v;
    const cJSON *h = get(e, "histogram"), *counts = get(h, "counts");
    double total = 0;
    for (int b = 0; b < cJSON_GetArraySize(counts); b++) total += cJSON_GetArrayItem(counts, b)->valuedouble;
    double hist_total = 0;
    for (int b = 0; b < CALIB_BINS; b++) hist_total += st->hist[b];
    double b16 = 0;
    for (int b = 0; b < 16; b++) b16 += st->hist[b];
    if (cJSON_GetArraySize(counts) != 128 || num(h, "bins") != 128 || total != hist_total ||
        cJSON_GetArrayItem(counts, 0)->valuedouble != b16 || num(h, "bin_width") != st->bin_width * 16)
      bad_hist = v;
  }
  free(use);
  t_check(expect > 0 && cJSON_GetArraySize(vals) == expect && seen == expect,
          "report json: one calibration entry per calibrated value", "%d entries, expected %d",
          cJSON_GetArraySize(vals), expect);
  t_check(bad_cal < 0, "report json: thresholds of every method, method used, scale", "value %d", bad_cal);
  t_check(bad_hist < 0, "report json: 128-bin histogram sums 16 bins each", "value %d", bad_hist);

  /* Memory. */
  const cJSON *mem = get(root, "memory");
  t_check(num(mem, "arena_bytes") == (double)p->arena_bytes && num(mem, "sum_bytes") == (double)p->sum_bytes &&
              num(mem, "lower_bound") == (double)p->lower_bound,
          "report json: arena, sum and lower bound", "arena %g vs %lld", num(mem, "arena_bytes"),
          (long long)p->arena_bytes);
  t_check(num(mem, "lower_bound_inplace") == (double)p->lower_bound_inplace &&
              p->lower_bound_inplace <= p->lower_bound &&
              num(mem, "arena_ratio") == (double)p->arena_bytes / (double)p->lower_bound_inplace,
          "report json: in-place lower bound and the arena's ratio to it", "bound %g ratio %g",
          num(mem, "lower_bound_inplace"), num(mem, "arena_ratio"));
  const cJSON *tensors = get(mem, "tensors");
  int64_t sum = 0, end = 0, bad_t = -1;
  for (int i = 0; i < cJSON_GetArraySize(tensors); i++) {
    const cJSON *t = cJSON_GetArrayItem(tensors, i);
    int v = graph_find_value(p->g, str(t, "name"));
    if (v < 0 || p->storage[v] != v || num(t, "offset") != (double)p->offset[v] ||
        num(t, "bytes") != (double)shape_numel(&p->g->values[v].shape) || num(t, "first_layer") > num(t, "last_layer"))
      bad_t = i;
    sum += (int64_t)num(t, "bytes");
    int64_t e = (int64_t)(num(t, "offset") + num(t, "bytes"));
    if (e > end) end = e;
  }
  t_check(cJSON_GetArraySize(tensors) > 0 && bad_t < 0, "report json: tensors with their offsets", "tensor %lld",
          (long long)bad_t);
  t_check(sum == p->sum_bytes && end == p->arena_bytes, "report json: tensors add up to sum and arena",
          "sum %lld end %lld", (long long)sum, (long long)end);
  int64_t peak = 0;
  const cJSON *live = get(mem, "live_bytes_per_layer");
  for (int i = 0; i < cJSON_GetArraySize(live); i++)
    if (cJSON_GetArrayItem(live, i)->valuedouble > (double)peak) peak = (int64_t)cJSON_GetArrayItem(live, i)->valuedouble;
  t_check(cJSON_GetArraySize(live) == p->nlayers && peak == p->lower_bound,
          "report json: live bytes per layer peak at the lower bound", "peak %lld", (long long)peak);
  bool alias_ok = false; /* f = flatten(p2) uses p2's buffer */
  for (int i = 0; i < cJSON_GetArraySize(tensors); i++) {
    const cJSON *t = cJSON_GetArrayItem(tensors, i), *al = get(t, "aliases");
    if (str_is(t, "name", "p2") && cJSON_GetArraySize(al) == 1 && strcmp(cJSON_GetArrayItem(al, 0)->valuestring, "f") == 0)
      alias_ok = true;
  }
  t_check(alias_ok, "report json: flatten alias listed under its storage", "p2 without alias f");

  /* Totals. */
  const cJSON *tot = get(root, "totals");
  int64_t macs = 0, wb = 0, nb = 0;
  int worst = -1;
  for (int k = 0; k < p->nlayers; k++) {
    const ILayer *l = &p->layers[k];
    macs += l->macs;
    wb += (l->weight_count * l->weight_bits + 7) / 8;
    nb += l->bias ? l->nch : 0;
    if (!isnan(m->sqnr_db[k]) && (worst < 0 || m->sqnr_db[k] < m->sqnr_db[worst])) worst = k;
  }
  t_check(num(tot, "layers") == p->nlayers && num(tot, "macs") == (double)macs && num(tot, "weight_bytes") == (double)wb &&
              num(tot, "bias_bytes") == (double)(nb * 4),
          "report json: totals", "macs %g vs %lld, weight bytes %g vs %lld", num(tot, "macs"), (long long)macs,
          num(tot, "weight_bytes"), (long long)wb);
  t_check(worst >= 0 && num(get(tot, "worst_sqnr"), "layer") == worst &&
              str_is(get(tot, "worst_sqnr"), "name", p->layers[worst].name),
          "report json: worst SQNR layer", "expected layer %d", worst);
  cJSON_Delete(root);

  /* ---------------- Markdown */
  t_check(strstr(md1, "| # | layer | op | in -> out | bits w/a | shifts | MACs | weight bytes | SQNR dB |") != NULL,
          "report md: summary table header", "header missing");
  int missing = -1;
  for (int k = 0; k < p->nlayers; k++) {
    char *row = xformat("| %d | %s | ", k, p->layers[k].name);
    char *head = xformat("### %d. %s ", k, p->layers[k].name);
    if (!strstr(md1, row) || !strstr(md1, head)) missing = k;
  }
  t_check(missing < 0, "report md: a row and a section for every layer", "layer %d", missing);
  t_check(strstr(md1, "## Calibration") && strstr(md1, "## Legalization and fixes") && strstr(md1, "## Memory"),
          "report md: calibration, legalization and memory sections", "a section is missing");
  char *arena = xformat("Arena: **%lld bytes** (liveness lower bound %lld; all intermediate tensors together %lld)",
                        (long long)p->arena_bytes, (long long)p->lower_bound, (long long)p->sum_bytes);
  t_check(strstr(md1, arena) != NULL, "report md: memory numbers", "missing '%s'", arena);
  char *inplace = xformat("lower bound **%lld bytes**, arena %.3fx it.", (long long)p->lower_bound_inplace,
                          (double)p->arena_bytes / (double)p->lower_bound_inplace);
  t_check(strstr(md1, inplace) != NULL, "report md: in-place bound and ratio", "missing '%s'", inplace);
  char *tline = xformat("Totals: %d layers, %lld MACs, %lld weight bytes", p->nlayers, (long long)macs, (long long)wb);
  t_check(strstr(md1, tline) != NULL, "report md: totals line", "missing '%s'", tline);
  int nnotes = 0;
  bool notes_ok = true;
  for (int k = 0; k < p->nlayers; k++)
    for (int i = 0; i < p->layers[k].nnotes; i++, nnotes++) {
      char *line = xformat("  - %s\n", p->layers[k].notes[i].text);
      if (!strstr(md1, line)) notes_ok = false;
    }
  t_check(nnotes > 0 && notes_ok, "report md: every legalization note listed", "%d notes", nnotes);
  t_check(strstr(md1, "| model | digits_cnn |") && strstr(md1, "| requantize | shift |") &&
              strstr(md1, "| calibration | percentile (99.9%)"),
          "report md: header table", "header table incomplete");
  t_check(strstr(md1, "conv2d + batchnorm b1, relu r1") != NULL, "report md: fused ops in the op column",
          "no 'conv2d + batchnorm b1, relu r1'");
  t_check(strstr(md1, "**") && count_occurrences(md1, "| **") >= 1, "report md: used threshold in bold",
          "no bold threshold");
  t_check(strstr(md1, "nan") == NULL && strstr(md1, "(null)") == NULL, "report md: no nan or (null)",
          "found nan/(null)");
}

/* SQNR edge cases and escaping: NaN -> n/a/null, +inf -> inf/null, a note with
 * quotes, a backslash, a tab, a newline and a bar. */
static void test_edge_cases(IntProgram *p, const Measurement *m0) {
  Measurement m = *m0;
  m.sqnr_db = xcalloc((size_t)p->nlayers, sizeof(double));
  for (int k = 0; k < p->nlayers; k++) m.sqnr_db[k] = 20.0 + k;
  m.sqnr_db[0] = NAN;
  if (p->nlayers > 1) m.sqnr_db[1] = INFINITY;
  ILayer *l = &p->layers[0];
  int nn = l->nnotes;
  const char *weird = "a \"quoted\" \\ note\twith tab,\nnewline, \x01 and |bar|";
  ilayer_add_note(l, "%s", weird);
  char *d = t_tempdir();
  write_report(p, &m, d);
  l->nnotes = nn; /* leave the program as it was */
  char *js = t_read_file(path_in(d, p->g->name, "json"), NULL);
  char *md = t_read_file(path_in(d, p->g->name, "md"), NULL);
  if (!t_check(js && md, "report edge: written", "missing files")) return;
  cJSON *root = cJSON_Parse(js);
  if (!t_check(root != NULL, "report edge: json with escapes parses", "parse failed near: %.40s", cJSON_GetErrorPtr()))
    return;
  const cJSON *layers = get(root, "layers"), *l0 = cJSON_GetArrayItem(layers, 0), *l1 = cJSON_GetArrayItem(layers, 1);
  const cJSON *notes = get(l0, "notes");
  const cJSON *last = cJSON_GetArrayItem(notes, cJSON_GetArraySize(notes) - 1);
  t_check(cJSON_IsString(last) && strcmp(last->valuestring, weird) == 0, "report edge: note escaped and read back",
          "got '%s'", cJSON_IsString(last) ? last->valuestring : "(not a string)");
  t_check(cJSON_IsNull(get(l0, "sqnr_db")) && str_is(l0, "sqnr", "n/a"), "report edge: NaN SQNR is null / n/a",
          "sqnr '%s'", str(l0, "sqnr") ? str(l0, "sqnr") : "(none)");
  t_check(cJSON_IsNull(get(l1, "sqnr_db")) && str_is(l1, "sqnr", "inf"), "report edge: infinite SQNR is null / inf",
          "sqnr '%s'", str(l1, "sqnr") ? str(l1, "sqnr") : "(none)");
  const cJSON *w = get(get(root, "totals"), "worst_sqnr");
  t_check(p->nlayers > 2 && num(w, "layer") == 2 && num(w, "sqnr_db") == 22.0, "report edge: worst SQNR skips n/a",
          "worst layer %g", num(w, "layer"));
  char *r0 = xformat("| 0 | %s |", p->layers[0].name);
  const char *row = strstr(md, r0);
  const char *eol = row ? strchr(row, '\n') : NULL;
  bool na = row && eol && eol - row > 6 && strncmp(eol - 6, " n/a |", 6) == 0;
  t_check(na, "report edge: markdown shows n/a", "row: %.*s", row && eol ? (int)(eol - row) : 0, row ? row : "");
  t_check(strstr(md, " | inf |\n") != NULL, "report edge: markdown shows inf", "no inf cell");
  char *html = t_read_file(path_in(d, p->g->name, "html"), NULL);
  if (t_check(html != NULL, "report edge: html written", "missing")) {
    t_check(strstr(html, "a &quot;quoted&quot; \\ note\twith tab,\nnewline, &#xfffd; and |bar|") != NULL,
            "report edge: html escapes the note", "note not found escaped");
    t_check(strstr(html, "data-j=\"layers.0.sqnr_db\" data-v=\"null\">n/a<") &&
                strstr(html, "data-j=\"layers.1.sqnr_db\" data-v=\"null\">inf<"),
            "report edge: html shows n/a and inf SQNR", "cells missing");
  }
  cJSON_Delete(root);
}

int main(void) {
  Config c;
  config_defaults(&c);
  config_load(&c, "examples/digits_cnn/digits_cnn.yaml");
  IntProgram *p = load_int_program(MODEL, &c);
  Graph *fg = load_model(MODEL);
  Samples *s = samples_from_file(fg, "examples/digits_cnn/test.safetensors", loc_make(NULL, 0, 0));
  int n = s[0].n < 32 ? s[0].n : 32;
  Measurement m = measure(p, fg, s, n, NULL);
  /* measure() shares the samples out to threads: 1 and 3 threads give the same bits. */
  char *saved = getenv("SHIFTC_THREADS") ? xstrdup(getenv("SHIFTC_THREADS")) : NULL;
  setenv("SHIFTC_THREADS", "1", 1);
  Measurement m1 = measure(p, fg, s, n, NULL);
  setenv("SHIFTC_THREADS", "3", 1);
  Measurement m3 = measure(p, fg, s, n, NULL);
  if (saved) setenv("SHIFTC_THREADS", saved, 1);
  else unsetenv("SHIFTC_THREADS");
  t_check(m1.agree == m3.agree && m.agree == m1.agree &&
              memcmp(m1.sqnr_db, m3.sqnr_db, sizeof(double) * (size_t)p->nlayers) == 0 &&
              memcmp(m.sqnr_db, m1.sqnr_db, sizeof(double) * (size_t)p->nlayers) == 0,
          "measure: same SQNR bits and agreement on 1, 2 (default) and 3 threads", "agree %d/%d/%d", m.agree,
          m1.agree, m3.agree);
  test_files(p, &m);
  test_edge_cases(p, &m);
  return t_exit_status();
}
