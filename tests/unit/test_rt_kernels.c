/* test_rt_kernels.c — the scalar reference kernels of runtime/ (sc_*_s8.c) against
 * naive references written here: direct formulas, int64 accumulation, the k-split
 * done on an explicit list of terms, requantization in wide integers. No code is
 * shared with the kernels (not even shiftc_rt.h's helpers: only its types).
 *
 * Random shapes and parameters from a fixed seed, a few hundred cases per family;
 * every buffer is allocated at its exact size, so ASan catches any access outside.
 * Each family prints one ok line; on failure, the first failing case in full. */
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shiftc_rt.h"
#include "testlib.h"

__extension__ typedef __int128 i128;

#define MAXCH 64

/* ------------------------------------------------------------ random */

static uint64_t rng = 0x9E3779B97F4A7C15ULL;

static uint64_t rnd64(void) { /* xorshift64* */
  rng ^= rng >> 12;
  rng ^= rng << 25;
  rng ^= rng >> 27;
  return rng * 0x2545F4914F6CDD1DULL;
}

static int rnd(int n) { return (int)(rnd64() % (uint64_t)n); } /* [0, n) */

static int32_t rnd_range(int32_t lo, int32_t hi) { /* inclusive */
  return (int32_t)(lo + (int64_t)(rnd64() % (uint64_t)((int64_t)hi - lo + 1)));
}

static void *xmalloc(size_t n) {
  void *p = malloc(n ? n : 1);
  if (!p) abort();
  return p;
}

static int8_t *rnd_codes(size_t n, int amax) {
  int8_t *p = xmalloc(n);
  for (size_t i = 0; i < n; i++) p[i] = (int8_t)rnd_range(-amax, amax);
  return p;
}

/* ------------------------------------------------------------ wide references */

static long g_precond; /* reference inputs outside a kernel's documented preconditions */

static int64_t r_floor_div(int64_t a, int64_t b) { /* b > 0 */
  int64_t q = a / b;
  if (q * b > a) q--;
  return q;
}

/* Round half up of x / 2^n for n >= 0 (checking sc_rshift_round's precondition
 * |x| + 2^(n-1) < 2^31); saturating x * 2^-n for n < 0. */
static int64_t r_shift(int64_t x, int n) {
  if (n == 0) return x;
  if (n > 0) {
    int64_t half = (int64_t)1 << (n - 1);
    if ((x < 0 ? -x : x) + half >= ((int64_t)1 << 31)) g_precond++;
    return r_floor_div(x + half, (int64_t)1 << n);
  }
  i128 v = (i128)x * ((i128)1 << -n);
  return v > INT32_MAX ? INT32_MAX : v < INT32_MIN ? INT32_MIN : (int64_t)v;
}

static int64_t r_rdmulh(int64_t a, int64_t b) { /* sat32(floor((2ab + 2^31) / 2^32)) */
  i128 p = 2 * (i128)a * b + ((i128)1 << 31);
  i128 q = p / ((i128)1 << 32);
  if (q * ((i128)1 << 32) > p) q--;
  return q > INT32_MAX ? INT32_MAX : (int64_t)q;
}

static void r_fits32(int64_t v) {
  if (v < INT32_MIN || v > INT32_MAX) g_precond++;
}

static int8_t r_requant(const sc_requant *rq, int c, int64_t acc) {
  r_fits32(acc);
  int i = rq->per_channel ? c : 0;
  int64_t v = rq->mult ? r_rdmulh(acc, rq->mult[i]) : acc;
  v = r_shift(v, rq->shift[i]);
  if (rq->out_add) v += rq->out_add[i]; /* the output-domain addend, before the clamp */
  return (int8_t)(v < rq->lo ? rq->lo : v > rq->hi ? rq->hi : v);
}

/* Packed sub-byte weights, written here from the layout shiftc_rt.h documents:
 * element e at bits [e*bits, e*bits+bits) of a little-endian bit stream, two's
 * complement. The returned buffer is exactly ceil(n*bits/8) bytes (ASan-checked). */
static int8_t *r_pack(const int8_t *codes, size_t n, int bits) {
  size_t nbytes = (n * (size_t)bits + 7) / 8;
  unsigned char *p = calloc(nbytes ? nbytes : 1, 1);
  if (!p) abort();
  for (size_t e = 0; e < n; e++)
    for (int b = 0; b < bits; b++) {
      size_t bit = e * (size_t)bits + (size_t)b;
      if (((unsigned)(codes[e] & 0xff) >> b) & 1u) p[bit / 8] |= (unsigned char)(1u << (bit % 8));
    }
  return (int8_t *)p;
}

/* The accumulator of one output from its terms in the reduction's natural order:
 * bias + sum, or with k_chunk > 0: round(bias >> pre) + sum over consecutive chunks
 * of k_chunk terms of round(chunk sum >> pre). */
static int64_t r_reduce(const int64_t *terms, int K, int64_t bias, int32_t k_chunk, int pre) {
  if (k_chunk <= 0) {
    int64_t s = bias;
    for (int i = 0; i < K; i++) s += terms[i];
    return s;
  }
  int64_t total = r_shift(bias, pre);
  for (int k0 = 0; k0 < K; k0 += k_chunk) {
    int64_t s = 0;
    for (int i = k0; i < K && i < k0 + k_chunk; i++) s += terms[i];
    r_fits32(s);
    total += r_shift(s, pre);
  }
  return total;
}

static int bitlen(int64_t v) {
  int n = 0;
  for (v = v < 0 ? -v : v; v; v >>= 1) n++;
  return n;
}

/* ------------------------------------------------------------ families */

typedef struct Fam {
  const char *name;
  int cases, fails;
  long outputs;
  int dyadic, perch, relu, split, nobias, out_add, packed, bias_lshift;
  long empty; /* pooling windows with no input position */
  char first[1024];
} Fam;

static void fam_begin(Fam *f, const char *name) {
  memset(f, 0, sizeof *f);
  f->name = name;
  g_precond = 0;
}

static void fam_end(Fam *f) {
  printf("# %s: %d cases, %ld outputs (dyadic %d, per-channel %d, relu %d, k-split %d, "
         "no bias %d, empty windows %ld, out_add %d, packed weights %d, bias_lshift %d)\n",
         f->name, f->cases, f->outputs, f->dyadic, f->perch, f->relu, f->split, f->nobias,
         f->empty, f->out_add, f->packed, f->bias_lshift);
  if (g_precond)
    t_fail(f->name, "test generator broke a kernel precondition %ld times", g_precond);
  else
    t_check(f->fails == 0 && f->cases > 0, f->name, "%d of %d cases wrong; first: %s", f->fails,
            f->cases, f->first);
}

/* Compares n outputs; on the family's first failure keeps the case description. */
static void fam_compare(Fam *f, const int8_t *got, const int8_t *want, long n, const char *fmt,
                        ...) __attribute__((format(printf, 5, 6)));
static void fam_compare(Fam *f, const int8_t *got, const int8_t *want, long n, const char *fmt,
                        ...) {
  f->cases++;
  f->outputs += n;
  long bad = -1;
  for (long i = 0; i < n; i++)
    if (got[i] != want[i]) {
      bad = i;
      break;
    }
  if (bad < 0) return;
  if (f->fails++ == 0) {
    char desc[800];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(desc, sizeof desc, fmt, ap);
    va_end(ap);
    snprintf(f->first, sizeof f->first, "[%s] output %ld of %ld: got %d, want %d", desc, bad, n,
             got[bad], want[bad]);
  }
}

/* Requantization parameters owned by a test case. */
typedef struct RqSpec {
  int32_t mult[MAXCH];
  int8_t shift[MAXCH];
  int32_t out_add[MAXCH];
  sc_requant rq;
} RqSpec;

