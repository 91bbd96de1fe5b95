/* config.c — the YAML configuration (interfaces.md §3).
 *
 * The file is loaded whole with libyaml's document API, then walked against a schema
 * written as tables: each section is a list of keys, and each key has a kind (a
 * sub-section, an integer, a number, a string, a choice, or the `layers` map), the
 * rule its value must satisfy, and a setter that stores it. Adding a key is one table
 * row and one setter; the checks and their messages are shared by every key.
 *
 * Every problem is a user error at the offending node: the key for an unknown or
 * duplicate key, the value for a bad value. Messages name the key by its dotted path
 * (`quantization.calibration.samples`) so that they read the same wherever it sits.
 *
 * Choices made here where the design leaves room:
 *   - A section written with nothing under it (`calibration:` or `~`) is an empty
 *     section, not an error: commenting out every key of a section must not break
 *     the file. A scalar that wants a value (`bits:` alone) is an error.
 *   - Scalars are judged by their text, quoted or not, and tags are ignored: `"8"`
 *     is the integer 8 and `data: 123` is the path "123".
 *   - libyaml errors read `YAML syntax error: PROBLEM`, followed by
 *     ` (CONTEXT started at line N)` when libyaml names the construct it was in, e.g.
 *     `YAML syntax error: did not find expected ',' or '}' (while parsing a flow
 *     mapping started at line 3)`. The problem comes first because it is what the
 *     caret points at.
 *   - A second document in the file (`---` twice) is an error rather than ignored.
 *   - config_load() overlays the file onto what `c` already holds, so the caller
 *     starts from config_defaults(); `layers:` entries are appended in file order.
 *     Strings it replaces are not freed: the caller may have set them from argv.
 */
#define _POSIX_C_SOURCE 200809L
#include "shiftc.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

/* ------------------------------------------------------------ enum names */

/* Each list is in the order of its enum, so a choice's index is its enum value. */
static const char *const targets[] = {"scalar", "neon", "neon-dotprod", "avx2",
                                      "avx2-vnni", "avx512-vnni", NULL};
static const char *const granularities[] = {"per-channel", "per-tensor", NULL};
static const char *const requant_modes[] = {"shift", "dyadic", NULL};
static const char *const calib_methods[] = {"max", "percentile", "mse", "entropy", NULL};
static const char *const gelu_impls[] = {"i-gelu", "table", NULL};
static const char *const softmax_impls[] = {"i-exp", NULL};
static const char *const layernorm_impls[] = {"i-sqrt", "l1", NULL};
static const char *const bias_fixes[] = {"on", "enlarge", "off", NULL};

#define NCHOICES(a) ((int)(sizeof(a) / sizeof((a)[0])) - 1)
_Static_assert(NCHOICES(granularities) == GRAN_PER_TENSOR + 1, "granularities vs Granularity");
_Static_assert(NCHOICES(requant_modes) == REQ_DYADIC + 1, "requant_modes vs RequantMode");
_Static_assert(NCHOICES(calib_methods) == CAL_ENTROPY + 1, "calib_methods vs CalibMethod");
_Static_assert(NCHOICES(gelu_impls) == IGELU_TABLE + 1, "gelu_impls vs GeluImpl");
_Static_assert(NCHOICES(softmax_impls) == ISOFTMAX_I_EXP + 1, "softmax_impls vs SoftmaxImpl");
_Static_assert(NCHOICES(layernorm_impls) == ILAYERNORM_L1 + 1, "layernorm_impls vs LayerNormImpl");
_Static_assert(NCHOICES(bias_fixes) == BIASFIX_OFF + 1, "bias_fixes vs BiasFixMode");

const char *bias_fix_name(BiasFixMode m) {
  if ((int)m < 0 || (int)m >= NCHOICES(bias_fixes)) internal_error("bias_fix_name: bad mode %d", (int)m);
  return bias_fixes[m];
}

