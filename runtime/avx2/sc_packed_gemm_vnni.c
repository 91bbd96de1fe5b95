/* sc_packed_gemm_vnni.c — the packed GEMM of the avx2-vnni (ymm) and avx512-vnni (zmm)
 * targets (sc_simd.h), weights packed as [NR channels][K/4][NR][4]. vpdpbusd multiplies
 * unsigned by signed bytes, 4 per int32 lane, with no intermediate saturation, so the
 * activations enter as u = a + 128 (a ^ 0x80) and the kernel subtracts
 * 128 * sum_k W[c][k] (wsum128, from the compiler) with the bias:
 *   bias + sum_k a_k W_k = bias - wsum128 + sum_k u_k W_k, exactly, in int32.
 * Blocking as in the avx2 GEMM: a block of rows converted once into a stack buffer; per
 * block of NR channels, tiles of MR rows x 2 vectors keep their accumulators in
 * registers over the whole K loop.
 * Compiled to nothing for other layouts (every avx2-family target copies both GEMMs). */
#include "sc_simd.h"

#if defined(SC_PACK_U8) && SC_PACK_KB == 4
#include <string.h>

#include "sc_avx2.h"

#if SC_PACK_NR == 32 /* zmm: 16 channels a vector */
enum { MR = 8, VL = 16 };
#if defined(__AVX512VNNI__)
typedef __m512i vec;
static inline vec v_zero(void) { return _mm512_setzero_si512(); }
static inline vec v_load(const int8_t *p) { return _mm512_loadu_si512((const void *)p); }
static inline vec v_set1(int32_t x) { return _mm512_set1_epi32(x); }
static inline vec v_dp(vec c, vec a, vec b) { return _mm512_dpbusd_epi32(c, a, b); }
static inline void v_halves(vec v, __m256i h[2]) {
  h[0] = _mm512_castsi512_si256(v);
  h[1] = _mm512_extracti64x4_epi64(v, 1);
}
#else /* SC_VNNI_ZMM without AVX-512: two ymm halves, the same results */
typedef struct {
  __m256i lo, hi;
} vec;
static inline vec v_zero(void) {
  vec v = {_mm256_setzero_si256(), _mm256_setzero_si256()};
  return v;
}
static inline vec v_load(const int8_t *p) {
  vec v = {_mm256_loadu_si256((const __m256i *)(const void *)p),
           _mm256_loadu_si256((const __m256i *)(const void *)(p + 32))};
  return v;
}
static inline vec v_set1(int32_t x) {
  vec v = {_mm256_set1_epi32(x), _mm256_set1_epi32(x)};
  return v;
}
static inline vec v_dp(vec c, vec a, vec b) {
  vec v = {sc_avx2_dpbusd(c.lo, a.lo, b.lo), sc_avx2_dpbusd(c.hi, a.hi, b.hi)};
  return v;
}
static inline void v_halves(vec v, __m256i h[2]) {
  h[0] = v.lo;
  h[1] = v.hi;
}
#endif
#else /* ymm: 8 channels a vector */
enum { MR = 6, VL = 8 };
typedef __m256i vec;
static inline vec v_zero(void) { return _mm256_setzero_si256(); }
static inline vec v_load(const int8_t *p) { return _mm256_loadu_si256((const __m256i *)(const void *)p); }
static inline vec v_set1(int32_t x) { return _mm256_set1_epi32(x); }
static inline vec v_dp(vec c, vec a, vec b) { return sc_avx2_dpbusd(c, a, b); }
static inline void v_halves(vec v, __m256i h[1]) { h[0] = v; }
#endif

/* Stack bytes for the unsigned copy of a block of rows. */
#define A8_BYTES 98304

static inline int32_t quad(const uint8_t *p) { /* 4 bytes as one lane */
  int32_t v;
  memcpy(&v, p, sizeof v);
  return v;
}

/* One row of the tile: both channel vectors times the row's 4 codes at step p. */
#define SC_ROW(r)                                          \
  do {                                                     \
    const vec b_ = v_set1(quad(a + (r) * as + 4 * p));     \
    c[r][0] = v_dp(c[r][0], b_, w0);                       \
    c[r][1] = v_dp(c[r][1], b_, w1);                       \
  } while (0)

/* c[r][0..1]: the 2 * VL channels of row r, for MR rows of u (a + r * as, kq quads each). */
static void tile(const uint8_t *a, ptrdiff_t as, const int8_t *w, int32_t kq, vec c[MR][2]) {
  for (int r = 0; r < MR; r++) c[r][0] = c[r][1] = v_zero();
  for (int32_t p = 0; p < kq; p++, w += 2 * 4 * VL) {
    const vec w0 = v_load(w), w1 = v_load(w + 4 * VL);
    SC_ROW(0);
    SC_ROW(1);
    SC_ROW(2);
    SC_ROW(3);
    SC_ROW(4);
    SC_ROW(5);
#if SC_PACK_NR == 32
    SC_ROW(6);
    SC_ROW(7);
#endif
  }
}

