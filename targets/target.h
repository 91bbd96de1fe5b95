/* target.h — the interface every code-generation target fills in (as QBE's Target
 * struct does): targets/scalar, targets/neon, targets/avx2 each define one `Target`
 * with the same file names, and the target-independent writer (compiler/emit.c)
 * never says "if neon".
 *
 * The division of labour for one layer of the integer program:
 *   emit.c  writes the numbers: the layer's arrays (weights, biases, multipliers,
 *           shifts, tables, concat sizes) under the names in LayerCtx, the comment
 *           above the layer, the function's signature and braces, the run function,
 *           the goldens, the test and the Makefile.
 *   Target  writes what depends on the kernels it calls: the layer's static
 *           definitions (a `static const` params struct of the runtime, a repacked
 *           weight layout ...) and the statements of the layer's function body.
 * Both write into a StrBuf; whatever a target writes must be deterministic (no
 * pointers, no hash order) and compile warning-free under -std=c99 -pedantic. */
#ifndef SHIFTC_TARGET_H
#define SHIFTC_TARGET_H

#include "shiftc.h"

/* Everything a target needs to emit one layer. Strings are C identifiers or
 * expressions valid inside the layer's function. */
typedef struct LayerCtx {
  const IntProgram *p;
  const ILayer *l;
  int index;         /* 1-based position in the run order, as in the comments */
  const char *fn;    /* "layer3_c2": the layer's function, and the prefix of its arrays */
  /* The arrays emit.c wrote for this layer (NULL when the layer has none):
   *   weight  static const int8_t  [weight_bytes]   l->weight, the runtime's layout; or,
   *           when the target's packs_weights says so, the target writes the array
   *           under this name itself, in the layout its kernel reads
   *   bias    static const int32_t [nch]             l->bias
   *   mult    static const int32_t [nch]             l->mult (dyadic multipliers)
   *   shift   static const int8_t  [nch]             l->shift
   *   table   static const int8_t  [256]             l->lut (IL_LUT)
   *   inner   static const int32_t [nin]             l->cat_inner (IL_CONCAT)
   *   ln_g    static const int32_t [nch]             l->ln_g (IL_LAYERNORM)
   *   ln_b    static const int64_t [nch]             l->ln_b (IL_LAYERNORM)
   *   out_add static const int32_t [nch]             l->out_add (output-domain addends)
   *   bias_lshift static const int8_t [nch]          l->bias_lshift (bias words' left shifts)
   * Each is written only when the runtime's params use it (a concat's mult and
   * shift only when it rescales, p.cat.rq != NULL): a target must reference every
   * array named here, or the generated code warns about an unused static. */
  const char *weight, *bias, *mult, *shift, *table, *inner, *ln_g, *ln_b, *out_add, *bias_lshift;
  /* Input k of the layer inside its function: a parameter ("x", "a", "b", "x0" ...)
   * or, for a constant operand, the name of its quantized static array. */
  const char *in[MAX_OP_INPUTS];
  const char *out; /* the output parameter: "y" */
} LayerCtx;

struct Target {
  const char *name;   /* as on the command line: "scalar", "neon-dotprod" ... */
  const char *family; /* the emitter it shares: "scalar", "neon", "avx2" */
  const char *description;
  /* Added to CFLAGS by the generated Makefile ("" for scalar; "-mavx2 -mfma" ...). */
  const char *cflags;
  /* Files of the runtime folder the generated code needs, copied into OUTDIR: a
   * NULL-terminated list of fnmatch patterns ("sc_*.c"). shiftc_rt.h is always copied. */
  const char *const *runtime_files;
  /* Static definitions the layer needs, written after emit.c's arrays and before
   * the layer's function (may be NULL). */
  void (*emit_layer_data)(StrBuf *out, const LayerCtx *c);
  /* The statements of the layer's function body, indented by two spaces. */
  void (*emit_layer)(StrBuf *out, const LayerCtx *c);
  /* Optional (NULL: never). True when the target writes the layer's weights itself
   * (pre-packed, in emit_layer_data) under the name c->weight; emit.c then does not. */
  bool (*packs_weights)(const LayerCtx *c);
  /* Optional: why the target cannot compile this layer, or NULL when it can. A reason
   * stops the compile with a user error at the layer's node. */
  const char *(*cannot_emit)(const LayerCtx *c);
  /* Optional extra lines: #includes of <model>.c after shiftc_rt.h, and Makefile text
   * written before TARGET_CFLAGS (variables cflags may use). */
  const char *includes;
  const char *makefile_vars;
  /* Optional Makefile text appended after the native rules (more build flavours). */
  const char *makefile_rules;
};

/* targets.c: the target named `name`, or a user error that lists the targets
 * (and says which known ones are not available in this build yet). */
const Target *target_lookup(const char *name);
/* The same, reporting at `where` (the YAML's `target:` line) when where.file is set. */
const Target *target_lookup_at(const char *name, SrcLoc where);
/* The targets this build has, NULL-terminated (for --help and tests). */
extern const Target *const target_list[];

/* One Target per folder: targets/<family>/<family>.c; a sub-target is its family's
 * emitter with other flags and runtime files. */
extern const Target target_scalar;
extern const Target target_neon, target_neon_dotprod; /* targets/neon/neon.c */
extern const Target target_avx2;                      /* targets/avx2/avx2.c */

/* scalar.c, reused by the other targets (their fallback for layers without a SIMD
 * kernel is the scalar emitter itself): the C expression for a pointer into one of the
 * layer's arrays ("NULL", "name", "name + 3"), and an sc_requant initializer. */
char *target_ptr_expr(const void *ptr, const void *base, size_t elem, int64_t count, const char *name,
                      const LayerCtx *c, const char *what);
void target_put_requant(StrBuf *out, const LayerCtx *c, const sc_requant *rq, const char *indent);
/* emit.c: a static const int8_t array, 16 codes to a line, with an optional comment. */
void put_i8_array(StrBuf *sb, const char *comment, const char *name, const int8_t *v, int64_t n);

/* packed.c: what the SIMD families share — weights packed for the micro-kernel of
 * runtime/simd/sc_simd.h, and the layer emitters that call the packed and SIMD kernels
 * where a layer has one, the scalar target's emitter where it has not. */
bool packed_packs_weights(const LayerCtx *c);
void packed_emit_data(StrBuf *out, const LayerCtx *c);
void packed_emit_layer(StrBuf *out, const LayerCtx *c);
const char *packed_cannot_emit(const LayerCtx *c);
/* The packed layout of `groups` weight matrices of n rows by k codes (row major, one
 * after the other): *count bytes, allocated. */
int8_t *pack_weights(const int8_t *w, int groups, int n, int k, int64_t *count);

#endif
