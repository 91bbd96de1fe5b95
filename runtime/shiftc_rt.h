/* shiftc_rt.h — the integer math every kernel, every target and the compiler's own
 * integer interpreter use: one home, so that all of them agree to the bit
 * (algorithms.md §1 and §3). C99, no libc beyond <stdint.h> and <stddef.h>, all
 * static inline.
 *
 * Conventions: division and right shifts round toward minus infinity (floor);
 * "round" means half up; quantized codes of b bits lie in [-(2^(b-1)-1), 2^(b-1)-1]
 * (the most negative code is never produced, so negation cannot overflow). */
#ifndef SHIFTC_RT_H
#define SHIFTC_RT_H

#include <stddef.h>
#include <stdint.h>

/* Arithmetic right shift (floor) by 0..31, without relying on the implementation-
 * defined behaviour of >> on negative numbers; compilers emit one `sar`/`asr`. */
static inline int32_t sc_sra32(int32_t x, int n) {
  return x >= 0 ? (int32_t)((uint32_t)x >> n) : (int32_t)~(~(uint32_t)x >> n);
}

static inline int64_t sc_sra64(int64_t x, int n) {
  return x >= 0 ? (int64_t)((uint64_t)x >> n) : (int64_t)~(~(uint64_t)x >> n);
}

/* floor(a / b) for b > 0 (C's `/` truncates toward zero). */
static inline int32_t sc_floor_div32(int32_t a, int32_t b) {
  int32_t q = a / b;
  return (a % b != 0 && a < 0) ? q - 1 : q;
}

static inline int64_t sc_floor_div64(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && a < 0) ? q - 1 : q;
}

static inline int32_t sc_sat32(int64_t x) {
  return x > INT32_MAX ? INT32_MAX : x < INT32_MIN ? INT32_MIN : (int32_t)x;
}

/* Clamp to the symmetric range of a `bits`-bit code: [-(2^(bits-1)-1), 2^(bits-1)-1]. */
static inline int32_t sc_sat_bits(int32_t x, int bits) {
  int32_t hi = (int32_t)((1u << (bits - 1)) - 1u);
  return x > hi ? hi : x < -hi ? -hi : x;
}

static inline int8_t sc_sat_s8(int32_t x) { return (int8_t)(x > 127 ? 127 : x < -127 ? -127 : x); }

/* Rounding right shift, half up: (x + 2^(n-1)) >> n for n in 1..31; n == 0 is x.
 * The sum is formed in 32 bits as AVX2's add+srai does; legalization proves it
 * cannot wrap (|x| + 2^(n-1) < 2^31), and so NEON's wider vrshr agrees. */
static inline int32_t sc_rshift_round(int32_t x, int n) {
  if (n == 0) return x;
  return sc_sra32((int32_t)((uint32_t)x + (1u << (n - 1))), n);
}

/* Left shift by 0..31 with saturation to int32 (a negative requantization shift). */
static inline int32_t sc_lshift_sat(int32_t x, int n) {
  return sc_sat32((int64_t)x * ((int64_t)1 << n));
}

/* Shift by n: right (rounding) for n >= 0, left (saturating) for n < 0. */
static inline int32_t sc_shift_round(int32_t x, int n) {
  return n >= 0 ? sc_rshift_round(x, n) : sc_lshift_sat(x, -n);
}

/* Rounding doubling high multiply, exactly NEON's vqrdmulhq_s32:
 * sat32((2*a*b + 2^31) >> 32). Saturates only for a == b == INT32_MIN. */
static inline int32_t sc_rdmulh(int32_t a, int32_t b) {
  if (a == INT32_MIN && b == INT32_MIN) return INT32_MAX;
  int64_t p = (int64_t)a * (int64_t)b; /* |p| <= 2^62: 2p + 2^31 fits int64 */
  return (int32_t)sc_sra64(2 * p + ((int64_t)1 << 31), 32);
}

/* Requantization of an int32 accumulator to a `bits`-bit code (algorithms.md §3). */
static inline int32_t sc_requant_shift(int32_t acc, int n, int bits) {
  return sc_sat_bits(sc_shift_round(acc, n), bits);
}