/* One row: what a block leaves over after its tiles. */
static void tile1(const uint8_t *a, const int8_t *w, int32_t kq, vec c[2]) {
  vec c0 = v_zero(), c1 = v_zero();
  for (int32_t p = 0; p < kq; p++, w += 2 * 4 * VL) {
    const vec b = v_set1(quad(a + 4 * p));
    c0 = v_dp(c0, b, v_load(w));
    c1 = v_dp(c1, b, v_load(w + 4 * VL));
  }
  c[0] = c0, c[1] = c1;
}

enum { G16 = SC_PACK_NR / 16 }; /* groups of 16 channels in a block */

/* Requantizes one row's 2 vectors (NR channels) into G16 groups of 16 codes. */
static void requant_row(const sc_packed_block *q, const vec v[2], __m128i out[G16]) {
  enum { H = VL / 8 }; /* ymm per vector */
  __m256i h[2 * H];
  v_halves(v[0], h);
  v_halves(v[1], h + H);
  for (int g = 0; g < 2 * H; g += 2) /* 16 channels at a time */
    out[g / 2] = sc_avx2_requant16(h[g], h[g + 1], q->bias + 8 * g, q->mult + 8 * g, q->shift + 8 * g,
                                   q->add ? q->add + 8 * g : NULL, q->has_mult, q->lo, q->hi);
}

/* Requantizes one row and writes its nc codes. */
static void store_row(const sc_packed_block *q, const vec v[2], int8_t *y, ptrdiff_t col_stride) {
  int8_t out[SC_PACK_NR];
  __m128i o[G16];
  requant_row(q, v, o);
  for (int g = 0; g < G16; g++) _mm_storeu_si128((__m128i *)(void *)(out + 16 * g), o[g]);
  if (col_stride == 1 && q->nc == SC_PACK_NR) memcpy(y, out, SC_PACK_NR);
  else
    for (int32_t j = 0; j < q->nc; j++) y[j * col_stride] = out[j];
}

/* A tile's MR rows into a conv's NCHW planes: one run of MR codes per channel. */
static void store_tile_cols(const sc_packed_block *q, vec c[MR][2], int8_t *y, ptrdiff_t col_stride) {
  __m128i rows[G16][MR], o[G16];
  for (int32_t r = 0; r < MR; r++) {
    requant_row(q, c[r], o);
    for (int g = 0; g < G16; g++) rows[g][r] = o[g];
  }
  for (int g = 0; g < G16 && 16 * g < q->nc; g++)
    sc_avx2_store_cols(rows[g], MR, q->nc - 16 * g < 16 ? q->nc - 16 * g : 16, y + 16 * g * col_stride, col_stride);
}

/* Rows [0, mc) of a as unsigned bytes a + 128, kq quads a row (the tail's pad 0: its
 * weights are 0). */
static void to_u8(const int8_t *a, ptrdiff_t a_stride, int32_t mc, int32_t k, int32_t kq, uint8_t *u) {
  const __m256i flip = _mm256_set1_epi8((char)0x80);
  for (int32_t i = 0; i < mc; i++) {
    const int8_t *src = a + i * a_stride;
    uint8_t *dst = u + (ptrdiff_t)i * 4 * kq;
    int32_t kk = 0;
    for (; kk + 32 <= k; kk += 32)
      _mm256_storeu_si256((__m256i *)(void *)(dst + kk),
                          _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)(const void *)(src + kk)), flip));
    for (; kk < k; kk++) dst[kk] = (uint8_t)(src[kk] ^ 0x80);
    for (; kk < 4 * kq; kk++) dst[kk] = 0;
  }
}

/* The same from K-major activations (row i's term kk at at[kk * at_stride + i]): blocks
 * of 8 rows x 8 quads, each quad's four rows of 8 codes interleaved into one ymm of 8
 * (row, quad) dwords, an 8 x 8 dword transpose, 8 rows of 8 quads stored whole. */
