/* test_int_ops.c — the integer Transformer kernels (runtime: sc_igelu_s8, sc_softmax_*,
 * sc_matmul_softmax_s8, sc_layernorm_s8, sc_embedding_s8, sc_isqrt64) and their
 * compile-time constants (compiler/int_ops.c) against the float functions they stand
 * for, in double with libm: exact GELU (erf), softmax (exp), LayerNorm L2 and L1.
 *
 * Each op runs over its whole input range (all int8 codes; random rows of every
 * amplitude, with outliers; the integer edge cases) and prints its measured maximum
 * and mean |error| as `# ...` lines; the asserted bounds are the figures of
 * algorithms.md §5/§6 (I-BERT's own for i-GELU and i-exp). Fixed seeds: deterministic. */
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shiftc.h"
#include "testlib.h"

__extension__ typedef unsigned __int128 u128;

/* ------------------------------------------------------------ random */

static uint64_t rng = 0x853C49E6748FEA9BULL;

static uint64_t rnd64(void) { /* xorshift64* */
  rng ^= rng >> 12;
  rng ^= rng << 25;
  rng ^= rng >> 27;
  return rng * 0x2545F4914F6CDD1DULL;
}

static int32_t rnd_range(int32_t lo, int32_t hi) { /* inclusive */
  return (int32_t)(lo + (int64_t)(rnd64() % (uint64_t)((int64_t)hi - lo + 1)));
}

static double rnd_unit(void) { return (double)(rnd64() >> 11) * 0x1p-53; } /* [0, 1) */

static void *xcalloc_exact(size_t n, size_t size) { /* exact size: ASan sees any overrun */
  void *p = calloc(n ? n : 1, size);
  if (!p) abort();
  return p;
}

/* An error statistic: max and mean of |error|. */
typedef struct Err {
  double max, sum;
  long n;
} Err;

static void err_add(Err *e, double d) {
  d = fabs(d);
  if (d > e->max) e->max = d;
  e->sum += d;
  e->n++;
}

static double err_mean(const Err *e) { return e->n ? e->sum / (double)e->n : 0; }

/* ------------------------------------------------------------ wide references
 * The integer semantics of algorithms.md §5/§6 written again here, independently of
 * shiftc_rt.h: floor division by its defining inequality, square roots by libm
 * corrected to the exact floor, everything in __int128. The kernels must equal them
 * bit for bit (the float comparisons below then measure the method, not a bug). */

__extension__ typedef __int128 i128;

static i128 r_floor_div(i128 a, i128 b) { /* b > 0 */
  i128 q = a / b;
  if (q * b > a) q--;
  return q;
}

static i128 r_floor_sqrt(i128 v) {
  i128 r = (i128)sqrtl((long double)v);
  while (r * r > v) r--;
  while ((r + 1) * (r + 1) <= v) r++;
  return r;
}

/* Softmax of one row of scores (any int64) at the constants' scale after << lshift. */
static void r_softmax(const sc_softmax_params *p, int n, const int64_t *x, int lshift, int8_t *y) {
  i128 max = x[0], sum = 0, *e = xcalloc_exact((size_t)n, sizeof *e);
  for (int j = 1; j < n; j++) max = x[j] > max ? x[j] : max;
  for (int j = 0; j < n; j++) {
    i128 d = (x[j] - max) * ((i128)1 << lshift), lo = (i128)30 * p->x0;
    if (d < lo) d = lo;
    i128 z = r_floor_div(-d, -(i128)p->x0), r = d - z * p->x0;
    i128 poly = (r + p->b_int) * (r + p->b_int) + p->c_int;
    poly = p->poly_shift >= 0 ? r_floor_div(poly, (i128)1 << p->poly_shift) : poly * ((i128)1 << -p->poly_shift);
    e[j] = r_floor_div(poly, (i128)1 << z);
    sum += e[j];
  }
  i128 f = r_floor_div((i128)1 << 31, sum);
  for (int j = 0; j < n; j++) {
    i128 o = r_floor_div(e[j] * f + ((i128)1 << 23), (i128)1 << 24);
    y[j] = (int8_t)(o > 127 ? 127 : o);
  }
  free(e);
}

/* The normalized values yn of one LayerNorm row. */
static void r_layernorm_yn(int l1, int n, const int8_t *x, int64_t *yn) {
  i128 sum = 0, acc = 0;
  for (int i = 0; i < n; i++) sum += x[i];
  i128 mu8 = r_floor_div(sum * 256 + n / 2, n);
  for (int i = 0; i < n; i++) {
    i128 d = (i128)x[i] * 256 - mu8;
    acc += l1 ? (d < 0 ? -d : d) : d * d;
  }
  i128 fac = acc == 0 ? 0 : l1 ? r_floor_div((i128)n << 32, acc) : r_floor_div(2147483647, r_floor_sqrt(acc));
  for (int i = 0; i < n; i++) {
    i128 d = (i128)x[i] * 256 - mu8;
    yn[i] = (int64_t)(l1 ? r_floor_div(d * fac + 32768, 65536) : r_floor_div(d * fac, 2));
  }
}

/* The output stage: clamp(floor((yn g + b + 2^(shift-1)) / 2^shift), lo, hi). */
static int8_t r_layernorm_out(int64_t yn, int32_t g, int64_t b, int shift, int lo, int hi) {
  i128 v = (i128)yn * g + b;
  if (shift > 0) v = r_floor_div(v + ((i128)1 << (shift - 1)), (i128)1 << shift);
  return (int8_t)(v < lo ? lo : v > hi ? hi : v);
}

/* ------------------------------------------------------------ isqrt */

static bool is_floor_sqrt(uint64_t v, uint64_t r) {
  return (u128)r * r <= v && (u128)(r + 1) * (r + 1) > v;
}

