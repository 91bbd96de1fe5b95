/* scalar.c — the scalar target: portable C99 that calls the runtime's reference
 * kernels (runtime/sc_*.c), the very functions the compiler's integer interpreter
 * (interp_int.c) calls, with the very parameters; so the generated code matches
 * `shiftc run --int` by construction. Each layer gets a `static const` params
 * struct written out field by field (designated initializers, so a reader sees
 * what every number is), and a one-line body calling its kernel. */
#include "../target.h"

#include <stdlib.h>
#include <string.h>

static const char *const scalar_runtime[] = {"shiftc_rt.h", "sc_internal.h", "sc_*.c", NULL};

/* The C expression for `ptr`, which must point into the array `name` of `count`
 * elements of `elem` bytes starting at `base` (or be NULL): "NULL", "name", "name + 3". */
char *target_ptr_expr(const void *ptr, const void *base, size_t elem, int64_t count, const char *name,
                      const LayerCtx *c, const char *what) {
  if (!ptr) return xstrdup("NULL");
  const char *p = ptr, *b = base;
  if (b && name && p >= b && p < b + (size_t)count * elem && (size_t)(p - b) % elem == 0) {
    size_t k = (size_t)(p - b) / elem;
    return k ? xformat("%s + %zu", name, k) : xstrdup(name);
  }
  internal_error("layer %s: %s points outside the layer's arrays", c->fn, what);
}

static void put_ints(StrBuf *out, const int32_t *v, int n) {
  if (n <= 0) {
    sb_puts(out, "{0}"); /* rank 0: one element */
    return;
  }
  sb_putc(out, '{');
  for (int i = 0; i < n; i++) sb_printf(out, "%s%d", i ? ", " : "", (int)v[i]);
  sb_putc(out, '}');
}

/* `static const TYPE NAME[n] = {...};` with 16 values a line. */
static void put_table(StrBuf *out, const char *type, const char *name, const char *what, int n, int32_t (*at)(const void *, int),
                      const void *v) {
  sb_printf(out, "/* %s */\nstatic const %s %s[%d] = {", what, type, name, n);
  for (int i = 0; i < n; i++) sb_printf(out, "%s%d%s", i % 16 ? " " : "\n    ", (int)at(v, i), i + 1 < n ? "," : "");
  sb_puts(out, "\n};\n");
}
static int32_t at_i32(const void *v, int i) { return ((const int32_t *)v)[i]; }
static int32_t at_i16(const void *v, int i) { return ((const int16_t *)v)[i]; }

/* One sc_requant as an initializer, its pointers into the layer's mult/shift arrays. */
void target_put_requant(StrBuf *out, const LayerCtx *c, const sc_requant *rq, const char *indent) {
  const ILayer *l = c->l;
  char *mult = target_ptr_expr(rq->mult, l->mult, sizeof(int32_t), l->nch, c->mult, c, "rq.mult");
  char *shift = target_ptr_expr(rq->shift, l->shift, sizeof(int8_t), l->nch, c->shift, c, "rq.shift");
  sb_printf(out, "{\n");
  sb_printf(out, "%s  .mult = %s,%s\n", indent, mult, rq->mult ? "" : " /* shift mode: no multiplier */");
  sb_printf(out, "%s  .shift = %s,\n", indent, shift);
  sb_printf(out, "%s  .per_channel = %d,\n", indent, rq->per_channel);
  sb_printf(out, "%s  .lo = %d,\n", indent, (int)rq->lo);
  sb_printf(out, "%s  .hi = %d,\n", indent, (int)rq->hi);
  sb_printf(out, "%s  .k_chunk = %d,%s\n", indent, (int)rq->k_chunk, rq->k_chunk ? "" : " /* no k-split */");
  sb_printf(out, "%s  .pre_shift = %d,\n", indent, rq->pre_shift);
  if (rq->out_add) {
    char *add = target_ptr_expr(rq->out_add, l->out_add, sizeof(int32_t), l->nch, c->out_add, c, "rq.out_add");
    sb_printf(out, "%s  .out_add = %s,\n", indent, add);
    free(add);
  }
  if (rq->bias_lshift) {
    char *lsh = target_ptr_expr(rq->bias_lshift, l->bias_lshift, sizeof(int8_t), l->nch, c->bias_lshift, c,
                         "rq.bias_lshift");
    sb_printf(out, "%s  .bias_lshift = %s,\n", indent, lsh);
    free(lsh);
  }
  sb_printf(out, "%s}", indent);
  free(mult);
  free(shift);
}

