/* sc_packed_gemm_avx2.c — the avx2 target's packed GEMM (sc_simd.h): activations times
 * weights packed as [16 channels][K/2][16][2]. Exact: codes are sign-extended to int16 and
 * vpmaddwd adds pairs of products into int32 lanes (no saturating step), so every lane
 * holds the scalar kernel's int32 sum.
 *
 * Blocking: a block of activation rows is sign-extended once into an int16 buffer on the
 * stack (A16_BYTES); for each block of 16 channels, tiles of MR = 6 rows run the whole K
 * loop with 12 accumulators in ymm registers (6 rows x 2 vectors of 8 channels), the
 * weight panel (K x 16 bytes) staying in L1/L2 across the tiles of the block. Per step:
 * 2 weight loads + sign extensions, 6 broadcasts, 12 vpmaddwd, 12 vpaddd for 192 MACs.
 * Compiled to nothing for the VNNI layouts (every avx2-family target copies both GEMMs). */
#include "sc_simd.h"

#if SC_PACK_NR == 16 && SC_PACK_KB == 2 /* else a VNNI layout: sc_packed_gemm_vnni.c */
#include <string.h>

#include "sc_avx2.h"

enum { MR = 6 };
/* Stack bytes for the int16 copy of a block of rows: 60 rows of K = 768, 12 of K = 3072. */
#define A16_BYTES 98304

static inline __m256i load_w(const int8_t *w) {
  return _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(const void *)w));
}

/* (a[2p], a[2p+1]) in every 32-bit lane. */
static inline __m256i bcast_pair(const int16_t *a) {
  int32_t v;
  memcpy(&v, a, sizeof v);
  return _mm256_set1_epi32(v);
}

#define SC_MAC(c, b, w) c = _mm256_add_epi32(c, _mm256_madd_epi16(b, w))

/* acc[2r], acc[2r+1]: channels 0-7 and 8-15 of row r, for MR rows a + r * as (int16,
 * kp pairs each) times the panel w (kp steps of 32 bytes). */
static void tile6(const int16_t *a, ptrdiff_t as, const int8_t *w, int32_t kp, __m256i acc[2 * MR]) {
  __m256i c00 = _mm256_setzero_si256(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
  __m256i c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
  const int16_t *a0 = a, *a1 = a + as, *a2 = a + 2 * as, *a3 = a + 3 * as, *a4 = a + 4 * as, *a5 = a + 5 * as;
  for (int32_t p = 0; p < kp; p++, w += 32) {
    const __m256i w0 = load_w(w), w1 = load_w(w + 16);
    __m256i b = bcast_pair(a0 + 2 * p);
    SC_MAC(c00, b, w0);
    SC_MAC(c01, b, w1);
    b = bcast_pair(a1 + 2 * p);
    SC_MAC(c10, b, w0);
    SC_MAC(c11, b, w1);
    b = bcast_pair(a2 + 2 * p);
    SC_MAC(c20, b, w0);
    SC_MAC(c21, b, w1);
    b = bcast_pair(a3 + 2 * p);
    SC_MAC(c30, b, w0);
    SC_MAC(c31, b, w1);
    b = bcast_pair(a4 + 2 * p);
    SC_MAC(c40, b, w0);
    SC_MAC(c41, b, w1);
    b = bcast_pair(a5 + 2 * p);
    SC_MAC(c50, b, w0);
    SC_MAC(c51, b, w1);
  }
  acc[0] = c00, acc[1] = c01, acc[2] = c10, acc[3] = c11, acc[4] = c20, acc[5] = c21;
  acc[6] = c30, acc[7] = c31, acc[8] = c40, acc[9] = c41, acc[10] = c50, acc[11] = c51;
}

/* One row: the rows a block leaves over (m % 6), and single-row layers. */
static void tile1(const int16_t *a, const int8_t *w, int32_t kp, __m256i acc[2]) {
  __m256i c0 = _mm256_setzero_si256(), c1 = c0, d0 = c0, d1 = c0;
  int32_t p = 0;
  for (; p + 2 <= kp; p += 2, w += 64) { /* two independent chains hide vpmaddwd's latency */
    const __m256i b = bcast_pair(a + 2 * p), e = bcast_pair(a + 2 * p + 2);
    SC_MAC(c0, b, load_w(w));
    SC_MAC(c1, b, load_w(w + 16));
    SC_MAC(d0, e, load_w(w + 32));
    SC_MAC(d1, e, load_w(w + 48));
  }
  if (p < kp) {
    const __m256i b = bcast_pair(a + 2 * p);
    SC_MAC(c0, b, load_w(w));
    SC_MAC(c1, b, load_w(w + 16));
  }
  acc[0] = _mm256_add_epi32(c0, d0);
  acc[1] = _mm256_add_epi32(c1, d1);
}

/* Requantizes one row's two accumulators and writes its nc codes. */
static void store_row(const sc_packed_block *q, __m256i v0, __m256i v1, int8_t *y, ptrdiff_t col_stride) {
  const __m128i p8 = sc_avx2_requant16(v0, v1, q->bias, q->mult, q->shift, q->add, q->has_mult, q->lo, q->hi);
  if (col_stride == 1 && q->nc == SC_PACK_NR) {
    _mm_storeu_si128((__m128i *)(void *)y, p8);
  } else {
    int8_t out[SC_PACK_NR];
    _mm_storeu_si128((__m128i *)(void *)out, p8);
    for (int32_t j = 0; j < q->nc; j++) y[j * col_stride] = out[j];
  }
}

/* Rows [0, mc) of a, sign-extended into a16 (kp pairs a row, the odd tail zero). */
static void widen_rows(const int8_t *a, ptrdiff_t a_stride, int32_t mc, int32_t k, int32_t kp, int16_t *a16) {
  for (int32_t i = 0; i < mc; i++) {
    const int8_t *src = a + i * a_stride;
    int16_t *dst = a16 + (ptrdiff_t)i * 2 * kp;
    int32_t kk = 0;
    for (; kk + 16 <= k; kk += 16)
      _mm256_storeu_si256((__m256i *)(void *)(dst + kk),
                          _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(const void *)(src + kk))));
    for (; kk < k; kk++) dst[kk] = src[kk];
    if (k & 1) dst[k] = 0;
  }
}

