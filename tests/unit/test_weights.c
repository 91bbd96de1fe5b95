/* test_weights.c — weights.c (safetensors, .npy, folders of .npy) and dataset.c.
 *
 * Files are written byte by byte here (not with the code under test), loaded back,
 * and compared value for value. Error paths exit(1) through error_file(), so each
 * runs in a forked child whose stderr goes to a file; the parent checks the status
 * and the exact message. */
#define _POSIX_C_SOURCE 200809L
#include "shiftc.h"
#include "testlib.h"

#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* weights.c's non-exiting core (not in shiftc.h). */
const char *safetensors_parse_buffer(const char *name, const unsigned char *buf, size_t len,
                                     TensorFile *out);
const char *npy_parse_buffer(const char *name, const unsigned char *buf, size_t len,
                             Tensor *out);
void tensor_free(Tensor *t);
void tensorfile_clear(TensorFile *tf);

/* The children of expect_error() exit through exit(1) with memory still held, as
 * the compiler does; leak reports would change their status. */
const char *__asan_default_options(void);
__attribute__((used)) const char *__asan_default_options(void) { return "detect_leaks=0"; }

/* ------------------------------------------------------------------ helpers */

static void write_bytes(const char *path, const void *data, size_t len) {
  FILE *f = fopen(path, "wb");
  if (!f || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
    fprintf(stderr, "cannot write %s\n", path);
    exit(2);
  }
}

/* A string literal's bytes, without its NUL. */
#define write_lit(path, lit) write_bytes(path, lit, sizeof lit - 1)

/* Little-endian encoders, so the files are right whatever the host. */
static void put_le(StrBuf *sb, uint64_t v, int nbytes) {
  for (int b = 0; b < nbytes; b++) sb_putc(sb, (char)(v >> (8 * b) & 0xff));
}

static void put_raw(StrBuf *sb, const void *p, size_t n) {
  for (size_t k = 0; k < n; k++) sb_putc(sb, ((const char *)p)[k]);
}

static uint32_t f32_bits(float f) {
  uint32_t u;
  memcpy(&u, &f, 4);
  return u;
}

static uint64_t f64_bits(double d) {
  uint64_t u;
  memcpy(&u, &d, 8);
  return u;
}

/* One tensor for st_write(): its name, safetensors dtype, shape, and raw bytes. */
typedef struct StEntry {
  const char *name, *dtype;
  int rank;
  int64_t d[MAX_RANK];
  StrBuf bytes;
} StEntry;

/* A .safetensors file as the reference writer lays it out: header padded with
 * spaces to a multiple of 8, tensors back to back in the order given. */
static void st_write(const char *path, StEntry *e, int n, bool metadata) {
  StrBuf hdr = {0};
  sb_puts(&hdr, "{");
  if (metadata) sb_puts(&hdr, "\"__metadata__\":{\"format\":\"pt\"},");
  size_t off = 0;
  for (int k = 0; k < n; k++) {
    sb_printf(&hdr, "%s\"%s\":{\"dtype\":\"%s\",\"shape\":[", k ? "," : "", e[k].name,
              e[k].dtype);
    for (int j = 0; j < e[k].rank; j++)
      sb_printf(&hdr, "%s%lld", j ? "," : "", (long long)e[k].d[j]);
    sb_printf(&hdr, "],\"data_offsets\":[%zu,%zu]}", off, off + e[k].bytes.len);
    off += e[k].bytes.len;
  }
  sb_puts(&hdr, "}");
  while (hdr.len % 8) sb_putc(&hdr, ' ');
  StrBuf file = {0};
  put_le(&file, hdr.len, 8);
  put_raw(&file, hdr.data, hdr.len);
  for (int k = 0; k < n; k++) put_raw(&file, e[k].bytes.data, e[k].bytes.len);
  write_bytes(path, file.data, file.len);
  sb_free(&hdr);
  sb_free(&file);
}

/* A safetensors file from header text and data bytes, for broken files. */
static void st_raw(const char *path, const char *json, const void *data, size_t dlen) {
  StrBuf file = {0};
  put_le(&file, strlen(json), 8);
  sb_puts(&file, json);
  put_raw(&file, data, dlen);
  write_bytes(path, file.data, file.len);
  sb_free(&file);
}

/* A version 1.0 .npy file from its header dict and data (padding as NumPy does). */
static void npy_raw_ver(const char *path, int major, const char *dict, const void *data,
                        size_t dlen) {
  StrBuf h = {0};
  sb_puts(&h, dict);
  size_t pre = major == 1 ? 10 : 12;
  while ((pre + h.len + 1) % 64) sb_putc(&h, ' ');
  sb_putc(&h, '\n');
  StrBuf file = {0};
  put_raw(&file, "\x93NUMPY", 6);
  sb_putc(&file, (char)major);
  sb_putc(&file, 0);
  put_le(&file, h.len, major == 1 ? 2 : 4);
  put_raw(&file, h.data, h.len);
  put_raw(&file, data, dlen);
  write_bytes(path, file.data, file.len);
  sb_free(&h);
  sb_free(&file);
}

