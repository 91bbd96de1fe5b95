/* test_targets.c — the SIMD targets, bit-exact everywhere (issue 6): every example
 * (and tests/targets/simd_mix, which reaches the kernels' shape corners, and the test models
 * of the ops PP-OCR brought: tests/models/{convt,resize,lut_chain}) is compiled in
 * shift and dyadic mode for avx2, neon and neon-dotprod; each generated folder is built
 * with its own Makefile (-Werror) and its goldens — the integer interpreter's outputs,
 * i.e. the scalar kernels' — must come out bit for bit:
 *   avx2          gcc (and clang, on simd_mix) natively, and under qemu-x86_64 -cpu Haswell, which
 *                 traps any AVX-512 instruction
 *   neon          CROSS=aarch64-linux-gnu- (and CC="clang --target=aarch64-linux-gnu" on simd_mix)
 *                 under qemu-aarch64 -cpu cortex-a53 (no dot product), and
 *                 CROSS=arm-linux-gnueabihf- (ARMv7, -mfpu=neon) under qemu-arm
 *   neon-dotprod  under qemu-aarch64 -cpu max; under -cpu cortex-a53 it must die of
 *                 SIGILL, which shows sdot is used, and only there
 * The vector requantization is checked against shiftc_rt.h on random accumulators
 * (tests/targets/requant_check.c) on each ISA. Tools that are missing skip their checks
 * with a note; tools/ensure-deps.sh installs them.
 * The avx2-family VNNI targets (avx2-vnni, avx512-vnni) are checked as check_vnni says.
 * Two programs share this file so that make test runs them side by side: test_targets
 * (TARGETS_PART 0: the x86 targets and the per-ISA kernel checks) and test_targets_arm
 * (TARGETS_PART 1: neon and neon-dotprod under qemu). */
#ifndef TARGETS_PART
#define TARGETS_PART 0
#endif
#define _GNU_SOURCE
#include "testlib.h"

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STRICT "-std=c99 -O2 -Wall -Wextra -pedantic -Werror"
#define GOLDENS 8 /* what the examples store (golden: 8) */
#define QEMU_A64 "qemu-aarch64", "-L", "/usr/aarch64-linux-gnu"
#define QEMU_A32 "qemu-arm", "-L", "/usr/arm-linux-gnueabihf"

typedef struct Model {
  const char *name, *nn, *yaml;
  int goldens; /* what its configuration stores (golden:) */
} Model;

static const Model models[] = {
    {"digits_mlp", "examples/digits_mlp/digits_mlp.nn", "examples/digits_mlp/digits_mlp.yaml", GOLDENS},
    {"digits_cnn", "examples/digits_cnn/digits_cnn.nn", "examples/digits_cnn/digits_cnn.yaml", GOLDENS},
    {"mnist_cnn", "examples/mnist_cnn/mnist_cnn.nn", "examples/mnist_cnn/mnist_cnn.yaml", GOLDENS},
    {"digits_cnn_w4", "examples/digits_cnn_w4/digits_cnn_w4.nn", "examples/digits_cnn_w4/digits_cnn_w4.yaml", GOLDENS},
    {"digits_cnn_w5", "examples/digits_cnn_w5/digits_cnn_w5.nn", "examples/digits_cnn_w5/digits_cnn_w5.yaml", GOLDENS},
    {"digits_vit", "examples/digits_vit/digits_vit.nn", "examples/digits_vit/digits_vit.yaml", GOLDENS},
    {"digits_vit_l1", "examples/digits_vit_l1/digits_vit_l1.nn", "examples/digits_vit_l1/digits_vit_l1.yaml", GOLDENS},
    {"digits_dwcnn", "examples/onnx_digits/digits_dwcnn.onnx", "examples/onnx_digits/digits_dwcnn.yaml", GOLDENS},
    {"digits_encoder2l", "examples/onnx_digits/digits_encoder2l.onnx", "examples/onnx_digits/digits_dwcnn.yaml", GOLDENS},
    {"simd_mix", "tests/targets/simd_mix.nn", "tests/targets/simd_mix.yaml", GOLDENS},
    /* the ops PP-OCR brought (the SIMD targets run their scalar kernels): conv_transpose2d,
     * resize nearest and bilinear, an elementwise chain as one table */
    {"convt", "tests/models/convt/convt.nn", "tests/models/convt/convt.yaml", 2},
    {"resize", "tests/models/resize/resize.nn", "tests/models/resize/resize.yaml", 2},
    {"lut_chain", "tests/models/lut_chain/lut_chain.nn", "tests/models/lut_chain/lut_chain.yaml", 2},
};
static const char *modes[] = {"shift", "dyadic"};

