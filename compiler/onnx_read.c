/* onnx_read.c — an ONNX file as protobuf (protobuf-c, generated at build time from
 * ONNX's own onnx.proto) and its tensors as shiftc Tensors: initializers stored
 * inline (raw_data or the typed fields) or as external data next to the model,
 * in float32, float16, bfloat16, double, int8, uint8, int16, int32, int64 or bool.
 *
 * The parsing core never exits: it returns a message, so that the fuzzer
 * (tests/fuzz/fuzz_onnx.c) can drive it with corrupt bytes. onnx_load() turns a
 * message into a user error naming the file. */
#define _POSIX_C_SOURCE 200809L
#include "shiftc.h"
#include "onnx.pb-c.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* ONNX TensorProto.DataType codes (onnx.proto). */
enum {
  OT_FLOAT = 1, OT_UINT8 = 2, OT_INT8 = 3, OT_UINT16 = 4, OT_INT16 = 5, OT_INT32 = 6, OT_INT64 = 7,
  OT_STRING = 8, OT_BOOL = 9, OT_FLOAT16 = 10, OT_DOUBLE = 11, OT_UINT32 = 12, OT_UINT64 = 13,
  OT_BFLOAT16 = 16,
};

const char *onnx_dtype_name(int code) {
  static const char *names[] = {"undefined", "float", "uint8", "int8", "uint16", "int16", "int32",
                                "int64", "string", "bool", "float16", "double", "uint32", "uint64",
                                "complex64", "complex128", "bfloat16"};
  return code >= 0 && code < (int)(sizeof names / sizeof names[0]) ? names[code] : "unknown";
}

/* Opsets of the default domain that the importer implements. */
#define OPSET_MIN 9
#define OPSET_MAX 17

/* A protobuf ModelProto starts with a field tag: ir_version (0x08) in every writer
 * we know, else another ModelProto field. A .nn file is ASCII text and never does. */
bool onnx_sniff(const unsigned char *buf, size_t len) {
  static const unsigned char tags[] = {0x08, 0x12, 0x1a, 0x22, 0x28, 0x32, 0x3a, 0x42};
  if (len == 0) return false;
  return memchr(tags, buf[0], sizeof tags) != NULL;
}

bool onnx_file_sniff(const char *path) {
  if (ends_with(path, ".onnx")) return true;
  FILE *f = fopen(path, "rb");
  if (!f) return false;
  unsigned char b[1];
  size_t n = fread(b, 1, 1, f);
  fclose(f);
  return onnx_sniff(b, n);
}

const char *onnx_parse_buffer(const unsigned char *buf, size_t len, OnnxFile *out) {
  memset(out, 0, sizeof *out);
  Onnx__ModelProto *m = onnx__model_proto__unpack(NULL, len, buf);
  if (!m) return xstrdup("not a valid ONNX file (the protobuf is truncated or corrupt, or this is not ONNX)");
  if (!m->graph) {
    onnx__model_proto__free_unpacked(m, NULL);
    return xstrdup("not an ONNX model: it holds no graph");
  }
  int64_t opset = -1;
  for (size_t i = 0; i < m->n_opset_import; i++) {
    const Onnx__OperatorSetIdProto *o = m->opset_import[i];
    const char *d = o->domain ? o->domain : "";
    if ((!*d || strcmp(d, "ai.onnx") == 0) && o->has_version) opset = o->version;
  }
  if (opset < 0 && m->n_opset_import == 0 && m->has_ir_version && m->ir_version <= 2) opset = 1;
  if (opset < OPSET_MIN || opset > OPSET_MAX) {
    char *msg = opset < 0 ? xformat("the model imports no opset of the default ONNX domain")
                          : xformat("opset %lld is not supported (shiftc reads opsets %d to %d; convert the "
                                    "model with onnx.version_converter)", (long long)opset, OPSET_MIN, OPSET_MAX);
    onnx__model_proto__free_unpacked(m, NULL);
    return msg;
  }
  out->model = m;
  out->opset = opset;
  return NULL;
}

void onnx_file_free(OnnxFile *f) {
  if (f->model) onnx__model_proto__free_unpacked(f->model, NULL);
  free(f->path);
  memset(f, 0, sizeof *f);
}

OnnxFile *onnx_load(const char *path) {
  size_t len;
  char *buf = read_whole_file(path, &len);
  if (!buf) error_file(path, "cannot read: %s", strerror(errno));
  OnnxFile *f = xcalloc(1, sizeof(OnnxFile));
  const char *err = onnx_parse_buffer((const unsigned char *)buf, len, f);
  free(buf);
  if (err) error_file(path, "%s", err);
  f->path = xstrdup(path);
  return f;
}

