/* test_onnx_gelu_tanh.c — GELU's tanh form as exporters write it (tests/onnx/gelu_tanh.onnx,
 * from gen_gelu_tanh.py: torch.nn.GELU(approximate='tanh') and BERT's gelu_new with
 * pow(x, 3), opset 13):
 *   - the importer turns each decomposition into one gelu(approximate=tanh) node, with
 *     no tanh, pow or mul left over;
 *   - `shiftc run --float` is within 1e-4 of PyTorch's outputs (gelu_tanh.expected.npy);
 *   - the imported .nn (which spells approximate=tanh) gives the same bits. */
#define _GNU_SOURCE
#include "testlib.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define D "tests/onnx/"

static float *npy_data(const char *path, size_t *n, char **whole) {
  size_t len;
  char *b = t_read_file(path, &len);
  *whole = b;
  if (!b || len < 10) return NULL;
  size_t h = 10 + (size_t)(unsigned char)b[8] + 256 * (size_t)(unsigned char)b[9];
  *n = (len - h) / 4;
  return (float *)(b + h);
}

static int count(const char *s, const char *what) {
  int k = 0;
  for (const char *p = s; p && (p = strstr(p, what)); p++) k++;
  return k;
}

int main(void) {
  const char *shiftc = getenv("SHIFTC") ? getenv("SHIFTC") : "build/san/shiftc";
  char *tmp = t_tempdir();
  char out[512], dir[512], nn[600], nnout[600];
  snprintf(out, sizeof out, "%s/y.npy", tmp);
  snprintf(dir, sizeof dir, "%s/imp", tmp);
  snprintf(nn, sizeof nn, "%s/gelu_tanh.nn", dir);
  snprintf(nnout, sizeof nnout, "%s/y_nn.npy", tmp);

  char *a0[] = {(char *)shiftc, "check", D "gelu_tanh.onnx", NULL};
  TRun r = t_run(a0);
  t_check(r.status == 0 && count(r.out, "= gelu(") == 2 && count(r.out, "approximate=tanh") == 2 &&
              count(r.out, "= tanh(") == 0 && count(r.out, "= mul(") == 0 && count(r.out, "= pow(") == 0,
          "onnx gelu tanh: both tanh-form decompositions become gelu(approximate=tanh)", "status %d:\n%s%s",
          r.status, r.out, r.err);
  t_run_free(&r);

  char *a1[] = {(char *)shiftc, "run", D "gelu_tanh.onnx", "--float", "--input", D "gelu_tanh.input.npy",
                "-o", out, NULL};
  r = t_run(a1);
  size_t n1 = 0, n2 = 0, n3 = 0;
  char *w1 = NULL, *w2 = NULL, *w3 = NULL;
  float *got = r.status == 0 ? npy_data(out, &n1, &w1) : NULL;
  float *want = npy_data(D "gelu_tanh.expected.npy", &n2, &w2);
  double worst = 0;
  for (size_t k = 0; got && want && k < n1 && n1 == n2; k++) worst = fmax(worst, fabs((double)got[k] - want[k]));
  t_check(got && want && n1 == n2 && n1 == 32 && worst <= 1e-4, "onnx gelu tanh: run --float within 1e-4 of PyTorch",
          "status %d, %zu vs %zu values, max |diff| %g\n%s", r.status, n1, n2, worst, r.err);
  t_run_free(&r);

  char *a2[] = {(char *)shiftc, "import", D "gelu_tanh.onnx", "-o", dir, NULL};
  char *a3[] = {(char *)shiftc, "run", nn, "--float", "--input", D "gelu_tanh.input.npy", "-o", nnout, NULL};
  TRun r2 = t_run(a2), r3 = t_run(a3);
  char *text = t_read_file(nn, NULL);
  float *again = npy_data(nnout, &n3, &w3);
  t_check(r2.status == 0 && r3.status == 0 && text && count(text, "approximate=tanh") == 2 && got && again &&
              n3 == n1 && memcmp(again, got, n1 * 4) == 0,
          "onnx gelu tanh: the imported .nn keeps approximate=tanh and gives the same bits", "%s%s", r2.err, r3.err);
  t_run_free(&r2), t_run_free(&r3);
  free(text), free(w1), free(w2), free(w3);
  return t_exit_status();
}