static void npy_raw(const char *path, const char *dict, const void *data, size_t dlen) {
  npy_raw_ver(path, 1, dict, data, dlen);
}

static bool same_shape(const Tensor *t, int rank, const int64_t *d) {
  Shape s = shape_make(rank, d);
  return shape_eq(&t->shape, &s);
}

/* Float equality bit for bit, so -0.0, subnormals and infinities are checked too. */
static bool same_floats(const float *a, const float *b, int n) {
  for (int k = 0; k < n; k++)
    if (f32_bits(a[k]) != f32_bits(b[k])) return false;
  return true;
}

static bool same_ints(const int64_t *a, const int64_t *b, int n) {
  if (!a) return false;
  for (int k = 0; k < n; k++)
    if (a[k] != b[k]) return false;
  return true;
}

/* Runs fn(arg) in a child with stderr captured; expects exit 1 and exactly
 * `want` on stderr. */
static void expect_error(const char *dir, const char *test, void (*fn)(const void *),
                         const void *arg, const char *want) {
  char *errpath = xformat("%s/stderr.txt", dir);
  fflush(stdout);
  fflush(stderr);
  pid_t pid = fork();
  if (pid == 0) {
    int fd = open(errpath, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) _exit(3);
    dup2(fd, 2);
    close(fd);
    fn(arg);
    _exit(0); /* returned: no error was reported */
  }
  int st = 0;
  waitpid(pid, &st, 0);
  int code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  char *err = t_read_file(errpath, NULL);
  t_check(code == 1 && err && strcmp(err, want) == 0, test,
          "exit status %d, stderr:\n%s\nwanted:\n%s", code, err ? err : "(none)", want);
  free(err);
  free(errpath);
}

static void call_tensorfile_load(const void *path) { tensorfile_load(path); }
static void call_npy_load(const void *path) { npy_load(path); }

/* Expects tensorfile_load(path) to fail with `path: error: msg`. */
static void expect_load_error(const char *dir, const char *test, const char *path,
                              const char *msg) {
  char *want = xformat("%s: error: %s\n", path, msg);
  expect_error(dir, test, call_tensorfile_load, path, want);
  free(want);
}

static void expect_npy_error(const char *dir, const char *test, const char *path,
                             const char *msg) {
  char *want = xformat("%s: error: %s\n", path, msg);
  expect_error(dir, test, call_npy_load, path, want);
  free(want);
}

/* ------------------------------------------------------------- safetensors */