/* ------------------------------------------------------------------ tensors */

static size_t elem_size(int code) {
  switch (code) {
  case OT_UINT8: case OT_INT8: case OT_BOOL: return 1;
  case OT_UINT16: case OT_INT16: case OT_FLOAT16: case OT_BFLOAT16: return 2;
  case OT_FLOAT: case OT_INT32: case OT_UINT32: return 4;
  case OT_INT64: case OT_DOUBLE: case OT_UINT64: return 8;
  default: return 0;
  }
}

static bool is_int_code(int code) {
  return code == OT_UINT8 || code == OT_INT8 || code == OT_UINT16 || code == OT_INT16 ||
         code == OT_INT32 || code == OT_INT64 || code == OT_BOOL || code == OT_UINT32 || code == OT_UINT64;
}

/* The shiftc dtype a tensor is kept as (its values are in Tensor.f, and .i for integers). */
static DType dtype_of(int code) {
  switch (code) {
  case OT_FLOAT16: return DT_F16;
  case OT_BFLOAT16: return DT_BF16;
  case OT_INT8: return DT_I8;
  case OT_UINT8: return DT_U8;
  case OT_INT16: return DT_I16;
  case OT_INT32: return DT_I32;
  case OT_BOOL: return DT_BOOL;
  case OT_UINT16: case OT_UINT32: case OT_INT64: case OT_UINT64: return DT_I64;
  default: return DT_F32;
  }
}

/* Element k of little-endian raw bytes, as int64 (integers) or double (reals). */
static void raw_elem(int code, const unsigned char *p, int64_t *iv, double *fv) {
  uint64_t u = 0;
  size_t sz = elem_size(code);
  for (size_t b = 0; b < sz; b++) u |= (uint64_t)p[b] << (8 * b);
  *iv = 0;
  *fv = 0;
  switch (code) {
  case OT_UINT8: case OT_BOOL: *iv = (int64_t)(uint8_t)u; break;
  case OT_INT8: *iv = (int8_t)(uint8_t)u; break;
  case OT_UINT16: *iv = (uint16_t)u; break;
  case OT_INT16: *iv = (int16_t)(uint16_t)u; break;
  case OT_INT32: *iv = (int32_t)(uint32_t)u; break;
  case OT_UINT32: *iv = (int64_t)(uint32_t)u; break;
  case OT_INT64: case OT_UINT64: *iv = (int64_t)u; break;
  case OT_FLOAT16: *fv = f16_to_f32((uint16_t)u); break;
  case OT_BFLOAT16: *fv = bf16_to_f32((uint16_t)u); break;
  case OT_FLOAT: {
    uint32_t w = (uint32_t)u;
    float f;
    memcpy(&f, &w, 4);
    *fv = f;
    break;
  }
  case OT_DOUBLE: memcpy(fv, &u, 8); break;
  default: break;
  }
  if (is_int_code(code)) *fv = (double)*iv;
}

/* Reads the external data of t (location relative to the model's folder, which it
 * may not leave) into a fresh buffer of `want` bytes. */
static const char *read_external(const Onnx__TensorProto *t, const char *model_path, size_t want,
                                 unsigned char **out) {
  const char *nm = t->name ? t->name : "?";
  const char *loc = NULL;
  int64_t offset = 0, length = -1;
  for (size_t i = 0; i < t->n_external_data; i++) {
    const char *k = t->external_data[i]->key, *v = t->external_data[i]->value;
    if (!k || !v) continue;
    if (strcmp(k, "location") == 0) loc = v;
    else if (strcmp(k, "offset") == 0) offset = strtoll(v, NULL, 10);
    else if (strcmp(k, "length") == 0) length = strtoll(v, NULL, 10);
  }
  if (!loc) return xformat("tensor '%s': external data without a location", nm);
  if (!model_path) return xformat("tensor '%s': external data is not available here", nm);
  if (loc[0] == '/' || strstr(loc, ".."))
    return xformat("tensor '%s': external data location '%s' must be a file next to the model", nm, loc);
  if (offset < 0 || (length >= 0 && (uint64_t)length != want))
    return xformat("tensor '%s': external data holds %lld bytes, expected %zu", nm, (long long)length, want);
  char *path = path_relative_to(model_path, loc);
  FILE *f = fopen(path, "rb");
  if (!f) {
    char *msg = xformat("tensor '%s': cannot open external data '%s': %s", nm, path, strerror(errno));
    free(path);
    return msg;
  }
  long size = fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -1;
  bool fits = size >= 0 && (uint64_t)offset <= (uint64_t)size && want <= (uint64_t)size - (uint64_t)offset;
  unsigned char *buf = fits ? xmalloc(want ? want : 1) : NULL;
  bool ok = fits && fseek(f, (long)offset, SEEK_SET) == 0 && fread(buf, 1, want, f) == want;
  fclose(f);
  if (!ok) {
    free(buf);
    char *msg = xformat("tensor '%s': external data '%s' ends before offset %lld + %zu bytes", nm, path,
                        (long long)offset, want);
    free(path);
    return msg;
  }
  free(path);
  *out = buf;
  return NULL;
}