static void put_operand_scale(StrBuf *out, const char *field, const sc_operand_scale *s) {
  sb_printf(out, "    .%s = {.mult = %d, .lshift = %d, .shift = %d},\n", field, (int)s->mult, s->lshift, s->shift);
}

static void put_softmax(StrBuf *out, const sc_softmax_params *p, const char *indent) {
  sb_printf(out, "{\n%s    .x0 = %d, /* floor(-ln2 / S) */\n", indent, (int)p->x0);
  sb_printf(out, "%s    .b_int = %d, /* floor(1.353 / S) */\n", indent, (int)p->b_int);
  sb_printf(out, "%s    .c_int = INT64_C(%lld), /* floor(0.344 / (0.3585 S^2)) */\n", indent, (long long)p->c_int);
  sb_printf(out, "%s    .poly_shift = %d,\n%s    .in_lshift = %d,\n%s}", indent, p->poly_shift, indent, p->in_lshift,
            indent);
}

static void emit_data(StrBuf *out, const LayerCtx *c) {
  const ILayer *l = c->l;
  switch (l->kind) {
  case IL_CONV2D:
  case IL_CONV_TRANSPOSE2D: {
    const sc_conv2d_params *q = &l->p.conv;
    char *w = target_ptr_expr(q->weight, l->weight, 1, l->weight_bytes, c->weight, c, "weight");
    char *b = target_ptr_expr(q->bias, l->bias, sizeof(int32_t), l->nch, c->bias, c, "bias");
    sb_printf(out, "static const sc_conv2d_params %s_params = {\n", c->fn);
    sb_printf(out, "    .n = %d, .in_c = %d, .in_h = %d, .in_w = %d,\n", q->n, q->in_c, q->in_h, q->in_w);
    sb_printf(out, "    .out_c = %d, .out_h = %d, .out_w = %d,\n", q->out_c, q->out_h, q->out_w);
    sb_printf(out, "    .k_h = %d, .k_w = %d, .stride_h = %d, .stride_w = %d,\n", q->k_h, q->k_w, q->stride_h,
              q->stride_w);
    sb_printf(out, "    .pad_t = %d, .pad_l = %d, .dil_h = %d, .dil_w = %d, .groups = %d,\n", q->pad_t, q->pad_l,
              q->dil_h, q->dil_w, q->groups);
    sb_printf(out, "    .weight = %s,\n    .bias = %s,\n    .rq = ", w, b);
    target_put_requant(out, c, &q->rq, "    ");
    sb_printf(out, ",\n    .weight_bits = %d,%s\n};\n", q->weight_bits, q->weight_bits < 8 ? " /* packed */" : "");
    free(w);
    free(b);
    break;
  }
  case IL_LINEAR: {
    const sc_linear_params *q = &l->p.lin;
    char *w = target_ptr_expr(q->weight, l->weight, 1, l->weight_bytes, c->weight, c, "weight");
    char *b = target_ptr_expr(q->bias, l->bias, sizeof(int32_t), l->nch, c->bias, c, "bias");
    sb_printf(out, "static const sc_linear_params %s_params = {\n", c->fn);
    sb_printf(out, "    .rows = %d, .in = %d, .out = %d,\n", q->rows, q->in, q->out);
    sb_printf(out, "    .weight = %s,\n    .bias = %s,\n    .rq = ", w, b);
    target_put_requant(out, c, &q->rq, "    ");
    sb_printf(out, ",\n    .weight_bits = %d,%s\n};\n", q->weight_bits, q->weight_bits < 8 ? " /* packed */" : "");
    free(w);
    free(b);
    break;
  }
  case IL_MAXPOOL2D:
  case IL_AVGPOOL2D: {
    const sc_pool2d_params *q = &l->p.pool;
    sb_printf(out, "static const sc_pool2d_params %s_params = {\n", c->fn);
    sb_printf(out, "    .planes = %d, .in_h = %d, .in_w = %d, .out_h = %d, .out_w = %d,\n", q->planes, q->in_h,
              q->in_w, q->out_h, q->out_w);
    sb_printf(out, "    .k_h = %d, .k_w = %d, .stride_h = %d, .stride_w = %d, .pad_t = %d, .pad_l = %d,\n", q->k_h,
              q->k_w, q->stride_h, q->stride_w, q->pad_t, q->pad_l);
    sb_printf(out, "    .rq = ");
    target_put_requant(out, c, &q->rq, "    ");
    sb_printf(out, ",%s\n};\n", l->kind == IL_MAXPOOL2D ? " /* unused by max pooling: same scale in and out */" : "");
    break;
  }
  case IL_ADD:
  case IL_SUB:
  case IL_MUL: {
    const sc_eltwise_params *q = &l->p.elt;
    sb_printf(out, "static const sc_eltwise_params %s_params = {\n", c->fn);
    sb_printf(out, "    .rank = %d,\n    .dims = ", q->rank);
    put_ints(out, q->dims, q->rank);
    sb_puts(out, ",\n    .a_strides = ");
    put_ints(out, q->a_strides, q->rank);
    sb_puts(out, ",\n    .b_strides = ");
    put_ints(out, q->b_strides, q->rank);
    sb_puts(out, ",\n");
    put_operand_scale(out, "a", &q->a);
    put_operand_scale(out, "b", &q->b);
    sb_puts(out, "    .out = ");
    target_put_requant(out, c, &q->out, "    ");
    sb_puts(out, ",\n};\n");
    break;
  }
  case IL_LUT: break; /* the table emit.c wrote is all it needs */
  case IL_TRANSPOSE: {
    const sc_transpose_params *q = &l->p.tr;
    sb_printf(out, "static const sc_transpose_params %s_params = {\n", c->fn);
    sb_printf(out, "    .rank = %d,\n    .in_dims = ", q->rank);
    put_ints(out, q->in_dims, q->rank);
    sb_puts(out, ",\n    .perm = ");
    put_ints(out, q->perm, q->rank);
    sb_puts(out, ",\n};\n");
    break;
  }
  case IL_CONCAT: {
    const sc_concat_params *q = &l->p.cat;
    char *inner = target_ptr_expr(q->inner, l->cat_inner, sizeof(int32_t), l->nin, c->inner, c, "inner");
    char *rq = xstrdup("NULL");
    if (q->rq) {
      if (q->rq != l->cat_rq) internal_error("layer %s: concat rq points outside the layer", c->fn);
      free(rq);
      rq = xformat("%s_rq", c->fn);
      sb_printf(out, "/* per input: rescale to the output's scale */\n");
      sb_printf(out, "static const sc_requant %s_rq[%d] = {\n", c->fn, q->count);
      for (int k = 0; k < q->count; k++) {
        sb_puts(out, "    ");
        target_put_requant(out, c, &q->rq[k], "    ");
        sb_puts(out, ",\n");
      }
      sb_puts(out, "};\n");
    }
    sb_printf(out, "static const sc_concat_params %s_params = {\n", c->fn);
    sb_printf(out, "    .count = %d,\n    .outer = %d,\n    .inner = %s,\n    .rq = %s,%s\n};\n", q->count,
              (int)q->outer, inner, rq, q->rq ? "" : " /* every input has the output's scale: plain copies */");
    free(inner);
    free(rq);
    break;
  }
  case IL_MATMUL: {
    const sc_matmul_params *q = &l->p.mm;
    sb_printf(out, "static const sc_matmul_params %s_params = {\n", c->fn);
    sb_printf(out, "    .batch = %d, .m = %d, .k = %d, .n = %d,\n", q->batch, q->m, q->k, q->n);
    sb_printf(out, "    .a_batch_stride = %d, .b_batch_stride = %d,\n", (int)q->a_batch_stride,
              (int)q->b_batch_stride);
    sb_puts(out, "    .rq = ");
    target_put_requant(out, c, &q->rq, "    ");
    sb_puts(out, ",\n};\n");
    break;
  }
  case IL_IGELU: {
    const sc_igelu_params *q = &l->p.gelu;
    sb_printf(out, "static const sc_igelu_params %s_params = {\n", c->fn);
    sb_printf(out, "    .b_int = %d, .c_int = %d, .one_int = %d,\n    .rq = ", (int)q->b_int, (int)q->c_int,
              (int)q->one_int);
    target_put_requant(out, c, &q->rq, "    ");
    sb_printf(out, ",\n    .out_rshift = %d,\n};\n", q->out_rshift);
    break;
  }
  case IL_SOFTMAX:
    sb_printf(out, "static const sc_softmax_params %s_params = ", c->fn);
    put_softmax(out, &l->p.sm, "");
    sb_puts(out, ";\n");
    break;
  case IL_MATMUL_SOFTMAX: {
    const sc_matmul_softmax_params *q = &l->p.mmsm;
    sb_printf(out, "static const sc_matmul_softmax_params %s_params = {\n", c->fn);
    sb_printf(out, "    .batch = %d, .m = %d, .k = %d, .n = %d,\n", q->batch, q->m, q->k, q->n);
    sb_printf(out, "    .a_batch_stride = %d, .b_batch_stride = %d,\n", (int)q->a_batch_stride,
              (int)q->b_batch_stride);
    sb_printf(out, "    .score_lshift = %d,\n    .sm = ", q->score_lshift);
    put_softmax(out, &q->sm, "    ");
    sb_puts(out, ",\n};\n");
    break;
  }
  case IL_LAYERNORM: {
    const sc_layernorm_params *q = &l->p.ln;
    char *g = target_ptr_expr(q->g, l->ln_g, sizeof(int32_t), l->nch, c->ln_g, c, "gamma");
    char *b = target_ptr_expr(q->b, l->ln_b, sizeof(int64_t), l->nch, c->ln_b, c, "beta");
    sb_printf(out, "static const sc_layernorm_params %s_params = {\n", c->fn);
    sb_printf(out, "    .rows = %d, .n = %d, .l1 = %d,%s\n", (int)q->rows, (int)q->n, q->l1,
              q->l1 ? " /* mean absolute deviation */" : " /* standard deviation by integer Newton sqrt */");
    sb_printf(out, "    .g = %s, .b = %s, .shift = %d, .lo = %d, .hi = %d,\n};\n", g, b, q->shift, (int)q->lo,
              (int)q->hi);
    free(g);
    free(b);
    break;
  }
  case IL_EMBEDDING: break; /* the table emit.c wrote (c->weight) and three sizes in the call */
  case IL_SLICE: {
    const sc_slice_params *q = &l->p.slice;
    sb_printf(out, "static const sc_slice_params %s_params = {\n", c->fn);
    sb_printf(out, "    .outer = %d, .len = %d, .inner = %d,\n", (int)q->outer, (int)q->len, (int)q->inner);
    sb_printf(out, "    .start = %d, .step = %d, .count = %d, /* a copy: the input's scale */\n};\n", (int)q->start,
              (int)q->step, (int)q->count);
    break;
  }
  case IL_RESIZE: {
    const sc_resize_params *q = &l->p.resize;
    char *idx = xformat("%s_idx", c->fn), *w = xformat("%s_w", c->fn);
    put_table(out, "int32_t", idx, "source rows y0, y1, then columns x0, x1", 2 * (q->out_h + q->out_w), at_i32,
              q->idx);
    if (q->w)
      put_table(out, "int16_t", w, "bilinear weights of y1 (per row), then of x1 (per column), in 1/2^11",
                q->out_h + q->out_w, at_i16, q->w);
    sb_printf(out, "static const sc_resize_params %s_params = {\n", c->fn);
    sb_printf(out, "    .planes = %d, .in_h = %d, .in_w = %d, .out_h = %d, .out_w = %d,\n", (int)q->planes,
              (int)q->in_h, (int)q->in_w, (int)q->out_h, (int)q->out_w);
    sb_printf(out, "    .idx = %s, .w = %s, /* the input's scale */\n};\n", idx, q->w ? w : "NULL /* nearest */");
    free(idx);
    free(w);
    break;
  }
  case IL_REDUCEMEAN: {
    const sc_reducemean_params *q = &l->p.red;
    sb_printf(out, "static const sc_reducemean_params %s_params = {\n", c->fn);
    sb_printf(out, "    .rank = %d,\n    .dims = ", q->rank);
    put_ints(out, q->dims, q->rank);
    sb_puts(out, ",\n    .reduce = ");
    put_ints(out, q->reduce, q->rank);
    sb_printf(out, ", /* 1: summed over */\n    .lshift = %d,%s\n    .rq = ", q->lshift,
              q->lshift ? " /* the sum's left shift before the multiplier */" : "");
    target_put_requant(out, c, &q->rq, "    ");
    sb_puts(out, ",\n};\n");
    break;
  }
  }
}

