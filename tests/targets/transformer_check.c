/* transformer_check.c — built by tests/unit/test_simd_transformer.c for each SIMD ISA with
 * the runtime's scalar and SIMD kernels and a generated cases.h (the parameter sets the
 * compiler derives: igelu_derive, softmax_derive, layernorm_derive over a sweep of
 * scales, gammas and shapes). Every SIMD kernel of the Transformer ops (sc_simd.h, end)
 * runs against its scalar kernel on random and edge-case inputs — every int8 code, the
 * extreme codes -128 and 127, rows of equal values, rows one code apart, long rows, odd
 * lengths, int32 scores over the whole int32 range with every left shift 0..30,
 * in-place calls — and every output byte must be equal.
 * Prints "transformer: N outputs, M mismatches"; exit 0 iff M == 0. C99. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sc_internal.h"
#include "sc_simd.h"
#include "shiftc_rt.h"

#include "cases.h"

static uint32_t state = 2463534242u;
static uint32_t next(void) { /* xorshift32: the same sequence on every target */
  state ^= state << 13;
  state ^= state >> 17;
  state ^= state << 5;
  return state;
}

static long outputs, bad;

static void compare(const char *what, int c, const int8_t *want, const int8_t *got, int32_t n) {
  for (int32_t i = 0; i < n; i++) {
    outputs++;
    if (want[i] != got[i]) {
      if (bad < 8) printf("mismatch: %s case %d, element %ld of %ld: scalar %d, simd %d\n", what, c, (long)i, (long)n,
                          want[i], got[i]);
      bad++;
    }
  }
}

/* Fills x with one of several input patterns (pattern 0: every code in turn). */
static void fill(int8_t *x, int32_t n, int pattern) {
  int8_t base = (int8_t)(next() & 0xff);
  for (int32_t i = 0; i < n; i++) {
    switch (pattern) {
    case 0: x[i] = (int8_t)((i & 0xff) - 128); break;
    case 1: x[i] = (int8_t)(next() & 0xff); break;                        /* random, -128 included */
    case 2: x[i] = (next() & 1) ? 127 : -128; break;                      /* extremes */
    case 3: x[i] = base; break;                                           /* a constant row */
    case 4: x[i] = (int8_t)(base / 2 + (int8_t)(next() % 2)); break;      /* one code apart */
    case 5: x[i] = (next() % 17 == 0) ? 127 : (int8_t)(next() % 7) - 3; break; /* spikes */
    default: x[i] = (int8_t)((int32_t)(next() % 255) - 127); break;       /* the legal codes */
    }
  }
}

static void check_lut(void) {
  static const int32_t lens[] = {1, 7, 31, 32, 33, 63, 64, 65, 100, 256, 511, 512, 513, 1000, 4099};
  int8_t table[256], x[4099], want[4099], got[4099];
  for (int c = 0; c < 40; c++) {
    for (int i = 0; i < 256; i++) table[i] = (int8_t)(c == 0 ? i - 128 : c == 1 ? 255 - i : (int)(next() & 0xff));
    for (size_t l = 0; l < sizeof lens / sizeof *lens; l++) {
      int32_t n = lens[l];
      fill(x, n, (int)(l + c) % 7);
      sc_lut_s8(n, table, x, want);
      sc_lut_s8_simd(n, table, x, got);
      compare("lut", c, want, got, n);
      sc_lut_s8_simd(n, table, x, x); /* in place */
      compare("lut in place", c, want, x, n);
    }
  }
}

static void check_igelu(void) {
  static const int32_t lens[] = {1, 33, 511, 512, 513, 2048, 4099};
  int8_t x[4099], want[4099], got[4099];
  for (int c = 0; c < (int)(sizeof igelu_cases / sizeof *igelu_cases); c++)
    for (size_t l = 0; l < sizeof lens / sizeof *lens; l++) {
      int32_t n = lens[l];
      fill(x, n, (int)l % 7);
      sc_igelu_s8(&igelu_cases[c], n, x, want);
      sc_igelu_s8_simd(&igelu_cases[c], n, x, got);
      compare("igelu", c, want, got, n);
    }
}