bool bias_fix_parse(const char *s, BiasFixMode *m) {
  for (int i = 0; bias_fixes[i]; i++)
    if (strcmp(s, bias_fixes[i]) == 0) {
      *m = (BiasFixMode)i;
      return true;
    }
  return false;
}

const char *calib_method_name(CalibMethod m) {
  if ((int)m < 0 || (int)m >= NCHOICES(calib_methods))
    internal_error("calib_method_name: bad method %d", (int)m);
  return calib_methods[m];
}

const char *requant_mode_name(RequantMode m) {
  if ((int)m < 0 || (int)m >= NCHOICES(requant_modes))
    internal_error("requant_mode_name: bad mode %d", (int)m);
  return requant_modes[m];
}

void config_defaults(Config *c) {
  memset(c, 0, sizeof *c);
  c->path = NULL;
  c->target = xstrdup("scalar");
  c->target_loc = loc_make(NULL, 0, 0);
  c->weight_bits = 8;
  c->granularity = GRAN_PER_CHANNEL;
  c->act_bits = 8;
  c->requantize = REQ_SHIFT;
  c->bias_bits = 32;
  c->calib_method = CAL_PERCENTILE;
  c->percentile = 99.99;
  c->calib_data = NULL;
  c->calib_data_loc = loc_make(NULL, 0, 0);
  c->calib_samples = 256;
  c->gelu = IGELU_I_GELU;
  c->softmax = ISOFTMAX_I_EXP;
  c->layernorm = ILAYERNORM_I_SQRT;
  c->bias_fix = BIASFIX_ON;
  c->layers = NULL;
  c->nlayers = 0;
  c->golden = 0;
}

/* ---------------------------------------------------------- the schema */

typedef struct Loader {
  const char *file; /* lives as long as the Config: SrcLocs point at it */
  yaml_document_t doc;
} Loader;

/* A checked value, as a setter receives it. */
typedef struct Scalar {
  long long i;   /* F_INT */
  double d;      /* F_NUMBER */
  int choice;    /* F_CHOICE: index into the key's choices = the enum value */
  const char *s; /* F_STRING, F_CHOICE: the text */
  SrcLoc loc;    /* the value node */
} Scalar;

typedef enum FieldKind {
  F_SECTION, /* a mapping with keys of its own */
  F_INT,     /* decimal integer, checked against min..max or an allowed set */
  F_NUMBER,  /* real, checked against (above, upto] */
  F_STRING,  /* non-empty text */
  F_CHOICE,  /* one word of `choices` */
  F_LAYERS,  /* `layers:` — pattern -> override section */
} FieldKind;

typedef struct Field Field;
struct Field {
  const char *key;
  FieldKind kind;
  /* `obj` is what the section stores into: the Config, or one LayerOverride. */
  void (*set)(void *obj, const Scalar *v);
  const Field *keys;          /* F_SECTION, F_LAYERS: the keys inside (ends with {0}) */
  const char *const *choices; /* F_CHOICE, NULL-terminated */
  long long min, max;         /* F_INT, unless `allowed` is given */
  int allowed[3];             /* F_INT: if allowed[0], the only values (0-terminated) */
  double above, upto;         /* F_NUMBER: above < v <= upto */
};

/* Setters: the only code that knows where each key lands. */
#define SETTER(name, Type, stmt) \
  static void name(void *obj, const Scalar *v) { Type *o = obj; stmt; }