static void test_st_all_dtypes(const char *dir) {
  /* BOOL first with 3 bytes, so every later tensor starts at an odd offset: the
   * decoder must not depend on alignment (UBSan would see it). */
  StEntry e[11];
  memset(e, 0, sizeof e);
  int n = 0;

  e[n] = (StEntry){.name = "flags", .dtype = "BOOL", .rank = 1, .d = {3}};
  sb_putc(&e[n].bytes, 1), sb_putc(&e[n].bytes, 0), sb_putc(&e[n].bytes, 1), n++;

  const float f32v[6] = {1.5f, -0.0f, 1e-40f /* subnormal */, 3.4e38f, -7.25f, INFINITY};
  e[n] = (StEntry){.name = "conv1.weight", .dtype = "F32", .rank = 2, .d = {2, 3}};
  for (int k = 0; k < 6; k++) put_le(&e[n].bytes, f32_bits(f32v[k]), 4);
  n++;

  /* F16: 1, -2, smallest and largest subnormal, a negative subnormal, -0, 65504, -inf. */
  const uint16_t f16b[8] = {0x3C00, 0xC000, 0x0001, 0x03FF, 0x8001, 0x8000, 0x7BFF, 0xFC00};
  const float f16v[8] = {1.0f,   -2.0f, 0x1p-24f, 1023 * 0x1p-24f, -0x1p-24f, -0.0f,
                         65504.0f, -INFINITY};
  e[n] = (StEntry){.name = "half", .dtype = "F16", .rank = 2, .d = {2, 4}};
  for (int k = 0; k < 8; k++) put_le(&e[n].bytes, f16b[k], 2);
  n++;

  const uint16_t bf16b[3] = {0x3F80, 0xC040, 0x4049};
  const float bf16v[3] = {1.0f, -3.0f, 3.140625f};
  e[n] = (StEntry){.name = "bf", .dtype = "BF16", .rank = 1, .d = {3}};
  for (int k = 0; k < 3; k++) put_le(&e[n].bytes, bf16b[k], 2);
  n++;

  const int64_t i8v[4] = {-128, -1, 0, 127};
  e[n] = (StEntry){.name = "q", .dtype = "I8", .rank = 2, .d = {2, 2}};
  for (int k = 0; k < 4; k++) put_le(&e[n].bytes, (uint64_t)i8v[k], 1);
  n++;

  const int64_t i32v[4] = {16777217, INT32_MIN, INT32_MAX, -5};
  e[n] = (StEntry){.name = "ids32", .dtype = "I32", .rank = 1, .d = {4}};
  for (int k = 0; k < 4; k++) put_le(&e[n].bytes, (uint64_t)i32v[k], 4);
  n++;

  const int64_t i64v[3] = {9007199254740993LL /* 2^53 + 1 */, -1099511627783LL, INT64_MIN};
  e[n] = (StEntry){.name = "labels", .dtype = "I64", .rank = 1, .d = {3}};
  for (int k = 0; k < 3; k++) put_le(&e[n].bytes, (uint64_t)i64v[k], 8);
  n++;

  const int64_t u8v[2] = {200, 255}, i16v[2] = {-32768, 32767};
  e[n] = (StEntry){.name = "u", .dtype = "U8", .rank = 1, .d = {2}};
  for (int k = 0; k < 2; k++) put_le(&e[n].bytes, (uint64_t)u8v[k], 1);
  n++;
  e[n] = (StEntry){.name = "s", .dtype = "I16", .rank = 1, .d = {2}};
  for (int k = 0; k < 2; k++) put_le(&e[n].bytes, (uint64_t)i16v[k], 2);
  n++;

  e[n] = (StEntry){.name = "scale", .dtype = "F32", .rank = 0};
  put_le(&e[n].bytes, f32_bits(0.125f), 4);
  n++;
  e[n] = (StEntry){.name = "empty", .dtype = "F32", .rank = 2, .d = {0, 3}};
  n++;

  char *path = xformat("%s/all.safetensors", dir);
  st_write(path, e, n, true);
  TensorFile *tf = tensorfile_load(path);
  t_check(tf->n == n && strcmp(tf->path, path) == 0, "st: all tensors loaded, metadata skipped",
          "n=%d, path %s", tf->n, tf->path);
  bool order = tf->n == n;
  for (int k = 0; order && k < n; k++) order = strcmp(tf->t[k].name, e[k].name) == 0;
  t_check(order, "st: tensors keep the header's order", "names differ");

  const Tensor *t = tensorfile_find(tf, "flags");
  const int64_t boolv[3] = {1, 0, 1};
  t_check(t && t->dtype == DT_BOOL && same_ints(t->i, boolv, 3) && t->f[2] == 1.0f, "st: BOOL",
          "wrong");

  t = tensorfile_find(tf, "conv1.weight");
  t_check(t && t->dtype == DT_F32 && same_shape(t, 2, (int64_t[]){2, 3}) && !t->i &&
              same_floats(t->f, f32v, 6),
          "st: F32 values, shape, no int copy at an odd offset", "wrong");

  t = tensorfile_find(tf, "half");
  t_check(t && t->dtype == DT_F16 && same_floats(t->f, f16v, 8) && !t->i,
          "st: F16 incl. subnormals, negatives, -0 and inf", "wrong");
  if (t)
    for (int k = 0; k < 8; k++)
      if (f32_bits(t->f[k]) != f32_bits(f16v[k]))
        printf("# half[%d] = %a, want %a\n", k, (double)t->f[k], (double)f16v[k]);

  t = tensorfile_find(tf, "bf");
  t_check(t && t->dtype == DT_BF16 && same_floats(t->f, bf16v, 3), "st: BF16", "wrong");

  t = tensorfile_find(tf, "q");
  t_check(t && t->dtype == DT_I8 && same_ints(t->i, i8v, 4) && t->f[0] == -128.0f &&
              t->f[3] == 127.0f,
          "st: I8 in i and f", "wrong");

  t = tensorfile_find(tf, "ids32");
  t_check(t && t->dtype == DT_I32 && same_ints(t->i, i32v, 4) && t->f[0] == 16777216.0f,
          "st: I32 exact in i, rounded in f", "wrong");

  t = tensorfile_find(tf, "labels");
  t_check(t && t->dtype == DT_I64 && same_ints(t->i, i64v, 3) &&
              t->f[0] == 9007199254740992.0f,
          "st: I64 beyond 2^53 exact in i", "i[0]=%lld", t && t->i ? (long long)t->i[0] : 0LL);

  t = tensorfile_find(tf, "u");
  t_check(t && t->dtype == DT_U8 && same_ints(t->i, u8v, 2), "st: U8 unsigned", "wrong");
  t = tensorfile_find(tf, "s");
  t_check(t && t->dtype == DT_I16 && same_ints(t->i, i16v, 2), "st: I16", "wrong");

  t = tensorfile_find(tf, "scale");
  t_check(t && t->shape.rank == 0 && shape_numel(&t->shape) == 1 && t->f[0] == 0.125f,
          "st: rank-0 scalar", "wrong");
  t = tensorfile_find(tf, "empty");
  t_check(t && same_shape(t, 2, (int64_t[]){0, 3}) && t->f, "st: zero-size tensor", "wrong");

  t_check(tensorfile_find(tf, "missing") == NULL && tensorfile_find(tf, "conv1") == NULL,
          "st: find returns NULL for an absent name", "found something");

  /* Every prefix of a valid file must be rejected cleanly (ASan watches). */
  size_t len;
  char *buf = t_read_file(path, &len);
  bool all_rejected = true;
  for (size_t cut = 0; cut < len; cut++) {
    TensorFile out;
    const char *err = safetensors_parse_buffer("x", (const unsigned char *)buf, cut, &out);
    if (!err || out.n != 0 || out.t) all_rejected = false;
    free((void *)err);
  }
  t_check(all_rejected, "st: every truncation of a valid file is an error", "one was accepted");

  TensorFile out;
  const char *err = safetensors_parse_buffer("x", (const unsigned char *)buf, len, &out);
  t_check(!err && out.n == n, "st: parse_buffer accepts the whole file", "%s", err ? err : "");
  tensorfile_clear(&out);
  free(buf);

  for (int k = 0; k < n; k++) sb_free(&e[k].bytes);
  tensorfile_clear(tf);
  free(tf);
  free(path);
}