static void test_isqrt(void) {
  long bad = 0, cases = 0;
  uint64_t first_bad = 0;
  uint64_t vals[4096];
  int nv = 0;
  /* 0, 1, small numbers, every power of two and its neighbours, perfect squares
   * k^2 and k^2 +- 1 for k around every power of two up to 2^32 - 1, and the top. */
  for (uint64_t v = 0; v < 1000; v++) vals[nv++] = v;
  for (int e = 0; e < 64; e++) {
    uint64_t p = (uint64_t)1 << e;
    vals[nv++] = p;
    vals[nv++] = p - 1;
    vals[nv++] = p + 1;
  }
  for (int e = 1; e <= 32; e++)
    for (int64_t dk = -2; dk <= 2; dk++) {
      uint64_t k = ((uint64_t)1 << e) + (uint64_t)dk;
      if (k > 0xFFFFFFFFu) continue;
      vals[nv++] = k * k;
      vals[nv++] = k * k - 1;
      vals[nv++] = k * k + 1;
    }
  vals[nv++] = (uint64_t)1 << 62;
  vals[nv++] = UINT64_MAX;
  vals[nv++] = UINT64_MAX - 1;
  vals[nv++] = (uint64_t)0xFFFFFFFFu * 0xFFFFFFFFu; /* the largest perfect square */
  for (int i = 0; i < nv; i++, cases++)
    if (!is_floor_sqrt(vals[i], sc_isqrt64(vals[i])) && !bad++) first_bad = vals[i];
  /* Random inputs with every bit length about equally likely. */
  for (int i = 0; i < 200000; i++, cases++) {
    int len = (int)(rnd64() % 65);
    uint64_t v = len == 0 ? 0 : len == 64 ? rnd64() : (rnd64() & (((uint64_t)1 << len) - 1)) | ((uint64_t)1 << (len - 1));
    if (!is_floor_sqrt(v, sc_isqrt64(v)) && !bad++) first_bad = v;
  }
  t_check(bad == 0, "isqrt64 is floor(sqrt) over boundaries and random inputs", "%ld of %ld wrong, first %" PRIu64 " -> %u",
          bad, cases, first_bad, sc_isqrt64(first_bad));
}

/* ------------------------------------------------------------ i-GELU */

static double gelu(double x) { return 0.5 * x * (1.0 + erf(x / sqrt(2.0))); }

/* I-BERT's float approximation, the function the integers implement. */
static double gelu_ibert(double x) {
  double a = -0.2888, b = -1.769, u = x / sqrt(2.0);
  double l = (u < 0 ? -1 : 1) * (a * pow(fmin(fabs(u), -b) + b, 2) + 1);
  return 0.5 * x * (1.0 + l);
}

/* M = M0 * 2^-31 * 2^-n, M0 in [2^30, 2^31): the dyadic rescale of algorithms.md §1,
 * computed here on its own (the quantizer's copy is static). */
static void to_dyadic(double m, int32_t *m0, int8_t *n) {
  int e;
  double f = frexp(m, &e);
  int64_t q = (int64_t)floor(f * 0x1p31 + 0.5);
  if (q == ((int64_t)1 << 31)) q /= 2, e++;
  *m0 = (int32_t)q;
  *n = (int8_t)-e;
}

