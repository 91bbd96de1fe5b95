/* sc_packed_gemm_neon.c — the neon targets' packed GEMM (sc_simd.h), register-tiled:
 * a tile of MR activation rows times one block of NR packed channels keeps its MR x NR
 * int32 sums in vector registers over the whole K loop, each loaded activation vector
 * serving NR channels and each weight vector MR rows.
 *
 *   neon-dotprod (__ARM_FEATURE_DOTPROD; layout NR 8 x KB 4, [K/4][8][4] per block, so
 *     one 16-byte load holds 4 channels x 4 codes): tiles of 8 rows x 8 channels, 16
 *     int32x4 accumulators. Per 16 codes: 8 activation loads (16 codes of a row each),
 *     8 weight loads, 64 sdot by element (vdotq_laneq_s32: weights x the row's 4 codes
 *     of lane q) = 1024 multiply-accumulates.
 *   neon (ARMv8-A AArch64 and ARMv7 -mfpu=neon; layout NR 4 x KB 16, [K/16][4][16]):
 *     tiles of 4 rows x 4 channels (2 x 4 on ARMv7, which has half the registers), 16
 *     int32x4 accumulators of lane partial sums. Per 16 codes: 4 + 4 loads, 16 x (smull
 *     + smlal2 into int16, sadalp into int32) = 256 multiply-accumulates. Exact: a pair of products is at most 2 * 128 * 127 = 32512
 *     in magnitude (activations -128..127, weights -127..127: symmetric), inside int16.
 *
 * Rows the main tile leaves over run as a smaller tile (rows past m repeat the last row
 * and are not stored) or, for one row, a one-row kernel. K's last partial step reads
 * the rows' remaining codes from a zero-padded copy (never past a row's end); the
 * padded weights are zero there. Rows are taken in blocks of A_BLOCK_BYTES, which stay
 * in cache while every channel block's weight panel passes over them. */
#include <string.h>

#include "sc_neon.h"
#include "sc_simd.h"

#if defined(__ARM_FEATURE_DOTPROD)
#if SC_PACK_NR != 8 || SC_PACK_KB != 4
#error "the neon-dotprod GEMM reads the 8 x 4 layout"
#endif
enum { MR = 8 };
#else
#if SC_PACK_NR != 4 || SC_PACK_KB != 16
#error "the neon GEMM reads the 4 x 16 layout"
#endif
#if defined(__aarch64__)
enum { MR = 4 }; /* 16 accumulators of AArch64's 32 vector registers */
#else
enum { MR = 2 }; /* ARMv7 has 16 quad registers: 8 accumulators */
#endif
#endif
enum { QN = SC_PACK_NR / 4 }; /* int32x4 vectors of channel sums per row of a tile */
#define A_BLOCK_BYTES 65536

/* rows[r] for r < mr: the codes of rows[r] from 16 * full to k, zero padded to 16. */
static void copy_tails(const int8_t *const *rows, int mr, int32_t full, int32_t k, int8_t t[][16]) {
  for (int r = 0; r < mr; r++) {
    memset(t[r], 0, 16);
    memcpy(t[r], rows[r] + (ptrdiff_t)16 * full, (size_t)(k - 16 * full));
  }
}

#if defined(__ARM_FEATURE_DOTPROD)

/* Quad q (codes 4q..4q+3 of the step) of row r into channels 0-3 (wl) and 4-7 (wh). */
#define SDOT_ROW(r, q)                                \
  c##r##0 = SC_NEON_SDOT_LANE(c##r##0, wl, x##r, q); \
  c##r##1 = SC_NEON_SDOT_LANE(c##r##1, wh, x##r, q)
#define QUAD_W(q)                                 \
  const int8x16_t wl = vld1q_s8(w + 32 * (q)); \
  const int8x16_t wh = vld1q_s8(w + 32 * (q) + 16)
#define QUAD8(q)             \
  do {                       \
    QUAD_W(q);               \
    SDOT_ROW(0, q);          \
    SDOT_ROW(1, q);          \
    SDOT_ROW(2, q);          \
    SDOT_ROW(3, q);          \
    SDOT_ROW(4, q);          \
    SDOT_ROW(5, q);          \
    SDOT_ROW(6, q);          \
    SDOT_ROW(7, q);          \
  } while (0)
#define QUAD4(q)    \
  do {              \
    QUAD_W(q);      \
    SDOT_ROW(0, q); \
    SDOT_ROW(1, q); \
    SDOT_ROW(2, q); \
    SDOT_ROW(3, q); \
  } while (0)