static inline int32_t sc_requant_dyadic(int32_t acc, int32_t m0, int n, int bits) {
  return sc_sat_bits(sc_shift_round(sc_rdmulh(acc, m0), n), bits);
}

static inline int8_t sc_requant_shift_s8(int32_t acc, int n) {
  return (int8_t)sc_requant_shift(acc, n, 8);
}

static inline int8_t sc_requant_dyadic_s8(int32_t acc, int32_t m0, int n) {
  return (int8_t)sc_requant_dyadic(acc, m0, n, 8);
}

/* ------------------------------------------------------------------ kernels
 * Scalar reference kernels, one per file (sc_<op>_s8.c). The compiler's integer
 * interpreter calls these same functions, so `shiftc run --int` and the generated
 * scalar code agree by construction; SIMD targets are tested against them.
 * All tensors are int8 codes, row major (NCHW for images). */

/* Requantization of int32 accumulators to output codes, per output channel.
 * acc -> y = clamp(shift_round(mult ? rdmulh(acc, mult[c]) : acc, shift[c]), lo, hi).
 * With k_chunk > 0 the reduction is split: each partial sum over k_chunk terms, and
 * the bias, is rounded right by pre_shift before they are added (legalization sets
 * this only where int32 could overflow; otherwise k_chunk = 0, no split). */
typedef struct sc_requant {
  const int32_t *mult;  /* dyadic M0 per channel in [2^30, 2^31), or NULL in shift mode */
  const int8_t *shift;  /* per channel: right shift, negative = left shift */
  int per_channel;      /* 0: mult[0]/shift[0] serve every channel */
  int32_t lo, hi;       /* output clamp: [-127, 127], or [0, 127] with a fused ReLU */
  int32_t k_chunk;      /* 0: no split */
  int pre_shift;
  /* Output-domain addend per channel (algorithms.md §4, the bias out-of-bounds fix):
   * added to the rescaled value before the clamp, in output codes; NULL: none. The
   * compiler sets it where a channel's bias does not fit the bias word. */
  const int32_t *out_add;
  /* Left shift (0..16) per channel of the bias word into the accumulator (the same
   * fix): a conv/linear channel starts its accumulator at bias[c] * 2^bias_lshift[c],
   * so a bias_bits-wide word carries a bias (or its fraction of an output LSB) that
   * needs more bits at the accumulator's scale. Indexed like the bias (always per
   * channel, whatever per_channel says). NULL: no shift. */
  const int8_t *bias_lshift;
} sc_requant;

/* Channel c's bias at the accumulator's scale (0 without a bias). The compiler keeps
 * |bias[c]| * 2^bias_lshift[c] < 2^31 (legalization bounds the accumulator with it). */
static inline int32_t sc_bias_acc(const int32_t *bias, const sc_requant *rq, int c) {
  if (!bias) return 0;
  return rq->bias_lshift ? sc_lshift_sat(bias[c], rq->bias_lshift[c]) : bias[c];
}

static inline int32_t sc_requant_apply(const sc_requant *rq, int c, int32_t acc) {
  int i = rq->per_channel ? c : 0;
  int32_t v = rq->mult ? sc_rdmulh(acc, rq->mult[i]) : acc;
  v = sc_shift_round(v, rq->shift[i]);
  if (rq->out_add) v = sc_sat32((int64_t)v + rq->out_add[i]); /* per channel, like shift */
  return v < rq->lo ? rq->lo : v > rq->hi ? rq->hi : v;
}

/* Sub-byte weights (2..7 bits) are stored packed: code e of a layer's weight array
 * (row-major index, every output channel following the previous without padding)
 * occupies bits [e*bits, e*bits + bits) of a little-endian bit stream, bit k being
 * bit (k mod 8) of byte k/8, as a `bits`-bit two's-complement field. So 4-bit codes
 * go two to a byte, low nibble first; 2-bit codes four to a byte; 3-, 5-, 6- and
 * 7-bit codes straddle bytes. The array is ceil(count*bits/8) bytes. A params
 * struct's weight_bits says which form its `weight` points at: 0 or 8, one int8
 * code per element; 2..7, packed. */
