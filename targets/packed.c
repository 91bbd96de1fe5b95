/* packed.c — the emitter the SIMD families (targets/neon, targets/avx2) share. A layer
 * with a SIMD kernel calls it: conv2d and linear through the packed-weight GEMM of
 * runtime/simd/sc_simd.h (weights packed here, at compile time, in the order the
 * micro-kernel reads them), matmul, max pooling, add/sub/mul (operands contiguous
 * along the last axis) and the integer Transformer ops (i-GELU, table lookup, softmax,
 * fused attention scores + softmax, LayerNorm) through the ISA's kernels. Every other
 * layer — and any layer kind added later — goes to the scalar target's emitter, whose
 * runtime kernels every SIMD target also copies: bit-exact by construction.
 * Which ISA runs is decided by the runtime files the target copies
 * (runtime/<isa>/sc_packed_gemm_<isa>.c ...) and its compiler flags, not here. */
#include "target.h"

#include <stdlib.h>
#include <string.h>

#include "../runtime/simd/sc_simd.h"

static int32_t round_up(int32_t x, int32_t m) { return (x + m - 1) / m * m; }

int8_t *pack_weights(const int8_t *w, int groups, int n, int k, int nr, int kb, int64_t *count) {
  const int32_t k_pad = round_up(k, kb), blocks = round_up(n, nr) / nr;
  const int64_t per_group = (int64_t)blocks * nr * k_pad;
  *count = groups * per_group;
  int8_t *out = xcalloc((size_t)(*count ? *count : 1), 1);
  for (int g = 0; g < groups; g++)
    for (int32_t ch = 0; ch < n; ch++)
      for (int32_t kk = 0; kk < k; kk++) {
        int32_t nb = ch / nr, j = ch % nr, q = kk / kb, i = kk % kb;
        int64_t at = g * per_group + ((int64_t)nb * (k_pad / kb) + q) * nr * kb + j * kb + i;
        out[at] = w[((int64_t)g * n + ch) * k + kk];
      }
  return out;
}

/* The GEMM shape of a conv2d or linear layer: groups, output channels per group,
 * reduction length. */
static void gemm_shape(const ILayer *l, int *groups, int *n, int *k) {
  if (l->kind == IL_CONV2D) {
    const sc_conv2d_params *q = &l->p.conv;
    *groups = q->groups;
    *n = q->out_c / q->groups;
    *k = q->in_c / q->groups * q->k_h * q->k_w;
  } else {
    *groups = 1;
    *n = l->p.lin.out;
    *k = l->p.lin.in;
  }
}

/* Whether the layer runs on the packed GEMM: conv2d or linear whose reduction was not
 * split by legalization (the SIMD kernels keep one int32 sum), whose weights are the
 * runtime's (one code per weight, int8 or sub-byte packed), whose
 * reduction fits the GEMM (SC_GEMM_K_MAX), and that has more than one output channel
 * per group (a depthwise conv would fill 1 lane of each block of channels: the scalar
 * direct kernel is faster there). */
bool packed_packs_weights(const LayerCtx *c) {
  const ILayer *l = c->l;
  if (l->kind != IL_CONV2D && l->kind != IL_LINEAR) return false;
  const sc_requant *rq = l->kind == IL_CONV2D ? &l->p.conv.rq : &l->p.lin.rq;
  const int8_t *w = l->kind == IL_CONV2D ? l->p.conv.weight : l->p.lin.weight;
  int groups, n, k;
  gemm_shape(l, &groups, &n, &k);
  if (rq->k_chunk != 0 || !l->weight || w != l->weight) return false;
  /* bias_fix: every GEMM starts a channel at its shifted bias word (sc_packed_lanes);
   * output-domain addends only the avx2-family GEMMs apply, for |addend| < 2^29
   * (sc_avx2_requant16). Sub-byte codes (weight_bits < 8, stored several a byte for the
   * scalar kernels) are unpacked here into the GEMM's int8 layout. */
  if (rq->out_add) {
    if (strcmp(c->target->family, "avx2") != 0) return false;
    for (int ch = 0; ch < (rq->per_channel ? l->nch : 1); ch++)
      if (rq->out_add[ch] >= (1 << 29) || rq->out_add[ch] <= -(1 << 29)) return false;
  }
  if ((int64_t)groups * n * k != l->weight_count) return false;
  return k <= SC_GEMM_K_MAX && n > 1;
}