/* The body: the same kernel call interp_int.c makes for this layer kind. */
static void emit_body(StrBuf *out, const LayerCtx *c) {
  const ILayer *l = c->l;
  const char *fn = c->fn, *y = c->out;
  switch (l->kind) {
  case IL_CONV2D: sb_printf(out, "  sc_conv2d_s8(&%s_params, %s, %s);\n", fn, c->in[0], y); break;
  case IL_CONV_TRANSPOSE2D: sb_printf(out, "  sc_conv_transpose_s8(&%s_params, %s, %s);\n", fn, c->in[0], y); break;
  case IL_LINEAR: sb_printf(out, "  sc_linear_s8(&%s_params, %s, %s);\n", fn, c->in[0], y); break;
  case IL_MAXPOOL2D: sb_printf(out, "  sc_maxpool2d_s8(&%s_params, %s, %s);\n", fn, c->in[0], y); break;
  case IL_AVGPOOL2D: sb_printf(out, "  sc_avgpool2d_s8(&%s_params, %s, %s);\n", fn, c->in[0], y); break;
  case IL_ADD: sb_printf(out, "  sc_add_s8(&%s_params, %s, %s, %s);\n", fn, c->in[0], c->in[1], y); break;
  case IL_SUB: sb_printf(out, "  sc_sub_s8(&%s_params, %s, %s, %s);\n", fn, c->in[0], c->in[1], y); break;
  case IL_MUL: sb_printf(out, "  sc_mul_s8(&%s_params, %s, %s, %s);\n", fn, c->in[0], c->in[1], y); break;
  case IL_LUT:
    sb_printf(out, "  sc_lut_s8(%d /* codes */, %s, %s, %s);\n", (int)l->lut_n, c->table, c->in[0], y);
    break;
  case IL_TRANSPOSE: sb_printf(out, "  sc_transpose_s8(&%s_params, %s, %s);\n", fn, c->in[0], y); break;
  case IL_MATMUL: sb_printf(out, "  sc_matmul_s8(&%s_params, %s, %s, %s);\n", fn, c->in[0], c->in[1], y); break;
  case IL_IGELU:
    sb_printf(out, "  sc_igelu_s8(&%s_params, %lld /* codes */, %s, %s);\n", fn,
              (long long)shape_numel(&c->p->g->values[l->in[0]].shape), c->in[0], y);
    break;
  case IL_SOFTMAX: {
    const Shape *s = &c->p->g->values[l->in[0]].shape;
    sb_printf(out, "  int32_t scratch[%d];\n", (int)l->scratch_words);
    sb_printf(out, "  sc_softmax_s8(&%s_params, %lld /* rows */, %d /* per row */, %s, %s, scratch);\n", fn,
              (long long)(shape_numel(s) / l->scratch_words), (int)l->scratch_words, c->in[0], y);
    break;
  }
  case IL_MATMUL_SOFTMAX:
    sb_printf(out, "  int32_t scratch[%d]; /* one row of scores */\n", (int)l->scratch_words);
    sb_printf(out, "  sc_matmul_softmax_s8(&%s_params, %s, %s, %s, scratch);\n", fn, c->in[0], c->in[1], y);
    break;
  case IL_LAYERNORM: sb_printf(out, "  sc_layernorm_s8(&%s_params, %s, %s);\n", fn, c->in[0], y); break;
  case IL_SLICE: sb_printf(out, "  sc_slice_s8(&%s_params, %s, %s);\n", fn, c->in[0], y); break;
  case IL_RESIZE: sb_printf(out, "  sc_resize_s8(&%s_params, %s, %s);\n", fn, c->in[0], y); break;
  case IL_REDUCEMEAN: sb_printf(out, "  sc_reducemean_s8(&%s_params, %s, %s);\n", fn, c->in[0], y); break;
  case IL_EMBEDDING: {
    /* x points at the caller's int32 ids (the API's const int8_t *, 4-byte aligned). */
    const Shape *ys = &c->p->g->values[l->out].shape;
    int64_t dim = ys->d[ys->rank - 1];
    sb_printf(out, "  sc_embedding_s8(%lld /* ids */, (const int32_t *)(const void *)%s, %lld /* rows */, %lld /* dim */, %s, %s);\n",
              (long long)shape_numel(&c->p->g->values[l->in[0]].shape), c->in[0],
              (long long)(dim ? l->weight_count / dim : 0), (long long)dim, c->weight, y);
    break;
  }
  case IL_CONCAT:
    sb_printf(out, "  const int8_t *const inputs[%d] = {", l->nin);
    for (int k = 0; k < l->nin; k++) sb_printf(out, "%s%s", k ? ", " : "", c->in[k]);
    sb_printf(out, "};\n  sc_concat_s8(&%s_params, inputs, %s);\n", fn, y);
    break;
  }
}