static void test_igelu(void) {
  /* amax 4..16 (int8 codes at S = amax/127), as measured in algorithms.md §5. */
  static const double amaxes[] = {4, 6, 8, 12, 16};
  Err all = {0};
  bool exact = true, s8_ok = true, s8_eq = true;
  char where[200] = "";
  for (size_t k = 0; k < sizeof amaxes / sizeof *amaxes; k++) {
    double amax = amaxes[k], s = amax / 127;
    sc_igelu_params p;
    memset(&p, 0, sizeof p);
    double s32 = igelu_derive(s, &p);
    Err e = {0}, e_ibert = {0}, e8 = {0};
    /* int8 output at the scale of GELU's range over the codes (max is at q = 127). */
    double s_y = gelu(127 * s) / 127;
    int32_t m0;
    int8_t nsh;
    to_dyadic(s32 / s_y, &m0, &nsh);
    p.rq = (sc_requant){.mult = &m0, .shift = &nsh, .per_channel = 0, .lo = -127, .hi = 127};
    int8_t x[255], y[255];
    for (int q = -127; q <= 127; q++) x[q + 127] = (int8_t)q;
    sc_igelu_s8(&p, 255, x, y);
    for (int q = -127; q <= 127; q++) {
      double xr = q * s;
      int32_t o = sc_igelu_s32(&p, q);
      /* The integer formula evaluated in double: every term is an integer < 2^53. */
      double a = fabs((double)q), t = fmin(a, -(double)p.b_int) + p.b_int;
      double yy = (q < 0 ? -1 : 1) * (t * t + p.c_int);
      if (p.out_rshift != 0 || (double)o != -(q * (yy + p.one_int))) {
        if (exact) snprintf(where, sizeof where, "amax %g q %d: %d vs %.0f", amax, q, o, -(q * (yy + p.one_int)));
        exact = false;
      }
      err_add(&e, o * s32 - gelu(xr));
      err_add(&e_ibert, o * s32 - gelu_ibert(xr));
      err_add(&all, o * s32 - gelu(xr));
      err_add(&e8, y[q + 127] * s_y - gelu(xr));
      /* The kernel is the requantization of the int32 result, in wide arithmetic:
       * round(round(o * M0 * 2^-31) * 2^-n), both half up (§3). */
      int64_t v = (int64_t)floor(((double)o * m0 * 2 + 0x1p31) / 0x1p32);
      v = nsh > 0 ? (v + ((int64_t)1 << (nsh - 1))) >> nsh : v << -nsh;
      if (v > 127) v = 127;
      if (v < -127) v = -127;
      if (v != y[q + 127]) s8_eq = false;
    }
    printf("# igelu amax=%g: max %.4f mean %.4f (int32 vs exact GELU); vs I-BERT float approx max %.2g; "
           "int8 out (step %.4f): max %.4f mean %.4f\n",
           amax, e.max, err_mean(&e), e_ibert.max, s_y, e8.max, err_mean(&e8));
    if (!(e8.max <= 0.025 + s_y)) s8_ok = false;
  }
  t_check(exact, "igelu: the int32 result is the integer formula of §5 exactly", "%s", where);
  /* I-BERT's figure and algorithms.md's measurement, 0.018-0.025, to their two digits:
   * the worst case is x = amax = 16, where floor(1/S_erf) makes the slope 437/436.3. */
  t_check(all.max < 0.0255, "igelu: |int32 - GELU| <= ~0.025 (I-BERT's figure) over every int8 code, amax 4..16",
          "max %.4f", all.max);
  t_check(s8_ok, "igelu: int8 output within 0.025 + one output step of GELU", "see the # lines");
  t_check(s8_eq, "igelu: sc_igelu_s8 is the dyadic requantization of sc_igelu_s32", "mismatch");

  /* Overflow: every code, S over a realistic range and beyond, -128 included. */
  bool fits = true, small_ok = true;
  char why[200] = "";
  for (int e2 = -13; e2 <= 2; e2++) {
    double s = ldexp(1.0, e2) * 1.37; /* not a power of two */
    if (s < 0x1p-13) s = 0x1p-13;
    sc_igelu_params p;
    memset(&p, 0, sizeof p);
    double s32 = igelu_derive(s, &p);
    if (s32 <= 0) {
      fits = false;
      snprintf(why, sizeof why, "S %g: derive refused", s);
      continue;
    }
    if (s >= 0x1p-7 && s <= 0.5 && p.out_rshift != 0) {
      fits = false;
      snprintf(why, sizeof why, "S %g: out_rshift %d in the realistic range", s, p.out_rshift);
    }
    double worst = 0;
    for (int q = -128; q <= 127; q++) {
      int64_t w = sc_igelu_wide(&p, q);
      int32_t o = sc_igelu_s32(&p, q);
      if (llabs(w) >> p.out_rshift >= ((int64_t)1 << 30) + 1 || o >= (1 << 30) || o <= -(1 << 30)) {
        fits = false;
        snprintf(why, sizeof why, "S %g q %d: %" PRId64 " -> %d", s, q, w, o);
      }
      if (q > -128) worst = fmax(worst, fabs(o * s32 - gelu(q * s)));
    }
    /* Fine scales keep I-BERT's accuracy even where the result needs a shift. */
    if (s <= 0x1p-5 && worst > 0.02) {
      small_ok = false;
      snprintf(why, sizeof why, "S %g: max error %.4f", s, worst);
    }
  }
  t_check(fits, "igelu: |int32 result| < 2^30 for every code and S in [2^-13, 5.5], out_rshift 0 for S in [2^-7, 0.5]",
          "%s", why);
  t_check(small_ok, "igelu: fine scales (S <= 2^-5) stay within 0.02 of GELU", "%s", why);
  sc_igelu_params p;
  t_check(igelu_derive(0x1p-14, &p) == 0 && igelu_derive(0x1p14, &p) == 0 && igelu_derive(NAN, &p) == 0,
          "igelu_derive refuses scales whose constants do not fit int32", "it did not");
}

/* ------------------------------------------------------------ softmax */

static void softmax_ref(int n, const double *x, double *p) {
  double m = x[0], sum = 0;
  for (int j = 1; j < n; j++) m = fmax(m, x[j]);
  for (int j = 0; j < n; j++) sum += p[j] = exp(x[j] - m);
  for (int j = 0; j < n; j++) p[j] /= sum;
}

/* One row of int32 scores at scale s through sc_softmax_row_s32 (constants at s,
 * which must be <= 2^-8); adds |y/128 - softmax| to e; returns the max error. */
static long softmax_mismatch; /* elements where a softmax kernel differs from r_softmax */

static void softmax_check_exact(const sc_softmax_params *p, int n, const int64_t *x, int lshift, const int8_t *y) {
  int8_t *want = xcalloc_exact((size_t)n, 1);
  r_softmax(p, n, x, lshift, want);
  for (int j = 0; j < n; j++) softmax_mismatch += want[j] != y[j];
  free(want);
}

static double softmax_row_err(const sc_softmax_params *p, int n, const int32_t *q, double s, Err *e, int8_t *y) {
  int32_t *scratch = xcalloc_exact((size_t)n, sizeof *scratch);
  double *xr = xcalloc_exact((size_t)n, sizeof *xr), *pr = xcalloc_exact((size_t)n, sizeof *pr);
  int64_t *wide = xcalloc_exact((size_t)n, sizeof *wide);
  sc_softmax_row_s32(p, n, q, y, scratch);
  for (int j = 0; j < n; j++) wide[j] = q[j];
  softmax_check_exact(p, n, wide, 0, y);
  free(wide);
  for (int j = 0; j < n; j++) xr[j] = q[j] * s;
  softmax_ref(n, xr, pr);
  double worst = 0;
  for (int j = 0; j < n; j++) {
    double d = fabs(y[j] / 128.0 - pr[j]);
    worst = fmax(worst, d);
    if (e) err_add(e, d);
  }
  free(scratch), free(xr), free(pr);
  return worst;
}

#define SOFTMAX_BOUND (0.0078 + 0.0005) /* one output step (2^-7), as measured in §5, + tolerance */

