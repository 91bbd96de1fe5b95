/* sc_simd.h — the API of the SIMD targets' kernels (neon, neon-dotprod, avx2, avx2-vnni, avx512-vnni).
 * Copied into OUTDIR beside shiftc_rt.h; C99. Every kernel here is bit-identical to
 * the scalar reference kernel of the same op (runtime/sc_*_s8.c): it computes the same
 * int32 accumulators (integer addition in another order gives the same sum, and
 * legalization proves no partial sum can overflow) and applies the same requantization
 * (shiftc_rt.h). Layers whose reduction legalization had to split (rq.k_chunk > 0) are
 * left to the scalar kernels by the compiler, so none of these handles k_chunk.
 *
 * Weights of conv2d and linear are packed at compile time (targets/packed.c) into the
 * order the ISA's micro-kernel reads them:
 *   [block of SC_PACK_NR output channels][K in groups of SC_PACK_KB][channel][SC_PACK_KB]
 * K padded with zeros to a multiple of SC_PACK_KB, channels to a multiple of SC_PACK_NR.
 * The two numbers are the ISA's (below); the compiler takes the same pair from the Target
 * (Target.pack_nr / pack_kb) and the generated code checks that they agree.
 *   avx2-vnni / avx512-vnni: 16 / 32 channels x 4 codes: vpdpbusd multiplies 4 unsigned
 *         bytes by 4 signed ones into each int32 lane, so activations enter as a + 128
 *         (u8) and 128 * sum_k W[c][k] (wsum128, computed at compile time) comes off the
 *         bias: exact, no saturation anywhere. Tiles of 6 rows (ymm) or 8 rows (zmm) x 2
 *         vectors of channels.
 *   avx2: 16 channels x int16 pairs. A tile of 6 activation rows (sign-extended to int16
 *         once per block of rows) times 16 channels keeps 12 int32 accumulators in ymm
 *         registers over the whole K loop; each step broadcasts a row's pair (a[k], a[k+1])
 *         and vpmaddwd's it with the 8 channels' pairs (exact: no saturating step).
 *   neon-dotprod: 8 channels x 4 codes, so one 16-byte load holds 4 channels' quads; tiles
 *         of 8 rows x 8 channels (16 int32x4 accumulators), sdot by element.
 *   neon: 4 channels x 16 codes; tiles of 4 rows x 4 channels (16 accumulators of lane
 *         partial sums), smull + smlal into int16, then sadalp.
 *   (runtime/neon/sc_packed_gemm_neon.c says why each is exact.) */
#ifndef SC_SIMD_H
#define SC_SIMD_H

#include <stddef.h>
#include <stdint.h>

#include "shiftc_rt.h"

/* SC_VNNI_YMM / SC_VNNI_ZMM select the VNNI kernels' layouts without the instructions
 * (sc_avx2_dpbusd then computes vpdpbusd exactly from AVX2): how the tests check the
 * VNNI targets' code on a machine without VNNI. */
#if defined(__AVX512VNNI__) || defined(SC_VNNI_ZMM)
#define SC_PACK_NR 32 /* output channels per packed block */
#define SC_PACK_KB 4  /* reduction terms per group */
#define SC_PACK_U8 1  /* activations enter as unsigned bytes a + 128: the kernel needs wsum128 */
#elif defined(__AVXVNNI__) || defined(SC_VNNI_YMM)
#define SC_PACK_NR 16
#define SC_PACK_KB 4
#define SC_PACK_U8 1
#elif defined(__AVX2__)
#define SC_PACK_NR 16
#define SC_PACK_KB 2
#elif defined(__ARM_FEATURE_DOTPROD)
#define SC_PACK_NR 8
#define SC_PACK_KB 4
#else
#define SC_PACK_NR 4
#define SC_PACK_KB 16
#endif
/* Longest reduction the packed GEMM takes (a convolution's patch, a linear layer's
 * input); the compiler leaves longer ones to the scalar kernels. */
#define SC_GEMM_K_MAX 8192
/* Bytes of the stack buffer a convolution gathers its im2col tile into: as many output
 * pixels' patches as fit (at least one, K <= SC_GEMM_K_MAX), multiplied as one GEMM. */