const char *onnx_tensor_read(const struct Onnx__TensorProto *t, const char *model_path, Tensor *out) {
  memset(out, 0, sizeof *out);
  const char *nm = t->name ? t->name : "?";
  int code = t->has_data_type ? t->data_type : 0;
  size_t esz = elem_size(code);
  if (!esz) return xformat("tensor '%s': data type %s is not supported", nm, onnx_dtype_name(code));
  if (t->n_dims > MAX_RANK) return xformat("tensor '%s': %zu dimensions; at most %d are supported", nm, t->n_dims, MAX_RANK);
  Shape s = {0};
  s.rank = (int)t->n_dims;
  int64_t numel = 1;
  for (size_t i = 0; i < t->n_dims; i++) {
    if (t->dims[i] < 0 || t->dims[i] > ((int64_t)1 << 31))
      return xformat("tensor '%s': dimension %zu is %lld", nm, i, (long long)t->dims[i]);
    s.d[i] = t->dims[i];
    numel *= t->dims[i];
    if (numel > ((int64_t)1 << 31)) return xformat("tensor '%s' is too large", nm);
  }
  size_t n = (size_t)numel, bytes = n * esz;
  /* The data's size is checked against the shape before anything is allocated, so
   * that a corrupt shape cannot ask for gigabytes. */
  unsigned char *ext = NULL;
  const unsigned char *raw = NULL;
  if (t->has_data_location && t->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL) {
    const char *err = read_external(t, model_path, bytes, &ext);
    if (err) return err;
    raw = ext;
  } else if (t->has_raw_data) {
    if (t->raw_data.len != bytes)
      return xformat("tensor '%s': raw data holds %zu bytes, expected %zu (%s[%lld])", nm, t->raw_data.len, bytes,
                     onnx_dtype_name(code), (long long)numel);
    raw = t->raw_data.data;
  }
  /* The typed field each data type is stored in when not raw (onnx.proto). */
  size_t have = raw ? n : code == OT_FLOAT ? t->n_float_data
                    : code == OT_DOUBLE ? t->n_double_data
                    : code == OT_INT64 ? t->n_int64_data
                    : code == OT_UINT32 || code == OT_UINT64 ? t->n_uint64_data
                    : t->n_int32_data;
  if (have != n) {
    free(ext);
    return xformat("tensor '%s': holds %zu values, expected %lld", nm, have, (long long)numel);
  }
  float *f = xmalloc(sizeof(float) * (n ? n : 1));
  int64_t *iv = is_int_code(code) ? xmalloc(sizeof(int64_t) * (n ? n : 1)) : NULL;
  for (size_t k = 0; k < n; k++) {
    int64_t i64 = 0;
    double d = 0;
    if (raw) {
      raw_elem(code, raw + k * esz, &i64, &d);
    } else if (code == OT_FLOAT) {
      d = t->float_data[k];
    } else if (code == OT_DOUBLE) {
      d = t->double_data[k];
    } else if (code == OT_INT64) {
      i64 = t->int64_data[k], d = (double)i64;
    } else if (code == OT_UINT32 || code == OT_UINT64) {
      i64 = (int64_t)t->uint64_data[k], d = (double)i64;
    } else if (code == OT_FLOAT16 || code == OT_BFLOAT16) {
      uint16_t h = (uint16_t)t->int32_data[k];
      d = code == OT_FLOAT16 ? f16_to_f32(h) : bf16_to_f32(h);
    } else {
      unsigned char b[4];
      uint32_t u = (uint32_t)t->int32_data[k];
      for (int j = 0; j < 4; j++) b[j] = (unsigned char)(u >> (8 * j));
      raw_elem(code, b, &i64, &d);
    }
    f[k] = (float)d;
    if (iv) iv[k] = i64;
  }
  free(ext);
  out->name = xstrdup(nm);
  out->dtype = dtype_of(code);
  out->shape = s;
  out->f = f;
  out->i = iv;
  return NULL;
}