static void test_st_errors(const char *dir) {
  char *p = xformat("%s/bad.safetensors", dir);
  unsigned char data[64] = {0};

  char *missing = xformat("%s/nope.safetensors", dir);
  expect_load_error(dir, "st err: missing file", missing,
                    "cannot read weights: No such file or directory");
  free(missing);
  missing = xformat("%s/no_such_folder/", dir);
  expect_load_error(dir, "st err: missing folder", missing,
                    "cannot read weights: No such file or directory");
  free(missing);

  write_lit(p, "\x10\0\0\0\0");
  expect_load_error(dir, "st err: shorter than 8 bytes", p,
                    "not a safetensors file: only 5 bytes");

  StrBuf sb = {0};
  put_le(&sb, 1000, 8);
  put_raw(&sb, "{\"a\":1}     ", 12);
  write_bytes(p, sb.data, sb.len);
  sb_free(&sb);
  expect_load_error(dir, "st err: header length beyond the file", p,
                    "not a safetensors file: header length 1000 exceeds the file's size (20 "
                    "bytes)");

  st_raw(p, "{\"w\": {\"dtype\": \"F32\",", data, 0);
  expect_load_error(dir, "st err: bad JSON", p, "safetensors header is not valid JSON");

  st_raw(p, "{\"w\":{\"dtype\":\"I8\",\"shape\":[1],\"data_offsets\":[0,1]}} x", data, 1);
  expect_load_error(dir, "st err: text after the JSON", p,
                    "safetensors header is not valid JSON: text after its end");

  st_raw(p, "[1, 2]", data, 0);
  expect_load_error(dir, "st err: header not an object", p,
                    "safetensors header is not a JSON object");

  st_raw(p, "{\"w\":{\"dtype\":\"F64\",\"shape\":[2],\"data_offsets\":[0,16]}}", data, 16);
  expect_load_error(dir, "st err: unknown dtype", p,
                    "tensor 'w': unsupported dtype 'F64' (expected F32, F16, BF16, I8, I32 or "
                    "I64)");

  st_raw(p, "{\"w\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,20]}}", data, 20);
  expect_load_error(dir, "st err: byte length does not match shape", p,
                    "tensor 'w': data_offsets [0, 20) hold 20 bytes, but dtype F32 and shape "
                    "[2,3] need 24 bytes");

  st_raw(p, "{\"w\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]}}", data, 16);
  expect_load_error(dir, "st err: truncated data", p,
                    "tensor 'w': data ends at byte 24 but the file holds only 16 data bytes "
                    "(truncated file?)");

  st_raw(p, "{\"w\":{\"dtype\":\"F32\",\"shape\":[2,-1],\"data_offsets\":[0,8]}}", data, 8);
  expect_load_error(dir, "st err: negative dimension", p,
                    "tensor 'w': shape[1] is -1; dimensions must be whole numbers from 0 to 2^53");

  st_raw(p, "{\"w\":{\"dtype\":\"F32\",\"shape\":[2,\"3\"],\"data_offsets\":[0,8]}}", data, 8);
  expect_load_error(dir, "st err: dimension not a number", p,
                    "tensor 'w': shape[1] is not a number");

  st_raw(p, "{\"w\":{\"dtype\":\"I8\",\"shape\":[1,1,1,1,1,1,1,1,1],\"data_offsets\":[0,1]}}",
         data, 1);
  expect_load_error(dir, "st err: rank above 8", p,
                    "tensor 'w': shape has 9 dimensions; at most 8 are supported");

  st_raw(p,
         "{\"w\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296,4],"
         "\"data_offsets\":[0,0]}}",
         data, 0);
  expect_load_error(dir, "st err: element count overflows int64", p,
                    "tensor 'w': shape [4294967296,4294967296,4] has too many elements");

  st_raw(p, "{\"w\":{\"shape\":[2],\"data_offsets\":[0,8]}}", data, 8);
  expect_load_error(dir, "st err: missing dtype", p,
                    "tensor 'w': \"dtype\" is missing or not a string");

  st_raw(p, "{\"w\":{\"dtype\":\"F32\",\"data_offsets\":[0,8]}}", data, 8);
  expect_load_error(dir, "st err: missing shape", p,
                    "tensor 'w': \"shape\" is missing or not a list");

  st_raw(p, "{\"w\":{\"dtype\":\"F32\",\"shape\":[2]}}", data, 8);
  expect_load_error(dir, "st err: missing data_offsets", p,
                    "tensor 'w': \"data_offsets\" is missing or not a list of two numbers "
                    "[begin, end]");

  st_raw(p, "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,4]}}", data, 8);
  expect_load_error(dir, "st err: data_offsets reversed", p,
                    "tensor 'w': data_offsets [8, 4) end before they begin");

  st_raw(p, "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0.5,4]}}", data, 8);
  expect_load_error(dir, "st err: fractional data_offsets", p,
                    "tensor 'w': data_offsets [0.5, 4) must be whole numbers from 0 to 2^53");

  st_raw(p, "{\"w\":7}", data, 0);
  expect_load_error(dir, "st err: entry not an object", p,
                    "tensor 'w': expected an object with \"dtype\", \"shape\" and "
                    "\"data_offsets\"");

  st_raw(p,
         "{\"w\":{\"dtype\":\"I8\",\"shape\":[1],\"data_offsets\":[0,1]},"
         "\"w\":{\"dtype\":\"I8\",\"shape\":[1],\"data_offsets\":[1,2]}}",
         data, 2);
  expect_load_error(dir, "st err: duplicated tensor name", p,
                    "tensor 'w': appears more than once in the header");

  free(p);
}