/* 8 rows: acc[r] = the sums of channels 0-3 and 4-7 of row r. */
static void tile8(const int8_t *const a[8], const int8_t *w, int32_t k, int32_t k_pad, int32x4_t acc[][QN]) {
  int32x4_t c00 = vdupq_n_s32(0), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
  int32x4_t c40 = c00, c41 = c00, c50 = c00, c51 = c00, c60 = c00, c61 = c00, c70 = c00, c71 = c00;
  const int8_t *a0 = a[0], *a1 = a[1], *a2 = a[2], *a3 = a[3], *a4 = a[4], *a5 = a[5], *a6 = a[6], *a7 = a[7];
  const int32_t full = k / 16, quads = (k_pad - 16 * full) / 4;
  for (int32_t g = 0; g < full; g++, w += 16 * SC_PACK_NR) {
    const ptrdiff_t o = (ptrdiff_t)16 * g;
    const int8x16_t x0 = vld1q_s8(a0 + o), x1 = vld1q_s8(a1 + o), x2 = vld1q_s8(a2 + o), x3 = vld1q_s8(a3 + o);
    const int8x16_t x4 = vld1q_s8(a4 + o), x5 = vld1q_s8(a5 + o), x6 = vld1q_s8(a6 + o), x7 = vld1q_s8(a7 + o);
    QUAD8(0);
    QUAD8(1);
    QUAD8(2);
    QUAD8(3);
  }
  if (quads > 0) {
    int8_t t[8][16];
    copy_tails(a, 8, full, k, t);
    const int8x16_t x0 = vld1q_s8(t[0]), x1 = vld1q_s8(t[1]), x2 = vld1q_s8(t[2]), x3 = vld1q_s8(t[3]);
    const int8x16_t x4 = vld1q_s8(t[4]), x5 = vld1q_s8(t[5]), x6 = vld1q_s8(t[6]), x7 = vld1q_s8(t[7]);
    QUAD8(0);
    if (quads > 1) QUAD8(1);
    if (quads > 2) QUAD8(2);
    if (quads > 3) QUAD8(3);
  }
  acc[0][0] = c00, acc[0][1] = c01, acc[1][0] = c10, acc[1][1] = c11, acc[2][0] = c20, acc[2][1] = c21;
  acc[3][0] = c30, acc[3][1] = c31, acc[4][0] = c40, acc[4][1] = c41, acc[5][0] = c50, acc[5][1] = c51;
  acc[6][0] = c60, acc[6][1] = c61, acc[7][0] = c70, acc[7][1] = c71;
}

/* 4 rows, as tile8. */
static void tile4(const int8_t *const a[4], const int8_t *w, int32_t k, int32_t k_pad, int32x4_t acc[][QN]) {
  int32x4_t c00 = vdupq_n_s32(0), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
  const int8_t *a0 = a[0], *a1 = a[1], *a2 = a[2], *a3 = a[3];
  const int32_t full = k / 16, quads = (k_pad - 16 * full) / 4;
  for (int32_t g = 0; g < full; g++, w += 16 * SC_PACK_NR) {
    const ptrdiff_t o = (ptrdiff_t)16 * g;
    const int8x16_t x0 = vld1q_s8(a0 + o), x1 = vld1q_s8(a1 + o), x2 = vld1q_s8(a2 + o), x3 = vld1q_s8(a3 + o);
    QUAD4(0);
    QUAD4(1);
    QUAD4(2);
    QUAD4(3);
  }
  if (quads > 0) {
    int8_t t[4][16];
    copy_tails(a, 4, full, k, t);
    const int8x16_t x0 = vld1q_s8(t[0]), x1 = vld1q_s8(t[1]), x2 = vld1q_s8(t[2]), x3 = vld1q_s8(t[3]);
    QUAD4(0);
    if (quads > 1) QUAD4(1);
    if (quads > 2) QUAD4(2);
    if (quads > 3) QUAD4(3);
  }
  acc[0][0] = c00, acc[0][1] = c01, acc[1][0] = c10, acc[1][1] = c11;
  acc[2][0] = c20, acc[2][1] = c21, acc[3][0] = c30, acc[3][1] = c31;
}

/* One row: each quad of a step has its own accumulator pair, so that the four sdot of
 * a step do not wait on each other (a chain would cost 4 x sdot's latency a step). */
#define QUAD1(q)                                             \
  do {                                                       \
    QUAD_W(q);                                               \
    l##q = SC_NEON_SDOT_LANE(l##q, wl, x, q);                \
    h##q = SC_NEON_SDOT_LANE(h##q, wh, x, q);                \
  } while (0)
