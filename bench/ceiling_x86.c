/* ceiling_x86.c — what one core of this machine can do at most, in int8 GOPS, for each way
 * an exact x86 int8 GEMM can multiply-accumulate. `make bench` (bench/peers.sh) runs it in
 * the same interleaved rounds as the GEMMs, so the GEMMs' GOPS can be read as a share of
 * the ceiling measured under the same load.
 *
 * Each pattern is a loop of independent register-only instructions (no loads, no
 * dependency between iterations but the accumulators'), written in inline assembly so that
 * no compiler can schedule, spill or fold it; GOPS counts 2 ops per multiply-accumulate:
 *   madd          12 vpmaddwd, 16 MACs each: the multiplier's own limit for int16 pairs
 *   madd+add      12 x (vpmaddwd, vpaddd into an accumulator): the inner step of an exact
 *                 AVX2 GEMM on int16 pairs (runtime/avx2/sc_packed_gemm_avx2.c)
 *   ubs+madd+add  12 x (vpmaddubsw, vpmaddwd by ones, vpaddd): u8 x s8, 32 MACs; exact only
 *                 when an activation is >= 0 or the weights are small (else int16 saturates)
 *   sign+ubs+madd+add  the same after vpsignb: the exact signed form (|a| x sign(w, a))
 *   dpbusd ymm / zmm  12 vpdpbusd (AVX-VNNI / AVX-512 VNNI), 32 / 64 MACs, built only with
 *                 -DCEILING_VNNI_YMM / -DCEILING_VNNI_ZMM (the caller checks the CPU).
 * Prints "<pattern> <GOPS>" per pattern and round.
 * Usage: ceiling_x86 MS ROUNDS. GNU C (inline asm), x86-64 with AVX2. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t); /* CPU time, as gemm_bench.c */
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

#define CLOBBER12 "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11"

/* 12 iterations' worth of each pattern per call; the loop count comes from the caller. */
static void madd(long n) {
#define M(i) "vpmaddwd %%ymm12, %%ymm13, %%ymm" #i "\n\t"
  for (long i = 0; i < n; i++)
    __asm__ volatile(M(0) M(1) M(2) M(3) M(4) M(5) M(6) M(7) M(8) M(9) M(10) M(11)::: CLOBBER12);
#undef M
}

static void madd_add(long n) {
  /* two temporaries, so that consecutive pairs do not wait on one register name */
#define M(i, t) "vpmaddwd %%ymm12, %%ymm13, %%ymm" #t "\n\tvpaddd %%ymm" #t ", %%ymm" #i ", %%ymm" #i "\n\t"
  for (long i = 0; i < n; i++)
    __asm__ volatile(M(0, 14) M(1, 15) M(2, 14) M(3, 15) M(4, 14) M(5, 15) M(6, 14) M(7, 15) M(8, 14) M(9, 15) M(10, 14)
                         M(11, 15)::: CLOBBER12, "xmm14", "xmm15");
#undef M
}

static void ubs_madd_add(long n) {
#define M(i) "vpmaddubsw %%ymm12, %%ymm13, %%ymm14\n\tvpmaddwd %%ymm15, %%ymm14, %%ymm14\n\tvpaddd %%ymm14, %%ymm" #i ", %%ymm" #i "\n\t"
  for (long i = 0; i < n; i++)
    __asm__ volatile(M(0) M(1) M(2) M(3) M(4) M(5) M(6) M(7) M(8) M(9) M(10) M(11)::: CLOBBER12, "xmm14");
#undef M
}

static void sign_ubs_madd_add(long n) {
#define M(i)                                                                                                          \
  "vpsignb %%ymm12, %%ymm13, %%ymm14\n\tvpmaddubsw %%ymm14, %%ymm12, %%ymm14\n\tvpmaddwd %%ymm15, %%ymm14, %%ymm14\n\t" \
  "vpaddd %%ymm14, %%ymm" #i ", %%ymm" #i "\n\t"
  for (long i = 0; i < n; i++)
    __asm__ volatile(M(0) M(1) M(2) M(3) M(4) M(5) M(6) M(7) M(8) M(9) M(10) M(11)::: CLOBBER12, "xmm14");
#undef M
}

#ifdef CEILING_VNNI_YMM
static void dpbusd_ymm(long n) {
#define M(i) "%{vex%} vpdpbusd %%ymm12, %%ymm13, %%ymm" #i "\n\t"
  for (long i = 0; i < n; i++)
    __asm__ volatile(M(0) M(1) M(2) M(3) M(4) M(5) M(6) M(7) M(8) M(9) M(10) M(11)::: CLOBBER12);
#undef M
}
#endif
#ifdef CEILING_VNNI_ZMM
static void dpbusd_zmm(long n) {
#define M(i) "vpdpbusd %%zmm12, %%zmm13, %%zmm" #i "\n\t"
  for (long i = 0; i < n; i++)
    __asm__ volatile(M(0) M(1) M(2) M(3) M(4) M(5) M(6) M(7) M(8) M(9) M(10) M(11)::: CLOBBER12);
#undef M
}
#endif

typedef struct {
  const char *name;
  void (*run)(long);
  double macs; /* per call with n = 1 */
} Pattern;

int main(int argc, char **argv) {
  const double ms = argc > 1 ? atof(argv[1]) : 200;
  const int rounds = argc > 2 ? atoi(argv[2]) : 1;
  const Pattern p[] = {
      {"madd", madd, 12 * 16},
      {"madd+add", madd_add, 12 * 16},
      {"ubs+madd+add", ubs_madd_add, 12 * 32},
      {"sign+ubs+madd+add", sign_ubs_madd_add, 12 * 32},
#ifdef CEILING_VNNI_YMM
      {"dpbusd-ymm", dpbusd_ymm, 12 * 32},
#endif
#ifdef CEILING_VNNI_ZMM
      {"dpbusd-zmm", dpbusd_zmm, 12 * 64},
#endif
  };
  const int np = (int)(sizeof p / sizeof *p);
  /* integer instructions on whatever the source registers hold: nothing to set up */
  for (int r = 0; r < rounds; r++)
    for (int i = 0; i < np; i++) {
      const long chunk = 100000;
      long calls = 0;
      const double t0 = now();
      double t1;
      do p[i].run(chunk), calls += chunk;
      while ((t1 = now()) - t0 < ms * 1e-3 / np);
      printf("%s %.1f\n", p[i].name, 2.0 * p[i].macs * (double)calls / (t1 - t0) * 1e-9);
    }
  return 0;
}