/* The same from K-major activations: row i's term kk at at[kk * at_stride + i] (a conv's
 * patches gathered a tap at a time). Blocks of 8 rows x 8 pairs: each pair's two rows of 8
 * codes interleaved and widened give one ymm of 8 (row, pair) dwords; an 8 x 8 dword
 * transpose turns them into 8 rows of 8 pairs, stored whole. */
static void widen_rows_kmajor(const int8_t *at, ptrdiff_t at_stride, int32_t mc, int32_t k, int32_t kp, int16_t *a16) {
  const ptrdiff_t row = 2 * (ptrdiff_t)kp;
  int32_t i0 = 0;
  for (; i0 + 8 <= mc; i0 += 8) {
    int32_t p0 = 0;
    for (; p0 + 8 <= kp && 2 * (p0 + 8) <= k; p0 += 8) {
      __m256i v[8];
      for (int j = 0; j < 8; j++) {
        const int8_t *lo = at + (ptrdiff_t)(2 * (p0 + j)) * at_stride + i0;
        v[j] = _mm256_cvtepi8_epi16(_mm_unpacklo_epi8(sc_avx2_load8(lo), sc_avx2_load8(lo + at_stride)));
      }
      sc_avx2_transpose8_epi32(v);
      for (int t = 0; t < 8; t++) _mm256_storeu_si256((__m256i *)(void *)(a16 + (i0 + t) * row + 2 * p0), v[t]);
    }
    for (int32_t kk = 2 * p0; kk < 2 * kp; kk++)
      for (int t = 0; t < 8; t++) a16[(i0 + t) * row + kk] = kk < k ? at[kk * at_stride + i0 + t] : 0;
  }
  for (; i0 < mc; i0++)
    for (int32_t kk = 0; kk < 2 * kp; kk++) a16[i0 * row + kk] = kk < k ? at[kk * at_stride + i0] : 0;
}

/* Both entries: row-major a (a_k == 0: row i at a + i * a_stride) or K-major (a_k != 0:
 * term kk of row i at a[kk * a_stride + i]). */
static void gemm(const sc_packed_weights *pw, const int8_t *w, int32_t c0, int32_t n, const int8_t *a,
                 ptrdiff_t a_stride, int kmajor, int32_t m, int8_t *y, ptrdiff_t y_row_stride, ptrdiff_t y_col_stride) {
  int16_t a16[A16_BYTES / sizeof(int16_t)];
  const int32_t k = pw->k, kp = pw->k_pad / 2;
  /* rows per block: as many as the buffer holds, a multiple of MR when it holds MR */
  int32_t mb = (int32_t)(A16_BYTES / (sizeof(int16_t) * 2 * (size_t)kp));
  if (mb >= MR) mb -= mb % MR;
  for (int32_t r0 = 0; r0 < m; r0 += mb) {
    const int32_t mc = m - r0 < mb ? m - r0 : mb;
    if (kmajor) widen_rows_kmajor(a + r0, a_stride, mc, k, kp, a16);
    else widen_rows(a + r0 * a_stride, a_stride, mc, k, kp, a16);
    const int8_t *wb = w;
    for (int32_t nb = 0; nb < n; nb += SC_PACK_NR, wb += (ptrdiff_t)SC_PACK_NR * pw->k_pad) {
      sc_packed_block q;
      sc_packed_block_init(pw, c0 + nb, n - nb < SC_PACK_NR ? n - nb : SC_PACK_NR, &q);
      int8_t *yb = y + (r0 * y_row_stride) + nb * y_col_stride;
      __m256i acc[2 * MR];
      int32_t i = 0;
      for (; i + MR <= mc; i += MR) {
        tile6(a16 + (ptrdiff_t)i * 2 * kp, 2 * kp, wb, kp, acc);
        if (y_row_stride == 1 && y_col_stride != 1) { /* a conv's NCHW planes: one run per channel */
          __m128i rows[MR];
          for (int32_t r = 0; r < MR; r++)
            rows[r] = sc_avx2_requant16(acc[2 * r], acc[2 * r + 1], q.bias, q.mult, q.shift, q.add, q.has_mult, q.lo, q.hi);
          sc_avx2_store_cols(rows, MR, q.nc, yb + i, y_col_stride);
        } else {
          for (int32_t r = 0; r < MR; r++)
            store_row(&q, acc[2 * r], acc[2 * r + 1], yb + (i + r) * y_row_stride, y_col_stride);
        }
      }
      for (; i < mc; i++) {
        tile1(a16 + (ptrdiff_t)i * 2 * kp, wb, kp, acc);
        store_row(&q, acc[0], acc[1], yb + i * y_row_stride, y_col_stride);
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
typedef int sc_packed_gemm_avx2_unused; /* another layout: ISO C wants a declaration */
#endif