SETTER(set_weight_bits, Config, o->weight_bits = (int)v->i)
SETTER(set_granularity, Config, o->granularity = (Granularity)v->choice)
SETTER(set_act_bits, Config, o->act_bits = (int)v->i)
SETTER(set_requantize, Config, o->requantize = (RequantMode)v->choice)
SETTER(set_bias_bits, Config, o->bias_bits = (int)v->i)
SETTER(set_calib_method, Config, o->calib_method = (CalibMethod)v->choice)
SETTER(set_percentile, Config, o->percentile = v->d)
SETTER(set_calib_samples, Config, o->calib_samples = (int)v->i)
SETTER(set_gelu, Config, o->gelu = (GeluImpl)v->choice)
SETTER(set_softmax, Config, o->softmax = (SoftmaxImpl)v->choice)
SETTER(set_layernorm, Config, o->layernorm = (LayerNormImpl)v->choice)
SETTER(set_golden, Config, o->golden = (int)v->i)
SETTER(set_bias_fix, Config, o->bias_fix = (BiasFixMode)v->choice)
SETTER(set_layer_weight_bits, LayerOverride, o->weight_bits = (int)v->i)
SETTER(set_layer_granularity, LayerOverride, o->granularity = v->choice)
SETTER(set_layer_act_bits, LayerOverride, o->act_bits = (int)v->i)
SETTER(set_layer_bias_bits, LayerOverride, o->bias_bits = (int)v->i)
#undef SETTER

/* The target keeps its location so that a later "not supported here" can point at it. */
static void set_target(void *obj, const Scalar *v) {
  Config *c = obj;
  c->target = xstrdup(v->s);
  c->target_loc = v->loc;
}

/* Paths in the YAML are relative to the YAML file (v->loc.file), not to the working
 * directory. */
static void set_calib_data(void *obj, const Scalar *v) {
  Config *c = obj;
  c->calib_data = path_relative_to(v->loc.file, v->s);
  c->calib_data_loc = v->loc;
}

/* The value rules are written once here and shared by the global keys and their
 * per-layer overrides, so the two cannot drift apart. */
#define WEIGHT_BITS .min = 2, .max = 8
#define ACT_BITS .allowed = {8}
#define BIAS_BITS .allowed = {16, 32}

static const Field weights_keys[] = {
    {"bits", F_INT, .set = set_weight_bits, WEIGHT_BITS},
    {"granularity", F_CHOICE, .set = set_granularity, .choices = granularities},
    {0},
};
static const Field activations_keys[] = {
    {"bits", F_INT, .set = set_act_bits, ACT_BITS},
    {0},
};
static const Field calibration_keys[] = {
    {"method", F_CHOICE, .set = set_calib_method, .choices = calib_methods},
    {"percentile", F_NUMBER, .set = set_percentile, .above = 0, .upto = 100},
    {"data", F_STRING, .set = set_calib_data},
    {"samples", F_INT, .set = set_calib_samples, .min = 1, .max = INT_MAX},
    {0},
};
static const Field integer_ops_keys[] = {
    {"gelu", F_CHOICE, .set = set_gelu, .choices = gelu_impls},
    {"softmax", F_CHOICE, .set = set_softmax, .choices = softmax_impls},
    {"layernorm", F_CHOICE, .set = set_layernorm, .choices = layernorm_impls},
    {0},
};

static const Field layer_weights_keys[] = {
    {"bits", F_INT, .set = set_layer_weight_bits, WEIGHT_BITS},
    {"granularity", F_CHOICE, .set = set_layer_granularity, .choices = granularities},
    {0},
};
static const Field layer_activations_keys[] = {
    {"bits", F_INT, .set = set_layer_act_bits, ACT_BITS},
    {0},
};
/* What one entry of `layers:` may override. */
static const Field layer_keys[] = {
    {"weights", F_SECTION, .keys = layer_weights_keys},
    {"activations", F_SECTION, .keys = layer_activations_keys},
    {"bias_bits", F_INT, .set = set_layer_bias_bits, BIAS_BITS},
    {0},
};

static const Field quantization_keys[] = {
    {"weights", F_SECTION, .keys = weights_keys},
    {"activations", F_SECTION, .keys = activations_keys},
    {"requantize", F_CHOICE, .set = set_requantize, .choices = requant_modes},
    {"bias_bits", F_INT, .set = set_bias_bits, BIAS_BITS},
    {"bias_fix", F_CHOICE, .set = set_bias_fix, .choices = bias_fixes},
    {"calibration", F_SECTION, .keys = calibration_keys},
    {"integer_ops", F_SECTION, .keys = integer_ops_keys},
    {"layers", F_LAYERS, .keys = layer_keys},
    {0},
};
static const Field top_keys[] = {
    {"target", F_CHOICE, .set = set_target, .choices = targets},
    {"quantization", F_SECTION, .keys = quantization_keys},
    {"golden", F_INT, .set = set_golden, .min = 0, .max = INT_MAX},
    {0},
};

