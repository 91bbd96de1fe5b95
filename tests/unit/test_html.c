/* test_html.c — the HTML/SVG writer (html.c): escaping of text and attributes,
 * pages and charts that are well formed (every element closed in order, nothing
 * but known void elements left open), numbers carried exactly in data-v and
 * shown rounded, geometry that follows the data (bar lengths, marker positions,
 * rectangles), no script or external reference, and byte-identical output for
 * the same input. */
#include "shiftc.h"
#include "testlib.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Tags checked by a small stack parser: returns NULL when well formed, else why. */
static const char *const void_tags[] = {"meta", "br", NULL};

static bool is_void(const char *name, size_t n) {
  for (int i = 0; void_tags[i]; i++)
    if (strlen(void_tags[i]) == n && strncmp(void_tags[i], name, n) == 0) return true;
  return false;
}

static char *well_formed(const char *s) {
  const char *stack[256];
  size_t len[256];
  int depth = 0;
  for (const char *c = s; *c; c++) {
    if (*c == '>') return xformat("stray '>' at offset %td", c - s);
    if (*c == '&') {
      /* Only the entities the writer emits. */
      if (strncmp(c, "&amp;", 5) && strncmp(c, "&lt;", 4) && strncmp(c, "&gt;", 4) && strncmp(c, "&quot;", 6) &&
          strncmp(c, "&#39;", 5) && strncmp(c, "&#xfffd;", 8))
        return xformat("bare '&' at offset %td", c - s);
      continue;
    }
    if (*c != '<') continue;
    const char *end = strchr(c, '>');
    if (!end) return xformat("unclosed tag at offset %td", c - s);
    /* '<' inside a tag (an attribute value) would be a bug in escaping. */
    for (const char *q = c + 1; q < end; q++)
      if (*q == '<') return xformat("'<' inside a tag at offset %td", q - s);
    if (c[1] == '!') { /* <!DOCTYPE html> */
      c = end;
      continue;
    }
    bool closing = c[1] == '/';
    const char *name = c + 1 + closing;
    size_t n = strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789");
    if (n == 0) return xformat("tag without a name at offset %td", c - s);
    bool self = end[-1] == '/';
    if (closing) {
      if (depth == 0 || len[depth - 1] != n || strncmp(stack[depth - 1], name, n) != 0)
        return xformat("</%.*s> closes <%.*s> at offset %td", (int)n, name, depth ? (int)len[depth - 1] : 0,
                       depth ? stack[depth - 1] : "", c - s);
      depth--;
    } else if (!self && !is_void(name, n)) {
      if (depth == 256) return xformat("nested too deeply");
      stack[depth] = name;
      len[depth++] = n;
    }
    c = end;
  }
  if (depth) return xformat("<%.*s> never closed", (int)len[depth - 1], stack[depth - 1]);
  return NULL;
}

static void check_wf(const char *what, const char *html) {
  char *why = well_formed(html);
  t_check(why == NULL, what, "%s", why ? why : "");
  free(why);
}

static void test_escape(void) {
  StrBuf sb = {0};
  html_text(&sb, "<b>\"Tom\" & 'Jerry'</b>\x01\x7f\tok\n");
  t_check(strcmp(sb.data, "&lt;b&gt;&quot;Tom&quot; &amp; &#39;Jerry&#39;&lt;/b&gt;&#xfffd;&#xfffd;\tok\n") == 0,
          "html: text escaped (& < > \" ' and control characters)", "got '%s'", sb.data);
  sb_free(&sb);
  html_text(&sb, "naïve — ok");
  t_check(strcmp(sb.data, "naïve — ok") == 0, "html: UTF-8 passes through", "got '%s'", sb.data);
  sb_free(&sb);
  html_text(&sb, NULL);
  t_check(sb.data == NULL || sb.len == 0, "html: NULL text writes nothing", "got '%s'", sb.data);
  sb_free(&sb);
}