static void test_softmax(void) {
  /* Constants: S <= 2^-8 after in_lshift, poly_shift puts the largest poly in [2^14, 2^15). */
  bool derive_ok = true;
  char why[200] = "";
  static const double scales[] = {0x1p-8, 0x1p-8 * 0.77, 0x1p-10, 0x1p-14, 0x1p-20, 0x1p-26, 0.1, 0.37, 1.0, 3e5};
  for (size_t i = 0; i < sizeof scales / sizeof *scales; i++) {
    sc_softmax_params p;
    softmax_derive(scales[i], &p);
    double s = ldexp(scales[i], -p.in_lshift);
    int64_t pmax = (int64_t)p.b_int * p.b_int + p.c_int;
    int64_t top = p.poly_shift >= 0 ? pmax >> p.poly_shift : pmax << -p.poly_shift;
    bool ok = s <= 0x1p-8 && (p.in_lshift == 0 || ldexp(s, 1) > 0x1p-8) && top >= (1 << 14) && top < (1 << 15) &&
              p.in_lshift == softmax_score_lshift(scales[i]) && fabs(p.x0 * s + 0.6931) <= s &&
              fabs(p.b_int * s - 1.353) <= s && 30 * (int64_t)p.x0 >= INT32_MIN;
    if (!ok && derive_ok) snprintf(why, sizeof why, "scale %g: lshift %d x0 %d b %d poly top %" PRId64, scales[i],
                                   p.in_lshift, p.x0, p.b_int, top);
    derive_ok &= ok;
  }
  t_check(derive_ok && softmax_score_lshift(0x1p-8) == 0 && softmax_score_lshift(0x1p-7) == 1 &&
              softmax_score_lshift(0x1p-8 * 1.01) == 1 && softmax_score_lshift(1.0) == 8,
          "softmax_derive: S <= 2^-8 after the smallest in_lshift, largest poly in [2^14, 2^15)", "%s", why);

  /* Random rows, T = 16 and 128, real logits of spread 1..16 at several S <= 2^-8. */
  static const double fine[] = {0x1p-8, 0x1p-8 * 0.77, 0x1p-11, 0x1p-16};
  bool rand_ok = true;
  for (int ti = 0; ti < 2; ti++) {
    int n = ti ? 128 : 16;
    Err e = {0};
    int32_t *q = xcalloc_exact((size_t)n, sizeof *q);
    int8_t *y = xcalloc_exact((size_t)n, 1);
    for (size_t si = 0; si < sizeof fine / sizeof *fine; si++) {
      sc_softmax_params p;
      softmax_derive(fine[si], &p);
      for (int row = 0; row < 300; row++) {
        double spread = 1 + 15 * rnd_unit(), off = 40 * (rnd_unit() - 0.5);
        for (int j = 0; j < n; j++) q[j] = (int32_t)floor((off + spread * (rnd_unit() - 0.5)) / fine[si]);
        softmax_row_err(&p, n, q, fine[si], &e, y);
      }
    }
    printf("# softmax T=%d random rows, S <= 2^-8: max %.4f mean %.5f\n", n, e.max, err_mean(&e));
    rand_ok &= e.max <= SOFTMAX_BOUND;
    free(q), free(y);
  }
  t_check(rand_ok, "softmax: random rows T=16,128 within one output step (0.0078) of float softmax", "see # lines");

  /* Edge cases at S = 2^-10. */
  sc_softmax_params p;
  softmax_derive(0x1p-10, &p);
  int32_t row[128];
  int8_t y[128];
  /* One dominant logit (20 real units above the rest): 127 there, 0 elsewhere. */
  for (int j = 0; j < 128; j++) row[j] = rnd_range(-2000, 2000);
  row[37] = 20 * 1024 + 2000;
  double w1 = softmax_row_err(&p, 128, row, 0x1p-10, NULL, y);
  bool dom = y[37] == 127;
  for (int j = 0; j < 128; j++) dom &= j == 37 || y[j] == 0;
  t_check(dom && w1 <= SOFTMAX_BOUND, "softmax: one dominant logit gives 127 there and 0 elsewhere", "y[37] %d, max err %.4f",
          y[37], w1);
  /* All-equal rows: every probability 1/n, for n a power of two exactly. */
  bool eq_ok = true;
  for (int n = 1; n <= 128; n *= 2) {
    for (int j = 0; j < n; j++) row[j] = -123456;
    double w = softmax_row_err(&p, n, row, 0x1p-10, NULL, y);
    for (int j = 0; j < n; j++) eq_ok &= y[j] == (n == 1 ? 127 : 128 / n);
    eq_ok &= w <= SOFTMAX_BOUND;
  }
  t_check(eq_ok, "softmax: all-equal rows give 1/n each (n = 1 gives 127)", "wrong");
  /* n = 1 with any score. */
  row[0] = INT32_MIN;
  sc_softmax_row_s32(&p, 1, row, y, (int32_t[1]){0});
  t_check(y[0] == 127, "softmax: n = 1 gives 127 (1.0 clamped to the int8 range)", "y %d", y[0]);
  /* Largest magnitudes: the whole int32 range in one row (the difference needs 33 bits). */
  row[0] = INT32_MIN, row[1] = INT32_MAX, row[2] = INT32_MAX - 700, row[3] = 0, row[4] = INT32_MAX;
  double wl = softmax_row_err(&p, 5, row, 0x1p-10, NULL, y);
  t_check(y[0] == 0 && y[3] == 0 && y[1] == y[4] && y[1] >= 40 && wl <= SOFTMAX_BOUND,
          "softmax: scores spanning all of int32 (no overflow; far ones give 0)", "y %d %d %d %d %d, max err %.4f", y[0],
          y[1], y[2], y[3], y[4], wl);
  /* Long rows: 2^16 equal scores, the longest allowed (sum < 2^31). */
  {
    int n = 1 << 16;
    int32_t *q = xcalloc_exact((size_t)n, sizeof *q), *sc = xcalloc_exact((size_t)n, sizeof *sc);
    int8_t *yy = xcalloc_exact((size_t)n, 1);
    sc_softmax_row_s32(&p, n, q, yy, sc);
    int nz = 0;
    for (int j = 0; j < n; j++) nz += yy[j] != 0;
    t_check(nz == 0, "softmax: a row of 2^16 equal scores (1/65536 each) rounds to 0 without overflow", "%d nonzero", nz);
    free(q), free(sc), free(yy);
  }

  /* int8 codes at coarse scales: in_lshift keeps the error at S <= 2^-8's. */
  static const double coarse[] = {0.05, 0.2, 0.4};
  bool s8_ok = true;
  for (size_t ci = 0; ci < 3; ci++) {
    sc_softmax_params ps;
    softmax_derive(coarse[ci], &ps);
    enum { ROWS = 200, N = 32 };
    int8_t *x = xcalloc_exact(ROWS * N, 1), *yy = xcalloc_exact(ROWS * N, 1);
    int32_t *sc = xcalloc_exact(N, sizeof *sc);
    for (int i = 0; i < ROWS * N; i++) x[i] = (int8_t)rnd_range(-127, 127);
    sc_softmax_s8(&ps, ROWS, N, x, yy, sc);
    Err e = {0};
    for (int r = 0; r < ROWS; r++) {
      double xr[N], pr[N];
      int64_t wide[N];
      for (int j = 0; j < N; j++) wide[j] = x[r * N + j];
      softmax_check_exact(&ps, N, wide, ps.in_lshift, yy + r * N);
      for (int j = 0; j < N; j++) xr[j] = x[r * N + j] * coarse[ci];
      softmax_ref(N, xr, pr);
      for (int j = 0; j < N; j++) err_add(&e, yy[r * N + j] / 128.0 - pr[j]);
    }
    printf("# softmax int8 codes at S=%g (in_lshift %d): max %.4f mean %.5f\n", coarse[ci], ps.in_lshift, e.max,
           err_mean(&e));
    s8_ok &= e.max <= SOFTMAX_BOUND;
    free(x), free(yy), free(sc);
  }
  t_check(s8_ok, "softmax_s8: int8 codes at S = 0.05..0.4 within one output step (in_lshift)", "see # lines");
}

