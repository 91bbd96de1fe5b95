/* report_html.c — the report as one page people can read (<model>.report.html):
 * which layer loses accuracy (SQNR bars, worst layers called out, and with eval
 * --per-layer the measured top-1 cost of each layer), why (each activation's
 * calibration histogram with the threshold every method would pick and the one
 * used), what the compiler did (the .md report's layer table) and the memory (the
 * arena as tensors over their lifetimes, the peak against the liveness lower bound).
 *
 * The page is drawn from the .report.json text, not from the program: it cannot
 * show a number the JSON does not hold, and every number is carried exactly in a
 * data-j (JSON path) / data-v (the JSON's own digits) pair for tests and tools,
 * while people see it rounded. Numbers that only eval knows (accuracy, per-layer
 * sensitivity) use paths under "eval.", which the JSON does not have. */
#include "shiftc.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define WORST_CALLED_OUT 3 /* lowest-SQNR layers highlighted */

static const char *const method_keys[4] = {"max", "percentile", "mse", "entropy"};

/* ------------------------------------------------------------ JSON access */

static const cJSON *jget(const cJSON *o, const char *key) { return cJSON_GetObjectItemCaseSensitive(o, key); }

static double jnum(const cJSON *o, const char *key) {
  const cJSON *v = jget(o, key);
  return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static const char *jstr(const cJSON *o, const char *key) {
  const cJSON *v = jget(o, key);
  return cJSON_IsString(v) ? v->valuestring : NULL;
}

static double jat(const cJSON *arr, int i) {
  const cJSON *v = cJSON_GetArrayItem(arr, i);
  return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

/* ------------------------------------------------------------ pieces */

static void cell_begin(StrBuf *sb, bool right) { sb_puts(sb, right ? "<td class=\"r\">" : "<td>"); }

static void text_cell(StrBuf *sb, const char *s) {
  sb_puts(sb, "<td>");
  html_text(sb, s ? s : "-");
  sb_puts(sb, "</td>");
}

/* "[1,8,8,8]" from a JSON shape array. */
static void shape_text(StrBuf *sb, const cJSON *shape) {
  sb_putc(sb, '[');
  int n = cJSON_GetArraySize(shape);
  for (int i = 0; i < n; i++) sb_printf(sb, "%s%.0f", i ? "," : "", jat(shape, i));
  sb_putc(sb, ']');
}

/* A [lo, hi] JSON pair as "lo" or "lo..hi" with both carried exactly; "-" for null. */
static void range_html(StrBuf *sb, const cJSON *r, const char *key) {
  if (!cJSON_IsArray(r)) {
    sb_putc(sb, '-');
    return;
  }
  double lo = jat(r, 0), hi = jat(r, 1);
  html_num(sb, lo, "%.0f", "%s.0", key);
  if (hi != lo) {
    sb_puts(sb, "..");
    html_num(sb, hi, "%.0f", "%s.1", key);
  }
}

/* A value's scale, with 2^exp in shift mode. */
static void scale_html(StrBuf *sb, const cJSON *v, const char *key) {
  html_num(sb, jnum(v, "scale"), "%.6g", "%s.scale", key);
  if (cJSON_IsNumber(jget(v, "exp"))) {
    sb_puts(sb, " (2^");
    html_num(sb, jnum(v, "exp"), "%.0f", "%s.exp", key);
    sb_putc(sb, ')');
  }
}

/* Indices of the n lowest finite SQNRs, ascending; returns how many there are. */
static int worst_layers(const cJSON *layers, int *out, int n) {
  int nl = cJSON_GetArraySize(layers), got = 0;
  bool *taken = xcalloc((size_t)nl + 1, sizeof(bool));
  for (; got < n; got++) {
    int best = -1;
    for (int k = 0; k < nl; k++) {
      double db = jnum(cJSON_GetArrayItem(layers, k), "sqnr_db");
      if (taken[k] || isnan(db)) continue;
      if (best < 0 || db < jnum(cJSON_GetArrayItem(layers, best), "sqnr_db")) best = k;
    }
    if (best < 0) break;
    taken[best] = true;
    out[got] = best;
  }
  free(taken);
  return got;
}

static bool in_list(const int *list, int n, int k) {
  for (int i = 0; i < n; i++)
    if (list[i] == k) return true;
  return false;
}

static char *layer_title(const cJSON *l, int k) {
  return xformat("%d. %s (%s)", k, jstr(l, "name") ? jstr(l, "name") : "?", jstr(l, "op") ? jstr(l, "op") : "?");
}

/* ------------------------------------------------------------ sections */

static void section_header(StrBuf *sb, const cJSON *root, const EvalResult *ev) {
  const cJSON *cfg = jget(root, "config"), *tot = jget(root, "totals"), *mem = jget(root, "memory");
  sb_puts(sb, "<h1>");
  html_text(sb, jstr(root, "model"));
  sb_puts(sb, " — shiftc report</h1>\n<p class=\"muted\">");
  html_text(sb, jstr(root, "source"));
  sb_puts(sb, " · shiftc ");
  html_text(sb, jstr(root, "shiftc_version"));
  sb_puts(sb, " · target ");
  html_text(sb, jstr(cfg, "target"));
  sb_puts(sb, " · requantize ");
  html_text(sb, jstr(cfg, "requantize"));
  sb_puts(sb, " · weights ");
  html_num(sb, jnum(cfg, "weight_bits"), "%.0f", "config.weight_bits");
  sb_puts(sb, "-bit ");
  html_text(sb, jstr(cfg, "weight_granularity"));
  sb_puts(sb, " · activations ");
  html_num(sb, jnum(cfg, "activation_bits"), "%.0f", "config.activation_bits");
  sb_puts(sb, "-bit · bias ");
  html_num(sb, jnum(cfg, "bias_bits"), "%.0f", "config.bias_bits");
  sb_puts(sb, "-bit · calibration ");
  html_text(sb, jstr(cfg, "calibration_method"));
  if (jstr(cfg, "calibration_method") && strcmp(jstr(cfg, "calibration_method"), "percentile") == 0) {
    sb_puts(sb, " (");
    html_num(sb, jnum(cfg, "percentile"), "%g", "config.percentile");
    sb_puts(sb, "%)");
  }
  sb_puts(sb, " over ");
  html_num(sb, jnum(cfg, "calibration_samples"), "%.0f", "config.calibration_samples");
  sb_puts(sb, " samples</p>\n<div class=\"cards\">\n");

  sb_puts(sb, "<div class=\"card\">layers<b>");
  html_num(sb, jnum(tot, "layers"), "%.0f", "totals.layers");
  sb_puts(sb, "</b></div>\n<div class=\"card\">MACs<b>");
  html_num(sb, jnum(tot, "macs"), "%.0f", "totals.macs");
  sb_puts(sb, "</b></div>\n<div class=\"card\">weight bytes<b>");
  html_num(sb, jnum(tot, "weight_bytes"), "%.0f", "totals.weight_bytes");
  sb_puts(sb, "</b></div>\n<div class=\"card\">arena bytes<b>");
  html_num(sb, jnum(mem, "arena_bytes"), "%.0f", "memory.arena_bytes");
  sb_puts(sb, "</b>lower bound ");
  html_num(sb, jnum(mem, "lower_bound"), "%.0f", "memory.lower_bound");
  sb_puts(sb, ", in place ");
  html_num(sb, jnum(mem, "lower_bound_inplace"), "%.0f", "memory.lower_bound_inplace");
  sb_puts(sb, "</div>\n");
  const cJSON *w = jget(tot, "worst_sqnr");
  if (cJSON_IsObject(w)) {
    sb_puts(sb, "<div class=\"card\">worst SQNR<b>");
    html_num(sb, jnum(w, "sqnr_db"), "%.2f", "totals.worst_sqnr.sqnr_db");
    sb_puts(sb, " dB</b>at ");
    html_text(sb, jstr(w, "name"));
    sb_puts(sb, "</div>\n");
  }
  if (ev) {
    sb_puts(sb, "<div class=\"card\">top-1 float → int<b>");
    html_num(sb, 100.0 * ev->float_correct / ev->samples, "%.2f%%", "eval.float_top1_percent");
    sb_puts(sb, " → ");
    html_num(sb, 100.0 * ev->int_correct / ev->samples, "%.2f%%", "eval.int_top1_percent");
    sb_puts(sb, "</b>on ");
    html_num(sb, ev->samples, "%.0f", "eval.samples");
    sb_puts(sb, " samples</div>\n");
  }
  sb_puts(sb, "</div>\n");
}

static void section_accuracy(StrBuf *sb, const cJSON *root, const EvalResult *ev) {
  sb_puts(sb, "<h2 id=\"accuracy\">Accuracy</h2>\n");
  if (!ev) {
    sb_puts(sb, "<p>Top-1 needs labelled data: <code>shiftc eval MODEL.nn -c CONFIG.yaml --data TEST.safetensors "
                "--html FILE [--per-layer]</code> writes this page with float and integer top-1 and each layer's "
                "accuracy cost. Integer and float top-1 agree on ");
    html_num(sb, jnum(jget(root, "measurement"), "top1_agree"), "%.0f", "measurement.top1_agree");
    sb_puts(sb, " of the ");
    html_num(sb, jnum(jget(root, "measurement"), "samples"), "%.0f", "measurement.samples");
    sb_puts(sb, " calibration samples measured.</p>\n");
    return;
  }
  sb_puts(sb, "<p>On ");
  html_text(sb, ev->data);
  sb_puts(sb, ":</p>\n");
  static const char *const hdr[] = {"", ">correct", ">of", ">top-1"};
  html_table_begin(sb, "accuracy-table", hdr, 4);
  const char *names[3] = {"float", "integer", "integer = float (agreement)"};
  const char *keys[3] = {"float", "int", "agree"};
  int counts[3] = {ev->float_correct, ev->int_correct, ev->agree};
  for (int i = 0; i < 3; i++) {
    sb_puts(sb, "<tr>");
    text_cell(sb, names[i]);
    cell_begin(sb, true);
    html_num(sb, counts[i], "%.0f", "eval.%s_correct", keys[i]);
    sb_puts(sb, "</td>");
    cell_begin(sb, true);
    html_num(sb, ev->samples, "%.0f", "eval.samples");
    sb_puts(sb, "</td>");
    cell_begin(sb, true);
    html_num(sb, 100.0 * counts[i] / ev->samples, "%.2f%%", "eval.%s_percent", keys[i]);
    sb_puts(sb, "</td></tr>\n");
  }
  html_table_end(sb);
}

static void section_sqnr(StrBuf *sb, const cJSON *root) {
  const cJSON *layers = jget(root, "layers");
  int nl = cJSON_GetArraySize(layers);
  int worst[WORST_CALLED_OUT];
  int nw = worst_layers(layers, worst, WORST_CALLED_OUT);
  sb_puts(sb, "<h2 id=\"sqnr\">Per-layer SQNR against float</h2>\n<p>Signal to quantization noise of each layer's "
              "output (integer vs the float graph, dB, higher is better) over ");
  html_num(sb, jnum(jget(root, "measurement"), "samples"), "%.0f", "measurement.samples");
  sb_puts(sb, " samples. Noise adds up along the graph, so the first layer whose SQNR drops is the place to look.");
  if (nw > 0) {
    sb_puts(sb, " <b>Worst:</b> ");
    for (int i = 0; i < nw; i++) {
      const cJSON *l = cJSON_GetArrayItem(layers, worst[i]);
      sb_puts(sb, i ? ", " : "");
      sb_puts(sb, "<b>");
      html_text(sb, jstr(l, "name"));
      sb_puts(sb, "</b> ");
      html_text(sb, jstr(l, "sqnr"));
      sb_puts(sb, " dB");
    }
    sb_putc(sb, '.');
  }
  sb_puts(sb, "</p>\n");
  SvgBar *bars = xcalloc((size_t)nl + 1, sizeof(SvgBar));
  char **texts = xcalloc((size_t)nl + 1, sizeof(char *)), **labels = xcalloc((size_t)nl + 1, sizeof(char *));
  for (int k = 0; k < nl; k++) {
    const cJSON *l = cJSON_GetArrayItem(layers, k);
    labels[k] = layer_title(l, k);
    double db = jnum(l, "sqnr_db");
    texts[k] = isnan(db) ? xstrdup(jstr(l, "sqnr") ? jstr(l, "sqnr") : "n/a") : xformat("%s dB", jstr(l, "sqnr"));
    bars[k] = (SvgBar){labels[k], texts[k], isnan(db) ? NAN : db, in_list(worst, nw, k)};
  }
  svg_bar_chart(sb, "SQNR per layer (dB)", bars, nl);
  for (int k = 0; k < nl; k++) {
    free(texts[k]);
    free(labels[k]);
  }
  free(texts);
  free(labels);
  free(bars);
}

static void section_sensitivity(StrBuf *sb, const cJSON *root, const EvalResult *ev) {
  const Sensitivity *s = ev ? ev->sens : NULL;
  if (!s) return;
  const cJSON *layers = jget(root, "layers");
  sb_puts(sb, "<h2 id=\"sensitivity\">Which layers cost accuracy</h2>\n<p>Top-1 on ");
  html_num(sb, s->samples, "%.0f", "eval.sensitivity.samples");
  sb_puts(sb, " samples with only one layer in integer (the rest in float: its inputs quantized with their "
              "scales, the runtime kernel run, its output dequantized), and with only that layer in float (the "
              "rest in integer). Cost = float top-1 minus top-1 with only this layer in integer; gain = top-1 with "
              "only this layer in float minus integer top-1. Baselines: float ");
  html_num(sb, s->float_correct, "%.0f", "eval.sensitivity.float_correct");
  sb_puts(sb, ", integer ");
  html_num(sb, s->int_correct, "%.0f", "eval.sensitivity.int_correct");
  sb_puts(sb, " correct. Ranked by cost, then gain.</p>\n");
  SvgBar *bars = xcalloc((size_t)s->nlayers + 1, sizeof(SvgBar));
  char **texts = xcalloc((size_t)s->nlayers + 1, sizeof(char *)), **labels = xcalloc((size_t)s->nlayers + 1, sizeof(char *));
  for (int i = 0; i < s->nlayers; i++) {
    int k = s->rank[i];
    int cost = s->float_correct - s->int_only[k];
    labels[i] = layer_title(cJSON_GetArrayItem(layers, k), k);
    texts[i] = xformat("%.2f points, %d samples", 100.0 * cost / s->samples, cost);
    bars[i] = (SvgBar){labels[i], texts[i], cost, i == 0 && cost > 0};
  }
  svg_bar_chart(sb, "top-1 lost with only this layer in integer", bars, s->nlayers);
  static const char *const hdr[] = {">rank", "layer", ">only this layer int: correct", ">cost (points)",
                                    ">only this layer float: correct", ">gain (points)"};
  html_table_begin(sb, "sensitivity-table", hdr, 6);
  for (int i = 0; i < s->nlayers; i++) {
    int k = s->rank[i];
    sb_printf(sb, "<tr%s><td class=\"r\">%d</td>", i == 0 && s->float_correct > s->int_only[k] ? " class=\"worst\"" : "",
              i + 1);
    text_cell(sb, labels[i]);
    cell_begin(sb, true);
    html_num(sb, s->int_only[k], "%.0f", "eval.sensitivity.%d.int_only", k);
    sb_puts(sb, "</td>");
    cell_begin(sb, true);
    html_num(sb, 100.0 * (s->float_correct - s->int_only[k]) / s->samples, "%.2f", "eval.sensitivity.%d.cost", k);
    sb_puts(sb, "</td>");
    cell_begin(sb, true);
    if (s->float_only[k] >= 0) html_num(sb, s->float_only[k], "%.0f", "eval.sensitivity.%d.float_only", k);
    else sb_puts(sb, "n/a");
    sb_puts(sb, "</td>");
    cell_begin(sb, true);
    if (s->float_only[k] >= 0)
      html_num(sb, 100.0 * (s->float_only[k] - s->int_correct) / s->samples, "%.2f", "eval.sensitivity.%d.gain", k);
    else sb_puts(sb, "n/a");
    sb_puts(sb, "</td></tr>\n");
  }
  html_table_end(sb);
  for (int i = 0; i < s->nlayers; i++) {
    free(texts[i]);
    free(labels[i]);
  }
  free(texts);
  free(labels);
  free(bars);
}

/* One row of the layer table: the .md report's columns with the details list's facts. */
static void layer_row(StrBuf *sb, const cJSON *l, int k, bool worst) {
  const char *key = NULL;
  char *kbuf = xformat("layers.%d", k);
  key = kbuf;
  sb_printf(sb, "<tr%s><td class=\"r\">%d</td>", worst ? " class=\"worst\"" : "", k);
  text_cell(sb, jstr(l, "name"));
  /* op (as kernel) + fused */
  sb_puts(sb, "<td>");
  html_text(sb, jstr(l, "op"));
  if (jstr(l, "kernel") && jstr(l, "op") && strcmp(jstr(l, "kernel"), jstr(l, "op")) != 0) {
    sb_puts(sb, " (as ");
    html_text(sb, jstr(l, "kernel"));
    sb_putc(sb, ')');
  }
  if (jstr(l, "fused")) {
    sb_puts(sb, " + ");
    html_text(sb, jstr(l, "fused"));
  }
  sb_puts(sb, "</td><td>");
  /* shapes */
  const cJSON *ins = jget(l, "inputs"), *out = jget(l, "output");
  for (int i = 0; i < cJSON_GetArraySize(ins); i++) {
    sb_puts(sb, i ? ", " : "");
    shape_text(sb, jget(cJSON_GetArrayItem(ins, i), "shape"));
  }
  sb_puts(sb, " → ");
  shape_text(sb, jget(out, "shape"));
  sb_puts(sb, "</td><td>");
  /* bits w/a */
  const cJSON *w = jget(l, "weights");
  if (cJSON_IsObject(w)) html_num(sb, jnum(w, "bits"), "%.0f", "%s.weights.bits", key);
  else sb_putc(sb, '-');
  sb_putc(sb, '/');
  if (cJSON_IsNumber(jget(out, "bits"))) html_num(sb, jnum(out, "bits"), "%.0f", "%s.output.bits", key);
  else sb_putc(sb, '-');
  sb_puts(sb, "</td><td>");
  /* scales: inputs -> output, weights */
  for (int i = 0; i < cJSON_GetArraySize(ins); i++) {
    sb_puts(sb, i ? ", " : "");
    char *ik = xformat("%s.inputs.%d", key, i);
    scale_html(sb, cJSON_GetArrayItem(ins, i), ik);
    free(ik);
  }
  sb_puts(sb, " → ");
  char *ok = xformat("%s.output", key);
  scale_html(sb, out, ok);
  free(ok);
  if (cJSON_IsObject(w)) {
    sb_puts(sb, "<br>w ");
    html_num(sb, jnum(w, "scale_min"), "%.6g", "%s.weights.scale_min", key);
    if (jnum(w, "scale_max") != jnum(w, "scale_min")) {
      sb_puts(sb, "..");
      html_num(sb, jnum(w, "scale_max"), "%.6g", "%s.weights.scale_max", key);
    }
    sb_puts(sb, " (");
    html_num(sb, jnum(w, "channels"), "%.0f", "%s.weights.channels", key);
    sb_puts(sb, " ch)");
  }
  sb_puts(sb, "</td><td>");
  /* requantization */
  const cJSON *rq = jget(l, "requant");
  if (cJSON_IsObject(rq)) {
    char *rk = xformat("%s.requant.shift_range", key);
    sb_puts(sb, "&gt;&gt; ");
    range_html(sb, jget(rq, "shift_range"), rk);
    free(rk);
    if (cJSON_IsArray(jget(rq, "multiplier_range"))) {
      rk = xformat("%s.requant.multiplier_range", key);
      sb_puts(sb, "<br>M0 ");
      range_html(sb, jget(rq, "multiplier_range"), rk);
      free(rk);
    }
    if (jnum(rq, "k_chunk") > 0) {
      sb_puts(sb, "<br>split: chunks of ");
      html_num(sb, jnum(rq, "k_chunk"), "%.0f", "%s.requant.k_chunk", key);
    }
    if (jnum(rq, "shifts_clamped") > 0) {
      sb_puts(sb, "<br>shifts clamped: ");
      html_num(sb, jnum(rq, "shifts_clamped"), "%.0f", "%s.requant.shifts_clamped", key);
    }
  } else {
    sb_puts(sb, jstr(l, "kernel") && strcmp(jstr(l, "kernel"), "lut") == 0 ? "table" : "-");
  }
  sb_puts(sb, "</td><td>");
  /* bias */
  const cJSON *b = jget(l, "bias");
  if (cJSON_IsObject(b)) {
    html_num(sb, jnum(b, "count"), "%.0f", "%s.bias.count", key);
    sb_puts(sb, " × int");
    html_num(sb, jnum(b, "bits"), "%.0f", "%s.bias.bits", key);
    sb_puts(sb, "<br>");
    char *bk = xformat("%s.bias.range", key);
    range_html(sb, jget(b, "range"), bk);
    free(bk);
    sb_puts(sb, "<br>clamped ");
    html_num(sb, jnum(b, "clamped"), "%.0f", "%s.bias.clamped", key);
  } else {
    sb_putc(sb, '-');
  }
  sb_puts(sb, "</td><td class=\"note\">");
  const cJSON *notes = jget(l, "notes");
  for (int i = 0; i < cJSON_GetArraySize(notes); i++) {
    const cJSON *n = cJSON_GetArrayItem(notes, i);
    if (i) sb_puts(sb, "<br>");
    html_text(sb, cJSON_IsString(n) ? n->valuestring : "");
  }
  sb_puts(sb, "</td>");
  cell_begin(sb, true);
  html_num(sb, jnum(l, "macs"), "%.0f", "%s.macs", key);
  sb_puts(sb, "</td>");
  cell_begin(sb, true);
  if (cJSON_IsObject(w)) html_num(sb, jnum(w, "bytes"), "%.0f", "%s.weights.bytes", key);
  else sb_putc(sb, '0');
  sb_puts(sb, "</td>");
  cell_begin(sb, true);
  if (cJSON_IsNumber(jget(l, "sqnr_db"))) {
    html_num(sb, jnum(l, "sqnr_db"), "%.2f", "%s.sqnr_db", key);
  } else { /* null in the JSON: its text form says why (n/a, inf, -inf) */
    sb_printf(sb, "<span class=\"num\" data-j=\"%s.sqnr_db\" data-v=\"null\">", key);
    html_text(sb, jstr(l, "sqnr") ? jstr(l, "sqnr") : "n/a");
    sb_puts(sb, "</span>");
  }
  sb_puts(sb, "</td></tr>\n");
  free(kbuf);
}

static void section_layers(StrBuf *sb, const cJSON *root) {
  const cJSON *layers = jget(root, "layers"), *tot = jget(root, "totals");
  int nl = cJSON_GetArraySize(layers);
  int worst[WORST_CALLED_OUT];
  int nw = worst_layers(layers, worst, WORST_CALLED_OUT);
  sb_puts(sb, "<h2 id=\"layers\">Layers</h2>\n<p>Bits are weights/activations; scales are input → output "
              "(w: per-channel weight scales); &gt;&gt; is the requantization shift (M0 the dyadic multiplier). "
              "Rows of the worst SQNR layers are shaded.</p>\n");
  static const char *const hdr[] = {">#",   "layer", "op",    "in → out",     "bits w/a",     "scales",
                                    "requant", "bias", "legalization notes", ">MACs", ">weight bytes", ">SQNR dB"};
  html_table_begin(sb, "layers-table", hdr, 12);
  for (int k = 0; k < nl; k++) layer_row(sb, cJSON_GetArrayItem(layers, k), k, in_list(worst, nw, k));
  html_table_end(sb);
  sb_puts(sb, "<p>Totals: ");
  html_num(sb, jnum(tot, "macs"), "%.0f", "totals.macs");
  sb_puts(sb, " MACs, ");
  html_num(sb, jnum(tot, "weight_bytes"), "%.0f", "totals.weight_bytes");
  sb_puts(sb, " weight bytes, ");
  html_num(sb, jnum(tot, "bias_bytes"), "%.0f", "totals.bias_bytes");
  sb_puts(sb, " bias bytes (");
  html_num(sb, jnum(tot, "biases"), "%.0f", "totals.biases");
  sb_puts(sb, " biases).</p>\n");
}

static void section_calibration(StrBuf *sb, const cJSON *root) {
  const cJSON *cal = jget(root, "calibration"), *vals = jget(cal, "values");
  const char *used = jstr(cal, "method");
  int nv = cJSON_GetArraySize(vals);
  sb_puts(sb, "<h2 id=\"calibration\">Calibration</h2>\n<p>Histogram of |x| for each activation over ");
  html_num(sb, jnum(cal, "samples"), "%.0f", "calibration.samples");
  sb_puts(sb, " samples (log counts), with the threshold each method would pick; the one used (<b>");
  html_text(sb, used);
  sb_puts(sb, "</b>) is red, and the dashed line is where int8 codes actually clip (127 × the scale, after "
              "rounding the scale to a power of two in shift mode or sharing it with another tensor).</p>\n");
  for (int i = 0; i < nv; i++) {
    const cJSON *v = cJSON_GetArrayItem(vals, i), *th = jget(v, "thresholds"), *h = jget(v, "histogram");
    const cJSON *counts = jget(h, "counts");
    int nb = cJSON_GetArraySize(counts);
    double *c = xcalloc((size_t)nb + 1, sizeof(double));
    for (int b = 0; b < nb; b++) c[b] = jat(counts, b);
    SvgMarker mk[5];
    char *lab[5];
    int nm = 0;
    for (int m = 0; m < 4; m++) {
      double x = jnum(th, method_keys[m]);
      lab[nm] = xformat("%s %.4g", method_keys[m], x);
      mk[nm] = (SvgMarker){lab[nm], x, used && strcmp(used, method_keys[m]) == 0, false};
      nm++;
    }
    double scale = jnum(v, "scale"), bits = jnum(v, "bits");
    if (isfinite(scale) && isfinite(bits)) {
      double clip = scale * (ldexp(1, (int)bits - 1) - 1);
      lab[nm] = xformat("clip %.4g", clip);
      mk[nm] = (SvgMarker){lab[nm], clip, false, true};
      nm++;
    }
    char *title = xformat("%s: |x| up to %.4g", jstr(v, "name") ? jstr(v, "name") : "?", jnum(v, "absmax"));
    sb_puts(sb, "<div class=\"hist\"><h3>");
    html_text(sb, jstr(v, "name"));
    sb_puts(sb, "</h3>\n");
    svg_histogram(sb, title, c, nb, jnum(h, "bin_width"), mk, nm);
    sb_puts(sb, "</div>\n");
    for (int m = 0; m < nm; m++) free(lab[m]);
    free(title);
    free(c);
  }
  static const char *const hdr[] = {"value", ">absmax", ">max", ">percentile", ">mse", ">entropy", "scale", "note"};
  html_table_begin(sb, "calibration-table", hdr, 8);
  for (int i = 0; i < nv; i++) {
    const cJSON *v = cJSON_GetArrayItem(vals, i), *th = jget(v, "thresholds");
    sb_puts(sb, "<tr>");
    text_cell(sb, jstr(v, "name"));
    cell_begin(sb, true);
    html_num(sb, jnum(v, "absmax"), "%.6g", "calibration.values.%d.absmax", i);
    sb_puts(sb, "</td>");
    for (int m = 0; m < 4; m++) {
      bool u = used && strcmp(used, method_keys[m]) == 0;
      cell_begin(sb, true);
      sb_puts(sb, u ? "<b>" : "");
      html_num(sb, jnum(th, method_keys[m]), "%.6g", "calibration.values.%d.thresholds.%s", i, method_keys[m]);
      sb_puts(sb, u ? "</b></td>" : "</td>");
    }
    sb_puts(sb, "<td>");
    if (cJSON_IsNumber(jget(v, "scale"))) {
      char *k = xformat("calibration.values.%d", i);
      scale_html(sb, v, k);
      free(k);
    } else {
      sb_putc(sb, '-');
    }
    sb_puts(sb, "</td><td>");
    if (cJSON_IsTrue(jget(v, "from_annotation"))) sb_puts(sb, "from @quant");
    else if (jstr(v, "shares_scale_with")) {
      sb_puts(sb, "scale shared with ");
      html_text(sb, jstr(v, "shares_scale_with"));
    }
    sb_puts(sb, "</td></tr>\n");
  }
  html_table_end(sb);
}

static void section_memory(StrBuf *sb, const cJSON *root) {
  const cJSON *mem = jget(root, "memory"), *ts = jget(mem, "tensors"), *live = jget(mem, "live_bytes_per_layer");
  int nt = cJSON_GetArraySize(ts), nl = cJSON_GetArraySize(jget(root, "layers"));
  double arena = jnum(mem, "arena_bytes"), lb = jnum(mem, "lower_bound");
  sb_puts(sb, "<h2 id=\"memory\">Memory</h2>\n<p>One arena of <b>");
  html_num(sb, arena, "%.0f", "memory.arena_bytes");
  sb_puts(sb, " bytes</b> against a liveness lower bound of ");
  html_num(sb, lb, "%.0f", "memory.lower_bound");
  sb_puts(sb, " (the most bytes alive during any one layer) and ");
  html_num(sb, jnum(mem, "sum_bytes"), "%.0f", "memory.sum_bytes");
  sb_puts(sb, " for all intermediate tensors side by side. Elementwise layers write their output over an input "
              "that dies there; counting each such pair once, the lower bound is ");
  double lbi = jnum(mem, "lower_bound_inplace");
  html_num(sb, lbi, "%.0f", "memory.lower_bound_inplace");
  sb_puts(sb, " and the arena is ");
  html_num(sb, jnum(mem, "arena_ratio"), "%.3f", "memory.arena_ratio");
  sb_puts(sb, "× it. Each box is a tensor: across, the layers it is alive "
              "for; down, its bytes at its offset. Inputs and outputs live in the caller's buffers.</p>\n");
  SvgRect *r = xcalloc((size_t)nt + 1, sizeof(SvgRect));
  char **lab = xcalloc((size_t)nt + 1, sizeof(char *));
  for (int i = 0; i < nt; i++) {
    const cJSON *t = cJSON_GetArrayItem(ts, i);
    double off = jnum(t, "offset"), bytes = jnum(t, "bytes");
    lab[i] = xformat("%s: %.0f B at %.0f, layers %.0f..%.0f", jstr(t, "name") ? jstr(t, "name") : "?", bytes, off,
                     jnum(t, "first_layer"), jnum(t, "last_layer"));
    r[i] = (SvgRect){lab[i], jnum(t, "first_layer"), jnum(t, "last_layer") + 1, off, off + bytes};
  }
  char *peak = xformat("arena %.0f B", arena), *bound = xformat("lower bound %.0f B", lb);
  char *ibound = xformat("in place %.0f B", lbi);
  /* The in-place bound (when below the other) next to the arena line it usually meets. */
  SvgLine lines[3] = {{peak, arena, true}, {ibound, lbi, false}, {bound, lb, false}};
  int nlines = 3;
  if (!(lbi < lb)) lines[1] = lines[2], nlines = 2;
  svg_rect_chart(sb, "arena: tensors by lifetime (layers) and offset (bytes)", "layer", "offset", r, nt, nl, arena,
                 lines, nlines);
  static const char *const hdr[] = {"tensor", ">bytes", ">offset", "layers live", "aliases", "in place of"};
  html_table_begin(sb, "memory-table", hdr, 6);
  for (int i = 0; i < nt; i++) {
    const cJSON *t = cJSON_GetArrayItem(ts, i), *al = jget(t, "aliases");
    sb_puts(sb, "<tr>");
    text_cell(sb, jstr(t, "name"));
    cell_begin(sb, true);
    html_num(sb, jnum(t, "bytes"), "%.0f", "memory.tensors.%d.bytes", i);
    sb_puts(sb, "</td>");
    cell_begin(sb, true);
    html_num(sb, jnum(t, "offset"), "%.0f", "memory.tensors.%d.offset", i);
    sb_puts(sb, "</td><td>");
    html_num(sb, jnum(t, "first_layer"), "%.0f", "memory.tensors.%d.first_layer", i);
    sb_puts(sb, "..");
    html_num(sb, jnum(t, "last_layer"), "%.0f", "memory.tensors.%d.last_layer", i);
    sb_puts(sb, "</td><td>");
    for (int a = 0; a < cJSON_GetArraySize(al); a++) {
      const cJSON *s = cJSON_GetArrayItem(al, a);
      sb_puts(sb, a ? ", " : "");
      html_text(sb, cJSON_IsString(s) ? s->valuestring : "");
    }
    sb_puts(sb, "</td><td>");
    const cJSON *ip = jget(t, "in_place_of");
    html_text(sb, cJSON_IsString(ip) ? ip->valuestring : "");
    sb_puts(sb, "</td></tr>\n");
  }
  html_table_end(sb);
  sb_puts(sb, "<p>Bytes alive during each layer:");
  for (int k = 0; k < cJSON_GetArraySize(live); k++) {
    sb_printf(sb, " %d: ", k);
    html_num(sb, jat(live, k), "%.0f", "memory.live_bytes_per_layer.%d", k);
  }
  sb_puts(sb, ".</p>\n");
  for (int i = 0; i < nt; i++) free(lab[i]);
  free(lab);
  free(r);
  free(peak);
  free(ibound);
  free(bound);
}

/* ------------------------------------------------------------ entry point */

/* `shiftc verify --profile`'s timing of the generated code on one machine, when present. */
static void section_profile(StrBuf *sb, const cJSON *root) {
  const cJSON *prof = jget(root, "profile"), *layers = jget(prof, "layers");
  if (!prof) return;
  sb_puts(sb, "<h2 id=\"profile\">Profile on this machine</h2>\n<p>From <code>shiftc verify --profile</code> on ");
  html_text(sb, jstr(prof, "cpu") ? jstr(prof, "cpu") : "?");
  sb_puts(sb, ": ");
  html_num(sb, jnum(prof, "ms_per_run"), "%.4f", "profile.ms_per_run");
  sb_puts(sb, " ms per inference over ");
  html_num(sb, jnum(prof, "runs"), "%.0f", "profile.runs");
  sb_puts(sb, " runs of the goldens' inputs (process CPU time). GOPS counts 2 operations per "
              "multiply-accumulate.</p>\n");
  static const char *const hdr[] = {">#", "layer", "kernel", ">ms", ">share", ">GOPS"};
  html_table_begin(sb, "profile-table", hdr, 6);
  const int n = cJSON_GetArraySize(layers);
  for (int k = 0; k < n; k++) {
    const cJSON *l = cJSON_GetArrayItem(layers, k);
    sb_puts(sb, "<tr>");
    cell_begin(sb, true);
    sb_printf(sb, "%d</td>", k + 1);
    text_cell(sb, jstr(l, "name"));
    text_cell(sb, jstr(l, "kernel"));
    cell_begin(sb, true);
    html_num(sb, jnum(l, "ms"), "%.4f", "profile.layers.%d.ms", k);
    sb_puts(sb, "</td>");
    cell_begin(sb, true);
    html_num(sb, jnum(l, "share_percent"), "%.1f%%", "profile.layers.%d.share_percent", k);
    sb_puts(sb, "</td>");
    cell_begin(sb, true);
    if (cJSON_IsNumber(jget(l, "gops"))) html_num(sb, jnum(l, "gops"), "%.1f", "profile.layers.%d.gops", k);
    else sb_puts(sb, "-");
    sb_puts(sb, "</td></tr>\n");
  }
  html_table_end(sb);
}

char *report_html(const char *json, const EvalResult *ev) {
  cJSON *root = cJSON_Parse(json);
  if (!root) internal_error("report_html: the JSON report does not parse near '%.40s'", cJSON_GetErrorPtr());
  const char *schema = jstr(root, "schema");
  if (!schema || strcmp(schema, "shiftc-report/1") != 0)
    internal_error("report_html: unexpected schema '%s'", schema ? schema : "(none)");
  StrBuf sb = {0};
  char *title = xformat("%s — shiftc report", jstr(root, "model") ? jstr(root, "model") : "model");
  html_page_begin(&sb, title);
  section_header(&sb, root, ev);
  section_accuracy(&sb, root, ev);
  section_sqnr(&sb, root);
  section_sensitivity(&sb, root, ev);
  section_layers(&sb, root);
  section_calibration(&sb, root);
  section_memory(&sb, root);
  section_profile(&sb, root);
  sb_puts(&sb, "<p class=\"muted\">Drawn by shiftc from the numbers of the .report.json (schema ");
  html_text(&sb, schema);
  sb_puts(&sb, "); every number is in a data-j / data-v pair.</p>\n");
  html_page_end(&sb);
  free(title);
  cJSON_Delete(root);
  return sb.data;
}