static const char *shiftc;
static bool has_gcc, has_clang, has_a64, has_a64_clang, has_a32, has_qemu_a64, has_qemu_a32, has_qemu_x86, cpu_avx2;

static bool have(char *const argv[]) {
  TRun r = t_run(argv);
  bool ok = r.status == 0;
  t_run_free(&r);
  return ok;
}

static void skip(const char *label, const char *why) { printf("ok - %s # skip: %s\n", label, why); }

/* make -B in dir with the given variables; true on success (else one failure). */
static bool build(const char *dir, const char *label, const char *var1, const char *var2) {
  char *cflags = t_fmt("CFLAGS=%s", STRICT);
  char *argv[] = {"make", "-B", "-s", "-C", (char *)dir, cflags, (char *)var1, (char *)var2, NULL};
  TRun m = t_run(argv);
  bool ok = m.status == 0;
  if (!ok) t_fail(label, "make %s %s failed (status %d):\n%s%s", var1 ? var1 : "", var2 ? var2 : "", m.status, m.out, m.err);
  t_run_free(&m);
  free(cflags);
  return ok;
}

/* Runs argv; expects exit 0 and "N/N goldens bit-exact" (or the requant line). */
static void run_exact(char *const argv[], const char *want, const char *label) {
  TRun r = t_run(argv);
  t_check(r.status == 0 && strstr(r.out, want) != NULL, label, "%s exited %d, expected '%s':\n%s%s", argv[0],
          r.status, want, r.out, r.err);
  t_run_free(&r);
}

static TRun compile(const Model *m, const char *mode, const char *target, const char *outdir) {
  char *argv[] = {(char *)shiftc, "compile", (char *)m->nn, "-c", (char *)m->yaml, "--requantize", (char *)mode,
                  "--target", (char *)target, "-o", (char *)outdir, NULL};
  return t_run(argv);
}

/* What the program's machine code uses: vpdpbusd instructions, EVEX-encoded ones (first
 * opcode byte 0x62: AVX-512 in any form), and zmm registers. */
typedef struct IsaUse {
  int dpbusd, evex, zmm;
} IsaUse;

static bool scan_isa(const char *prog, IsaUse *u) {
  char *cmd = t_fmt("objdump -d --no-show-raw-insn %s >/dev/null && objdump -d %s | awk -F'\t' "
                    "'$3 ~ /vpdpbusd/ { d++ } $2 ~ /^62 / && $3 != \"\" { e++ } $3 ~ /zmm/ { z++ } "
                    "END { printf \"%%d %%d %%d\\n\", d, e, z }'",
                    prog, prog);
  char *sh[] = {"sh", "-c", cmd, NULL};
  TRun r = t_run(sh);
  bool ok = r.status == 0 && sscanf(r.out, "%d %d %d", &u->dpbusd, &u->evex, &u->zmm) == 3;
  t_run_free(&r);
  free(cmd);
  return ok;
}

/* avx2-vnni / avx512-vnni: the goldens with vpdpbusd emulated (SC_VNNI_YMM/ZMM, natively;
 * no VNNI here to run the real instruction), then the real build's machine code: VNNI
 * where a layer packs, and no AVX-512 encoding at all in avx2-vnni. */
