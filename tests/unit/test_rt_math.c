/* test_rt_math.c — the integer math of runtime/shiftc_rt.h against wide-integer
 * references: every helper over all boundary values (0, ±1, INT32_MIN/MAX, ±2^k,
 * ±2^k±1, ...) and millions of random inputs (xorshift, fixed seed).
 *
 * The references below are written independently of the header: floor division by
 * its defining inequality in __int128, saturation by comparison, rounding by the
 * formulas of algorithms.md §1/§3, float rounding with libm in double. */
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "shiftc_rt.h"
#include "testlib.h"

__extension__ typedef __int128 i128;

#define N_RANDOM (1L << 21) /* random inputs per helper */

/* ------------------------------------------------------------ random inputs */

static uint64_t rng = 0x2545F4914F6CDD1DULL;

static uint64_t rnd64(void) { /* xorshift64* */
  rng ^= rng >> 12;
  rng ^= rng << 25;
  rng ^= rng >> 27;
  return rng * 0x2545F4914F6CDD1DULL;
}

static int32_t rnd_range(int32_t lo, int32_t hi) { /* inclusive */
  return (int32_t)(lo + (int64_t)(rnd64() % (uint64_t)((int64_t)hi - lo + 1)));
}

/* Any int32, with every magnitude (bit length 0..32) about equally likely. */
static int32_t rnd_i32(void) {
  uint64_t r = rnd64();
  int len = (int)(r % 33);
  uint32_t v = (uint32_t)(r >> 32);
  if (len < 32) v = (v & ((1u << len) - 1u)) | (len ? 1u << (len - 1) : 0u);
  if (len < 32 && (r & 64)) return -(int32_t)v;
  int32_t s;
  memcpy(&s, &v, 4);
  return s;
}

static int64_t rnd_i64(void) {
  uint64_t r = rnd64(), v = rnd64();
  int len = (int)(r % 65);
  if (len < 64) v = (v & ((1ull << len) - 1u)) | (len ? 1ull << (len - 1) : 0u);
  int64_t s;
  memcpy(&s, &v, 8);
  if (len < 64 && (r & 128)) s = -s;
  return s;
}

/* ------------------------------------------------------------ boundary values */

static int32_t b32[512];
static int nb32;
static int64_t b64[1024];
static int nb64;

static void add32(int64_t v) {
  if (v < INT32_MIN || v > INT32_MAX) return;
  for (int i = 0; i < nb32; i++)
    if (b32[i] == v) return;
  b32[nb32++] = (int32_t)v;
}

static void add64(i128 v) {
  if (v < INT64_MIN || v > INT64_MAX) return;
  for (int i = 0; i < nb64; i++)
    if (b64[i] == v) return;
  b64[nb64++] = (int64_t)v;
}

static void make_boundaries(void) {
  static const int64_t extra[] = {0, 1, -1, 2, -2, 3, -3, 7, -7, 8, -8, 126, -126, 127, -127, 128,
                                  -128, 129, -129, 255, -255, 256, -256, 1000, -1000};
  for (size_t i = 0; i < sizeof extra / sizeof extra[0]; i++) add32(extra[i]), add64(extra[i]);
  for (int k = 1; k <= 31; k++) {
    int64_t p = (int64_t)1 << k;
    int64_t vals[] = {p, -p, p - 1, -(p - 1), p + 1, -(p + 1), p + p / 2, -(p + p / 2)};
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) add32(vals[i]);
  }
  add32(INT32_MIN), add32(INT32_MAX), add32(INT32_MIN + 1), add32(INT32_MAX - 1);
  for (int k = 1; k <= 63; k++) {
    i128 p = (i128)1 << k;
    i128 vals[] = {p, -p, p - 1, -(p - 1), p + 1, -(p + 1)};
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) add64(vals[i]);
  }
  add64(INT64_MIN), add64(INT64_MAX), add64((i128)INT64_MIN + 1), add64(INT64_MAX - 1);
}

/* ------------------------------------------------------------ wide references */