#if defined(__x86_64__) || defined(__i386__) /* SC_GEMM_KMAJOR below */
#define SC_CONV_TILE_BYTES 65536 /* longer runs per tap; x86 stacks are large */
#else
#define SC_CONV_TILE_BYTES 16384
#endif

/* Weights of one GEMM (one conv group, or a linear layer), packed as above. */
typedef struct sc_packed_weights {
  int32_t n;           /* output channels (of one group) */
  int32_t k;           /* reduction length */
  int32_t k_pad;       /* k rounded up to a multiple of SC_PACK_KB */
  const int8_t *w;     /* [groups][ceil(n / NR)][k_pad / KB][NR][KB] */
  const int32_t *bias; /* [groups * n], or NULL */
  /* [groups * n]: 128 * sum_k W[c][k], for layouts whose kernels read activations as
   * a + 128 (SC_PACK_U8); NULL for the others. */
  const int32_t *wsum128;
  sc_requant rq;       /* indexed by the absolute channel; k_chunk == 0 */
} sc_packed_weights;

/* The GEMM, one per ISA (runtime/<isa>/sc_packed_gemm_<isa>.c): for m rows of
 * activations (row i at a + i * a_stride, pw->k codes) and the n channels of one group
 * (packed blocks starting at w, channel j's parameters at index c0 + j),
 *   y[i * y_row_stride + j * y_col_stride] = requant_{c0+j}(bias[c0+j] + sum_k a_i[k] W[j][k]).
 * linear: y_row_stride = n, y_col_stride = 1; conv2d (NCHW): rows are output pixels,
 * y_row_stride = 1, y_col_stride = the output plane. */
void sc_packed_gemm(const sc_packed_weights *pw, const int8_t *w, int32_t c0, int32_t n, const int8_t *a,
                    ptrdiff_t a_stride, int32_t m, int8_t *y, ptrdiff_t y_row_stride, ptrdiff_t y_col_stride);
#if defined(__x86_64__) || defined(__i386__)
/* The same with K-major activations: term k of row i at at[k * at_stride + i], as a
 * convolution gathers its patches one tap at a time (runs of consecutive pixels copied
 * from an input row). The x86 GEMMs transpose them while widening / offsetting a block
 * of rows, which they do anyway; the NEON GEMMs read rows in place and take row-major
 * patches. */
#define SC_GEMM_KMAJOR 1
/* Depthwise conv2d (groups = in_c = out_c, k_chunk 0, int8 codes) as sc_conv2d_s8, with
 * register blocks of output columns (runtime/avx2/sc_dwconv_s8_avx2.c). */
void sc_dwconv_s8_simd(const sc_conv2d_params *p, const int8_t *x, int8_t *y);
void sc_packed_gemm_kmajor(const sc_packed_weights *pw, const int8_t *w, int32_t c0, int32_t n, const int8_t *at,
                           ptrdiff_t at_stride, int32_t m, int8_t *y, ptrdiff_t y_row_stride, ptrdiff_t y_col_stride);
#endif

/* Per-lane requantization parameters of the channels c0 .. c0+nc-1 (nc <= NR), lanes
 * past nc zero: what the vector requantization of each ISA loads. */
static inline void sc_packed_lanes(const sc_packed_weights *pw, int32_t c0, int32_t nc, int32_t bias[SC_PACK_NR],
                                   int32_t mult[SC_PACK_NR], int32_t shift[SC_PACK_NR]) {
  const sc_requant *rq = &pw->rq;
  for (int32_t j = 0; j < SC_PACK_NR; j++) {
    int32_t c = c0 + j, i = rq->per_channel ? c : 0;
    bias[j] = j < nc ? sc_bias_acc(pw->bias, rq, c) : 0; /* with bias_fix's left shift */
    mult[j] = j < nc && rq->mult ? rq->mult[i] : 0;
    shift[j] = j < nc ? rq->shift[i] : 0;
  }
}

/* The output-domain addends (rq.out_add, bias_fix) of the same channels, lanes past nc
 * zero; NULL when the layer has none. Only the avx2-family GEMMs apply them (the
 * compiler keeps such layers off the NEON GEMMs, and off any GEMM when an addend is
 * 2^29 or more: sc_avx2_requant16 relies on that bound). */
