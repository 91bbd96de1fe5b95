/* sc_internal.h — helpers shared by the scalar reference kernels (sc_*_s8.c).
 * Not part of the runtime's API: generated code and the compiler use shiftc_rt.h.
 * C99, static inline, no libc. */
#ifndef SC_INTERNAL_H
#define SC_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "shiftc_rt.h"

/* The walk of an elementwise kernel (scalar and SIMD) over its output rows: an odometer
 * over dims[0..rank-1) that moves the operands' row offsets by their strides (0 where an
 * operand is broadcast). Steps idx/oa/ob to the next row; returns 0 after the last one. */
static inline int sc_eltwise_next_row(const sc_eltwise_params *p, int32_t *idx, ptrdiff_t *oa, ptrdiff_t *ob) {
  for (int d = p->rank - 2; d >= 0; d--) {
    *oa += p->a_strides[d];
    *ob += p->b_strides[d];
    if (++idx[d] < p->dims[d]) return 1;
    *oa -= (ptrdiff_t)p->a_strides[d] * p->dims[d];
    *ob -= (ptrdiff_t)p->b_strides[d] * p->dims[d];
    idx[d] = 0;
  }
  return 0;
}

/* sum over i < len of a[i*sa] * b[i*sb], in int32 (legalization proves it fits).
 * Where the host compiler has vector registers, contiguous operands (linear's rows) are
 * summed in 16 interleaved lanes, a loop of fixed width that gcc and clang vectorize at -O2
 * (5x the single-accumulator loop measured on x86-64): the compiler's integer interpreter
 * runs this code over every calibration sample. Integer addition is associative and every
 * partial sum is a sum of a subset of the terms, which legalize.c bounds by
 * K * max|a| * max|b| < 2^31, so the result is the same int32 in any order. */
#if defined(__SSE2__) || defined(__ARM_NEON) || defined(__wasm_simd128__)
#define SC_DOT_LANES 16
#endif
static inline int32_t sc_dot_s8(const int8_t *a, ptrdiff_t sa, const int8_t *b, ptrdiff_t sb,
                                int32_t len) {
  int32_t acc = 0, i = 0;
#ifdef SC_DOT_LANES
  if (sa == 1 && sb == 1 && len >= SC_DOT_LANES) {
    int32_t lane[SC_DOT_LANES] = {0};
    for (; i + SC_DOT_LANES <= len; i += SC_DOT_LANES)
      for (int j = 0; j < SC_DOT_LANES; j++) lane[j] += (int32_t)a[i + j] * (int32_t)b[i + j];
    for (int j = 0; j < SC_DOT_LANES; j++) acc += lane[j];
  }
#endif
  for (; i < len; i++) acc += (int32_t)a[i * sa] * (int32_t)b[i * sb];
  return acc;
}

/* The accumulator of one output of a reduction (conv, linear, matmul), with the
 * k-split of sc_requant (shiftc_rt.h):
 *   k_chunk == 0: acc = bias + sum of all terms.
 *   k_chunk  > 0: the terms, in the reduction's natural order (for conv: input
 *     channel, then kernel row, then kernel column; padded positions count as terms
 *     of value 0, so chunk boundaries do not depend on the output position), are cut
 *     into consecutive chunks of k_chunk terms (the last one may be shorter);
 *     acc = rshift_round(bias, pre_shift) + sum over chunks of
 *           rshift_round(chunk's partial sum, pre_shift).
 *     This holds even when the whole reduction fits in one chunk.
 * Feed the terms in order with sc_kacc_dot (products) and sc_kacc_zeros (padding),
 * then read the result with sc_kacc_end. */
typedef struct sc_kacc {
  int32_t total; /* bias (pre-shifted) + the finished chunks (each pre-shifted) */
  int32_t part;  /* sum of the terms of the open chunk */
  int32_t room;  /* terms the open chunk still takes (split mode only) */
  int32_t chunk; /* k_chunk, 0: no split */
  int pre_shift;
} sc_kacc;

static inline void sc_kacc_init(sc_kacc *k, const sc_requant *rq, int32_t bias) {
  k->part = 0;
  if (rq->k_chunk > 0) {
    k->chunk = rq->k_chunk;
    k->room = rq->k_chunk;
    k->pre_shift = rq->pre_shift;
    k->total = sc_rshift_round(bias, rq->pre_shift);
  } else {
    k->chunk = 0;
    k->room = 0;
    k->pre_shift = 0;
    k->total = bias;
  }
}

/* Adds the len terms a[i*sa] * b[i*sb], closing chunks where they fill up. */
static inline void sc_kacc_dot(sc_kacc *k, const int8_t *a, ptrdiff_t sa, const int8_t *b,
                               ptrdiff_t sb, int32_t len) {
  if (k->chunk == 0) {
    k->part += sc_dot_s8(a, sa, b, sb, len);
    return;
  }
  while (len >= k->room) {
    int32_t r = k->room;
    k->total += sc_rshift_round(k->part + sc_dot_s8(a, sa, b, sb, r), k->pre_shift);
    k->part = 0;
    k->room = k->chunk;
    len -= r;
    if (len == 0) return; /* do not form a pointer past the operands */
    a += r * sa;
    b += r * sb;
  }
  k->part += sc_dot_s8(a, sa, b, sb, len);
  k->room -= len;
}