static void test_numbers(void) {
  StrBuf sb = {0};
  html_num(&sb, 0.1 + 0.2, "%.2f", "layers.%d.sqnr_db", 3);
  t_check(strcmp(sb.data, "<span class=\"num\" data-j=\"layers.3.sqnr_db\" data-v=\"0.30000000000000004\">0.30</span>") == 0,
          "html: number exact in data-v, rounded in text", "got '%s'", sb.data);
  sb_free(&sb);
  html_num(&sb, 1.0 / 3.0, "%.6g", "k");
  const char *v = strstr(sb.data, "data-v=\"");
  t_check(v && strtod(v + 8, NULL) == 1.0 / 3.0, "html: data-v reads back as the same double", "got '%s'", sb.data);
  sb_free(&sb);
  html_num(&sb, NAN, "%.2f", "a");
  html_num(&sb, INFINITY, "%.2f", "b");
  html_num(&sb, -0.0, "%.2f", "c");
  t_check(strstr(sb.data, "data-v=\"null\">n/a<") && strstr(sb.data, "data-v=\"null\">inf<") &&
              strstr(sb.data, "data-j=\"c\" data-v=\"0\">0.00<"),
          "html: NaN, inf and -0 as n/a, inf, 0", "got '%s'", sb.data);
  sb_free(&sb);
  html_num(&sb, 23680, "%.0f", "key with \"quote\" & <tag>");
  t_check(strstr(sb.data, "data-j=\"key with &quot;quote&quot; &amp; &lt;tag&gt;\"") && strstr(sb.data, ">23680<"),
          "html: keys escaped, integers exact", "got '%s'", sb.data);
  sb_free(&sb);
}

/* The page a test would draw: every primitive once. */
static char *sample_page(void) {
  StrBuf sb = {0};
  html_page_begin(&sb, "model <x> & \"y\"");
  static const char *const hdr[] = {"name", ">value"};
  html_table_begin(&sb, "t1", hdr, 2);
  sb_puts(&sb, "<tr><td>a</td><td class=\"r\">");
  html_num(&sb, 12.5, "%.1f", "rows.0.value");
  sb_puts(&sb, "</td></tr>\n");
  html_table_end(&sb);
  SvgBar bars[3] = {{"conv <1>", "30.00 dB", 30, false}, {"fc & out", "15.00 dB", 15, true}, {"nan", "n/a", NAN, false}};
  svg_bar_chart(&sb, "SQNR", bars, 3);
  double counts[8] = {1000, 100, 10, 0, 1, 0, 0, 3};
  SvgMarker mk[2] = {{"max 8", 8, false, false}, {"percentile 4", 4, true, false}};
  svg_histogram(&sb, "hist of \"x\"", counts, 8, 1.0, mk, 2);
  SvgRect r[2] = {{"t0 <512 B>", 0, 2, 0, 512}, {"t1", 1, 3, 512, 640}};
  SvgLine ln[2] = {{"arena 640 B", 640, true}, {"lower bound 600 B", 600, false}};
  svg_rect_chart(&sb, "arena", "layer", "offset", r, 2, 3, 640, ln, 2);
  html_page_end(&sb);
  return sb.data;
}

/* The value of attribute `attr` in the first element after `from` that has it. */
static double attr_after(const char *from, const char *attr) {
  char *pat = xformat(" %s=\"", attr);
  const char *a = strstr(from, pat);
  double v = a ? strtod(a + strlen(pat), NULL) : NAN;
  free(pat);
  return v;
}