/* Fused scores + softmax against the scores computed here in int64, fed through
 * sc_softmax_row_s32 after the shift, and against float softmax. */
static void test_matmul_softmax(void) {
  enum { B = 3, M = 5, K = 24, N = 17 };
  bool same = true;
  Err e = {0};
  for (int bstride0 = 0; bstride0 < 2; bstride0++) {
    double s_a = 0.07, s_b = 0.09, s = s_a * s_b; /* 0.0063 > 2^-8: score_lshift 1 */
    sc_matmul_softmax_params p = {.batch = B, .m = M, .k = K, .n = N, .a_batch_stride = M * K,
                                  .b_batch_stride = bstride0 ? 0 : K * N};
    p.score_lshift = softmax_score_lshift(s);
    softmax_derive(s, &p.sm);
    int8_t *a = xcalloc_exact(B * M * K, 1), *b = xcalloc_exact(bstride0 ? K * N : B * K * N, 1);
    int8_t *y = xcalloc_exact(B * M * N, 1), yr[N];
    int32_t *scratch = xcalloc_exact(N, sizeof *scratch), srow[N], tmp[N];
    for (int i = 0; i < B * M * K; i++) a[i] = (int8_t)rnd_range(-127, 127);
    for (int i = 0; i < (bstride0 ? K * N : B * K * N); i++) b[i] = (int8_t)rnd_range(-127, 127);
    sc_matmul_softmax_s8(&p, a, b, y, scratch);
    for (int t = 0; t < B; t++)
      for (int i = 0; i < M; i++) {
        double xr[N], pr[N];
        int64_t wide[N];
        for (int j = 0; j < N; j++) {
          int64_t acc = 0;
          for (int kk = 0; kk < K; kk++)
            acc += a[t * M * K + i * K + kk] * b[(bstride0 ? 0 : t * K * N) + kk * N + j];
          srow[j] = (int32_t)(acc * (1 << p.score_lshift)); /* |acc| <= 24*127^2: fits after << 1 */
          xr[j] = (double)acc * s;
          wide[j] = acc;
        }
        softmax_check_exact(&p.sm, N, wide, p.score_lshift, y + (t * M + i) * N);
        sc_softmax_row_s32(&p.sm, N, srow, yr, tmp);
        softmax_ref(N, xr, pr);
        for (int j = 0; j < N; j++) {
          same &= yr[j] == y[(t * M + i) * N + j];
          err_add(&e, y[(t * M + i) * N + j] / 128.0 - pr[j]);
        }
      }
    free(a), free(b), free(y), free(scratch);
  }
  printf("# matmul_softmax scores at S=0.0063: max %.4f mean %.5f\n", e.max, err_mean(&e));
  t_check(same, "matmul_softmax equals matmul in int64, << score_lshift, then softmax_row_s32 (batch stride 0 too)",
          "differs");
  t_check(e.max <= SOFTMAX_BOUND, "matmul_softmax within one output step of float softmax", "max %.4f", e.max);
}

/* ------------------------------------------------------------ LayerNorm */

/* Float LayerNorm of a row of codes (the scale cancels; eps = 0 as in the integers). */
static double layernorm_ref(int l1, int n, const int8_t *x, double *v) {
  double mu = 0, dev = 0;
  for (int i = 0; i < n; i++) mu += x[i];
  mu /= n;
  for (int i = 0; i < n; i++) dev += l1 ? fabs(x[i] - mu) : (x[i] - mu) * (x[i] - mu);
  dev = l1 ? dev / n : sqrt(dev / n);
  for (int i = 0; i < n; i++) v[i] = dev > 0 ? (x[i] - mu) / dev : 0;
  return dev; /* the std (L2) or mean |x - mu| (L1), in codes */
}

/* An upper bound of |integer - float| for a normalized value v of a row whose float
 * deviation is dev (codes), from the integer semantics' roundings, to first order
 * (x1.01): the mean to 1/256 of a code (|delta| <= 1/2; exact when n divides 256),
 * isqrt's floor and the factor's floor, the final shift. */
static double ln_bound(int l1, int n, double dev, double v) {
  double delta = 256 % n == 0 ? 0 : 0.5, sd = dev * 256, av = fabs(v);
  double b;
  if (l1) /* D moves by <= n*delta, d by delta; f = floor(n 2^32 / D); the +2^15 >> 16 */
    b = (1 + av) * delta / (sd - delta) + 65280 * 0x1p-32 + 0x1p-17;
  else { /* var = n sd^2 (+ n delta^2); std = floor(sqrt(var)); fac = floor((2^31-1)/std); >> 1 */
    double root = sd * sqrt((double)n);
    b = sqrt((double)n) * delta / root + av * (n * delta * delta / (2 * root * root) + 1 / (root - 1) + (root + 2) * 0x1p-31) +
        sqrt((double)n) * 0x1p-30;
  }
  return 1.01 * b + 1e-12;
}