static void tile1(const int8_t *const a[1], const int8_t *w, int32_t k, int32_t k_pad, int32x4_t acc[][QN]) {
  int32x4_t l0 = vdupq_n_s32(0), l1 = l0, l2 = l0, l3 = l0, h0 = l0, h1 = l0, h2 = l0, h3 = l0;
  const int32_t full = k / 16, quads = (k_pad - 16 * full) / 4;
  for (int32_t g = 0; g < full; g++, w += 16 * SC_PACK_NR) {
    const int8x16_t x = vld1q_s8(a[0] + (ptrdiff_t)16 * g);
    QUAD1(0);
    QUAD1(1);
    QUAD1(2);
    QUAD1(3);
  }
  if (quads > 0) {
    int8_t t[1][16];
    copy_tails(a, 1, full, k, t);
    const int8x16_t x = vld1q_s8(t[0]);
    QUAD1(0);
    if (quads > 1) QUAD1(1);
    if (quads > 2) QUAD1(2);
    if (quads > 3) QUAD1(3);
  }
  acc[0][0] = vaddq_s32(vaddq_s32(l0, l1), vaddq_s32(l2, l3));
  acc[0][1] = vaddq_s32(vaddq_s32(h0, h1), vaddq_s32(h2, h3));
}

/* The tile for rem (>= 1) rows left: returns the rows it covers (<= rem). */
static int32_t tile(const int8_t *a, ptrdiff_t as, int32_t rem, const int8_t *w, int32_t k, int32_t k_pad,
                    int32x4_t acc[MR][QN]) {
  const int32_t mr = rem > 4 ? 8 : rem > 1 ? 4 : 1;
  const int8_t *rows[MR];
  for (int32_t r = 0; r < mr; r++) rows[r] = a + (r < rem ? r : rem - 1) * as;
  if (mr == 8) tile8(rows, w, k, k_pad, acc);
  else if (mr == 4) tile4(rows, w, k, k_pad, acc);
  else tile1(rows, w, k, k_pad, acc);
  return mr < rem ? mr : rem;
}

#else /* smull / smlal2 / sadalp */

#define LOAD_W                                                                  \
  const int8x16_t w0 = vld1q_s8(w), w1 = vld1q_s8(w + 16), w2 = vld1q_s8(w + 32); \
  const int8x16_t w3 = vld1q_s8(w + 48)
/* Row r times the 4 channels, each an sc_neon_dot16. */
#define DOT_ROW(r)                            \
  c##r##0 = sc_neon_dot16(c##r##0, x##r, w0); \
  c##r##1 = sc_neon_dot16(c##r##1, x##r, w1); \
  c##r##2 = sc_neon_dot16(c##r##2, x##r, w2); \
  c##r##3 = sc_neon_dot16(c##r##3, x##r, w3)

#if defined(__aarch64__)
/* The same for rows 0-3 times channels j and l, in phases (8 smull, 8 smlal2, 8 sadalp)
 * so that an in-order core (Cortex-A55) does not wait on the product it has just
 * started: 8 int16 products live at a time, beside 16 accumulators and 8 inputs. */
#define PROD(r, j) const int16x8_t p##r##j = vmull_s8(vget_low_s8(x##r), vget_low_s8(w##j))
#define PROD2(r, j) const int16x8_t q##r##j = vmlal_s8(p##r##j, vget_high_s8(x##r), vget_high_s8(w##j))
#define ACC(r, j) c##r##j = vpadalq_s16(c##r##j, q##r##j)
#define DOT_4X2(j, l) \
  do {                \
    PROD(0, j);       \
    PROD(1, j);       \
    PROD(2, j);       \
    PROD(3, j);       \
    PROD(0, l);       \
    PROD(1, l);       \
    PROD(2, l);       \
    PROD(3, l);       \
    PROD2(0, j);      \
    PROD2(1, j);      \
    PROD2(2, j);      \
    PROD2(3, j);      \
    PROD2(0, l);      \
    PROD2(1, l);      \
    PROD2(2, l);      \
    PROD2(3, l);      \
    ACC(0, j);        \
    ACC(1, j);        \
    ACC(2, j);        \
    ACC(3, j);        \
    ACC(0, l);        \
    ACC(1, l);        \
    ACC(2, l);        \
    ACC(3, l);        \
  } while (0)

