/* fuzz_weights.c — libFuzzer target for the .safetensors and .npy parsers.
 *
 *   clang -g -fsanitize=fuzzer,address,undefined -Icompiler compiler/weights.c \
 *     compiler/util.c compiler/diag.c compiler/tensor.c tests/fuzz/fuzz_weights.c \
 *     -lcjson -lm -o /tmp/fuzz_weights && /tmp/fuzz_weights -max_total_time=60
 *
 * The public loaders exit(1) on bad input, which libFuzzer counts as a crash, so
 * this drives weights.c's non-exiting core directly. Each input is tried four ways:
 * as a whole .safetensors file, as a whole .npy file, and framed — given a valid
 * length prefix or magic — so that mutations reach the JSON and the header dict
 * instead of dying at the first length check. Everything parsed is freed, so the
 * leak checker stays on. */
#include "shiftc.h"

#include <stdlib.h>
#include <string.h>

const char *safetensors_parse_buffer(const char *name, const unsigned char *buf, size_t len,
                                     TensorFile *out);
const char *npy_parse_buffer(const char *name, const unsigned char *buf, size_t len,
                             Tensor *out);
void tensor_free(Tensor *t);
void tensorfile_clear(TensorFile *tf);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void try_safetensors(const unsigned char *buf, size_t len) {
  TensorFile tf;
  const char *err = safetensors_parse_buffer("fuzz.safetensors", buf, len, &tf);
  if (err) {
    /* A failed parse must leave nothing behind. */
    if (tf.n != 0 || tf.t || tf.path) abort();
    free((void *)err);
    return;
  }
  for (int k = 0; k < tf.n; k++) {
    int64_t numel = shape_numel(&tf.t[k].shape);
    /* Touch the first and last element: ASan checks the buffers' sizes. */
    if (numel > 0) {
      volatile float f0 = tf.t[k].f[0], f1 = tf.t[k].f[numel - 1];
      (void)f0, (void)f1;
      if (tf.t[k].i) {
        volatile int64_t i0 = tf.t[k].i[0], i1 = tf.t[k].i[numel - 1];
        (void)i0, (void)i1;
      }
    }
  }
  tensorfile_clear(&tf);
}

static void try_npy(const unsigned char *buf, size_t len) {
  Tensor t;
  const char *err = npy_parse_buffer("fuzz", buf, len, &t);
  if (err) {
    if (t.f || t.i || t.name) abort();
    free((void *)err);
    return;
  }
  int64_t numel = shape_numel(&t.shape);
  if (numel > 0) {
    volatile float f = t.f[numel - 1];
    (void)f;
  }
  tensor_free(&t);
}

/* The input as JSON header and data: the header runs to the last '}'. */
static void try_framed_safetensors(const uint8_t *data, size_t size) {
  size_t hlen = size;
  while (hlen > 0 && data[hlen - 1] != '}') hlen--;
  unsigned char *buf = malloc(size + 8);
  if (!buf) return;
  for (int b = 0; b < 8; b++) buf[b] = (unsigned char)((uint64_t)hlen >> (8 * b));
  if (size) memcpy(buf + 8, data, size);
  try_safetensors(buf, size + 8);
  free(buf);
}

/* The input as a version 1.0 header dict and data: the dict runs to the first '\n'. */
static void try_framed_npy(const uint8_t *data, size_t size) {
  const uint8_t *nl = size ? memchr(data, '\n', size) : NULL;
  size_t hlen = nl ? (size_t)(nl - data) + 1 : size;
  if (hlen > 0xffff) return;
  unsigned char *buf = malloc(size + 10);
  if (!buf) return;
  memcpy(buf, "\x93NUMPY\x01\x00", 8);
  buf[8] = (unsigned char)(hlen & 0xff);
  buf[9] = (unsigned char)(hlen >> 8);
  if (size) memcpy(buf + 10, data, size);
  try_npy(buf, size + 10);
  free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  try_safetensors(data, size);
  try_npy(data, size);
  try_framed_safetensors(data, size);
  try_framed_npy(data, size);
  return 0;
}
