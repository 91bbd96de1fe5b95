/* weights.c — named tensors from a .safetensors file or a folder of .npy files, and
 * the .npy writers.
 *
 * Every byte read here is untrusted (and fuzzed): each length is checked before it
 * is used, with arithmetic that cannot overflow, and no element is read outside the
 * buffer. The parsers proper return an error message instead of exiting, so that
 * the fuzz target can drive them (safetensors_parse_buffer, npy_parse_buffer at the
 * end of this file); the public loaders turn that message into error_file().
 *
 * Both formats store little-endian data; it is decoded byte by byte, so neither the
 * host's byte order nor the data's alignment matters. */
#define _POSIX_C_SOURCE 200809L
#include "shiftc.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* The non-exiting core (see the end of this file). Not in shiftc.h: only the fuzz
 * target and the unit test need it. Messages are heap strings the caller frees. */
const char *safetensors_parse_buffer(const char *name, const unsigned char *buf, size_t len,
                                     TensorFile *out);
const char *npy_parse_buffer(const char *name, const unsigned char *buf, size_t len,
                             Tensor *out);
void tensor_free(Tensor *t);
void tensorfile_clear(TensorFile *tf);

/* ------------------------------------------------------------ element formats */

/* How elements are stored in a file. Float64 has no DType of its own: such a
 * tensor is converted to float32 and recorded as DT_F32. */
typedef enum ElemKind {
  EK_F32, EK_F64, EK_F16, EK_BF16, EK_I8, EK_U8, EK_I16, EK_I32, EK_I64, EK_BOOL,
} ElemKind;

typedef struct ElemFormat {
  ElemKind kind;
  const char *st_name;  /* safetensors dtype, NULL if that format has none */
  const char *npy_code; /* .npy descr without its byte-order char, NULL if none */
  DType dtype;          /* what the Tensor records */
  size_t size;          /* bytes per element in the file */
} ElemFormat;

static const ElemFormat formats[] = {
    {EK_F32, "F32", "f4", DT_F32, 4},   {EK_F64, NULL, "f8", DT_F32, 8},
    {EK_F16, "F16", "f2", DT_F16, 2},   {EK_BF16, "BF16", NULL, DT_BF16, 2},
    {EK_I8, "I8", "i1", DT_I8, 1},      {EK_U8, "U8", "u1", DT_U8, 1},
    {EK_I16, "I16", "i2", DT_I16, 2},   {EK_I32, "I32", "i4", DT_I32, 4},
    {EK_I64, "I64", "i8", DT_I64, 8},   {EK_BOOL, "BOOL", "b1", DT_BOOL, 1},
};
#define NFORMATS (sizeof formats / sizeof formats[0])

static const ElemFormat *format_by_st_name(const char *s) {
  for (size_t k = 0; k < NFORMATS; k++)
    if (formats[k].st_name && strcmp(formats[k].st_name, s) == 0) return &formats[k];
  return NULL;
}

static const ElemFormat *format_by_npy_code(const char *s) {
  for (size_t k = 0; k < NFORMATS; k++)
    if (formats[k].npy_code && strcmp(formats[k].npy_code, s) == 0) return &formats[k];
  return NULL;
}

/* White space as both JSON and Python see it in a header. */
static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

static uint16_t rd_u16(const unsigned char *p) { return (uint16_t)(p[0] | p[1] << 8); }