static void check_softmax(void) {
  static const int32_t lens[] = {1, 5, 8, 15, 16, 17, 31, 64, 100, 128, 1000};
  enum { ROWS = 3, MAXN = 1000 };
  static int8_t x[ROWS * MAXN], want[ROWS * MAXN], got[ROWS * MAXN];
  static int32_t scratch[MAXN], s32[MAXN], s32b[MAXN];
  for (int c = 0; c < (int)(sizeof softmax_cases / sizeof *softmax_cases); c++) {
    const sc_softmax_params *p = &softmax_cases[c];
    for (size_t l = 0; l < sizeof lens / sizeof *lens; l++) {
      int32_t n = lens[l];
      for (int pat = 0; pat < 7; pat++) {
        fill(x, ROWS * n, pat);
        sc_softmax_s8(p, ROWS, n, x, want, scratch);
        sc_softmax_s8_simd(p, ROWS, n, x, got, scratch);
        compare("softmax_s8", c, want, got, ROWS * n);
      }
      /* int32 scores of every magnitude, every left shift: the row kernel alone */
      for (int it = 0; it < 6; it++) {
        int lshift = (int)(next() % 31), mag = (int)(next() % 32);
        for (int32_t j = 0; j < n; j++) {
          int32_t v = (int32_t)next();
          s32[j] = it == 0   ? (j & 1 ? INT32_MAX : INT32_MIN)          /* the widest differences */
                   : it == 1 ? INT32_MIN + (int32_t)(v % 3000u) * (j & 1) /* max near INT32_MIN */
                             : sc_sra32(v, mag);
          s32b[j] = s32[j];
        }
        sc_softmax_row_shifted(p, n, s32, lshift, want, scratch);
        sc_softmax_row_simd(p, n, s32b, lshift, got, s32b); /* scratch aliasing x, as the kernels use it */
        compare("softmax row int32", c, want, got, n);
      }
    }
  }
}

static void check_matmul_softmax(void) {
  static const int32_t ms[] = {1, 3, 4, 5, 9}, ks[] = {1, 2, 3, 16, 17, 64}, ns[] = {1, 7, 16, 17, 40, 128};
  enum { MAXB = 3, MAXM = 9, MAXK = 64, MAXN = 128 };
  static int8_t a[MAXB * MAXM * MAXK], b[MAXB * MAXK * MAXN], want[MAXB * MAXM * MAXN], got[MAXB * MAXM * MAXN];
  static int32_t scratch[MAXN], big[SC_MATMUL_SOFTMAX_SCRATCH(MAXK, MAXN)];
  int it = 0;
  for (int c = 0; c < (int)(sizeof mmsm_cases / sizeof *mmsm_cases); c++)
    for (size_t mi = 0; mi < sizeof ms / sizeof *ms; mi++)
      for (size_t ki = 0; ki < sizeof ks / sizeof *ks; ki++)
        for (size_t ni = 0; ni < sizeof ns / sizeof *ns; ni++, it++) {
          sc_matmul_softmax_params p = mmsm_cases[c];
          p.m = ms[mi];
          p.k = ks[ki];
          p.n = ns[ni];
          p.batch = 1 + it % MAXB;
          p.a_batch_stride = it % 5 == 0 ? 0 : p.m * p.k; /* 0: every batch reads the same a */
          p.b_batch_stride = it % 7 == 0 ? 0 : p.k * p.n;
          fill(a, MAXB * p.m * p.k, it % 7);
          fill(b, MAXB * p.k * p.n, (it / 7) % 7);
          sc_matmul_softmax_s8(&p, a, b, want, scratch);
          sc_matmul_softmax_s8_simd(&p, a, b, got, big);
          compare("matmul_softmax", c, want, got, p.batch * p.m * p.n);
        }
}

static void check_layernorm(void) {
  static const int32_t lens[] = {1, 15, 16, 17, 31, 64, 100, 768, 1000};
  enum { ROWS = 3, MAXN = 1000 };
  static int8_t x[ROWS * MAXN], want[ROWS * MAXN], got[ROWS * MAXN];
  for (int c = 0; c < (int)(sizeof ln_cases / sizeof *ln_cases); c++) {
    const ln_case *lc = &ln_cases[c];
    for (size_t l = 0; l < sizeof lens / sizeof *lens; l++) {
      int32_t n = lens[l] < lc->n ? lens[l] : lc->n;
      sc_layernorm_params p = {.rows = ROWS, .n = n, .l1 = lc->l1, .g = lc->g, .b = lc->b, .shift = lc->shift,
                               .lo = lc->lo, .hi = lc->hi};
      for (int pat = 0; pat < 7; pat++) {
        fill(x, ROWS * n, pat);
        if (pat == 3) x[n] = (int8_t)(x[n] + 1 > 127 ? 126 : x[n] + 1); /* row 1: one code off a constant */
        sc_layernorm_s8(&p, x, want);
        sc_layernorm_s8_simd(&p, x, got);
        compare("layernorm", c, want, got, ROWS * n);
        sc_layernorm_s8_simd(&p, x, x); /* in place */
        compare("layernorm in place", c, want, x, ROWS * n);
      }
    }
  }
}

int main(void) {
  check_lut();
  check_igelu();
  check_softmax();
  check_matmul_softmax();
  check_layernorm();
  printf("transformer: %ld outputs, %ld mismatches\n", outputs, bad);
  return bad != 0;
}