static double yn_scale(int l1, int n) { return l1 ? 0x1p-16 : sqrt((double)n) * 0x1p-30; }

/* Rows of every amplitude 1..127, with random offsets, and rows with outliers. */
static int fill_row(int kind, int n, int8_t *x) {
  int amp = (int)floor(exp(rnd_unit() * log(127.0))) + 0; /* log-uniform 1..127 */
  if (amp < 1) amp = 1;
  int off = rnd_range(-(127 - amp), 127 - amp);
  for (int i = 0; i < n; i++) x[i] = (int8_t)(off + rnd_range(-amp, amp));
  if (kind == 1) { /* outliers: a few +-127 on a small background */
    int k = rnd_range(1, 4);
    for (int i = 0; i < n; i++) x[i] = (int8_t)rnd_range(-3, 3);
    for (int i = 0; i < k; i++) x[rnd_range(0, n - 1)] = (int8_t)(rnd64() & 1 ? 127 : -127);
  }
  return amp;
}

/* Normalized values of one row through the helpers the kernel uses; adds the errors
 * to e, counts elements outside ln_bound, returns the max |error|. */
static long ln_mismatch; /* values where the kernel or its helpers differ from the wide reference */

static double ln_row(int l1, int n, const int8_t *x, Err *e, long *over, int64_t *ybig, double *vmax) {
  double *v = xcalloc_exact((size_t)n, sizeof *v), worst = 0;
  int64_t *want = xcalloc_exact((size_t)n, sizeof *want);
  r_layernorm_yn(l1, n, x, want);
  double dev = layernorm_ref(l1, n, x, v);
  int32_t mu8 = sc_layernorm_mean8(n, x);
  int64_t fac = sc_layernorm_factor(l1, n, x, mu8);
  for (int i = 0; i < n; i++) {
    int64_t yn = sc_layernorm_norm(l1, x[i], mu8, fac);
    ln_mismatch += yn != want[i];
    double d = fabs(yn * yn_scale(l1, n) - v[i]);
    if (e) err_add(e, d);
    worst = fmax(worst, d);
    if (d > (dev > 0 ? ln_bound(l1, n, dev, v[i]) : 0)) ++*over;
    if (llabs(yn) > *ybig) *ybig = llabs(yn);
    if (vmax) *vmax = fmax(*vmax, fabs(v[i]));
  }
  free(v), free(want);
  return worst;
}

static void test_layernorm_norm(void) {
  /* The normalized values (yn * its scale) against float LayerNorm (eps = 0), per norm
   * and n, on random rows: every amplitude 1..127 (log-uniform), offsets, outliers.
   * algorithms.md's figures: L2 0.002; L1 1e-5 at n = 32 (the mean is exact), 0.05
   * at n = 768. Checked: every element within ln_bound (the error analysis), and the
   * maximum within the figure to its stated precision: L2 ~0.002 (<= 0.0025); L1 at
   * n = 32 ~1e-5 (<= 2.3e-5, the final rounding 2^-17 plus f's floor |d|/2^32). */
  static const int ns[] = {32, 768};
  static const double figure[2][2] = {{0.0025, 0.0025}, {2.3e-5, 0.05}};
  for (int l1 = 0; l1 <= 1; l1++)
    for (int ni = 0; ni < 2; ni++) {
      int n = ns[ni];
      int8_t *x = xcalloc_exact((size_t)n, 1);
      Err e = {0};
      int64_t ybig = 0;
      long over = 0;
      for (int row = 0; row < (n == 32 ? 4000 : 600); row++) {
        fill_row(row % 4 == 3, n, x);
        ln_row(l1, n, x, &e, &over, &ybig, NULL);
      }
      printf("# layernorm %s n=%d (rows of amplitude 1..127, offsets, outliers): max %.2g mean %.2g normalized units\n",
             l1 ? "L1" : "L2", n, e.max, err_mean(&e));
      char name[200];
      snprintf(name, sizeof name, "layernorm %s n=%d: within %g normalized units of float LayerNorm, each within its bound",
               l1 ? "L1" : "L2", n, figure[l1][ni]);
      t_check(e.max <= figure[l1][ni] && over == 0, name, "max %.3g, %ld elements over the bound", e.max, over);
      snprintf(name, sizeof name, "layernorm %s n=%d: |yn| within its documented bound", l1 ? "L1" : "L2", n);
      t_check(ybig <= (l1 ? (int64_t)n << 16 : (int64_t)1 << 30), name, "|yn| %" PRId64, ybig);
      free(x);
    }

  /* Sparse rows, the hard cases: one outlier at 127 among zeros (n = 768: L1 values
   * reach 384 and the mean's rounding, 127/768 of a code exactly, moves D by up to
   * 0.4%), and one code 1 among zeros (n = 32: L2's std is 251.97/256 of a code, so
   * isqrt's floor costs 0.4% of a value of 5.6). Reported, and held to ln_bound. */
  for (int k = 0; k < 2; k++) {
    int n = k ? 768 : 32;
    int8_t *x = xcalloc_exact((size_t)n, 1);
    x[n / 3] = (int8_t)(k ? 127 : 1);
    for (int l1 = 0; l1 <= 1; l1++) {
      long over = 0;
      int64_t ybig = 0;
      double vmax = 0, worst = ln_row(l1, n, x, NULL, &over, &ybig, &vmax);
      printf("# layernorm %s n=%d sparse row (one %d among zeros, |v| up to %.1f): max %.3g (%.2g relative)\n",
             l1 ? "L1" : "L2", n, x[n / 3], vmax, worst, worst / vmax);
      char name[200];
      snprintf(name, sizeof name, "layernorm %s n=%d sparse row: every element within its bound, <= 0.5%% relative",
               l1 ? "L1" : "L2", n);
      t_check(over == 0 && worst <= 0.005 * vmax, name, "max %.3g, %ld over", worst, over);
    }
    free(x);
  }

  /* Constant rows (std = D = 0) of every code give yn = 0; largest magnitudes stay in bounds. */
  bool const_ok = true;
  for (int c = -127; c <= 127; c++)
    for (int l1 = 0; l1 <= 1; l1++) {
      int8_t x[32];
      memset(x, c, sizeof x);
      int32_t mu8 = sc_layernorm_mean8(32, x);
      int64_t fac = sc_layernorm_factor(l1, 32, x, mu8);
      const_ok &= fac == 0 && sc_layernorm_norm(l1, x[0], mu8, fac) == 0;
    }
  t_check(const_ok, "layernorm: a constant row (any code) gives yn = 0", "a constant row did not");
  bool big_ok = true;
  for (int pat = 0; pat < 4; pat++)
    for (int l1 = 0; l1 <= 1; l1++) {
      int n = 768;
      int8_t x[768];
      for (int i = 0; i < n; i++)
        x[i] = (int8_t)(pat == 0   ? (i & 1 ? 127 : -127)
                        : pat == 1 ? (i ? 127 : -127)
                        : pat == 2 ? (i < 384 ? 127 : -127)
                                   : (i ? -127 : 127));
      long over = 0;
      int64_t ybig = 0;
      ln_row(l1, n, x, NULL, &over, &ybig, NULL);
      big_ok &= over == 0 && ybig <= (l1 ? (int64_t)n << 16 : (int64_t)1 << 30);
    }
  t_check(big_ok, "layernorm: rows of +-127 only (alternating, halves, one against all): |yn| in bounds, errors within ln_bound",
          "failed");
}

