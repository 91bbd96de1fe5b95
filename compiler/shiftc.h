/* shiftc.h — the one header of the compiler, sectioned by the file that owns each
 * part (as in chibicc). Read a section to know what its .c file offers.
 *
 * Conventions
 *   - User errors (bad model, config, data) go through error_at()/error_file():
 *     they print `file:line:col: error: ...`, the source line and a caret, remove
 *     any temporary output, and exit with status 1.
 *   - Internal errors (a bug in shiftc) go through internal_error(): exit 2.
 *   - Memory is taken with xmalloc() and friends and, in a one-shot compiler, mostly
 *     never freed; the sanitizer builds run with leak detection off for that reason.
 */
#ifndef SHIFTC_H
#define SHIFTC_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "shiftc_rt.h" /* runtime/: the integer math and kernels, shared with generated code */

#define SHIFTC_VERSION "0.1.0"

/* ------------------------------------------------------------------ util.c */

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xformat(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Whole file into a NUL-terminated buffer; NULL (errno set) when unreadable. */
char *read_whole_file(const char *path, size_t *len);
/* `path` taken relative to the folder holding `base_file` (absolute paths pass through). */
char *path_relative_to(const char *base_file, const char *path);
/* Any name as a C identifier: other characters become '_', a leading digit gets '_'. */
char *c_ident(const char *s);
/* Final component without its extension, made a C identifier ("3x-net.nn" -> "_3x_net"). */
char *path_stem_identifier(const char *path);
bool ends_with(const char *s, const char *suffix);
/* Writes to `path.tmp.<pid>` then renames, so a reader never sees half a file.
 * Returns false (errno set) on failure and removes the temporary. */
bool write_file_atomic(const char *path, const void *data, size_t len);
/* The shortest of %.15g, %.16g, %.17g that reads back as x ("null" when x is not
 * finite; -0 as 0): how the reports write every real, so that they agree digit for
 * digit. buf holds at least DOUBLE_EXACT_MAX bytes; returns buf. */
#define DOUBLE_EXACT_MAX 40
char *format_double_exact(double x, char *buf);

/* Threads for `jobs` independent jobs: SHIFTC_THREADS (1..64) if set and valid, else the
 * online CPUs capped at 2; never more than jobs, at least 1. */
int parallel_threads(int jobs);
/* Runs fn on workers[0 .. nthreads) (an array of `size`-byte items), one thread each,
 * and waits for all; worker 0 runs on the calling thread. */
void run_parallel(void *workers, size_t size, int nthreads, void *(*fn)(void *));

/* Growable string buffer, used by every writer of text. */
typedef struct StrBuf {
  char *data;
  size_t len, cap;
} StrBuf;
void sb_putc(StrBuf *sb, char c);
void sb_puts(StrBuf *sb, const char *s);
void sb_printf(StrBuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sb_free(StrBuf *sb);

/* ------------------------------------------------------------------ diag.c */

typedef struct SrcLoc {
  const char *file; /* NULL: no location known */
  int line;         /* 1-based; 0: the file as a whole */
  int col;          /* 1-based */
} SrcLoc;

static inline SrcLoc loc_make(const char *file, int line, int col) {
  SrcLoc l = {file, line, col};
  return l;
}
static inline SrcLoc loc_file(const char *file) { return loc_make(file, 0, 0); }

/* Remember a text file's contents so that diagnostics can quote its lines. */
void diag_add_source(const char *file, const char *text);
/* `file:line:col: error: msg`, the line, a caret; then exit(1). */
_Noreturn void error_at(SrcLoc loc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* `file: error: msg` for whole-file problems (binary files, missing files); exit(1). */
_Noreturn void error_file(const char *file, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* `shiftc: error: msg` for command-line mistakes; exit(1). */
_Noreturn void error_cli(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* `file:line:col: note: msg` with the line and caret; returns. */
void note_at(SrcLoc loc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void warning_at(SrcLoc loc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A bug in shiftc: `shiftc: internal error: msg`; exit(2). */
_Noreturn void internal_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Temporary files to remove if we die before renaming them. */
void diag_track_temp(const char *path);
void diag_untrack_temp(const char *path);

/* ---------------------------------------------------------------- tensor.c */

typedef enum DType {
  DT_F32,
  DT_F16,
  DT_BF16,
  DT_I8,
  DT_U8,
  DT_I16,
  DT_I32,
  DT_I64,
  DT_BOOL,
} DType;

#define MAX_RANK 8

typedef struct Shape {
  int rank;
  int64_t d[MAX_RANK];
} Shape;

const char *dtype_name(DType t);        /* "f32", "i8", ... as in the .nn language */
size_t dtype_size(DType t);             /* bytes per element */
bool dtype_is_int(DType t);
int64_t shape_numel(const Shape *s);
bool shape_eq(const Shape *a, const Shape *b);
Shape shape_make(int rank, const int64_t *d);
/* "[8,1,3,3]" into buf (at least 160 bytes); returns buf. */
char *shape_str(const Shape *s, char *buf);
#define SHAPE_STR_MAX 200
/* IEEE half / bfloat16 to float. */
float f16_to_f32(uint16_t h);
float bf16_to_f32(uint16_t h);

/* A tensor held in memory: always as float32 (`f`), and for integer dtypes also as
 * int64 (`i`), so that ids and labels survive exactly. */
typedef struct Tensor {
  char *name;
  DType dtype; /* the dtype it was stored with */
  Shape shape;
  float *f;
  int64_t *i; /* NULL unless dtype_is_int(dtype) */
} Tensor;

/* -------------------------------------------------------------- weights.c */

/* A set of named tensors from a .safetensors file or a folder of .npy files. */
typedef struct TensorFile {
  char *path;
  int n;
  Tensor *t;
} TensorFile;

/* Loads every tensor. `path` is a .safetensors file or a folder of NAME.npy files
 * (the tensor's name is the file name without .npy). Every problem is a user error
 * naming the file and the tensor: unknown dtype, shape/byte-length mismatch, data
 * offsets outside the file (truncation), bad header. */
TensorFile *tensorfile_load(const char *path);
const Tensor *tensorfile_find(const TensorFile *tf, const char *name);
/* One .npy file (f4, f8, f2, i1, u1, i2, i4, i8, b1; little-endian; C order). */
Tensor npy_load(const char *path);
/* Writes float32 or int8/int32 .npy atomically; false on I/O failure. */
bool npy_save_f32(const char *path, const Shape *shape, const float *data);
bool npy_save_i8(const char *path, const Shape *shape, const int8_t *data);
bool npy_save_i32(const char *path, const Shape *shape, const int32_t *data);
/* Writes n tensors as .safetensors atomically (F32, or I64 for tensors with .i);
 * false (errno set) on I/O failure. */
bool safetensors_save(const char *path, const Tensor *t, int n);
/* The parsers behind the loaders, for the fuzzer: NULL on success, else a message
 * (heap; the caller frees it) and *out left empty. */
const char *safetensors_parse_buffer(const char *name, const unsigned char *buf, size_t len, TensorFile *out);
const char *npy_parse_buffer(const char *name, const unsigned char *buf, size_t len, Tensor *out);
void tensor_free(Tensor *t);
void tensorfile_clear(TensorFile *tf);

/* --------------------------------------------------------------- config.c */

typedef enum { REQ_SHIFT, REQ_DYADIC } RequantMode;
typedef enum { CAL_MAX, CAL_PERCENTILE, CAL_MSE, CAL_ENTROPY } CalibMethod;
typedef enum { GRAN_PER_CHANNEL, GRAN_PER_TENSOR } Granularity;
typedef enum { IGELU_I_GELU, IGELU_TABLE } GeluImpl; /* i-gelu | table (exact, 256 entries) */
typedef enum { ISOFTMAX_I_EXP } SoftmaxImpl;
typedef enum { ILAYERNORM_I_SQRT, ILAYERNORM_L1 } LayerNormImpl;
/* The bias out-of-bounds handling (algorithms.md §4): `on` keeps gamma apart and adds
 * the overflowing bias in the output domain, enlarges the weight scale where a shift
 * stays out of range, clamps as a last resort; `enlarge` only enlarges (ONNX Runtime,
 * Glow), then clamps; `off` clamps (naive folding, to show the problem). */
typedef enum { BIASFIX_ON, BIASFIX_ENLARGE, BIASFIX_OFF } BiasFixMode;

/* Per-layer overrides (`layers:`): a value < 0 means "not set here". */
typedef struct LayerOverride {
  char *pattern; /* op name or glob (fnmatch) */
  SrcLoc loc;
  int weight_bits;
  int granularity; /* Granularity or -1 */
  int act_bits;
  int bias_bits;
} LayerOverride;

typedef struct Config {
  char *path; /* the YAML file, or NULL for defaults */
  char *target;
  SrcLoc target_loc;
  int weight_bits;          /* 2..8 */
  Granularity granularity;
  int act_bits;             /* 8 (16 allowed for internal accumulators only) */
  RequantMode requantize;
  int bias_bits;            /* 16 or 32 */
  CalibMethod calib_method;
  double percentile;        /* (0, 100] */
  char *calib_data;         /* resolved relative to the YAML file; NULL if absent */
  SrcLoc calib_data_loc;
  int calib_samples;        /* > 0 */
  GeluImpl gelu;
  SoftmaxImpl softmax;
  LayerNormImpl layernorm;
  BiasFixMode bias_fix;
  LayerOverride *layers;
  int nlayers;
  int golden;               /* >= 0 */
} Config;

void config_defaults(Config *c);
/* Parses and validates with libyaml; every unknown key, wrong type or out-of-range
 * value is a user error at the YAML line and column. */
void config_load(Config *c, const char *path);
const char *calib_method_name(CalibMethod m);
const char *requant_mode_name(RequantMode m);
const char *bias_fix_name(BiasFixMode m);
/* "on" / "enlarge" / "off" to the mode; false for another word. */
bool bias_fix_parse(const char *s, BiasFixMode *m);

/* ------------------------------------------------------------------- ir.c */

/* The op table (ops.def) declares every operator once; OpKind is its index. */
typedef enum OpKind {
#define OP(ENUM, ...) OP_##ENUM,
#include "ops.def"
#undef OP
  OP__COUNT
} OpKind;

typedef enum AttrType {
  ATTR_NONE,
  ATTR_INT,    /* one integer */
  ATTR_FLOAT,  /* one real */
  ATTR_INTS,   /* list of integers (a single integer is accepted as a list of one) */
  ATTR_ENUM,   /* an identifier from a fixed set (norm=l1) */
} AttrType;

#define MAX_ATTR_INTS 8
typedef struct AttrValue {
  bool set;
  AttrType type;
  int64_t i;
  double f;
  int nints;
  int64_t ints[MAX_ATTR_INTS];
  int e; /* index into the enum's choice list */
  SrcLoc loc;
} AttrValue;

#define MAX_OP_INPUTS 12
#define MAX_OP_ATTRS 8

typedef struct AttrDef {
  const char *name;
  AttrType type;
  const char *deflt;   /* default as source text ("1", "1e-5", "[1,1]", "l2"); NULL: required */
  const char *choices; /* ATTR_ENUM: "l2|l1" */
} AttrDef;

struct Graph;
struct Node;

/* Shape rule: sets the output value's shape/dtype from the inputs, or reports a
 * user error at the node's location. */
typedef void (*ShapeFn)(struct Graph *g, struct Node *n);
/* Float evaluation: buf[value id] is each value's float32 data (row major). */
typedef void (*EvalFloatFn)(const struct Graph *g, const struct Node *n, float *const *buf);

typedef struct OpDef {
  const char *name;
  /* Input slot names in order; "name?" optional, "name..." variadic (at least one). */
  const char *inputs[MAX_OP_INPUTS];
  AttrDef attrs[MAX_OP_ATTRS];
  ShapeFn shape;
  EvalFloatFn eval_float;
  const char *doc;
} OpDef;

extern const OpDef op_table[OP__COUNT];
/* OP__COUNT if there is no such op. */
OpKind op_lookup(const char *name);
/* Index of the attribute in the op's table entry, or -1. */
int op_attr_index(OpKind op, const char *name);

/* Quantization annotation from `@quant(scale=..., bits=...)`. */
typedef struct QuantAnnot {
  bool set;
  double scale;
  int bits;
  SrcLoc loc;
} QuantAnnot;

typedef struct Value {
  int id;
  char *name;      /* unique within the graph */
  Shape shape;
  DType dtype;     /* f32 for activations, i32 for token ids */
  SrcLoc loc;      /* where it was defined (or first used, for a weight) */
  int producer;    /* node index, or -1 for inputs and constants */
  bool is_input;
  bool is_const;
  float *data;     /* constants: float32 data */
  int64_t *idata;  /* constants of integer dtype */
  QuantAnnot quant;  /* @quant from the source */
  struct QParam *q;  /* set by quantize.c for every value the integer program touches */
  /* Weight scales a QDQ model gives (DequantizeLinear of int8 codes, onnx_import.c):
   * one per tensor (nwscale 1) or one per slice along wscale_axis; the quantizer
   * uses them instead of its own. NULL otherwise. */
  double *wscale;
  int nwscale, wscale_axis;
} Value;

typedef struct Node {
  OpKind op;
  char *name;      /* the statement's name, unique; used in reports and generated code */
  SrcLoc loc;
  int ninputs;
  int inputs[MAX_OP_INPUTS]; /* value ids; -1 for an absent optional input */
  int output;                /* value id */
  AttrValue attrs[MAX_OP_ATTRS]; /* parallel to op_table[op].attrs, defaults filled in */
  char *folded;    /* what passes merged into this node ("batchnorm b1"), for reports */
  struct FoldedBN *bn; /* fold_bn.c: the batchnorm folded in, kept per channel; or NULL */
} Node;

typedef struct Graph {
  char *name;
  char *source;    /* the model file */
  Value *values;
  int nvalues, cap_values;
  Node *nodes;
  int nnodes, cap_nodes;
  int *inputs, ninputs;
  int *outputs, noutputs;
  TensorFile *weights;
} Graph;

Graph *graph_new(const char *name, const char *source);
int graph_add_value(Graph *g, const char *name, SrcLoc loc);
int graph_add_const(Graph *g, const char *name, const Tensor *t, SrcLoc loc);
/* Adds a node (attributes not given keep their defaults) and its output value. */
int graph_add_node(Graph *g, OpKind op, const char *name, SrcLoc loc, const int *inputs,
                   int ninputs, const char *out_name);
/* The same, producing the existing value `out` (used when a pass replaces the
 * producer of a value that others already consume). */
int graph_add_node_into(Graph *g, OpKind op, const char *name, SrcLoc loc, const int *inputs,
                        int ninputs, int out);
int graph_find_value(const Graph *g, const char *name);
/* Sets attribute `name` of node `n` from text (used by lowering passes). */
void node_set_attr_int(Node *n, const char *name, int64_t v);
void node_set_attr_ints(Node *n, const char *name, int nints, const int64_t *v);
void node_set_attr_float(Node *n, const char *name, double v);
/* choice: the index into the attribute's enum choices (ops.def). */
void node_set_attr_enum(Node *n, const char *name, int choice);
/* The attribute value by name (internal error when the op has no such attribute). */
const AttrValue *node_attr(const Node *n, const char *name);
int64_t node_attr_int(const Node *n, const char *name);
double node_attr_float(const Node *n, const char *name);
/* Fills unset attributes from their defaults. */
void node_fill_defaults(Node *n);
/* Topological order check; reports a cycle at a node of it. */
void graph_check_acyclic(const Graph *g);
void graph_dump(const Graph *g, FILE *out);

/* ---------------------------------------------------------------- parse.c */

/* Parses a .nn file (grammar/), expands blocks, resolves names (values, then
 * weights), loads the weights file and builds the graph. Errors exit(1). */
Graph *parse_model_file(const char *path);

/* ---------------------------------------------------------------- shape.c */

/* Runs every op's shape rule in order. */
void infer_shapes(Graph *g);
/* Helpers for shape rules (report at the node on failure). */
bool broadcast_shapes(const Shape *a, const Shape *b, Shape *out);
int normalize_axis(int64_t axis, int rank); /* -1 if out of range */

/* ----------------------------------------------------------------- model.c */

typedef struct IntProgram IntProgram; /* quantize.c */
typedef struct Samples Samples;       /* dataset.c */

/* The front end as one call: parse, infer shapes, lower composites. */
Graph *load_model(const char *path);
/* The whole middle end: front end, batchnorm folding, calibration on the
 * configuration's data, quantization, legalization, memory planning. */
IntProgram *load_int_program(const char *path, const Config *cfg);
/* Samples of every model input from a tensor file (tensors named like the inputs). */
Samples *samples_from_file(const Graph *g, const char *path, SrcLoc where);

/* ---------------------------------------------------------------- lower.c */

/* Rewrites composite ops (attention) into primitive ones. */
void lower_composites(Graph *g);

/* ---------------------------------------------------------- interp_float.c */

/* Per-value float32 buffers for one sample. */
typedef struct FloatRun {
  const Graph *g;
  float **buf;
} FloatRun;

FloatRun *float_run_new(const Graph *g);
void float_run_free(FloatRun *r);
/* Copies one sample per graph input (inputs[i] for g->inputs[i]) and evaluates. */
void float_run(FloatRun *r, const float *const *inputs);

/* ------------------------------------------------------------- ops_float.c */

/* The float definitions of the ops, referenced by ops.def. */
#define OP(ENUM, name, ins, attrs, shapefn, evalfn, doc) \
  void shapefn(struct Graph *g, struct Node *n);         \
  void evalfn(const struct Graph *g, const struct Node *n, float *const *buf);
#include "ops.def"
#undef OP
/* The unary elementwise ops added for ONNX (erf ... clip), in double. */
double unary_apply(const struct Node *n, double x);
/* resize's enum attributes, in their ops.def order. */
enum { RESIZE_NEAREST, RESIZE_LINEAR };
enum { RESIZE_HALF_PIXEL, RESIZE_PYTORCH_HALF_PIXEL, RESIZE_ALIGN_CORNERS, RESIZE_ASYMMETRIC,
       RESIZE_TF_HALF_PIXEL_FOR_NEAREST };
enum { RESIZE_ROUND_PREFER_FLOOR, RESIZE_ROUND_PREFER_CEIL, RESIZE_FLOOR, RESIZE_CEIL };
/* Where output index o of a resize node reads along axis 0 (H) or 1 (W): input indices
 * i0 and i1 with weight 1 - w1 and w1 (nearest: i0 == i1, w1 0). The float op and the
 * integer kernel's compile-time tables both come from here. */
typedef struct ResizeTap {
  int64_t i0, i1;
  double w1;
} ResizeTap;
ResizeTap resize_tap(const struct Graph *g, const struct Node *n, int axis, int64_t o);
/* gelu's approximate attribute (its enum order in ops.def) and the tanh form itself. */
enum { GELU_NONE, GELU_TANH };
double gelu_tanh(double x);

/* -------------------------------------------------------------- gemm_f32.c */

/* c[i*crs + j] = sum_k a[i*ars + k*aks] * b[k*bks + j*bjs] (+ bias[j] after the sum), for
 * i < M, j < N, k < K: float accumulation from 0 in ascending k, no FMA (the bits of the
 * naive loop), register-blocked and vectorized. bias may be NULL. */
void gemm_f32(const float *a, int64_t ars, int64_t aks, const float *b, int64_t bks, int64_t bjs, const float *bias,
              float *c, int64_t crs, int64_t M, int64_t K, int64_t N);
/* One kernel variant: 0 = 4-float vectors (any host), 1 = AVX 8-float vectors (x86-64 with
 * AVX). Returns false, computing nothing, when the host lacks the variant (for tests). */
bool gemm_f32_variant(int variant, const float *a, int64_t ars, int64_t aks, const float *b, int64_t bks, int64_t bjs,
                      const float *bias, float *c, int64_t crs, int64_t M, int64_t K, int64_t N);

/* ------------------------------------------------------------- dataset.c */

/* N samples for one model input, from .npy or .safetensors, as described in
 * interfaces.md §1: the model's shape, or that shape with the batch axis = N. */
typedef struct Samples {
  int n;
  int64_t per_sample; /* elements in one sample */
  float *data;        /* n * per_sample */
  int64_t *labels;    /* optional */
} Samples;

/* `what` names the tensor for messages; shapes checked against the input value. */
Samples samples_from_tensor(const Tensor *t, const Value *input, const char *file);

/* ------------------------------------------------------------- calibrate.c */

#define CALIB_BINS 2048

/* What calibration saw of one activation: |x| max and a histogram of |x| over
 * [0, max] in CALIB_BINS bins, and the threshold (amax) each method picks. */
typedef struct CalibStats {
  double absmax;
  double bin_width; /* absmax / CALIB_BINS */
  double hist[CALIB_BINS];
  int64_t count;
  double amax[4]; /* indexed by CalibMethod */
} CalibStats;

/* Runs the float graph over n samples of its (single) input and returns one
 * CalibStats per value (NULL for constants and values never needing a range).
 * Shows progress on stderr when it is a terminal. */
CalibStats **calibrate(const Graph *g, const Samples *samples, int n, const Config *cfg);
/* The thresholds of every method from a filled histogram. */
void calib_thresholds(CalibStats *st, double percentile);

/* -------------------------------------------------------------- quantize.c */

/* A value's quantization: real = code * scale, codes in [-(2^(bits-1)-1), 2^(bits-1)-1].
 * bits == 32 (scale 1, exp 0) marks integer ids, not quantized: an i32 graph input
 * that only embedding nodes read keeps its exact ids as int32, 4 bytes each. */
#define QPARAM_ID_BITS 32
typedef struct QParam {
  int bits;
  double scale;
  int exp;         /* shift mode: scale == 2^exp exactly */
  double amax;     /* the calibrated threshold it came from */
  bool from_annot; /* @quant gave it */
} QParam;

typedef enum ILayerKind {
  IL_CONV2D,
  IL_LINEAR,
  IL_MAXPOOL2D,
  IL_AVGPOOL2D,
  IL_ADD,
  IL_SUB,
  IL_MUL,
  IL_LUT,
  IL_TRANSPOSE,
  IL_CONCAT,
  IL_MATMUL,
  IL_IGELU,          /* i-GELU polynomial (I-BERT), then a per-tensor requantization */
  IL_SOFTMAX,        /* i-exp softmax over the last axis of int8 codes */
  IL_MATMUL_SOFTMAX, /* attention scores: matmul, its scale, softmax over int32 rows */
  IL_LAYERNORM,      /* integer LayerNorm (Newton isqrt or L1), gamma/beta in its output stage */
  IL_EMBEDDING,      /* gather of int8 table rows (`weight`, the table at the output's scale) by int32 ids */
  IL_SLICE,          /* strided copy along one axis; the output keeps the input's scale */
  IL_REDUCEMEAN,     /* int32 sum over axes, one requantization carrying 1/count */
  IL_CONV_TRANSPOSE2D, /* transposed conv, output by output; conv2d's params and requantization */
  IL_RESIZE,         /* nearest (a gather) or bilinear (compile-time weights); the input's scale */
} ILayerKind;

/* What legalization did to a layer, for the report. */
typedef struct LegalNote {
  char *text;
} LegalNote;

/* One channel the bias out-of-bounds handling touched (algorithms.md §4), with the
 * cost of its fix measured at compile time. */
typedef struct BiasFix {
  int channel;
  double bias_codes;   /* what the folded bias needed in the accumulator, in codes */
  int shift;           /* the channel's naive shift */
  const char *fix;     /* "gamma apart + output addend", "output addend", "enlarge", "clamp" */
  int32_t out_add;     /* output-domain addend (output codes), 0 when none */
  int bias_lshift;     /* the bias word's left shift into the accumulator, 0 when none */
  double bias_err_lsb; /* |bias as applied - folded bias|, in output LSBs */
  double w_sqnr_db;    /* the channel's weight SQNR after the fix (vs the folded weights) */
  double w_sqnr_naive_db; /* ... and with naive folding */
} BiasFix;

/* One layer of the integer program: one call of a runtime kernel. Its params
 * struct points into the arrays owned here. */
typedef struct ILayer {
  ILayerKind kind;
  char *name;          /* C identifier: "c1", "layer3" ... unique */
  int node;            /* the float node it implements (for location and report) */
  char *fused;         /* what was folded in: "batchnorm bn1, relu r1", or NULL */
  int in[MAX_OP_INPUTS], nin;
  int out;             /* value ids */
  union {
    sc_conv2d_params conv;
    sc_linear_params lin;
    sc_pool2d_params pool;
    sc_eltwise_params elt;
    sc_transpose_params tr;
    sc_concat_params cat;
    sc_matmul_params mm;
    sc_igelu_params gelu;
    sc_softmax_params sm;
    sc_matmul_softmax_params mmsm;
    sc_layernorm_params ln;
    sc_slice_params slice;
    sc_reducemean_params red;
    sc_resize_params resize;
  } p;
  int32_t scratch_words; /* int32 scratch the kernel needs (softmax rows), 0 if none */
  int8_t lut[256];
  int32_t lut_n;
  /* Arrays the params point into. */
  int8_t *weight;       /* as the kernel reads it: int8 codes, or packed (weight_bits < 8); IL_EMBEDDING: the table */
  int64_t weight_count; /* codes */
  int64_t weight_bytes; /* length of `weight`: ceil(weight_count * weight_bits / 8) */
  int weight_bits;
  int bias_bits;
  int32_t *bias;
  int32_t *out_add;     /* [nch] output-domain addends (sc_requant.out_add), or NULL */
  int8_t *bias_lshift;  /* [nch] the bias words' left shifts (sc_requant.bias_lshift), or NULL */
  BiasFix *fixes;
  int nfixes;
  int nch;             /* output channels (per-channel arrays' length) */
  int32_t *mult;       /* dyadic only */
  int8_t *shift;
  int32_t *cat_inner;
  sc_requant *cat_rq;
  int32_t *ln_g;       /* IL_LAYERNORM: per-channel output multiplier (gamma) and */
  int64_t *ln_b;       /* addend (beta), both at 2^shift; nch of each */
  int32_t *rs_idx;     /* IL_RESIZE: the source rows and columns (sc_resize_params.idx) */
  int16_t *rs_w;       /* and the bilinear weights, or NULL for nearest */
  double *w_scale;     /* per channel (report) */
  int64_t macs;
  LegalNote *notes;
  int nnotes;
} ILayer;

typedef struct IntProgram {
  Graph *g;            /* the graph the program was made from (BN folded) */
  const Config *cfg;
  CalibStats **stats;  /* per value, from calibration (NULL where not calibrated) */
  int calib_samples;   /* how many samples calibration ran */
  Samples *calib;      /* the calibration data, per graph input (also the goldens' source) */
  ILayer *layers;
  int nlayers;
  int *storage;        /* per value: the value whose buffer it uses (flatten/reshape alias) */
  /* Memory plan (plan_memory.c): arena offsets of intermediate values. */
  int64_t *offset;     /* per value, -1 when not in the arena (inputs, outputs, constants) */
  int *live_first;     /* per arena value (its own storage): first and last layer touching it, */
  int *live_last;      /* -1 for values not in the arena */
  int64_t arena_bytes, sum_bytes, lower_bound;
  /* In-place ops (plan_memory.c): per arena value, the arena value whose bytes it takes
   * over at its first layer (that value's last), -1 if none; and the liveness lower bound
   * when each such pair counts once (<= lower_bound, the bound without in-place). */
  int *in_place_of;
  int64_t lower_bound_inplace;
} IntProgram;

/* What fold_bn.c folded into a conv2d/linear, per output channel, so that
 * quantization can keep gamma apart where the folded bias overflows (algorithms.md
 * §4): folded W' = W * k, b' = k * pre_bias + beta, k = gamma / sqrt(var + eps). */
typedef struct FoldedBN {
  int weight;        /* value id of the layer's own weights W (unfolded) */
  double *k;         /* [oc] gamma / sigma */
  double *pre_bias;  /* [oc] conv bias - running mean */
  double *beta;      /* [oc] */
} FoldedBN;

/* Folds batchnorm into the preceding conv2d/linear (float weights and bias). */
void fold_batchnorm(Graph *g);
/* fold_div.c: div by a constant (no zero in it) -> mul by its reciprocal, in the graph
 * the integer program is made from; division by an activation is left alone. */
void fold_const_div(Graph *g);
/* Builds the integer program: value scales from calibration (or @quant), weight
 * codes, biases, requantization; fuses ReLU/ReLU6 into the producing layer. */
IntProgram *quantize(Graph *g, CalibStats **stats, const Config *cfg);
void ilayer_add_note(ILayer *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* -------------------------------------------------------------- int_ops.c */

/* Constants of the integer Transformer kernels (shiftc_rt.h) from float scales,
 * algorithms.md §5/§6. */

/* i-GELU on int8 codes at scale s_in: fills b_int, c_int, one_int, out_rshift (rq is
 * the caller's) and returns the (positive) scale of sc_igelu_s32's int32 result, whose
 * magnitude stays below 2^30. Returns 0 when s_in is outside [2^-13, 2^13], where the
 * constants do not fit int32 (the caller falls back to a table: sc_lut_s8). */
double igelu_derive(double s_in, sc_igelu_params *p);
/* i-exp softmax: s_in is the scale of the int32 scores, or of int8 codes. Sets
 * in_lshift = softmax_score_lshift(s_in) and derives x0, b_int, c_int, poly_shift at
 * s_in / 2^in_lshift (<= 2^-8). sc_softmax_s8 applies in_lshift to its codes;
 * sc_softmax_row_s32 does not (its scores must already be at that scale), and
 * sc_matmul_softmax_s8 applies its own score_lshift (= softmax_score_lshift(s_in)).
 * Internal error for s_in outside [2^-26, 2^22]. */
void softmax_derive(double s_in, sc_softmax_params *p);
/* The smallest k >= 0 with s / 2^k <= 2^-8. */
int softmax_score_lshift(double s);
/* LayerNorm output stage of sc_layernorm_s8: g[n], b[n], *shift such that
 * rshift_round64(yn * g[c] + b[c], shift) ~ (yn * s_yn * gamma[c] + beta[c]) / s_out
 * (gamma/beta may be NULL: 1 and 0). dyadic (shift_mode 0): max|g| in [2^15, 2^16);
 * shift_mode: g are 8-bit codes of s_yn*gamma/s_out at the power-of-two scale 2^-shift
 * (of the two around max/127, the one with the smaller MSE), so the stage is a
 * multiply by a gamma code and a shift. shift in [0, 52]; b is clamped where the
 * output saturates anyway, so |yn*g| + |b| + 2^(shift-1) < 2^63. */
void layernorm_derive(int n, int l1, const float *gamma, const float *beta, double s_out, int shift_mode,
                      int32_t *g, int64_t *b, int *shift);

/* ------------------------------------------------------------- legalize.c */

/* Checks every shift range and proves from bit widths that no int32 accumulator
 * (rounding term included) can overflow, splitting reductions where it could. */
void legalize(IntProgram *p);

/* ---------------------------------------------------------- plan_memory.c */

void plan_memory(IntProgram *p);

/* ------------------------------------------------------------- interp_int.c */

/* Runs the integer program on int8 input codes (one per graph input), writing
 * every value's codes into bufs[value id] (allocated by int_run_new). */
typedef struct IntRun {
  const IntProgram *p;
  int8_t **buf;
  int32_t *scratch; /* the largest ILayer.scratch_words */
} IntRun;
IntRun *int_run_new(const IntProgram *p);
void int_run_free(IntRun *r);
void int_run(IntRun *r, const int8_t *const *inputs);
/* Runs layer k alone on the codes already in r->buf (int_run is this over every layer). */
void int_run_layer(IntRun *r, int k);
/* Quantizes one float input sample to codes with the value's scale; for integer ids
 * (q->bits == QPARAM_ID_BITS) writes n int32 ids (sc_id_from_f32) into out's 4n bytes. */
void quantize_values(const QParam *q, const float *x, int8_t *out, int64_t n);
/* Bytes of a value's codes: one per element, four for integer ids (int32). */
int64_t value_code_bytes(const Value *v);

/* --------------------------------------------------------- int_linear_fast.c */

/* sc_linear_s8's exact result, blocked and vectorized for the interpreter (SSE2 hosts,
 * 8-bit weights); returns false, writing nothing, where it does not apply. */
bool int_linear_fast(const sc_linear_params *p, const int8_t *x, int8_t *y);

/* --------------------------------------------------------------- measure.c */

typedef struct Measurement {
  int samples;
  int nlayers;
  double *sqnr_db;    /* per layer of the program; NAN where the float graph has no such value */
  int float_correct;  /* top-1 against labels (when given) */
  int int_correct;
  int agree;          /* integer and float top-1 equal */
} Measurement;

/* Runs the float graph `fg` (as written, batchnorm unfolded) and the integer
 * program side by side over n samples. labels may be NULL. */
Measurement measure(const IntProgram *p, const Graph *fg, const Samples *s, int n, const int64_t *labels);
/* Index of the largest element (the first among equals): top-1 of float / int8 outputs. */
int argmax_f(const float *x, int64_t n);
int argmax_q(const int8_t *x, int64_t n);
/* Float top-1 alone: how many of n samples the float graph classifies as labelled. */
int float_top1(const Graph *fg, const Samples *s, int n, const int64_t *labels);

/* ---------------------------------------------------------------- report.c */

/* Writes OUTDIR/<model>.report.md, .report.json and .report.html atomically, with
 * the same numbers: per layer op, shapes, bits, scales, shifts, clamps, legalization
 * notes, MACs, bytes and SQNR (from m); calibration thresholds and histograms; the
 * memory plan; totals. Byte-identical across runs. A write failure is a user error. */
void write_report(const IntProgram *p, const Measurement *m, const char *outdir);
/* The .report.json text (schema shiftc-report/1) that write_report writes; heap. */
char *report_json(const IntProgram *p, const Measurement *m);
/* The runtime kernel family a layer runs ("linear", "matmul+i-softmax" ...): reports and
 * the generated code's per-layer profile table. */
const char *il_kernel_name(const ILayer *l);

/* ----------------------------------------------------------- sensitivity.c */

/* Each layer's accuracy cost, measured by mixed execution on the BN-folded graph
 * the program was made from: top-1 with only layer k in integer (the rest float:
 * its float inputs quantized with their QParams, the runtime kernel run, its
 * output dequantized) and with only layer k in float (the rest integer). */
typedef struct Sensitivity {
  int nlayers, samples;
  int float_correct, int_correct; /* all float (folded graph), all integer */
  int *int_only;                  /* per layer: correct with only this layer in integer */
  int *float_only;                /* per layer: correct with only this layer in float; -1: not measurable */
  int *rank;                      /* layer indices, largest cost first (then gain, then index) */
} Sensitivity;
Sensitivity *measure_sensitivity(const IntProgram *p, const Samples *s, int n, const int64_t *labels);

/* ----------------------------------------------------------- report_html.c */

/* What `shiftc eval` adds to the page. */
typedef struct EvalResult {
  const char *data; /* the labelled test set */
  int samples, float_correct, int_correct, agree;
  const Sensitivity *sens; /* NULL without --per-layer */
} EvalResult;
/* The HTML page (one self-contained file) drawn from a .report.json text, plus the
 * accuracy and sensitivity of `ev` when given (NULL for compile). Heap; deterministic. */
char *report_html(const char *json, const EvalResult *ev);

/* ------------------------------------------------------------------ html.c */

/* HTML and inline SVG into a StrBuf, for the report page: no script, no fonts,
 * nothing fetched; deterministic. */

/* Text escaped for both element content and attribute values (& < > " '). */
void html_text(StrBuf *sb, const char *s);
/* <!DOCTYPE html>, <head> with the title and the inline stylesheet, <body>. */
void html_page_begin(StrBuf *sb, const char *title);
void html_page_end(StrBuf *sb);
/* A number shown rounded with visible_fmt (a printf format for one double; NaN and
 * infinities as n/a, inf, -inf) and carried exactly for machines:
 * <span class="num" data-j="KEY" data-v="EXACT">, EXACT as format_double_exact. */
void html_num(StrBuf *sb, double v, const char *visible_fmt, const char *key_fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* <table id=..><thead> of n headers (a leading '>' right-aligns a column) <tbody>. */
void html_table_begin(StrBuf *sb, const char *id, const char *const *headers, int n);
void html_table_end(StrBuf *sb);

/* Horizontal bars, one per row, lengths proportional to |value| (NaN: no bar, +inf:
 * the longest; negative values grey); `text` is printed after the bar; marked bars
 * are drawn red, bold. */
typedef struct SvgBar {
  const char *label, *text;
  double value;
  bool mark;
} SvgBar;
void svg_bar_chart(StrBuf *sb, const char *title, const SvgBar *bars, int n);

/* Histogram of counts over [0, nbins * bin_width], heights log10(1 + count), with a
 * labelled vertical line per marker at its x (a marked one red and thick). */
typedef struct SvgMarker {
  const char *label;
  double x;
  bool mark, dashed;
} SvgMarker;
void svg_histogram(StrBuf *sb, const char *title, const double *counts, int nbins, double bin_width,
                   const SvgMarker *markers, int nm);

/* Rectangles in data coordinates (x in [0, xmax] to the right, y in [0, ymax]
 * downward, like addresses) and labelled horizontal lines (a marked one solid red). */
typedef struct SvgRect {
  const char *label;
  double x0, x1, y0, y1;
} SvgRect;
typedef struct SvgLine {
  const char *label;
  double y;
  bool mark;
} SvgLine;
void svg_rect_chart(StrBuf *sb, const char *title, const char *xlabel, const char *ylabel, const SvgRect *rects,
                    int n, double xmax, double ymax, const SvgLine *lines, int nl);

/* ------------------------------------------------------------------ emit.c */

typedef struct Target Target; /* targets/target.h: a code-generation target */

/* Writes the generated C into outdir (created like mkdir -p): <model>.h, <model>.c,
 * <model>_golden.c, <model>_test.c, Makefile and the runtime files the target needs
 * (found next to the executable or in $SHIFTC_RUNTIME_DIR). Each file is written
 * atomically and is byte-identical for the same inputs. <model> is g->name made a C
 * identifier. The goldens are the first golden_n samples of golden_src (one Samples
 * per graph input, in g->inputs order; may be NULL when golden_n is 0), quantized and
 * run through int_run. Failures to write are user errors. */
void emit_c(const IntProgram *p, const Target *t, const char *outdir, const Samples *golden_src, int golden_n);
/* A float as a C literal that reads back as the same float ("0.5f", "1e-05f"; heap). */
char *float_literal(float f);

/* ------------------------------------------------------------ emit_float.c */

/* compile --float-c: the float graph `g` (batchnorm folded) as plain C99 in OUTDIR
 * (<model>_float.{h,c}, _float_golden.c, _float_test.c); golden outputs are the float
 * interpreter's on `ref` (the unfolded graph) for the first n samples of `golden`. */
void emit_float_c(const Graph *g, const Graph *ref, const Samples *golden, int n, const char *outdir);
/* emit_float_kernels.c: the kernels' C text, by name ("linear", ...; the first is the
 * #includes), NULL-terminated. */
typedef struct FloatKernel {
  const char *name;
  const char *text;
} FloatKernel;
extern const FloatKernel float_kernels[];

/* ---------------------------------------------------------------- verify.c */

/* `shiftc verify OUTDIR`: `make -C OUTDIR`, then OUTDIR/<model>_test (the model named
 * by the folder's one *_test.c), echoing both. Returns 0 when every golden is
 * bit-exact, 1 otherwise; a missing folder or one shiftc did not write is a user error. */
int verify_outdir(const char *outdir);
/* `shiftc verify --board mps2-an386 OUTDIR`: the folder's bare-metal build (`make
 * test-cortex-m4`: its goldens under qemu-system-arm) and its flash/RAM bytes (`make
 * size-cortex-m4`), which replace the report's "Bare metal" section. 0 when all pass. */
int verify_board(const char *outdir, const char *board);
/* The model named by OUTDIR's one <model>_test.c (heap); a user error otherwise. */
char *verify_model_of(const char *outdir);
/* Runs argv (PATH searched) with its stdout captured into *out, stderr passing through;
 * the exit status, or 128 + the signal, or 127 when it could not start. */
int verify_run_captured(char *const argv[], StrBuf *out);

/* ---------------------------------------------------------- verify_profile.c */

/* `shiftc verify OUTDIR --profile [--ms N]`: `make profile` in OUTDIR (the test built with
 * -DSC_PROFILE), which checks the goldens and then times each layer for ms milliseconds;
 * the per-layer and per-kernel table (ms per inference, share, GOPS) is printed and put
 * into the folder's reports (.report.md section "Profile", .report.json "profile", the
 * .report.html redrawn). 0 when the goldens pass and the profile was written. */
int verify_profile(const char *outdir, double ms);

/* ------------------------------------------------------------ onnx_read.c */

struct Onnx__ModelProto;
struct Onnx__TensorProto;

/* An ONNX model as protobuf (build/gen/onnx.pb-c.h, from ONNX's onnx.proto). */
typedef struct OnnxFile {
  char *path;
  struct Onnx__ModelProto *model;
  int64_t opset; /* of the default domain, 11..17 */
} OnnxFile;

/* True when the bytes start like a protobuf ModelProto (a .nn file never does). */
bool onnx_sniff(const unsigned char *buf, size_t len);
/* By extension (.onnx) or content. */
bool onnx_file_sniff(const char *path);
/* The non-exiting core (fuzzed): NULL on success, else a message (heap). Checks the
 * graph is present and the opset is in range. */
const char *onnx_parse_buffer(const unsigned char *buf, size_t len, OnnxFile *out);
void onnx_file_free(OnnxFile *f);
/* onnx_parse_buffer on a file; problems are user errors naming it. */
OnnxFile *onnx_load(const char *path);
/* A TensorProto as a Tensor (external data read relative to model_path; refused
 * when model_path is NULL). NULL on success, else a message. */
const char *onnx_tensor_read(const struct Onnx__TensorProto *t, const char *model_path, Tensor *out);
const char *onnx_dtype_name(int code);

/* ---------------------------------------------------------- onnx_import.c */

/* --shape NAME=[...]: the shape of an ONNX input with dynamic dimensions. */
void onnx_pin_shape(const char *name, const Shape *s);
/* ONNX -> Graph of core ops with shapes, patterns rewritten (onnx_patterns.c). */
Graph *onnx_import(const char *path);
Graph *onnx_import_file(const OnnxFile *f, const char *path);
/* Whether the importer maps (or folds) this ONNX op type. */
bool onnx_op_supported(const char *op_type);

/* --------------------------------------------------------------- nn_write.c */

/* `shiftc import`: OUTDIR/<model>.nn and OUTDIR/<model>.safetensors (the folder
 * must exist); write failures are user errors. */
void write_nn_model(const Graph *g, const char *outdir);

/* -------------------------------------------------------------- nn_blocks.c */

/* A subgraph repeated with different weights: `count` consecutive windows of `len`
 * nodes from node `start`, each handing the value of its node `ret` (an offset in the
 * window) to the rest of the graph. */
typedef struct NnRepeat {
  int start, len, count, ret;
} NnRepeat;
/* The repeats of g, longest first, disjoint; *out is malloc'd (NULL if none). */
int nn_find_repeats(const Graph *g, NnRepeat **out);

/* -------------------------------------------------------- onnx_patterns.c */

/* Rewrites exporters' idioms into core ops (MatMul + Add -> linear with bias, the
 * LayerNorm and erf-GELU decompositions), then drops dead nodes and values. */
void onnx_rewrite_patterns(Graph *g);

#endif