/* Random requantization for accumulators up to maxabs: shift or dyadic, per channel
 * or per tensor, clamp [-127, 127], [0, 127] (fused ReLU) or a 4-bit [-7, 7]; the
 * shift lands the largest accumulator around the code range (some saturate). */
static void make_rq(RqSpec *s, Fam *f, int nch, int64_t maxabs, int32_t k_chunk, int pre_shift) {
  int dyadic = rnd(2), perch = nch > 1 && rnd(2);
  int base = bitlen(maxabs) - 7;
  for (int c = 0; c < MAXCH; c++) {
    s->mult[c] = rnd_range(1 << 30, INT32_MAX);
    int sh = base + rnd_range(-2, 1) - (dyadic ? rnd(2) : 0);
    s->shift[c] = (int8_t)(sh < -3 ? -3 : sh > 30 ? 30 : sh);
  }
  memset(&s->rq, 0, sizeof s->rq);
  s->rq.mult = dyadic ? s->mult : NULL;
  s->rq.shift = s->shift;
  s->rq.per_channel = perch;
  int r = rnd(8);
  s->rq.lo = r == 0 ? -7 : r < 3 ? 0 : -127;
  s->rq.hi = r == 0 ? 7 : 127;
  s->rq.k_chunk = k_chunk;
  s->rq.pre_shift = pre_shift;
  if (rnd(4) == 0) { /* an output-domain addend (some large enough to saturate) */
    for (int c = 0; c < MAXCH; c++) s->out_add[c] = rnd(8) ? rnd_range(-140, 140) : rnd_range(-2000000, 2000000);
    s->rq.out_add = s->out_add;
    f->out_add++;
  }
  f->dyadic += dyadic;
  f->perch += perch;
  f->relu += s->rq.lo == 0;
  f->split += k_chunk > 0;
}

static const char *rq_desc(const sc_requant *rq, char *buf, size_t n) {
  snprintf(buf, n, "%s per_channel=%d shift0=%d mult0=%" PRId32 " lo=%" PRId32 " hi=%" PRId32
                   " k_chunk=%" PRId32 " pre_shift=%d out_add0=%" PRId32 " bias_lshift0=%d",
           rq->mult ? "dyadic" : "shift", rq->per_channel, rq->shift[0], rq->mult ? rq->mult[0] : 0,
           rq->lo, rq->hi, rq->k_chunk, rq->pre_shift, rq->out_add ? rq->out_add[0] : 0,
           rq->bias_lshift ? rq->bias_lshift[0] : -1);
  return buf;
}

/* Sometimes (one case in four with a bias) 16-bit bias words with a left shift 0..15
 * per channel into the accumulator (sc_requant.bias_lshift); lsh[] receives them. */
static const int8_t *pick_bias_lshift(Fam *f, int32_t *bias, int nch, int8_t *lsh) {
  if (!bias || rnd(4)) return NULL;
  for (int c = 0; c < nch; c++) {
    lsh[c] = (int8_t)rnd_range(0, 15);
    bias[c] = rnd_range(-32767, 32767);
  }
  f->bias_lshift++;
  return lsh;
}

/* Channel c's bias at the accumulator's scale, written from the definition. */
static int64_t r_bias(const int32_t *bias, const int8_t *lsh, int c) {
  if (!bias) return 0;
  return (int64_t)bias[c] * ((int64_t)1 << (lsh ? lsh[c] : 0));
}

/* A k-split for a reduction of K terms (or none): chunks from 1 term to past K. */
static void pick_split(int K, int want_split, int32_t *k_chunk, int *pre_shift) {
  *k_chunk = want_split ? rnd_range(1, K + 2) : 0;
  *pre_shift = want_split ? rnd_range(0, 6) : 0;
}

/* ------------------------------------------------------------ conv2d */

enum { CONV_DENSE, CONV_GROUPED, CONV_DEPTHWISE, CONV_SPLIT, CONV_BIGPAD };

static void conv_case(Fam *f, int family) {
  sc_conv2d_params p;
  memset(&p, 0, sizeof p);
  int icg, ocg;
  int g = family == CONV_DENSE ? 1 : family == CONV_GROUPED ? rnd_range(2, 4) : rnd_range(1, 4);
  if (family == CONV_DEPTHWISE) {
    g = rnd_range(1, 8);
    icg = 1;
    ocg = rnd_range(1, 2); /* channel multiplier */
  } else {
    icg = rnd_range(1, 5);
    ocg = rnd_range(1, 5);
  }
  p.groups = g;
  p.in_c = icg * g;
  p.out_c = ocg * g;
  p.n = rnd_range(1, 2);
  int maxpad = family == CONV_BIGPAD ? 6 : 2;
  int pad_b, pad_r;
  do {
    p.k_h = rnd_range(1, 4), p.k_w = rnd_range(1, 4);
    p.stride_h = rnd_range(1, 3), p.stride_w = rnd_range(1, 3);
    p.dil_h = rnd_range(1, 3), p.dil_w = rnd_range(1, 3);
    p.in_h = rnd_range(1, 10), p.in_w = rnd_range(1, 10);
    p.pad_t = rnd_range(0, maxpad), p.pad_l = rnd_range(0, maxpad);
    pad_b = rnd_range(0, maxpad), pad_r = rnd_range(0, maxpad);
    p.out_h = (p.in_h + p.pad_t + pad_b - p.dil_h * (p.k_h - 1) - 1) / p.stride_h + 1;
    p.out_w = (p.in_w + p.pad_l + pad_r - p.dil_w * (p.k_w - 1) - 1) / p.stride_w + 1;
  } while (p.in_h + p.pad_t + pad_b - p.dil_h * (p.k_h - 1) - 1 < 0 ||
           p.in_w + p.pad_l + pad_r - p.dil_w * (p.k_w - 1) - 1 < 0);

  int wmax = rnd(4) ? 127 : 7;
  size_t nx = (size_t)p.n * p.in_c * p.in_h * p.in_w;
  size_t nw = (size_t)p.out_c * icg * p.k_h * p.k_w;
  size_t ny = (size_t)p.n * p.out_c * p.out_h * p.out_w;
  int bits = rnd(3) == 0 ? rnd_range(2, 7) : 8; /* sub-byte weights are packed */
  if (bits < 8) wmax = (1 << (bits - 1)) - 1;
  int8_t *x = rnd_codes(nx, 127), *w = rnd_codes(nw, wmax);
  int8_t *packed = bits < 8 ? r_pack(w, nw, bits) : NULL;
  f->packed += bits < 8;
  int32_t *bias = NULL;
  if (rnd(5)) {
    bias = xmalloc(sizeof *bias * (size_t)p.out_c);
    for (int c = 0; c < p.out_c; c++) bias[c] = rnd_range(-40000, 40000);
  } else {
    f->nobias++;
  }
  p.weight = packed ? packed : w;
  p.weight_bits = bits;
  p.bias = bias;
  int8_t lsh_buf[MAXCH];
  const int8_t *lsh = pick_bias_lshift(f, bias, p.out_c, lsh_buf);

  int K = icg * p.k_h * p.k_w;
  int32_t k_chunk;
  int pre;
  pick_split(K, family == CONV_SPLIT || rnd(4) == 0, &k_chunk, &pre);

  /* accumulators: the terms of each output listed in order ic, kh, kw */
  int64_t *acc = xmalloc(sizeof *acc * ny), *terms = xmalloc(sizeof *terms * (size_t)K);
  int64_t maxabs = 1;
  for (int b = 0; b < p.n; b++)
    for (int oc = 0; oc < p.out_c; oc++)
      for (int oh = 0; oh < p.out_h; oh++)
        for (int ow = 0; ow < p.out_w; ow++) {
          int gi = oc / ocg, t = 0, inside = 0;
          for (int ic = 0; ic < icg; ic++)
            for (int kh = 0; kh < p.k_h; kh++)
              for (int kw = 0; kw < p.k_w; kw++) {
                int ih = oh * p.stride_h - p.pad_t + kh * p.dil_h;
                int iw = ow * p.stride_w - p.pad_l + kw * p.dil_w;
                int cin = gi * icg + ic;
                int64_t xv = 0;
                if (ih >= 0 && ih < p.in_h && iw >= 0 && iw < p.in_w)
                  xv = x[((b * p.in_c + cin) * p.in_h + ih) * p.in_w + iw], inside = 1;
                terms[t++] = xv * w[((oc * icg + ic) * p.k_h + kh) * p.k_w + kw];
              }
          f->empty += !inside;
          int64_t a = r_reduce(terms, K, r_bias(bias, lsh, oc), k_chunk, pre);
          acc[((b * p.out_c + oc) * p.out_h + oh) * p.out_w + ow] = a;
          if ((a < 0 ? -a : a) > maxabs) maxabs = a < 0 ? -a : a;
        }

  RqSpec rs;
  make_rq(&rs, f, p.out_c, maxabs, k_chunk, pre);
  p.rq = rs.rq;
  p.rq.bias_lshift = lsh;
  int8_t *want = xmalloc(ny), *got = xmalloc(ny);
  for (size_t i = 0; i < ny; i++) want[i] = r_requant(&p.rq, (int)(i / ((size_t)p.out_h * p.out_w) % (size_t)p.out_c), acc[i]);
  sc_conv2d_s8(&p, x, got);
  char rqd[256];
  fam_compare(f, got, want, (long)ny,
              "n=%d in_c=%d %dx%d out_c=%d %dx%d k=%dx%d stride=%d,%d pad_t=%d pad_l=%d "
              "(b=%d r=%d) dil=%d,%d groups=%d weight_bits=%d bias=%s %s",
              p.n, p.in_c, p.in_h, p.in_w, p.out_c, p.out_h, p.out_w, p.k_h, p.k_w, p.stride_h,
              p.stride_w, p.pad_t, p.pad_l, pad_b, pad_r, p.dil_h, p.dil_w, p.groups, bits,
              bias ? "yes" : "NULL", rq_desc(&p.rq, rqd, sizeof rqd));
  free(x), free(w), free(packed), free(bias), free(acc), free(terms), free(want), free(got);
}