static void check_vnni(const Model *m, const char *mode, const char *dir, const char *want, bool zmm) {
  char *prog = t_fmt("%s/%s_test", dir, m->name), label[256];
  const char *name = zmm ? "avx512-vnni" : "avx2-vnni";
  snprintf(label, sizeof label, "targets %s %s %s: vpdpbusd emulated on AVX2, native, %s", m->name, mode, name, want);
  if (!has_gcc || !cpu_avx2) {
    skip(label, "no gcc or no AVX2");
  } else if (build(dir, label, zmm ? "TARGET_CFLAGS=-mavx2 -mfma -DSC_VNNI_ZMM" : "TARGET_CFLAGS=-mavx2 -mfma -DSC_VNNI_YMM",
                   NULL)) {
    char *native[] = {prog, NULL};
    run_exact(native, want, label);
  }
  snprintf(label, sizeof label, "targets %s %s %s: its own flags build; machine code has %s", m->name, mode, name,
           zmm ? "zmm vpdpbusd" : "vpdpbusd (VEX) and no EVEX/zmm");
  IsaUse u;
  if (!has_gcc) {
    skip(label, "no gcc");
  } else if (build(dir, label, NULL, NULL)) {
    if (!scan_isa(prog, &u)) t_fail(label, "objdump failed on %s", prog);
    else if (zmm) t_check(u.dpbusd > 0 && u.zmm > 0, label, "vpdpbusd %d, zmm %d", u.dpbusd, u.zmm);
    else t_check(u.dpbusd > 0 && u.evex == 0 && u.zmm == 0, label, "vpdpbusd %d, EVEX %d, zmm %d",
                 u.dpbusd, u.evex, u.zmm);
  }
  free(prog);
}

static void check_avx2(const Model *m, const char *mode, const char *dir, const char *want) {
  char *prog = t_fmt("%s/%s_test", dir, m->name), label[256];
  const char *ccs[] = {"gcc", "clang"};
  for (int c = 0; c < 2; c++) {
    if (c == 1 && strcmp(m->name, "simd_mix") != 0) break; /* clang on the corner cases only: time */
    snprintf(label, sizeof label, "targets %s %s avx2: %s build", m->name, mode, ccs[c]);
    if (!(c ? has_clang : has_gcc)) {
      skip(label, "no compiler");
      continue;
    }
    char *cc = t_fmt("CC=%s", ccs[c]);
    bool built = build(dir, label, cc, NULL);
    free(cc);
    if (!built) continue;
    t_ok(label);
    IsaUse u;
    snprintf(label, sizeof label, "targets %s %s avx2 (%s): machine code has no VNNI, no EVEX, no zmm", m->name, mode,
             ccs[c]);
    if (!scan_isa(prog, &u)) t_fail(label, "objdump failed on %s", prog);
    else t_check(u.dpbusd == 0 && u.evex == 0 && u.zmm == 0, label, "vpdpbusd %d, EVEX %d, zmm %d", u.dpbusd, u.evex, u.zmm);
    snprintf(label, sizeof label, "targets %s %s avx2 (%s): native, %s", m->name, mode, ccs[c], want);
    char *native[] = {prog, NULL};
    if (cpu_avx2) run_exact(native, want, label);
    else skip(label, "this CPU has no AVX2");
    snprintf(label, sizeof label, "targets %s %s avx2 (%s): qemu-x86_64 -cpu Haswell (no AVX-512), %s", m->name,
             mode, ccs[c], want);
    char *qemu[] = {"qemu-x86_64", "-cpu", "Haswell", prog, NULL};
    if (has_qemu_x86) run_exact(qemu, want, label);
    else skip(label, "no qemu-x86_64 (qemu-user)");
  }
  free(prog);
}