/* ------------------------------------------------------- node helpers */

static yaml_node_t *node_at(Loader *L, int index) {
  yaml_node_t *n = yaml_document_get_node(&L->doc, index);
  if (!n) internal_error("config: YAML node %d missing", index);
  return n;
}

/* libyaml counts lines and columns from 0; diagnostics from 1. */
static SrcLoc loc_of(Loader *L, const yaml_node_t *n) {
  return loc_make(L->file, (int)n->start_mark.line + 1, (int)n->start_mark.column + 1);
}

static const char *text_of(const yaml_node_t *n) { return (const char *)n->data.scalar.value; }
static size_t len_of(const yaml_node_t *n) { return n->data.scalar.length; }

/* YAML's null: an absent value (`key:`), `~` or `null`, unquoted. */
static bool is_null(const yaml_node_t *n) {
  if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE) return false;
  const char *s = text_of(n);
  return len_of(n) == 0 || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 ||
         strcmp(s, "Null") == 0 || strcmp(s, "NULL") == 0;
}

/* What the user wrote, for `got ...`: a mapping, a sequence, nothing, or the text in
 * quotes with control characters escaped and long values cut, so that a stray
 * block scalar cannot spill over the message. */
static char *describe(const yaml_node_t *n) {
  if (n->type == YAML_MAPPING_NODE) return xstrdup("a mapping");
  if (n->type == YAML_SEQUENCE_NODE) return xstrdup("a sequence");
  if (len_of(n) == 0 && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE) return xstrdup("nothing");
  enum { SHOW_MAX = 60 };
  StrBuf sb = {0};
  sb_putc(&sb, '\'');
  const unsigned char *s = n->data.scalar.value;
  size_t len = len_of(n);
  for (size_t i = 0; i < len && i < SHOW_MAX; i++) {
    if (s[i] == '\n') sb_puts(&sb, "\\n");
    else if (s[i] == '\t') sb_puts(&sb, "\\t");
    else if (s[i] < 0x20 || s[i] == 0x7f) sb_printf(&sb, "\\x%02x", s[i]);
    else sb_putc(&sb, (char)s[i]);
  }
  if (len > SHOW_MAX) sb_puts(&sb, "...");
  sb_putc(&sb, '\'');
  return sb.data;
}

/* The scalar's text in the same form, without quotes, for `got 9` in range errors. */
static char *shown_text(const yaml_node_t *n) {
  char *q = describe(n);
  size_t len = strlen(q);
  if (len >= 2 && q[0] == '\'') {
    memmove(q, q + 1, len - 2);
    q[len - 2] = '\0';
  }
  return q;
}

/* Decimal only, with an optional sign: `8.0`, `0x8` and ` 8` are not integers. An
 * overflowing value saturates (strtoll), and the range check then rejects it. */
static bool parse_int(const yaml_node_t *n, long long *out) {
  if (n->type != YAML_SCALAR_NODE) return false;
  const char *s = text_of(n);
  size_t len = len_of(n), i = 0;
  if (i < len && (s[i] == '+' || s[i] == '-')) i++;
  if (i == len) return false;
  for (; i < len; i++)
    if (!isdigit((unsigned char)s[i])) return false;
  *out = strtoll(s, NULL, 10);
  return true;
}

/* A plain decimal real (`99.99`, `1e2`, `100`): strtod must take the whole text, and
 * the character filter keeps out what strtod also accepts but YAML users do not mean
 * (`nan`, `inf`, hex floats, leading blanks). */