static void test_conv2d(void) {
  static const struct {
    int family;
    const char *name;
  } fams[] = {
      {CONV_DENSE, "sc_conv2d_s8 groups=1 (stride, dilation, asymmetric padding)"},
      {CONV_GROUPED, "sc_conv2d_s8 grouped (groups 2..4)"},
      {CONV_DEPTHWISE, "sc_conv2d_s8 depthwise (groups = in_c, multiplier 1..2)"},
      {CONV_SPLIT, "sc_conv2d_s8 k_chunk split (chunks of 1..K+2 terms, pre_shift 0..6)"},
      {CONV_BIGPAD, "sc_conv2d_s8 padding up to 6 (windows entirely in padding)"},
  };
  for (size_t i = 0; i < sizeof fams / sizeof fams[0]; i++) {
    Fam f;
    fam_begin(&f, fams[i].name);
    for (int c = 0; c < 300; c++) conv_case(&f, fams[i].family);
    fam_end(&f);
  }
}

/* ------------------------------------------------------------ linear */

static void linear_case(Fam *f, int split) {
  sc_linear_params p;
  memset(&p, 0, sizeof p);
  p.rows = rnd_range(1, 5);
  p.in = rnd(6) ? rnd_range(1, 80) : rnd_range(200, 700);
  p.out = rnd_range(1, MAXCH);
  size_t nx = (size_t)p.rows * p.in, nw = (size_t)p.out * p.in, ny = (size_t)p.rows * p.out;
  int bits = rnd(3) == 0 ? rnd_range(2, 7) : 8; /* sub-byte weights are packed */
  int8_t *x = rnd_codes(nx, 127), *w = rnd_codes(nw, bits < 8 ? (1 << (bits - 1)) - 1 : rnd(4) ? 127 : 7);
  int8_t *packed = bits < 8 ? r_pack(w, nw, bits) : NULL;
  f->packed += bits < 8;
  int32_t *bias = NULL;
  if (rnd(5)) {
    bias = xmalloc(sizeof *bias * (size_t)p.out);
    for (int o = 0; o < p.out; o++) bias[o] = rnd_range(-200000, 200000);
  } else {
    f->nobias++;
  }
  p.weight = packed ? packed : w;
  p.weight_bits = bits;
  p.bias = bias;
  int8_t lsh_buf[MAXCH];
  const int8_t *lsh = pick_bias_lshift(f, bias, p.out, lsh_buf);
  int32_t k_chunk;
  int pre;
  pick_split(p.in, split, &k_chunk, &pre);

  int64_t *acc = xmalloc(sizeof *acc * ny), *terms = xmalloc(sizeof *terms * (size_t)p.in);
  int64_t maxabs = 1;
  for (int r = 0; r < p.rows; r++)
    for (int o = 0; o < p.out; o++) {
      for (int i = 0; i < p.in; i++) terms[i] = (int64_t)x[r * p.in + i] * w[o * p.in + i];
      int64_t a = r_reduce(terms, p.in, r_bias(bias, lsh, o), k_chunk, pre);
      acc[r * p.out + o] = a;
      if ((a < 0 ? -a : a) > maxabs) maxabs = a < 0 ? -a : a;
    }
  RqSpec rs;
  make_rq(&rs, f, p.out, maxabs, k_chunk, pre);
  p.rq = rs.rq;
  p.rq.bias_lshift = lsh;
  int8_t *want = xmalloc(ny), *got = xmalloc(ny);
  for (size_t i = 0; i < ny; i++) want[i] = r_requant(&p.rq, (int)(i % (size_t)p.out), acc[i]);
  sc_linear_s8(&p, x, got);
  char rqd[256];
  fam_compare(f, got, want, (long)ny, "rows=%d in=%d out=%d weight_bits=%d bias=%s %s", p.rows, p.in, p.out,
              bits, bias ? "yes" : "NULL", rq_desc(&p.rq, rqd, sizeof rqd));
  free(x), free(w), free(packed), free(bias), free(acc), free(terms), free(want), free(got);
}

static void test_linear(void) {
  Fam f;
  fam_begin(&f, "sc_linear_s8 (per-channel / per-tensor, shift / dyadic, relu clamp)");
  for (int c = 0; c < 300; c++) linear_case(&f, 0);
  fam_end(&f);
  fam_begin(&f, "sc_linear_s8 k_chunk split");
  for (int c = 0; c < 300; c++) linear_case(&f, 1);
  fam_end(&f);
}

/* ------------------------------------------------------------ matmul */

