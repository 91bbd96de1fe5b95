/* gemm_check.c — built by tests/cli/test_targets.c for each SIMD ISA with that ISA's
 * sc_packed_gemm_<isa>.c: the packed GEMM equals, code for code, the scalar definition
 * y = requant_c(bias[c] + sum_k a[k] W[c][k]) (shiftc_rt.h's sc_requant_apply) on random
 * shapes chosen to cross every edge of the kernels: rows 1..70 (tiles of 4, 6 and 8,
 * the rows a tile leaves, blocks of rows), channels 1..40 (partial blocks of 4, 8 and
 * 16), K odd and even up to 4100 (pairs, groups of 16, a last step of 1 to 4 quads of
 * codes, blocks of rows that hold fewer than a tile), codes from -128 to 127 in activations and -127 to 127 in weights, per-channel
 * and per-tensor requantization, with and without a dyadic multiplier, strided
 * outputs as a convolution writes them. The weights are packed here in the layout of
 * runtime/simd/sc_simd.h for the ISA's SC_PACK_NR x SC_PACK_KB (with the VNNI layouts'
 * 128 * sum_k W[c][k] per channel). Where the ISA has the K-major entry (x86), it runs on
 * the transposed activations of every case too; then the drivers: sc_matmul_s8_packed and
 * sc_conv2d_s8_packed against the scalar kernels.
 * Prints "gemm: N codes, M mismatches"; exit 0 iff M == 0. C99. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sc_simd.h"
#include "shiftc_rt.h"

static uint32_t state = 2463534242u;
static uint32_t next(void) { /* xorshift32: the same sequence on every target */
  state ^= state << 13;
  state ^= state >> 17;
  state ^= state << 5;
  return state;
}

static int32_t round_up(int32_t x, int32_t m) { return (x + m - 1) / m * m; }

