/* int_ops.c — compile-time constants of the integer Transformer kernels
 * (runtime/shiftc_rt.h: sc_igelu_s8, sc_softmax_*, sc_layernorm_s8) derived from
 * float scales, exactly as algorithms.md §5/§6 define them. The kernels are the
 * integer semantics; this file only chooses their constants and shifts. */
#include <math.h>

#include "shiftc.h"

/* I-BERT's second-order erf approximation on [0, -b]: L(x) = sign(x) (a (min(|x|,-b) + b)^2 + 1). */
#define IGELU_A (-0.2888)
#define IGELU_B (-1.769)

/* i-exp (§5): ln2 as the method states it, and exp(p) ~ 0.3585 (p + 1.353)^2 + 0.344 on (-ln2, 0]. */
#define IEXP_LN2 0.6931
#define IEXP_A 0.3585
#define IEXP_B 1.353
#define IEXP_C 0.344

/* The smallest / largest i-GELU input scale whose constants fit int32: c_int ~ 6.93/S^2. */
#define IGELU_MIN_SCALE 0x1p-13
#define IGELU_MAX_SCALE 0x1p13

double igelu_derive(double s_in, sc_igelu_params *p) {
  if (!(s_in >= IGELU_MIN_SCALE && s_in <= IGELU_MAX_SCALE)) return 0.0;
  double sp = s_in / sqrt(2.0); /* erf's argument x/sqrt2 = q * S' */
  double s_erf = IGELU_A * sp * sp;
  p->b_int = (int32_t)floor(IGELU_B / sp);
  p->c_int = (int32_t)floor(1.0 / s_erf);
  p->one_int = (int32_t)floor(1.0 / s_erf);
  /* The largest |out| over every int8 code (-128 included), found by trying them all
   * in int64; then the smallest rounding shift that brings it below 2^30 (rounding a
   * negative value moves it toward 0, so the positive bound is the binding one). */
  p->out_rshift = 0;
  int64_t big = 0;
  for (int32_t q = -128; q <= 127; q++) {
    int64_t out = sc_igelu_wide(p, q);
    if (out > big) big = out;
    if (-out > big) big = -out;
  }
  while (sc_rshift_round64(big, p->out_rshift) >= ((int64_t)1 << 30)) p->out_rshift++;
  /* The kernel returns -out (S_erf < 0), so the scale of its result is positive. */
  return s_in * -s_erf / 2 * ldexp(1.0, p->out_rshift);
}

int softmax_score_lshift(double s) {
  int k = 0;
  while (ldexp(s, -k) > 0x1p-8) k++; /* ldexp is exact: no log2 rounding at powers of two */
  return k;
}

void softmax_derive(double s_in, sc_softmax_params *p) {
  if (!(s_in > 0 && s_in <= 0x1p22))
    internal_error("softmax input scale %g outside (0, 2^22]", s_in);
  p->in_lshift = softmax_score_lshift(s_in);
  double s = ldexp(s_in, -p->in_lshift);
  /* 30*x0 must fit int32 and (r + b_int)^2 + c_int int64: S >= 2^-26. */
  if (s < 0x1p-26) internal_error("softmax input scale %g below 2^-26", s);
  p->x0 = (int32_t)floor(-IEXP_LN2 / s);
  p->b_int = (int32_t)floor(IEXP_B / s);
  p->c_int = (int64_t)floor(IEXP_C / (IEXP_A * s * s));
  int64_t poly_max = (int64_t)p->b_int * p->b_int + p->c_int; /* r = 0 */
  p->poly_shift = 0;
  while ((poly_max >> p->poly_shift) >= ((int64_t)1 << 15)) p->poly_shift++;
  while (p->poly_shift <= 0 && (poly_max << -p->poly_shift) < ((int64_t)1 << 14)) p->poly_shift--;
}

/* round half up, to int64, from a double already known to be in range. */
static int64_t round_half_up(double x) { return (int64_t)floor(x + 0.5); }

void layernorm_derive(int n, int l1, const float *gamma, const float *beta, double s_out, int shift_mode,
                      int32_t *g, int64_t *b, int *shift) {
  /* The normalized values yn of the kernel: their scale and largest magnitude. */
  double s_yn = l1 ? 0x1p-16 : sqrt((double)n) * 0x1p-30;
  double ymax = l1 ? (double)n * 0x1p16 : 0x1p30;
  /* y = (yn * s_yn * gamma + beta) / s_out = (yn * G + B) with G = s_yn*gamma/s_out. */
  double gmax = 0;
  for (int c = 0; c < n; c++) {
    double gc = fabs(s_yn * (gamma ? gamma[c] : 1.0) / s_out);
    if (gc > gmax) gmax = gc;
  }
  /* Largest code of g: 8-bit gamma codes in shift mode; else up to 2^31-1 with
   * ymax * gcap <= 2^61 (then |yn*g| + |b| + 2^(shift-1) < 2^63, b clamped below). */
  double gcap = shift_mode ? 127.0 : fmin(2147483647.0, floor(0x1p61 / ymax));
  int sh;
  if (gmax == 0) {
    sh = 30; /* no gamma: the shift only gives beta fractional bits */
  } else if (shift_mode) {
    /* G as 8-bit codes at a power-of-two scale 2^-sh: of the two powers of two around
     * gmax/127, the one with the smaller quantization MSE over the channels (§1). */
    int lo = (int)floor(-log2(gmax / 127.0));
    double best = INFINITY;
    sh = lo;
    for (int cand = lo; cand <= lo + 1; cand++) {
      double err = 0;
      for (int c = 0; c < n; c++) {
        double gc = s_yn * (gamma ? gamma[c] : 1.0) / s_out * ldexp(1.0, cand);
        double q = fmax(-127.0, fmin(127.0, floor(gc + 0.5)));
        err += (gc - q) * (gc - q) * ldexp(1.0, -2 * cand);
      }
      if (err < best) best = err, sh = cand;
    }
  } else {
    /* 16 significant bits: max|g| in [2^15, 2^16). Plenty for int8 outputs (the
     * rounding of g costs < 2^-15 relative), and it keeps |yn*g| < 2^46 (L2), which
     * leaves room for a 32x32->64 multiply on every target. */
    sh = (int)floor(log2((0x1p16 - 0.5) / gmax));
    while (floor(gmax * ldexp(1.0, sh) + 0.5) >= 0x1p16) sh--;
  }
  if (sh < 0) sh = 0;   /* G > 2^16: an absurd output scale; g is clamped to gcap */
  if (sh > 52) sh = 52; /* tiny gamma: fewer significant bits, b still fits */
  *shift = sh;
  double scale = ldexp(1.0, sh);
  for (int c = 0; c < n; c++) {
    double gc = s_yn * (gamma ? gamma[c] : 1.0) / s_out * scale;
    gc = fmax(-gcap, fmin(gcap, gc));
    g[c] = (int32_t)round_half_up(gc);
    /* Beyond |yn*g| + 2^(sh+8) the output saturates whatever yn is: clamp there. */
    double bcap = ymax * fabs((double)g[c]) + ldexp(1.0, sh + 8);
    double bc = (beta ? beta[c] : 0.0) / s_out * scale;
    bc = fmax(-bcap, fmin(bcap, bc));
    b[c] = round_half_up(bc);
  }
}