static bool parse_number(const yaml_node_t *n, double *out) {
  if (n->type != YAML_SCALAR_NODE) return false;
  const char *s = text_of(n);
  size_t len = len_of(n);
  if (len == 0 || strspn(s, "0123456789+-.eE") != len) return false;
  char *end;
  *out = strtod(s, &end);
  return end == s + len;
}

/* "must be between 2 and 8", "must be 16 or 32", "must be positive", ... */
static char *int_rule_text(const Field *f, long long v) {
  if (f->allowed[0]) {
    int n = 0;
    while (n < 3 && f->allowed[n]) n++;
    if (n == 1) return xformat("must be %d", f->allowed[0]);
    if (n == 2) return xformat("must be %d or %d", f->allowed[0], f->allowed[1]);
    return xformat("must be one of %d, %d, %d", f->allowed[0], f->allowed[1], f->allowed[2]);
  }
  if (f->max == INT_MAX) { /* a bound only below; the cap just keeps it an int */
    if (v > f->max) return xformat("must be at most %d", INT_MAX);
    return f->min == 1 ? xstrdup("must be positive") : xformat("must be >= %lld", f->min);
  }
  return xformat("must be between %lld and %lld", f->min, f->max);
}

static bool int_allowed(const Field *f, long long v) {
  if (!f->allowed[0]) return v >= f->min && v <= f->max;
  for (int i = 0; i < 3 && f->allowed[i]; i++)
    if (v == f->allowed[i]) return true;
  return false;
}

static char *choices_text(const char *const *choices) {
  StrBuf sb = {0};
  for (int i = 0; choices[i]; i++) sb_printf(&sb, "%s%s", i ? ", " : "", choices[i]);
  return sb.data;
}

static char *keys_text(const Field *keys) {
  StrBuf sb = {0};
  for (int i = 0; keys[i].key; i++) sb_printf(&sb, "%s%s", i ? ", " : "", keys[i].key);
  return sb.data;
}

/* ------------------------------------------------------------- walking */

static void parse_section(Loader *L, yaml_node_t *map, const char *path, const Field *keys,
                          void *obj);
static void parse_layers(Loader *L, yaml_node_t *map, const char *path, const Field *keys,
                         Config *c);

/* The text of a mapping's key, after checking that it is a scalar and that no
 * earlier key of the same mapping has the same text (libyaml does not check). */
static const char *checked_key(Loader *L, yaml_node_t *map, yaml_node_pair_t *pair) {
  yaml_node_t *k = node_at(L, pair->key);
  if (k->type != YAML_SCALAR_NODE) {
    char *what = describe(k);
    error_at(loc_of(L, k), "a key must be a name, got %s", what);
  }
  for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < pair; p++) {
    yaml_node_t *prev = node_at(L, p->key);
    if (prev->type == YAML_SCALAR_NODE && len_of(prev) == len_of(k) &&
        memcmp(text_of(prev), text_of(k), len_of(k)) == 0)
      error_at(loc_of(L, k), "duplicate key '%s' (first at line %d)", text_of(k),
               (int)prev->start_mark.line + 1);
  }
  return text_of(k);
}