static inline int32_t sc_unpack_code(const int8_t *packed, int bits, ptrdiff_t e) {
  const unsigned char *p = (const unsigned char *)packed;
  size_t bit = (size_t)e * (size_t)bits;
  unsigned sh = (unsigned)(bit & 7u);
  uint32_t v = (uint32_t)p[bit >> 3] >> sh;
  if (sh + (unsigned)bits > 8u) v |= (uint32_t)p[(bit >> 3) + 1] << (8u - sh);
  v &= (1u << bits) - 1u;
  uint32_t sign = 1u << (bits - 1);
  return (int32_t)(v ^ sign) - (int32_t)sign; /* sign-extend the field */
}

/* The inverse, for the compiler: stores `code` as element e of a zero-filled packed
 * array (the one definition of the layout besides sc_unpack_code). */
static inline void sc_pack_code(int8_t *packed, int bits, ptrdiff_t e, int32_t code) {
  unsigned char *p = (unsigned char *)packed;
  size_t bit = (size_t)e * (size_t)bits;
  unsigned sh = (unsigned)(bit & 7u);
  uint32_t v = ((uint32_t)code & ((1u << bits) - 1u)) << sh;
  p[bit >> 3] = (unsigned char)(p[bit >> 3] | (v & 0xffu));
  if (sh + (unsigned)bits > 8u) p[(bit >> 3) + 1] = (unsigned char)(p[(bit >> 3) + 1] | (v >> 8));
}

/* 2-D convolution, NCHW, batch n. weight [out_c][in_c/groups][k_h][k_w]. */
typedef struct sc_conv2d_params {
  int n, in_c, in_h, in_w, out_c, out_h, out_w;
  int k_h, k_w, stride_h, stride_w, pad_t, pad_l, dil_h, dil_w, groups;
  const int8_t *weight;
  const int32_t *bias; /* [out_c], or NULL */
  sc_requant rq;
  int weight_bits;     /* 0 or 8: one int8 code per weight; 2..7: packed (sc_unpack_code) */
} sc_conv2d_params;
void sc_conv2d_s8(const sc_conv2d_params *p, const int8_t *x, int8_t *y);

/* Transposed convolution, output by output: y[b][oc][oy][ox] = requant_oc(bias + sum over
 * (ic, ky, kx) of x[b][g*icg + ic][iy][ix] * weight[oc][ic][ky][kx]) where kernel row ky
 * reaches input row iy = sc_convt_src(oy, ky, stride_h, pad_t, dil_h, in_h) (likewise the
 * columns); taps with no input row or column are terms of value 0 (sc_kacc: the k-split
 * sees every (ic, ky, kx) term, as conv2d's does). The params are conv2d's, the weight
 * [out_c][in_c/groups][k_h][k_w] (the compiler rearranges ONNX's [in_c][out_c/groups]). */
void sc_conv_transpose_s8(const sc_conv2d_params *p, const int8_t *x, int8_t *y);
/* The input index that kernel tap k of output index o reads in a transposed convolution,
 * or -1 where none does (o + pad - k*dil not a multiple of the stride, or outside). */
static inline int32_t sc_convt_src(int32_t o, int32_t k, int32_t stride, int32_t pad, int32_t dil, int32_t in) {
  int32_t t = o + pad - k * dil;
  if (t < 0 || t % stride) return -1;
  return t / stride < in ? t / stride : -1;
}

/* Fully connected over the last axis: y[r][o] = sum_i x[r][i] * weight[o][i] + bias[o]. */
typedef struct sc_linear_params {
  int rows, in, out;
  const int8_t *weight; /* [out][in] */
  const int32_t *bias;  /* [out], or NULL */
  sc_requant rq;
  int weight_bits;      /* 0 or 8: one int8 code per weight; 2..7: packed (sc_unpack_code) */
} sc_linear_params;
void sc_linear_s8(const sc_linear_params *p, const int8_t *x, int8_t *y);

/* Max / average pooling over planes (n*c planes of in_h x in_w). Average pooling
 * sums the window (padding counts as zeros) and requantizes with rq, which carries
 * the 1/(k_h*k_w) factor; max pooling ignores rq (same scale in and out). */