/* sc_layernorm_s8's output against the wide reference, every row. */
static void ln_kernel_check(const sc_layernorm_params *p, const int8_t *x, const int8_t *y) {
  int64_t *yn = xcalloc_exact((size_t)p->n, sizeof *yn);
  for (int r = 0; r < p->rows; r++) {
    r_layernorm_yn(p->l1, p->n, x + r * p->n, yn);
    for (int c = 0; c < p->n; c++)
      ln_mismatch += y[r * p->n + c] != r_layernorm_out(yn[c], p->g[c], p->b[c], p->shift, p->lo, p->hi);
  }
  free(yn);
}

/* The whole kernel with gamma/beta through layernorm_derive, dyadic and shift mode. */
static void test_layernorm_kernel(void) {
  enum { ROWS = 64 };
  static const int ns[] = {32, 768};
  for (int shift_mode = 0; shift_mode <= 1; shift_mode++)
    for (int l1 = 0; l1 <= 1; l1++)
      for (int ni = 0; ni < 2; ni++) {
        int n = ns[ni];
        float *gamma = xcalloc_exact((size_t)n, sizeof *gamma), *beta = xcalloc_exact((size_t)n, sizeof *beta);
        for (int c = 0; c < n; c++) gamma[c] = (float)(0.2 + 1.8 * rnd_unit()), beta[c] = (float)(rnd_unit() - 0.5);
        gamma[3] = 0;                                 /* a dead channel */
        double s_out = shift_mode ? 0x1p-4 : 5.0 / 127; /* shift mode: power-of-two scales */
        int32_t *g = xcalloc_exact((size_t)n, sizeof *g);
        int64_t *b = xcalloc_exact((size_t)n, sizeof *b);
        int shift;
        layernorm_derive(n, l1, gamma, beta, s_out, shift_mode, g, b, &shift);
        int32_t gmax = 0;
        for (int c = 0; c < n; c++) gmax = abs(g[c]) > gmax ? abs(g[c]) : gmax;
        bool range_ok = shift >= 0 && shift <= 52 &&
                        (shift_mode ? gmax <= 127 && gmax >= 64 : gmax >= (1 << 15) && gmax < (1 << 16));
        sc_layernorm_params p = {.rows = ROWS, .n = n, .l1 = l1, .g = g, .b = b, .shift = shift, .lo = -127, .hi = 127};
        int8_t *x = xcalloc_exact((size_t)ROWS * n, 1), *y = xcalloc_exact((size_t)ROWS * n, 1);
        double *v = xcalloc_exact((size_t)n, sizeof *v);
        for (int r = 0; r < ROWS; r++) fill_row(r % 4 == 3, n, x + r * n);
        memset(x + 5 * n, 42, (size_t)n); /* a constant row: y = round(beta / s_out) */
        sc_layernorm_s8(&p, x, y);
        ln_kernel_check(&p, x, y);
        /* Against float: the effective gamma (g * 2^-shift * s_out / s_yn, what the
         * integers multiply by) within 2^-15 relative (dyadic) or half a gamma code
         * (shift mode); the output within one step of round((v gamma_eff + beta)/s_out). */
        double s_yn = yn_scale(l1, n), gerr = 0;
        int worst = 0;
        Err e = {0};
        /* Shift mode: of the two power-of-two scales around max/127, the one with the
         * smaller MSE, which may clip the largest codes at 127 (then only checked to
         * be at most gamma); the other candidate must not do better. */
        double mse[2] = {0, 0};
        for (int c = 0; c < n; c++) {
          double geff = g[c] * ldexp(1.0, -shift) * s_out / s_yn;
          if (!shift_mode || abs(g[c]) < 127) gerr = fmax(gerr, fabs(geff - gamma[c]));
          else gerr = fmax(gerr, geff - gamma[c]); /* clipped: below gamma, or rounded up */
          for (int k = 0; k < 2; k++) {
            int sh = shift + (k ? 1 : -1);
            double q = fmax(-127, fmin(127, floor(gamma[c] * s_yn / s_out * ldexp(1.0, sh) + 0.5)));
            mse[k] += pow(q * ldexp(1.0, -sh) * s_out / s_yn - gamma[c], 2);
          }
        }
        double mse_self = 0;
        for (int c = 0; c < n; c++) mse_self += pow(g[c] * ldexp(1.0, -shift) * s_out / s_yn - gamma[c], 2);
        if (shift_mode && (mse_self > mse[0] * (1 + 1e-9) || mse_self > mse[1] * (1 + 1e-9))) range_ok = false;
        for (int r = 0; r < ROWS; r++) {
          layernorm_ref(l1, n, x + r * n, v);
          for (int c = 0; c < n; c++) {
            double geff = g[c] * ldexp(1.0, -shift) * s_out / s_yn;
            double ref = fmax(-127, fmin(127, floor((v[c] * geff + beta[c]) / s_out + 0.5)));
            double exact = fmax(-127 * s_out, fmin(127 * s_out, v[c] * gamma[c] + beta[c]));
            int d = abs((int)ref - y[r * n + c]);
            worst = d > worst ? d : worst;
            err_add(&e, y[r * n + c] * s_out - exact);
          }
        }
        bool const_row = true;
        for (int c = 0; c < n; c++)
          const_row &= y[5 * n + c] == (int)fmax(-127, fmin(127, floor(beta[c] / s_out + 0.5)));
        double gtol = 0.5 * ldexp(1.0, -shift) * s_out / s_yn * (1 + 1e-9); /* half a code of g */
        printf("# layernorm kernel %s %s n=%d: shift %d max|g| %d; output vs float gamma/beta: max %.4f mean %.4f "
               "(step %.4f)\n",
               l1 ? "L1" : "L2", shift_mode ? "shift" : "dyadic", n, shift, gmax, e.max, err_mean(&e), s_out);
        char name[200];
        snprintf(name, sizeof name, "layernorm kernel %s %s n=%d: g range, gamma kept, outputs within 1 step, constant row",
                 l1 ? "L1" : "L2", shift_mode ? "shift" : "dyadic", n);
        t_check(range_ok && gerr <= gtol && worst <= 1 && const_row, name, "shift %d gmax %d gerr %.2g worst %d const %d",
                shift, gmax, gerr, worst, const_row);
        free(gamma), free(beta), free(g), free(b), free(x), free(y), free(v);
      }

  /* Extremes: NULL gamma/beta, tiny gamma, beta far outside the output range. The
   * kernel must not overflow (UBSan traps signed overflow) and must saturate. */
  {
    enum { N = 768 };
    float gamma[N], beta[N];
    for (int c = 0; c < N; c++) gamma[c] = c % 2 ? 1e-9f : 3.0f, beta[c] = c % 3 ? 1e9f : -1e9f;
    int32_t g[N];
    int64_t b[N];
    int8_t x[N], y[N];
    bool sat = true;
    for (int l1 = 0; l1 <= 1; l1++)
      for (int sm = 0; sm <= 1; sm++) {
        int shift;
        layernorm_derive(N, l1, gamma, beta, 0x1p-5, sm, g, b, &shift);
        for (int c = 0; c < N; c++) x[c] = (int8_t)(c ? -127 : 127);
        sc_layernorm_params p = {.rows = 1, .n = N, .l1 = l1, .g = g, .b = b, .shift = shift, .lo = -127, .hi = 127};
        sc_layernorm_s8(&p, x, y);
        ln_kernel_check(&p, x, y);
        for (int c = 0; c < N; c++) sat &= y[c] == (c % 3 ? 127 : -127);
        layernorm_derive(N, l1, NULL, NULL, 0x1p-5, sm, g, b, &shift);
        p.shift = shift;
        sc_layernorm_s8(&p, x, y);
        ln_kernel_check(&p, x, y);
        double v[N];
        layernorm_ref(l1, N, x, v); /* v[0] = 27.7 (L2), 384 (L1): saturates */
        sat &= y[0] == 127 && fabs(y[1] - v[1] * 32) <= 1;
      }
    t_check(sat, "layernorm kernel: huge beta saturates, NULL gamma/beta mean 1/0, no overflow", "wrong output");
  }
}

