/* emit.c — the target-independent C writer (interfaces.md §4). From the integer
 * program it writes into OUTDIR:
 *   <model>.h          the API, sizes and scales as macros
 *   <model>.c          the weights and tables as static const arrays, one commented
 *                      function per layer (its body from the Target), and the run
 *                      function over one arena laid out by plan_memory.c
 *   <model>_golden.c   golden input/output codes from the integer interpreter
 *   <model>_test.c     a main that checks them bit for bit
 *   Makefile           builds and runs the test (natively, CROSS=..., CC=...)
 *   runtime files      copied in, so OUTDIR is self-contained
 * Every file is written to a temporary name and renamed, and is byte-identical for
 * the same inputs: no timestamps, no paths beyond file names, no pointers, and
 * every float printed so that it reads back as the same float. */
#define _POSIX_C_SOURCE 200809L
#include "../targets/target.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ------------------------------------------------------------ identifiers */

static char *upper(const char *s) {
  char *u = xstrdup(s);
  for (char *c = u; *c; c++) *c = (char)toupper((unsigned char)*c);
  return u;
}

/* Names a local in the run function may not take: C keywords, what the generated
 * code itself uses, and what <stdint.h>, <stddef.h> and <string.h> define. */
static const char *const reserved_words[] = {
    "auto", "break", "case", "char", "const", "continue", "default", "do", "double", "else", "enum",
    "extern", "float", "for", "goto", "if", "inline", "int", "long", "register", "restrict", "return",
    "short", "signed", "sizeof", "static", "struct", "switch", "typedef", "union", "unsigned", "void",
    "volatile", "while", "_Bool", "_Complex", "_Imaginary", "input", "output", "inputs", "outputs",
    "arena", "mem", "memcpy", "memset", "memmove", "size_t", "ptrdiff_t", "offsetof", "wchar_t",
    "main", NULL,
};

/* A set of identifiers already handed out in one scope. */
typedef struct Names {
  char **v;
  int n;
} Names;

static bool names_has(const Names *ns, const char *s) {
  for (int i = 0; i < ns->n; i++)
    if (strcmp(ns->v[i], s) == 0) return true;
  return false;
}

/* `base`, or base_2, base_3 ... : the first not yet taken; recorded as taken. */
static char *names_unique(Names *ns, const char *base) {
  char *s = xstrdup(base);
  for (int k = 2; names_has(ns, s); k++) {
    free(s);
    s = xformat("%s_%d", base, k);
  }
  ns->v = xrealloc(ns->v, sizeof(char *) * (size_t)(ns->n + 1));
  ns->v[ns->n++] = s;
  return s;
}

/* A value's name as a local of the run function: the name itself where that is
 * safe, else with a `v_` in front (keywords, macros, the layer functions' prefix). */
static char *local_name(Names *ns, const char *value_name) {
  char *id = c_ident(value_name);
  bool has_lower = false;
  for (const char *c = id; *c; c++) has_lower |= islower((unsigned char)*c) != 0;
  bool bad = !has_lower || id[0] == '_' || strncmp(id, "layer", 5) == 0 || strncmp(id, "sc_", 3) == 0 ||
             strncmp(id, "const_", 6) == 0 || (strncmp(id, "int", 3) == 0 && strstr(id, "_t")) ||
             (strncmp(id, "uint", 4) == 0 && strstr(id, "_t"));
  for (int i = 0; reserved_words[i] && !bad; i++) bad = strcmp(id, reserved_words[i]) == 0;
  char *base = bad ? xformat("v_%s", id) : xstrdup(id);
  char *s = names_unique(ns, base);
  free(base);
  free(id);
  return s;
}

/* ---------------------------------------------------------- number format */

/* A finite float as a C literal that reads back as the same float: %.9g (hex if
 * a decimal reading would differ, which a correctly rounding compiler never does). */
char *float_literal(float f) {
  char buf[64];
  snprintf(buf, sizeof buf, "%.9g", (double)f);
  if (strtof(buf, NULL) != f) snprintf(buf, sizeof buf, "%a", (double)f);
  if (!strpbrk(buf, ".eEpxn")) strcat(buf, ".0");
  return xformat("%sf", buf);
}

/* A scale for comments: 2^e when it is one (shift mode), else 9 digits. */
static char *scale_text(const QParam *q) {
  if (!q) return xstrdup("?");
  if (q->scale == ldexp(1.0, q->exp)) return xformat("2^%d", q->exp);
  return xformat("%.9g", q->scale);
}

static char *shape_text(const Shape *s) {
  char buf[SHAPE_STR_MAX];
  return xstrdup(shape_str(s, buf));
}

/* Arrays: 16 int8 values or 8 int32 values to a line, right aligned. The int8 rows are
 * megabytes for a Transformer (BERT-base layer: 7 M codes), so each line is put together
 * from the 256 codes' "%4d," texts (5 characters each) rather than printed code by code. */
static void put_i8_rows(StrBuf *sb, const int8_t *v, int64_t n, const char *indent) {
  char text[256][6], line[16 * 5 + 2];
  for (int c = 0; c < 256; c++) snprintf(text[c], sizeof text[c], "%4d,", c - 128);
  for (int64_t i = 0; i < n; i += 16) {
    int m = n - i < 16 ? (int)(n - i) : 16;
    for (int j = 0; j < m; j++) memcpy(line + 5 * j, text[(int)v[i + j] + 128], 5);
    line[5 * m] = '\n';
    line[5 * m + 1] = '\0';
    sb_puts(sb, indent);
    sb_puts(sb, line);
  }
}

void put_i8_array(StrBuf *sb, const char *comment, const char *name, const int8_t *v, int64_t n) {
  if (comment) sb_printf(sb, "/* %s */\n", comment);
  if (n == 0) {
    sb_printf(sb, "static const int8_t %s[1] = {0}; /* empty */\n", name);
    return;
  }
  sb_printf(sb, "static const int8_t %s[%lld] = {\n", name, (long long)n);
  put_i8_rows(sb, v, n, "  ");
  sb_puts(sb, "};\n");
}

/* n int32 ids stored in native order at v (unaligned bytes), 8 to a line. */
static void put_id_rows(StrBuf *sb, const int8_t *v, int64_t n, const char *indent) {
  for (int64_t i = 0; i < n; i++) {
    int32_t id;
    memcpy(&id, v + i * (int64_t)sizeof id, sizeof id);
    if (i % 8 == 0) sb_puts(sb, indent);
    sb_printf(sb, "%11d,", (int)id);
    if (i % 8 == 7 || i == n - 1) sb_putc(sb, '\n');
  }
}

void put_i32_array(StrBuf *sb, const char *comment, const char *name, const int32_t *v, int64_t n) {
  if (comment) sb_printf(sb, "/* %s */\n", comment);
  sb_printf(sb, "static const int32_t %s[%lld] = {\n", name, (long long)n);
  for (int64_t i = 0; i < n; i++) {
    if (i % 8 == 0) sb_puts(sb, "  ");
    sb_printf(sb, "%11d,", (int)v[i]);
    if (i % 8 == 7 || i == n - 1) sb_putc(sb, '\n');
  }
  sb_puts(sb, "};\n");
}

static void put_i64_array(StrBuf *sb, const char *comment, const char *name, const int64_t *v, int64_t n) {
  if (comment) sb_printf(sb, "/* %s */\n", comment);
  sb_printf(sb, "static const int64_t %s[%lld] = {\n", name, (long long)n);
  for (int64_t i = 0; i < n; i++) {
    if (i % 4 == 0) sb_puts(sb, "  ");
    sb_printf(sb, "INT64_C(%lld),", (long long)v[i]);
    if (i % 4 == 3 || i == n - 1) sb_putc(sb, '\n');
  }
  sb_puts(sb, "};\n");
}

/* ------------------------------------------------------------------- files */

static void mkdir_p(const char *dir) {
  if (!*dir) error_cli("the output folder name is empty");
  char *path = xstrdup(dir);
  for (char *p = path + 1;; p++) {
    if (*p != '/' && *p != '\0') continue;
    char saved = *p;
    *p = '\0';
    if (mkdir(path, 0777) != 0 && errno != EEXIST) error_cli("cannot create folder '%s': %s", path, strerror(errno));
    *p = saved;
    if (!saved) break;
  }
  struct stat st;
  if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) error_cli("output '%s' exists and is not a folder", dir);
  free(path);
}

static void write_out(const char *dir, const char *name, const StrBuf *sb) {
  char *path = xformat("%s/%s", dir, name);
  if (!write_file_atomic(path, sb->data ? sb->data : "", sb->len)) error_cli("cannot write '%s': %s", path, strerror(errno));
  free(path);
}