typedef struct sc_pool2d_params {
  int planes, in_h, in_w, out_h, out_w;
  int k_h, k_w, stride_h, stride_w, pad_t, pad_l;
  sc_requant rq;
} sc_pool2d_params;
void sc_maxpool2d_s8(const sc_pool2d_params *p, const int8_t *x, int8_t *y);
void sc_avgpool2d_s8(const sc_pool2d_params *p, const int8_t *x, int8_t *y);

/* Elementwise a (op) b with NumPy broadcasting over the output shape dims[0..rank)
 * (an operand's stride is 0 along a broadcast axis). Each operand is first brought
 * to a common scale: t = shift_round(mult ? rdmulh(x * 2^lshift, mult) : x * 2^lshift, shift);
 * add/sub then requantize t_a +/- t_b with out; mul requantizes x_a * x_b with out. */
#define SC_MAX_RANK 6
typedef struct sc_operand_scale {
  int32_t mult; /* 0: none */
  int lshift;   /* applied first, >= 0 */
  int shift;    /* rounding right shift after, >= 0 */
} sc_operand_scale;
typedef struct sc_eltwise_params {
  int rank;
  int32_t dims[SC_MAX_RANK];      /* output shape */
  int32_t a_strides[SC_MAX_RANK]; /* element strides, 0 where broadcast */
  int32_t b_strides[SC_MAX_RANK];
  sc_operand_scale a, b;
  sc_requant out;
} sc_eltwise_params;
/* y may be the same buffer as an operand of y's own shape (read at the output's index):
 * the memory planner writes outputs in place (compiler/plan_memory.c), so these kernels,
 * the SIMD ones included, read a[j] and b[j] before they write y[j] and never read them after. */
void sc_add_s8(const sc_eltwise_params *p, const int8_t *a, const int8_t *b, int8_t *y);
void sc_sub_s8(const sc_eltwise_params *p, const int8_t *a, const int8_t *b, int8_t *y);
void sc_mul_s8(const sc_eltwise_params *p, const int8_t *a, const int8_t *b, int8_t *y);

/* Any function of one int8 code: y[i] = table[x[i] + 128], built at compile time; x and y
 * may be the same buffer (plan_memory.c writes it in place). */
void sc_lut_s8(int32_t n, const int8_t table[256], const int8_t *x, int8_t *y);

/* Data movement (no arithmetic; scales are equal in and out). */
typedef struct sc_transpose_params {
  int rank;
  int32_t in_dims[SC_MAX_RANK];
  int32_t perm[SC_MAX_RANK];
} sc_transpose_params;
void sc_transpose_s8(const sc_transpose_params *p, const int8_t *x, int8_t *y);

/* Concatenation of `count` inputs along an axis: each input is `outer` blocks of
 * inner[i] bytes (inner = product of dims from the axis on); the output
 * interleaves them block by block. Inputs are rescaled to the output's scale first
 * by the compiler where their scales differ (sc_requant per input). */
typedef struct sc_concat_params {
  int count;
  int32_t outer;
  const int32_t *inner;
  const sc_requant *rq; /* per input, or NULL when every scale equals the output's */
} sc_concat_params;
void sc_concat_s8(const sc_concat_params *p, const int8_t *const *x, int8_t *y);

/* Batched matmul of two activations: a [batch][m][k] x b [batch][k][n] -> [batch][m][n],
 * per-tensor requantization (batch broadcasting resolved by strides: 0 repeats). */
typedef struct sc_matmul_params {
  int batch, m, k, n;
  int32_t a_batch_stride, b_batch_stride;
  sc_requant rq;
} sc_matmul_params;
void sc_matmul_s8(const sc_matmul_params *p, const int8_t *a, const int8_t *b, int8_t *y);

/* Slice along one axis (data movement, scales equal in and out): x is `outer` blocks
 * of len x inner codes; y is `outer` blocks of count x inner, with
 * y[o][j][i] = x[o][start + j*step][i] (step >= 1, start + (count-1)*step < len). */
typedef struct sc_slice_params {
  int32_t outer, len, inner;
  int32_t start, step, count;
} sc_slice_params;
void sc_slice_s8(const sc_slice_params *p, const int8_t *x, int8_t *y);