static void matmul_case(Fam *f, int split) {
  sc_matmul_params p;
  memset(&p, 0, sizeof p);
  p.batch = rnd_range(1, 4);
  p.m = rnd_range(1, 12), p.k = rnd(5) ? rnd_range(1, 40) : rnd_range(100, 300);
  p.n = rnd_range(1, 12);
  /* batch strides: dense, 0 (broadcast) or with a gap between matrices */
  int ma = rnd(3), mb = rnd(3);
  p.a_batch_stride = ma == 0 ? p.m * p.k : ma == 1 ? 0 : p.m * p.k + rnd_range(1, 5);
  p.b_batch_stride = mb == 0 ? p.k * p.n : mb == 1 ? 0 : p.k * p.n + rnd_range(1, 5);
  size_t na = (size_t)(p.batch - 1) * p.a_batch_stride + (size_t)p.m * p.k;
  size_t nb = (size_t)(p.batch - 1) * p.b_batch_stride + (size_t)p.k * p.n;
  size_t ny = (size_t)p.batch * p.m * p.n;
  int8_t *a = rnd_codes(na, 127), *b = rnd_codes(nb, 127);
  int32_t k_chunk;
  int pre;
  pick_split(p.k, split, &k_chunk, &pre);
  int64_t *acc = xmalloc(sizeof *acc * ny), *terms = xmalloc(sizeof *terms * (size_t)p.k);
  int64_t maxabs = 1;
  for (int t = 0; t < p.batch; t++)
    for (int i = 0; i < p.m; i++)
      for (int j = 0; j < p.n; j++) {
        for (int kk = 0; kk < p.k; kk++)
          terms[kk] = (int64_t)a[t * p.a_batch_stride + i * p.k + kk] *
                      b[t * p.b_batch_stride + kk * p.n + j];
        int64_t v = r_reduce(terms, p.k, 0, k_chunk, pre);
        acc[(t * p.m + i) * p.n + j] = v;
        if ((v < 0 ? -v : v) > maxabs) maxabs = v < 0 ? -v : v;
      }
  RqSpec rs;
  make_rq(&rs, f, 1, maxabs, k_chunk, pre);
  p.rq = rs.rq;
  int8_t *want = xmalloc(ny), *got = xmalloc(ny);
  for (size_t i = 0; i < ny; i++) want[i] = r_requant(&p.rq, 0, acc[i]);
  sc_matmul_s8(&p, a, b, got);
  char rqd[256];
  fam_compare(f, got, want, (long)ny, "batch=%d m=%d k=%d n=%d a_bs=%" PRId32 " b_bs=%" PRId32 " %s",
              p.batch, p.m, p.k, p.n, p.a_batch_stride, p.b_batch_stride,
              rq_desc(&p.rq, rqd, sizeof rqd));
  free(a), free(b), free(acc), free(terms), free(want), free(got);
}

static void test_matmul(void) {
  Fam f;
  fam_begin(&f, "sc_matmul_s8 (batch strides dense / 0 / gapped)");
  for (int c = 0; c < 300; c++) matmul_case(&f, 0);
  fam_end(&f);
  fam_begin(&f, "sc_matmul_s8 k_chunk split");
  for (int c = 0; c < 300; c++) matmul_case(&f, 1);
  fam_end(&f);
}

/* ------------------------------------------------------------ pooling */

static void pool_case(Fam *f, int avg, int bigpad) {
  sc_pool2d_params p;
  memset(&p, 0, sizeof p);
  p.planes = rnd_range(1, 5);
  int maxpad, pad_b, pad_r;
  do {
    p.k_h = rnd_range(1, 4), p.k_w = rnd_range(1, 4);
    p.stride_h = rnd_range(1, 3), p.stride_w = rnd_range(1, 3);
    p.in_h = rnd_range(1, 10), p.in_w = rnd_range(1, 10);
    /* padding below the kernel size keeps every window on the input; bigpad does not */
    maxpad = bigpad ? p.k_h + 2 : p.k_h - 1;
    p.pad_t = rnd_range(0, maxpad), pad_b = rnd_range(0, maxpad);
    maxpad = bigpad ? p.k_w + 2 : p.k_w - 1;
    p.pad_l = rnd_range(0, maxpad), pad_r = rnd_range(0, maxpad);
  } while (p.in_h + p.pad_t + pad_b < p.k_h || p.in_w + p.pad_l + pad_r < p.k_w);
  p.out_h = (p.in_h + p.pad_t + pad_b - p.k_h) / p.stride_h + 1;
  p.out_w = (p.in_w + p.pad_l + pad_r - p.k_w) / p.stride_w + 1;
  size_t nx = (size_t)p.planes * p.in_h * p.in_w, ny = (size_t)p.planes * p.out_h * p.out_w;
  int8_t *x = rnd_codes(nx, 127);
  int64_t *acc = xmalloc(sizeof *acc * ny);
  int8_t *want = xmalloc(ny), *got = xmalloc(ny);
  int empty = 0;
  for (int c = 0; c < p.planes; c++)
    for (int oh = 0; oh < p.out_h; oh++)
      for (int ow = 0; ow < p.out_w; ow++) {
        int64_t sum = 0;
        int m = -1000;
        for (int kh = 0; kh < p.k_h; kh++)
          for (int kw = 0; kw < p.k_w; kw++) {
            int ih = oh * p.stride_h - p.pad_t + kh, iw = ow * p.stride_w - p.pad_l + kw;
            if (ih < 0 || ih >= p.in_h || iw < 0 || iw >= p.in_w) continue;
            int v = x[(c * p.in_h + ih) * p.in_w + iw];
            sum += v;
            if (v > m) m = v;
          }
        size_t o = ((size_t)c * p.out_h + oh) * p.out_w + ow;
        acc[o] = sum;
        if (m == -1000) empty++, m = -127; /* a window with no input position */
        want[o] = (int8_t)m;
      }
  char rqd[256] = "";
  if (avg) {
    RqSpec rs;
    int K = p.k_h * p.k_w;
    make_rq(&rs, f, 1, 127 * K, 0, 0);
    if (rnd(2)) { /* the compiler's 1/K: M0 * 2^-(31 + s), M0 in [2^30, 2^31) */
      int s = bitlen(K); /* 2^(s-1) <= K < 2^s: 2^(30+s)/K in (2^30, 2^31] */
      int64_t m = ((int64_t)1 << (30 + s)) / K;
      rs.mult[0] = m > INT32_MAX ? INT32_MAX : (int32_t)m;
      rs.shift[0] = (int8_t)(s - 1);
      rs.rq.mult = rs.mult;
    }
    p.rq = rs.rq;
    for (size_t i = 0; i < ny; i++) want[i] = r_requant(&p.rq, 0, acc[i]);
    rq_desc(&p.rq, rqd, sizeof rqd);
    sc_avgpool2d_s8(&p, x, got);
  } else {
    /* rq must be ignored: give it garbage */
    p.rq.lo = 50, p.rq.hi = -50, p.rq.shift = NULL;
    sc_maxpool2d_s8(&p, x, got);
  }
  f->empty += empty;
  fam_compare(f, got, want, (long)ny,
              "planes=%d in=%dx%d out=%dx%d k=%dx%d stride=%d,%d pad_t=%d pad_l=%d (b=%d r=%d) %s",
              p.planes, p.in_h, p.in_w, p.out_h, p.out_w, p.k_h, p.k_w, p.stride_h, p.stride_w,
              p.pad_t, p.pad_l, pad_b, pad_r, rqd);
  free(x), free(acc), free(want), free(got);
}

static void test_pool(void) {
  Fam f;
  fam_begin(&f, "sc_maxpool2d_s8 (stride, asymmetric padding, padding never wins)");
  for (int c = 0; c < 400; c++) pool_case(&f, 0, 0);
  fam_end(&f);
  fam_begin(&f, "sc_maxpool2d_s8 windows entirely in padding give -127");
  for (int c = 0; c < 300; c++) pool_case(&f, 0, 1);
  fam_end(&f);
  fam_begin(&f, "sc_avgpool2d_s8 (padding counts as 0, shift / dyadic 1/K)");
  for (int c = 0; c < 400; c++) pool_case(&f, 1, rnd(3) == 0);
  fam_end(&f);
}

/* ------------------------------------------------------------ eltwise */

enum { OP_ADD, OP_SUB, OP_MUL };

static int64_t r_scale_operand(int64_t x, const sc_operand_scale *s) {
  int64_t v = x * ((int64_t)1 << s->lshift);
  r_fits32(v);
  if (s->mult) v = r_rdmulh(v, s->mult);
  return r_shift(v, s->shift);
}

/* Strides of a tensor of shape `shape` (rank r) stored with its axes in the order
 * `order` (outermost first); 0 on axes of size 1 half of the time (either is right). */