static uint32_t rd_u32(const unsigned char *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t rd_u64(const unsigned char *p) {
  return (uint64_t)rd_u32(p) | (uint64_t)rd_u32(p + 4) << 32;
}

/* Two's complement reinterpretation written out, since a plain cast of an
 * out-of-range unsigned value is implementation-defined. */
static int64_t sign_extend(uint64_t u, int bits) {
  if (bits == 64) {
    int64_t v;
    memcpy(&v, &u, sizeof v);
    return v;
  }
  uint64_t sign = (uint64_t)1 << (bits - 1);
  return u & sign ? (int64_t)u - ((int64_t)1 << bits) : (int64_t)u;
}

/* Fills t->f (and t->i for integer formats) from n elements at src. The caller
 * has checked that n * fmt->size bytes are there. */
static void decode_elems(const ElemFormat *fmt, const unsigned char *src, int64_t n, Tensor *t) {
  size_t count = (size_t)n;
  t->f = xmalloc(count * sizeof(float));
  t->i = dtype_is_int(fmt->dtype) ? xmalloc(count * sizeof(int64_t)) : NULL;
  for (size_t k = 0; k < count; k++) {
    const unsigned char *p = src + k * fmt->size;
    int64_t iv = 0;
    /* Float formats set f and go on to the next element; integer ones fall out of
     * the switch into the common tail that fills both arrays. */
    switch (fmt->kind) {
    case EK_F32: {
      uint32_t bits = rd_u32(p);
      memcpy(&t->f[k], &bits, sizeof bits);
      continue;
    }
    case EK_F64: {
      uint64_t bits = rd_u64(p);
      double d;
      memcpy(&d, &bits, sizeof d);
      t->f[k] = (float)d; /* IEEE: out of range becomes +-inf */
      continue;
    }
    case EK_F16: t->f[k] = f16_to_f32(rd_u16(p)); continue;
    case EK_BF16: t->f[k] = bf16_to_f32(rd_u16(p)); continue;
    case EK_I8: iv = sign_extend(p[0], 8); break;
    case EK_U8: iv = p[0]; break;
    case EK_I16: iv = sign_extend(rd_u16(p), 16); break;
    case EK_I32: iv = sign_extend(rd_u32(p), 32); break;
    case EK_I64: iv = sign_extend(rd_u64(p), 64); break;
    case EK_BOOL: iv = p[0] != 0; break;
    }
    t->i[k] = iv;
    t->f[k] = (float)iv;
  }
}

/* Element count and byte size of a shape; false when a dimension is negative or
 * either number does not fit in int64 (a corrupt header can ask for 2^70 elements). */
static bool shape_size(const Shape *s, size_t esize, int64_t *numel, int64_t *bytes) {
  int64_t n = 1;
  for (int k = 0; k < s->rank; k++) {
    int64_t d = s->d[k];
    if (d < 0) return false;
    if (d != 0 && n > INT64_MAX / d) return false;
    n *= d;
  }
  if (n > INT64_MAX / (int64_t)esize) return false;
  *numel = n;
  *bytes = n * (int64_t)esize;
  return true;
}

/* A shape as NumPy prints a tuple: "()", "(5,)", "(3, 4)". */
static char *tuple_str(const Shape *s, char *buf) {
  int n = 0;
  buf[n++] = '(';
  for (int k = 0; k < s->rank; k++)
    n += snprintf(buf + n, (size_t)(SHAPE_STR_MAX - n), "%s%lld", k ? ", " : "",
                  (long long)s->d[k]);
  if (s->rank == 1) buf[n++] = ',';
  buf[n++] = ')';
  buf[n] = '\0';
  return buf;
}

void tensor_free(Tensor *t) {
  free(t->name);
  free(t->f);
  free(t->i);
  memset(t, 0, sizeof *t);
}

void tensorfile_clear(TensorFile *tf) {
  for (int k = 0; k < tf->n; k++) tensor_free(&tf->t[k]);
  free(tf->t);
  free(tf->path);
  memset(tf, 0, sizeof *tf);
}

/* ---------------------------------------------------------------- safetensors */

/* Largest integer a JSON number (a double) holds exactly. */
#define JSON_MAX_EXACT 9007199254740992.0 /* 2^53 */

static bool json_whole(const cJSON *j, double *out) {
  double d = cJSON_IsNumber(j) ? j->valuedouble : -1;
  *out = d;
  /* !(d >= 0) also rejects NaN; the range check comes before the cast. */
  return d >= 0 && d <= JSON_MAX_EXACT && (double)(int64_t)d == d;
}

static char *st_shape(const char *nm, const cJSON *js, Shape *shape) {
  memset(shape, 0, sizeof *shape);
  if (!cJSON_IsArray(js)) return xformat("tensor '%s': \"shape\" is missing or not a list", nm);
  int rank = cJSON_GetArraySize(js);
  if (rank > MAX_RANK)
    return xformat("tensor '%s': shape has %d dimensions; at most %d are supported", nm, rank,
                   MAX_RANK);
  int k = 0;
  for (const cJSON *d = js->child; d; d = d->next, k++) {
    double v;
    if (!cJSON_IsNumber(d)) return xformat("tensor '%s': shape[%d] is not a number", nm, k);
    if (!json_whole(d, &v))
      return xformat("tensor '%s': shape[%d] is %g; dimensions must be whole numbers from 0 to "
                     "2^53",
                     nm, k, v);
    shape->d[k] = (int64_t)v;
  }
  shape->rank = rank;
  return NULL;
}

static char *st_offsets(const char *nm, const cJSON *jo, uint64_t *begin, uint64_t *end) {
  if (!cJSON_IsArray(jo) || cJSON_GetArraySize(jo) != 2 || !cJSON_IsNumber(jo->child) ||
      !cJSON_IsNumber(jo->child->next))
    return xformat("tensor '%s': \"data_offsets\" is missing or not a list of two numbers "
                   "[begin, end]",
                   nm);
  double b, e;
  if (!json_whole(jo->child, &b) || !json_whole(jo->child->next, &e))
    return xformat("tensor '%s': data_offsets [%g, %g) must be whole numbers from 0 to 2^53", nm,
                   jo->child->valuedouble, jo->child->next->valuedouble);
  if (e < b)
    return xformat("tensor '%s': data_offsets [%.0f, %.0f) end before they begin", nm, b, e);
  *begin = (uint64_t)b;
  *end = (uint64_t)e;
  return NULL;
}

/* One header entry: checks dtype, shape and offsets against the data section, then
 * decodes the tensor. */
static char *st_entry(const cJSON *e, const unsigned char *data, uint64_t data_len, Tensor *t) {
  const char *nm = e->string;
  if (!cJSON_IsObject(e))
    return xformat("tensor '%s': expected an object with \"dtype\", \"shape\" and "
                   "\"data_offsets\"",
                   nm);
  if (!*nm) return xformat("a tensor has an empty name");

  const cJSON *jd = cJSON_GetObjectItemCaseSensitive(e, "dtype");
  if (!cJSON_IsString(jd)) return xformat("tensor '%s': \"dtype\" is missing or not a string", nm);
  const ElemFormat *fmt = format_by_st_name(jd->valuestring);
  if (!fmt)
    return xformat("tensor '%s': unsupported dtype '%s' (expected F32, F16, BF16, I8, I32 or I64)",
                   nm, jd->valuestring);

  Shape shape;
  char *err = st_shape(nm, cJSON_GetObjectItemCaseSensitive(e, "shape"), &shape);
  if (err) return err;
  uint64_t begin = 0, end = 0;
  err = st_offsets(nm, cJSON_GetObjectItemCaseSensitive(e, "data_offsets"), &begin, &end);
  if (err) return err;

  char sbuf[SHAPE_STR_MAX];
  int64_t numel, need;
  if (!shape_size(&shape, fmt->size, &numel, &need))
    return xformat("tensor '%s': shape %s has too many elements", nm, shape_str(&shape, sbuf));
  if (end - begin != (uint64_t)need)
    return xformat("tensor '%s': data_offsets [%llu, %llu) hold %llu bytes, but dtype %s and "
                   "shape %s need %lld bytes",
                   nm, (unsigned long long)begin, (unsigned long long)end,
                   (unsigned long long)(end - begin), fmt->st_name, shape_str(&shape, sbuf),
                   (long long)need);
  if (end > data_len)
    return xformat("tensor '%s': data ends at byte %llu but the file holds only %llu data bytes "
                   "(truncated file?)",
                   nm, (unsigned long long)end, (unsigned long long)data_len);

  t->name = xstrdup(nm);
  t->dtype = fmt->dtype;
  t->shape = shape;
  decode_elems(fmt, data + begin, numel, t);
  return NULL;
}

static int cmp_tensor_name(const void *a, const void *b) {
  return strcmp((*(const Tensor *const *)a)->name, (*(const Tensor *const *)b)->name);
}

/* JSON allows a key twice (cJSON keeps both); a weights file must not. */
static char *st_check_unique(const TensorFile *tf) {
  if (tf->n < 2) return NULL;
  const Tensor **by_name = xmalloc(sizeof *by_name * (size_t)tf->n);
  for (int k = 0; k < tf->n; k++) by_name[k] = &tf->t[k];
  qsort(by_name, (size_t)tf->n, sizeof *by_name, cmp_tensor_name);
  char *err = NULL;
  for (int k = 1; k < tf->n && !err; k++)
    if (strcmp(by_name[k - 1]->name, by_name[k]->name) == 0)
      err = xformat("tensor '%s': appears more than once in the header", by_name[k]->name);
  free(by_name);
  return err;
}

static char *st_entries(const cJSON *root, const unsigned char *data, uint64_t data_len,
                        TensorFile *out) {
  out->t = xcalloc((size_t)cJSON_GetArraySize(root), sizeof(Tensor));
  for (const cJSON *e = root->child; e; e = e->next) {
    if (strcmp(e->string, "__metadata__") == 0) continue; /* free-form strings */
    char *err = st_entry(e, data, data_len, &out->t[out->n]);
    if (err) return err;
    out->n++;
  }
  return st_check_unique(out);
}

/* The whole file in memory: 8-byte little-endian header length N, N bytes of JSON,
 * then the data section that data_offsets index into. */
static char *st_parse(const char *name, const unsigned char *buf, size_t len, TensorFile *out) {
  if (len < 8) return xformat("not a safetensors file: only %zu bytes", len);
  uint64_t hlen = rd_u64(buf);
  if (hlen > len - 8)
    return xformat("not a safetensors file: header length %llu exceeds the file's size (%zu "
                   "bytes)",
                   (unsigned long long)hlen, len);
  const unsigned char *data = buf + 8 + hlen;
  uint64_t data_len = len - 8 - hlen;

  const char *json = (const char *)buf + 8, *json_end = json + hlen, *parsed_to = NULL;
  cJSON *root = cJSON_ParseWithLengthOpts(json, (size_t)hlen, &parsed_to, false);
  if (!root) return xformat("safetensors header is not valid JSON");
  /* The format pads the header with spaces; anything else after the JSON is damage. */
  while (parsed_to < json_end && is_space(*parsed_to)) parsed_to++;
  char *err = parsed_to != json_end
                  ? xformat("safetensors header is not valid JSON: text after its end")
              : cJSON_IsObject(root) ? st_entries(root, data, data_len, out)
                                     : xformat("safetensors header is not a JSON object");
  cJSON_Delete(root);
  if (!err) out->path = xstrdup(name);
  return err;
}

/* ------------------------------------------------------------------------ npy */

/* The header is a Python dict literal written by NumPy's repr():
 *   {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }
 * A cursor over it; nothing is read at or past `end`. */
typedef struct Cursor {
  const char *p, *end;
} Cursor;

static void skip_ws(Cursor *c) {
  while (c->p < c->end && is_space(*c->p)) c->p++;
}

/* Skips white space, then the character `ch` if it is next. */
static bool accept(Cursor *c, char ch) {
  skip_ws(c);
  if (c->p < c->end && *c->p == ch) {
    c->p++;
    return true;
  }
  return false;
}

/* A quoted string ('...' or "...") without escapes, into dst[cap]. */
static bool parse_pystr(Cursor *c, char *dst, size_t cap) {
  skip_ws(c);
  if (c->p >= c->end || (*c->p != '\'' && *c->p != '"')) return false;
  char q = *c->p++;
  size_t n = 0;
  while (c->p < c->end && *c->p != q) {
    if (*c->p == '\\' || *c->p == '\0' || n + 1 >= cap) return false;
    dst[n++] = *c->p++;
  }
  if (c->p >= c->end) return false;
  c->p++;
  dst[n] = '\0';
  return true;
}

static bool parse_pybool(Cursor *c, bool *out) {
  skip_ws(c);
  size_t left = (size_t)(c->end - c->p);
  if (left >= 4 && memcmp(c->p, "True", 4) == 0) {
    c->p += 4;
    *out = true;
    return true;
  }
  if (left >= 5 && memcmp(c->p, "False", 5) == 0) {
    c->p += 5;
    *out = false;
    return true;
  }
  return false;
}

/* (d0, d1, ...) of non-negative integers, a trailing comma allowed; Python 2 wrote
 * longs as `3L`. */
static char *parse_pyshape(Cursor *c, const char *nm, Shape *shape) {
  memset(shape, 0, sizeof *shape);
  if (!accept(c, '('))
    return xformat("tensor '%s': malformed .npy header: 'shape' is not a tuple", nm);
  for (;;) {
    if (accept(c, ')')) return NULL;
    skip_ws(c);
    if (c->p >= c->end || *c->p < '0' || *c->p > '9')
      return xformat("tensor '%s': malformed .npy header: expected a dimension >= 0 in 'shape'",
                     nm);
    if (shape->rank == MAX_RANK)
      return xformat("tensor '%s': shape has more than %d dimensions", nm, MAX_RANK);
    int64_t v = 0;
    while (c->p < c->end && *c->p >= '0' && *c->p <= '9') {
      int digit = *c->p++ - '0';
      if (v > (INT64_MAX - digit) / 10)
        return xformat("tensor '%s': shape dimension %d is too large", nm, shape->rank);
      v = v * 10 + digit;
    }
    if (c->p < c->end && (*c->p == 'L' || *c->p == 'l')) c->p++;
    shape->d[shape->rank++] = v;
    if (accept(c, ',')) continue;
    if (accept(c, ')')) return NULL;
    return xformat("tensor '%s': malformed .npy header: expected ',' or ')' in 'shape'", nm);
  }
}

typedef struct NpyHeader {
  char descr[32];
  bool fortran;
  Shape shape;
} NpyHeader;

/* The dict, keys in any order; exactly the three keys NumPy writes, as np.load
 * demands. */
static char *parse_npy_dict(const char *nm, const char *text, size_t len, NpyHeader *h) {
  Cursor c = {text, text + len};
  bool seen_descr = false, seen_fortran = false, seen_shape = false;
  if (!accept(&c, '{'))
    return xformat("tensor '%s': malformed .npy header: expected '{' at its start", nm);
  while (!accept(&c, '}')) {
    char key[32];
    if (!parse_pystr(&c, key, sizeof key))
      return xformat("tensor '%s': malformed .npy header: expected a quoted key or '}'", nm);
    if (!accept(&c, ':'))
      return xformat("tensor '%s': malformed .npy header: expected ':' after '%s'", nm, key);
    bool *seen;
    char *err = NULL;
    if (strcmp(key, "descr") == 0) {
      seen = &seen_descr;
      skip_ws(&c);
      if (c.p < c.end && *c.p == '[')
        return xformat("tensor '%s': structured .npy dtypes are not supported", nm);
      if (!parse_pystr(&c, h->descr, sizeof h->descr))
        return xformat("tensor '%s': malformed .npy header: 'descr' is not a short string", nm);
    } else if (strcmp(key, "fortran_order") == 0) {
      seen = &seen_fortran;
      if (!parse_pybool(&c, &h->fortran))
        return xformat("tensor '%s': malformed .npy header: 'fortran_order' is not True or "
                       "False",
                       nm);
    } else if (strcmp(key, "shape") == 0) {
      seen = &seen_shape;
      err = parse_pyshape(&c, nm, &h->shape);
    } else {
      return xformat("tensor '%s': malformed .npy header: unexpected key '%s'", nm, key);
    }
    if (err) return err;
    if (*seen) return xformat("tensor '%s': malformed .npy header: '%s' given twice", nm, key);
    *seen = true;
    if (accept(&c, ',')) continue; /* NumPy leaves a comma before the '}' */
    if (accept(&c, '}')) break;
    return xformat("tensor '%s': malformed .npy header: expected ',' or '}' after '%s'", nm, key);
  }
  skip_ws(&c);
  if (c.p != c.end)
    return xformat("tensor '%s': malformed .npy header: unexpected text after '}'", nm);
  if (!seen_descr || !seen_fortran || !seen_shape)
    return xformat("tensor '%s': malformed .npy header: missing '%s'", nm,
                   !seen_descr ? "descr" : !seen_fortran ? "fortran_order" : "shape");
  return NULL;
}

/* descr = byte-order char + kind + size ("<f4"). Byte order is meaningless for
 * one-byte types, whatever char stands there; '=' (native) is taken as little. */
static char *npy_format(const char *nm, const char *descr, const ElemFormat **out) {
  const ElemFormat *fmt = strlen(descr) == 3 ? format_by_npy_code(descr + 1) : NULL;
  char order = descr[0];
  if (fmt && fmt->size > 1 && order == '>')
    return xformat("tensor '%s': big-endian dtype '%s' is not supported", nm, descr);
  bool order_ok = fmt && (order == '<' || order == '=' ||
                          (fmt->size == 1 && (order == '|' || order == '>')));
  if (!order_ok)
    return xformat("tensor '%s': unsupported dtype '%s' (expected <f4, <f8, <f2, |i1, |u1, <i2, "
                   "<i4, <i8 or |b1)",
                   nm, descr);
  *out = fmt;
  return NULL;
}

/* Magic "\x93NUMPY", version major.minor, header length (2 bytes in 1.0, 4 in 2.0
 * and 3.0), the dict padded with spaces and '\n', then the raw C-order data. */
static char *npy_parse(const char *nm, const unsigned char *buf, size_t len, Tensor *t) {
  if (len < 6 || memcmp(buf, "\x93NUMPY", 6) != 0) return xformat("not a .npy file (bad magic)");
  if (len < 8) return xformat("truncated .npy file: only %zu bytes", len);
  int major = buf[6], minor = buf[7];
  size_t lensz = major == 1 ? 2 : major == 2 || major == 3 ? 4 : 0;
  if (!lensz) return xformat("unsupported .npy format version %d.%d", major, minor);
  if (len < 8 + lensz) return xformat("truncated .npy file: only %zu bytes", len);
  size_t hstart = 8 + lensz;
  uint64_t hlen = lensz == 2 ? rd_u16(buf + 8) : rd_u32(buf + 8);
  if (hlen > len - hstart)
    return xformat(".npy header length %llu exceeds the file's size (%zu bytes)",
                   (unsigned long long)hlen, len);

  NpyHeader h;
  memset(&h, 0, sizeof h);
  char *err = parse_npy_dict(nm, (const char *)buf + hstart, (size_t)hlen, &h);
  if (err) return err;
  const ElemFormat *fmt = NULL;
  if ((err = npy_format(nm, h.descr, &fmt))) return err;
  if (h.fortran)
    return xformat("tensor '%s': fortran_order is True; only C-order arrays are supported "
                   "(save np.ascontiguousarray(a))",
                   nm);

  char tbuf[SHAPE_STR_MAX];
  int64_t numel, need;
  if (!shape_size(&h.shape, fmt->size, &numel, &need))
    return xformat("tensor '%s': shape %s has too many elements", nm, tuple_str(&h.shape, tbuf));
  const unsigned char *data = buf + hstart + hlen;
  size_t data_len = len - hstart - (size_t)hlen;
  if ((uint64_t)data_len != (uint64_t)need)
    return xformat("tensor '%s': data holds %zu bytes, shape %s of %s needs %lld bytes (%s)", nm,
                   data_len, tuple_str(&h.shape, tbuf), h.descr, (long long)need,
                   (uint64_t)data_len < (uint64_t)need ? "truncated file?"
                                                       : "extra bytes after the data");
  t->name = xstrdup(nm);
  t->dtype = fmt->dtype;
  t->shape = h.shape;
  decode_elems(fmt, data, numel, t);
  return NULL;
}

/* ---------------------------------------------------------------- loading */

/* Reads and parses one .npy file or dies naming it; `what` says what it was read
 * for in the "cannot read" message. */
static Tensor load_npy_file(const char *path, const char *name, const char *what) {
  size_t len;
  char *buf = read_whole_file(path, &len);
  if (!buf) error_file(path, "cannot read %s: %s", what, strerror(errno));
  Tensor t;
  const char *err = npy_parse_buffer(name, (const unsigned char *)buf, len, &t);
  if (err) error_file(path, "%s", err);
  free(buf);
  return t;
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every NAME.npy of the folder, sorted by name so the order never depends on the
 * file system. Hidden files are skipped (macOS leaves "._NAME.npy" beside real ones). */
static void load_npy_folder(const char *dir, TensorFile *tf) {
  DIR *d = opendir(dir);
  if (!d) error_file(dir, "cannot read weights: %s", strerror(errno));
  char **files = NULL;
  int n = 0;
  for (struct dirent *e; (e = readdir(d));) {
    if (e->d_name[0] == '.' || !ends_with(e->d_name, ".npy")) continue;
    files = xrealloc(files, sizeof *files * (size_t)(n + 1));
    files[n++] = xstrdup(e->d_name);
  }
  closedir(d);
  if (n == 0) error_file(dir, "no .npy files in folder");
  qsort(files, (size_t)n, sizeof *files, cmp_str);

  tf->t = xcalloc((size_t)n, sizeof(Tensor));
  const char *sep = ends_with(dir, "/") ? "" : "/";
  for (int k = 0; k < n; k++) {
    char *path = xformat("%s%s%s", dir, sep, files[k]);
    char *name = xstrndup(files[k], strlen(files[k]) - 4);
    tf->t[k] = load_npy_file(path, name, "weights");
    tf->n++;
    free(name);
    free(path);
    free(files[k]);
  }
  free(files);
}

TensorFile *tensorfile_load(const char *path) {
  struct stat st;
  if (stat(path, &st) != 0) error_file(path, "cannot read weights: %s", strerror(errno));
  TensorFile *tf = xcalloc(1, sizeof *tf);
  if (S_ISDIR(st.st_mode)) {
    load_npy_folder(path, tf);
    tf->path = xstrdup(path);
    return tf;
  }
  size_t len;
  char *buf = read_whole_file(path, &len);
  if (!buf) error_file(path, "cannot read weights: %s", strerror(errno));
  const char *err = safetensors_parse_buffer(path, (const unsigned char *)buf, len, tf);
  if (err) error_file(path, "%s", err);
  free(buf);
  return tf;
}

const Tensor *tensorfile_find(const TensorFile *tf, const char *name) {
  for (int k = 0; k < tf->n; k++)
    if (strcmp(tf->t[k].name, name) == 0) return &tf->t[k];
  return NULL;
}

/* The tensor is named after the file: "dir/x.npy" -> "x". */
Tensor npy_load(const char *path) {
  const char *base = strrchr(path, '/');
  base = base ? base + 1 : path;
  size_t n = strlen(base);
  if (ends_with(base, ".npy")) n -= 4;
  char *name = xstrndup(base, n);
  Tensor t = load_npy_file(path, name, ".npy file");
  free(name);
  return t;
}

/* ----------------------------------------------------------------- writing */

/* NumPy's rule (format.py, _wrap_header): the dict is padded with spaces and a final
 * '\n' so that magic + version + length + header is a multiple of 64, always adding
 * at least the '\n'. Files are then byte-identical to np.save's. */
#define NPY_ALIGN 64
#define NPY_V1_PREAMBLE 10 /* magic 6 + version 2 + header length 2 */

/* Elements are taken in host order and written little-endian. */
static bool npy_save(const char *path, const Shape *shape, const char *descr, const void *data,
                     size_t esize) {
  int64_t numel, bytes;
  if (shape->rank < 0 || shape->rank > MAX_RANK || !shape_size(shape, esize, &numel, &bytes))
    internal_error("npy_save: invalid shape for %s", path);

  char tbuf[SHAPE_STR_MAX];
  StrBuf hdr = {0};
  sb_printf(&hdr, "{'descr': '%s', 'fortran_order': False, 'shape': %s, }", descr,
            tuple_str(shape, tbuf));
  size_t pad = NPY_ALIGN - (NPY_V1_PREAMBLE + hdr.len + 1) % NPY_ALIGN;
  for (size_t k = 0; k < pad; k++) sb_putc(&hdr, ' ');
  sb_putc(&hdr, '\n');

  size_t total = NPY_V1_PREAMBLE + hdr.len + (size_t)bytes;
  unsigned char *out = xmalloc(total);
  memcpy(out, "\x93NUMPY\x01\x00", 8);
  out[8] = (unsigned char)(hdr.len & 0xff);
  out[9] = (unsigned char)(hdr.len >> 8);
  memcpy(out + NPY_V1_PREAMBLE, hdr.data, hdr.len);
  unsigned char *dst = out + NPY_V1_PREAMBLE + hdr.len;
  const unsigned char *src = data;
  for (int64_t k = 0; k < numel; k++, src += esize, dst += esize) {
    uint64_t v = 0;
    switch (esize) {
    case 1: v = src[0]; break;
    case 4: { uint32_t u; memcpy(&u, src, 4); v = u; break; }
    default: internal_error("npy_save: element size %zu", esize);
    }
    for (size_t b = 0; b < esize; b++) dst[b] = (unsigned char)(v >> (8 * b));
  }
  bool ok = write_file_atomic(path, out, total);
  free(out);
  sb_free(&hdr);
  return ok;
}

bool npy_save_f32(const char *path, const Shape *shape, const float *data) {
  return npy_save(path, shape, "<f4", data, sizeof *data);
}

bool npy_save_i8(const char *path, const Shape *shape, const int8_t *data) {
  return npy_save(path, shape, "|i1", data, sizeof *data);
}

bool npy_save_i32(const char *path, const Shape *shape, const int32_t *data) {
  return npy_save(path, shape, "<i4", data, sizeof *data);
}

/* A .safetensors file of n tensors, in the given order: float dtypes as F32 (t->f),
 * integer ones as I64 (t->i). Little-endian hosts only, like the readers. The
 * header is padded with spaces to a multiple of 8 bytes, as the format suggests. */
bool safetensors_save(const char *path, const Tensor *t, int n) {
  StrBuf h = {0};
  uint64_t off = 0;
  sb_putc(&h, '{');
  for (int k = 0; k < n; k++) {
    bool ints = t[k].i != NULL;
    uint64_t bytes = (uint64_t)shape_numel(&t[k].shape) * (ints ? 8 : 4);
    sb_printf(&h, "%s\"%s\":{\"dtype\":\"%s\",\"shape\":[", k ? "," : "", t[k].name, ints ? "I64" : "F32");
    for (int i = 0; i < t[k].shape.rank; i++) sb_printf(&h, "%s%lld", i ? "," : "", (long long)t[k].shape.d[i]);
    sb_printf(&h, "],\"data_offsets\":[%llu,%llu]}", (unsigned long long)off, (unsigned long long)(off + bytes));
    off += bytes;
  }
  sb_putc(&h, '}');
  while (h.len % 8) sb_putc(&h, ' ');
  size_t total = 8 + h.len + (size_t)off;
  unsigned char *buf = xmalloc(total), *p = buf;
  for (int b = 0; b < 8; b++) *p++ = (unsigned char)((uint64_t)h.len >> (8 * b));
  memcpy(p, h.data, h.len);
  p += h.len;
  for (int k = 0; k < n; k++) {
    int64_t cnt = shape_numel(&t[k].shape);
    size_t bytes = (size_t)cnt * (t[k].i ? 8 : 4);
    memcpy(p, t[k].i ? (const void *)t[k].i : (const void *)t[k].f, bytes);
    p += bytes;
  }
  bool ok = write_file_atomic(path, buf, total);
  free(buf);
  sb_free(&h);
  return ok;
}

/* ------------------------------------------------------- the non-exiting core */

/* Parses a whole .safetensors file held in buf[len] into *out (its path set to
 * `name`). NULL on success; otherwise an error message (a heap string the caller
 * frees) and *out is left empty. */
const char *safetensors_parse_buffer(const char *name, const unsigned char *buf, size_t len,
                                     TensorFile *out) {
  memset(out, 0, sizeof *out);
  char *err = st_parse(name, buf, len, out);
  if (err) tensorfile_clear(out);
  return err;
}

/* Parses a whole .npy file held in buf[len] into *out, the tensor named `name`.
 * NULL on success; otherwise an error message (a heap string the caller frees) and
 * *out is left empty. */
const char *npy_parse_buffer(const char *name, const unsigned char *buf, size_t len,
                             Tensor *out) {
  memset(out, 0, sizeof *out);
  char *err = npy_parse(name, buf, len, out);
  if (err) tensor_free(out);
  return err;
}
