/* test_baremetal.c — the bare-metal build (issue 6, item 4): digits_cnn's scalar code
 * and runtime built with arm-none-eabi-gcc -mcpu=cortex-m4 pass their goldens under
 * qemu-system-arm -M mps2-an386 through `shiftc verify --board mps2-an386`, whose
 * flash/RAM table (model, runtime, test, libc) lands in the report; a golden changed
 * by one code makes it fail; a SIMD folder or an unknown board is a user error. */
#define _GNU_SOURCE
#include "testlib.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool have(char *const argv[]) {
  TRun r = t_run(argv);
  bool ok = r.status == 0;
  t_run_free(&r);
  return ok;
}

/* The flash and RAM numbers of the size table's line that starts with `part`. */
static bool row(const char *text, const char *part, long *flash, long *ram) {
  const char *p = text ? strstr(text, part) : NULL;
  if (!p) return false;
  p = strchr(p, ')');
  return p && sscanf(p + 1, "%ld %ld", flash, ram) == 2;
}

int main(void) {
  const char *shiftc = getenv("SHIFTC") ? getenv("SHIFTC") : "build/san/shiftc";
  unsetenv("MAKEFLAGS");
  unsetenv("MFLAGS");
  unsetenv("MAKELEVEL");
  char *v_gcc[] = {"arm-none-eabi-gcc", "--version", NULL}, *v_qemu[] = {"qemu-system-arm", "--version", NULL};
  char *v_pico[] = {"test", "-e", "/usr/lib/picolibc/arm-none-eabi/picolibc.specs", NULL};
  const char *label = "baremetal digits_cnn: shiftc verify --board mps2-an386, 8/8 goldens on a Cortex-M4";
  if (!have(v_gcc) || !have(v_qemu) || !have(v_pico)) {
    printf("ok - %s # skip: needs gcc-arm-none-eabi, picolibc-arm-none-eabi, qemu-system-arm\n", label);
    return 0;
  }
  char *tmp = t_tempdir();
  char dir[512], simd[512], report[600];
  snprintf(dir, sizeof dir, "%s/digits_cnn", tmp);
  snprintf(simd, sizeof simd, "%s/digits_cnn_avx2", tmp);
  snprintf(report, sizeof report, "%s/digits_cnn.report.md", dir);
  char *compile[] = {(char *)shiftc, "compile", "examples/digits_cnn/digits_cnn.nn", "-c",
                     "examples/digits_cnn/digits_cnn.yaml", "-o", dir, NULL};
  TRun r = t_run(compile);
  if (!t_check(r.status == 0, "baremetal digits_cnn: compile", "status %d:\n%s%s", r.status, r.out, r.err))
    return t_exit_status();
  t_run_free(&r);

  char *verify[] = {(char *)shiftc, "verify", "--board", "mps2-an386", dir, NULL};
  r = t_run(verify);
  t_check(r.status == 0 && strstr(r.out, "8/8 goldens bit-exact"), label, "status %d:\n%s%s", r.status, r.out, r.err);
  t_run_free(&r);

  char *md = t_read_file(report, NULL);
  long mf = 0, mr = 0, rf = 0, rr = 0, tf = 0, tr = 0;
  bool rows = row(md, "model: digits_cnn.o", &mf, &mr) && row(md, "runtime: sc_*.o", &rf, &rr);
  const char *total = md ? strstr(md, "\ntotal") : NULL;
  rows = rows && total && sscanf(total + 6, "%ld %ld", &tf, &tr) == 2;
  /* digits_cnn holds 8*9 + 16*8*9 + 10*64 = 1864 weight codes: the model's flash has them */
  t_check(md && strstr(md, "## Bare metal: mps2-an386 (Cortex-M4)") && strstr(md, "8/8 goldens bit-exact") && rows &&
              mf >= 1864 && rf > 0 && tf > mf + rf && tr > 0,
          "baremetal digits_cnn: the report gives flash and RAM bytes, the runtime's share apart",
          "model %ld/%ld runtime %ld/%ld total %ld/%ld in:\n%s", mf, mr, rf, rr, tf, tr, md ? md : "(no report)");
  free(md);

  /* One golden output code off by one: the board run must say so. */
  char golden[600];
  snprintf(golden, sizeof golden, "%s/digits_cnn_golden.c", dir);
  size_t len;
  char *g = t_read_file(golden, &len);
  char *out = g ? strstr(g, "digits_cnn_golden_output[DIGITS_CNN_GOLDEN_COUNT]") : NULL;
  char *first = out ? strstr(out, "/* golden 0 */") : NULL;
  bool changed = false;
  if (first) {
    first = strchr(first, '\n');
    while (first && *first && *first != '-' && (*first < '0' || *first > '9')) first++;
    if (first && *first) {
      long v = strtol(first, NULL, 10);
      char *end;
      strtol(first, &end, 10);
      char num[16];
      int n = snprintf(num, sizeof num, "%ld", v == 127 ? 126 : v + 1);
      FILE *f = fopen(golden, "wb");
      if (f) {
        fwrite(g, 1, (size_t)(first - g), f);
        fwrite(num, 1, (size_t)n, f);
        fputs(end, f);
        fclose(f);
        changed = true;
      }
    }
  }
  r = t_run(verify);
  t_check(changed && r.status == 1 && strstr(r.out, "MISMATCH"), "baremetal digits_cnn: a changed golden fails on the board",
          "changed %d, status %d:\n%s%s", changed, r.status, r.out, r.err);
  t_run_free(&r);
  free(g);

  char *compile_simd[] = {(char *)shiftc, "compile", "examples/digits_cnn/digits_cnn.nn", "-c",
                          "examples/digits_cnn/digits_cnn.yaml", "--target", "avx2", "-o", simd, NULL};
  r = t_run(compile_simd);
  t_run_free(&r);
  char *verify_simd[] = {(char *)shiftc, "verify", "--board", "mps2-an386", simd, NULL};
  r = t_run(verify_simd);
  t_check(r.status == 1 && strstr(r.err, "has no Cortex-M4 build"), "baremetal: --board on an avx2 folder is a user error",
          "status %d:\n%s", r.status, r.err);
  t_run_free(&r);
  char *verify_bad[] = {(char *)shiftc, "verify", "--board", "stm32", dir, NULL};
  r = t_run(verify_bad);
  t_check(r.status == 1 && strstr(r.err, "unknown board 'stm32' (boards: mps2-an386)"),
          "baremetal: an unknown board is a user error", "status %d:\n%s", r.status, r.err);
  t_run_free(&r);
  return t_exit_status();
}