/* floor(a / b), b > 0, from its definition: q*b <= a < (q+1)*b. */
static i128 ref_floor_div(i128 a, i128 b) {
  i128 q = a / b; /* within one of the answer */
  while (q * b > a) q--;
  while ((q + 1) * b <= a) q++;
  return q;
}

static i128 ref_clamp(i128 x, i128 lo, i128 hi) { return x < lo ? lo : x > hi ? hi : x; }

static int32_t ref_sat32(i128 x) { return (int32_t)ref_clamp(x, INT32_MIN, INT32_MAX); }

/* Round half up of x / 2^n, n >= 0: floor((x + 2^(n-1)) / 2^n). */
static i128 ref_round_shift(i128 x, int n) {
  if (n == 0) return x;
  return ref_floor_div(x + ((i128)1 << (n - 1)), (i128)1 << n);
}

/* sc_rshift_round's documented precondition: |x| + 2^(n-1) < 2^31. */
static int in_precondition(int32_t x, int n) {
  if (n == 0) return 1;
  i128 ax = x < 0 ? -(i128)x : (i128)x;
  return ax + ((i128)1 << (n - 1)) < ((i128)1 << 31);
}

/* Shift by n: rounding right (half up) for n >= 0, saturating left for n < 0. */
static int32_t ref_shift(int32_t x, int n) {
  if (n >= 0) return (int32_t)ref_round_shift(x, n);
  return ref_sat32((i128)x * ((i128)1 << -n));
}

/* NEON vqrdmulh: sat32((2*a*b + 2^31) >> 32), floor shift. */
static int32_t ref_rdmulh(int32_t a, int32_t b) {
  return ref_sat32(ref_floor_div(2 * (i128)a * b + ((i128)1 << 31), (i128)1 << 32));
}

static int32_t ref_sat_bits(i128 x, int bits) {
  i128 hi = ((i128)1 << (bits - 1)) - 1;
  return (int32_t)ref_clamp(x, -hi, hi);
}

/* ------------------------------------------------------------ reporting */

/* Counts the failures of one check; keeps the first message. */
typedef struct Check {
  const char *name;
  long cases, fails;
  char first[256];
} Check;

static void check_begin(Check *c, const char *name) {
  memset(c, 0, sizeof *c);
  c->name = name;
}

#define EXPECT(c, cond, ...)                                               \
  do {                                                                     \
    (c)->cases++;                                                          \
    if (!(cond) && (c)->fails++ == 0)                                      \
      snprintf((c)->first, sizeof (c)->first, __VA_ARGS__);               \
  } while (0)

static void check_end(Check *c) {
  t_check(c->fails == 0 && c->cases > 0, c->name, "%ld of %ld cases wrong, first: %s", c->fails,
          c->cases, c->first);
}

/* ------------------------------------------------------------ the checks */

static void test_sra(void) {
  Check c;
  check_begin(&c, "sc_sra32 == floor(x / 2^n), n = 0..31");
  for (int i = 0; i < nb32; i++)
    for (int n = 0; n <= 31; n++) {
      int32_t x = b32[i], got = sc_sra32(x, n), want = (int32_t)ref_floor_div(x, (i128)1 << n);
      EXPECT(&c, got == want, "x=%" PRId32 " n=%d: %" PRId32 ", want %" PRId32, x, n, got, want);
    }
  for (long r = 0; r < N_RANDOM; r++) {
    int32_t x = rnd_i32();
    int n = (int)(rnd64() % 32);
    int32_t got = sc_sra32(x, n), want = (int32_t)ref_floor_div(x, (i128)1 << n);
    EXPECT(&c, got == want, "x=%" PRId32 " n=%d: %" PRId32 ", want %" PRId32, x, n, got, want);
  }
  check_end(&c);

  check_begin(&c, "sc_sra64 == floor(x / 2^n), n = 0..63");
  for (int i = 0; i < nb64; i++)
    for (int n = 0; n <= 63; n++) {
      int64_t x = b64[i], got = sc_sra64(x, n), want = (int64_t)ref_floor_div(x, (i128)1 << n);
      EXPECT(&c, got == want, "x=%" PRId64 " n=%d: %" PRId64 ", want %" PRId64, x, n, got, want);
    }
  for (long r = 0; r < N_RANDOM; r++) {
    int64_t x = rnd_i64();
    int n = (int)(rnd64() % 64);
    int64_t got = sc_sra64(x, n), want = (int64_t)ref_floor_div(x, (i128)1 << n);
    EXPECT(&c, got == want, "x=%" PRId64 " n=%d: %" PRId64 ", want %" PRId64, x, n, got, want);
  }
  check_end(&c);
}

