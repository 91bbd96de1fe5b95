/* html.c — the HTML and inline SVG the report page is made of: escaping, a page
 * skeleton with its CSS inline, numbers that people read rounded and machines read
 * back exactly, tables, and three charts (horizontal bars, a histogram with log
 * counts and vertical threshold markers, rectangles in data coordinates for the
 * arena). No script, no fonts (generic families only), nothing fetched: the page
 * is one file that reads the same offline and in a code review.
 *
 * Deterministic: coordinates are printed with fixed precision and every colour
 * comes from the input's order, so the same input gives the same bytes. */
#include "shiftc.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Chart geometry (CSS pixels; the SVGs have fixed sizes so screenshots are stable). */
#define CHART_W 720
#define BAR_H 18
#define BAR_GAP 6
#define BAR_LABEL_W 170
#define BAR_TEXT_W 190
#define HIST_H 150
#define MARGIN 8

static const char *const palette[] = {"#4e79a7", "#f28e2b", "#59a14f", "#b07aa1", "#76b7b2",
                                      "#edc948", "#9c755f", "#bab0ac", "#e15759", "#ff9da7"};
#define NPALETTE (sizeof palette / sizeof palette[0])

void html_text(StrBuf *sb, const char *s) {
  if (!s) return;
  for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
    switch (*c) {
    case '&': sb_puts(sb, "&amp;"); break;
    case '<': sb_puts(sb, "&lt;"); break;
    case '>': sb_puts(sb, "&gt;"); break;
    case '"': sb_puts(sb, "&quot;"); break;
    case '\'': sb_puts(sb, "&#39;"); break;
    default:
      /* Control characters other than tab and newline are not allowed in HTML text. */
      if ((*c < 0x20 && *c != '\t' && *c != '\n') || *c == 0x7f) sb_printf(sb, "&#xfffd;");
      else sb_putc(sb, (char)*c);
    }
  }
}

static const char css[] =
    "body{font-family:sans-serif;margin:24px auto;max-width:1100px;color:#222;background:#fff;"
    "line-height:1.35;font-size:14px}\n"
    "h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #ccc}\n"
    "h3{font-size:15px;margin:16px 0 4px}p{margin:6px 0}.muted{color:#666}\n"
    "table{border-collapse:collapse;margin:6px 0 10px}th,td{border:1px solid #ccc;padding:2px 6px;"
    "text-align:left;vertical-align:top}th{background:#f2f2f2}td.r,th.r{text-align:right}\n"
    "tr.worst td{background:#fde8e8}.cards{display:flex;flex-wrap:wrap;gap:10px;margin:10px 0}\n"
    ".card{border:1px solid #ccc;border-radius:4px;padding:6px 10px;min-width:120px}\n"
    ".card b{display:block;font-size:18px}.hist{display:inline-block;margin:0 12px 8px 0}\n"
    "svg{display:block;margin:4px 0}svg text{font-family:sans-serif;font-size:11px;fill:#222}\n"
    "code{font-family:monospace}.note{font-size:12px;color:#444}\n";