static void strides_for(int r, const int32_t *shape, const int *order, int32_t *st) {
  int32_t s = 1;
  for (int i = r - 1; i >= 0; i--) {
    int ax = order[i];
    st[ax] = shape[ax] == 1 && rnd(2) ? 0 : s;
    s *= shape[ax];
  }
}

static void rnd_perm(int r, int *perm) {
  for (int i = 0; i < r; i++) perm[i] = i;
  for (int i = r - 1; i > 0; i--) {
    int j = rnd(i + 1), t = perm[i];
    perm[i] = perm[j], perm[j] = t;
  }
}

static void eltwise_case(Fam *f, int op, int dyadic_operands) {
  sc_eltwise_params p;
  memset(&p, 0, sizeof p);
  int32_t ash[SC_MAX_RANK], bsh[SC_MAX_RANK];
  long total;
  do {
    p.rank = rnd_range(0, SC_MAX_RANK);
    total = 1;
    for (int d = 0; d < p.rank; d++) {
      p.dims[d] = rnd(4) ? rnd_range(1, 5) : 1;
      int mode = rnd(4); /* 0, 1: both full; 2: a broadcast; 3: b broadcast */
      ash[d] = mode == 2 ? 1 : p.dims[d];
      bsh[d] = mode == 3 ? 1 : p.dims[d];
      total *= p.dims[d];
    }
    /* a lower-rank operand: its leading axes are all broadcast */
    int lead = rnd(3) == 0 ? rnd_range(0, p.rank) : 0;
    for (int d = 0; d < lead; d++) (rnd(2) ? ash : bsh)[d] = 1;
  } while (total > 800);
  int order[SC_MAX_RANK];
  long na = 1, nb = 1;
  for (int d = 0; d < p.rank; d++) na *= ash[d], nb *= bsh[d];
  rnd_perm(p.rank, order);
  strides_for(p.rank, ash, rnd(2) ? order : (int[SC_MAX_RANK]){0, 1, 2, 3, 4, 5}, p.a_strides);
  rnd_perm(p.rank, order);
  strides_for(p.rank, bsh, rnd(2) ? order : (int[SC_MAX_RANK]){0, 1, 2, 3, 4, 5}, p.b_strides);
  for (int d = 0; d < p.rank; d++) { /* a broadcast axis reads one element */
    if (ash[d] == 1 && p.dims[d] > 1) p.a_strides[d] = 0;
    if (bsh[d] == 1 && p.dims[d] > 1) p.b_strides[d] = 0;
  }

  if (op != OP_MUL) {
    sc_operand_scale *ops[2] = {&p.a, &p.b};
    for (int i = 0; i < 2; i++) {
      sc_operand_scale *s = ops[i];
      if (dyadic_operands) {
        s->mult = rnd(5) ? rnd_range(1 << 30, INT32_MAX) : 0;
        s->lshift = rnd_range(0, 23);
        s->shift = rnd_range(0, s->lshift + 2);
      } else {
        s->mult = 0;
        s->lshift = rnd_range(0, 12);
        s->shift = rnd(3) ? 0 : rnd_range(0, s->lshift + 2);
      }
    }
  }
  int8_t *a = rnd_codes((size_t)na, 127), *b = rnd_codes((size_t)nb, 127);
  int64_t *acc = xmalloc(sizeof *acc * (size_t)total);
  int64_t maxabs = 1;
  for (long o = 0; o < total; o++) {
    long rem = o, oa = 0, ob = 0;
    for (int d = p.rank - 1; d >= 0; d--) {
      long i = rem % p.dims[d];
      rem /= p.dims[d];
      oa += i * p.a_strides[d];
      ob += i * p.b_strides[d];
    }
    int64_t v;
    if (op == OP_MUL)
      v = (int64_t)a[oa] * b[ob];
    else if (op == OP_ADD)
      v = r_scale_operand(a[oa], &p.a) + r_scale_operand(b[ob], &p.b);
    else
      v = r_scale_operand(a[oa], &p.a) - r_scale_operand(b[ob], &p.b);
    acc[o] = v;
    if ((v < 0 ? -v : v) > maxabs) maxabs = v < 0 ? -v : v;
  }
  RqSpec rs;
  make_rq(&rs, f, 1, maxabs, 0, 0);
  p.out = rs.rq;
  int8_t *want = xmalloc((size_t)total), *got = xmalloc((size_t)total);
  for (long o = 0; o < total; o++) want[o] = r_requant(&p.out, 0, acc[o]);
  if (op == OP_ADD) sc_add_s8(&p, a, b, got);
  else if (op == OP_SUB) sc_sub_s8(&p, a, b, got);
  else sc_mul_s8(&p, a, b, got);

  char shape[512];
  int len = snprintf(shape, sizeof shape, "rank=%d dims/a_strides/b_strides=", p.rank);
  for (int d = 0; d < p.rank; d++)
    len += snprintf(shape + len, sizeof shape - (size_t)len, "%s%" PRId32 "/%" PRId32 "/%" PRId32,
                    d ? "," : "", p.dims[d], p.a_strides[d], p.b_strides[d]);
  char rqd[256];
  fam_compare(f, got, want, total,
              "%s a={mult=%" PRId32 " lshift=%d shift=%d} b={mult=%" PRId32
              " lshift=%d shift=%d} out: %s",
              shape, p.a.mult, p.a.lshift, p.a.shift, p.b.mult, p.b.lshift, p.b.shift,
              rq_desc(&p.out, rqd, sizeof rqd));
  free(a), free(b), free(acc), free(want), free(got);
}

static void test_eltwise(void) {
  static const struct {
    int op, dyadic;
    const char *name;
  } fams[] = {
      {OP_ADD, 0, "sc_add_s8 broadcast, shift-aligned operands"},
      {OP_ADD, 1, "sc_add_s8 broadcast, dyadic operand scales (lshift up to 23)"},
      {OP_SUB, 0, "sc_sub_s8 broadcast, shift-aligned operands"},
      {OP_SUB, 1, "sc_sub_s8 broadcast, dyadic operand scales (lshift up to 23)"},
      {OP_MUL, 0, "sc_mul_s8 broadcast"},
  };
  for (size_t i = 0; i < sizeof fams / sizeof fams[0]; i++) {
    Fam f;
    fam_begin(&f, fams[i].name);
    for (int c = 0; c < 300; c++) eltwise_case(&f, fams[i].op, fams[i].dyadic);
    fam_end(&f);
  }
}

/* ------------------------------------------------------------ lut */

static void test_lut(void) {
  Fam f;
  fam_begin(&f, "sc_lut_s8 (every code, -128 included; in place)");
  for (int c = 0; c < 300; c++) {
    int8_t table[256];
    for (int i = 0; i < 256; i++) table[i] = (int8_t)rnd_range(-128, 127);
    int32_t n = c == 0 ? 0 : rnd_range(1, 1000);
    int8_t *x = rnd_codes((size_t)n, 127), *want = xmalloc((size_t)n), *got = xmalloc((size_t)n);
    for (int32_t i = 0; i < n; i++) {
      if (rnd(50) == 0) x[i] = -128;
      want[i] = table[x[i] + 128];
    }
    if (c % 2) {
      memcpy(got, x, (size_t)n);
      sc_lut_s8(n, table, got, got);
    } else {
      sc_lut_s8(n, table, x, got);
    }
    fam_compare(&f, got, want, n, "n=%" PRId32 " in_place=%d", n, c % 2);
    free(x), free(want), free(got);
  }
  fam_end(&f);
}

/* ------------------------------------------------------------ transpose */