static void test_floor_div(void) {
  Check c;
  check_begin(&c, "sc_floor_div32: q*b <= a < (q+1)*b for b > 0");
  for (int i = 0; i < nb32; i++)
    for (int j = 0; j < nb32; j++) {
      int32_t a = b32[i], b = b32[j];
      if (b <= 0) continue;
      int32_t got = sc_floor_div32(a, b), want = (int32_t)ref_floor_div(a, b);
      EXPECT(&c, got == want, "%" PRId32 " / %" PRId32 ": %" PRId32 ", want %" PRId32, a, b, got,
             want);
    }
  for (long r = 0; r < N_RANDOM; r++) {
    int32_t a = rnd_i32(), b = rnd_i32();
    if (b == INT32_MIN) b = INT32_MAX;
    if (b < 0) b = -b;
    if (b == 0) b = 1;
    int32_t got = sc_floor_div32(a, b), want = (int32_t)ref_floor_div(a, b);
    EXPECT(&c, got == want, "%" PRId32 " / %" PRId32 ": %" PRId32 ", want %" PRId32, a, b, got,
           want);
  }
  check_end(&c);

  check_begin(&c, "sc_floor_div64: q*b <= a < (q+1)*b for b > 0");
  for (int i = 0; i < nb64; i++)
    for (int j = 0; j < nb64; j++) {
      int64_t a = b64[i], b = b64[j];
      if (b <= 0) continue;
      int64_t got = sc_floor_div64(a, b), want = (int64_t)ref_floor_div(a, b);
      EXPECT(&c, got == want, "%" PRId64 " / %" PRId64 ": %" PRId64 ", want %" PRId64, a, b, got,
             want);
    }
  for (long r = 0; r < N_RANDOM; r++) {
    int64_t a = rnd_i64(), b = rnd_i64();
    if (b == INT64_MIN) b = INT64_MAX;
    if (b < 0) b = -b;
    if (b == 0) b = 1;
    int64_t got = sc_floor_div64(a, b), want = (int64_t)ref_floor_div(a, b);
    EXPECT(&c, got == want, "%" PRId64 " / %" PRId64 ": %" PRId64 ", want %" PRId64, a, b, got,
           want);
  }
  check_end(&c);
}