static inline const int32_t *sc_packed_out_add(const sc_packed_weights *pw, int32_t c0, int32_t nc,
                                               int32_t add[SC_PACK_NR]) {
  const sc_requant *rq = &pw->rq;
  if (!rq->out_add) return NULL;
  for (int32_t j = 0; j < SC_PACK_NR; j++) add[j] = j < nc ? rq->out_add[rq->per_channel ? c0 + j : 0] : 0;
  return add;
}

/* One block of channels' requantization, loaded once per block by the GEMMs. */
typedef struct sc_packed_block {
  int32_t bias[SC_PACK_NR], mult[SC_PACK_NR], shift[SC_PACK_NR], add_lanes[SC_PACK_NR];
  const int32_t *add; /* add_lanes, or NULL without output-domain addends */
  int has_mult, lo, hi, nc;
} sc_packed_block;

static inline void sc_packed_block_init(const sc_packed_weights *pw, int32_t c0, int32_t nc, sc_packed_block *q) {
  q->nc = nc;
  q->has_mult = pw->rq.mult != NULL, q->lo = pw->rq.lo, q->hi = pw->rq.hi;
  sc_packed_lanes(pw, c0, nc, q->bias, q->mult, q->shift);
  q->add = sc_packed_out_add(pw, c0, nc, q->add_lanes);
}

/* Linear over the last axis with packed weights: as sc_linear_s8. */
typedef struct sc_linear_packed {
  int32_t rows;
  sc_packed_weights w; /* n = out, k = in */
} sc_linear_packed;
void sc_linear_s8_packed(const sc_linear_packed *p, const int8_t *x, int8_t *y);

/* 2-D convolution with packed weights: as sc_conv2d_s8. The patches of a tile of
 * consecutive output pixels (K = in_c/groups * k_h * k_w codes each, order ic, kh, kw,
 * padding as 0) are gathered on the stack (SC_CONV_TILE_BYTES) and multiplied by every
 * output channel of their group as one GEMM. */
typedef struct sc_conv2d_packed {
  int n, in_c, in_h, in_w, out_c, out_h, out_w;
  int k_h, k_w, stride_h, stride_w, pad_t, pad_l, dil_h, dil_w, groups;
  sc_packed_weights w; /* n = out_c / groups, k = K */
} sc_conv2d_packed;
void sc_conv2d_s8_packed(const sc_conv2d_packed *p, const int8_t *x, int8_t *y);

/* Batched matmul of two activations (no packing: both are computed at run time), as
 * sc_matmul_s8 with rq.k_chunk == 0; one per ISA (runtime/<isa>/sc_matmul_s8_<isa>.c). */
void sc_matmul_s8_simd(const sc_matmul_params *p, const int8_t *a, const int8_t *b, int8_t *y);

/* The same through the packed GEMM (runtime/simd/sc_packed_s8.c): each batch's b (k x n)
 * is packed at run time into the ISA's layout on the stack, then multiplied as weights
 * are. For packed b up to SC_MATMUL_PACK_BYTES and n up to SC_MATMUL_N_MAX; the compiler
 * sends larger ones to sc_matmul_s8_simd. (The avx2 family uses it: its GEMMs are exact
 * for every int8 code.) */
#define SC_MATMUL_PACK_BYTES 32768
#define SC_MATMUL_N_MAX 1024
void sc_matmul_s8_packed(const sc_matmul_params *p, const int8_t *a, const int8_t *b, int8_t *y);

/* Max pooling, as sc_maxpool2d_s8, for inputs up to SC_POOL_ROW_MAX columns (the
 * compiler leaves wider ones to the scalar kernel): per output row, the vertical max of
 * the window's input rows in vector registers, then the horizontal max over each window
 * (pairs in vector registers when k_w == stride_w == 2). runtime/simd/sc_maxpool2d_s8_simd.c. */
#define SC_POOL_ROW_MAX 4096
void sc_maxpool2d_s8_simd(const sc_pool2d_params *p, const int8_t *x, int8_t *y);

/* The ISA's pieces of it (runtime/<isa>/sc_max_s8_<isa>.c):
 * acc[i] = max(acc[i], x[i]) for i < n; y[i] = max(v[2i], v[2i+1]) for i < n. */
void sc_max_s8_rows(int8_t *acc, const int8_t *x, int32_t n);
void sc_max_s8_pairs(const int8_t *v, int8_t *y, int32_t n);