static void check_neon(const Model *m, const char *mode, const char *dir, const char *want) {
  char *prog = t_fmt("%s/%s_test", dir, m->name), label[256];
  /* AArch64 with gcc and clang, under a Cortex-A53 (ARMv8.0: no dot product). */
  for (int c = 0; c < 2; c++) {
    if (c == 1 && strcmp(m->name, "simd_mix") != 0) break;
    const char *how = c ? "CC=clang --target=aarch64-linux-gnu" : "CROSS=aarch64-linux-gnu-";
    snprintf(label, sizeof label, "targets %s %s neon: make %s, qemu-aarch64 -cpu cortex-a53, %s", m->name, mode,
             how, want);
    if (!(c ? has_a64_clang : has_a64) || !has_qemu_a64) {
      skip(label, c ? "no clang or no AArch64 libc (libc6-dev-arm64-cross), or no qemu-aarch64"
                    : "no aarch64-linux-gnu-gcc or qemu-aarch64");
      continue;
    }
    if (!build(dir, label, how, NULL)) continue;
    char *run[] = {QEMU_A64, "-cpu", "cortex-a53", prog, NULL};
    run_exact(run, want, label);
  }
  snprintf(label, sizeof label, "targets %s %s neon: make CROSS=arm-linux-gnueabihf- (ARMv7 -mfpu=neon), qemu-arm, %s",
           m->name, mode, want);
  if (!has_a32 || !has_qemu_a32) {
    skip(label, "no arm-linux-gnueabihf-gcc or qemu-arm");
  } else if (build(dir, label, "CROSS=arm-linux-gnueabihf-", NULL)) {
    char *run[] = {QEMU_A32, prog, NULL};
    run_exact(run, want, label);
  }
  free(prog);
}

static void check_dotprod(const Model *m, const char *mode, const char *dir, const char *want) {
  char *prog = t_fmt("%s/%s_test", dir, m->name), label[256];
  snprintf(label, sizeof label, "targets %s %s neon-dotprod: qemu-aarch64 -cpu max, %s", m->name, mode, want);
  if (!has_a64 || !has_qemu_a64) {
    skip(label, "no aarch64-linux-gnu-gcc or qemu-aarch64");
  } else if (build(dir, label, "CROSS=aarch64-linux-gnu-", NULL)) {
    char *run[] = {QEMU_A64, "-cpu", "max", prog, NULL};
    run_exact(run, want, label);
    /* sdot runs in the packed GEMM: a model with no layer on it (only the scalar kernels
     * of conv_transpose2d or resize) has nothing to trap */
    char *path = t_fmt("%s/%s.c", dir, m->name);
    char *src = t_read_file(path, NULL);
    const bool gemm = src && (strstr(src, "sc_conv2d_s8_packed(") || strstr(src, "sc_linear_s8_packed("));
    free(src);
    free(path);
    if (strcmp(mode, "shift") == 0 && gemm) {
      snprintf(label, sizeof label, "targets %s neon-dotprod: traps (SIGILL) on a Cortex-A53: it uses sdot", m->name);
      char *a53[] = {QEMU_A64, "-cpu", "cortex-a53", prog, NULL};
      TRun r = t_run(a53);
      t_check(r.status == 128 + SIGILL, label, "status %d, expected %d:\n%s%s", r.status, 128 + SIGILL, r.out, r.err);
      t_run_free(&r);
    }
  }
  free(prog);
}

/* The Transformer examples reach the SIMD kernels of the integer Transformer ops
 * (sc_simd.h, end): the generated code calls them rather than the scalar ones. */
static void check_transformer_calls(const Model *m, const char *mode, const char *target, const char *dir) {
  if (strncmp(m->name, "digits_vit", 10) != 0) return;
  static const char *const calls[] = {"sc_igelu_s8_simd(", "sc_matmul_softmax_s8_simd(", "sc_layernorm_s8_simd("};
  char *path = t_fmt("%s/%s.c", dir, m->name);
  char *src = t_read_file(path, NULL);
  for (size_t i = 0; i < sizeof calls / sizeof *calls; i++) {
    char label[256];
    snprintf(label, sizeof label, "targets %s %s %s: the generated code calls %.*s", m->name, mode, target,
             (int)strlen(calls[i]) - 1, calls[i]);
    t_check(src && strstr(src, calls[i]), label, "not in %s", path);
  }
  free(src);
  free(path);
}