static void test_saturation(void) {
  Check c;
  check_begin(&c, "sc_sat32 clamps int64 to int32");
  for (int i = 0; i < nb64; i++) {
    int64_t x = b64[i];
    int32_t got = sc_sat32(x), want = ref_sat32(x);
    EXPECT(&c, got == want, "x=%" PRId64 ": %" PRId32 ", want %" PRId32, x, got, want);
  }
  for (long r = 0; r < N_RANDOM; r++) {
    int64_t x = rnd_i64();
    int32_t got = sc_sat32(x), want = ref_sat32(x);
    EXPECT(&c, got == want, "x=%" PRId64 ": %" PRId32 ", want %" PRId32, x, got, want);
  }
  check_end(&c);

  check_begin(&c, "sc_sat_bits, bits 2..8: clamp to +-(2^(bits-1)-1), -2^(bits-1) never");
  for (int bits = 2; bits <= 8; bits++) {
    int32_t never = -(1 << (bits - 1));
    for (int i = 0; i < nb32; i++) {
      int32_t x = b32[i], got = sc_sat_bits(x, bits), want = ref_sat_bits(x, bits);
      EXPECT(&c, got == want && got != never, "x=%" PRId32 " bits=%d: %" PRId32 ", want %" PRId32,
             x, bits, got, want);
    }
    for (int32_t x = -300; x <= 300; x++) {
      int32_t got = sc_sat_bits(x, bits), want = ref_sat_bits(x, bits);
      EXPECT(&c, got == want && got != never, "x=%" PRId32 " bits=%d: %" PRId32 ", want %" PRId32,
             x, bits, got, want);
    }
  }
  for (long r = 0; r < N_RANDOM; r++) {
    int32_t x = rnd_i32();
    int bits = rnd_range(2, 8);
    int32_t got = sc_sat_bits(x, bits), want = ref_sat_bits(x, bits);
    EXPECT(&c, got == want && got != -(1 << (bits - 1)),
           "x=%" PRId32 " bits=%d: %" PRId32 ", want %" PRId32, x, bits, got, want);
  }
  check_end(&c);

  check_begin(&c, "sc_sat_s8 clamps to [-127, 127] (never -128)");
  for (int i = 0; i < nb32; i++) {
    int32_t x = b32[i], got = sc_sat_s8(x), want = ref_sat_bits(x, 8);
    EXPECT(&c, got == want, "x=%" PRId32 ": %" PRId32 ", want %" PRId32, x, got, want);
  }
  for (long r = 0; r < N_RANDOM; r++) {
    int32_t x = rnd_i32(), got = sc_sat_s8(x), want = ref_sat_bits(x, 8);
    EXPECT(&c, got == want, "x=%" PRId32 ": %" PRId32 ", want %" PRId32, x, got, want);
  }
  check_end(&c);
}

/* The AVX2 model of sc_rshift_round outside its precondition (documented: the sum
 * is formed in 32 bits): wrap(x + 2^(n-1)) to int32, then floor-divide by 2^n. */
static int32_t avx2_rshift(int32_t x, int n) {
  if (n == 0) return x;
  uint32_t s = (uint32_t)x + (1u << (n - 1));
  int64_t w = s > INT32_MAX ? (int64_t)s - ((int64_t)1 << 32) : (int64_t)s;
  return (int32_t)ref_floor_div(w, (i128)1 << n);
}

static void rshift_case(Check *in, Check *half, Check *out, int32_t x, int n) {
  int32_t got = sc_rshift_round(x, n);
  if (in_precondition(x, n)) {
    int32_t want = (int32_t)ref_round_shift(x, n);
    EXPECT(in, got == want, "x=%" PRId32 " n=%d: %" PRId32 ", want %" PRId32, x, n, got, want);
    /* the same, as a property: x/2^n rounded half up, 2^n*y - 2^(n-1) <= x < 2^n*y + 2^(n-1) */
    i128 lo = (i128)got * ((i128)1 << n) - (n ? (i128)1 << (n - 1) : 0);
    i128 hi = (i128)got * ((i128)1 << n) + (n ? (i128)1 << (n - 1) : 1);
    EXPECT(half, lo <= x && x < hi, "x=%" PRId32 " n=%d: %" PRId32, x, n, got);
  } else {
    int32_t want = avx2_rshift(x, n);
    EXPECT(out, got == want, "x=%" PRId32 " n=%d: %" PRId32 ", want %" PRId32, x, n, got, want);
  }
}

static void test_rshift_round(void) {
  Check in, half, out;
  check_begin(&in, "sc_rshift_round == floor((x + 2^(n-1)) / 2^n) where |x| + 2^(n-1) < 2^31");
  check_begin(&half, "sc_rshift_round is x / 2^n rounded half up where |x| + 2^(n-1) < 2^31");
  check_begin(&out, "sc_rshift_round outside the precondition == 32-bit add + floor shift");
  for (int n = 0; n <= 31; n++) {
    for (int i = 0; i < nb32; i++) rshift_case(&in, &half, &out, b32[i], n);
    /* the edges of the precondition, and every tie near 0 */
    int64_t edge = ((int64_t)1 << 31) - (n ? (int64_t)1 << (n - 1) : 0);
    for (int64_t d = -3; d <= 3; d++) {
      if (edge + d <= INT32_MAX) rshift_case(&in, &half, &out, (int32_t)(edge + d), n);
      if (-(edge + d) >= INT32_MIN) rshift_case(&in, &half, &out, (int32_t)-(edge + d), n);
    }
    if (n <= 12)
      for (int32_t x = -(3 << n); x <= (3 << n); x++) rshift_case(&in, &half, &out, x, n);
  }
  for (long r = 0; r < N_RANDOM; r++) rshift_case(&in, &half, &out, rnd_i32(), (int)(rnd64() % 32));
  check_end(&in);
  check_end(&half);
  check_end(&out);
  printf("# rshift_round: %ld cases within the precondition, %ld outside\n", in.cases, out.cases);
}