/* add, sub and mul as sc_add_s8 / sc_sub_s8 / sc_mul_s8, for outputs whose last axis
 * both operands read contiguously (stride 1: no broadcast along it; the compiler leaves
 * the rest to the scalar kernels). runtime/simd/sc_eltwise_s8_simd.c walks the outer
 * axes; the ISA's sc_eltwise_row_s8 (runtime/<isa>/sc_eltwise_row_<isa>.c) does one row
 * of n codes, op 0 add, 1 sub, 2 mul. */
void sc_add_s8_simd(const sc_eltwise_params *p, const int8_t *a, const int8_t *b, int8_t *y);
void sc_sub_s8_simd(const sc_eltwise_params *p, const int8_t *a, const int8_t *b, int8_t *y);
void sc_mul_s8_simd(const sc_eltwise_params *p, const int8_t *a, const int8_t *b, int8_t *y);
void sc_eltwise_row_s8(const sc_eltwise_params *p, int op, const int8_t *a, const int8_t *b, int8_t *y, int32_t n);

/* ------------------------------------------------------------------ Transformer kernels
 * The integer Transformer ops of shiftc_rt.h (i-GELU, table lookup, i-exp softmax, the
 * fused attention scores + softmax, LayerNorm), one file per op and ISA
 * (runtime/<isa>/sc_<op>_<isa>.c), bit-identical to the scalar kernels for every input:
 * the same int32/int64 intermediate values, the same rounding helpers. The scalar
 * params structs serve as they are. */

/* y[i] = table[x[i] + 128], as sc_lut_s8 (x and y may be the same buffer). */
void sc_lut_s8_simd(int32_t n, const int8_t table[256], const int8_t *x, int8_t *y);

/* As sc_igelu_s8. i-GELU is a function of one int8 code: the kernel evaluates the scalar
 * helpers (sc_igelu_s32, sc_requant_apply) once per code into a 256-entry table, then
 * looks every element up with sc_lut_s8_simd; short tensors go to sc_igelu_s8. */
void sc_igelu_s8_simd(const sc_igelu_params *p, int32_t n, const int8_t *x, int8_t *y);

/* One softmax row as sc_softmax_row_shifted (sc_internal.h): n int32 scores x, each
 * (x - max) << lshift; e written over scratch (which may alias x), probabilities to y. */
void sc_softmax_row_simd(const sc_softmax_params *p, int32_t n, const int32_t *x, int lshift, int8_t *y,
                         int32_t *scratch);
/* As sc_softmax_s8 (scratch: n int32). */
void sc_softmax_s8_simd(const sc_softmax_params *p, int32_t rows, int32_t n, const int8_t *x, int8_t *y,
                        int32_t *scratch);

/* As sc_matmul_softmax_s8, with a larger scratch of SC_MATMUL_SOFTMAX_SCRATCH(k, n) int32
 * words, in this order: b of one batch repacked as int16 pairs of rows (kk, kk+1) per
 * column (k rounded up to even, n to a multiple of 16, zero padded; AVX2's vpmaddwd
 * layout, NEON reads b as it is), the int16 pairs of SC_MMSM_ROWS rows of a, and the
 * scores of those rows: every b element is loaded once per block of rows. */
#define SC_MMSM_ROWS 4
#define SC_MMSM_NPAD(n) (((n) + 15) / 16 * 16)
#define SC_MMSM_KP(k) (((k) + 1) / 2)
#define SC_MATMUL_SOFTMAX_SCRATCH(k, n) \
  (SC_MMSM_KP(k) * SC_MMSM_NPAD(n) + SC_MMSM_ROWS * SC_MMSM_KP(k) + SC_MMSM_ROWS * SC_MMSM_NPAD(n))
void sc_matmul_softmax_s8_simd(const sc_matmul_softmax_params *p, const int8_t *a, const int8_t *b, int8_t *y,
                               int32_t *scratch);

/* As sc_layernorm_s8 (x and y may be the same buffer), for rows shorter than 2^15 codes
 * (the L1 form's normalized values then fit int32); longer rows go to the scalar kernel. */
void sc_layernorm_s8_simd(const sc_layernorm_params *p, const int8_t *x, int8_t *y);

#endif