static void to_u8_kmajor(const int8_t *at, ptrdiff_t at_stride, int32_t mc, int32_t k, int32_t kq, uint8_t *u) {
  const __m256i flip = _mm256_set1_epi8((char)0x80);
  const ptrdiff_t row = 4 * (ptrdiff_t)kq;
  int32_t i0 = 0;
  for (; i0 + 8 <= mc; i0 += 8) {
    int32_t q0 = 0;
    for (; q0 + 8 <= kq && 4 * (q0 + 8) <= k; q0 += 8) {
      __m256i v[8];
      for (int j = 0; j < 8; j++) {
        const int8_t *r = at + (ptrdiff_t)(4 * (q0 + j)) * at_stride + i0;
        const __m128i b01 = _mm_unpacklo_epi8(sc_avx2_load8(r), sc_avx2_load8(r + at_stride));
        const __m128i b23 = _mm_unpacklo_epi8(sc_avx2_load8(r + 2 * at_stride), sc_avx2_load8(r + 3 * at_stride));
        v[j] = _mm256_xor_si256(
            _mm256_set_m128i(_mm_unpackhi_epi16(b01, b23), _mm_unpacklo_epi16(b01, b23)), flip);
      }
      sc_avx2_transpose8_epi32(v);
      for (int t = 0; t < 8; t++) _mm256_storeu_si256((__m256i *)(void *)(u + (i0 + t) * row + 4 * q0), v[t]);
    }
    for (int32_t kk = 4 * q0; kk < 4 * kq; kk++)
      for (int t = 0; t < 8; t++) u[(i0 + t) * row + kk] = kk < k ? (uint8_t)(at[kk * at_stride + i0 + t] ^ 0x80) : 0;
  }
  for (; i0 < mc; i0++)
    for (int32_t kk = 0; kk < 4 * kq; kk++) u[i0 * row + kk] = kk < k ? (uint8_t)(at[kk * at_stride + i0] ^ 0x80) : 0;
}

/* Both entries: row-major a, or K-major (kmajor: term kk of row i at a[kk * a_stride + i]). */
static void gemm(const sc_packed_weights *pw, const int8_t *w, int32_t c0, int32_t n, const int8_t *a,
                 ptrdiff_t a_stride, int kmajor, int32_t m, int8_t *y, ptrdiff_t y_row_stride, ptrdiff_t y_col_stride) {
  uint8_t u[A8_BYTES];
  const int32_t k = pw->k, kq = pw->k_pad / 4;
  int32_t mb = (int32_t)(A8_BYTES / (4 * (size_t)kq));
  if (mb >= MR) mb -= mb % MR;
  for (int32_t r0 = 0; r0 < m; r0 += mb) {
    const int32_t mc = m - r0 < mb ? m - r0 : mb;
    if (kmajor) to_u8_kmajor(a + r0, a_stride, mc, k, kq, u);
    else to_u8(a + r0 * a_stride, a_stride, mc, k, kq, u);
    const int8_t *wb = w;
    for (int32_t nb = 0; nb < n; nb += SC_PACK_NR, wb += (ptrdiff_t)SC_PACK_NR * pw->k_pad) {
      sc_packed_block q;
      sc_packed_block_init(pw, c0 + nb, n - nb < SC_PACK_NR ? n - nb : SC_PACK_NR, &q);
      /* modulo 2^32, as the lanes add: the true sum fits int32 (legalization) */
      for (int32_t j = 0; j < q.nc; j++) q.bias[j] = (int32_t)((uint32_t)q.bias[j] - (uint32_t)pw->wsum128[c0 + nb + j]);
      int8_t *yb = y + r0 * y_row_stride + nb * y_col_stride;
      vec c[MR][2];
      int32_t i = 0;
      for (; i + MR <= mc; i += MR) {
        tile(u + (ptrdiff_t)i * 4 * kq, 4 * kq, wb, kq, c);
        if (y_row_stride == 1 && y_col_stride != 1) store_tile_cols(&q, c, yb + i, y_col_stride);
        else
          for (int32_t r = 0; r < MR; r++) store_row(&q, c[r], yb + (i + r) * y_row_stride, y_col_stride);
      }
      for (; i < mc; i++) {
        tile1(u + (ptrdiff_t)i * 4 * kq, wb, kq, c[0]);
        store_row(&q, c[0], yb + i * y_row_stride, y_col_stride);
      }
    }
  }
}

void sc_packed_gemm(const sc_packed_weights *pw, const int8_t *w, int32_t c0, int32_t n, const int8_t *a,
                    ptrdiff_t a_stride, int32_t m, int8_t *y, ptrdiff_t y_row_stride, ptrdiff_t y_col_stride) {
  gemm(pw, w, c0, n, a, a_stride, 0, m, y, y_row_stride, y_col_stride);
}

void sc_packed_gemm_kmajor(const sc_packed_weights *pw, const int8_t *w, int32_t c0, int32_t n, const int8_t *at,
                           ptrdiff_t at_stride, int32_t m, int8_t *y, ptrdiff_t y_row_stride, ptrdiff_t y_col_stride) {
  gemm(pw, w, c0, n, at, at_stride, 1, m, y, y_row_stride, y_col_stride);
}
#else
typedef int sc_packed_gemm_vnni_unused; /* another layout: ISO C wants a declaration */
#endif