static void test_transpose(void) {
  Fam f;
  fam_begin(&f, "sc_transpose_s8 (rank 0..6, every permutation kind)");
  for (int c = 0; c < 400; c++) {
    sc_transpose_params p;
    memset(&p, 0, sizeof p);
    long total;
    do {
      p.rank = rnd_range(0, SC_MAX_RANK);
      total = 1;
      for (int d = 0; d < p.rank; d++) total *= p.in_dims[d] = rnd_range(1, 5);
    } while (total > 1500);
    int perm[SC_MAX_RANK];
    rnd_perm(p.rank, perm);
    for (int d = 0; d < p.rank; d++) p.perm[d] = perm[d];
    int8_t *x = rnd_codes((size_t)total, 127), *want = xmalloc((size_t)total),
           *got = xmalloc((size_t)total);
    for (long o = 0; o < total; o++) {
      /* output index -> input index: in_idx[perm[i]] = out_idx[i] */
      long rem = o, in_idx[SC_MAX_RANK] = {0};
      for (int i = p.rank - 1; i >= 0; i--) {
        int32_t od = p.in_dims[p.perm[i]];
        in_idx[p.perm[i]] = rem % od;
        rem /= od;
      }
      long off = 0;
      for (int d = 0; d < p.rank; d++) off = off * p.in_dims[d] + in_idx[d];
      want[o] = x[off];
    }
    sc_transpose_s8(&p, x, got);
    char desc[256];
    int len = snprintf(desc, sizeof desc, "rank=%d in_dims/perm=", p.rank);
    for (int d = 0; d < p.rank; d++)
      len += snprintf(desc + len, sizeof desc - (size_t)len, "%s%" PRId32 "/%" PRId32,
                      d ? "," : "", p.in_dims[d], p.perm[d]);
    fam_compare(&f, got, want, total, "%s", desc);
    free(x), free(want), free(got);
  }
  fam_end(&f);
}

/* ------------------------------------------------------------ concat */

static void concat_case(Fam *f, int with_rq) {
  enum { MAXIN = 6 };
  sc_concat_params p;
  int32_t inner[MAXIN];
  sc_requant rqs[MAXIN];
  int32_t mult[MAXIN];
  int8_t shift[MAXIN];
  int8_t *x[MAXIN];
  p.count = rnd_range(1, MAXIN);
  p.outer = rnd_range(1, 6);
  p.inner = inner;
  p.rq = with_rq ? rqs : NULL;
  long total = 0;
  for (int i = 0; i < p.count; i++) {
    inner[i] = rnd(8) ? rnd_range(1, 12) : 0;
    total += (long)p.outer * inner[i];
    x[i] = rnd_codes((size_t)p.outer * inner[i], 127);
    mult[i] = rnd_range(1 << 30, INT32_MAX);
    shift[i] = (int8_t)rnd_range(-2, 3);
    memset(&rqs[i], 0, sizeof rqs[i]);
    rqs[i].mult = rnd(2) ? &mult[i] : NULL;
    rqs[i].shift = &shift[i];
    rqs[i].lo = rnd(4) ? -127 : 0;
    rqs[i].hi = 127;
    if (with_rq) f->dyadic += rqs[i].mult != NULL, f->relu += rqs[i].lo == 0;
  }
  int8_t *want = xmalloc((size_t)total), *got = xmalloc((size_t)total);
  long k = 0;
  for (int o = 0; o < p.outer; o++)
    for (int i = 0; i < p.count; i++)
      for (int j = 0; j < inner[i]; j++) {
        int v = x[i][o * inner[i] + j];
        want[k++] = with_rq ? r_requant(&rqs[i], 0, v) : (int8_t)v;
      }
  sc_concat_s8(&p, (const int8_t *const *)x, got);
  char desc[256];
  int len = snprintf(desc, sizeof desc, "outer=%" PRId32 " count=%d inner/shift/mult=", p.outer,
                     p.count);
  for (int i = 0; i < p.count; i++)
    len += snprintf(desc + len, sizeof desc - (size_t)len, "%s%" PRId32 "/%d/%" PRId32,
                    i ? "," : "", inner[i], shift[i], rqs[i].mult ? mult[i] : 0);
  fam_compare(f, got, want, total, "%s rq=%s", desc, with_rq ? "yes" : "NULL");
  for (int i = 0; i < p.count; i++) free(x[i]);
  free(want), free(got);
}

static void test_concat(void) {
  Fam f;
  fam_begin(&f, "sc_concat_s8 copy (rq NULL, empty inputs included)");
  for (int c = 0; c < 300; c++) concat_case(&f, 0);
  fam_end(&f);
  fam_begin(&f, "sc_concat_s8 with a requantization per input");
  for (int c = 0; c < 300; c++) concat_case(&f, 1);
  fam_end(&f);
}

/* ------------------------------------------------------------ slice */

static void test_slice(void) {
  Fam f;
  fam_begin(&f, "sc_slice_s8 (any outer/len/inner, start, step >= 1; empty slices)");
  for (int c = 0; c < 400; c++) {
    sc_slice_params p;
    p.outer = rnd_range(0, 5);
    p.len = rnd_range(1, 12);
    p.inner = rnd_range(1, 6);
    p.step = rnd(3) ? 1 : rnd_range(2, 5);
    p.start = rnd_range(0, p.len); /* start == len: an empty slice */
    int32_t room = p.len - p.start;
    p.count = room == 0 ? 0 : rnd_range(0, (room + p.step - 1) / p.step); /* end anywhere in [start, len] */
    size_t nx = (size_t)p.outer * p.len * p.inner, ny = (size_t)p.outer * p.count * p.inner;
    int8_t *x = rnd_codes(nx, 127), *want = xmalloc(ny), *got = xmalloc(ny);
    for (int32_t o = 0; o < p.outer; o++)
      for (int32_t j = 0; j < p.count; j++)
        for (int32_t i = 0; i < p.inner; i++)
          want[((size_t)o * p.count + j) * p.inner + i] = x[((size_t)o * p.len + p.start + j * p.step) * p.inner + i];
    sc_slice_s8(&p, x, got);
    fam_compare(&f, got, want, (long)ny, "outer=%" PRId32 " len=%" PRId32 " inner=%" PRId32 " start=%" PRId32
                " step=%" PRId32 " count=%" PRId32, p.outer, p.len, p.inner, p.start, p.step, p.count);
    free(x), free(want), free(got);
  }
  fam_end(&f);
}

/* ------------------------------------------------------------ reducemean */

/* Per output (kept axes in row-major order), its reduced elements in row-major order
 * of the reduced axes, summed through r_reduce (the k-split) and requantized. */