static void test_shifts(void) {
  Check c;
  check_begin(&c, "sc_lshift_sat == sat32(x * 2^n), n = 0..31");
  for (int n = 0; n <= 31; n++)
    for (int i = 0; i < nb32; i++) {
      int32_t x = b32[i], got = sc_lshift_sat(x, n), want = ref_sat32((i128)x * ((i128)1 << n));
      EXPECT(&c, got == want, "x=%" PRId32 " n=%d: %" PRId32 ", want %" PRId32, x, n, got, want);
    }
  for (long r = 0; r < N_RANDOM; r++) {
    int32_t x = rnd_i32();
    int n = (int)(rnd64() % 32);
    int32_t got = sc_lshift_sat(x, n), want = ref_sat32((i128)x * ((i128)1 << n));
    EXPECT(&c, got == want, "x=%" PRId32 " n=%d: %" PRId32 ", want %" PRId32, x, n, got, want);
  }
  check_end(&c);

  check_begin(&c, "sc_shift_round, n = -31..31 (right: within the precondition)");
  for (int n = -31; n <= 31; n++)
    for (int i = 0; i < nb32; i++) {
      int32_t x = b32[i];
      if (n > 0 && !in_precondition(x, n)) continue;
      int32_t got = sc_shift_round(x, n), want = ref_shift(x, n);
      EXPECT(&c, got == want, "x=%" PRId32 " n=%d: %" PRId32 ", want %" PRId32, x, n, got, want);
    }
  for (long r = 0; r < N_RANDOM; r++) {
    int32_t x = rnd_i32();
    int n = rnd_range(-31, 31);
    if (n > 0 && !in_precondition(x, n)) continue;
    int32_t got = sc_shift_round(x, n), want = ref_shift(x, n);
    EXPECT(&c, got == want, "x=%" PRId32 " n=%d: %" PRId32 ", want %" PRId32, x, n, got, want);
  }
  check_end(&c);
}

static void test_rdmulh(void) {
  Check c;
  check_begin(&c, "sc_rdmulh == sat32((2ab + 2^31) >> 32) (NEON vqrdmulh)");
  for (int i = 0; i < nb32; i++)
    for (int j = 0; j < nb32; j++) {
      int32_t a = b32[i], b = b32[j], got = sc_rdmulh(a, b), want = ref_rdmulh(a, b);
      EXPECT(&c, got == want, "a=%" PRId32 " b=%" PRId32 ": %" PRId32 ", want %" PRId32, a, b, got,
             want);
    }
  for (long r = 0; r < N_RANDOM; r++) {
    int32_t a = rnd_i32(), b = rnd64() & 1 ? rnd_i32() : rnd_range(1 << 30, INT32_MAX);
    int32_t got = sc_rdmulh(a, b), want = ref_rdmulh(a, b);
    EXPECT(&c, got == want, "a=%" PRId32 " b=%" PRId32 ": %" PRId32 ", want %" PRId32, a, b, got,
           want);
  }
  check_end(&c);

  /* The one saturating case, and its neighbours (which do not saturate). */
  t_check(sc_rdmulh(INT32_MIN, INT32_MIN) == INT32_MAX &&
              sc_rdmulh(INT32_MIN, INT32_MIN + 1) == INT32_MAX &&
              sc_rdmulh(INT32_MIN + 1, INT32_MIN) == INT32_MAX &&
              sc_rdmulh(INT32_MIN, INT32_MAX) == INT32_MIN + 1 &&
              sc_rdmulh(INT32_MAX, INT32_MAX) == INT32_MAX - 1 && sc_rdmulh(INT32_MIN, 1) == -1 &&
              sc_rdmulh(INT32_MIN, -1) == 1 && sc_rdmulh(1 << 30, 1 << 30) == 1 << 29 &&
              sc_rdmulh(-1, 1 << 30) == 0 && sc_rdmulh(-1, INT32_MAX) == -1,
          "sc_rdmulh saturates INT32_MIN * INT32_MIN to INT32_MAX, exact neighbours",
          "MIN*MIN=%" PRId32 " MIN*(MIN+1)=%" PRId32 " MIN*MAX=%" PRId32 " MAX*MAX=%" PRId32,
          sc_rdmulh(INT32_MIN, INT32_MIN), sc_rdmulh(INT32_MIN, INT32_MIN + 1),
          sc_rdmulh(INT32_MIN, INT32_MAX), sc_rdmulh(INT32_MAX, INT32_MAX));
}

