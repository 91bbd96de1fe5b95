/* test_onnx_opset9.c — opset 9's attribute forms (tests/onnx/opset9.onnx from
 * gen_opset9.py: Slice with starts/ends/axes attributes, Pad with pads/value attributes,
 * Clip with min/max attributes): the importer maps them as it maps the input forms of
 * later opsets, and `shiftc run --float` equals numpy's output (exact: copies, a constant
 * and a clamp, no arithmetic). Real opset-9 models (PP-OCR rec and cls) are checked
 * against ONNX Runtime by test_onnx_ort.c. */
#define _GNU_SOURCE
#include "testlib.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define D "tests/onnx/"

/* A float32 .npy's data (after its header); n values. */
static const float *npy_f32(const char *path, size_t *n, char **whole) {
  size_t len;
  char *b = t_read_file(path, &len);
  *whole = b;
  *n = 0;
  if (!b || len < 10) return NULL;
  size_t h = 10 + (size_t)(unsigned char)b[8] + 256 * (size_t)(unsigned char)b[9];
  if (h > len) return NULL;
  *n = (len - h) / 4;
  return (const float *)(const void *)(b + h);
}

int main(void) {
  const char *shiftc = getenv("SHIFTC") ? getenv("SHIFTC") : "build/san/shiftc";
  char *tmp = t_tempdir(), *out = t_fmt("%s/y.npy", tmp);
  char *argv[] = {(char *)shiftc, "run", D "opset9.onnx", "--float", "--input", D "opset9.input.npy", "-o", out, NULL};
  TRun r = t_run(argv);
  size_t n1 = 0, n2 = 0;
  char *w1 = NULL, *w2 = NULL;
  const float *got = r.status == 0 ? npy_f32(out, &n1, &w1) : NULL, *want = npy_f32(D "opset9.expected.npy", &n2, &w2);
  t_check(got && want && n1 == n2 && n1 == 3 * 3 * 7 && memcmp(got, want, n1 * 4) == 0,
          "onnx opset 9: Slice, Pad and Clip in attribute form give numpy's output exactly",
          "status %d, %zu vs %zu values:\n%s", r.status, n1, n2, r.err);
  t_run_free(&r);
  free(w1), free(w2), free(out), free(tmp);
  return t_exit_status();
}