static void reducemean_case(Fam *f, int want_split) {
  sc_reducemean_params p;
  memset(&p, 0, sizeof p);
  long total, count;
  do {
    p.rank = rnd_range(0, SC_MAX_RANK);
    total = 1, count = 1;
    for (int d = 0; d < p.rank; d++) {
      p.dims[d] = rnd_range(1, 5);
      p.reduce[d] = rnd(2);
      total *= p.dims[d];
      if (p.reduce[d]) count *= p.dims[d];
    }
  } while (total > 1200);
  int8_t *x = rnd_codes((size_t)total, 127);
  long nout = total / count;
  int64_t *acc = xmalloc(sizeof *acc * (size_t)(nout ? nout : 1)), *terms = xmalloc(sizeof *terms * (size_t)count);
  int32_t k_chunk;
  int pre;
  pick_split((int)count, want_split, &k_chunk, &pre);
  /* Sometimes the sum's left shift, kept as the compiler keeps it: |sum| << L < 2^30. */
  p.lshift = want_split || rnd(2) ? 0 : rnd_range(0, 29 - bitlen(count * 127));
  int64_t maxabs = 1;
  for (long o = 0; o < nout; o++) {
    long t = 0;
    for (long e = 0; e < total; e++) { /* the elements of output o, in input order */
      long rem = e, ko = 0, kmul = 1;
      for (int d = p.rank - 1; d >= 0; d--) {
        long i = rem % p.dims[d];
        rem /= p.dims[d];
        if (!p.reduce[d]) ko += i * kmul, kmul *= p.dims[d];
      }
      if (ko == o) terms[t++] = x[e];
    }
    acc[o] = r_reduce(terms, (int)count, 0, k_chunk, pre) * ((int64_t)1 << p.lshift);
    if ((acc[o] < 0 ? -acc[o] : acc[o]) > maxabs) maxabs = acc[o] < 0 ? -acc[o] : acc[o];
  }
  RqSpec rs;
  make_rq(&rs, f, 1, maxabs, k_chunk, pre);
  p.rq = rs.rq;
  int8_t *want = xmalloc((size_t)(nout ? nout : 1)), *got = xmalloc((size_t)(nout ? nout : 1));
  for (long o = 0; o < nout; o++) want[o] = r_requant(&p.rq, 0, acc[o]);
  sc_reducemean_s8(&p, x, got);
  char desc[256], rqd[256];
  int len = snprintf(desc, sizeof desc, "lshift=%d rank=%d dims/reduce=", p.lshift, p.rank);
  for (int d = 0; d < p.rank; d++)
    len += snprintf(desc + len, sizeof desc - (size_t)len, "%s%" PRId32 "/%" PRId32, d ? "," : "", p.dims[d],
                    p.reduce[d]);
  fam_compare(f, got, want, nout, "%s %s", desc, rq_desc(&p.rq, rqd, sizeof rqd));
  free(x), free(acc), free(terms), free(want), free(got);
}

static void test_reducemean(void) {
  Fam f;
  fam_begin(&f, "sc_reducemean_s8 (rank 0..6, any reduced set, shift / dyadic, sum shifted left)");
  for (int c = 0; c < 400; c++) reducemean_case(&f, 0);
  fam_end(&f);
  fam_begin(&f, "sc_reducemean_s8 with a k-split sum");
  for (int c = 0; c < 300; c++) reducemean_case(&f, 1);
  fam_end(&f);
}

/* ---------------------------------------------------------- conv_transpose */

/* The reference from the definition, by scatter: input (ih, iw) times tap (kh, kw)
 * lands on output (ih*stride - pad + kh*dil, ...); per output the terms in order ic,
 * kh, kw (a tap no input reaches is a term 0), found by searching the input rows. */
static void convt_case(Fam *f, int split) {
  sc_conv2d_params p;
  memset(&p, 0, sizeof p);
  int g = rnd_range(1, 3), icg = rnd_range(1, 4), ocg = rnd_range(1, 4);
  p.groups = g, p.in_c = icg * g, p.out_c = ocg * g, p.n = rnd_range(1, 2);
  int pad_b, pad_r, op_h, op_w;
  do {
    p.k_h = rnd_range(1, 4), p.k_w = rnd_range(1, 4);
    p.stride_h = rnd_range(1, 3), p.stride_w = rnd_range(1, 3);
    p.dil_h = rnd_range(1, 2), p.dil_w = rnd_range(1, 2);
    p.in_h = rnd_range(1, 6), p.in_w = rnd_range(1, 6);
    p.pad_t = rnd_range(0, 2), p.pad_l = rnd_range(0, 2), pad_b = rnd_range(0, 2), pad_r = rnd_range(0, 2);
    op_h = rnd_range(0, p.stride_h - 1), op_w = rnd_range(0, p.stride_w - 1);
    p.out_h = (p.in_h - 1) * p.stride_h - p.pad_t - pad_b + p.dil_h * (p.k_h - 1) + 1 + op_h;
    p.out_w = (p.in_w - 1) * p.stride_w - p.pad_l - pad_r + p.dil_w * (p.k_w - 1) + 1 + op_w;
  } while (p.out_h < 1 || p.out_w < 1);
  size_t nx = (size_t)p.n * p.in_c * p.in_h * p.in_w, nw = (size_t)p.out_c * icg * p.k_h * p.k_w;
  size_t ny = (size_t)p.n * p.out_c * p.out_h * p.out_w;
  int bits = rnd(4) == 0 ? rnd_range(2, 7) : 8;
  int8_t *x = rnd_codes(nx, 127), *w = rnd_codes(nw, bits < 8 ? (1 << (bits - 1)) - 1 : 127);
  int8_t *packed = bits < 8 ? r_pack(w, nw, bits) : NULL;
  f->packed += bits < 8;
  int32_t *bias = xmalloc(sizeof *bias * (size_t)p.out_c);
  for (int c = 0; c < p.out_c; c++) bias[c] = rnd_range(-40000, 40000);
  p.weight = packed ? packed : w, p.weight_bits = bits, p.bias = bias;
  int K = icg * p.k_h * p.k_w;
  int32_t k_chunk;
  int pre;
  pick_split(K, split, &k_chunk, &pre);
  int64_t *acc = xmalloc(sizeof *acc * ny), *terms = xmalloc(sizeof *terms * (size_t)K), maxabs = 1;
  for (int b = 0; b < p.n; b++)
    for (int oc = 0; oc < p.out_c; oc++)
      for (int oh = 0; oh < p.out_h; oh++)
        for (int ow = 0; ow < p.out_w; ow++) {
          int t = 0;
          for (int ic = 0; ic < icg; ic++)
            for (int kh = 0; kh < p.k_h; kh++)
              for (int kw = 0; kw < p.k_w; kw++) {
                int64_t xv = 0;
                for (int ih = 0; ih < p.in_h; ih++)
                  for (int iw = 0; iw < p.in_w; iw++)
                    if (ih * p.stride_h - p.pad_t + kh * p.dil_h == oh && iw * p.stride_w - p.pad_l + kw * p.dil_w == ow)
                      xv = x[((b * p.in_c + oc / ocg * icg + ic) * p.in_h + ih) * p.in_w + iw];
                terms[t++] = xv * w[((oc * icg + ic) * p.k_h + kh) * p.k_w + kw];
              }
          int64_t a = r_reduce(terms, K, bias[oc], k_chunk, pre);
          acc[((b * p.out_c + oc) * p.out_h + oh) * p.out_w + ow] = a;
          if ((a < 0 ? -a : a) > maxabs) maxabs = a < 0 ? -a : a;
        }
  RqSpec rs;
  make_rq(&rs, f, p.out_c, maxabs, k_chunk, pre);
  p.rq = rs.rq;
  int8_t *want = xmalloc(ny), *got = xmalloc(ny);
  for (size_t i = 0; i < ny; i++) want[i] = r_requant(&p.rq, (int)(i / ((size_t)p.out_h * p.out_w) % (size_t)p.out_c), acc[i]);
  sc_conv_transpose_s8(&p, x, got);
  char rqd[256];
  fam_compare(f, got, want, (long)ny,
              "n=%d in_c=%d %dx%d out_c=%d %dx%d k=%dx%d stride=%d,%d pad=%d,%d,%d,%d outpad=%d,%d dil=%d,%d "
              "groups=%d weight_bits=%d %s",
              p.n, p.in_c, p.in_h, p.in_w, p.out_c, p.out_h, p.out_w, p.k_h, p.k_w, p.stride_h, p.stride_w, p.pad_t,
              p.pad_l, pad_b, pad_r, op_h, op_w, p.dil_h, p.dil_w, p.groups, bits, rq_desc(&p.rq, rqd, sizeof rqd));
  free(x), free(w), free(packed), free(bias), free(acc), free(terms), free(want), free(got);
}

static void test_conv_transpose(void) {
  Fam f;
  fam_begin(&f, "sc_conv_transpose_s8 (stride, dilation, pads, output_padding, groups, packed weights)");
  for (int i = 0; i < 300; i++) convt_case(&f, 0);
  fam_end(&f);
  fam_begin(&f, "sc_conv_transpose_s8 k_chunk split");
  for (int i = 0; i < 150; i++) convt_case(&f, 1);
  fam_end(&f);
}