/* requant_shift / requant_dyadic: sat_bits(shift(.., n)) composed in wide integers.
 * Cases whose right shift would break sc_rshift_round's precondition are the
 * legalizer's to prevent, not compared. */
static void requant_case(Check *cs, Check *cd, int32_t acc, int32_t m0, int n, int bits) {
  if (!(n > 0 && !in_precondition(acc, n))) {
    int32_t got = sc_requant_shift(acc, n, bits), want = ref_sat_bits(ref_shift(acc, n), bits);
    int ok = got == want;
    if (bits == 8) ok = ok && sc_requant_shift_s8(acc, n) == want;
    EXPECT(cs, ok, "acc=%" PRId32 " n=%d bits=%d: %" PRId32 ", want %" PRId32, acc, n, bits, got,
           want);
  }
  if (n >= 0) {
    int32_t prod = ref_rdmulh(acc, m0);
    if (in_precondition(prod, n)) {
      int32_t got = sc_requant_dyadic(acc, m0, n, bits);
      int32_t want = ref_sat_bits(ref_round_shift(prod, n), bits);
      int ok = got == want;
      if (bits == 8) ok = ok && sc_requant_dyadic_s8(acc, m0, n) == want;
      EXPECT(cd, ok, "acc=%" PRId32 " m0=%" PRId32 " n=%d bits=%d: %" PRId32 ", want %" PRId32,
             acc, m0, n, bits, got, want);
    }
  }
}

static void test_requant(void) {
  Check cs, cd;
  check_begin(&cs, "sc_requant_shift(_s8) == sat_bits(round(acc / 2^n)), n = -31..31, bits 2..8");
  check_begin(&cd, "sc_requant_dyadic(_s8) == sat_bits(round(rdmulh(acc, M0) / 2^n))");
  static const int32_t m0s[] = {1 << 30, (1 << 30) + 1, 1518500250 /* 2^30.5 */, INT32_MAX - 1,
                                INT32_MAX};
  for (int i = 0; i < nb32; i++)
    for (int n = -31; n <= 31; n++)
      for (int bits = 2; bits <= 8; bits += 3)
        for (size_t m = 0; m < sizeof m0s / sizeof m0s[0]; m++)
          requant_case(&cs, &cd, b32[i], m0s[m], n, bits);
  for (long r = 0; r < N_RANDOM; r++) {
    int32_t acc = rnd_i32(), m0 = rnd_range(1 << 30, INT32_MAX);
    int n = rnd64() % 8 ? rnd_range(0, 31) : rnd_range(-31, 0);
    requant_case(&cs, &cd, acc, m0, n, rnd64() % 4 ? 8 : rnd_range(2, 8));
  }
  check_end(&cs);
  check_end(&cd);

  /* sc_requant_apply: per channel / per tensor, shift / dyadic, clamp [lo, hi]. */
  Check ca;
  check_begin(&ca, "sc_requant_apply: channel select, mult or not, clamp to [lo, hi]");
  for (long r = 0; r < N_RANDOM / 8; r++) {
    int32_t mult[4];
    int8_t shift[4];
    for (int k = 0; k < 4; k++) {
      mult[k] = rnd_range(1 << 30, INT32_MAX);
      shift[k] = (int8_t)rnd_range(-4, 24);
    }
    sc_requant rq = {rnd64() & 1 ? mult : NULL, shift, (int)(rnd64() & 1), 0, 0, 0, 0, NULL, NULL};
    rq.lo = rnd64() & 1 ? 0 : -rnd_range(1, 127);
    rq.hi = rnd_range(1, 127);
    int c = rnd_range(0, 3), i = rq.per_channel ? c : 0;
    int32_t acc = rnd_range(-(1 << 24), 1 << 24);
    int32_t v = rq.mult ? ref_rdmulh(acc, mult[i]) : acc;
    int32_t want = (int32_t)ref_clamp(ref_shift(v, shift[i]), rq.lo, rq.hi);
    int32_t got = sc_requant_apply(&rq, c, acc);
    EXPECT(&ca, got == want,
           "acc=%" PRId32 " c=%d per_channel=%d mult=%" PRId32 " shift=%d lo=%" PRId32
           " hi=%" PRId32 ": %" PRId32 ", want %" PRId32,
           acc, c, rq.per_channel, rq.mult ? mult[i] : 0, shift[i], rq.lo, rq.hi, got, want);
  }
  check_end(&ca);
}