/* Checks one value against its key's rule and hands it to the setter. */
static void parse_field(Loader *L, const Field *f, yaml_node_t *v, const char *path, void *obj) {
  Scalar s = {.loc = loc_of(L, v)};
  switch (f->kind) {
  case F_SECTION:
    parse_section(L, v, path, f->keys, obj);
    return;
  case F_LAYERS:
    parse_layers(L, v, path, f->keys, obj);
    return;
  case F_INT:
    if (!parse_int(v, &s.i)) {
      char *what = describe(v);
      error_at(s.loc, "'%s' must be an integer, got %s", path, what);
    }
    if (!int_allowed(f, s.i)) {
      char *rule = int_rule_text(f, s.i), *got = shown_text(v);
      error_at(s.loc, "'%s' %s, got %s", path, rule, got);
    }
    break;
  case F_NUMBER:
    if (!parse_number(v, &s.d)) {
      char *what = describe(v);
      error_at(s.loc, "'%s' must be a number, got %s", path, what);
    }
    if (!(s.d > f->above && s.d <= f->upto)) { /* written so that NaN fails too */
      char *got = shown_text(v);
      error_at(s.loc, "'%s' must be in (%g, %g], got %s", path, f->above, f->upto, got);
    }
    break;
  case F_STRING:
    if (v->type != YAML_SCALAR_NODE || is_null(v)) error_at(s.loc, "'%s' must be a string", path);
    if (len_of(v) == 0) error_at(s.loc, "'%s' must not be empty", path);
    s.s = text_of(v);
    break;
  case F_CHOICE:
    s.choice = -1;
    if (v->type == YAML_SCALAR_NODE)
      for (int i = 0; f->choices[i]; i++)
        if (strlen(f->choices[i]) == len_of(v) && strcmp(f->choices[i], text_of(v)) == 0)
          s.choice = i;
    if (s.choice < 0) {
      char *list = choices_text(f->choices), *what = describe(v);
      error_at(s.loc, "'%s' must be one of %s; got %s", path, list, what);
    }
    s.s = f->choices[s.choice];
    break;
  }
  f->set(obj, &s);
}

/* `path` is the section's dotted name; "" for the top level. */
static void parse_section(Loader *L, yaml_node_t *map, const char *path, const Field *keys,
                          void *obj) {
  if (is_null(map)) return; /* an emptied section: every key keeps its value */
  if (map->type != YAML_MAPPING_NODE) error_at(loc_of(L, map), "'%s' must be a mapping", path);
  for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
    const char *key = checked_key(L, map, p);
    const Field *f = keys;
    while (f->key && strcmp(f->key, key) != 0) f++;
    if (!f->key) {
      char *expected = keys_text(keys);
      SrcLoc at = loc_of(L, node_at(L, p->key));
      if (!*path)
        error_at(at, "unknown key '%s' at top level (expected one of: %s)", key, expected);
      error_at(at, "unknown key '%s' in '%s' (expected one of: %s)", key, path, expected);
    }
    char *sub = *path ? xformat("%s.%s", path, key) : xstrdup(key);
    parse_field(L, f, node_at(L, p->value), sub, obj);
    free(sub);
  }
}

/* `layers:` maps an op name or glob to a section of overrides; unset fields stay -1.
 * Patterns are kept as written, with their location: matching them against the
 * model's op names is for the stage that knows the model. */
static void parse_layers(Loader *L, yaml_node_t *map, const char *path, const Field *keys,
                         Config *c) {
  if (is_null(map)) return;
  if (map->type != YAML_MAPPING_NODE) error_at(loc_of(L, map), "'%s' must be a mapping", path);
  yaml_node_pair_t *start = map->data.mapping.pairs.start, *top = map->data.mapping.pairs.top;
  c->layers = xrealloc(c->layers, sizeof(LayerOverride) * (size_t)(c->nlayers + (top - start)));
  for (yaml_node_pair_t *p = start; p < top; p++) {
    const char *pattern = checked_key(L, map, p);
    yaml_node_t *k = node_at(L, p->key);
    if (!*pattern) error_at(loc_of(L, k), "a layer pattern in '%s' must not be empty", path);
    LayerOverride *o = &c->layers[c->nlayers++];
    *o = (LayerOverride){.pattern = xstrdup(pattern),
                         .loc = loc_of(L, k),
                         .weight_bits = -1,
                         .granularity = -1,
                         .act_bits = -1,
                         .bias_bits = -1};
    char *sub = xformat("%s.%s", path, pattern);
    parse_section(L, node_at(L, p->value), sub, keys, o);
    free(sub);
  }
}

/* -------------------------------------------------------------- loading */