/* --------------------------------------------------------------------- npy */

static void test_npy_save(const char *dir) {
  char *p = xformat("%s/arange.npy", dir);
  const float v3[3] = {0, 1, 2};
  Shape s3 = shape_make(1, (int64_t[]){3});
  t_check(npy_save_f32(p, &s3, v3), "npy save: f32 written", "failed");
  size_t len;
  unsigned char *b = (unsigned char *)t_read_file(p, &len);
  /* np.save(np.arange(3, dtype=np.float32)): header length 118, 128 bytes before the data. */
  const char *dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }";
  bool layout = len == 128 + 12 && memcmp(b, "\x93NUMPY\x01\x00\x76\x00", 10) == 0 &&
                memcmp(b + 10, dict, strlen(dict)) == 0 && b[127] == '\n';
  for (size_t k = 10 + strlen(dict); layout && k < 127; k++) layout = b[k] == ' ';
  layout = layout && memcmp(b + 128, "\0\0\0\0\0\0\x80\x3f\0\0\0\x40", 12) == 0;
  t_check(layout, "npy save: byte-identical to np.save", "len %zu", len);
  free(b);

  Tensor t = npy_load(p);
  t_check(strcmp(t.name, "arange") == 0 && t.dtype == DT_F32 && same_shape(&t, 1, (int64_t[]){3}) &&
              same_floats(t.f, v3, 3) && !t.i,
          "npy: f32 round trip, named after the file", "name %s", t.name);
  tensor_free(&t);
  free(p);

  /* Every rank's header is a multiple of 64 bytes, whatever the digits of the
   * dimensions; a leading 0 keeps the data empty. */
  bool aligned = true;
  for (int rank = 0; rank <= MAX_RANK; rank++) {
    int64_t d[MAX_RANK] = {0}, scale = 1;
    for (int k = 1; k < rank; k++) d[k] = (scale *= 100) + k;
    Shape s = shape_make(rank, d);
    int64_t numel = shape_numel(&s);
    p = xformat("%s/rank%d.npy", dir, rank);
    float *zeros = calloc((size_t)(numel ? numel : 1), sizeof(float));
    if (!npy_save_f32(p, &s, zeros)) aligned = false;
    b = (unsigned char *)t_read_file(p, &len);
    size_t hl = (size_t)(b[8] | b[9] << 8);
    if ((10 + hl) % 64 || b[10 + hl - 1] != '\n' || len != 10 + hl + (size_t)numel * 4)
      aligned = false;
    t = npy_load(p);
    if (!shape_eq(&t.shape, &s)) aligned = false;
    tensor_free(&t);
    free(b);
    free(zeros);
    free(p);
  }
  t_check(aligned, "npy save: header padded to 64 bytes for rank 0..8", "misaligned");

  p = xformat("%s/q.npy", dir);
  const int8_t q[5] = {-128, -1, 0, 1, 127};
  Shape s5 = shape_make(1, (int64_t[]){5});
  npy_save_i8(p, &s5, q);
  b = (unsigned char *)t_read_file(p, &len);
  const char *qdict = "{'descr': '|i1', 'fortran_order': False, 'shape': (5,), }";
  t_check(len == 128 + 5 && memcmp(b + 10, qdict, strlen(qdict)) == 0, "npy save: i8 header",
          "len %zu", len);
  free(b);
  t = npy_load(p);
  t_check(t.dtype == DT_I8 && same_ints(t.i, (int64_t[]){-128, -1, 0, 1, 127}, 5) &&
              t.f[0] == -128.0f,
          "npy: i8 round trip", "wrong");
  tensor_free(&t);
  free(p);

  p = xformat("%s/ids.npy", dir);
  const int32_t ids[6] = {INT32_MIN, -7, 0, 16777217, 3, INT32_MAX};
  Shape s23 = shape_make(2, (int64_t[]){2, 3});
  npy_save_i32(p, &s23, ids);
  t = npy_load(p);
  t_check(t.dtype == DT_I32 && same_shape(&t, 2, (int64_t[]){2, 3}) &&
              same_ints(t.i, (int64_t[]){INT32_MIN, -7, 0, 16777217, 3, INT32_MAX}, 6),
          "npy: i32 round trip", "wrong");
  tensor_free(&t);
  free(p);

  p = xformat("%s/scalar.npy", dir);
  Shape s0 = shape_make(0, NULL);
  const int32_t one = 42;
  npy_save_i32(p, &s0, &one);
  b = (unsigned char *)t_read_file(p, &len);
  t_check(strstr((char *)b + 10, "'shape': (), }") != NULL, "npy save: rank 0 is ()", "%s",
          (char *)b + 10);
  free(b);
  t = npy_load(p);
  t_check(t.shape.rank == 0 && t.i && t.i[0] == 42, "npy: rank-0 round trip", "wrong");
  tensor_free(&t);
  free(p);

  p = xformat("%s/no_such_dir/x.npy", dir);
  t_check(!npy_save_f32(p, &s3, v3), "npy save: false on I/O failure", "returned true");
  free(p);
}