int main(void) {
  long codes = 0, bad = 0;
  static const int32_t ks[] = {1, 2, 3, 7, 15, 16, 17, 22, 33, 64, 100, 255, 768, 1001, 3072, 4100};
  for (int it = 0; it < 160; it++) {
    const int32_t k = ks[it % (int)(sizeof ks / sizeof *ks)];
    const int32_t m = 1 + (int32_t)(next() % (k > 1000 ? 14 : 70)), n = 1 + (int32_t)(next() % 40);
    const int conv_like = it & 1, has_mult = (it >> 1) & 1, per_channel = (it >> 2) & 1;
    const int32_t k_pad = round_up(k, SC_PACK_KB), nb = round_up(n, SC_PACK_NR) / SC_PACK_NR;
    int8_t *a = malloc((size_t)m * k), *w = malloc((size_t)n * k);
    int8_t *packed = calloc((size_t)nb * SC_PACK_NR * k_pad, 1);
    int8_t *y = malloc((size_t)m * n), *shift = malloc((size_t)n);
    int32_t *bias = malloc(sizeof(int32_t) * (size_t)n), *mult = malloc(sizeof(int32_t) * (size_t)n);
    int32_t *wsum128 = calloc((size_t)n, sizeof(int32_t)); /* what the compiler gives u8 layouts */
    for (int32_t i = 0; i < m * k; i++) a[i] = (int8_t)(next() % 256 - 128);
    for (int32_t i = 0; i < n * k; i++) w[i] = (int8_t)(next() % 255 - 127);
    for (int32_t c = 0; c < n; c++) {
      bias[c] = (int32_t)(next() % 200001) - 100000;
      mult[c] = (int32_t)(0x40000000u + next() % 0x40000000u);
      shift[c] = (int8_t)(has_mult ? 10 + next() % 12 : 6 + next() % 10);
      for (int32_t kk = 0; kk < k; kk++) {
        int32_t q = kk / SC_PACK_KB, i = kk % SC_PACK_KB, j = c % SC_PACK_NR;
        packed[(((ptrdiff_t)(c / SC_PACK_NR) * (k_pad / SC_PACK_KB) + q) * SC_PACK_NR + j) * SC_PACK_KB + i] =
            w[(ptrdiff_t)c * k + kk];
        wsum128[c] += 128 * w[(ptrdiff_t)c * k + kk];
      }
    }
    sc_packed_weights pw = {.n = n, .k = k, .k_pad = k_pad, .w = packed, .bias = bias};
#ifdef SC_PACK_U8
    pw.wsum128 = wsum128;
#endif
    pw.rq = (sc_requant){.mult = has_mult ? mult : NULL, .shift = shift, .per_channel = per_channel, .lo = -128,
                         .hi = 127};
    /* bias_fix's two forms every third case: a left-shifted bias word, and (for the GEMMs
     * that apply them: the avx2 family) output-domain addends */
    int8_t lshift[40];
    int32_t out_add[40];
    for (int32_t c = 0; c < n; c++) lshift[c] = (int8_t)(next() % 5), out_add[c] = (int32_t)(next() % 61) - 30;
    if (it % 3 == 2) {
      pw.rq.bias_lshift = lshift;
#if defined(__AVX2__)
      pw.rq.out_add = out_add;
#else
      (void)out_add;
#endif
    }
    /* linear: y[i][c]; conv: y[c][i] (rows are pixels of one channel's plane) */
    const ptrdiff_t rs = conv_like ? 1 : n, cs = conv_like ? m : 1;
    memset(y, 0x55, (size_t)m * n);
    sc_packed_gemm(&pw, packed, 0, n, a, k, m, y, rs, cs);
#ifdef SC_GEMM_KMAJOR
    { /* the K-major entry on the transposed activations gives the same codes */
      int8_t *at = malloc((size_t)m * k), *y2 = malloc((size_t)m * n);
      for (int32_t i = 0; i < m; i++)
        for (int32_t kk = 0; kk < k; kk++) at[(ptrdiff_t)kk * m + i] = a[(ptrdiff_t)i * k + kk];
      memset(y2, 0x55, (size_t)m * n);
      sc_packed_gemm_kmajor(&pw, packed, 0, n, at, m, m, y2, rs, cs);
      for (int32_t i = 0; i < m * n; i++) {
        codes++;
        if (y2[i] != y[i]) {
          if (bad < 5) printf("kmajor mismatch: m %d n %d k %d at %d: %d vs %d\n", (int)m, (int)n, (int)k, (int)i, y2[i], y[i]);
          bad++;
        }
      }
      free(at), free(y2);
    }
#endif
    for (int32_t i = 0; i < m; i++)
      for (int32_t c = 0; c < n; c++) {
        int32_t acc = sc_bias_acc(bias, &pw.rq, c);
        for (int32_t kk = 0; kk < k; kk++) acc += (int32_t)a[(ptrdiff_t)i * k + kk] * w[(ptrdiff_t)c * k + kk];
        const int8_t want = (int8_t)sc_requant_apply(&pw.rq, c, acc), got = y[i * rs + c * cs];
        codes++;
        if (got != want) {
          if (bad < 5)
            printf("mismatch: m %d n %d k %d (%s) row %d channel %d: got %d, want %d\n", (int)m, (int)n, (int)k,
                   conv_like ? "conv" : "linear", (int)i, (int)c, got, want);
          bad++;
        }
      }
    free(a), free(w), free(packed), free(y), free(shift), free(bias), free(mult), free(wsum128);
  }
  /* sc_matmul_s8_packed (b packed at run time) against the scalar sc_matmul_s8: batches,
   * batch strides, shapes around the tile and block edges, codes down to -128 in both. */
  for (int it = 0; it < 60; it++) {
    const int32_t batch = 1 + (int32_t)(next() % 3), m = 1 + (int32_t)(next() % 40), k = 1 + (int32_t)(next() % 200);
    const int32_t n = 1 + (int32_t)(next() % 70);
    const int has_mult = it & 1;
    int8_t shift = (int8_t)(has_mult ? 12 + next() % 8 : 5 + next() % 8);
    int32_t mult = (int32_t)(0x40000000u + next() % 0x40000000u);
    int8_t *a = malloc((size_t)batch * m * k), *b = malloc((size_t)batch * k * n);
    int8_t *y = malloc((size_t)batch * m * n), *want = malloc((size_t)batch * m * n);
    for (int32_t i = 0; i < batch * m * k; i++) a[i] = (int8_t)(next() % 256 - 128);
    for (int32_t i = 0; i < batch * k * n; i++) b[i] = (int8_t)(next() % 256 - 128);
    sc_matmul_params p = {.batch = batch, .m = m, .k = k, .n = n, .a_batch_stride = m * k, .b_batch_stride = k * n};
    if (it % 5 == 4) p.b_batch_stride = 0; /* one b for every batch */
    p.rq = (sc_requant){.mult = has_mult ? &mult : NULL, .shift = &shift, .lo = -127, .hi = 127};
    if ((int64_t)(n + SC_PACK_NR) * (k + SC_PACK_KB) <= SC_MATMUL_PACK_BYTES) {
      sc_matmul_s8(&p, a, b, want);
      sc_matmul_s8_packed(&p, a, b, y);
      for (int32_t i = 0; i < batch * m * n; i++) {
        codes++;
        if (y[i] != want[i]) {
          if (bad < 5)
            printf("matmul mismatch: batch %d m %d k %d n %d at %d: got %d, want %d\n", (int)batch, (int)m, (int)k,
                   (int)n, (int)i, y[i], want[i]);
          bad++;
        }
      }
    }
    free(a), free(b), free(y), free(want);
  }
  /* sc_conv2d_s8_packed (patches gathered a row of pixels at a time, NCHW outputs written a
   * run per channel) against the scalar sc_conv2d_s8: kernel sizes 1 to 5, strides 1 to 3,
   * dilations 1 and 2, pads up to 2 on any side, groups, batches, planes small and large
   * enough to cross the gather tile (SC_CONV_TILE_BYTES) and output rows. */
  for (int it = 0; it < 80; it++) {
    sc_conv2d_params c = {0};
    c.n = 1 + (int)(next() % 2), c.groups = 1 + (int)(next() % 3);
    c.in_c = c.groups * (1 + (int)(next() % 5)), c.out_c = c.groups * (1 + (int)(next() % 20));
    c.k_h = 1 + (int)(next() % 5), c.k_w = 1 + (int)(next() % 5);
    c.stride_h = 1 + (int)(next() % 3), c.stride_w = 1 + (int)(next() % 3);
    c.dil_h = 1 + (int)(next() % 2), c.dil_w = 1 + (int)(next() % 2);
    const int pad_b = (int)(next() % 3), pad_r = (int)(next() % 3);
    c.pad_t = (int)(next() % 3), c.pad_l = (int)(next() % 3);
    c.in_h = 1 + (int)(next() % (it % 4 == 3 ? 60 : 14)), c.in_w = 1 + (int)(next() % (it % 4 == 3 ? 60 : 14));
    const int eh = (c.k_h - 1) * c.dil_h + 1, ew = (c.k_w - 1) * c.dil_w + 1;
    if (c.in_h + c.pad_t + pad_b < eh || c.in_w + c.pad_l + pad_r < ew) continue;
    c.out_h = (c.in_h + c.pad_t + pad_b - eh) / c.stride_h + 1;
    c.out_w = (c.in_w + c.pad_l + pad_r - ew) / c.stride_w + 1;
    const int32_t icg = c.in_c / c.groups, ocg = c.out_c / c.groups, k = icg * c.k_h * c.k_w;
    const int32_t k_pad = round_up(k, SC_PACK_KB), nb = round_up(ocg, SC_PACK_NR) / SC_PACK_NR;
    const size_t xn = (size_t)c.n * c.in_c * c.in_h * c.in_w, yn = (size_t)c.n * c.out_c * c.out_h * c.out_w;
    int8_t *x = malloc(xn), *w = malloc((size_t)c.out_c * k), *y = malloc(yn), *want = malloc(yn);
    int8_t *packed = calloc((size_t)c.groups * nb * SC_PACK_NR * k_pad, 1), shift = (int8_t)(8 + next() % 6);
    int32_t *bias = malloc(sizeof(int32_t) * (size_t)c.out_c), *wsum128 = calloc((size_t)c.out_c, sizeof(int32_t));
    int32_t mult = (int32_t)(0x40000000u + next() % 0x40000000u);
    for (size_t i = 0; i < xn; i++) x[i] = (int8_t)(next() % 256 - 128);
    for (int32_t i = 0; i < c.out_c * k; i++) w[i] = (int8_t)(next() % 255 - 127);
    for (int32_t o = 0; o < c.out_c; o++) {
      const int32_t g = o / ocg, j = o % ocg;
      int8_t *pg = packed + (ptrdiff_t)g * nb * SC_PACK_NR * k_pad;
      bias[o] = (int32_t)(next() % 20001) - 10000;
      for (int32_t kk = 0; kk < k; kk++) {
        pg[(((ptrdiff_t)(j / SC_PACK_NR) * (k_pad / SC_PACK_KB) + kk / SC_PACK_KB) * SC_PACK_NR + j % SC_PACK_NR) *
               SC_PACK_KB + kk % SC_PACK_KB] = w[(ptrdiff_t)o * k + kk];
        wsum128[o] += 128 * w[(ptrdiff_t)o * k + kk];
      }
    }
    c.weight = w, c.bias = bias;
    c.rq = (sc_requant){.mult = it & 1 ? &mult : NULL, .shift = &shift, .lo = -128, .hi = 127};
    if (it & 1) shift = (int8_t)(shift + 8);
    sc_conv2d_packed pc = {c.n, c.in_c, c.in_h, c.in_w, c.out_c, c.out_h, c.out_w, c.k_h, c.k_w,
                           c.stride_h, c.stride_w, c.pad_t, c.pad_l, c.dil_h, c.dil_w, c.groups, {0}};
    pc.w = (sc_packed_weights){.n = ocg, .k = k, .k_pad = k_pad, .w = packed, .bias = bias, .rq = c.rq};
#ifdef SC_PACK_U8
    pc.w.wsum128 = wsum128;
#endif
    if (k <= SC_GEMM_K_MAX) {
      sc_conv2d_s8(&c, x, want);
      memset(y, 0x55, yn);
      sc_conv2d_s8_packed(&pc, x, y);
      for (size_t i = 0; i < yn; i++) {
        codes++;
        if (y[i] != want[i]) {
          if (bad < 5)
            printf("conv mismatch: in %dx%dx%d out %dx%dx%d k %dx%d stride %d,%d dil %d,%d pad %d,%d groups %d at %zu: "
                   "got %d, want %d\n",
                   c.in_c, c.in_h, c.in_w, c.out_c, c.out_h, c.out_w, c.k_h, c.k_w, c.stride_h, c.stride_w, c.dil_h,
                   c.dil_w, c.pad_t, c.pad_l, c.groups, i, y[i], want[i]);
          bad++;
        }
      }
    }
    free(x), free(w), free(y), free(want), free(packed), free(bias), free(wsum128);
  }
#ifdef SC_GEMM_KMAJOR
  /* sc_dwconv_s8_simd (x86) against sc_conv2d_s8 on depthwise layers: kernels 1 to 5,
   * strides 1 to 3 (3: the scalar columns), dilations, pads, planes narrow and wide,
   * shift and dyadic, per-channel and per-tensor, output-domain addends now and then. */
  for (int it = 0; it < 120; it++) {
    sc_conv2d_params c = {0};
    int8_t shift[24];
    int32_t mult[24], out_add[24];
    c.n = 1 + (int)(next() % 2), c.in_c = c.out_c = c.groups = 1 + (int)(next() % 24);
    c.k_h = 1 + (int)(next() % 5), c.k_w = 1 + (int)(next() % 5);
    c.stride_h = 1 + (int)(next() % 3), c.stride_w = 1 + (int)(next() % 3);
    c.dil_h = 1 + (int)(next() % 2), c.dil_w = 1 + (int)(next() % 2);
    const int pad_b = (int)(next() % 3), pad_r = (int)(next() % 3);
    c.pad_t = (int)(next() % 3), c.pad_l = (int)(next() % 3);
    c.in_h = 1 + (int)(next() % 20), c.in_w = 1 + (int)(next() % (it % 3 ? 70 : 12));
    const int eh = (c.k_h - 1) * c.dil_h + 1, ew = (c.k_w - 1) * c.dil_w + 1;
    if (c.in_h + c.pad_t + pad_b < eh || c.in_w + c.pad_l + pad_r < ew) continue;
    c.out_h = (c.in_h + c.pad_t + pad_b - eh) / c.stride_h + 1;
    c.out_w = (c.in_w + c.pad_l + pad_r - ew) / c.stride_w + 1;
    const size_t xn = (size_t)c.n * c.in_c * c.in_h * c.in_w, yn = (size_t)c.n * c.out_c * c.out_h * c.out_w;
    int8_t *x = malloc(xn), *w = malloc((size_t)c.out_c * c.k_h * c.k_w), *y = malloc(yn), *want = malloc(yn);
    int32_t *bias = malloc(sizeof(int32_t) * (size_t)c.out_c);
    for (size_t i = 0; i < xn; i++) x[i] = (int8_t)(next() % 256 - 128);
    for (int32_t i = 0; i < c.out_c * c.k_h * c.k_w; i++) w[i] = (int8_t)(next() % 255 - 127);
    for (int32_t o = 0; o < c.out_c; o++) {
      bias[o] = (int32_t)(next() % 20001) - 10000;
      mult[o] = (int32_t)(0x40000000u + next() % 0x40000000u);
      shift[o] = (int8_t)((it & 1) ? 10 + next() % 6 : 4 + next() % 6);
      out_add[o] = (int32_t)(next() % 41) - 20;
    }
    c.weight = w, c.bias = bias;
    c.rq = (sc_requant){.mult = it & 1 ? mult : NULL, .shift = shift, .per_channel = (it >> 1) & 1,
                        .lo = it % 5 == 0 ? 0 : -128, .hi = 127, .out_add = it % 7 == 3 ? out_add : NULL};
    sc_conv2d_s8(&c, x, want);
    memset(y, 0x55, yn);
    sc_dwconv_s8_simd(&c, x, y);
    for (size_t i = 0; i < yn; i++) {
      codes++;
      if (y[i] != want[i]) {
        if (bad < 5)
          printf("dwconv mismatch: c %d in %dx%d k %dx%d stride %d,%d dil %d,%d pad %d,%d at %zu: got %d, want %d\n",
                 c.in_c, c.in_h, c.in_w, c.k_h, c.k_w, c.stride_h, c.stride_w, c.dil_h, c.dil_w, c.pad_t, c.pad_l, i,
                 y[i], want[i]);
        bad++;
      }
    }
    free(x), free(w), free(y), free(want), free(bias);
  }
#endif
  printf("gemm: %ld codes, %ld mismatches\n", codes, bad);
  return bad == 0 ? 0 : 1;
}