/* Resize of `planes` H x W planes to out_h x out_w (data movement and, for bilinear, a
 * weighted mean of four codes: the output keeps the input's scale). The compiler computes
 * every output row's and column's source indices and weights once (compiler/ops_float.c,
 * resize_tap): idx holds y0[out_h], y1[out_h], x0[out_w], x1[out_w]; w (bilinear only;
 * NULL for nearest, which reads y0, x0) holds wy[out_h], wx[out_w], the weight of y1 / x1
 * in units of 2^-SC_RESIZE_FRAC. Bilinear output: with a, b the rows y0, y1 interpolated
 * across as a*(2^F - wx) + b*wx, the two rows combined the same way down, rounded half up
 * by 2F bits (sc_rshift_round): |sum| < 127 * 2^(2F) < 2^30. */
#define SC_RESIZE_FRAC 11
typedef struct sc_resize_params {
  int32_t planes, in_h, in_w, out_h, out_w;
  const int32_t *idx;
  const int16_t *w;
} sc_resize_params;
void sc_resize_s8(const sc_resize_params *p, const int8_t *x, int8_t *y);

/* Mean over a set of axes: x has shape dims[0..rank) (row major); each output, in the
 * row-major order of the kept axes, is sc_requant_apply(&rq, 0, acc << lshift) with acc
 * the int32 sum of its reduced elements, taken in row-major order of the reduced axes
 * through the k-split of rq (sc_internal.h, sc_kacc). rq carries the 1/count (a shift
 * when count is a power of two in shift mode, else a dyadic multiplier). A multiplier
 * rounds its product to an integer before the shift; a sum of a few codes is small, so
 * the compiler shifts it left first (lshift, and rq's shift grows by as much) until that
 * rounding is a negligible part of an output step; legalization proves the shifted sum
 * fits int32. The compiler merges adjacent axes of the same kind, so rank is small. */
typedef struct sc_reducemean_params {
  int rank;
  int32_t dims[SC_MAX_RANK];
  int32_t reduce[SC_MAX_RANK]; /* 1: axis reduced, 0: kept */
  int lshift;                  /* 0..30: the sum's left shift before rq */
  sc_requant rq;
} sc_reducemean_params;
void sc_reducemean_s8(const sc_reducemean_params *p, const int8_t *x, int8_t *y);

/* ------------------------------------------------------------------ Transformer kernels
 * Integer-only Transformer ops (algorithms.md §5 I-BERT, §6 L1 LayerNorm). The
 * constants come from compiler/int_ops.c (igelu_derive, softmax_derive,
 * layernorm_derive); the per-element steps are static inline helpers here so that
 * the kernels, the interpreter, SIMD targets and the tests share one definition. */

/* Rounding right shift in 64 bits, half up: (x + 2^(n-1)) >> n for n in 1..62; n == 0 is x.
 * Callers keep |x| + 2^(n-1) < 2^63 (documented per use). */
static inline int64_t sc_rshift_round64(int64_t x, int n) {
  if (n == 0) return x;
  return sc_sra64((int64_t)((uint64_t)x + ((uint64_t)1 << (n - 1))), n);
}

/* floor(sqrt(v)) by integer Newton iteration (algorithms.md §5): start from a power
 * of two >= the root, k = (k + v/k) / 2 until it stops decreasing. From above, every
 * step stays >= floor(sqrt(v)) (AM-GM), and the first step that does not decrease
 * is at the floor root. k <= 2^32, so k + v/k < 2^33: no overflow for any v. */
static inline uint32_t sc_isqrt64(uint64_t v) {
  if (v == 0) return 0;
  int bits = 0;
  while (bits < 64 && (v >> bits) != 0) bits++; /* v < 2^bits */
  uint64_t k = (uint64_t)1 << ((bits + 1) / 2);  /* k^2 >= 2^bits > v */
  for (;;) {
    uint64_t next = (k + v / k) / 2;
    if (next >= k) break;
    k = next;
  }
  return (uint32_t)k;
}