static void test_page(void) {
  char *a = sample_page(), *b = sample_page();
  t_check(strcmp(a, b) == 0, "html: same input, same bytes", "two renderings differ");
  check_wf("html: page well formed (tags balanced, entities known)", a);
  t_check(strncmp(a, "<!DOCTYPE html>\n<html lang=\"en\">", 31) == 0 && strstr(a, "<meta charset=\"utf-8\">") &&
              strstr(a, "<style>") && strstr(a, "</body>\n</html>\n"),
          "html: skeleton with charset and inline style", "start: %.60s", a);
  t_check(strstr(a, "<title>model &lt;x&gt; &amp; &quot;y&quot;</title>") != NULL, "html: title escaped",
          "no escaped title");
  t_check(!strstr(a, "<script") && !strstr(a, "://") && !strstr(a, "src=") && !strstr(a, "href=") &&
              !strstr(a, "@import") && !strstr(a, "url(") && !strstr(a, "@font-face"),
          "html: no script, no links, nothing fetched", "found a reference");
  t_check(strstr(a, "<th class=\"r\">value</th>") && strstr(a, "<table id=\"t1\">"),
          "html: table headers, right-aligned marker", "header missing");
  t_check(strstr(a, "data-j=\"rows.0.value\" data-v=\"12.5\">12.5<") != NULL, "html: table number carried",
          "number missing");

  /* Bars: lengths proportional (30 -> full span, 15 -> half), marked bar red, NaN empty. */
  const char *bar = strstr(a, "aria-label=\"SQNR\"");
  double w0 = bar ? attr_after(strstr(bar, "<rect"), "width") : NAN;
  const char *r1 = bar ? strstr(strstr(bar, "<rect") + 1, "<rect") : NULL;
  double w1 = r1 ? attr_after(r1, "width") : NAN;
  const char *r2 = r1 ? strstr(r1 + 1, "<rect") : NULL;
  t_check(w0 > 0 && fabs(w1 - w0 / 2) < 0.11, "svg: bar lengths follow the values", "widths %g and %g", w0, w1);
  t_check(r1 && strstr(r1, "fill=\"#e15759\"") == strstr(r1, "fill="), "svg: marked bar drawn red", "not red");
  t_check(r2 && attr_after(r2, "width") == 0, "svg: NaN bar has no length", "width %g", r2 ? attr_after(r2, "width") : -1);
  t_check(strstr(a, ">conv &lt;1&gt;</text>") && strstr(a, ">30.00 dB</text>"), "svg: bar labels escaped and shown",
          "labels missing");

  /* Histogram: markers at their x (max at the right end, percentile halfway), used one thick. */
  const char *h = strstr(a, "aria-label=\"hist of &quot;x&quot;\"");
  const char *m0 = h ? strstr(h, "<line") : NULL, *m1 = m0 ? strstr(m0 + 1, "<line") : NULL;
  const char *plot = h ? strstr(h, "<rect") : NULL;
  double px = plot ? attr_after(plot, "x") : NAN, pw = plot ? attr_after(plot, "width") : NAN;
  double x0 = m0 ? attr_after(m0, "x1") : NAN, x1 = m1 ? attr_after(m1, "x1") : NAN;
  t_check(fabs(x0 - (px + pw)) < 0.01 && fabs(x1 - (px + pw / 2)) < 0.01, "svg: threshold markers at their values",
          "plot %g+%g, markers %g %g", px, pw, x0, x1);
  t_check(m1 && strstr(m1, "stroke-width=\"2.5\"") == strstr(m1, "stroke-width="), "svg: used threshold highlighted",
          "not thick");
  /* Log counts: the 1000-count bin is 3x as tall as the 10-count bin, up to log10(1+c). */
  const char *path = h ? strstr(h, " d=\"") : NULL;
  double hb[8];
  int nb = 0;
  for (const char *q = path; q && nb < 8 && (q = strchr(q + 1, 'v')) && q < strstr(path, "\"/>");)
    hb[nb++] = strtod(q + 1, NULL);
  t_check(nb == 5 && fabs(hb[0] / hb[2] - log10(1001) / log10(11)) < 1e-3,
          "svg: histogram heights are log counts, empty bins skipped", "%d bars, ratio %g", nb,
          nb > 2 ? hb[0] / hb[2] : 0);

  /* Rectangles: the second tensor starts at layer 1 of 3 and 512 of 640 bytes. */
  const char *rc = strstr(a, "aria-label=\"arena\"");
  const char *frame = rc ? strstr(rc, "<rect") : NULL;
  const char *t0 = frame ? strstr(frame + 1, "<rect") : NULL, *t1 = t0 ? strstr(t0 + 1, "<rect") : NULL;
  double fx = frame ? attr_after(frame, "x") : NAN, fy = frame ? attr_after(frame, "y") : NAN;
  double fw = frame ? attr_after(frame, "width") : NAN, fh = frame ? attr_after(frame, "height") : NAN;
  t_check(t1 && fabs(attr_after(t1, "x") - (fx + fw / 3)) < 0.01 &&
              fabs(attr_after(t1, "y") - (fy + fh * 512 / 640)) < 0.01 &&
              fabs(attr_after(t1, "width") - fw * 2 / 3) < 0.01,
          "svg: arena rectangles at lifetime x offset", "t1 at %g,%g", t1 ? attr_after(t1, "x") : -1,
          t1 ? attr_after(t1, "y") : -1);
  t_check(strstr(a, ">t0 &lt;512 B&gt;</title>") && strstr(a, ">arena 640 B</text>"),
          "svg: tooltips and line labels", "missing");
  free(a);
  free(b);
}

/* An empty chart (no bars, all-zero histogram, no rectangles) is still a valid page. */
static void test_empty(void) {
  StrBuf sb = {0};
  html_page_begin(&sb, "");
  svg_bar_chart(&sb, "none", NULL, 0);
  double z[4] = {0, 0, 0, 0};
  svg_histogram(&sb, "zeros", z, 4, 0, NULL, 0);
  svg_rect_chart(&sb, "nothing", "x", "y", NULL, 0, 0, 0, NULL, 0);
  html_page_end(&sb);
  check_wf("html: empty charts well formed", sb.data);
  t_check(!strstr(sb.data, "nan") && !strstr(sb.data, "inf"), "html: empty charts print no nan/inf coordinates",
          "found nan/inf");
  sb_free(&sb);
}

int main(void) {
  test_escape();
  test_numbers();
  test_page();
  test_empty();
  return t_exit_status();
}