/* ------------------------------------------------------------ quantize_f32 */

static float f32_from_bits(uint32_t u) {
  float f;
  memcpy(&f, &u, 4);
  return f;
}

/* clamp(round half up(fl(x * inv)), -127, 127), NaN -> -127, computed in double. */
static int ref_quantize(float x, float inv) {
  volatile float v = x * inv; /* the product rounded to float, as the definition says */
  double t = v;
  if (isnan(t)) return -127;
  double r = floor(t + 0.5); /* exact: t has 24 significant bits, double 53 */
  return r < -127 ? -127 : r > 127 ? 127 : (int)r;
}

static void quant_case(Check *c, float x, float inv) {
  int got = sc_quantize_f32(x, inv), want = ref_quantize(x, inv);
  uint32_t xb;
  memcpy(&xb, &x, 4);
  EXPECT(c, got == want && got != -128, "x=%.9g (0x%08" PRIx32 ") inv=%.9g: %d, want %d", (double)x,
         xb, (double)inv, got, want);
}

static void test_quantize(void) {
  Check c;
  check_begin(&c, "sc_quantize_f32 == clamp(round half up(x * inv)), never -128");
  /* every tie k + 0.5 and its float neighbours, at unit scale and a few others */
  static const float invs[] = {1.0f, 0.5f, 2.0f, 4.0f, 0.25f, 1.0f / 3.0f, 10.0f, 127.0f / 6.0f};
  for (size_t s = 0; s < sizeof invs / sizeof invs[0]; s++)
    for (int k = -140; k <= 140; k++) {
      float tie = ((float)k + 0.5f) / invs[s];
      quant_case(&c, tie, invs[s]);
      quant_case(&c, nextafterf(tie, INFINITY), invs[s]);
      quant_case(&c, nextafterf(tie, -INFINITY), invs[s]);
      quant_case(&c, (float)k / invs[s], invs[s]);
    }
  /* special values */
  static const float specials[] = {0.0f, -0.0f, 0.49999997f, -0.49999997f, 0.5f, -0.5f,
                                   0.50000006f, -0.50000006f, 126.5f, -126.5f, 127.5f, -127.5f,
                                   126.49999f, 127.49999f, -127.49999f, -127.50001f, 1e30f,
                                   -1e30f, 1e-45f, -1e-45f};
  for (size_t i = 0; i < sizeof specials / sizeof specials[0]; i++) quant_case(&c, specials[i], 1.0f);
  quant_case(&c, INFINITY, 1.0f);
  quant_case(&c, -INFINITY, 1.0f);
  quant_case(&c, NAN, 1.0f);
  quant_case(&c, -NAN, 1.0f);
  quant_case(&c, 1e30f, 1e30f); /* product overflows to inf */
  quant_case(&c, -1e30f, 1e30f);
  /* random values over the whole code range and beyond, random scales */
  for (long r = 0; r < N_RANDOM; r++) {
    float inv = ldexpf(1.0f + (float)(rnd64() % 1000000) / 1e6f, rnd_range(-8, 8));
    float x = ((float)rnd_range(-300000000, 300000000) / 1e6f) / inv;
    quant_case(&c, x, inv);
  }
  /* random bit patterns: every exponent, subnormals, infinities, NaNs */
  for (long r = 0; r < N_RANDOM; r++) {
    float x = f32_from_bits((uint32_t)rnd64());
    float inv = rnd64() & 1 ? 1.0f : f32_from_bits((uint32_t)rnd64() & 0x7fffffffu);
    quant_case(&c, x, inv);
  }
  check_end(&c);

  int sat_ok = sc_quantize_f32(1000.0f, 1.0f) == 127 && sc_quantize_f32(-1000.0f, 1.0f) == -127 &&
               sc_quantize_f32(127.5f, 1.0f) == 127 && sc_quantize_f32(-127.5f, 1.0f) == -127 &&
               sc_quantize_f32(-128.0f, 1.0f) == -127 && sc_quantize_f32(INFINITY, 1.0f) == 127 &&
               sc_quantize_f32(-INFINITY, 1.0f) == -127 && sc_quantize_f32(NAN, 1.0f) == -127;
  t_check(sat_ok, "sc_quantize_f32 saturates at both ends (+-127, never -128), NaN -> -127",
          "1000->%d -1000->%d -128->%d -inf->%d nan->%d", sc_quantize_f32(1000.0f, 1.0f),
          sc_quantize_f32(-1000.0f, 1.0f), sc_quantize_f32(-128.0f, 1.0f),
          sc_quantize_f32(-INFINITY, 1.0f), sc_quantize_f32(NAN, 1.0f));

  int ties_ok = sc_quantize_f32(2.5f, 1.0f) == 3 && sc_quantize_f32(-2.5f, 1.0f) == -2 &&
                sc_quantize_f32(0.5f, 1.0f) == 1 && sc_quantize_f32(-0.5f, 1.0f) == 0 &&
                sc_quantize_f32(-1.5f, 1.0f) == -1 && sc_quantize_f32(126.5f, 1.0f) == 127 &&
                sc_quantize_f32(-126.5f, 1.0f) == -126 && sc_quantize_f32(0.49999997f, 1.0f) == 0 &&
                sc_quantize_f32(-0.50000006f, 1.0f) == -1;
  t_check(ties_ok, "sc_quantize_f32 ties round half up (-2.5 -> -2, 2.5 -> 3, 0.49999997 -> 0)",
          "2.5->%d -2.5->%d -0.5->%d 0.49999997->%d", sc_quantize_f32(2.5f, 1.0f),
          sc_quantize_f32(-2.5f, 1.0f), sc_quantize_f32(-0.5f, 1.0f),
          sc_quantize_f32(0.49999997f, 1.0f));

  /* Dequantize (q * scale, the float edge of the model) then quantize again: every
   * code comes back, at any scale. */
  Check rt;
  check_begin(&rt, "quantize(dequantize(q)) == q for every code q in [-127, 127]");
  for (long r = 0; r < 20000; r++) {
    float scale = ldexpf(1.0f + (float)(rnd64() % 1000000) / 1e6f, rnd_range(-20, 10));
    for (int q = -127; q <= 127; q++) {
      float x = (float)q * scale;
      int got = sc_quantize_f32(x, 1.0f / scale);
      EXPECT(&rt, got == q, "q=%d scale=%.9g: %d", q, (double)scale, got);
    }
  }
  check_end(&rt);
}

int main(void) {
  make_boundaries();
  printf("# %d int32 and %d int64 boundary values, %ld random inputs per helper\n", nb32, nb64,
         N_RANDOM);
  test_sra();
  test_floor_div();
  test_saturation();
  test_rshift_round();
  test_shifts();
  test_rdmulh();
  test_requant();
  test_quantize();
  return t_exit_status();
}