static void test_npy_formats(const char *dir) {
  char *p = xformat("%s/f8.npy", dir);
  StrBuf d = {0};
  const double f8v[3] = {-2.5, 1e300, 0.1};
  for (int k = 0; k < 3; k++) put_le(&d, f64_bits(f8v[k]), 8);
  npy_raw(p, "{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }", d.data, d.len);
  Tensor t = npy_load(p);
  t_check(t.dtype == DT_F32 && t.f[0] == -2.5f && isinf(t.f[1]) && t.f[2] == 0.1f && !t.i,
          "npy: <f8 converted to float32", "wrong");
  tensor_free(&t);
  sb_free(&d);
  free(p);

  p = xformat("%s/i8.npy", dir);
  const int64_t i8v[2] = {9007199254740993LL, INT64_MIN + 1};
  for (int k = 0; k < 2; k++) put_le(&d, (uint64_t)i8v[k], 8);
  /* Keys in another order, double quotes, Python 2 longs. */
  npy_raw(p, "{\"shape\": (2L,), \"fortran_order\": False, \"descr\": \"<i8\"}", d.data, d.len);
  t = npy_load(p);
  t_check(t.dtype == DT_I64 && same_ints(t.i, i8v, 2), "npy: <i8 exact, keys in any order",
          "wrong");
  tensor_free(&t);
  sb_free(&d);
  free(p);

  p = xformat("%s/u1.npy", dir);
  npy_raw(p, "{'descr': '|u1', 'fortran_order': False, 'shape': (1, 3), }", "\xc8\xff\x00", 3);
  t = npy_load(p);
  t_check(t.dtype == DT_U8 && same_shape(&t, 2, (int64_t[]){1, 3}) &&
              same_ints(t.i, (int64_t[]){200, 255, 0}, 3) && t.f[1] == 255.0f,
          "npy: |u1", "wrong");
  tensor_free(&t);
  free(p);

  p = xformat("%s/i2.npy", dir);
  npy_raw(p, "{'descr': '=i2', 'fortran_order': False, 'shape': (2,), }", "\x00\x80\xff\x7f", 4);
  t = npy_load(p);
  t_check(t.dtype == DT_I16 && same_ints(t.i, (int64_t[]){-32768, 32767}, 2), "npy: =i2",
          "wrong");
  tensor_free(&t);
  free(p);

  p = xformat("%s/b1.npy", dir);
  npy_raw(p, "{'descr': '|b1', 'fortran_order': False, 'shape': (3,), }", "\x01\x00\x01", 3);
  t = npy_load(p);
  t_check(t.dtype == DT_BOOL && same_ints(t.i, (int64_t[]){1, 0, 1}, 3), "npy: |b1", "wrong");
  tensor_free(&t);
  free(p);

  p = xformat("%s/f2.npy", dir);
  npy_raw(p, "{'descr': '<f2', 'fortran_order': False, 'shape': (2,), }", "\x01\x80\x00\x3c", 4);
  t = npy_load(p);
  t_check(t.dtype == DT_F16 && t.f[0] == -0x1p-24f && t.f[1] == 1.0f, "npy: <f2 subnormal",
          "wrong");
  tensor_free(&t);
  free(p);

  p = xformat("%s/v2.npy", dir);
  put_le(&d, f32_bits(4.0f), 4);
  npy_raw_ver(p, 2, "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1), }", d.data, d.len);
  t = npy_load(p);
  t_check(t.dtype == DT_F32 && same_shape(&t, 2, (int64_t[]){1, 1}) && t.f[0] == 4.0f,
          "npy: format version 2.0 (4-byte header length)", "wrong");
  tensor_free(&t);
  sb_free(&d);
  free(p);

  /* Every prefix of a valid .npy must be rejected cleanly. */
  p = xformat("%s/ids.npy", dir);
  size_t len;
  char *buf = t_read_file(p, &len);
  bool all_rejected = true;
  for (size_t cut = 0; cut < len; cut++) {
    Tensor out;
    const char *err = npy_parse_buffer("x", (const unsigned char *)buf, cut, &out);
    if (!err || out.f || out.name) all_rejected = false;
    free((void *)err);
  }
  t_check(all_rejected, "npy: every truncation of a valid file is an error", "one was accepted");
  free(buf);
  free(p);
}