/* i-GELU (I-BERT) on one int8 code q at scale S (algorithms.md §5), with
 * S' = S/sqrt2, b_int = floor(b/S'), c_int = floor(1/(a S'^2)), one_int = floor(1/S_erf),
 * S_erf = a S'^2 (a = -0.2888, b = -1.769, both < 0, so b_int, c_int, one_int < 0):
 *   y   = sign(q) * ((min(|q|, -b_int) + b_int)^2 + c_int)   erf(x/sqrt2) ~ S_erf * y
 *   out = q * (y + one_int)                                    GELU(x) ~ out * S*S_erf/2
 * S_erf < 0 makes that scale negative; the kernel returns -out instead, at the positive
 * scale S*|S_erf|/2 * 2^out_rshift (what igelu_derive returns), rounded right by
 * out_rshift (0 for every S >= 2^-9.5, i.e. amax >= 0.18). Bounds: |y + one_int| <=
 * |c_int| + |one_int| ~ 13.85/S^2 + 2, so |out| <= 127 * that; igelu_derive picks
 * out_rshift so that |result| < 2^30 (any later rounding shift of up to 31 cannot wrap
 * int32). Arithmetic in int64 inside. */
typedef struct sc_igelu_params {
  int32_t b_int, c_int, one_int;
  sc_requant rq;   /* int32 result -> int8, per tensor (per_channel = 0, no k-split) */
  int out_rshift;  /* rounding right shift of the int32 result, usually 0 */
} sc_igelu_params;

/* -out in int64, before out_rshift (igelu_derive bounds it over every code). */
static inline int64_t sc_igelu_wide(const sc_igelu_params *p, int32_t q) {
  int64_t a = q < 0 ? -(int64_t)q : q;
  int64_t t = (a < -(int64_t)p->b_int ? a : -(int64_t)p->b_int) + p->b_int; /* in [b_int, 0] */
  int64_t y = t * t + p->c_int;
  if (q < 0) y = -y; /* sign(0) does not matter: out = 0 */
  return -((int64_t)q * (y + p->one_int));
}

static inline int32_t sc_igelu_s32(const sc_igelu_params *p, int32_t q) {
  return (int32_t)sc_rshift_round64(sc_igelu_wide(p, q), p->out_rshift);
}
/* y[i] = requant(sc_igelu_s32(x[i])); x and y may be the same buffer. */
void sc_igelu_s8(const sc_igelu_params *p, int32_t n, const int8_t *x, int8_t *y);

/* i-exp softmax (algorithms.md §5) over rows of int32 scores at scale S <= 2^-8:
 *   x0 = floor(-ln2/S) (ln2 = 0.6931; x0 < 0), b_int = floor(1.353/S),
 *   c_int = floor(0.344/(0.3585 S^2)); per element, after subtracting the row max
 *   (in int64, then clamped to 30*x0): z = d / x0 >= 0, r = d - z*x0 in (x0, 0],
 *   poly = (r + b_int)^2 + c_int, e = (poly shifted by poly_shift) >> z, where
 *   poly_shift brings the largest poly (r = 0) into [2^14, 2^15);
 *   out = min(127, (e * floor(2^31 / sum e) + 2^23) >> 24), probabilities at 2^-7.
 * The row max gives e >= 2^14, so sum >= 2^14 and e * floor(2^31/sum) <= 2^32 (int64);
 * rows up to 2^16 long keep the int32 sum < 2^31. Constants from softmax_derive
 * (S >= 2^-26 keeps 30*x0 in int32 and (r + b_int)^2 + c_int in int64). */
typedef struct sc_softmax_params {
  int32_t x0, b_int;
  int64_t c_int;
  int poly_shift; /* > 0: right shift (floor), < 0: left shift */
  int in_lshift;  /* sc_softmax_s8 only: int8 codes << in_lshift are at the constants' scale */
} sc_softmax_params;

/* e for one score difference d = x - rowmax <= 0 already shifted to the constants'
 * scale and clamped to [30*x0, 0]. */
static inline int32_t sc_softmax_exp(const sc_softmax_params *p, int32_t d) {
  int32_t z = d / p->x0; /* both <= 0: truncation is floor */
  int64_t r = (int64_t)d - (int64_t)z * p->x0;
  int64_t t = r + p->b_int;
  int64_t poly = t * t + p->c_int;
  int64_t e = p->poly_shift >= 0 ? poly >> p->poly_shift : poly << -p->poly_shift; /* poly > 0 */
  return (int32_t)(e >> z);
}