/* sc_kacc_dot for packed weights (shiftc_rt.h: sc_unpack_code): the terms
 * a[i*sa] * code(w, bits, e0 + i). Unpacks a block at a time into a local buffer and
 * feeds sc_kacc_dot, so the k-split is the 8-bit path's to the bit. */
static inline void sc_kacc_dot_packed(sc_kacc *k, const int8_t *a, ptrdiff_t sa, const int8_t *w, int bits,
                                      ptrdiff_t e0, int32_t len) {
  int8_t buf[64];
  while (len > 0) {
    int32_t m = len < 64 ? len : 64;
    for (int32_t i = 0; i < m; i++) buf[i] = (int8_t)sc_unpack_code(w, bits, e0 + i);
    sc_kacc_dot(k, a, sa, buf, 1, m);
    len -= m;
    if (len == 0) return; /* do not form a pointer past the operand */
    a += m * sa;
    e0 += m;
  }
}

/* The weight row of a conv/linear kernel: 8-bit codes, or packed (weight_bits 2..7). */
static inline void sc_kacc_dot_w(sc_kacc *k, const int8_t *a, ptrdiff_t sa, const int8_t *w, int bits,
                                 ptrdiff_t e0, int32_t len) {
  if (bits > 0 && bits < 8) sc_kacc_dot_packed(k, a, sa, w, bits, e0, len);
  else sc_kacc_dot(k, a, sa, w + e0, 1, len);
}

/* Adds len terms of value 0 (padded positions): they only move chunk boundaries. */
static inline void sc_kacc_zeros(sc_kacc *k, int32_t len) {
  if (k->chunk == 0) return;
  if (len < k->room) {
    k->room -= len;
    return;
  }
  len -= k->room;
  k->total += sc_rshift_round(k->part, k->pre_shift);
  k->part = 0;
  k->room = k->chunk - len % k->chunk; /* whole chunks of zeros add rshift(0) = 0 */
}

static inline int32_t sc_kacc_end(const sc_kacc *k) {
  return k->total + (k->chunk ? sc_rshift_round(k->part, k->pre_shift) : k->part);
}

/* Kernel taps t in [0, k) whose input position base + t*dil (dil >= 1) lies in
 * [0, size): the range [*lo, *hi), empty when *lo == *hi. */
static inline void sc_tap_range(int32_t base, int32_t dil, int32_t k, int32_t size, int32_t *lo,
                                int32_t *hi) {
  int32_t a = base >= 0 ? 0 : (-base + dil - 1) / dil;      /* first t: base + t*dil >= 0 */
  int32_t b = base >= size ? 0 : (size - 1 - base) / dil + 1; /* past last t: < size */
  if (b > k) b = k;
  if (a > b) a = b;
  *lo = a;
  *hi = b;
}

/* The other way round: output columns ow in [0, out) whose tap at offset off (input
 * column ow*stride + off, stride >= 1) lies in [0, size): the range [*lo, *hi) within
 * [0, out), empty when *lo == *hi. No division for stride 1 (the common case, and these
 * run once per tap and output row). */
static inline void sc_out_range(int32_t off, int32_t stride, int32_t size, int32_t out, int32_t *lo, int32_t *hi) {
  int32_t a, b;
  if (stride == 1) {
    a = off >= 0 ? 0 : -off;
    b = size - off;
  } else {
    a = off >= 0 ? 0 : (-off + stride - 1) / stride;
    b = size - off <= 0 ? 0 : (size - off + stride - 1) / stride;
  }
  if (b > out) b = out;
  if (b < 0) b = 0;
  if (a > b) a = b;
  *lo = a;
  *hi = b;
}

/* The softmax of one row (sc_softmax_s8.c, sc_matmul_softmax_s8.c): n >= 1 int32
 * scores x that are at the constants' scale after << lshift. Writes e into scratch
 * (which may alias x: x[j] is read before scratch[j] is written), then the
 * probabilities into y. */
static inline void sc_softmax_row_shifted(const sc_softmax_params *p, int32_t n, const int32_t *x, int lshift,
                                          int8_t *y, int32_t *scratch) {
  int32_t max = x[0];
  for (int32_t j = 1; j < n; j++)
    if (x[j] > max) max = x[j];
  int32_t sum = 0; /* n <= 2^16 and e < 2^15 */
  for (int32_t j = 0; j < n; j++) {
    scratch[j] = sc_softmax_exp(p, sc_softmax_diff(p, x[j], max, lshift));
    sum += scratch[j];
  }
  for (int32_t j = 0; j < n; j++) y[j] = sc_softmax_prob(scratch[j], sum);
}

#endif