/* A check program of tests/targets/ (name_check.c, plus the ISA's runtime files `kernel`
 * when not NULL: "sc_packed_gemm" -> runtime/<isa>/sc_packed_gemm_*.c) built and run
 * per ISA; it must print "<name>: ... 0 mismatches". */
static void check_isa(const char *tmp, const char *name, const char *kernel, const char *what) {
  char *src = t_fmt("tests/targets/%s_check.c", name);
  char label[256];
  struct {
    const char *what, *cc, *flags, *isa;
    bool ok;
    const char *run[6];
  } v[] = {
      {"avx2 (native)", "gcc", "-mavx2 -mfma", "avx2", has_gcc && cpu_avx2, {NULL}},
      {"avx2 (qemu-x86_64 -cpu Haswell)", "gcc", "-mavx2 -mfma", "avx2", has_gcc && has_qemu_x86,
       {"qemu-x86_64", "-cpu", "Haswell", NULL}},
      /* the VNNI targets' kernels with vpdpbusd computed from AVX2 (sc_avx2_dpbusd): this
       * machine class has no VNNI, and qemu 7.2 emulates neither AVX-VNNI nor AVX-512 */
      {"avx2-vnni layout, vpdpbusd emulated (native)", "gcc", "-mavx2 -mfma -DSC_VNNI_YMM", "avx2",
       has_gcc && cpu_avx2, {NULL}},
      {"avx512-vnni layout, vpdpbusd emulated (native)", "gcc", "-mavx2 -mfma -DSC_VNNI_ZMM", "avx2",
       has_gcc && cpu_avx2, {NULL}},
      {"neon AArch64 (qemu-aarch64 -cpu cortex-a53)", "aarch64-linux-gnu-gcc", "", "neon", has_a64 && has_qemu_a64,
       {QEMU_A64, "-cpu", "cortex-a53", NULL}},
      {"neon-dotprod AArch64 (qemu-aarch64 -cpu max)", "aarch64-linux-gnu-gcc", "-march=armv8.2-a+dotprod", "neon",
       has_a64 && has_qemu_a64, {QEMU_A64, "-cpu", "max", NULL}},
      {"neon ARMv7 (qemu-arm)", "arm-linux-gnueabihf-gcc", "-mfpu=neon", "neon", has_a32 && has_qemu_a32,
       {QEMU_A32, NULL}},
  };
  for (size_t i = 0; i < sizeof v / sizeof *v; i++) {
    snprintf(label, sizeof label, "targets: %s, %s", what, v[i].what);
    if (!v[i].ok) {
      skip(label, "missing compiler, emulator or CPU feature");
      continue;
    }
    char *out = t_fmt("%s/%s_%zu", tmp, name, i);
    /* the GEMM check also runs sc_matmul_s8_packed and sc_conv2d_s8_packed (the drivers)
     * against sc_matmul_s8 and sc_conv2d_s8 */
    char *extra = kernel ? t_fmt("runtime/%s/%s_*.c runtime/simd/sc_packed_s8.c runtime/sc_matmul_s8.c runtime/sc_conv2d_s8.c%s", v[i].isa, kernel,
                             strcmp(v[i].isa, "avx2") == 0 ? " runtime/avx2/sc_dwconv_s8_avx2.c" : "")
                         : t_fmt("%s", "");
    char *cmd = t_fmt("%s %s %s -Iruntime -Iruntime/simd -Iruntime/%s -o %s %s %s", v[i].cc, STRICT, v[i].flags,
                      v[i].isa, out, src, extra);
    free(extra);
    char *sh[] = {"sh", "-c", cmd, NULL};
    TRun b = t_run(sh);
    if (b.status != 0) {
      t_fail(label, "%s failed:\n%s%s", cmd, b.out, b.err);
    } else {
      char *argv[8];
      int n = 0;
      for (int k = 0; v[i].run[k]; k++) argv[n++] = (char *)v[i].run[k];
      argv[n++] = out;
      argv[n] = NULL;
      run_exact(argv, " 0 mismatches", label);
    }
    t_run_free(&b);
    free(out);
    free(cmd);
  }
  free(src);
}