/* A depthwise conv2d (one input channel per output channel) the avx2 family runs directly
 * (runtime/avx2/sc_dwconv_s8_avx2.c): reduction not split, one int8 code per weight. */
static bool simd_dwconv(const LayerCtx *c) {
  const ILayer *l = c->l;
  if (l->kind != IL_CONV2D || strcmp(c->target->family, "avx2") != 0) return false;
  const sc_conv2d_params *q = &l->p.conv;
  return q->groups == q->in_c && q->out_c == q->in_c && q->rq.k_chunk == 0 && l->weight == q->weight &&
         (l->weight_bits == 0 || l->weight_bits == 8);
}

static bool simd_matmul(const LayerCtx *c) { return c->l->kind == IL_MATMUL && c->l->p.mm.rq.k_chunk == 0; }

/* A matmul the packed GEMM takes (b packed at run time on the stack): the avx2 family,
 * whose GEMMs are exact for every int8 code (NEON's smull pairs rely on weights above
 * -128, which activations need not be), with b small enough for the stack buffer. */
static bool packed_matmul(const LayerCtx *c) {
  if (!simd_matmul(c) || strcmp(c->target->family, "avx2") != 0) return false;
  const sc_matmul_params *q = &c->l->p.mm;
  const int nr = c->target->pack_nr, kb = c->target->pack_kb;
  return q->n <= SC_MATMUL_N_MAX && (int64_t)round_up(q->n, nr) * round_up(q->k, kb) <= SC_MATMUL_PACK_BYTES;
}

/* add/sub/mul whose operands both run along the last axis with stride 1. */
static bool simd_eltwise(const LayerCtx *c) {
  const ILayer *l = c->l;
  if (l->kind != IL_ADD && l->kind != IL_SUB && l->kind != IL_MUL) return false;
  const sc_eltwise_params *e = &l->p.elt;
  return e->rank == 0 || (e->a_strides[e->rank - 1] == 1 && e->b_strides[e->rank - 1] == 1);
}

static bool simd_maxpool(const LayerCtx *c) {
  return c->l->kind == IL_MAXPOOL2D && c->l->p.pool.in_w <= SC_POOL_ROW_MAX;
}