/* ------------------------------------------------------------ embedding */

static void test_embedding(void) {
  enum { ROWS = 5, DIM = 7, COUNT = 8 };
  int8_t *table = xcalloc_exact(ROWS * DIM, 1), *y = xcalloc_exact(COUNT * DIM, 1);
  for (int i = 0; i < ROWS * DIM; i++) table[i] = (int8_t)(i * 7 % 255 - 127 + (i % 3 == 0));
  int32_t ids[COUNT] = {0, 4, -1, 5, 2, INT32_MIN, INT32_MAX, 4};
  memset(y, 99, COUNT * DIM);
  sc_embedding_s8(COUNT, ids, ROWS, DIM, table, y);
  bool ok = true;
  for (int t = 0; t < COUNT; t++)
    for (int d = 0; d < DIM; d++) {
      int want = ids[t] >= 0 && ids[t] < ROWS ? table[ids[t] * DIM + d] : 0;
      ok &= y[t * DIM + d] == want;
    }
  t_check(ok, "embedding: in-range ids copy their row, out-of-range ids (-1, rows, INT32_MIN/MAX) give zeros",
          "wrong row");
  free(table), free(y);
}

static void test_softmax_exact(void) {
  t_check(softmax_mismatch == 0, "softmax kernels (row_s32, s8, matmul_softmax) equal the wide reference bit for bit",
          "%ld elements differ", softmax_mismatch);
}

int main(void) {
  test_isqrt();
  test_igelu();
  test_softmax();
  test_matmul_softmax();
  test_softmax_exact();
  test_layernorm_norm();
  test_layernorm_kernel();
  t_check(ln_mismatch == 0, "layernorm: helpers and kernel equal the wide reference bit for bit (all rows above)",
          "%ld values differ", ln_mismatch);
  test_embedding();
  return t_exit_status();
}