int main(void) {
  /* The release build compiles here: ~100 compiles of calibrated models, each one
   * under the sanitizers in test_goldens already; this test is about the targets. */
  shiftc = getenv("SHIFTC_RELEASE") ? getenv("SHIFTC_RELEASE") : getenv("SHIFTC") ? getenv("SHIFTC") : "build/san/shiftc";
  unsetenv("MAKEFLAGS"); /* the generated Makefile must not see the outer make's */
  unsetenv("MFLAGS");
  unsetenv("MAKELEVEL");
  char *v_gcc[] = {"gcc", "--version", NULL}, *v_clang[] = {"clang", "--version", NULL};
  char *v_a64[] = {"aarch64-linux-gnu-gcc", "--version", NULL}, *v_a32[] = {"arm-linux-gnueabihf-gcc", "--version", NULL};
  char *v_qa64[] = {"qemu-aarch64", "--version", NULL}, *v_qa32[] = {"qemu-arm", "--version", NULL};
  char *v_qx86[] = {"qemu-x86_64", "--version", NULL};
  /* clang cross-compiles with the GCC cross toolchain's libc: it needs its headers */
  char *v_a64_clang[] = {"test", "-e", "/usr/aarch64-linux-gnu/include/stdio.h", NULL};
  has_gcc = have(v_gcc);
  has_clang = have(v_clang);
  has_a64 = have(v_a64);
  has_a64_clang = has_clang && have(v_a64_clang);
  has_a32 = have(v_a32);
  has_qemu_a64 = have(v_qa64);
  has_qemu_a32 = have(v_qa32);
  has_qemu_x86 = have(v_qx86);
  __builtin_cpu_init();
  cpu_avx2 = __builtin_cpu_supports("avx2");

  char *tmp = t_tempdir();
  if (TARGETS_PART == 0) {
    check_isa(tmp, "requant", NULL, "vector requantization == sc_requant_apply");
    check_isa(tmp, "gemm", "sc_packed_gemm", "packed GEMM == the scalar sum and requantization");
  }
  char want[64];
  static const char *targets[] = {"avx2", "neon", "neon-dotprod", "avx2-vnni", "avx512-vnni"};
  for (size_t i = 0; i < sizeof models / sizeof *models; i++)
    for (size_t k = 0; k < sizeof modes / sizeof *modes; k++)
      for (size_t t = 0; t < sizeof targets / sizeof *targets; t++) {
        const Model *m = &models[i];
        snprintf(want, sizeof want, "%d/%d goldens bit-exact", m->goldens, m->goldens);
        /* the VNNI targets differ from avx2 only in the GEMM, which gemm_check covers in
         * both requantizations: their goldens in dyadic mode (and simd_mix in both) */
        if (t >= 3 && k == 0 && strcmp(m->name, "simd_mix") != 0) continue;
        if ((t == 1 || t == 2) != (TARGETS_PART == 1)) continue; /* this program's half */
        char *dir = t_fmt("%s/%s_%s_%s", tmp, m->name, modes[k], targets[t]);
        char label[256];
        snprintf(label, sizeof label, "targets %s %s %s: compile", m->name, modes[k], targets[t]);
        TRun r = compile(m, modes[k], targets[t], dir);
        bool ok = t_check(r.status == 0, label, "status %d:\n%s%s", r.status, r.out, r.err);
        t_run_free(&r);
        if (ok) {
          check_transformer_calls(m, modes[k], targets[t], dir);
          if (t == 0) check_avx2(m, modes[k], dir, want);
          else if (t == 1) check_neon(m, modes[k], dir, want);
          else if (t == 2) check_dotprod(m, modes[k], dir, want);
          else check_vnni(m, modes[k], dir, want, t == 4);
        }
        free(dir);
      }
  return t_exit_status();
}
