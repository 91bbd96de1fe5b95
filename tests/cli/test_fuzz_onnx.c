/* test_fuzz_onnx.c — runs the ONNX reader's libFuzzer target (tests/fuzz/fuzz_onnx.c,
 * built by make into build/fuzz/fuzz_onnx) for a bounded time from the seed models in
 * tests/fuzz/onnx_seeds (fixed seed), into a fresh corpus folder. Any crash, sanitizer
 * report or leak makes libFuzzer exit non-zero. */
#define _GNU_SOURCE
#include "testlib.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void) {
  char *corpus = t_tempdir();
  char *argv[] = {"build/fuzz/fuzz_onnx", "-max_total_time=20", "-seed=1", "-rss_limit_mb=1024",
                  "-max_len=4096", corpus, "tests/fuzz/onnx_seeds", NULL};
  TRun r = t_run(argv);
  const char *done = strstr(r.err, "Done ");
  t_check(r.status == 0 && done, "fuzz onnx reader 20 s", "status %d:\n%.4000s", r.status, r.err);
  if (done) printf("# %.*s\n", (int)strcspn(done, "\n"), done);
  t_run_free(&r);
  return t_exit_status();
}