/* The packed weights and the sc_packed_weights initializer (indented for a field). */
static void put_packed(StrBuf *out, const LayerCtx *c, const sc_requant *rq, const int32_t *bias) {
  const ILayer *l = c->l;
  int groups, n, k;
  gemm_shape(l, &groups, &n, &k);
  const int nr = c->target->pack_nr, kb = c->target->pack_kb;
  int64_t count;
  int8_t *codes = l->weight;
  if (l->weight_bits < 8) { /* one int8 code per weight, for the GEMM */
    codes = xmalloc((size_t)l->weight_count);
    for (int64_t e = 0; e < l->weight_count; e++) codes[e] = (int8_t)sc_unpack_code(l->weight, l->weight_bits, e);
  }
  int8_t *packed = pack_weights(codes, groups, n, k, nr, kb, &count);
  char *wsum_name = NULL;
  if (c->target->pack_u8) { /* the kernel reads a + 128: it takes 128 * sum_k W[c][k] off */
    int32_t *wsum = xcalloc((size_t)groups * n, sizeof(int32_t));
    for (int64_t ch = 0; ch < (int64_t)groups * n; ch++)
      for (int32_t kk = 0; kk < k; kk++) wsum[ch] += 128 * codes[ch * k + kk];
    wsum_name = xformat("%s_wsum128", c->fn);
    put_i32_array(out, "128 x the sum of each channel's weights: the GEMM feeds activations as a + 128", wsum_name,
                  wsum, (int64_t)groups * n);
    free(wsum);
  }
  if (codes != l->weight) free(codes);
  char *comment = xformat("weights packed for the SIMD GEMM, %d-bit codes: [group=%d][block of %d "
                          "channels=%d][K/%d=%d][%d][%d] (K=%d), zero padded",
                          l->weight_bits, groups, nr, round_up(n, nr) / nr, kb, round_up(k, kb) / kb, nr, kb, k);
  put_i8_array(out, comment, c->weight, packed, count);
  /* the runtime's kernels read the layout of the ISA they are compiled for: a mismatch
   * (e.g. avx2 code built without -mavx2) stops the build instead of computing garbage */
  sb_printf(out, "typedef char %s_layout_check[SC_PACK_NR == %d && SC_PACK_KB == %d ? 1 : -1];\n", c->fn, nr, kb);
  free(comment);
  free(packed);
  char *b = target_ptr_expr(bias, l->bias, sizeof(int32_t), l->nch, c->bias, c, "bias");
  sb_printf(out, "static const %s %s_params = {\n", l->kind == IL_CONV2D ? "sc_conv2d_packed" : "sc_linear_packed",
            c->fn);
  if (l->kind == IL_CONV2D) {
    const sc_conv2d_params *q = &l->p.conv;
    sb_printf(out, "    .n = %d, .in_c = %d, .in_h = %d, .in_w = %d,\n", q->n, q->in_c, q->in_h, q->in_w);
    sb_printf(out, "    .out_c = %d, .out_h = %d, .out_w = %d,\n", q->out_c, q->out_h, q->out_w);
    sb_printf(out, "    .k_h = %d, .k_w = %d, .stride_h = %d, .stride_w = %d,\n", q->k_h, q->k_w, q->stride_h,
              q->stride_w);
    sb_printf(out, "    .pad_t = %d, .pad_l = %d, .dil_h = %d, .dil_w = %d, .groups = %d,\n", q->pad_t, q->pad_l,
              q->dil_h, q->dil_w, q->groups);
  } else {
    sb_printf(out, "    .rows = %d,\n", l->p.lin.rows);
  }
  sb_printf(out, "    .w = {\n        .n = %d, .k = %d, .k_pad = %d,\n", n, k, round_up(k, kb));
  sb_printf(out, "        .w = %s,\n        .bias = %s,\n", c->weight, b);
  if (wsum_name) sb_printf(out, "        .wsum128 = %s,\n", wsum_name);
  sb_puts(out, "        .rq = ");
  target_put_requant(out, c, rq, "        ");
  sb_puts(out, ",\n    },\n};\n");
  free(b);
  free(wsum_name);
}

void packed_emit_data(StrBuf *out, const LayerCtx *c) {
  const ILayer *l = c->l;
  if (packed_packs_weights(c)) {
    if (l->kind == IL_CONV2D) put_packed(out, c, &l->p.conv.rq, l->p.conv.bias);
    else put_packed(out, c, &l->p.lin.rq, l->p.lin.bias);
    return;
  }
  /* matmul, max pooling, add/sub/mul: the scalar params serve the SIMD kernels as they are */
  if (target_scalar.emit_layer_data) target_scalar.emit_layer_data(out, c);
}

/* The integer Transformer ops on the ISA's kernels (sc_simd.h, end): i-GELU, tables,
 * softmax, fused attention scores + softmax, LayerNorm; their scalar params serve. The
 * fused kernel's scratch (b repacked for AVX2, a block of rows of scores) lives on the stack:
 * shapes whose scratch would pass SC_MMSM_STACK_MAX words stay on the scalar kernel.
 * False when the layer is none of these (the caller emits it otherwise). */
