/* test_onnx_qdq.c — QDQ models keep the model's weight scales and codes (tests/onnx/
 * qdq_{pow2,dyadic}.onnx from gen_qdq.py: Q/DQ activations, int8 weights behind
 * DequantizeLinear per channel (conv, axis 0) and per tensor (Gemm), int32 biases):
 *   - `run --int --raw` gives exactly the output codes of the QDQ arithmetic (computed in
 *     exact integers by the generator), in shift mode (power-of-two scales) and in dyadic
 *     mode (arbitrary scales);
 *   - the compiled conv's weight codes are the model's int8 codes, and the report lists
 *     the model's scales and says where they came from;
 *   - shift mode rejects the non-power-of-two scales with an error. */
#define _GNU_SOURCE
#include "testlib.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define D "tests/onnx/"

/* An int8 .npy's data (after its header); n values. */
static const signed char *npy_i8(const char *path, size_t *n, char **whole) {
  size_t len;
  char *b = t_read_file(path, &len);
  *whole = b;
  if (!b || len < 10) return NULL;
  size_t h = 10 + (size_t)(unsigned char)b[8] + 256 * (size_t)(unsigned char)b[9];
  *n = len - h;
  return (const signed char *)(b + h);
}

static void model(const char *shiftc, const char *tmp, const char *m, const char *yaml, const char *scales) {
  char onnx[256], in[256], want[256], w1[256], out[512], dir[512], label[256];
  snprintf(onnx, sizeof onnx, D "%s.onnx", m);
  snprintf(in, sizeof in, D "%s.input.npy", m);
  snprintf(want, sizeof want, D "%s.codes.npy", m);
  snprintf(w1, sizeof w1, D "%s.w1.npy", m);
  snprintf(out, sizeof out, "%s/%s.npy", tmp, m);
  snprintf(dir, sizeof dir, "%s/%s", tmp, m);

  char *a1[] = {(char *)shiftc, "run", onnx, "--int", "--raw", "-c", (char *)yaml, "--input", in, "-o", out, NULL};
  TRun r = t_run(a1);
  size_t n1 = 0, n2 = 0;
  char *b1 = NULL, *b2 = NULL;
  const signed char *got = r.status == 0 ? npy_i8(out, &n1, &b1) : NULL, *exp = npy_i8(want, &n2, &b2);
  snprintf(label, sizeof label, "onnx qdq %s: int8 output codes equal the QDQ arithmetic", m);
  t_check(got && exp && n1 == 6 && n1 == n2 && memcmp(got, exp, n1) == 0, label, "status %d, %zu vs %zu codes\n%s",
          r.status, n1, n2, r.err);
  t_run_free(&r);
  free(b1), free(b2);

  char *a2[] = {(char *)shiftc, "compile", onnx, "-c", (char *)yaml, "-o", dir, NULL};
  r = t_run(a2);
  char path[700];
  snprintf(path, sizeof path, "%s/%s.c", dir, m);
  char *c = t_read_file(path, NULL);
  snprintf(path, sizeof path, "%s/%s.report.json", dir, m);
  char *rep = t_read_file(path, NULL);
  /* The conv's weight array in the generated C, code by code, against the model's. */
  size_t nw = 0;
  char *bw = NULL;
  const signed char *wq = npy_i8(w1, &nw, &bw);
  const char *p = c ? strstr(c, "_c1_weight[72] = {") : NULL;
  size_t same = 0;
  if (p && wq) {
    p = strchr(p, '{') + 1;
    for (size_t k = 0; k < nw; k++) {
      char *end;
      long v = strtol(p, &end, 10);
      if (end == p || v != wq[k]) break;
      same++;
      p = end + strspn(end, ", \n");
    }
  }
  snprintf(label, sizeof label, "onnx qdq %s: compiled conv weights are the model's int8 codes", m);
  t_check(r.status == 0 && nw == 72 && same == nw, label, "status %d, %zu of %zu codes equal\n%s", r.status, same, nw,
          r.err);
  snprintf(label, sizeof label, "onnx qdq %s: the report shows the model's weight scales", m);
  t_check(rep && strstr(rep, scales) && strstr(rep, "weight scales from the model's DequantizeLinear (per channel)") &&
              strstr(rep, "weight scales from the model's DequantizeLinear (per tensor)"),
          label, "%s not in the report", scales);
  t_run_free(&r);
  free(c), free(rep), free(bw);
}

int main(void) {
  const char *shiftc = getenv("SHIFTC") ? getenv("SHIFTC") : "build/san/shiftc";
  char *tmp = t_tempdir();
  model(shiftc, tmp, "qdq_pow2", D "qdq_shift.yaml", "\"scales\": [0.0009765625, 0.00048828125, 0.0009765625, 0.00048828125]");
  model(shiftc, tmp, "qdq_dyadic", D "qdq_dyadic.yaml",
        "\"scales\": [0.003100000089034438, 0.002300000051036477, 0.003700000001117587, 0.0027000000700354576]");
  char out[512];
  snprintf(out, sizeof out, "%s/bad.npy", tmp);
  char *a[] = {(char *)shiftc, "run", D "qdq_dyadic.onnx", "--int", "-c", D "qdq_shift.yaml", "--input",
               D "qdq_dyadic.input.npy", "-o", out, NULL};
  TRun r = t_run(a);
  t_check(r.status == 1 && strstr(r.err, "is not a power of two") && !t_read_file(out, NULL),
          "onnx qdq: shift mode rejects non-power-of-two QDQ scales, writing nothing", "status %d:\n%s", r.status,
          r.err);
  t_run_free(&r);
  return t_exit_status();
}