/* ------------------------------------------------------------------ resize */

/* Bilinear by the definition in doubles on the codes, rounded half up; nearest a gather. */
static void resize_case(Fam *f, int linear) {
  sc_resize_params p;
  p.planes = rnd_range(1, 4), p.in_h = rnd_range(1, 7), p.in_w = rnd_range(1, 7);
  p.out_h = rnd_range(1, 12), p.out_w = rnd_range(1, 12);
  int32_t *idx = xmalloc(sizeof *idx * (size_t)(2 * (p.out_h + p.out_w)));
  int16_t *w = xmalloc(sizeof *w * (size_t)(p.out_h + p.out_w));
  int32_t len[2] = {p.out_h, p.out_w}, in[2] = {p.in_h, p.in_w}, *ix = idx;
  int16_t *wp = w;
  for (int a = 0; a < 2; a++) {
    for (int o = 0; o < len[a]; o++) {
      ix[o] = rnd(in[a]);
      ix[len[a] + o] = ix[o] + 1 < in[a] ? ix[o] + 1 : ix[o];
      wp[o] = (int16_t)rnd_range(0, 1 << SC_RESIZE_FRAC);
    }
    ix += 2 * len[a];
    wp += len[a];
  }
  p.idx = idx, p.w = linear ? w : NULL;
  size_t nx = (size_t)p.planes * p.in_h * p.in_w, ny = (size_t)p.planes * p.out_h * p.out_w;
  int8_t *x = rnd_codes(nx, 127), *want = xmalloc(ny), *got = xmalloc(ny);
  const int32_t *y0 = idx, *y1 = y0 + p.out_h, *x0 = y1 + p.out_h, *x1 = x0 + p.out_w;
  double one = 1 << SC_RESIZE_FRAC;
  for (int c = 0; c < p.planes; c++)
    for (int i = 0; i < p.out_h; i++)
      for (int j = 0; j < p.out_w; j++) {
        const int8_t *pl = x + (size_t)c * p.in_h * p.in_w;
        double v = pl[y0[i] * p.in_w + x0[j]];
        if (linear) {
          double wy = w[i] / one, wx = w[p.out_h + j] / one;
          v = (1 - wy) * ((1 - wx) * pl[y0[i] * p.in_w + x0[j]] + wx * pl[y0[i] * p.in_w + x1[j]]) +
              wy * ((1 - wx) * pl[y1[i] * p.in_w + x0[j]] + wx * pl[y1[i] * p.in_w + x1[j]]);
          v = floor(v + 0.5); /* exact: v is a multiple of 2^-22 */
        }
        want[((size_t)c * p.out_h + i) * p.out_w + j] = (int8_t)v;
      }
  sc_resize_s8(&p, x, got);
  fam_compare(f, got, want, (long)ny, "%s planes=%d %dx%d -> %dx%d", linear ? "bilinear" : "nearest", p.planes,
              p.in_h, p.in_w, p.out_h, p.out_w);
  free(idx), free(w), free(x), free(want), free(got);
}

static void test_resize(void) {
  Fam f;
  fam_begin(&f, "sc_resize_s8 nearest (a gather of codes)");
  for (int i = 0; i < 200; i++) resize_case(&f, 0);
  fam_end(&f);
  fam_begin(&f, "sc_resize_s8 bilinear (weights in 1/2^11, rounded half up)");
  for (int i = 0; i < 400; i++) resize_case(&f, 1);
  fam_end(&f);
}

/* ------------------------------------------------------------ fixed cases */

/* A few hand-computed values, so the references above are themselves anchored. */
static void test_fixed(void) {
  /* 1x1x3x3 input, 3x3 kernel of ones, pad 1: the centre sums all nine, a corner four. */
  int8_t x[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9}, w[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1}, y[9];
  int8_t shift0 = 0;
  sc_conv2d_params p = {1, 1, 3, 3, 1, 3, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1, w, NULL,
                        {NULL, &shift0, 0, -127, 127, 0, 0, NULL, NULL}, 8};
  sc_conv2d_s8(&p, x, y);
  int ok = y[0] == 1 + 2 + 4 + 5 && y[4] == 45 && y[8] == 5 + 6 + 8 + 9;
  /* split into chunks of 2 terms with pre_shift 1 over the centre: (pad terms count)
   * terms 1..9 in order: chunks {1,2} {3,4} {5,6} {7,8} {9} -> round(x/2):
   * 2 (1.5 -> 2), 4 (3.5 -> 4), 6, 8, 5 (4.5 -> 5) = 25. */
  p.rq.k_chunk = 2, p.rq.pre_shift = 1;
  sc_conv2d_s8(&p, x, y);
  ok = ok && y[4] == 25;
  /* top-left corner: terms 0,0,0, 0,1,2, 0,4,5 -> chunks {0,0}{0,0}{1,2}{0,4}{5}
   * -> 0 + 0 + 2 + 2 + 3 = 7 */
  ok = ok && y[0] == 7;
  t_check(ok, "sc_conv2d_s8 hand-computed 3x3 (plain and k_chunk=2, pre_shift=1)",
          "y[0]=%d y[4]=%d y[8]=%d", y[0], y[4], y[8]);
}

/* The packed layout by hand: 4-bit codes 1, -2, 7, -7 are the bytes 0xE1, 0x97 (low
 * nibble first); 3-bit codes 3, -3, 1 straddle: bits 011 101 001 -> 0x6B, 0x00; a
 * linear layer reading them agrees with the same layer on unpacked codes. */
static void test_packed_layout(void) {
  int8_t c4[4] = {1, -2, 7, -7}, c3[3] = {3, -3, 1};
  int8_t *p4 = r_pack(c4, 4, 4), *p3 = r_pack(c3, 3, 3);
  int ok = (uint8_t)p4[0] == 0xE1 && (uint8_t)p4[1] == 0x97 && (uint8_t)p3[0] == 0x6B && (uint8_t)p3[1] == 0x00;
  int8_t x[3] = {10, 20, 30}, y8, y3;
  int8_t shift0 = 0;
  sc_linear_params l = {.rows = 1, .in = 3, .out = 1, .weight = c3, .rq = {.shift = &shift0, .lo = -127, .hi = 127}};
  sc_linear_s8(&l, x, &y8);
  l.weight = p3, l.weight_bits = 3;
  sc_linear_s8(&l, x, &y3);
  ok = ok && y8 == 3 * 10 - 3 * 20 + 30 && y3 == y8;
  /* and with an output-domain addend of -5: 0 - 5 */
  int32_t add = -5;
  l.rq.out_add = &add;
  sc_linear_s8(&l, x, &y3);
  ok = ok && y3 == -5;
  /* and a bias word 3 shifted left by 2 into the accumulator: 0 + 12 - 5 */
  int32_t bias = 3;
  int8_t lsh = 2;
  l.bias = &bias, l.rq.bias_lshift = &lsh;
  sc_linear_s8(&l, x, &y3);
  ok = ok && y3 == 7;
  t_check(ok, "packed weight layout by hand (4-bit 0xE1 0x97, 3-bit straddling), out_add and bias_lshift",
          "bytes %02x %02x / %02x %02x, y8=%d y3=%d", (uint8_t)p4[0], (uint8_t)p4[1], (uint8_t)p3[0],
          (uint8_t)p3[1], y8, y3);
  free(p4), free(p3);
}

int main(void) {
  test_fixed();
  test_packed_layout();
  test_conv2d();
  test_linear();
  test_matmul();
  test_pool();
  test_eltwise();
  test_lut();
  test_transpose();
  test_concat();
  test_slice();
  test_reducemean();
  test_conv_transpose(); /* last: the families above keep the random cases they always had */
  test_resize();
  return t_exit_status();
}