/* One row: the difference (x - max) << lshift in int64, clamped to 30*x0: any int32
 * scores and lshift in 0..30 are safe (|x - max| < 2^32, so the product is < 2^62). */
static inline int32_t sc_softmax_diff(const sc_softmax_params *p, int32_t x, int32_t max, int lshift) {
  int64_t d = ((int64_t)x - max) * ((int64_t)1 << lshift);
  int64_t lo = 30 * (int64_t)p->x0;
  return (int32_t)(d < lo ? lo : d);
}

/* Probabilities from the e of a row and their sum (sum >= 2^14). */
static inline int8_t sc_softmax_prob(int32_t e, int32_t sum) {
  int64_t f = ((int64_t)1 << 31) / sum;
  int64_t o = (e * f + ((int64_t)1 << 23)) >> 24;
  return (int8_t)(o > 127 ? 127 : o);
}

/* One row of n >= 1 int32 scores (in_lshift is not applied: the scores are at the
 * constants' scale). scratch: n int32 (may be x itself). */
void sc_softmax_row_s32(const sc_softmax_params *p, int32_t n, const int32_t *x, int8_t *y,
                        int32_t *scratch);
/* rows x n int8 codes, each << in_lshift first. scratch: n int32. */
void sc_softmax_s8(const sc_softmax_params *p, int32_t rows, int32_t n, const int8_t *x, int8_t *y,
                   int32_t *scratch);

/* Fused attention scores + softmax: for each batch t and row i, s[j] = sum_k a[i][k]*b[k][j]
 * (int32, same layout and strides as sc_matmul_params, no k-split: legalization keeps
 * k*127*127 < 2^31), then << score_lshift (in int64, see sc_softmax_diff), then softmax
 * over j. y is dense [batch][m][n] at 2^-7. scratch: n int32. With scores at scale s,
 * score_lshift = softmax_score_lshift(s) and sm = softmax_derive(s) (or of s/2^score_lshift). */
typedef struct sc_matmul_softmax_params {
  int batch, m, k, n;
  int32_t a_batch_stride, b_batch_stride;
  int score_lshift;
  sc_softmax_params sm;
} sc_matmul_softmax_params;
void sc_matmul_softmax_s8(const sc_matmul_softmax_params *p, const int8_t *a, const int8_t *b, int8_t *y,
                          int32_t *scratch);

/* LayerNorm over rows of n int8 codes (the scale of x cancels), algorithms.md §5/§6.
 *   mu8 = floor(((sum q << 8) + n/2) / n), d = (q << 8) - mu8 (8 fractional bits);
 *   L2: var = sum d^2 (int64), std = isqrt(var), fac = floor((2^31-1)/std),
 *       yn = (d * fac) >> 1, |yn| < 2^30, scale sqrt(n)/2^30;
 *   L1: D = sum |d| (int64), fac = floor((n << 32)/D), yn = (d*fac + 2^15) >> 16,
 *       |yn| <= n*2^16, scale 2^-16;
 *   a constant row (std = 0, D = 0) has fac = 0 and yn = 0.
 * Output per channel c: y = clamp(rshift_round64(yn * g[c] + b[c], shift), lo, hi);
 * layernorm_derive keeps |yn*g| + |b| + 2^(shift-1) < 2^63. Rows up to 2^16 long. */
typedef struct sc_layernorm_params {
  int32_t rows, n;
  int l1;           /* 0: L2 (isqrt), 1: L1 (mean absolute deviation) */
  const int32_t *g; /* [n] */
  const int64_t *b; /* [n] */
  int shift;        /* 0..62 */
  int32_t lo, hi;
} sc_layernorm_params;

static inline int32_t sc_layernorm_mean8(int32_t n, const int8_t *x) {
  int64_t s = 0;
  for (int32_t i = 0; i < n; i++) s += x[i];
  return (int32_t)sc_floor_div64(s * 256 + n / 2, n);
}