/* 4 rows: acc[r][0] = the sums of channels 0-3 of row r. */
static void tile4(const int8_t *const a[4], const int8_t *w, int32_t k, int32x4_t acc[][QN]) {
  int32x4_t c00 = vdupq_n_s32(0), c01 = c00, c02 = c00, c03 = c00, c10 = c00, c11 = c00, c12 = c00, c13 = c00;
  int32x4_t c20 = c00, c21 = c00, c22 = c00, c23 = c00, c30 = c00, c31 = c00, c32 = c00, c33 = c00;
  const int8_t *a0 = a[0], *a1 = a[1], *a2 = a[2], *a3 = a[3];
  const int32_t full = k / 16;
  for (int32_t g = 0; g < full; g++, w += 16 * SC_PACK_NR) {
    const ptrdiff_t o = (ptrdiff_t)16 * g;
    const int8x16_t x0 = vld1q_s8(a0 + o), x1 = vld1q_s8(a1 + o), x2 = vld1q_s8(a2 + o), x3 = vld1q_s8(a3 + o);
    LOAD_W;
    DOT_4X2(0, 1);
    DOT_4X2(2, 3);
  }
  if (16 * full < k) {
    int8_t t[4][16];
    copy_tails(a, 4, full, k, t);
    const int8x16_t x0 = vld1q_s8(t[0]), x1 = vld1q_s8(t[1]), x2 = vld1q_s8(t[2]), x3 = vld1q_s8(t[3]);
    LOAD_W;
    DOT_4X2(0, 1);
    DOT_4X2(2, 3);
  }
  acc[0][0] = sc_neon_hsum4(c00, c01, c02, c03);
  acc[1][0] = sc_neon_hsum4(c10, c11, c12, c13);
  acc[2][0] = sc_neon_hsum4(c20, c21, c22, c23);
  acc[3][0] = sc_neon_hsum4(c30, c31, c32, c33);
}
#define TILE_MR tile4

#else
/* 2 rows (ARMv7): acc[r][0] = the sums of channels 0-3 of row r. */
static void tile2(const int8_t *const a[2], const int8_t *w, int32_t k, int32x4_t acc[][QN]) {
  int32x4_t c00 = vdupq_n_s32(0), c01 = c00, c02 = c00, c03 = c00, c10 = c00, c11 = c00, c12 = c00, c13 = c00;
  const int8_t *a0 = a[0], *a1 = a[1];
  const int32_t full = k / 16;
  for (int32_t g = 0; g < full; g++, w += 16 * SC_PACK_NR) {
    const ptrdiff_t o = (ptrdiff_t)16 * g;
    const int8x16_t x0 = vld1q_s8(a0 + o), x1 = vld1q_s8(a1 + o);
    LOAD_W;
    DOT_ROW(0);
    DOT_ROW(1);
  }
  if (16 * full < k) {
    int8_t t[2][16];
    copy_tails(a, 2, full, k, t);
    const int8x16_t x0 = vld1q_s8(t[0]), x1 = vld1q_s8(t[1]);
    LOAD_W;
    DOT_ROW(0);
    DOT_ROW(1);
  }
  acc[0][0] = sc_neon_hsum4(c00, c01, c02, c03);
  acc[1][0] = sc_neon_hsum4(c10, c11, c12, c13);
}
#define TILE_MR tile2
#endif

/* One row: two groups of 16 codes a step into two sets of accumulators (c0j, c1j), so
 * that a step has 8 independent smull/smlal2/sadalp chains, not 4. */
static void tile1(const int8_t *const a[1], const int8_t *w, int32_t k, int32x4_t acc[][QN]) {
  int32x4_t c00 = vdupq_n_s32(0), c01 = c00, c02 = c00, c03 = c00, c10 = c00, c11 = c00, c12 = c00, c13 = c00;
  const int32_t full = k / 16;
  int32_t g = 0;
  for (; g + 2 <= full; g += 2, w += 32 * SC_PACK_NR) {
    const int8x16_t x0 = vld1q_s8(a[0] + (ptrdiff_t)16 * g), x1 = vld1q_s8(a[0] + (ptrdiff_t)16 * g + 16);
    c00 = sc_neon_dot16(c00, x0, vld1q_s8(w));
    c01 = sc_neon_dot16(c01, x0, vld1q_s8(w + 16));
    c02 = sc_neon_dot16(c02, x0, vld1q_s8(w + 32));
    c03 = sc_neon_dot16(c03, x0, vld1q_s8(w + 48));
    c10 = sc_neon_dot16(c10, x1, vld1q_s8(w + 64));
    c11 = sc_neon_dot16(c11, x1, vld1q_s8(w + 80));
    c12 = sc_neon_dot16(c12, x1, vld1q_s8(w + 96));
    c13 = sc_neon_dot16(c13, x1, vld1q_s8(w + 112));
  }
  c00 = vaddq_s32(c00, c10), c01 = vaddq_s32(c01, c11), c02 = vaddq_s32(c02, c12), c03 = vaddq_s32(c03, c13);
  for (; g < full; g++, w += 16 * SC_PACK_NR) {
    const int8x16_t x0 = vld1q_s8(a[0] + (ptrdiff_t)16 * g);
    LOAD_W;
    DOT_ROW(0);
  }
  if (16 * full < k) {
    int8_t t[1][16];
    copy_tails(a, 1, full, k, t);
    const int8x16_t x0 = vld1q_s8(t[0]);
    LOAD_W;
    DOT_ROW(0);
  }
  acc[0][0] = sc_neon_hsum4(c00, c01, c02, c03);
}