#define SC_MMSM_STACK_MAX 65536
static bool emit_transformer(StrBuf *out, const LayerCtx *c) {
  const ILayer *l = c->l;
  const char *fn = c->fn, *y = c->out;
  switch (l->kind) {
  case IL_IGELU:
    sb_printf(out, "  sc_igelu_s8_simd(&%s_params, %lld /* codes */, %s, %s);\n", fn,
              (long long)shape_numel(&c->p->g->values[l->in[0]].shape), c->in[0], y);
    return true;
  case IL_LUT:
    sb_printf(out, "  sc_lut_s8_simd(%d /* codes */, %s, %s, %s);\n", (int)l->lut_n, c->table, c->in[0], y);
    return true;
  case IL_SOFTMAX: {
    const Shape *s = &c->p->g->values[l->in[0]].shape;
    sb_printf(out, "  int32_t scratch[%d];\n", (int)l->scratch_words);
    sb_printf(out, "  sc_softmax_s8_simd(&%s_params, %lld /* rows */, %d /* per row */, %s, %s, scratch);\n", fn,
              (long long)(shape_numel(s) / l->scratch_words), (int)l->scratch_words, c->in[0], y);
    return true;
  }
  case IL_MATMUL_SOFTMAX: {
    const sc_matmul_softmax_params *q = &l->p.mmsm;
    int64_t words = SC_MATMUL_SOFTMAX_SCRATCH((int64_t)q->k, (int64_t)q->n);
    if (words > SC_MMSM_STACK_MAX) return false;
    sb_printf(out, "  int32_t scratch[%lld]; /* SC_MATMUL_SOFTMAX_SCRATCH(%d, %d): packed b, %d rows of scores */\n",
              (long long)words, q->k, q->n, SC_MMSM_ROWS);
    sb_printf(out, "  sc_matmul_softmax_s8_simd(&%s_params, %s, %s, %s, scratch);\n", fn, c->in[0], c->in[1], y);
    return true;
  }
  case IL_LAYERNORM: sb_printf(out, "  sc_layernorm_s8_simd(&%s_params, %s, %s);\n", fn, c->in[0], y); return true;
  default: return false;
  }
}

void packed_emit_layer(StrBuf *out, const LayerCtx *c) {
  const ILayer *l = c->l;
  if (packed_packs_weights(c)) {
    sb_printf(out, "  %s(&%s_params, %s, %s);\n", l->kind == IL_CONV2D ? "sc_conv2d_s8_packed" : "sc_linear_s8_packed",
              c->fn, c->in[0], c->out);
  } else if (simd_dwconv(c)) {
    sb_printf(out, "  sc_dwconv_s8_simd(&%s_params, %s, %s);\n", c->fn, c->in[0], c->out);
  } else if (packed_matmul(c)) {
    sb_printf(out, "  sc_matmul_s8_packed(&%s_params, %s, %s, %s);\n", c->fn, c->in[0], c->in[1], c->out);
  } else if (simd_matmul(c)) {
    sb_printf(out, "  sc_matmul_s8_simd(&%s_params, %s, %s, %s);\n", c->fn, c->in[0], c->in[1], c->out);
  } else if (simd_maxpool(c)) {
    sb_printf(out, "  sc_maxpool2d_s8_simd(&%s_params, %s, %s);\n", c->fn, c->in[0], c->out);
  } else if (simd_eltwise(c)) {
    const char *k = l->kind == IL_ADD ? "add" : l->kind == IL_SUB ? "sub" : "mul";
    sb_printf(out, "  sc_%s_s8_simd(&%s_params, %s, %s, %s);\n", k, c->fn, c->in[0], c->in[1], c->out);
  } else if (emit_transformer(out, c)) {
    /* written */
  } else {
    if (l->kind == IL_CONV2D || l->kind == IL_LINEAR || l->kind == IL_MATMUL)
      sb_puts(out, "  /* the scalar kernel: legalization split this layer's reduction */\n");
    target_scalar.emit_layer(out, c);
  }
}

const char *packed_cannot_emit(const LayerCtx *c) {
  return target_scalar.cannot_emit ? target_scalar.cannot_emit(c) : NULL;
}
