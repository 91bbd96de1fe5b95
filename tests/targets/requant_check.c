/* requant_check.c — built by tests/cli/test_targets.c for each SIMD ISA, with the
 * runtime's headers: the vector requantization of the SIMD kernels (sc_avx2_requant,
 * sc_neon_requant) equals the scalar sc_requant_apply of shiftc_rt.h lane by lane, on
 * random accumulators of every magnitude, shifts -8..31 (negative: saturating left
 * shifts, which the examples never reach), with and without a dyadic multiplier, with
 * the int8 clamps and with none. Inputs keep to what legalization guarantees: a
 * rounding right shift by n never sees x + 2^(n-1) overflow int32.
 * Prints "requant: N lanes, M mismatches"; exit 0 iff M == 0. C99. */
#include <stdio.h>
#include <stdint.h>

#include "shiftc_rt.h"
#if defined(__AVX2__)
#include "sc_avx2.h"
#elif defined(__ARM_NEON)
#include "sc_neon.h"
#else
#error "requant_check.c: build with the flags of a SIMD target (-mavx2, or for ARM with NEON)"
#endif

static uint32_t state = 2463534242u;
static uint32_t next(void) { /* xorshift32: the same sequence on every target */
  state ^= state << 13;
  state ^= state >> 17;
  state ^= state << 5;
  return state;
}

int main(void) {
  long lanes = 0, bad = 0;
  for (int it = 0; it < 100000; it++) {
    int32_t acc[8], mult[8], shift[8], out[8];
    int8_t shift8[8];
    const int has_mult = it & 1, wide = (it >> 1) & 1;
    const int32_t lo = wide ? INT32_MIN : (it & 4) ? 0 : -127, hi = wide ? INT32_MAX : 127;
    for (int j = 0; j < 8; j++) {
      shift[j] = (int32_t)(next() % 40) - 8;
      shift8[j] = (int8_t)shift[j];
      mult[j] = has_mult ? (int32_t)(0x40000000u + next() % 0x40000000u) : 0;
      int32_t a = (int32_t)next();
      a = sc_sra32(a, (int)(next() % 32)); /* every magnitude */
      if (shift[j] > 0) {                  /* no wrap in x + 2^(n-1) */
        int32_t room = INT32_MAX - ((int32_t)1 << (shift[j] - 1));
        if (a > room) a = room;
      }
      acc[j] = a;
    }
    sc_requant rq = {has_mult ? mult : NULL, shift8, 1, lo, hi, 0, 0, NULL, NULL};
#if defined(__AVX2__)
    __m256i v = sc_avx2_requant(_mm256_loadu_si256((const __m256i *)(const void *)acc), mult, shift, has_mult, lo, hi);
    _mm256_storeu_si256((__m256i *)(void *)out, v);
#else
    vst1q_s32(out, sc_neon_requant(vld1q_s32(acc), mult, shift, has_mult, lo, hi));
    vst1q_s32(out + 4, sc_neon_requant(vld1q_s32(acc + 4), mult + 4, shift + 4, has_mult, lo, hi));
#endif
    for (int j = 0; j < 8; j++) {
      int32_t want = sc_requant_apply(&rq, j, acc[j]);
      lanes++;
      if (out[j] != want) {
        if (bad < 5)
          printf("mismatch: acc %ld mult %ld shift %ld clamp [%ld, %ld]: got %ld, want %ld\n", (long)acc[j],
                 (long)mult[j], (long)shift[j], (long)lo, (long)hi, (long)out[j], (long)want);
        bad++;
      }
    }
  }
  printf("requant: %ld lanes, %ld mismatches\n", lanes, bad);
  return bad == 0 ? 0 : 1;
}
