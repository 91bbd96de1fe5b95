/* quantize_internal.h — what the quantizer's files share (quantize.c: scales, the
 * CNN/MLP layers and the driver; quantize_transformer.c: the integer Transformer
 * layers). Not part of the compiler's public header: only the quantizer uses it. */
#ifndef SHIFTC_QUANTIZE_INTERNAL_H
#define SHIFTC_QUANTIZE_INTERNAL_H

#include "shiftc.h"

typedef struct Q {
  IntProgram *p;
  Graph *g;
  CalibStats **stats;
  const Config *cfg;
  bool shift_mode;
  bool *done; /* per node: already part of a layer */
} Q;

static inline int qmax_of(int bits) { return (1 << (bits - 1)) - 1; }

/* The activation scale of value v: from @quant, or from its calibrated threshold. */
QParam *activation_q(Q *q, int v);
/* Output value v takes input value u's quantization (maxpool, transpose, slice, alias). */
QParam *same_q(Q *q, int v, int u);
/* Gives value v the fixed quantization (bits, 2^exp): an op whose output range is
 * known exactly (softmax probabilities), whatever calibration saw. */
QParam *fixed_q(Q *q, int v, int bits, int exp);
/* Gives value v the 8-bit per-tensor scale of the constant w[0..n) (chosen as a
 * weight's: max|w| / 127, in shift mode the power of two with the smaller MSE), or
 * its @quant scale, and writes w's codes at that scale into codes[0..n). */
QParam *table_q(Q *q, int v, const float *w, int64_t n, int8_t *codes);
/* A new layer producing value `out` for node `node` (marked done). */
ILayer *new_layer(Q *q, ILayerKind kind, int node, int out);
/* The only consumer of value v, if it has exactly one and v is not an output. */
int sole_consumer(const Graph *g, int v);
/* Per-channel requantization arrays: a shift (shift mode) or a dyadic multiplier
 * for in_scale[c] / out->scale. */
void set_requant(Q *q, ILayer *l, sc_requant *rq, int nch, const double *in_scale, const int *in_exp,
                 const QParam *out);
/* A per-tensor requantization by the real factor m that always uses a dyadic
 * multiplier, also in shift mode (a factor that is not a power of two: 1/k of an
 * average, the i-GELU output scale); the layer gets a note saying why. */
void set_requant_multiplier(Q *q, ILayer *l, sc_requant *rq, double m, const QParam *out, const char *why);
/* The requantization of a sum of k codes at qx's scale to its mean at qy's (average
 * pooling, reducemean): 1/k folds into the shift when k is a power of two, else (in
 * shift mode too) into a dyadic multiplier, with a note naming `what` ("average"). */
void set_requant_mean(Q *q, ILayer *l, sc_requant *rq, int64_t k, const QParam *qx, const QParam *qy,
                      const char *what);

/* The batched-matmul geometry of node n (rank >= 2 operands; a batch operand is
 * either the whole batch or broadcast whole: stride 0). */
typedef struct MatmulShape {
  int batch, m, k, n;
  int32_t a_batch_stride, b_batch_stride;
} MatmulShape;
MatmulShape matmul_shape(const Graph *g, const Node *n);

/* quantize_transformer.c */
/* i-GELU; false (nothing done) when the input scale is outside what its int32
 * constants can represent (2^-13..2^13): the caller uses the exact table instead. */
bool q_gelu(Q *q, int ni);
void q_softmax(Q *q, int ni);
/* matmul(a, b) [-> mul by a positive scalar] -> softmax over the last axis, as one
 * layer; returns false (nothing done) when node ni does not start that pattern. */
bool q_matmul_softmax(Q *q, int ni);
void q_layernorm(Q *q, int ni);
/* A mul by a positive one-element constant (a div by one is a mul by its reciprocal
 * after fold_div.c) whose output only an attention-scores matmul reads, which
 * q_matmul_softmax compiles with its softmax: the factor moves into the scores' scale
 * and no layer is emitted for it (returns true); false (nothing done) otherwise. */
bool q_scores_prescale(Q *q, int ni);
/* embedding(ids, table): the table's int8 codes at the output's scale, which the
 * table itself sets (not calibration); the ids are an i32 model input. */
void q_embedding(Q *q, int ni);

/* quantize_onnx_ops.c: the layers of ops ONNX exporters emit beyond the core set. */
/* slice: a strided copy at the input's scale. */
void q_slice(Q *q, int ni);
/* reducemean: an int32 sum over the axes, one requantization carrying 1/count. */
void q_reducemean(Q *q, int ni);

/* resize: nearest or bilinear at the input's scale (sc_resize_s8). */
void q_resize(Q *q, int ni);

/* quantize.c: the float function a unary op's table holds (relu ... clip), in double. */
double q_apply_unary(const Node *n, double x);

/* quantize_lut_chain.c: chains of elementwise ops that are a function of one tensor
 * (hardswish, swish, affine + activation as exporters decompose them). Returns, per
 * node, the index of its chain's last node (the sink), or -1 outside any chain; marks
 * the chain's other nodes done. q_lut_chain compiles the chain ending at sink_node as
 * one 256-entry table from the chain's input to the sink's output. */
int *lut_chains_find(Q *q);
void q_lut_chain(Q *q, int sink_node, const int *sink);

#endif