/* Byte offset -> 1-based line and column (in characters, like libyaml's marks). */
static SrcLoc loc_of_offset(const char *file, const char *text, size_t len, size_t offset) {
  int line = 1, col = 1;
  for (size_t i = 0; i < offset && i < len; i++) {
    if (text[i] == '\n') line++, col = 1;
    else if (((unsigned char)text[i] & 0xC0) != 0x80) col++; /* not a UTF-8 continuation */
  }
  return loc_make(file, line, col);
}

/* Byte offset of a libyaml mark (0-based line, column in characters). */
static size_t offset_of_mark(const char *text, size_t len, yaml_mark_t m) {
  size_t i = 0;
  for (size_t line = 0; line < m.line && i < len; i++)
    if (text[i] == '\n') line++;
  for (size_t col = 0; col < m.column && i < len && text[i] != '\n'; col++)
    do i++; while (i < len && ((unsigned char)text[i] & 0xC0) == 0x80);
  return i;
}

/* Where a libyaml mark points. A construct left open at the end of the file
 * (`{bits: 4,` or an unclosed quote) is reported at the end of the stream, past the
 * last line; pointing just after the last thing written shows the line that needs
 * the fix instead of an empty one. */
static SrcLoc mark_loc(const char *file, const char *text, size_t len, yaml_mark_t m) {
  size_t at = offset_of_mark(text, len, m);
  if (text[at + strspn(text + at, " \t\r\n")] != '\0')
    return loc_make(file, (int)m.line + 1, (int)m.column + 1);
  size_t end = at;
  while (end > 0 && (text[end - 1] == ' ' || text[end - 1] == '\t' || text[end - 1] == '\r' ||
                     text[end - 1] == '\n'))
    end--;
  return loc_of_offset(file, text, len, end);
}

static _Noreturn void syntax_error(yaml_parser_t *parser, const char *file, const char *text,
                                   size_t len) {
  if (parser->error == YAML_MEMORY_ERROR) internal_error("out of memory while reading YAML");
  /* The reader (bad UTF-8, control characters) reports a byte offset, not a mark. */
  SrcLoc at = parser->error == YAML_READER_ERROR
                  ? loc_of_offset(file, text, len, parser->problem_offset)
                  : mark_loc(file, text, len, parser->problem_mark);
  const char *problem = parser->problem ? parser->problem : "unknown problem";
  if (parser->context)
    error_at(at, "YAML syntax error: %s (%s started at line %d)", problem, parser->context,
             mark_loc(file, text, len, parser->context_mark).line);
  error_at(at, "YAML syntax error: %s", problem);
}

void config_load(Config *c, const char *path) {
  size_t len;
  char *text = read_whole_file(path, &len);
  if (!text) error_file(path, "cannot read configuration: %s", strerror(errno));
  diag_add_source(path, text);
  c->path = xstrdup(path);

  Loader L = {.file = c->path};
  yaml_parser_t parser;
  if (!yaml_parser_initialize(&parser)) internal_error("cannot initialize the YAML parser");
  yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
  if (!yaml_parser_load(&parser, &L.doc)) syntax_error(&parser, L.file, text, len);

  yaml_node_t *root = yaml_document_get_root_node(&L.doc);
  /* An empty file, or one of comments only, has no root: everything keeps its default. */
  if (root && !is_null(root)) {
    if (root->type != YAML_MAPPING_NODE)
      error_at(loc_of(&L, root), "the configuration must be a mapping at top level");
    parse_section(&L, root, "", top_keys, c);
  }

  /* A second document would otherwise be silently ignored. */
  yaml_document_t next;
  if (!yaml_parser_load(&parser, &next)) syntax_error(&parser, L.file, text, len);
  if (yaml_document_get_root_node(&next))
    error_at(loc_make(L.file, (int)next.start_mark.line + 1, (int)next.start_mark.column + 1),
             "the configuration must be a single YAML document");
  yaml_document_delete(&next);

  yaml_document_delete(&L.doc);
  yaml_parser_delete(&parser);
  free(text);
}