/* The generated Makefile's bare-metal flavour: the scalar code and runtime for a
 * Cortex-M4 (data.md "Toolchains"), its goldens under qemu, its flash and RAM. */
static const char scalar_makefile_rules[] =
    "# Bare metal: Cortex-M4 (ARMv7E-M, Thumb-2), picolibc over semihosting, on the MPS2\n"
    "# AN386 board (4 MB flash at 0, 4 MB RAM at 0x20000000) or its qemu model.\n"
    "#   make cortex-m4        build $(MODEL)_m4.elf with arm-none-eabi-gcc\n"
    "#   make test-cortex-m4   run its goldens under qemu-system-arm -M mps2-an386 (exit 0: bit-exact)\n"
    "#   make size-cortex-m4   arm-none-eabi-size, then flash and RAM bytes per part (from the\n"
    "#                         link map): the model, the runtime's kernels, the golden test, libc\n"
    "# (`shiftc verify --board mps2-an386 OUTDIR` runs the last two and adds them to the report.)\n"
    "M4_PREFIX ?= arm-none-eabi-\n"
    "M4_CFLAGS ?= -std=c99 -O2 -Wall -Wextra -pedantic\n"
    "M4_ARCH = -mcpu=cortex-m4 -mthumb -ffunction-sections -fdata-sections --specs=picolibc.specs --oslib=semihost --crt0=semihost\n"
    "M4_LDFLAGS = -Wl,--gc-sections -Wl,-Map=$(MODEL)_m4.map -Wl,--defsym=__flash=0x0 -Wl,--defsym=__flash_size=0x400000 \\\n"
    "  -Wl,--defsym=__ram=0x20000000 -Wl,--defsym=__ram_size=0x400000\n"
    "M4_OBJS = $(addprefix m4/,$(SRCS:.c=.o) $(TEST_SRCS:.c=.o))\n"
    "\n"
    ".PHONY: cortex-m4 test-cortex-m4 size-cortex-m4\n"
    "cortex-m4: $(MODEL)_m4.elf\n"
    "m4/%.o: %.c $(HDRS)\n"
    "\t@mkdir -p m4\n"
    "\t$(M4_PREFIX)gcc $(M4_CFLAGS) $(M4_ARCH) -I. -c -o $@ $<\n"
    "$(MODEL)_m4.elf: $(M4_OBJS)\n"
    "\t$(M4_PREFIX)gcc $(M4_CFLAGS) $(M4_ARCH) -o $@ $(M4_OBJS) $(M4_LDFLAGS)\n"
    "test-cortex-m4: $(MODEL)_m4.elf\n"
    "\tqemu-system-arm -M mps2-an386 -nographic -semihosting -kernel $(MODEL)_m4.elf 2>&1 # semihosting writes to stderr\n"
    "# Every input section the link kept, by object, by the output section it went to:\n"
    "# .init/.text (code and constants) count as flash, .data as flash and RAM, .bss as RAM;\n"
    "# the stack the linker script reserves is not counted.\n"
    "size-cortex-m4: $(MODEL)_m4.elf\n"
    "\t$(M4_PREFIX)size $(MODEL)_m4.elf\n"
    "\t@awk -v model=$(MODEL) -v arena=\"$$(sed -n 's/^#define [A-Z0-9_]*_ARENA_SIZE \\([0-9]*\\).*/\\1/p' $(MODEL).h)\" ' \\\n"
    "\t  function hex(s,  i, v) { v = 0; s = tolower(substr(s, 3)); \\\n"
    "\t    for (i = 1; i <= length(s); i++) v = v * 16 + index(\"0123456789abcdef\", substr(s, i, 1)) - 1; return v } \\\n"
    "\t  /^Linker script and memory map/ { on = 1 } \\\n"
    "\t  on && /^\\./ { sec = $$1 } \\\n"
    "\t  on && $$NF ~ /\\.o\\)?$$/ && $$(NF-1) ~ /^0x/ && $$(NF-2) ~ /^0x/ { \\\n"
    "\t    n = split($$NF, p, \"/\"); f = p[n]; sz = hex($$(NF-1)); \\\n"
    "\t    part = f == model \".o\" ? \"model\" : f ~ /^sc_/ ? \"runtime\" : \\\n"
    "\t           (f == model \"_golden.o\" || f == model \"_test.o\") ? \"test\" : \"libc\"; \\\n"
    "\t    if (sec ~ /^\\.(init|text|rodata|ARM\\.ex)/) flash[part] += sz; \\\n"
    "\t    else if (sec ~ /^\\.t?data/) { flash[part] += sz; ram[part] += sz } \\\n"
    "\t    else if (sec ~ /^\\.t?bss/) ram[part] += sz } \\\n"
    "\t  END { printf \"%-46s %8s %8s\\n\", \"part\", \"flash\", \"RAM\"; \\\n"
    "\t    printf \"%-46s %8d %8d\\n\", \"model: \" model \".o (code, weights)\", flash[\"model\"], ram[\"model\"]; \\\n"
    "\t    printf \"%-46s %8d %8d\\n\", \"runtime: sc_*.o (the kernels it calls)\", flash[\"runtime\"], ram[\"runtime\"]; \\\n"
    "\t    printf \"%-46s %8d %8d\\n\", \"golden test: goldens, main, arena\", flash[\"test\"], ram[\"test\"]; \\\n"
    "\t    printf \"%-46s %8d %8d\\n\", \"libc (picolibc), startup, libgcc\", flash[\"libc\"], ram[\"libc\"]; \\\n"
    "\t    printf \"%-46s %8d %8d\\n\", \"total\", flash[\"model\"] + flash[\"runtime\"] + flash[\"test\"] + flash[\"libc\"], \\\n"
    "\t      ram[\"model\"] + ram[\"runtime\"] + ram[\"test\"] + ram[\"libc\"]; \\\n"
    "\t    printf \"the model needs %d bytes of arena (RAM) from its caller, besides the stack\\n\", arena }' \\\n"
    "\t  $(MODEL)_m4.map\n";