static void test_npy_errors(const char *dir) {
  char *p = xformat("%s/bad.npy", dir);
  unsigned char data[64] = {0};

  write_lit(p, "PK\x03\x04 not numpy");
  expect_npy_error(dir, "npy err: bad magic", p, "not a .npy file (bad magic)");

  npy_raw(p, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", data, 20);
  expect_npy_error(dir, "npy err: truncated data", p,
                   "tensor 'bad': data holds 20 bytes, shape (2, 3) of <f4 needs 24 bytes "
                   "(truncated file?)");

  npy_raw(p, "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", data, 12);
  expect_npy_error(dir, "npy err: extra data", p,
                   "tensor 'bad': data holds 12 bytes, shape (2,) of <f4 needs 8 bytes (extra "
                   "bytes after the data)");

  npy_raw(p, "{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }", data, 8);
  expect_npy_error(dir, "npy err: big-endian", p,
                   "tensor 'bad': big-endian dtype '>f4' is not supported");

  npy_raw(p, "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", data, 16);
  expect_npy_error(dir, "npy err: fortran order", p,
                   "tensor 'bad': fortran_order is True; only C-order arrays are supported (save "
                   "np.ascontiguousarray(a))");

  npy_raw(p, "{'descr': '<c8', 'fortran_order': False, 'shape': (2,), }", data, 16);
  expect_npy_error(dir, "npy err: unsupported dtype", p,
                   "tensor 'bad': unsupported dtype '<c8' (expected <f4, <f8, <f2, |i1, |u1, "
                   "<i2, <i4, <i8 or |b1)");

  npy_raw(p, "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,), }", data, 8);
  expect_npy_error(dir, "npy err: structured dtype", p,
                   "tensor 'bad': structured .npy dtypes are not supported");

  npy_raw(p, "{'descr': '<f4', 'fortran_order': False, }", data, 4);
  expect_npy_error(dir, "npy err: missing shape", p,
                   "tensor 'bad': malformed .npy header: missing 'shape'");

  npy_raw(p, "{'descr': '<f4', 'fortran_order': False, 'shape': (1,1,1,1,1,1,1,1,1), }", data,
          4);
  expect_npy_error(dir, "npy err: rank above 8", p,
                   "tensor 'bad': shape has more than 8 dimensions");

  npy_raw(p, "{'descr': '<f4', 'fortran_order': False, 'shape': (-2,), }", data, 4);
  expect_npy_error(dir, "npy err: negative dimension", p,
                   "tensor 'bad': malformed .npy header: expected a dimension >= 0 in 'shape'");

  StrBuf sb = {0};
  put_raw(&sb, "\x93NUMPY\x01\x00\xff\x7f{'descr'", 17);
  write_bytes(p, sb.data, sb.len);
  sb_free(&sb);
  expect_npy_error(dir, "npy err: header length beyond the file", p,
                   ".npy header length 32767 exceeds the file's size (17 bytes)");

  write_lit(p, "\x93NUMPY\x04\x00\x10\x00");
  expect_npy_error(dir, "npy err: unknown version", p, "unsupported .npy format version 4.0");

  /* A broken .npy inside a weights folder is reported at that file. */
  char *folder = xformat("%s/badfolder", dir);
  mkdir(folder, 0755);
  char *inner = xformat("%s/w.npy", folder);
  write_lit(inner, "\x93NUMPX");
  char *want = xformat("%s: error: not a .npy file (bad magic)\n", inner);
  expect_error(dir, "folder err: broken .npy named", call_tensorfile_load, folder, want);
  free(want);
  free(inner);
  free(folder);

  folder = xformat("%s/emptyfolder", dir);
  mkdir(folder, 0755);
  inner = xformat("%s/readme.txt", folder);
  write_lit(inner, "hi");
  expect_load_error(dir, "folder err: no .npy files", folder, "no .npy files in folder");
  free(inner);
  free(folder);
  free(p);
}

static void test_npy_folder(const char *dir) {
  char *folder = xformat("%s/weights", dir);
  mkdir(folder, 0755);
  /* Written out of order: the load sorts by name. */
  const char *names[3] = {"fc.weight", "conv1.bias", "conv1.weight"};
  for (int k = 0; k < 3; k++) {
    char *p = xformat("%s/%s.npy", folder, names[k]);
    float v = (float)k;
    Shape s = shape_make(1, (int64_t[]){1});
    npy_save_f32(p, &s, &v);
    free(p);
  }
  char *junk = xformat("%s/._fc.weight.npy", folder);
  write_lit(junk, "\0\0\0"); /* hidden: skipped */
  free(junk);
  junk = xformat("%s/notes.txt", folder);
  write_lit(junk, "x");
  free(junk);

  TensorFile *tf = tensorfile_load(folder);
  t_check(tf->n == 3 && strcmp(tf->t[0].name, "conv1.bias") == 0 &&
              strcmp(tf->t[1].name, "conv1.weight") == 0 &&
              strcmp(tf->t[2].name, "fc.weight") == 0,
          "folder: every .npy, sorted by name, hidden files skipped", "n=%d", tf->n);
  const Tensor *t = tensorfile_find(tf, "fc.weight");
  t_check(t && t->f[0] == 0.0f && tensorfile_find(tf, "conv1.weight")->f[0] == 2.0f,
          "folder: find by name", "wrong");
  tensorfile_clear(tf);
  free(tf);

  char *slash = xformat("%s/", folder);
  tf = tensorfile_load(slash);
  t_check(tf->n == 3, "folder: trailing slash accepted", "n=%d", tf->n);
  tensorfile_clear(tf);
  free(tf);
  free(slash);
  free(folder);
}

/* ----------------------------------------------------------------- dataset */

typedef struct SamplesCall {
  Tensor t;
  Value v;
} SamplesCall;

static void call_samples(const void *arg) {
  const SamplesCall *c = arg;
  samples_from_tensor(&c->t, &c->v, "data.npy");
}

static SamplesCall samples_case(int trank, const int64_t *td, int vrank, const int64_t *vd) {
  SamplesCall c;
  memset(&c, 0, sizeof c);
  c.t.name = "x";
  c.t.shape = shape_make(trank, td);
  int64_t n = shape_numel(&c.t.shape);
  c.t.f = calloc((size_t)(n ? n : 1), sizeof(float));
  c.v.name = "x";
  c.v.shape = shape_make(vrank, vd);
  return c;
}

static void test_samples(const char *dir) {
  const int64_t img[4] = {1, 1, 8, 8};
  SamplesCall c = samples_case(4, img, 4, img);
  Samples s = samples_from_tensor(&c.t, &c.v, "data.npy");
  t_check(s.n == 1 && s.per_sample == 64 && s.data == c.t.f && !s.labels,
          "samples: the input's shape is one sample", "n=%d per=%lld", s.n,
          (long long)s.per_sample);
  free(c.t.f);

  c = samples_case(4, (int64_t[]){5, 1, 8, 8}, 4, img);
  s = samples_from_tensor(&c.t, &c.v, "data.npy");
  t_check(s.n == 5 && s.per_sample == 64, "samples: batch axis set to N", "n=%d", s.n);
  free(c.t.f);

  c = samples_case(5, (int64_t[]){3, 1, 1, 8, 8}, 4, img);
  s = samples_from_tensor(&c.t, &c.v, "data.npy");
  t_check(s.n == 3 && s.per_sample == 64, "samples: extra leading axis", "n=%d", s.n);
  free(c.t.f);

  c = samples_case(2, (int64_t[]){7, 4}, 1, (int64_t[]){4});
  s = samples_from_tensor(&c.t, &c.v, "data.npy");
  t_check(s.n == 7 && s.per_sample == 4, "samples: no batch axis, N stacked", "n=%d", s.n);
  free(c.t.f);

  c = samples_case(1, (int64_t[]){4}, 1, (int64_t[]){4});
  s = samples_from_tensor(&c.t, &c.v, "data.npy");
  t_check(s.n == 1, "samples: no batch axis, one sample", "n=%d", s.n);
  free(c.t.f);

  c = samples_case(3, (int64_t[]){3, 8, 8}, 4, img);
  expect_error(dir, "samples err: wrong shape", call_samples, &c,
               "data.npy: error: tensor 'x' has shape [3,8,8]; expected [1,1,8,8] (one sample) "
               "or [N,1,8,8] with N samples on the first axis\n");
  free(c.t.f);

  c = samples_case(2, (int64_t[]){3, 5}, 1, (int64_t[]){4});
  expect_error(dir, "samples err: wrong shape without batch axis", call_samples, &c,
               "data.npy: error: tensor 'x' has shape [3,5]; expected [4] (one sample) or [N,4] "
               "with N samples on the first axis\n");
  free(c.t.f);

  c = samples_case(4, (int64_t[]){0, 1, 8, 8}, 4, img);
  expect_error(dir, "samples err: zero samples", call_samples, &c,
               "data.npy: error: tensor 'x' has shape [0,1,8,8]: it holds no samples\n");
  free(c.t.f);
}

int main(void) {
  char *dir = t_tempdir();
  test_st_all_dtypes(dir);
  test_st_errors(dir);
  test_npy_save(dir);
  test_npy_formats(dir);
  test_npy_errors(dir);
  test_npy_folder(dir);
  test_samples(dir);
  free(dir);
  return t_exit_status();
}