void html_page_begin(StrBuf *sb, const char *title) {
  sb_puts(sb, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>");
  html_text(sb, title);
  sb_printf(sb, "</title>\n<style>\n%s</style>\n</head>\n<body>\n", css);
}

void html_page_end(StrBuf *sb) { sb_puts(sb, "</body>\n</html>\n"); }

void html_num(StrBuf *sb, double v, const char *visible_fmt, const char *key_fmt, ...) {
  char exact[DOUBLE_EXACT_MAX];
  va_list ap;
  va_start(ap, key_fmt);
  char key[256];
  vsnprintf(key, sizeof key, key_fmt, ap);
  va_end(ap);
  sb_puts(sb, "<span class=\"num\" data-j=\"");
  html_text(sb, key);
  sb_printf(sb, "\" data-v=\"%s\">", format_double_exact(v, exact));
  if (isnan(v)) sb_puts(sb, "n/a");
  else if (isinf(v)) sb_puts(sb, v > 0 ? "inf" : "-inf");
  else sb_printf(sb, visible_fmt, v == 0 ? 0.0 : v);
  sb_puts(sb, "</span>");
}

void html_table_begin(StrBuf *sb, const char *id, const char *const *headers, int n) {
  sb_puts(sb, "<table");
  if (id) {
    sb_puts(sb, " id=\"");
    html_text(sb, id);
    sb_putc(sb, '"');
  }
  sb_puts(sb, ">\n<thead><tr>");
  for (int i = 0; i < n; i++) {
    /* A header starting with '>' is right-aligned (numbers). */
    bool right = headers[i][0] == '>';
    sb_puts(sb, right ? "<th class=\"r\">" : "<th>");
    html_text(sb, headers[i] + right);
    sb_puts(sb, "</th>");
  }
  sb_puts(sb, "</tr></thead>\n<tbody>\n");
}

void html_table_end(StrBuf *sb) { sb_puts(sb, "</tbody>\n</table>\n"); }

/* ------------------------------------------------------------ SVG */

static void svg_begin(StrBuf *sb, const char *title, int w, int h) {
  sb_printf(sb, "<svg width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" role=\"img\" aria-label=\"", w, h, w, h);
  html_text(sb, title);
  sb_puts(sb, "\">\n<title>");
  html_text(sb, title);
  sb_puts(sb, "</title>\n");
}

static void svg_end(StrBuf *sb) { sb_puts(sb, "</svg>\n"); }

/* <text> at (x, y); anchor "start", "middle" or "end". */
static void svg_label(StrBuf *sb, double x, double y, const char *anchor, const char *extra, const char *s) {
  sb_printf(sb, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\"%s>", x, y, anchor, extra ? extra : "");
  html_text(sb, s);
  sb_puts(sb, "</text>\n");
}

void svg_bar_chart(StrBuf *sb, const char *title, const SvgBar *bars, int n) {
  double vmax = 0;
  for (int i = 0; i < n; i++)
    if (isfinite(bars[i].value)) vmax = fmax(vmax, fabs(bars[i].value));
  if (vmax == 0) vmax = 1;
  int h = n * (BAR_H + BAR_GAP) + 2 * MARGIN;
  double x0 = BAR_LABEL_W, span = CHART_W - BAR_LABEL_W - BAR_TEXT_W - MARGIN;
  svg_begin(sb, title, CHART_W, h);
  for (int i = 0; i < n; i++) {
    const SvgBar *b = &bars[i];
    double y = MARGIN + i * (BAR_H + BAR_GAP);
    svg_label(sb, x0 - 6, y + BAR_H - 5, "end", b->mark ? " font-weight=\"bold\"" : NULL, b->label);
    double v = isfinite(b->value) ? b->value : isinf(b->value) && b->value > 0 ? vmax : 0;
    double w = fabs(v) / vmax * span;
    sb_printf(sb, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%d\" fill=\"%s\"><title>", x0, y, w,
              BAR_H, b->mark ? "#e15759" : v < 0 ? "#bab0ac" : "#4e79a7");
    html_text(sb, b->label);
    sb_puts(sb, ": ");
    html_text(sb, b->text);
    sb_puts(sb, "</title></rect>\n");
    svg_label(sb, x0 + w + 4, y + BAR_H - 5, "start", b->mark ? " font-weight=\"bold\"" : NULL, b->text);
  }
  sb_printf(sb, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#888\"/>\n", x0, MARGIN, x0, h - MARGIN);
  svg_end(sb);
}

void svg_histogram(StrBuf *sb, const char *title, const double *counts, int nbins, double bin_width,
                   const SvgMarker *markers, int nm) {
  /* Room above the plot for one label row per marker, so labels never overlap. */
  int top = MARGIN + 13 * nm, bottom = 18;
  int w = CHART_W / 2 - 2 * MARGIN, h = top + HIST_H + bottom;
  double xmax = nbins * bin_width, plot_w = w - 2 * MARGIN;
  for (int i = 0; i < nm; i++)
    if (isfinite(markers[i].x)) xmax = fmax(xmax, markers[i].x);
  if (!(xmax > 0)) xmax = 1;
  double lmax = 0;
  for (int b = 0; b < nbins; b++) lmax = fmax(lmax, log10(1 + counts[b]));
  if (lmax == 0) lmax = 1;
  svg_begin(sb, title, w, h);
  sb_printf(sb, "<rect x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"#fafafa\" stroke=\"#ccc\"/>\n", MARGIN,
            top, plot_w, HIST_H);
  /* One path for all bins keeps the file small: a bar per non-empty bin. */
  sb_puts(sb, "<path fill=\"#4e79a7\" d=\"");
  for (int b = 0; b < nbins; b++) {
    if (counts[b] <= 0) continue;
    double bx = MARGIN + b * bin_width / xmax * plot_w, bw = bin_width / xmax * plot_w;
    double bh = log10(1 + counts[b]) / lmax * HIST_H;
    sb_printf(sb, "M%.2f %.2fh%.2fv%.2fh%.2fz", bx, top + HIST_H - bh, bw, bh, -bw);
  }
  sb_puts(sb, "\"/>\n");
  for (int i = 0; i < nm; i++) {
    const SvgMarker *m = &markers[i];
    if (!isfinite(m->x)) continue;
    double x = MARGIN + m->x / xmax * plot_w;
    const char *color = m->mark ? "#e15759" : m->dashed ? "#555" : palette[(i + 1) % NPALETTE];
    sb_printf(sb, "<line x1=\"%.2f\" y1=\"%d\" x2=\"%.2f\" y2=\"%d\" stroke=\"%s\" stroke-width=\"%s\"%s><title>",
              x, MARGIN + 13 * i + 3, x, top + HIST_H, color, m->mark ? "2.5" : "1.2",
              m->dashed ? " stroke-dasharray=\"4 3\"" : "");
    html_text(sb, m->label);
    sb_puts(sb, "</title></line>\n");
    bool right = x > MARGIN + plot_w / 2;
    svg_label(sb, right ? x - 3 : x + 3, MARGIN + 13 * i + 10, right ? "end" : "start",
              m->mark ? " font-weight=\"bold\"" : NULL, m->label);
  }
  char lo[32], hi[32];
  snprintf(lo, sizeof lo, "0");
  snprintf(hi, sizeof hi, "%.4g", xmax);
  svg_label(sb, MARGIN, top + HIST_H + 13, "start", NULL, lo);
  svg_label(sb, MARGIN + plot_w, top + HIST_H + 13, "end", NULL, hi);
  svg_label(sb, MARGIN + plot_w / 2, top + HIST_H + 13, "middle", " class=\"muted\"", "|x|, log count");
  svg_end(sb);
}

void svg_rect_chart(StrBuf *sb, const char *title, const char *xlabel, const char *ylabel, const SvgRect *rects,
                    int n, double xmax, double ymax, const SvgLine *lines, int nl) {
  int left = 60, right = 150, top = MARGIN, bottom = 30, plot_h = 260;
  double plot_w = CHART_W - left - right;
  int h = top + plot_h + bottom;
  if (!(xmax > 0)) xmax = 1;
  double ytop = ymax;
  for (int i = 0; i < nl; i++) ytop = fmax(ytop, lines[i].y);
  if (!(ytop > 0)) ytop = 1;
  svg_begin(sb, title, CHART_W, h);
  sb_printf(sb, "<rect x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"#fafafa\" stroke=\"#ccc\"/>\n", left,
            top, plot_w, plot_h);
  /* Addresses grow downward, like a memory map. */
  for (int i = 0; i < n; i++) {
    const SvgRect *r = &rects[i];
    double x = left + r->x0 / xmax * plot_w, w = (r->x1 - r->x0) / xmax * plot_w;
    double y = top + r->y0 / ytop * plot_h, hh = (r->y1 - r->y0) / ytop * plot_h;
    sb_printf(sb, "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"%s\" fill-opacity=\"0.8\" "
              "stroke=\"#fff\"><title>",
              x, y, w, hh, palette[i % NPALETTE]);
    html_text(sb, r->label);
    sb_puts(sb, "</title></rect>\n");
    if (hh >= 12 && w >= 30) svg_label(sb, x + w / 2, y + hh / 2 + 4, "middle", NULL, r->label);
  }
  for (int i = 0; i < nl; i++) {
    double y = top + lines[i].y / ytop * plot_h;
    sb_printf(sb, "<line x1=\"%d\" y1=\"%.2f\" x2=\"%.1f\" y2=\"%.2f\" stroke=\"%s\" stroke-width=\"1.5\"%s/>\n", left,
              y, left + plot_w + 6, y, lines[i].mark ? "#e15759" : "#555",
              lines[i].mark ? "" : " stroke-dasharray=\"5 3\"");
    /* Two lines at the same height get their labels on either side of it. */
    svg_label(sb, left + plot_w + 8, y + (i % 2 ? 12 : -3), "start", lines[i].mark ? " font-weight=\"bold\"" : NULL,
              lines[i].label);
  }
  int step = xmax <= 20 ? 1 : (int)ceil(xmax / 20); /* at most ~20 tick labels */
  for (int x = 0; x <= (int)xmax; x += step) {
    char t[16];
    snprintf(t, sizeof t, "%d", x);
    svg_label(sb, left + x / xmax * plot_w, top + plot_h + 13, "middle", NULL, t);
  }
  svg_label(sb, left + plot_w / 2, top + plot_h + 27, "middle", " class=\"muted\"", xlabel);
  svg_label(sb, left - 4, top + 10, "end", NULL, "0");
  svg_label(sb, left - 4, top + plot_h / 2.0, "end", " class=\"muted\"", ylabel);
  svg_end(sb);
}