/* Every layer kind the scalar kernels cover; a kind missing here (and in the
 * switches above) is a user error at compile time, never silent output. */
static const char *cannot_emit(const LayerCtx *c) {
  switch (c->l->kind) {
  case IL_CONV2D:
  case IL_LINEAR:
  case IL_MAXPOOL2D:
  case IL_AVGPOOL2D:
  case IL_ADD:
  case IL_SUB:
  case IL_MUL:
  case IL_LUT:
  case IL_TRANSPOSE:
  case IL_CONCAT:
  case IL_MATMUL:
  case IL_IGELU:
  case IL_SOFTMAX:
  case IL_MATMUL_SOFTMAX:
  case IL_LAYERNORM:
  case IL_EMBEDDING:
  case IL_SLICE:
  case IL_RESIZE:
  case IL_CONV_TRANSPOSE2D:
  case IL_REDUCEMEAN: return NULL;
  }
  return "the scalar runtime has no kernel for this kind of layer";
}

const Target target_scalar = {
    .name = "scalar",
    .family = "scalar",
    .description = "portable C99: the runtime's reference kernels",
    .cflags = "",
    .runtime_files = scalar_runtime,
    .emit_layer_data = emit_data,
    .emit_layer = emit_body,
    .cannot_emit = cannot_emit,
    .makefile_rules = scalar_makefile_rules,
};