/* The tile for rem (>= 1) rows left: returns the rows it covers (<= rem). */
static int32_t tile(const int8_t *a, ptrdiff_t as, int32_t rem, const int8_t *w, int32_t k, int32_t k_pad,
                    int32x4_t acc[MR][QN]) {
  (void)k_pad; /* one step of 16 codes reads the whole padded group */
  const int8_t *rows[MR];
  if (rem == 1) {
    rows[0] = a;
    tile1(rows, w, k, acc);
    return 1;
  }
  for (int32_t r = 0; r < MR; r++) rows[r] = a + (r < rem ? r : rem - 1) * as;
  TILE_MR(rows, w, k, acc);
  return rem < MR ? rem : MR;
}

#endif

/* The requantization of one block of channels, loaded once per block. */
typedef struct {
  int32_t bias[SC_PACK_NR], mult[SC_PACK_NR], shift[SC_PACK_NR];
  int has_mult, lo, hi, nc;
} lanes_nr;

/* Requantizes one row of a tile (QN vectors of 4 channels) and writes its nc codes. */
static void store_row(const lanes_nr *q, const int32x4_t *v, int8_t *y, ptrdiff_t col_stride) {
  int16x4_t n16[2];
  for (int h = 0; h < QN; h++) {
    const int32x4_t s = vaddq_s32(v[h], vld1q_s32(q->bias + 4 * h));
    /* values lie in [lo, hi] within int8: the narrowing keeps them */
    n16[h] = vmovn_s32(sc_neon_requant(s, q->mult + 4 * h, q->shift + 4 * h, q->has_mult, q->lo, q->hi));
  }
  int8_t out[8];
  vst1_s8(out, vmovn_s16(vcombine_s16(n16[0], n16[QN - 1])));
  if (col_stride == 1) memcpy(y, out, (size_t)q->nc);
  else
    for (int32_t j = 0; j < q->nc; j++) y[j * col_stride] = out[j];
}

void sc_packed_gemm(const sc_packed_weights *pw, const int8_t *w, int32_t c0, int32_t n, const int8_t *a,
                    ptrdiff_t a_stride, int32_t m, int8_t *y, ptrdiff_t y_row_stride, ptrdiff_t y_col_stride) {
  const int32_t k = pw->k, k_pad = pw->k_pad;
  int32_t mb = A_BLOCK_BYTES / k; /* rows per block: a multiple of MR */
  mb = mb < MR ? MR : mb - mb % MR;
  for (int32_t r0 = 0; r0 < m; r0 += mb) {
    const int32_t mc = m - r0 < mb ? m - r0 : mb;
    const int8_t *wb = w;
    for (int32_t nb = 0; nb < n; nb += SC_PACK_NR, wb += (ptrdiff_t)SC_PACK_NR * k_pad) {
      lanes_nr q;
      q.nc = n - nb < SC_PACK_NR ? n - nb : SC_PACK_NR;
      q.has_mult = pw->rq.mult != NULL, q.lo = pw->rq.lo, q.hi = pw->rq.hi;
      sc_packed_lanes(pw, c0 + nb, q.nc, q.bias, q.mult, q.shift);
      int8_t *yb = y + r0 * y_row_stride + nb * y_col_stride;
      for (int32_t i = 0; i < mc;) {
        int32x4_t acc[MR][QN];
        const int32_t rows = tile(a + (r0 + i) * a_stride, a_stride, mc - i, wb, k, k_pad, acc);
        for (int32_t r = 0; r < rows; r++) store_row(&q, acc[r], yb + (i + r) * y_row_stride, y_col_stride);
        i += rows;
      }
    }
  }
}
