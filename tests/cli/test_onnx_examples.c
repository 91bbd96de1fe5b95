/* test_onnx_examples.c — the PyTorch -> ONNX example models (examples/onnx_digits,
 * exported by its export.py with torch.onnx.export):
 *   - `shiftc run --float` on each .onnx is within 1e-4 of PyTorch's outputs on the
 *     8 sample images (<model>.expected.npy);
 *   - `shiftc import` writes a .nn + .safetensors whose float outputs equal the .onnx's
 *     bit for bit; the two encoder layers of digits_encoder2l are written as one `block`
 *     called twice (and the one-layer models have no block);
 *   - the CNN compiles to int8 and its goldens pass `shiftc verify`;
 *   - the Transformer encoders in int8 (slice, reducemean and the Div by sqrt(d) in
 *     integer layers) stay within 4 of the 360 held-out digits (1.1 points) of float
 *     top-1 in both requantization modes (`shiftc eval`; measured 0 to 3 apart). */
#define _GNU_SOURCE
#include "testlib.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EX "examples/onnx_digits/"
static const char *models[] = {"digits_dwcnn", "digits_encoder13", "digits_encoder17", "digits_encoder2l"};

/* A float32 .npy's data (after its header); n values. */
static float *npy_data(const char *path, size_t *n, char **whole) {
  size_t len;
  char *b = t_read_file(path, &len);
  *whole = b;
  if (!b || len < 10) return NULL;
  size_t h = 10 + (size_t)(unsigned char)b[8] + 256 * (size_t)(unsigned char)b[9];
  *n = (len - h) / 4;
  return (float *)(b + h);
}

static int run(const char *label, char **argv) {
  TRun r = t_run(argv);
  int st = r.status;
  if (st != 0) t_fail(label, "status %d:\n%s%s", st, r.out, r.err);
  t_run_free(&r);
  return st;
}

int main(void) {
  const char *shiftc = getenv("SHIFTC") ? getenv("SHIFTC") : "build/san/shiftc";
  char *tmp = t_tempdir();
  for (size_t i = 0; i < sizeof models / sizeof *models; i++) {
    const char *m = models[i];
    char onnx[256], exp[256], out[512], nnout[600], dir[512], nn[1100], label[256];
    snprintf(onnx, sizeof onnx, EX "%s.onnx", m);
    snprintf(exp, sizeof exp, EX "%s.expected.npy", m);
    snprintf(out, sizeof out, "%s/%s.npy", tmp, m);
    snprintf(dir, sizeof dir, "%s/%s", tmp, m);
    snprintf(nn, sizeof nn, "%s/%s.nn", dir, m);
    snprintf(nnout, sizeof nnout, "%s/%s.nn.npy", tmp, m);
    snprintf(label, sizeof label, "onnx example %s: float within 1e-4 of PyTorch", m);
    char *a1[] = {(char *)shiftc, "run", onnx, "--float", "--input", EX "sample.npy", "-o", out, NULL};
    if (run(label, a1)) continue;
    size_t n1 = 0, n2 = 0;
    char *w1, *w2;
    float *got = npy_data(out, &n1, &w1), *want = npy_data(exp, &n2, &w2);
    double worst = 0;
    for (size_t k = 0; got && want && k < n1 && n1 == n2; k++) worst = fmax(worst, fabs((double)got[k] - want[k]));
    t_check(got && want && n1 == n2 && n1 > 0 && worst <= 1e-4, label, "%zu vs %zu values, max |diff| %g", n1, n2,
            worst);
    snprintf(label, sizeof label, "onnx example %s: imported .nn gives the same bits", m);
    char *a2[] = {(char *)shiftc, "import", onnx, "-o", dir, NULL};
    char *a3[] = {(char *)shiftc, "run", nn, "--float", "--input", EX "sample.npy", "-o", nnout, NULL};
    if (run(label, a2) || run(label, a3)) continue;
    size_t n3 = 0;
    char *w3;
    float *again = npy_data(nnout, &n3, &w3);
    t_check(again && n3 == n1 && memcmp(again, got, n1 * 4) == 0, label, "outputs differ");
    char *text = t_read_file(nn, NULL);
    int blocks = 0, calls = 0;
    for (const char *p = text; p && (p = strstr(p, "\nblock layer(")); p++) blocks++;
    for (const char *p = text; p && (p = strstr(p, " = layer(")); p++) calls++;
    bool two = strcmp(m, "digits_encoder2l") == 0;
    snprintf(label, sizeof label, "onnx example %s: import writes %s", m,
             two ? "the repeated encoder layer as one block called twice" : "no block");
    t_check(text && blocks == (two ? 1 : 0) && calls == (two ? 2 : 0), label, "%d block definitions, %d calls",
            blocks, calls);
    free(text);
    free(w1), free(w2), free(w3);
  }
  char cdir[512];
  snprintf(cdir, sizeof cdir, "%s/dwcnn_c", tmp);
  char *c1[] = {(char *)shiftc, "compile", EX "digits_dwcnn.onnx", "-c", EX "digits_dwcnn.yaml", "-o", cdir, NULL};
  char *c2[] = {(char *)shiftc, "verify", cdir, NULL};
  if (!run("onnx example digits_dwcnn: int8 compile", c1) && !run("onnx example digits_dwcnn: goldens verify", c2))
    t_ok("onnx example digits_dwcnn: int8 compile and verify");
  for (size_t i = 1; i < sizeof models / sizeof *models; i++) {
    for (int dy = 0; dy < 2; dy++) {
      char onnx[256], label[256];
      snprintf(onnx, sizeof onnx, EX "%s.onnx", models[i]);
      snprintf(label, sizeof label, "onnx example %s: int8 (%s) top-1 within 4/360 of float", models[i],
               dy ? "dyadic" : "shift");
      char *a[] = {(char *)shiftc, "eval", onnx, "-c", EX "digits_dwcnn.yaml", "--requantize", dy ? "dyadic" : "shift",
                   "--data", EX "test.safetensors", NULL};
      TRun r = t_run(a);
      const char *f = strstr(r.out, "float top-1:"), *q = strstr(r.out, "int8 top-1:");
      int fc = -1, qc = -1, n1 = 0, n2 = 0;
      if (f) sscanf(strchr(f, '(') ? strchr(f, '(') : f, "(%d/%d)", &fc, &n1);
      if (q) sscanf(strchr(q, '(') ? strchr(q, '(') : q, "(%d/%d)", &qc, &n2);
      printf("# %s %s: float %d/%d, int8 %d/%d\n", models[i], dy ? "dyadic" : "shift", fc, n1, qc, n2);
      t_check(r.status == 0 && n1 == 360 && n2 == 360 && fc > 300 && qc >= fc - 4, label, "status %d, float %d, int8 %d:\n%s%s",
              r.status, fc, qc, r.out, r.err);
      t_run_free(&r);
    }
  }
  return t_exit_status();
}