static bool is_file(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static bool runtime_in(const char *dir) {
  char *h = xformat("%s/shiftc_rt.h", dir);
  bool ok = is_file(h);
  free(h);
  return ok;
}

/* The runtime folder: $SHIFTC_RUNTIME_DIR, or next to the executable (runtime/,
 * ../runtime, ../../runtime for build/san/shiftc, ../share/shiftc/runtime installed). */
static char *find_runtime_dir(void) {
  const char *env = getenv("SHIFTC_RUNTIME_DIR");
  if (env && *env) {
    if (!runtime_in(env)) error_cli("SHIFTC_RUNTIME_DIR='%s' holds no shiftc_rt.h (it should name the runtime folder)", env);
    return xstrdup(env);
  }
  char exe[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n <= 0) error_cli("cannot locate the shiftc executable to find the runtime: set SHIFTC_RUNTIME_DIR");
  exe[n] = '\0';
  char *slash = strrchr(exe, '/');
  if (slash) *slash = '\0';
  static const char *const rel[] = {"runtime", "../runtime", "../../runtime", "../share/shiftc/runtime", NULL};
  StrBuf tried = {0};
  for (int i = 0; rel[i]; i++) {
    char *d = xformat("%s/%s", exe, rel[i]);
    if (runtime_in(d)) return d;
    sb_printf(&tried, "%s%s", i ? ", " : "", d);
    free(d);
  }
  error_cli("cannot find the runtime (shiftc_rt.h): looked in %s; set SHIFTC_RUNTIME_DIR to the runtime folder",
            tried.data);
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static const char *base_name(const char *path) {
  const char *s = strrchr(path, '/');
  return s ? s + 1 : path;
}

static int cmp_base(const void *a, const void *b) {
  int r = strcmp(base_name(*(char *const *)a), base_name(*(char *const *)b));
  return r ? r : cmp_str(a, b);
}

/* The target's runtime files in the runtime folder *dir, as paths relative to it
 * ("sc_linear_s8.c", "neon/sc_neon.h"), sorted by file name. A pattern may name a
 * subfolder ("avx2/sc_*.c"); every file lands in OUTDIR under its own name, so two
 * files of one target may not share a name. */
static char **list_runtime(const Target *t, char **dir_out, int *count) {
  char *dir = find_runtime_dir();
  char **names = NULL;
  int n = 0;
  static const char *const always[] = {"shiftc_rt.h", NULL};
  for (int pass = 0; pass < 2; pass++) {
    const char *const *pats = pass ? t->runtime_files : always;
    for (int i = 0; pats && pats[i]; i++) {
      const char *slash = strrchr(pats[i], '/');
      char *sub = slash ? xstrndup(pats[i], (size_t)(slash - pats[i])) : xstrdup("");
      const char *pat = slash ? slash + 1 : pats[i];
      char *path = *sub ? xformat("%s/%s", dir, sub) : xstrdup(dir);
      DIR *d = opendir(path);
      if (!d) error_cli("cannot read the runtime folder '%s': %s", path, strerror(errno));
      for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.' || fnmatch(pat, e->d_name, 0) != 0) continue;
        char *rel = *sub ? xformat("%s/%s", sub, e->d_name) : xstrdup(e->d_name);
        bool dup = false;
        for (int k = 0; k < n && !dup; k++) {
          if (strcmp(base_name(names[k]), e->d_name) != 0) continue;
          if (strcmp(names[k], rel) != 0)
            internal_error("target %s: runtime files '%s' and '%s' share a name", t->name, names[k], rel);
          dup = true;
        }
        if (dup) {
          free(rel);
          continue;
        }
        names = xrealloc(names, sizeof(char *) * (size_t)(n + 1));
        names[n++] = rel;
      }
      closedir(d);
      free(path);
      free(sub);
    }
  }
  qsort(names, (size_t)n, sizeof(char *), cmp_base);
  *dir_out = dir;
  *count = n;
  return names;
}

static void copy_runtime(const char *dir, char **names, int n, const char *outdir) {
  for (int i = 0; i < n; i++) {
    char *src = xformat("%s/%s", dir, names[i]);
    size_t len;
    char *text = read_whole_file(src, &len);
    if (!text) error_cli("cannot read runtime file '%s': %s", src, strerror(errno));
    StrBuf sb = {text, len, len + 1};
    write_out(outdir, base_name(names[i]), &sb);
    free(text);
    free(src);
  }
}

/* ------------------------------------------------------------ the writer */

typedef struct Emit {
  const IntProgram *p;
  const Graph *g;
  const Target *t;
  char *model;      /* "digits_cnn" */
  char *MODEL;      /* "DIGITS_CNN" */
  char *source;     /* the model file's name, without folders */
  bool multi;       /* several inputs or outputs: the pointer-array API */
  char **in_ident;  /* per graph input: NAME part of the per-input macros and functions */
  char **out_ident;
  char **const_arr; /* per value: the static array of a constant operand, or NULL */
  LayerCtx *ctx;    /* per layer */
} Emit;

static const Value *val(const Emit *e, int v) { return &e->g->values[v]; }
/* An i32 input of token ids (QPARAM_ID_BITS): int32 ids, not int8 codes, at the API. */
static bool is_ids(const Value *v) { return v->q && v->q->bits == QPARAM_ID_BITS; }
static int64_t numel(const Emit *e, int v) { return shape_numel(&e->g->values[v].shape); }

static int input_index(const Emit *e, int storage) {
  for (int i = 0; i < e->g->ninputs; i++)
    if (e->p->storage[e->g->inputs[i]] == storage) return i;
  return -1;
}

static int output_index(const Emit *e, int storage) {
  for (int i = 0; i < e->g->noutputs; i++)
    if (e->p->storage[e->g->outputs[i]] == storage) return i;
  return -1;
}

static char *input_expr(const Emit *e, int i) { return e->multi ? xformat("inputs[%d]", i) : xstrdup("input"); }
static char *output_expr(const Emit *e, int i) { return e->multi ? xformat("outputs[%d]", i) : xstrdup("output"); }

/* Comment line of a layer: "c2 = conv2d(p1) + batchnorm b2, relu r2". */
static char *layer_title(const Emit *e, const ILayer *l) {
  const Node *n = &e->g->nodes[l->node];
  StrBuf sb = {0};
  sb_printf(&sb, "%s = %s(", n->name, op_table[n->op].name);
  for (int k = 0; k < l->nin; k++) sb_printf(&sb, "%s%s", k ? ", " : "", val(e, l->in[k])->name);
  sb_putc(&sb, ')');
  if (l->fused) sb_printf(&sb, " + %s", l->fused); /* the last one named is the layer's output */
  else if (l->out != n->output) sb_printf(&sb, " -> %s", val(e, l->out)->name);
  return sb.data;
}

/* Comment line: shapes, scales, weights, shifts. */
static char *layer_summary(const Emit *e, const ILayer *l) {
  StrBuf sb = {0};
  for (int k = 0; k < l->nin; k++) {
    char *s = shape_text(&val(e, l->in[k])->shape);
    sb_printf(&sb, "%s%s", k ? " + " : "", s);
    free(s);
  }
  char *ys = shape_text(&val(e, l->out)->shape);
  sb_printf(&sb, " -> %s; ", ys);
  free(ys);
  const char *xname = l->nin == 1 ? "x" : l->kind == IL_CONCAT ? NULL : "ab";
  for (int k = 0; k < l->nin; k++) {
    char *s = scale_text(val(e, l->in[k])->q);
    if (xname && l->nin == 1) sb_printf(&sb, "s_x = %s, ", s);
    else if (xname) sb_printf(&sb, "s_%c = %s, ", xname[k < 2 ? k : 1], s);
    else sb_printf(&sb, "%s%s", k ? ", " : "s_in = ", s);
    free(s);
  }
  char *sy = scale_text(val(e, l->out)->q);
  sb_printf(&sb, "%ss_y = %s", xname ? "" : "; ", sy);
  free(sy);
  /* The arithmetic on a line of its own. */
  size_t mark = sb.len;
  if (l->weight) {
    double lo = INFINITY, hi = 0;
    for (int c = 0; c < l->nch; c++) {
      lo = fmin(lo, l->w_scale[c]);
      hi = fmax(hi, l->w_scale[c]);
    }
    QParam a = {.scale = lo, .exp = (int)floor(log2(lo))}, b = {.scale = hi, .exp = (int)floor(log2(hi))};
    char *sa = scale_text(&a), *sb2 = scale_text(&b);
    if (lo == hi) sb_printf(&sb, "; weights %d-bit, s_w = %s", l->weight_bits, sa);
    else sb_printf(&sb, "; weights %d-bit per-channel, s_w = %s..%s", l->weight_bits, sa, sb2);
    free(sa);
    free(sb2);
  }
  if (l->kind == IL_CONCAT && !l->p.cat.rq) sb_puts(&sb, "; every input at the output's scale: copies");
  else if (l->shift && l->kind != IL_MAXPOOL2D) {
    int lo = INT_MAX, hi = INT_MIN;
    for (int c = 0; c < l->nch; c++) {
      lo = l->shift[c] < lo ? l->shift[c] : lo;
      hi = l->shift[c] > hi ? l->shift[c] : hi;
    }
    sb_printf(&sb, "; %s", l->mult ? "dyadic multipliers, " : "");
    if (lo == hi) sb_printf(&sb, "shift %d", lo);
    else sb_printf(&sb, "shifts %d..%d", lo, hi);
  }
  if (l->kind == IL_TRANSPOSE) {
    sb_puts(&sb, "; perm [");
    for (int i = 0; i < l->p.tr.rank; i++) sb_printf(&sb, "%s%d", i ? "," : "", (int)l->p.tr.perm[i]);
    sb_putc(&sb, ']');
  }
  if (l->macs) sb_printf(&sb, "; %lld MACs", (long long)l->macs);
  if (sb.len > mark) {
    /* "; weights ..." -> "\n * weights ..." */
    char *rest = xstrdup(sb.data + mark + 2);
    sb.len = mark;
    sb_printf(&sb, "\n * %s", rest);
    free(rest);
  }
  return sb.data;
}

/* The NAME of an input or output in macros (<MODEL>_INPUT_<NAME>_SIZE) and helper
 * functions: its identifier, unique also in upper case, and never one that would
 * make a macro collide with another's (`size`, `x_scale`). */
static char *io_ident(Names *upper_taken, const char *value_name) {
  char *id = c_ident(value_name), *U = upper(id);
  size_t n = strlen(U);
  bool clash = strcmp(U, "SIZE") == 0 || strcmp(U, "SCALE") == 0 || (n > 5 && strcmp(U + n - 5, "_SIZE") == 0) ||
               (n > 6 && strcmp(U + n - 6, "_SCALE") == 0);
  char *base = clash ? xformat("%s_", id) : xstrdup(id);
  char *Ubase = upper(base), *Uunique = names_unique(upper_taken, Ubase);
  /* The suffix names_unique added (if any) goes on the identifier too. */
  char *s = xformat("%s%s", base, Uunique + strlen(Ubase));
  free(id);
  free(U);
  free(base);
  free(Ubase);
  return s;
}

/* Names every layer's function, arrays and parameters. */
static void name_layers(Emit *e) {
  const IntProgram *p = e->p;
  e->ctx = xcalloc((size_t)p->nlayers + 1, sizeof(LayerCtx));
  for (int i = 0; i < p->nlayers; i++) {
    const ILayer *l = &p->layers[i];
    LayerCtx *c = &e->ctx[i];
    c->target = e->t;
    c->p = p;
    c->l = l;
    c->index = i + 1;
    char *id = c_ident(e->g->nodes[l->node].name);
    c->fn = xformat("layer%d_%s", i + 1, id);
    free(id);
    if (l->weight) c->weight = xformat("%s_weight", c->fn);
    if (l->bias) c->bias = xformat("%s_bias", c->fn);
    if (l->out_add) c->out_add = xformat("%s_out_add", c->fn);
    if (l->bias_lshift) c->bias_lshift = xformat("%s_bias_lshift", c->fn);
    /* A concat whose inputs all have the output's scale copies bytes: its
     * per-input requantization arrays are not used, so not written. */
    bool rescales = l->kind != IL_CONCAT || l->p.cat.rq;
    if (l->mult && rescales) c->mult = xformat("%s_mult", c->fn);
    if (l->shift && rescales) c->shift = xformat("%s_shift", c->fn);
    if (l->kind == IL_LUT) c->table = xformat("%s_table", c->fn);
    if (l->kind == IL_CONCAT) c->inner = xformat("%s_inner", c->fn);
    if (l->ln_g) c->ln_g = xformat("%s_gamma", c->fn);
    if (l->ln_b) c->ln_b = xformat("%s_beta", c->fn);
    for (int k = 0; k < l->nin; k++) {
      int v = l->in[k];
      if (val(e, v)->is_const) c->in[k] = e->const_arr[v];
      else if (l->nin == 1) c->in[k] = "x";
      else if (l->kind == IL_CONCAT) c->in[k] = xformat("x%d", k);
      else c->in[k] = k == 0 ? "a" : "b";
    }
    c->out = "y";
  }
}

/* ----------------------------------------------------------- <model>.h */

static void emit_header(const Emit *e, StrBuf *h) {
  const Graph *g = e->g;
  const char *m = e->model, *M = e->MODEL;
  sb_printf(h, "/* %s.h — generated by shiftc %s from %s (target %s, requantize %s).\n", m, SHIFTC_VERSION,
            e->source, e->t->name, requant_mode_name(e->p->cfg->requantize));
  sb_printf(h, " * Integer-only inference: int8 codes in, int8 codes out; no heap, no libm, and no\n"
               " * floats except in the quantize/dequantize helpers. The code keeps no state: calls\n"
               " * may run concurrently, each with an arena of its own.\n *\n");
  if (!e->multi && is_ids(val(e, g->inputs[0]))) {
    sb_printf(h, " *   static int8_t arena[%s_ARENA_SIZE];   (any alignment)\n", M);
    sb_printf(h, " *   int32_t ids[%s_INPUT_SIZE];  int8_t y[%s_OUTPUT_SIZE];\n", M, M);
    sb_printf(h, " *   %s_quantize_input(float_ids, (int8_t *)ids);   float ids -> int32 (or fill ids)\n", m);
    sb_printf(h, " *   %s_run((const int8_t *)ids, y, arena);         returns 0\n", m);
    sb_printf(h, " *   %s_dequantize_output(y, result);              codes -> floats\n", m);
  } else if (!e->multi) {
    sb_printf(h, " *   static int8_t arena[%s_ARENA_SIZE];   (any alignment)\n", M);
    sb_printf(h, " *   int8_t x[%s_INPUT_SIZE], y[%s_OUTPUT_SIZE];\n", M, M);
    sb_printf(h, " *   %s_quantize_input(features, x);   floats -> codes\n", m);
    sb_printf(h, " *   %s_run(x, y, arena);              returns 0\n", m);
    sb_printf(h, " *   %s_dequantize_output(y, result);  codes -> floats\n", m);
  } else {
    sb_printf(h, " * Several inputs or outputs: %s_run takes arrays of pointers, indexed by the\n"
                 " * %s_INPUT_<NAME> and %s_OUTPUT_<NAME> macros (the model's order):\n", m, M, M);
    sb_printf(h, " *   const int8_t *in[%s_NUM_INPUTS];  int8_t *out[%s_NUM_OUTPUTS];\n", M, M);
    sb_printf(h, " *   %s_run(in, out, arena);\n", m);
    sb_printf(h, " * and each input and output has its own quantize/dequantize helper.\n");
  }
  sb_puts(h, " *\n");
  for (int i = 0; i < g->ninputs; i++) {
    char *s = shape_text(&val(e, g->inputs[i])->shape);
    sb_printf(h, " * input  %s : %s\n", val(e, g->inputs[i])->name, s);
    free(s);
  }
  for (int i = 0; i < g->noutputs; i++) {
    char *s = shape_text(&val(e, g->outputs[i])->shape);
    sb_printf(h, " * output %s : %s\n", val(e, g->outputs[i])->name, s);
    free(s);
  }
  sb_puts(h, " * A value is real = code * scale; codes lie in [-127, 127].");
  for (int i = 0; i < g->ninputs; i++) {
    if (!is_ids(val(e, g->inputs[i]))) continue;
    char *N = e->multi ? xformat("%s_INPUT_%s", M, e->in_ident[i]) : xformat("%s_INPUT", M);
    char *NU = upper(N);
    char *fn = e->multi ? xformat("%s_quantize_input_%s", m, e->in_ident[i]) : xformat("%s_quantize_input", m);
    sb_printf(h, "\n * Input %s holds token ids, not codes: its pointer (const int8_t * in the API)\n"
                 " * points at %s_SIZE int32_t ids (native endianness, 4-byte aligned), and\n"
                 " * %s(x, q) writes the nearest integers of float ids x as int32 into q\n"
                 " * (4 * %s_SIZE bytes). An id outside the table gives a row of zeros.",
              val(e, g->inputs[i])->name, NU, fn, NU);
    free(N);
    free(NU);
    free(fn);
  }
  sb_puts(h, " */\n");
  sb_printf(h, "#ifndef %s_H\n#define %s_H\n\n#include <stdint.h>\n\n", M, M);
  sb_puts(h, "#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n");
  int64_t in_total = 0, out_total = 0;
  for (int i = 0; i < g->ninputs; i++) in_total += numel(e, g->inputs[i]);
  for (int i = 0; i < g->noutputs; i++) out_total += numel(e, g->outputs[i]);
  if (!e->multi) {
    const Value *x = val(e, g->inputs[0]), *y = val(e, g->outputs[0]);
    char *xs = shape_text(&x->shape), *ys = shape_text(&y->shape);
    char *xsc = float_literal((float)x->q->scale), *ysc = float_literal((float)y->q->scale);
    sb_printf(h, "#define %s_INPUT_SIZE %lld /* %s of %s %s */\n", M, (long long)in_total,
              is_ids(x) ? "int32 token ids" : "int8 codes", x->name, xs);
    sb_printf(h, "#define %s_OUTPUT_SIZE %lld /* int8 codes of %s %s */\n", M, (long long)out_total, y->name, ys);
    sb_printf(h, "#define %s_ARENA_SIZE %lld /* bytes of scratch the caller provides */\n", M,
              (long long)(e->p->arena_bytes > 0 ? e->p->arena_bytes : 1));
    sb_printf(h, "#define %s_LAYER_COUNT %d /* layers of the run function */\n", M, e->p->nlayers);
    sb_printf(h, "#define %s_INPUT_SCALE %s /* %s */\n", M, xsc, is_ids(x) ? "ids: not quantized" : "real = code * scale");
    sb_printf(h, "#define %s_OUTPUT_SCALE %s\n\n", M, ysc);
    sb_printf(h, "/* Runs the model on one input; the arena holds every intermediate tensor (the\n"
                 " * caller's, %s_ARENA_SIZE bytes, reused between calls). Returns 0. */\n", M);
    sb_printf(h, "int %s_run(const int8_t *input, int8_t *output, void *arena);\n", m);
    if (is_ids(x))
      sb_printf(h, "/* %s_INPUT_SIZE float ids to int32 ids in q's 4 * %s_INPUT_SIZE bytes. */\n", M, M);
    else
      sb_printf(h, "/* %s_INPUT_SIZE floats to codes: q = clamp(round_half_up(x / scale), -127, 127). */\n", M);
    sb_printf(h, "void %s_quantize_input(const float *x, int8_t *q);\n", m);
    sb_printf(h, "/* %s_OUTPUT_SIZE codes to floats: y = q * scale. */\n", M);
    sb_printf(h, "void %s_dequantize_output(const int8_t *q, float *y);\n", m);
    free(xs);
    free(ys);
    free(xsc);
    free(ysc);
  } else {
    sb_printf(h, "#define %s_NUM_INPUTS %d\n#define %s_NUM_OUTPUTS %d\n", M, g->ninputs, M, g->noutputs);
    sb_printf(h, "#define %s_INPUT_SIZE %lld /* all inputs together */\n", M, (long long)in_total);
    sb_printf(h, "#define %s_OUTPUT_SIZE %lld /* all outputs together */\n", M, (long long)out_total);
    sb_printf(h, "#define %s_ARENA_SIZE %lld /* bytes of scratch the caller provides */\n", M,
              (long long)(e->p->arena_bytes > 0 ? e->p->arena_bytes : 1));
    sb_printf(h, "#define %s_LAYER_COUNT %d /* layers of the run function */\n\n", M, e->p->nlayers);
    for (int pass = 0; pass < 2; pass++) {
      int n = pass ? g->noutputs : g->ninputs;
      for (int i = 0; i < n; i++) {
        const Value *v = val(e, pass ? g->outputs[i] : g->inputs[i]);
        const char *kind = pass ? "OUTPUT" : "INPUT";
        char *N = upper(pass ? e->out_ident[i] : e->in_ident[i]);
        char *s = shape_text(&v->shape), *sc = float_literal((float)v->q->scale);
        sb_printf(h, "#define %s_%s_%s %d /* %s %s: index into %ss[] */\n", M, kind, N, i, v->name, s,
                  pass ? "output" : "input");
        sb_printf(h, "#define %s_%s_%s_SIZE %lld%s\n", M, kind, N, (long long)numel(e, v->id),
                  is_ids(v) ? " /* int32 token ids */" : "");
        sb_printf(h, "#define %s_%s_%s_SCALE %s\n", M, kind, N, sc);
        free(N);
        free(s);
        free(sc);
      }
    }
    sb_printf(h, "\n/* Runs the model: inputs[k] holds input k's codes (%s_INPUT_<NAME>_SIZE of them),\n"
                 " * outputs[k] receives output k's; the arena holds every intermediate tensor. Returns 0. */\n",
              M);
    sb_printf(h, "int %s_run(const int8_t *const *inputs, int8_t *const *outputs, void *arena);\n", m);
    for (int i = 0; i < g->ninputs; i++)
      sb_printf(h, "void %s_quantize_input_%s(const float *x, int8_t *q);\n", m, e->in_ident[i]);
    for (int i = 0; i < g->noutputs; i++)
      sb_printf(h, "void %s_dequantize_output_%s(const int8_t *q, float *y);\n", m, e->out_ident[i]);
  }
  sb_puts(h, "\n#ifdef __cplusplus\n}\n#endif\n\n");
  sb_printf(h, "#endif /* %s_H */\n", M);
}

/* ----------------------------------------------------------- <model>.c */

static void emit_layer_arrays(const Emit *e, StrBuf *c, const LayerCtx *x) {
  const ILayer *l = x->l;
  if (l->weight && !(e->t->packs_weights && e->t->packs_weights(x))) {
    char *comment;
    const Shape *ys = &val(e, l->out)->shape;
    int64_t dim = ys->rank ? ys->d[ys->rank - 1] : 1;
    if (l->kind == IL_EMBEDDING)
      comment = xformat("embedding table [rows=%lld][dim=%lld], int8 codes at the output's scale",
                        (long long)(dim ? l->weight_count / dim : 0), (long long)dim);
    else if (l->kind == IL_CONV2D || l->kind == IL_CONV_TRANSPOSE2D)
      comment = xformat("weights [out_c=%d][in_c/groups=%d][k_h=%d][k_w=%d], %d-bit codes", l->p.conv.out_c,
                        l->p.conv.in_c / l->p.conv.groups, l->p.conv.k_h, l->p.conv.k_w, l->weight_bits);
    else
      comment = xformat("weights [out=%d][in=%d], %d-bit codes", l->p.lin.out, l->p.lin.in, l->weight_bits);
    if (l->weight_bits < 8) {
      char *packed = xformat("%s, packed: %lld codes in %lld bytes, code e at bits [e*%d, e*%d+%d) "
                             "(shiftc_rt.h, sc_unpack_code)", comment, (long long)l->weight_count,
                             (long long)l->weight_bytes, l->weight_bits, l->weight_bits, l->weight_bits);
      free(comment);
      comment = packed;
    }
    put_i8_array(c, comment, x->weight, l->weight, l->weight_bytes);
    free(comment);
  }
  if (l->out_add)
    put_i32_array(c, "output-domain addend per channel (bias out of bounds, algorithms.md §4), in output codes",
                  x->out_add, l->out_add, l->nch);
  if (l->bias)
    put_i32_array(c, "bias per output channel, at the accumulator's scale s_x * s_w", x->bias, l->bias, l->nch);
  if (l->bias_lshift)
    put_i8_array(c, "left shift of each bias word into the accumulator (bias out of bounds, algorithms.md §4)",
                 x->bias_lshift, l->bias_lshift, l->nch);
  if (x->mult) put_i32_array(c, "dyadic multiplier M0 in [2^30, 2^31): y = rdmulh(acc, M0) >> shift", x->mult, l->mult, l->nch);
  if (x->shift) {
    const char *what = l->kind == IL_CONCAT   ? "per input: shift to the output's scale"
                       : l->kind == IL_MAXPOOL2D ? "identity requantization (unused by max pooling)"
                       : l->nch > 1 ? "requantization shift per output channel (negative: left)"
                                    : "requantization shift (negative: left)";
    put_i8_array(c, what, x->shift, l->shift, l->nch);
  }
  if (l->kind == IL_LUT) {
    char *comment = xformat("y = table[x + 128]: %s at the output's scale, for every input code -128..127",
                            op_table[e->g->nodes[l->node].op].name);
    put_i8_array(c, comment, x->table, l->lut, 256);
    free(comment);
  }
  if (l->kind == IL_CONCAT) put_i32_array(c, "codes each input adds to one block", x->inner, l->cat_inner, l->nin);
  if (l->ln_g) {
    char *cg = xformat("LayerNorm output stage per channel: y = (yn * gamma + beta) >> %d", l->p.ln.shift);
    put_i32_array(c, cg, x->ln_g, l->ln_g, l->nch);
    put_i64_array(c, "beta at the same scale (64-bit: yn * gamma needs more than 32 bits)", x->ln_b, l->ln_b, l->nch);
    free(cg);
  }
}

static void emit_layer(const Emit *e, StrBuf *c, const LayerCtx *x) {
  const ILayer *l = x->l;
  char *title = layer_title(e, l), *summary = layer_summary(e, l);
  sb_printf(c, "/* ---------------------------------------------------------------------------\n"
               " * layer %d: %s\n * %s\n",
            x->index, title, summary);
  for (int k = 0; k < l->nnotes; k++) sb_printf(c, " * %s\n", l->notes[k].text);
  sb_puts(c, " */\n");
  free(title);
  free(summary);
  emit_layer_arrays(e, c, x);
  if (e->t->emit_layer_data) e->t->emit_layer_data(c, x);
  sb_printf(c, "static void %s(", x->fn);
  int nparams = 0;
  for (int k = 0; k < l->nin; k++) {
    if (val(e, l->in[k])->is_const) continue;
    sb_printf(c, "%sconst int8_t *%s", nparams++ ? ", " : "", x->in[k]);
  }
  sb_printf(c, "%sint8_t *%s) {\n", nparams ? ", " : "", x->out);
  e->t->emit_layer(c, x);
  sb_puts(c, "}\n\n");
}

/* Where a non-constant value lives during run: an arena offset or a caller's buffer. */
static void value_place(const Emit *e, int v, int64_t *offset, int *in_idx, int *out_idx) {
  int s = e->p->storage[v];
  *offset = e->p->offset[s];
  *in_idx = *offset >= 0 ? -1 : input_index(e, s);
  *out_idx = *offset >= 0 || *in_idx >= 0 ? -1 : output_index(e, s);
  if (*offset < 0 && *in_idx < 0 && *out_idx < 0)
    internal_error("value '%s' has no place in the arena and is no model input or output", val(e, v)->name);
}

static void emit_run(const Emit *e, StrBuf *c) {
  const IntProgram *p = e->p;
  const Graph *g = e->g;
  if (e->multi)
    sb_printf(c, "int %s_run(const int8_t *const *inputs, int8_t *const *outputs, void *arena) {\n", e->model);
  else
    sb_printf(c, "int %s_run(const int8_t *input, int8_t *output, void *arena) {\n", e->model);
  /* Locals, one per value a layer touches, in the order of first use; arena tensors
   * say which layers their bytes are live in (an alias shares its storage's life). */
  int *first = xmalloc(sizeof(int) * (size_t)g->nvalues), *last = xmalloc(sizeof(int) * (size_t)g->nvalues);
  for (int v = 0; v < g->nvalues; v++) first[v] = last[v] = -1;
  for (int i = 0; i < p->nlayers; i++)
    for (int k = -1; k < p->layers[i].nin; k++) {
      int s = p->storage[k < 0 ? p->layers[i].out : p->layers[i].in[k]];
      if (first[s] < 0) first[s] = i;
      last[s] = i;
    }
  Names names = {0};
  char **local = xcalloc((size_t)g->nvalues, sizeof(char *));
  char **row = xcalloc((size_t)g->nvalues, sizeof(char *)), **note = xcalloc((size_t)g->nvalues, sizeof(char *));
  int *order = xmalloc(sizeof(int) * (size_t)g->nvalues), nrows = 0;
  size_t width = 0;
  StrBuf calls = {0};
  bool uses_arena = false;
  for (int i = 0; i < p->nlayers; i++) {
    const ILayer *l = &p->layers[i];
    const LayerCtx *x = &e->ctx[i];
    for (int k = -1; k < l->nin; k++) {
      int v = k < 0 ? l->out : l->in[k];
      if (val(e, v)->is_const || local[v]) continue;
      local[v] = local_name(&names, val(e, v)->name);
      int64_t off;
      int ii, oi;
      value_place(e, v, &off, &ii, &oi);
      char *shape = shape_text(&val(e, v)->shape);
      int st = p->storage[v];
      if (off >= 0) {
        uses_arena = true;
        row[v] = xformat("int8_t *const %s = mem + %lld;", local[v], (long long)off);
        char *life = first[st] == last[st] ? xformat("layer %d", first[st] + 1)
                                           : xformat("layers %d-%d", first[st] + 1, last[st] + 1);
        if (st != v) note[v] = xformat("%s, the bytes of %s (%s)", shape, val(e, st)->name, life);
        else if (p->in_place_of && p->in_place_of[v] >= 0)
          note[v] = xformat("%s, %lld bytes, live in %s, written over %s in place", shape, (long long)numel(e, v),
                            life, val(e, p->in_place_of[v])->name);
        else note[v] = xformat("%s, %lld bytes, live in %s", shape, (long long)numel(e, v), life);
        free(life);
      } else if (ii >= 0) {
        char *ex = input_expr(e, ii);
        row[v] = xformat("const int8_t *const %s = %s;", local[v], ex);
        note[v] = xformat("%s, the caller's", shape);
        free(ex);
      } else {
        char *ex = output_expr(e, oi);
        row[v] = xformat("int8_t *const %s = %s;", local[v], ex);
        note[v] = xformat("%s, the caller's", shape);
        free(ex);
      }
      free(shape);
      if (strlen(row[v]) > width) width = strlen(row[v]);
      order[nrows++] = v;
    }
    sb_printf(&calls, "  %s(", x->fn);
    int n = 0;
    for (int k = 0; k < l->nin; k++)
      if (!val(e, l->in[k])->is_const) sb_printf(&calls, "%s%s", n++ ? ", " : "", local[l->in[k]]);
    sb_printf(&calls, "%s%s); SC_PROFILE_MARK(%d);\n", n ? ", " : "", local[l->out], i + 1);
  }
  if (uses_arena)
    sb_printf(c, "  int8_t *const mem = (int8_t *)arena; /* %s_ARENA_SIZE bytes, laid out by liveness */\n",
              e->MODEL);
  else
    sb_puts(c, "  (void)arena; /* every tensor lives in the caller's buffers */\n");
  for (int r = 0; r < nrows; r++) {
    int v = order[r];
    sb_printf(c, "  %-*s /* %s */\n", (int)width, row[v], note[v]);
    free(row[v]);
    free(note[v]);
  }
  sb_puts(c, "\n");
  if (calls.len) sb_puts(c, "  SC_PROFILE_MARK(0); /* -DSC_PROFILE times each layer: shiftc_rt.h */\n");
  if (calls.len) sb_puts(c, calls.data);
  free(first);
  free(last);
  free(row);
  free(note);
  free(order);
  /* An output whose bytes are an input's, or another output's, is a copy. */
  for (int j = 0; j < g->noutputs; j++) {
    int v = g->outputs[j], s = p->storage[v];
    int ii = input_index(e, s), oi = output_index(e, s);
    if (ii < 0 && oi == j) continue;
    char *dst = output_expr(e, j), *src = ii >= 0 ? input_expr(e, ii) : output_expr(e, oi);
    sb_printf(c, "  memcpy(%s, %s, %lld); /* %s: the same codes as %s */\n", dst, src, (long long)numel(e, v),
              val(e, v)->name, ii >= 0 ? val(e, g->inputs[ii])->name : val(e, g->outputs[oi])->name);
    free(dst);
    free(src);
  }
  sb_puts(c, "  return 0;\n}\n\n");
  sb_free(&calls);
  sb_printf(c, "#ifdef SC_PROFILE\n/* The layers' names for a profile (-DSC_PROFILE; see shiftc_rt.h). */\n"
               "const sc_layer_info %s_layers[%s_LAYER_COUNT] = {\n", e->model, e->MODEL);
  for (int i = 0; i < p->nlayers; i++)
    sb_printf(c, "    {\"%s\", \"%s\", %lldLL},\n", e->ctx[i].fn, il_kernel_name(&p->layers[i]),
              (long long)p->layers[i].macs);
  sb_puts(c, "};\n#endif\n\n");
}

static void emit_edges(const Emit *e, StrBuf *c) {
  const Graph *g = e->g;
  for (int i = 0; i < g->ninputs; i++) {
    const Value *v = val(e, g->inputs[i]);
    char *inv = float_literal((float)(1.0 / v->q->scale));
    char *fn = e->multi ? xformat("%s_quantize_input_%s", e->model, e->in_ident[i])
                        : xformat("%s_quantize_input", e->model);
    char *N = e->multi ? xformat("%s_INPUT_%s", e->MODEL, e->in_ident[i]) : xformat("%s_INPUT", e->MODEL);
    char *NU = upper(N);
    if (is_ids(v)) {
      sb_printf(c, "/* Float ids to int32 (sc_id_from_f32: nearest, halves up), as `shiftc run --int`;\n"
                   " * q receives %s_SIZE int32_t in native byte order. */\n", NU);
      sb_printf(c, "void %s(const float *x, int8_t *q) {\n", fn);
      sb_printf(c, "  for (size_t i = 0; i < %s_SIZE; i++) {\n    const int32_t id = sc_id_from_f32(x[i]);\n"
                   "    memcpy(q + i * sizeof id, &id, sizeof id);\n  }\n}\n\n", NU);
      free(inv);
      free(fn);
      free(N);
      free(NU);
      continue;
    }
    sb_printf(c, "/* 1 / %s_SCALE, rounded to float once: what `shiftc run --int` multiplies by. */\n", NU);
    sb_printf(c, "#define %s_INV_SCALE %s\n\n", NU, inv);
    sb_printf(c, "void %s(const float *x, int8_t *q) {\n", fn);
    sb_printf(c, "  for (size_t i = 0; i < %s_SIZE; i++) q[i] = sc_quantize_f32(x[i], %s_INV_SCALE);\n}\n\n", NU, NU);
    free(inv);
    free(fn);
    free(N);
    free(NU);
  }
  for (int i = 0; i < g->noutputs; i++) {
    char *fn = e->multi ? xformat("%s_dequantize_output_%s", e->model, e->out_ident[i])
                        : xformat("%s_dequantize_output", e->model);
    char *N = e->multi ? xformat("%s_OUTPUT_%s", e->MODEL, e->out_ident[i]) : xformat("%s_OUTPUT", e->MODEL);
    char *NU = upper(N);
    sb_printf(c, "void %s(const int8_t *q, float *y) {\n", fn);
    sb_printf(c, "  for (size_t i = 0; i < %s_SIZE; i++) y[i] = (float)q[i] * %s_SCALE;\n}\n\n", NU, NU);
    free(fn);
    free(N);
    free(NU);
  }
}

static void emit_source(const Emit *e, StrBuf *c) {
  const IntProgram *p = e->p;
  const Graph *g = e->g;
  const Config *cfg = p->cfg;
  sb_printf(c, "/* %s.c — generated by shiftc %s from %s: the integer program, target %s\n", e->model,
            SHIFTC_VERSION, e->source, e->t->name);
  sb_printf(c, " * (%s).\n", e->t->description);
  sb_printf(c, " * requantize: %s; weights %d-bit %s; activations %d-bit; bias %d-bit;\n",
            requant_mode_name(cfg->requantize), cfg->weight_bits,
            cfg->granularity == GRAN_PER_CHANNEL ? "per-channel" : "per-tensor", cfg->act_bits, cfg->bias_bits);
  sb_printf(c, " * calibration: %s over %d samples.\n", calib_method_name(cfg->calib_method), p->calib_samples);
  sb_printf(c, " * %d layers; arena %lld bytes (lower bound %lld; the tensors' sum %lld).\n", p->nlayers,
            (long long)p->arena_bytes, (long long)p->lower_bound, (long long)p->sum_bytes);
  sb_printf(c, " * Each layer calls the runtime kernel `shiftc run --int` calls, with the same\n"
               " * parameters, so the two agree bit for bit. */\n");
  sb_printf(c, "#include <stddef.h>\n#include <stdint.h>\n#include <string.h>\n\n#include \"shiftc_rt.h\"\n");
  if (e->t->includes) sb_puts(c, e->t->includes);
  sb_printf(c, "#include \"%s.h\"\n\n", e->model);
  bool any_const = false;
  for (int v = 0; v < g->nvalues; v++) {
    if (!e->const_arr[v]) continue;
    if (!any_const) sb_puts(c, "/* Constant operands, quantized once at compile time. */\n");
    any_const = true;
    const Value *cv = val(e, v);
    int64_t n = numel(e, v);
    int8_t *codes = xmalloc((size_t)(n ? n : 1));
    quantize_values(cv->q, cv->data, codes, n); /* exactly as interp_int.c's operand() */
    char *s = shape_text(&cv->shape), *sc = scale_text(cv->q);
    char *comment = xformat("%s %s at scale %s", cv->name, s, sc);
    put_i8_array(c, comment, e->const_arr[v], codes, n);
    sb_putc(c, '\n');
    free(codes);
    free(s);
    free(sc);
    free(comment);
  }
  for (int i = 0; i < p->nlayers; i++) emit_layer(e, c, &e->ctx[i]);
  sb_puts(c, "/* ---------------------------------------------------------------------------\n"
             " * The model: the layers in order, each tensor at its place. */\n");
  emit_run(e, c);
  emit_edges(e, c);
}

/* ---------------------------------------------------- goldens and the test */

static void emit_golden(const Emit *e, StrBuf *c, const Samples *src, int n) {
  const IntProgram *p = e->p;
  const Graph *g = e->g;
  const char *m = e->model, *M = e->MODEL;
  int8_t **in = xcalloc((size_t)g->ninputs, sizeof(int8_t *));
  int8_t **out = xcalloc((size_t)g->noutputs, sizeof(int8_t *));
  for (int k = 0; k < g->ninputs; k++) in[k] = xmalloc((size_t)(value_code_bytes(val(e, g->inputs[k])) * (n ? n : 1)));
  for (int k = 0; k < g->noutputs; k++) out[k] = xmalloc((size_t)(numel(e, g->outputs[k]) * (n ? n : 1)));
  IntRun *r = n ? int_run_new(p) : NULL;
  const int8_t **one = xcalloc((size_t)g->ninputs, sizeof(int8_t *));
  for (int i = 0; i < n; i++) {
    for (int k = 0; k < g->ninputs; k++) {
      int64_t per = numel(e, g->inputs[k]);
      if (src[k].per_sample != per) internal_error("golden samples of input %d have %lld values, not %lld", k,
                                                   (long long)src[k].per_sample, (long long)per);
      int64_t bytes = value_code_bytes(val(e, g->inputs[k]));
      quantize_values(val(e, g->inputs[k])->q, src[k].data + (size_t)i * (size_t)per, in[k] + i * bytes, per);
      one[k] = in[k] + i * bytes;
    }
    int_run(r, one);
    for (int k = 0; k < g->noutputs; k++) {
      int64_t per = numel(e, g->outputs[k]);
      memcpy(out[k] + i * per, r->buf[g->outputs[k]], (size_t)per);
    }
  }
  if (r) int_run_free(r);
  sb_printf(c, "/* %s_golden.c — generated by shiftc %s: %d golden input/output pairs. The inputs are\n"
               " * the first %d calibration samples quantized at the input scale (the float samples\n"
               " * are stored too); the outputs are what `shiftc run --int` computes from them.\n"
               " * %s_test.c checks %s_run against them. */\n",
            m, SHIFTC_VERSION, n, n, m, m);
  sb_printf(c, "#include <stdint.h>\n\n#include \"%s.h\"\n\n", m);
  sb_printf(c, "#define %s_GOLDEN_COUNT %d\n\n", M, n);
  sb_printf(c, "extern const int %s_golden_count; /* as %s_test.c declares it */\n", m, m);
  sb_printf(c, "const int %s_golden_count = %s_GOLDEN_COUNT;\n\n", m, M);
  for (int pass = 0; pass < 2; pass++) {
    int cnt = pass ? g->noutputs : g->ninputs;
    for (int k = 0; k < cnt; k++) {
      int v = pass ? g->outputs[k] : g->inputs[k];
      int64_t per = numel(e, v);
      const char *kind = pass ? "output" : "input";
      char *arr = e->multi ? xformat("%s_golden_%s_%s", m, kind, pass ? e->out_ident[k] : e->in_ident[k])
                           : xformat("%s_golden_%s", m, kind);
      char *size = e->multi ? xformat("%s_%s_%s_SIZE", M, pass ? "OUTPUT" : "INPUT",
                                      pass ? e->out_ident[k] : e->in_ident[k])
                            : xformat("%s_%s_SIZE", M, pass ? "OUTPUT" : "INPUT");
      char *SZ = upper(size);
      bool ids = is_ids(val(e, v));
      const char *type = ids ? "int32_t" : "int8_t";
      if (ids) sb_printf(c, "/* %s %s: int32 token ids */\n", kind, val(e, v)->name);
      else sb_printf(c, "/* %s %s: codes at scale %.9g */\n", kind, val(e, v)->name, val(e, v)->q->scale);
      sb_printf(c, "extern const %s %s[][%s];\n", type, arr, SZ);
      if (n == 0) {
        sb_printf(c, "const %s %s[1][%s] = {{0}}; /* no goldens (golden: 0): one row of zeros */\n\n", type, arr, SZ);
      } else {
        sb_printf(c, "const %s %s[%s_GOLDEN_COUNT][%s] = {\n", type, arr, M, SZ);
        const int8_t *data = pass ? out[k] : in[k];
        for (int i = 0; i < n; i++) {
          sb_printf(c, "  { /* golden %d */\n", i);
          if (ids) put_id_rows(c, data + i * per * (int64_t)sizeof(int32_t), per, "    ");
          else put_i8_rows(c, data + i * per, per, "    ");
          sb_puts(c, "  },\n");
        }
        sb_puts(c, "};\n\n");
      }
      free(arr);
      free(size);
      free(SZ);
    }
  }
  /* The float samples themselves, so the test also checks <model>_quantize_input. */
  for (int k = 0; k < g->ninputs; k++) {
    int v = g->inputs[k];
    int64_t per = numel(e, v);
    char *arr = e->multi ? xformat("%s_golden_input_%s_f32", m, e->in_ident[k]) : xformat("%s_golden_input_f32", m);
    char *size = e->multi ? xformat("%s_INPUT_%s_SIZE", M, e->in_ident[k]) : xformat("%s_INPUT_SIZE", M);
    char *SZ = upper(size);
    sb_printf(c, "/* input %s: the float samples the codes above were quantized from */\n", val(e, v)->name);
    sb_printf(c, "extern const float %s[][%s];\n", arr, SZ);
    if (n == 0) {
      sb_printf(c, "const float %s[1][%s] = {{0.0f}}; /* no goldens (golden: 0) */\n\n", arr, SZ);
    } else {
      sb_printf(c, "const float %s[%s_GOLDEN_COUNT][%s] = {\n", arr, M, SZ);
      for (int i = 0; i < n; i++) {
        sb_printf(c, "  { /* golden %d */\n", i);
        const float *x = src[k].data + (size_t)i * (size_t)per;
        for (int64_t j = 0; j < per; j++) {
          if (!isfinite(x[j]))
            error_cli("golden sample %d of input '%s' holds %s at element %lld: goldens need finite "
                      "data (fix the calibration data, or set golden: 0)",
                      i, val(e, v)->name, isnan(x[j]) ? "a NaN" : "an infinity", (long long)j);
          char *lit = float_literal(x[j]);
          sb_printf(c, "%s%s,%s", j % 8 == 0 ? "    " : " ", lit, j % 8 == 7 || j == per - 1 ? "\n" : "");
          free(lit);
        }
        sb_puts(c, "  },\n");
      }
      sb_puts(c, "};\n\n");
    }
    free(arr);
    free(size);
    free(SZ);
  }
  for (int k = 0; k < g->ninputs; k++) free(in[k]);
  for (int k = 0; k < g->noutputs; k++) free(out[k]);
  free(in);
  free(out);
  free(one);
}

/* The test's profile mode (-DSC_PROFILE, `make profile`, `shiftc verify --profile`):
 * after the goldens pass, the run function is timed over them for a while, each layer's
 * share by the run function's marks, and one line per layer is printed for verify to
 * read: "profile layer <i> <name> <kernel> <ns per run> <macs>". Process CPU time, so a
 * loaded machine's waits do not count. */
static void emit_test_profile(const Emit *e, StrBuf *c) {
  const char *m = e->model, *M = e->MODEL;
  sb_printf(c, "#if defined(SC_PROFILE) && %s_LAYER_COUNT > 0\n#include <time.h>\n\n#include \"shiftc_rt.h\"\n\n", M);
  sb_printf(c, "extern const sc_layer_info %s_layers[%s_LAYER_COUNT];\n", m, M);
  sb_printf(c, "static double layer_ns[%s_LAYER_COUNT], last_mark;\n\n", M);
  sb_puts(c, "static double now_ns(void) {\n  struct timespec t;\n  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);\n"
             "  return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;\n}\n\n");
  sb_puts(c, "void sc_profile_mark(int layer) {\n  const double t = now_ns();\n"
             "  if (layer > 0) layer_ns[layer - 1] += t - last_mark;\n  last_mark = t;\n}\n\n");
  sb_puts(c, "/* Runs the goldens' inputs round robin for at least ms milliseconds (after one warm-up\n"
             " * round), then prints each layer's time per run. */\n");
  sb_puts(c, "static void profile(int count, double ms) {\n");
  sb_puts(c, "  for (int i = 0; i < count; i++) run_golden(i);\n");
  sb_puts(c, "  memset(layer_ns, 0, sizeof layer_ns);\n");
  sb_puts(c, "  long runs = 0;\n  const double start = now_ns();\n");
  sb_puts(c, "  do\n    for (int i = 0; i < 16; i++, runs++) run_golden((int)(runs % count));\n"
             "  while (now_ns() - start < ms * 1e6);\n");
  sb_puts(c, "  printf(\"profile runs %ld ns_per_run %.1f\\n\", runs, (now_ns() - start) / (double)runs);\n");
  sb_printf(c, "  for (int i = 0; i < %s_LAYER_COUNT; i++)\n", M);
  sb_printf(c, "    printf(\"profile layer %%d %%s %%s %%.1f %%lld\\n\", i + 1, %s_layers[i].name, %s_layers[i].kernel,\n"
               "           layer_ns[i] / (double)runs, %s_layers[i].macs);\n}\n",
            m, m, m);
  sb_printf(c, "#elif defined(SC_PROFILE)\n"
               "void sc_profile_mark(int layer) { (void)layer; }\n"
               "static void profile(int count, double ms) {\n  (void)count, (void)ms;\n"
               "  printf(\"profile runs 0 ns_per_run 0\\n\");\n}\n");
  sb_puts(c, "#endif\n\n");
}

static void emit_test(const Emit *e, StrBuf *c) {
  const Graph *g = e->g;
  const char *m = e->model, *M = e->MODEL;
  sb_printf(c, "/* %s_test.c — generated by shiftc %s: for every golden, checks that the float\n"
               " * sample quantizes to the stored input codes, runs %s_run on those codes and\n"
               " * compares the output with the stored one, bit for bit. Before each run the arena\n"
               " * is filled with a pattern, so a layer reading bytes no layer wrote would show.\n"
               " * Prints one line per golden and `N/N goldens bit-exact`; exit 0 iff all match. */\n",
            m, SHIFTC_VERSION, m);
  sb_puts(c, "#ifdef SC_PROFILE /* the profile's clock: POSIX clock_gettime */\n#define _POSIX_C_SOURCE 200809L\n#endif\n");
  sb_printf(c, "#include <stdint.h>\n#include <stdio.h>\n#include <stdlib.h>\n#include <string.h>\n\n#include \"%s.h\"\n\n", m);
  sb_printf(c, "extern const int %s_golden_count;\n", m);
  /* Per input and output: the golden arrays, the buffer the test fills, its size,
   * its name for messages, and (inputs) the float samples and the quantize helper. */
  int nio = g->ninputs + g->noutputs;
  char **arr = xcalloc((size_t)nio, sizeof(char *)), **buf = xcalloc((size_t)nio, sizeof(char *));
  char **size = xcalloc((size_t)nio, sizeof(char *)), **f32 = xcalloc((size_t)nio, sizeof(char *));
  char **quant = xcalloc((size_t)nio, sizeof(char *));
  /* An id input's arrays are int32_t: the checks compare its bytes, the run gets it as
   * the API's const int8_t *. */
  bool *ids = xcalloc((size_t)nio, sizeof(bool));
  for (int k = 0; k < g->ninputs; k++) ids[k] = is_ids(val(e, g->inputs[k]));
  for (int k = 0; k < nio; k++) {
    bool is_out = k >= g->ninputs;
    int idx = is_out ? k - g->ninputs : k;
    const char *id = is_out ? e->out_ident[idx] : e->in_ident[idx];
    const char *kind = is_out ? "output" : "input";
    char *SZ = e->multi ? xformat("%s_%s_%s_SIZE", M, is_out ? "OUTPUT" : "INPUT", id)
                        : xformat("%s_%s_SIZE", M, is_out ? "OUTPUT" : "INPUT");
    size[k] = upper(SZ);
    free(SZ);
    arr[k] = e->multi ? xformat("%s_golden_%s_%s", m, kind, id) : xformat("%s_golden_%s", m, kind);
    buf[k] = e->multi ? xformat("%s_%s", is_out ? "output" : "codes", id) : xstrdup(is_out ? "output" : "codes");
    sb_printf(c, "extern const %s %s[][%s];\n", ids[k] ? "int32_t" : "int8_t", arr[k], size[k]);
    if (!is_out) {
      f32[k] = e->multi ? xformat("%s_golden_input_%s_f32", m, id) : xformat("%s_golden_input_f32", m);
      quant[k] = e->multi ? xformat("%s_quantize_input_%s", m, id) : xformat("%s_quantize_input", m);
      sb_printf(c, "extern const float %s[][%s];\n", f32[k], size[k]);
    }
  }
  sb_printf(c, "\n/* static: no stack needed for the tensors; the union aligns the arena for any use. */\n");
  sb_printf(c, "static union {\n  int8_t bytes[%s_ARENA_SIZE];\n  uint64_t align;\n} arena;\n", M);
  for (int k = 0; k < nio; k++) sb_printf(c, "static %s %s[%s];\n", ids[k] ? "int32_t" : "int8_t", buf[k], size[k]);
  sb_puts(c, "\n/* The first byte where got and want differ, or -1. */\n"
             "static long first_difference(const int8_t *got, const int8_t *want, long n) {\n"
             "  for (long j = 0; j < n; j++)\n"
             "    if (got[j] != want[j]) return j;\n"
             "  return -1;\n}\n\n");
  /* One check: a buffer against its golden row; on a difference, one line. */
  sb_puts(c, "static int same(int i, const char *what, const int8_t *got, const int8_t *want, long n) {\n"
             "  long j = first_difference(got, want, n);\n"
             "  if (j < 0) return 1;\n"
             "  printf(\"golden %d: MISMATCH%s at byte %ld: got %d, expected %d\\n\", i, what, j, got[j], want[j]);\n"
             "  return 0;\n}\n\n");
  /* One run on golden i's stored input codes, into the output buffers. */
  sb_puts(c, "static int run_golden(int i) {\n");
  if (!e->multi) {
    sb_printf(c, "  return %s_run(%s%s[i], %s, arena.bytes);\n", m, ids[0] ? "(const int8_t *)" : "", arr[0], buf[1]);
  } else {
    sb_printf(c, "  const int8_t *inputs[%s_NUM_INPUTS] = {", M);
    for (int k = 0; k < g->ninputs; k++) sb_printf(c, "%s%s%s[i]", k ? ", " : "", ids[k] ? "(const int8_t *)" : "", arr[k]);
    sb_printf(c, "};\n  int8_t *outputs[%s_NUM_OUTPUTS] = {", M);
    for (int k = g->ninputs; k < nio; k++) sb_printf(c, "%s%s", k > g->ninputs ? ", " : "", buf[k]);
    sb_printf(c, "};\n  return %s_run(inputs, outputs, arena.bytes);\n", m);
  }
  sb_puts(c, "}\n\n");
  emit_test_profile(e, c);
  sb_printf(c, "int main(int argc, char **argv) {\n  int passed = 0;\n  (void)argc, (void)argv;\n");
  sb_printf(c, "  const int count = %s_golden_count;\n", m);
  sb_printf(c, "  if (count == 0)\n    printf(\"%s: no goldens stored (golden: 0 in the configuration): nothing to "
               "check\\n\");\n",
            m);
  sb_puts(c, "  for (int i = 0; i < count; i++) {\n    int ok = 1;\n");
  sb_puts(c, "    /* The float sample quantizes to the stored codes, as in `shiftc run --int`. */\n");
  for (int k = 0; k < g->ninputs; k++) {
    if (ids[k]) {
      sb_printf(c, "    %s(%s[i], (int8_t *)%s);\n", quant[k], f32[k], buf[k]);
      sb_printf(c, "    ok = ok && same(i, \" in %s\", (const int8_t *)%s, (const int8_t *)%s[i], 4L * %s);\n",
                quant[k], buf[k], arr[k], size[k]);
      continue;
    }
    sb_printf(c, "    %s(%s[i], %s);\n", quant[k], f32[k], buf[k]);
    sb_printf(c, "    ok = ok && same(i, \" in %s\", %s, %s[i], %s);\n", quant[k], buf[k], arr[k], size[k]);
  }
  sb_puts(c, "    memset(arena.bytes, 0xA5, sizeof arena.bytes);\n");
  sb_puts(c, "    int status = run_golden(i);\n");
  sb_puts(c, "    if (ok && status != 0) {\n      printf(\"golden %d: run returned %d\\n\", i, status);\n"
             "      ok = 0;\n    }\n");
  for (int k = g->ninputs; k < nio; k++) {
    char *what = e->multi ? xformat(" of output %s", val(e, g->outputs[k - g->ninputs])->name) : xstrdup("");
    sb_printf(c, "    ok = ok && same(i, \"%s\", %s, %s[i], %s);\n", what, buf[k], arr[k], size[k]);
    free(what);
  }
  sb_puts(c, "    if (ok) {\n      printf(\"golden %d: ok\\n\", i);\n      passed++;\n    }\n  }\n");
  sb_puts(c, "  printf(\"%d/%d goldens bit-exact\\n\", passed, count);\n");
  sb_puts(c, "#ifdef SC_PROFILE\n  if (passed == count && count > 0) profile(count, argc > 1 ? atof(argv[1]) : 500.0);\n#endif\n");
  sb_puts(c, "  return passed == count ? 0 : 1;\n}\n");
  for (int k = 0; k < nio; k++) {
    free(arr[k]);
    free(buf[k]);
    free(size[k]);
    free(f32[k]);
    free(quant[k]);
  }
  free(arr);
  free(buf);
  free(size);
  free(f32);
  free(quant);
  free(ids);
}

static void emit_makefile(const Emit *e, StrBuf *mk, char **rt, int nrt) {
  const char *m = e->model;
  sb_printf(mk, "# Makefile — generated by shiftc %s for %s (target %s).\n", SHIFTC_VERSION, m, e->t->name);
  sb_printf(mk, "# Builds the golden test %s_test from the C in this folder; nothing else is needed.\n", m);
  sb_puts(mk, "#   make                 build with $(CC) (cc by default)\n");
  sb_printf(mk, "#   make test            build and run ./%s_test (exit 0: every golden bit-exact)\n", m);
  sb_puts(mk, "#   make CROSS=aarch64-linux-gnu-            cross-compile with aarch64-linux-gnu-gcc;\n"
              "#        then run it with `make test RUN=qemu-aarch64` (or on the board)\n"
              "#   make CC=\"clang --target=aarch64-linux-gnu\"\n"
              "#   make CFLAGS=\"...\"    replaces the default flags (the target's flags stay)\n"
              "# To use the model in another build, compile "
              "the .c files here except the _golden and _test ones.\n\n");
  sb_puts(mk, "CC ?= cc\nifneq ($(CROSS),)\nCC := $(CROSS)gcc\nendif\n");
  sb_puts(mk, "CFLAGS ?= -std=c99 -O2 -Wall -Wextra -pedantic\n");
  if (e->t->makefile_vars) sb_puts(mk, e->t->makefile_vars);
  sb_printf(mk, "TARGET_CFLAGS =%s%s\nLDFLAGS ?=\nRUN ?=\n\n", e->t->cflags && *e->t->cflags ? " " : "",
            e->t->cflags ? e->t->cflags : "");
  sb_printf(mk, "MODEL = %s\n", m);
  sb_printf(mk, "SRCS = %s.c", m);
  for (int i = 0; i < nrt; i++)
    if (ends_with(rt[i], ".c")) sb_printf(mk, " %s", base_name(rt[i]));
  sb_printf(mk, "\nTEST_SRCS = %s_golden.c %s_test.c\n", m, m);
  sb_printf(mk, "HDRS = %s.h", m);
  for (int i = 0; i < nrt; i++)
    if (ends_with(rt[i], ".h")) sb_printf(mk, " %s", base_name(rt[i]));
  sb_puts(mk, "\n\n.PHONY: all test profile clean\n\nall: $(MODEL)_test\n\n");
  sb_puts(mk, "$(MODEL)_test: $(SRCS) $(TEST_SRCS) $(HDRS)\n"
              "\t$(CC) $(CFLAGS) $(TARGET_CFLAGS) -I. -o $@ $(SRCS) $(TEST_SRCS) $(LDFLAGS)\n\n");
  sb_puts(mk, "test: $(MODEL)_test\n\t$(RUN) ./$(MODEL)_test\n\n");
  sb_puts(mk, "# make profile: the test built with -DSC_PROFILE; after the goldens it times every layer\n"
              "# (PROFILE_MS milliseconds of runs; shiftc verify --profile puts the table in the report)\n");
  sb_puts(mk, "PROFILE_MS ?= 500\n");
  sb_puts(mk, "$(MODEL)_profile: $(SRCS) $(TEST_SRCS) $(HDRS)\n"
              "\t$(CC) $(CFLAGS) $(TARGET_CFLAGS) -DSC_PROFILE -I. -o $@ $(SRCS) $(TEST_SRCS) $(LDFLAGS)\n\n");
  sb_puts(mk, "profile: $(MODEL)_profile\n\t$(RUN) ./$(MODEL)_profile $(PROFILE_MS)\n\n");
  sb_puts(mk, "clean:\n\trm -f $(MODEL)_test $(MODEL)_profile *.o\n");
  if (e->t->makefile_rules) {
    sb_putc(mk, '\n');
    sb_puts(mk, e->t->makefile_rules);
  }
}

/* ------------------------------------------------------------------- entry */

void emit_c(const IntProgram *p, const Target *t, const char *outdir, const Samples *golden_src, int golden_n) {
  if (!t) internal_error("emit_c: no target");
  const Graph *g = p->g;
  Emit e = {0};
  e.p = p;
  e.g = g;
  e.t = t;
  e.model = c_ident(g->name);
  e.MODEL = upper(e.model);
  const char *base = strrchr(g->source ? g->source : g->name, '/');
  e.source = xstrdup(base ? base + 1 : g->source ? g->source : g->name);
  e.multi = g->ninputs != 1 || g->noutputs != 1;
  Names io = {0};
  e.in_ident = xcalloc((size_t)g->ninputs + 1, sizeof(char *));
  e.out_ident = xcalloc((size_t)g->noutputs + 1, sizeof(char *));
  for (int i = 0; i < g->ninputs; i++) e.in_ident[i] = io_ident(&io, g->values[g->inputs[i]].name);
  for (int i = 0; i < g->noutputs; i++) {
    const Value *v = &g->values[g->outputs[i]];
    if (v->is_const) error_at(v->loc, "output '%s' is a constant: nothing to compute", v->name);
    e.out_ident[i] = io_ident(&io, v->name);
  }
  /* Constant operands of the layers get a static array each. */
  Names globals = {0};
  e.const_arr = xcalloc((size_t)g->nvalues, sizeof(char *));
  for (int i = 0; i < p->nlayers; i++)
    for (int k = 0; k < p->layers[i].nin; k++) {
      int v = p->layers[i].in[k];
      if (!g->values[v].is_const || e.const_arr[v]) continue;
      if (!g->values[v].q || !g->values[v].data)
        internal_error("constant operand '%s' has no quantization", g->values[v].name);
      char *id = c_ident(g->values[v].name);
      char *base_name = xformat("const_%s", id);
      e.const_arr[v] = names_unique(&globals, base_name);
      free(id);
      free(base_name);
    }
  name_layers(&e);
  for (int i = 0; i < p->nlayers && t->cannot_emit; i++) {
    const char *why = t->cannot_emit(&e.ctx[i]);
    const Node *nd = &g->nodes[p->layers[i].node];
    if (why) error_at(nd->loc, "target '%s' cannot compile '%s' (%s): %s", t->name, nd->name, op_table[nd->op].name, why);
  }

  int n = golden_n;
  if (n > 0 && !golden_src) internal_error("emit_c: %d goldens asked, no samples given", n);
  if (n > 0 && golden_src[0].n < n) {
    fprintf(stderr, "shiftc: note: %d goldens asked, the data holds %d samples: writing %d\n", n, golden_src[0].n,
            golden_src[0].n);
    n = golden_src[0].n;
  }

  int nrt;
  char *rtdir;
  char **rt = list_runtime(t, &rtdir, &nrt);
  char *hname = xformat("%s.h", e.model), *cname = xformat("%s.c", e.model);
  char *gname = xformat("%s_golden.c", e.model), *tname = xformat("%s_test.c", e.model);
  for (int i = 0; i < nrt; i++)
    if (!strcmp(base_name(rt[i]), hname) || !strcmp(base_name(rt[i]), cname) || !strcmp(base_name(rt[i]), gname) ||
        !strcmp(base_name(rt[i]), tname))
      error_cli("the model's name '%s' would make its %s overwrite the runtime's; rename the model "
                "(the `model` line of %s)", e.model, base_name(rt[i]), e.source);

  mkdir_p(outdir);
  copy_runtime(rtdir, rt, nrt, outdir);
  StrBuf h = {0}, c = {0}, gold = {0}, test = {0}, mk = {0};
  emit_header(&e, &h);
  emit_source(&e, &c);
  emit_golden(&e, &gold, golden_src, n);
  emit_test(&e, &test);
  emit_makefile(&e, &mk, rt, nrt);
  write_out(outdir, hname, &h);
  write_out(outdir, cname, &c);
  write_out(outdir, gname, &gold);
  write_out(outdir, tname, &test);
  write_out(outdir, "Makefile", &mk);
  sb_free(&h);
  sb_free(&c);
  sb_free(&gold);
  sb_free(&test);
  sb_free(&mk);
}