/* The row's normalizing factor fac (see above); 0 for a constant row. */
static inline int64_t sc_layernorm_factor(int l1, int32_t n, const int8_t *x, int32_t mu8) {
  uint64_t acc = 0; /* L2: sum d^2 <= 2^16 * (255*256)^2 < 2^48 */
  for (int32_t i = 0; i < n; i++) {
    int64_t d = (int64_t)x[i] * 256 - mu8;
    acc += l1 ? (uint64_t)(d < 0 ? -d : d) : (uint64_t)(d * d);
  }
  if (acc == 0) return 0;
  if (l1) return (int64_t)(((uint64_t)n << 32) / acc);
  return (int64_t)(INT32_MAX / sc_isqrt64(acc));
}

/* The normalized value of one element (code q) of the row. */
static inline int64_t sc_layernorm_norm(int l1, int8_t q, int32_t mu8, int64_t fac) {
  int64_t d = (int64_t)q * 256 - mu8;
  return l1 ? sc_sra64(d * fac + ((int64_t)1 << 15), 16) : sc_sra64(d * fac, 1);
}
void sc_layernorm_s8(const sc_layernorm_params *p, const int8_t *x, int8_t *y);

/* Embedding: y[t][:] = table[ids[t]][:] (an int8 table at the output scale). An id
 * outside [0, rows) gives a row of zeros (never reads outside the table). */
void sc_embedding_s8(int32_t count, const int32_t *ids, int32_t rows, int32_t dim, const int8_t *table,
                     int8_t *y);

/* Float <-> code at the model's edges: q = clamp(round_half_up(x * inv_scale)), the
 * product rounded to float once, without libm; every target and the interpreter use
 * this one definition. It never adds 0.5 to the product: floor(t + 0.5f) rounds the sum
 * (0.49999997f + 0.5f == 1.0f) and a compiler may fuse x * inv_scale + 0.5f into one
 * fma (GCC does in its default GNU modes on Cortex-M4F and AArch64), which would make
 * targets disagree. Here every step is exact: floor by truncation, then a comparison
 * with i + 0.5f (exact for |i| <= 127). */
static inline int8_t sc_quantize_f32(float x, float inv_scale) {
  float t = x * inv_scale;
  if (!(t > -127.5f)) return -127; /* NaN included */
  if (t >= 126.5f) return 127;
  int32_t i = (int32_t)t;               /* truncates toward zero */
  if ((float)i > t) i -= 1;             /* floor for negatives */
  if (t >= (float)i + 0.5f) i += 1;     /* half up: -2.5 -> -2, 2.5 -> 3 */
  return (int8_t)i;
}

/* A token id given as a float (a float dataset holds ids as floats) to int32: the
 * nearest integer, halves up, as sc_quantize_f32 rounds; NaN and values outside the
 * int32 range give -1, an id no table has (sc_embedding_s8 writes a zero row). Exact
 * without libm: the truncation is exact, and the half step is taken only below 2^23,
 * where i + 0.5f is exact (larger floats are integers already). */
static inline int32_t sc_id_from_f32(float x) {
  if (!(x >= -2147483648.0f && x < 2147483648.0f)) return -1;
  int32_t i = (int32_t)x;
  if ((float)i > x) i -= 1;
  if (x > -8388608.0f && x < 8388608.0f && x >= (float)i + 0.5f) i += 1;
  return i;
}

/* Per-layer timing, for benchmarks. Built with -DSC_PROFILE, a generated run function
 * calls sc_profile_mark(0) before its first layer and sc_profile_mark(i) after layer i
 * (1-based, the comments' numbering), and <model>.c defines
 *   const sc_layer_info <model>_layers[<MODEL>_LAYER_COUNT]
 * naming each layer, its kernel and its multiply-accumulates. The program linking the
 * model defines sc_profile_mark: the generated <model>_test.c does when built with
 * -DSC_PROFILE (`make profile`, `shiftc verify --profile`). Without SC_PROFILE the marks
 * compile to nothing. */
typedef struct sc_layer_info {
  const char *name, *kernel;
  long long macs;
} sc_layer_info;
#ifdef SC_PROFILE
void sc_profile_mark(int layer);
#define SC_PROFILE_MARK(i) sc_profile_mark(i)
#else
#define SC_PROFILE_MARK(i) ((void)0)
#endif

#endif
