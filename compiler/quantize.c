/* quantize.c — from a float graph (batchnorm folded) and calibration to the integer
 * program: one scale per activation (power of two in shift mode), per-channel
 * weight codes, int32 biases, and the requantization of every layer
 * (algorithms.md §1 and §3). ReLU and ReLU6 fuse into the layer that feeds them;
 * flatten and reshape become aliases; maxpool and transpose keep their input's
 * scale; any other elementwise function of one tensor becomes a 256-entry table. */
#include "quantize_internal.h"

#include <fnmatch.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>


/* ---------------------------------------------------------------- scales */

/* Mean squared error of symmetric fake quantization with `scale` over a histogram
 * of |x| (bin centers stand for their bins). */
static double hist_quant_mse(const CalibStats *st, double scale, int qmax) {
  double err = 0, total = 0;
  for (int i = 0; i < CALIB_BINS; i++) {
    double c = st->hist[i];
    if (c == 0) continue;
    double x = (i + 0.5) * st->bin_width;
    double q = floor(x / scale + 0.5);
    if (q > qmax) q = qmax;
    double d = x - q * scale;
    err += c * d * d;
    total += c;
  }
  return total > 0 ? err / total : 0;
}

/* Mean squared error of quantizing the weights w[0..n) with `scale`. */
static double weights_quant_mse(const float *w, int64_t n, double scale, int qmax) {
  double err = 0;
  for (int64_t i = 0; i < n; i++) {
    double q = floor(w[i] / scale + 0.5);
    if (q > qmax) q = qmax;
    if (q < -qmax) q = -qmax;
    double d = w[i] - q * scale;
    err += d * d;
  }
  return err;
}

/* Of the two powers of two around `ideal`, the one with the smaller error
 * (algorithms.md §1: the smaller quantization MSE, not the nearest log2). */
static int pow2_exponent(double ideal, double (*mse)(const void *ctx, double scale), const void *ctx) {
  int lo = (int)floor(log2(ideal));
  double e_lo = mse(ctx, ldexp(1.0, lo)), e_hi = mse(ctx, ldexp(1.0, lo + 1));
  return e_lo <= e_hi ? lo : lo + 1;
}

typedef struct HistCtx {
  const CalibStats *st;
  int qmax;
} HistCtx;
static double hist_mse_cb(const void *ctx, double scale) {
  const HistCtx *h = ctx;
  return h->st ? hist_quant_mse(h->st, scale, h->qmax) : 0;
}

typedef struct WCtx {
  const float *w;
  int64_t n;
  int qmax;
} WCtx;
static double w_mse_cb(const void *ctx, double scale) {
  const WCtx *c = ctx;
  return weights_quant_mse(c->w, c->n, scale, c->qmax);
}

static QParam *new_qparam(void) { return xcalloc(1, sizeof(QParam)); }

QParam *activation_q(Q *q, int v) {
  Value *val = &q->g->values[v];
  if (val->q) return val->q;
  QParam *qp = new_qparam();
  qp->bits = 8;
  int qmax = qmax_of(qp->bits);
  if (val->quant.set) {
    qp->scale = val->quant.scale;
    qp->bits = val->quant.bits;
    qp->from_annot = true;
    qp->amax = qp->scale * qmax_of(qp->bits);
    double e = log2(qp->scale);
    qp->exp = (int)lround(e);
    if (q->shift_mode && fabs(e - qp->exp) > 1e-9)
      error_at(val->quant.loc, "@quant scale %g is not a power of two, as 'requantize: shift' needs "
               "(use requantize: dyadic, or a scale of 2^-n)", qp->scale);
    val->q = qp;
    return qp;
  }
  const CalibStats *st = q->stats ? q->stats[v] : NULL;
  double amax = st ? st->amax[q->cfg->calib_method] : 0;
  if (!(amax > 0)) amax = st && st->absmax > 0 ? st->absmax : 1.0; /* a dead activation: any scale */
  qp->amax = amax;
  if (q->shift_mode) {
    HistCtx h = {st && st->absmax > 0 ? st : NULL, qmax};
    qp->exp = pow2_exponent(amax / qmax, hist_mse_cb, &h);
    qp->scale = ldexp(1.0, qp->exp);
  } else {
    qp->scale = amax / qmax;
    qp->exp = (int)floor(log2(qp->scale));
  }
  val->q = qp;
  return qp;
}

QParam *same_q(Q *q, int v, int u) {
  QParam *qu = activation_q(q, u);
  q->g->values[v].q = qu;
  return qu;
}

QParam *fixed_q(Q *q, int v, int bits, int exp) {
  Value *val = &q->g->values[v];
  if (val->q) internal_error("value '%s' was quantized before its fixed range was set", val->name);
  QParam *qp = new_qparam();
  qp->bits = bits;
  qp->exp = exp;
  qp->scale = ldexp(1.0, exp);
  qp->amax = qp->scale * qmax_of(bits);
  val->q = qp;
  return qp;
}

/* M = M0 * 2^-31 * 2^-n with M0 in [2^30, 2^31): rdmulh(x, M0) >> n == x * M. */
static void dyadic(double m, int32_t *m0, int *n) {
  if (!(m > 0)) {
    *m0 = 0;
    *n = 0;
    return;
  }
  int e;
  double f = frexp(m, &e); /* m = f * 2^e, f in [0.5, 1) */
  int64_t q = llround(f * 2147483648.0);
  if (q == ((int64_t)1 << 31)) {
    q /= 2;
    e++;
  }
  *m0 = (int32_t)q;
  *n = -e;
}

/* ---------------------------------------------------------------- layers */

ILayer *new_layer(Q *q, ILayerKind kind, int node, int out) {
  IntProgram *p = q->p;
  p->layers = xrealloc(p->layers, sizeof(ILayer) * (size_t)(p->nlayers + 1));
  ILayer *l = &p->layers[p->nlayers++];
  memset(l, 0, sizeof *l);
  l->kind = kind;
  l->node = node;
  l->out = out;
  l->name = c_ident(q->g->values[out].name); /* "y1.a.q" -> "y1_a_q" */
  q->done[node] = true;
  return l;
}

void ilayer_add_note(ILayer *l, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char buf[512];
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  l->notes = xrealloc(l->notes, sizeof(LegalNote) * (size_t)(l->nnotes + 1));
  l->notes[l->nnotes++].text = xstrdup(buf);
}

int sole_consumer(const Graph *g, int v) {
  int found = -1;
  for (int k = 0; k < g->noutputs; k++)
    if (g->outputs[k] == v) return -1;
  for (int i = 0; i < g->nnodes; i++)
    for (int k = 0; k < g->nodes[i].ninputs; k++)
      if (g->nodes[i].inputs[k] == v) {
        if (found >= 0 && found != i) return -1;
        found = i;
      }
  return found;
}

/* Shift mode: n = e_x + e_w - e_y per channel; dyadic: M = s_x * s_w / s_y. */
void set_requant(Q *q, ILayer *l, sc_requant *rq, int nch, const double *in_scale, const int *in_exp,
                 const QParam *out) {
  l->nch = nch;
  l->shift = xcalloc((size_t)nch, 1);
  if (!q->shift_mode) l->mult = xcalloc((size_t)nch, sizeof(int32_t));
  for (int c = 0; c < nch; c++) {
    int n;
    if (q->shift_mode) {
      n = out->exp - in_exp[c];
    } else {
      dyadic(in_scale[c] / out->scale, &l->mult[c], &n);
    }
    if (n > 31 || n < -31) {
      ilayer_add_note(l, "channel %d: shift %d is out of [-31, 31]; clamped (the channel's weights are "
                      "negligible at this output scale)", c, n);
      n = n > 31 ? 31 : -31;
    }
    l->shift[c] = (int8_t)n;
  }
  rq->mult = l->mult;
  rq->shift = l->shift;
  rq->per_channel = nch > 1;
  rq->lo = -qmax_of(out->bits);
  rq->hi = qmax_of(out->bits);
}

void set_requant_multiplier(Q *q, ILayer *l, sc_requant *rq, double m, const QParam *out, const char *why) {
  (void)q;
  l->nch = 1;
  l->shift = xcalloc(1, 1);
  l->mult = xcalloc(1, sizeof(int32_t));
  int n;
  dyadic(m, &l->mult[0], &n);
  if (n > 31 || n < -31) {
    ilayer_add_note(l, "shift %d is out of [-31, 31]; clamped", n);
    n = n > 31 ? 31 : -31;
  }
  l->shift[0] = (int8_t)n;
  rq->mult = l->mult;
  rq->shift = l->shift;
  rq->per_channel = 0;
  rq->lo = -qmax_of(out->bits);
  rq->hi = qmax_of(out->bits);
  if (why) ilayer_add_note(l, "%s", why);
}

void set_requant_mean(Q *q, ILayer *l, sc_requant *rq, int64_t k, const QParam *qx, const QParam *qy,
                      const char *what) {
  /* The sum is at scale s_x; dividing by k: a shift when k is a power of two in shift
   * mode, otherwise a dyadic multiplier (1/k has no power-of-two form). */
  bool pow2 = k > 0 && (k & (k - 1)) == 0;
  int log2k = 0;
  while (pow2 && ((int64_t)1 << log2k) < k) log2k++;
  double s = qx->scale / (double)k;
  int e = qx->exp - log2k;
  if (q->shift_mode && !pow2) {
    char *why = xformat("%s over %lld: a multiplier (1/%lld is not a power of two)", what, (long long)k, (long long)k);
    set_requant_multiplier(q, l, rq, s / qy->scale, qy, why);
    free(why);
  } else {
    set_requant(q, l, rq, 1, &s, &e, qy);
  }
}

/* If the layer's output feeds a lone relu/relu6, the layer takes the activation's
 * output value and clamps there. Returns the value the layer produces. */
static int fuse_activation(Q *q, int node, char **fused) {
  Graph *g = q->g;
  int out = g->nodes[node].output;
  int c = sole_consumer(g, out);
  if (c < 0 || q->done[c] || (g->nodes[c].op != OP_RELU && g->nodes[c].op != OP_RELU6)) return out;
  q->done[c] = true;
  *fused = xformat("%s%s%s %s", *fused ? *fused : "", *fused ? ", " : "", op_table[g->nodes[c].op].name,
                   g->nodes[c].name);
  return g->nodes[c].output;
}

static void clamp_for_activation(Q *q, const ILayer *l, sc_requant *rq, const QParam *out) {
  const Graph *g = q->g;
  int prod = g->values[l->out].producer;
  OpKind op = prod >= 0 ? g->nodes[prod].op : OP__COUNT;
  if (op == OP_RELU || op == OP_RELU6) rq->lo = 0;
  if (op == OP_RELU6) {
    double six = floor(6.0 / out->scale + 0.5);
    if (six < rq->hi) rq->hi = (int32_t)six;
  }
}

/* The weight scale of one channel (or the tensor) w[0..n): max|w| / qmax at 8 bits
 * (in shift mode the power of two with the smaller MSE, algorithms.md §1); below 8
 * bits the MSE-optimal clip: dyadic mode searches 70 candidate clips 100%..31% of
 * max|w|, shift mode the powers of two from 2^(floor(log2(max/qmax)) + 1) down four
 * steps. Ties keep the larger scale. *e is the exponent (shift mode: s == 2^e). */
static double weight_scale(const Q *q, const float *w, int64_t n, int bits, int *e) {
  int qmax = qmax_of(bits);
  double amax = 0;
  for (int64_t i = 0; i < n; i++) amax = fmax(amax, fabs(w[i]));
  if (!(amax > 0)) amax = 1e-8; /* an all-zero channel */
  WCtx ctx = {w, n, qmax};
  if (q->shift_mode) {
    if (bits >= 8) {
      *e = pow2_exponent(amax / qmax, w_mse_cb, &ctx);
    } else {
      int hi = (int)floor(log2(amax / qmax)) + 1;
      double best = INFINITY;
      for (int k = hi; k >= hi - 4; k--) {
        double m = weights_quant_mse(w, n, ldexp(1.0, k), qmax);
        if (m < best) best = m, *e = k;
      }
    }
    return ldexp(1.0, *e);
  }
  double s = amax / qmax;
  if (bits < 8) {
    double best = INFINITY;
    for (int i = 0; i < 70; i++) {
      double cand = amax * (1.0 - i / 100.0) / qmax, m = weights_quant_mse(w, n, cand, qmax);
      if (m < best) best = m, s = cand;
    }
  }
  *e = (int)floor(log2(s));
  return s;
}

/* The rescale shift of a channel whose accumulator has scale `acc` (exponent acc_e
 * in shift mode) into output qy: the n of set_requant. */
static int channel_shift(const Q *q, double acc, int acc_e, const QParam *qy) {
  if (q->shift_mode) return qy->exp - acc_e;
  return -(int)floor(log2(acc / qy->scale)) - 1;
}

/* Codes of w[0..n) * sign at scale s into out; their SQNR (dB) against ref[0..n) when
 * each code stands for code * s_eff. */
static void weight_codes(const float *w, int64_t n, double sign, double s, int qmax, int8_t *out) {
  for (int64_t j = 0; j < n; j++) {
    double v = floor(sign * w[j] / s + 0.5);
    out[j] = (int8_t)(v > qmax ? qmax : v < -qmax ? -qmax : v);
  }
}
QParam *table_q(Q *q, int v, const float *w, int64_t n, int8_t *codes) {
  Value *val = &q->g->values[v];
  QParam *qp;
  if (val->quant.set) {
    qp = activation_q(q, v); /* @quant on the output wins; the table is coded at that scale */
  } else {
    if (val->q) internal_error("value '%s' was quantized before its table scale was set", val->name);
    qp = new_qparam();
    qp->bits = 8;
    qp->scale = weight_scale(q, w, n, 8, &qp->exp);
    for (int64_t i = 0; i < n; i++) qp->amax = fmax(qp->amax, fabs(w[i]));
    val->q = qp;
  }
  weight_codes(w, n, 1, qp->scale, qmax_of(qp->bits), codes);
  return qp;
}

static double codes_sqnr_db(const float *ref, const int8_t *codes, int64_t n, double s_eff) {
  double sig = 0, err = 0;
  for (int64_t j = 0; j < n; j++) {
    double d = ref[j] - codes[j] * s_eff;
    sig += (double)ref[j] * ref[j];
    err += d * d;
  }
  return err > 0 ? 10 * log10(sig / err) : sig > 0 ? INFINITY : 0;
}

static void add_fix(ILayer *l, const BiasFix *f) {
  l->fixes = xrealloc(l->fixes, sizeof(BiasFix) * (size_t)(l->nfixes + 1));
  l->fixes[l->nfixes++] = *f;
}

/* Weight codes per output channel (or one scale for the tensor), bias in the
 * accumulator's scale, and the requantization. Shared by conv2d and linear.
 * A channel whose bias needs more than bias_bits, or whose shift leaves [-31, 31],
 * is handled as cfg->bias_fix says (algorithms.md §4), and recorded in l->fixes. */
/* The weight scales a QDQ model gave weight value wv (Value.wscale), checked against
 * the layer: NULL when there are none. They are the model's, so they are kept
 * exactly: 8-bit codes, one scale per output channel or per tensor, a power of two in
 * shift mode, and weights not changed by a folded batchnorm. */
static const double *given_weight_scales(const Q *q, const Node *n, const Value *wv, int64_t oc, int bits) {
  if (!wv || !wv->wscale) return NULL;
  if (wv->nwscale > 1 && (wv->wscale_axis != 0 || wv->nwscale != oc))
    error_at(wv->loc, "weight '%s': the model's DequantizeLinear gives %d scales along axis %d; only one per "
             "tensor or one per output channel (axis 0 of the layer's weight) can be kept",
             wv->name, wv->nwscale, wv->wscale_axis);
  if (n->bn)
    error_at(n->loc, "%s: a batchnorm is folded into weights the model quantized (DequantizeLinear); its "
             "scales would no longer hold", n->name);
  if (bits != 8)
    error_at(wv->loc, "weight '%s': the model gives int8 codes (DequantizeLinear), but the configuration "
             "asks for %d-bit weights", wv->name, bits);
  for (int i = 0; i < wv->nwscale; i++) {
    double e = log2(wv->wscale[i]);
    if (q->shift_mode && fabs(e - lround(e)) > 1e-9)
      error_at(wv->loc, "weight '%s': scale %g from the model's DequantizeLinear is not a power of two, as "
               "'requantize: shift' needs (use requantize: dyadic)", wv->name, wv->wscale[i]);
  }
  return wv->wscale;
}

static void quantize_weights(Q *q, ILayer *l, const Node *n, const QParam *qx, const QParam *qy,
                             const float *wf, int64_t oc, int64_t per, const float *bias,
                             sc_requant *rq, const Value *wv) {
  const Config *cfg = q->cfg;
  int bits = cfg->weight_bits, bias_bits = cfg->bias_bits;
  Granularity gran = cfg->granularity;
  for (int i = 0; i < cfg->nlayers; i++) {
    const LayerOverride *o = &cfg->layers[i];
    if (fnmatch(o->pattern, n->name, 0) != 0) continue;
    if (o->weight_bits > 0) bits = o->weight_bits;
    if (o->granularity >= 0) gran = (Granularity)o->granularity;
    if (o->bias_bits > 0) bias_bits = o->bias_bits;
  }
  const double *given = given_weight_scales(q, n, wv, oc, bits);
  if (given) {
    StrBuf sb = {0};
    for (int i = 0; i < wv->nwscale && i < 8; i++) sb_printf(&sb, "%s%g", i ? ", " : "", given[i]);
    ilayer_add_note(l, "weight scales from the model's DequantizeLinear (%s): %s%s", wv->nwscale > 1 ?
                    "per channel" : "per tensor", sb.data, wv->nwscale > 8 ? ", ..." : "");
    free(sb.data);
  }
  const FoldedBN *bn = n->op == OP_MATMUL ? NULL : n->bn;
  const float *w_unfolded = bn ? q->g->values[bn->weight].data : NULL;
  int qmax = qmax_of(bits);
  l->weight_bits = bits;
  l->bias_bits = bias_bits;
  l->weight_count = oc * per;
  int8_t *codes = xmalloc((size_t)(oc * per));
  l->w_scale = xcalloc((size_t)oc, sizeof(double));
  double *acc_scale = xcalloc((size_t)oc, sizeof(double));
  int *acc_exp = xcalloc((size_t)oc, sizeof(int));
  double bmax = ldexp(1.0, bias_bits - 1) - 1;
  int32_t *out_add = xcalloc((size_t)oc, sizeof(int32_t));
  int8_t *bias_lshift = xcalloc((size_t)oc, 1);
  bool any_add = false, any_lshift = false;
  if (bias) l->bias = xcalloc((size_t)oc, sizeof(int32_t));
  for (int64_t c = 0; c < oc; c++) {
    const float *wc = wf + c * per;          /* the folded weights: the reference */
    const float *scale_src = gran == GRAN_PER_TENSOR ? wf : wc;
    int64_t scale_n = gran == GRAN_PER_TENSOR ? oc * per : per;
    int e;
    double s = given ? given[wv->nwscale > 1 ? c : 0] : weight_scale(q, scale_src, scale_n, bits, &e);
    if (given) e = (int)floor(log2(s) + (q->shift_mode ? 0.5 : 0)); /* shift mode: s == 2^e */
    double acc = qx->scale * s;
    int acc_e = qx->exp + e;
    int nsh = channel_shift(q, acc, acc_e, qy);
    double bq = bias ? floor(bias[c] / acc + 0.5) : 0;
    bool bias_over = fabs(bq) > bmax, shift_over = nsh > 31 || nsh < -31;
    weight_codes(wc, per, 1, s, qmax, codes + c * per);
    BiasFix fx = {.channel = (int)c, .bias_codes = bq, .shift = nsh,
                  .w_sqnr_naive_db = codes_sqnr_db(wc, codes + c * per, per, s)};
    double target_in = bias ? bias[c] : 0; /* the part of the bias kept in the accumulator */
    int lsh = 0;                           /* its word's left shift into the accumulator */
    if ((bias_over || shift_over) && cfg->bias_fix != BIASFIX_OFF) {
      const char *how = "enlarge";
      if (cfg->bias_fix == BIASFIX_ON && bias_over) {
        how = "output addend";
        if (bn && !q->shift_mode) {
          /* Keep gamma apart: the channel's own W (sign of gamma folded into the codes)
           * at a scale of its own; |gamma/sigma| goes into the dyadic multiplier. In
           * shift mode the per-channel power-of-two scale of W' already puts gamma/sigma
           * into the channel's shift, so the codes would not change. */
          const float *wu = w_unfolded + c * per;
          double kk = fabs(bn->k[c]);
          s = weight_scale(q, wu, per, bits, &e) * kk;
          weight_codes(wu, per, bn->k[c] < 0 ? -1 : 1, s / kk, qmax, codes + c * per);
          acc = qx->scale * s;
          acc_e = qx->exp + (int)floor(log2(s));
          how = "gamma apart + output addend";
        }
      }
      /* Enlarge the scale while the shift is out of range (and, in `enlarge` mode,
       * while the bias does not fit; in `on` mode while the bias's fraction of an
       * output LSB does not fit even shifted left by 32 - bias_bits): the channel's
       * weights were negligible there. */
      /* In `on` mode the whole output LSBs of the bias go to the output domain and
       * its fraction of an LSB stays in the accumulator, where the rounding of the
       * rescale sees it: y = rshift(acc + frac * 2^n, n) + round(b / s_y) rounds like
       * the framework's round((acc * s_acc + b) / s_y). The fraction needs up to 2^n
       * accumulator units, more than a 16-bit word holds once n > 15 (a dead channel's
       * n is ~19): the word then goes into the accumulator shifted left by the fewest
       * bits k that make it fit (sc_requant.bias_lshift, k <= 32 - bias_bits), which
       * holds the fraction to within 2^(k-1) units, 2^(k-1-n) <= 2^-16 of an output LSB
       * (the fraction is centred, |frac| <= 1/2 LSB, so k <= n - 15). Enlarging
       * the weight scale instead would zero the channel's trained weights. */
      bool split = cfg->bias_fix == BIASFIX_ON && bias_over && bias;
      if (split) target_in = (bias[c] / qy->scale - floor(bias[c] / qy->scale + 0.5)) * qy->scale;
      int kmax = split ? 32 - bias_bits : 0;
      double s0 = s;
      for (int guard = 0; guard < 200; guard++) {
        nsh = channel_shift(q, acc, acc_e, qy);
        double need = fabs(floor(target_in / ldexp(acc, kmax) + 0.5));
        if (nsh <= 31 && (cfg->bias_fix == BIASFIX_ON && !split ? true : need <= bmax)) break;
        s *= 2, e++, acc *= 2, acc_e++;
      }
      while (lsh < kmax && fabs(floor(target_in / ldexp(acc, lsh) + 0.5)) > bmax) lsh++;
      if (s != s0) {
        ilayer_add_note(l, "channel %lld: weight scale enlarged from %g to %g so that its shift and bias "
                        "fit", (long long)c, s0, s);
        /* Recompute the codes at the enlarged scale from the weights they came from. */
        if (strncmp(how, "gamma", 5) == 0)
          weight_codes(w_unfolded + c * per, per, bn->k[c] < 0 ? -1 : 1, s / fabs(bn->k[c]), qmax, codes + c * per);
        else
          weight_codes(wc, per, 1, s, qmax, codes + c * per);
        if (strcmp(how, "enlarge") != 0) how = xformat("%s + enlarge", how);
      }
      if (lsh > 0) how = xformat("%s + bias shift", how);
      fx.fix = how;
      fx.bias_lshift = lsh;
    } else if (bias_over || shift_over) {
      fx.fix = "clamp";
    }
    l->w_scale[c] = s;
    acc_scale[c] = acc;
    acc_exp[c] = acc_e;
    if (bias) {
      double v = floor(target_in / ldexp(acc, lsh) + 0.5);
      bool split = fx.fix && cfg->bias_fix == BIASFIX_ON && bias_over;
      if (split && (v > bmax || v < -bmax)) {
        v = v > bmax ? bmax : -bmax; /* the accumulator keeps what fits; the rest goes below */
      } else if (v > bmax || v < -bmax) {
        ilayer_add_note(l, "channel %lld: bias %g needs %.0f at scale %g, beyond %d bits; clamped",
                        (long long)c, target_in, v, acc, bias_bits);
        v = v > bmax ? bmax : -bmax;
        if (fx.fix && !strstr(fx.fix, "clamp")) fx.fix = xformat("%s + clamp", fx.fix);
      }
      l->bias[c] = (int32_t)v;
      bias_lshift[c] = (int8_t)lsh;
      any_lshift = any_lshift || lsh > 0;
      double rest = bias[c] - v * ldexp(acc, lsh); /* what the accumulator does not carry */
      if (split) {
        double a = floor(rest / qy->scale + 0.5);
        a = a > 1073741824.0 ? 1073741824.0 : a < -1073741824.0 ? -1073741824.0 : a;
        out_add[c] = (int32_t)a;
        any_add = any_add || a != 0;
        fx.out_add = (int32_t)a;
        rest -= a * qy->scale;
        ilayer_add_note(l, "channel %lld: bias %g needs %.0f codes at scale %g, beyond %d bits; %s: "
                        "%.0f << %d in the accumulator, %d added in the output domain",
                        (long long)c, bias[c], bq, qx->scale * s, bias_bits, fx.fix, v, lsh, (int)a);
      }
      fx.bias_err_lsb = fabs(rest) / qy->scale;
    }
    if (fx.fix) {
      fx.w_sqnr_db = codes_sqnr_db(wc, codes + c * per, per, acc / qx->scale);
      add_fix(l, &fx);
    }
  }
  /* The kernel's layout: int8 codes, or packed below 8 bits (shiftc_rt.h). */
  if (bits < 8) {
    l->weight_bytes = (oc * per * bits + 7) / 8;
    l->weight = xcalloc((size_t)l->weight_bytes, 1);
    for (int64_t i = 0; i < oc * per; i++) sc_pack_code(l->weight, bits, (ptrdiff_t)i, codes[i]);
    free(codes);
  } else {
    l->weight_bytes = oc * per;
    l->weight = codes;
  }
  set_requant(q, l, rq, (int)oc, acc_scale, acc_exp, qy);
  if (any_add) {
    l->out_add = out_add;
    rq->out_add = out_add;
  } else {
    free(out_add);
  }
  if (any_lshift) {
    l->bias_lshift = bias_lshift;
    rq->bias_lshift = bias_lshift;
  } else {
    free(bias_lshift);
  }
  free(acc_scale);
  free(acc_exp);
}

static void pool_geometry(const Node *n, const Shape *in, const Shape *out, sc_pool2d_params *pp) {
  const AttrValue *k = node_attr(n, "kernel"), *s = node_attr(n, "stride"), *pad = node_attr(n, "pad");
  pp->planes = (int)(in->d[0] * in->d[1]);
  pp->in_h = (int)in->d[2];
  pp->in_w = (int)in->d[3];
  pp->out_h = (int)out->d[2];
  pp->out_w = (int)out->d[3];
  pp->k_h = (int)k->ints[0];
  pp->k_w = (int)k->ints[k->nints > 1 ? 1 : 0];
  const AttrValue *st = s->set ? s : k;
  pp->stride_h = (int)st->ints[0];
  pp->stride_w = (int)st->ints[st->nints > 1 ? 1 : 0];
  pp->pad_t = (int)pad->ints[0];
  pp->pad_l = (int)pad->ints[pad->nints == 4 ? 1 : pad->nints > 1 ? 1 : 0];
}

/* ------------------------------------------------------------- per op kind */

static void q_conv_or_linear(Q *q, int ni) {
  Graph *g = q->g;
  const Node *n = &g->nodes[ni];
  int x = n->inputs[0], w = n->inputs[1], b = n->inputs[2];
  if (!g->values[w].is_const || (b >= 0 && !g->values[b].is_const))
    error_at(n->loc, "%s: integer mode needs constant weights", op_table[n->op].name);
  char *fused = n->folded ? xstrdup(n->folded) : NULL;
  int out = fuse_activation(q, ni, &fused);
  bool conv = n->op == OP_CONV2D || n->op == OP_CONV_TRANSPOSE2D;
  ILayer *l = new_layer(q, n->op == OP_CONV2D ? IL_CONV2D : conv ? IL_CONV_TRANSPOSE2D : IL_LINEAR, ni, out);
  l->fused = fused;
  l->in[0] = x;
  l->nin = 1;
  QParam *qx = activation_q(q, x), *qy = activation_q(q, out);
  const Value *wv = &g->values[w];
  int64_t oc = wv->shape.d[0], per = shape_numel(&wv->shape) / oc;
  sc_requant *rq = conv ? &l->p.conv.rq : &l->p.lin.rq;
  quantize_weights(q, l, n, qx, qy, wv->data, oc, per, b >= 0 ? g->values[b].data : NULL, rq, wv);
  clamp_for_activation(q, l, rq, qy);
  const Shape *xs = &g->values[x].shape, *ys = &g->values[n->output].shape;
  if (conv) {
    sc_conv2d_params *c = &l->p.conv;
    const AttrValue *st = node_attr(n, "stride"), *pad = node_attr(n, "pad"), *dil = node_attr(n, "dilation");
    c->n = (int)xs->d[0];
    c->in_c = (int)xs->d[1];
    c->in_h = (int)xs->d[2];
    c->in_w = (int)xs->d[3];
    c->out_c = (int)ys->d[1];
    c->out_h = (int)ys->d[2];
    c->out_w = (int)ys->d[3];
    c->k_h = (int)wv->shape.d[2];
    c->k_w = (int)wv->shape.d[3];
    c->stride_h = (int)st->ints[0];
    c->stride_w = (int)st->ints[st->nints > 1 ? 1 : 0];
    c->dil_h = (int)dil->ints[0];
    c->dil_w = (int)dil->ints[dil->nints > 1 ? 1 : 0];
    c->pad_t = (int)pad->ints[0];
    c->pad_l = (int)pad->ints[pad->nints > 1 ? 1 : 0];
    c->groups = (int)node_attr_int(n, "groups");
    c->weight = l->weight;
    c->weight_bits = l->weight_bits;
    c->bias = l->bias;
    l->macs = (int64_t)c->n * c->out_c * c->out_h * c->out_w * per;
    if (n->op == OP_CONV_TRANSPOSE2D) /* each input reaches out through the kernel once */
      l->macs = (int64_t)c->n * c->in_c * c->in_h * c->in_w * (c->out_c / c->groups) * c->k_h * c->k_w;
  } else {
    sc_linear_params *c = &l->p.lin;
    c->in = (int)per;
    c->out = (int)oc;
    c->rows = (int)(shape_numel(xs) / per);
    c->weight = l->weight;
    c->weight_bits = l->weight_bits;
    c->bias = l->bias;
    l->macs = (int64_t)c->rows * oc * per;
  }
}

/* matmul(x, W) with a constant W [K, N] is a linear layer with weight W^T. */
static void q_matmul(Q *q, int ni) {
  Graph *g = q->g;
  const Node *n = &g->nodes[ni];
  int a = n->inputs[0], b = n->inputs[1];
  if (g->values[b].is_const) {
    const Value *bv = &g->values[b];
    if (bv->shape.rank != 2) error_at(n->loc, "matmul: integer mode needs a 2-D constant operand");
    int64_t K = bv->shape.d[0], N = bv->shape.d[1];
    float *wt = xmalloc(sizeof(float) * (size_t)(K * N));
    for (int64_t i = 0; i < K; i++)
      for (int64_t j = 0; j < N; j++) wt[j * K + i] = bv->data[i * N + j];
    char *fused = NULL;
    int out = fuse_activation(q, ni, &fused);
    ILayer *l = new_layer(q, IL_LINEAR, ni, out);
    l->fused = fused;
    l->in[0] = a;
    l->nin = 1;
    QParam *qx = activation_q(q, a), *qy = activation_q(q, out);
    quantize_weights(q, l, n, qx, qy, wt, N, K, NULL, &l->p.lin.rq, NULL);
    clamp_for_activation(q, l, &l->p.lin.rq, qy);
    l->p.lin.in = (int)K;
    l->p.lin.out = (int)N;
    l->p.lin.rows = (int)(shape_numel(&g->values[a].shape) / K);
    l->p.lin.weight = l->weight;
    l->p.lin.weight_bits = l->weight_bits;
    l->macs = (int64_t)l->p.lin.rows * K * N;
    free(wt);
    return;
  }
  const Shape *as = &g->values[a].shape, *bs = &g->values[b].shape;
  if (as->rank < 2 || bs->rank < 2)
    error_at(n->loc, "matmul: integer mode needs operands of rank 2 or more");
  ILayer *l = new_layer(q, IL_MATMUL, ni, n->output);
  l->in[0] = a;
  l->in[1] = b;
  l->nin = 2;
  QParam *qa = activation_q(q, a), *qb = activation_q(q, b), *qy = activation_q(q, n->output);
  sc_matmul_params *m = &l->p.mm;
  MatmulShape ms = matmul_shape(g, n);
  m->batch = ms.batch;
  m->m = ms.m;
  m->k = ms.k;
  m->n = ms.n;
  m->a_batch_stride = ms.a_batch_stride;
  m->b_batch_stride = ms.b_batch_stride;
  int64_t batch = ms.batch;
  double s = qa->scale * qb->scale;
  int e = qa->exp + qb->exp;
  set_requant(q, l, &m->rq, 1, &s, &e, qy);
  l->macs = batch * (int64_t)m->m * m->n * m->k;
}

MatmulShape matmul_shape(const Graph *g, const Node *n) {
  const Shape *as = &g->values[n->inputs[0]].shape, *bs = &g->values[n->inputs[1]].shape;
  const Shape *ys = &g->values[n->output].shape;
  MatmulShape ms;
  ms.m = (int)as->d[as->rank - 2];
  ms.k = (int)as->d[as->rank - 1];
  ms.n = (int)bs->d[bs->rank - 1];
  int64_t batch = shape_numel(ys) / ((int64_t)ms.m * ms.n);
  int64_t a_batch = shape_numel(as) / ((int64_t)ms.m * ms.k), b_batch = shape_numel(bs) / ((int64_t)ms.k * ms.n);
  if ((a_batch != batch && a_batch != 1) || (b_batch != batch && b_batch != 1))
    error_at(n->loc, "matmul: integer mode supports batch broadcasting only of a whole operand");
  ms.batch = (int)batch;
  ms.a_batch_stride = a_batch == 1 ? 0 : ms.m * ms.k;
  ms.b_batch_stride = b_batch == 1 ? 0 : ms.k * ms.n;
  return ms;
}

static void q_pool(Q *q, int ni) {
  Graph *g = q->g;
  const Node *n = &g->nodes[ni];
  int x = n->inputs[0];
  const Shape *xs = &g->values[x].shape, *ys = &g->values[n->output].shape;
  bool is_max = n->op == OP_MAXPOOL2D;
  ILayer *l = new_layer(q, is_max ? IL_MAXPOOL2D : IL_AVGPOOL2D, ni, n->output);
  l->in[0] = x;
  l->nin = 1;
  sc_pool2d_params *pp = &l->p.pool;
  if (n->op == OP_GLOBAL_AVGPOOL) {
    pp->planes = (int)(xs->d[0] * xs->d[1]);
    pp->in_h = pp->k_h = pp->stride_h = (int)xs->d[2];
    pp->in_w = pp->k_w = pp->stride_w = (int)xs->d[3];
    pp->out_h = pp->out_w = 1;
  } else {
    pool_geometry(n, xs, ys, pp);
  }
  if (is_max) {
    same_q(q, n->output, x);
    /* Same scale in and out: the requantization is the identity. */
    l->nch = 1;
    l->shift = xcalloc(1, 1);
    pp->rq.shift = l->shift;
    pp->rq.lo = -127;
    pp->rq.hi = 127;
    return;
  }
  QParam *qx = activation_q(q, x), *qy = activation_q(q, n->output);
  int k = pp->k_h * pp->k_w;
  set_requant_mean(q, l, &pp->rq, k, qx, qy, "average");
  l->macs = (int64_t)pp->planes * pp->out_h * pp->out_w * k;
}

/* Broadcast strides of a value's shape against the output shape (right aligned). */
static void eltwise_strides(const Shape *in, int32_t *strides, int rank) {
  int32_t st = 1;
  for (int i = rank - 1; i >= 0; i--) {
    int k = in->rank - (rank - i);
    int64_t d = k >= 0 ? in->d[k] : 1;
    strides[i] = d == 1 ? 0 : st;
    st *= (int32_t)d;
  }
}

/* Operand rescale for add/sub: shift mode aligns exponents by a left shift; dyadic
 * mode shifts left by `lshift` then multiplies by s_i / common (<= 1). */
static void operand_scale(Q *q, sc_operand_scale *os, const QParam *qi, double common, int common_exp,
                          int lshift) {
  os->lshift = lshift;
  if (q->shift_mode) {
    /* x * 2^(e_i - e_c): all left shift, since e_c <= e_i. */
    os->lshift = qi->exp - common_exp;
    os->shift = 0;
    os->mult = 0;
  } else {
    int n;
    /* common = max(s_a, s_b): ratio <= 1, so n >= 0, except for a ratio of exactly 1
     * (M0 = 2^30, n = -1), whose left shift by one goes into lshift. */
    dyadic(qi->scale / common, &os->mult, &n);
    if (n < 0) {
      os->lshift += -n;
      n = 0;
    }
    os->shift = n;
  }
}

static void q_eltwise(Q *q, int ni) {
  Graph *g = q->g;
  const Node *n = &g->nodes[ni];
  int a = n->inputs[0], b = n->inputs[1];
  for (int k = 0; k < 2; k++)
    if (g->values[n->inputs[k]].is_const && shape_numel(&g->values[n->inputs[k]].shape) > 0) {
      /* A constant operand gets its own scale from its values. */
      Value *cv = &g->values[n->inputs[k]];
      if (!cv->q) {
        QParam *qp = new_qparam();
        double amax = 0;
        for (int64_t i = 0; i < shape_numel(&cv->shape); i++) amax = fmax(amax, fabs(cv->data[i]));
        if (!(amax > 0)) amax = 1;
        qp->bits = 8;
        qp->amax = amax;
        qp->exp = (int)ceil(log2(amax / 127));
        qp->scale = q->shift_mode ? ldexp(1.0, qp->exp) : amax / 127;
        cv->q = qp;
      }
    }
  ILayerKind kind = n->op == OP_ADD ? IL_ADD : n->op == OP_SUB ? IL_SUB : IL_MUL;
  char *fused = NULL;
  int out = kind == IL_MUL ? n->output : fuse_activation(q, ni, &fused);
  ILayer *l = new_layer(q, kind, ni, out);
  l->fused = fused;
  l->in[0] = a;
  l->in[1] = b;
  l->nin = 2;
  if (n->folded) ilayer_add_note(l, "%s", n->folded); /* fold_div.c */
  QParam *qa = activation_q(q, a), *qb = activation_q(q, b), *qy = activation_q(q, out);
  const Shape *ys = &g->values[n->output].shape;
  sc_eltwise_params *e = &l->p.elt;
  if (ys->rank > SC_MAX_RANK) error_at(n->loc, "%s: integer mode supports rank up to %d", op_table[n->op].name, SC_MAX_RANK);
  e->rank = ys->rank;
  for (int i = 0; i < ys->rank; i++) e->dims[i] = (int32_t)ys->d[i];
  eltwise_strides(&g->values[a].shape, e->a_strides, ys->rank);
  eltwise_strides(&g->values[b].shape, e->b_strides, ys->rank);
  double s;
  int ex;
  if (kind == IL_MUL) {
    s = qa->scale * qb->scale;
    ex = qa->exp + qb->exp;
  } else if (q->shift_mode) {
    /* Align exponents (the patent's residual add): the common exponent is the finer one. */
    ex = qa->exp < qb->exp ? qa->exp : qb->exp;
    s = ldexp(1.0, ex);
    operand_scale(q, &e->a, qa, s, ex, 0);
    operand_scale(q, &e->b, qb, s, ex, 0);
    if (e->a.lshift > 23 || e->b.lshift > 23) {
      ilayer_add_note(l, "operand exponents differ by more than 23; the coarser operand is shifted by 23");
      if (e->a.lshift > 23) e->a.lshift = 23;
      if (e->b.lshift > 23) e->b.lshift = 23;
    }
  } else {
    /* Both operands to a common fine scale 2^-20 * max(s_a, s_b), as gemmlowp does. */
    const int L = 20;
    s = fmax(qa->scale, qb->scale) / ldexp(1.0, L);
    ex = 0;
    operand_scale(q, &e->a, qa, s * ldexp(1.0, L), 0, L);
    operand_scale(q, &e->b, qb, s * ldexp(1.0, L), 0, L);
  }
  set_requant(q, l, &e->out, 1, &s, &ex, qy);
  if (fused) clamp_for_activation(q, l, &e->out, qy);
}

/* Any elementwise function of one tensor, as a table over the 256 input codes. */
double q_apply_unary(const Node *n, double x) {
  switch (n->op) {
  case OP_RELU: return x > 0 ? x : 0;
  case OP_RELU6: return x < 0 ? 0 : x > 6 ? 6 : x;
  case OP_GELU: return node_attr(n, "approximate")->e == GELU_TANH ? gelu_tanh(x) : 0.5 * x * (1 + erf(x / sqrt(2.0)));
  case OP_SIGMOID: return 1 / (1 + exp(-x));
  case OP_TANH: return tanh(x);
  default: return unary_apply(n, x); /* the ops added for ONNX (ops_float.c) */
  }
}

static void q_lut(Q *q, int ni) {
  Graph *g = q->g;
  const Node *n = &g->nodes[ni];
  int x = n->inputs[0];
  ILayer *l = new_layer(q, IL_LUT, ni, n->output);
  l->in[0] = x;
  l->nin = 1;
  QParam *qx = activation_q(q, x), *qy = activation_q(q, n->output);
  int qmax = qmax_of(qy->bits);
  for (int c = -128; c < 128; c++) {
    double y = floor(q_apply_unary(n, c * qx->scale) / qy->scale + 0.5);
    l->lut[c + 128] = (int8_t)(y > qmax ? qmax : y < -qmax ? -qmax : y);
  }
  l->lut_n = (int32_t)shape_numel(&g->values[x].shape);
  ilayer_add_note(l, "%s as a 256-entry table", op_table[n->op].name);
}

static void q_transpose(Q *q, int ni) {
  Graph *g = q->g;
  const Node *n = &g->nodes[ni];
  int x = n->inputs[0];
  const Shape *xs = &g->values[x].shape;
  if (xs->rank > SC_MAX_RANK) error_at(n->loc, "transpose: integer mode supports rank up to %d", SC_MAX_RANK);
  ILayer *l = new_layer(q, IL_TRANSPOSE, ni, n->output);
  l->in[0] = x;
  l->nin = 1;
  same_q(q, n->output, x);
  const AttrValue *perm = node_attr(n, "perm");
  l->p.tr.rank = xs->rank;
  for (int i = 0; i < xs->rank; i++) {
    l->p.tr.in_dims[i] = (int32_t)xs->d[i];
    l->p.tr.perm[i] = (int32_t)perm->ints[i];
  }
}

static void q_concat(Q *q, int ni) {
  Graph *g = q->g;
  const Node *n = &g->nodes[ni];
  const Shape *ys = &g->values[n->output].shape;
  int axis = normalize_axis(node_attr_int(n, "axis"), ys->rank);
  ILayer *l = new_layer(q, IL_CONCAT, ni, n->output);
  l->nin = n->ninputs;
  QParam *qy = activation_q(q, n->output);
  int64_t outer = 1;
  for (int i = 0; i < axis; i++) outer *= ys->d[i];
  l->cat_inner = xcalloc((size_t)n->ninputs, sizeof(int32_t));
  l->cat_rq = xcalloc((size_t)n->ninputs, sizeof(sc_requant));
  l->nch = n->ninputs;
  l->shift = xcalloc((size_t)n->ninputs, 1);
  if (!q->shift_mode) l->mult = xcalloc((size_t)n->ninputs, sizeof(int32_t));
  bool any_rescale = false;
  for (int k = 0; k < n->ninputs; k++) {
    int v = n->inputs[k];
    l->in[k] = v;
    l->cat_inner[k] = (int32_t)(shape_numel(&g->values[v].shape) / outer);
    QParam *qi = activation_q(q, v);
    sc_requant *rq = &l->cat_rq[k];
    if (q->shift_mode) {
      l->shift[k] = (int8_t)(qy->exp - qi->exp);
    } else {
      int nsh;
      dyadic(qi->scale / qy->scale, &l->mult[k], &nsh);
      l->shift[k] = (int8_t)nsh;
      rq->mult = &l->mult[k];
    }
    rq->shift = &l->shift[k];
    rq->lo = -qmax_of(qy->bits);
    rq->hi = qmax_of(qy->bits);
    if (qi->scale != qy->scale) any_rescale = true;
  }
  l->p.cat.count = n->ninputs;
  l->p.cat.outer = (int32_t)outer;
  l->p.cat.inner = l->cat_inner;
  l->p.cat.rq = any_rescale ? l->cat_rq : NULL;
}

/* ------------------------------------------------------------------- driver */

/* An i32 model input: token ids, kept exact (QPARAM_ID_BITS, scale 1). Only an
 * embedding's ids slot can read them; any other use is the user's error there. */
static void id_input_q(Q *q, int v) {
  const Graph *g = q->g;
  for (int k = 0; k < g->noutputs; k++)
    if (g->outputs[k] == v)
      error_at(g->values[v].loc, "input '%s' holds i32 token ids and is also an output; integer mode "
               "passes ids only to embedding", g->values[v].name);
  for (int i = 0; i < g->nnodes; i++) {
    const Node *n = &g->nodes[i];
    for (int k = 0; k < n->ninputs; k++)
      if (n->inputs[k] == v && !(n->op == OP_EMBEDDING && k == 0))
        error_at(n->loc, "%s: input '%s' holds i32 token ids; in integer mode only embedding (its ids) "
                 "may read them", op_table[n->op].name, g->values[v].name);
  }
  QParam *qp = new_qparam();
  qp->bits = QPARAM_ID_BITS;
  qp->scale = 1;
  qp->exp = 0;
  g->values[v].q = qp;
}

IntProgram *quantize(Graph *g, CalibStats **stats, const Config *cfg) {
  IntProgram *p = xcalloc(1, sizeof(IntProgram));
  p->g = g;
  p->cfg = cfg;
  p->storage = xmalloc(sizeof(int) * (size_t)g->nvalues);
  for (int v = 0; v < g->nvalues; v++) p->storage[v] = v;
  Q q = {p, g, stats, cfg, cfg->requantize == REQ_SHIFT, xcalloc((size_t)g->nnodes, sizeof(bool))};
  for (int i = 0; i < g->ninputs; i++) {
    if (g->values[g->inputs[i]].dtype == DT_I32) id_input_q(&q, g->inputs[i]);
    else if (g->values[g->inputs[i]].dtype != DT_F32)
      error_at(g->values[g->inputs[i]].loc, "integer mode needs f32 inputs, or i32 token ids for embedding");
    else activation_q(&q, g->inputs[i]);
  }
  int *chain_sink = lut_chains_find(&q); /* elementwise chains of one tensor: one table each */
  for (int i = 0; i < g->nnodes; i++) {
    if (q.done[i]) continue;
    if (chain_sink[i] == i) {
      q_lut_chain(&q, i, chain_sink);
      continue;
    }
    const Node *n = &g->nodes[i];
    switch (n->op) {
    case OP_CONV2D:
    case OP_CONV_TRANSPOSE2D:
    case OP_LINEAR: q_conv_or_linear(&q, i); break;
    case OP_MATMUL:
      if (!q_matmul_softmax(&q, i)) q_matmul(&q, i);
      break;
    case OP_MAXPOOL2D:
    case OP_AVGPOOL2D:
    case OP_GLOBAL_AVGPOOL: q_pool(&q, i); break;
    case OP_ADD:
    case OP_SUB: q_eltwise(&q, i); break;
    case OP_MUL:
      if (!q_scores_prescale(&q, i)) q_eltwise(&q, i);
      break;
    case OP_DIV: /* by a constant it is a mul by now (fold_div.c) */
      error_at(n->loc, "node '%s' (div) divides by %s; integer mode divides only by a constant without zeros "
               "(run this model with --float)", n->name,
               g->values[n->inputs[1]].is_const ? "a constant holding 0 or a non-finite value" : "an activation");
    case OP_SLICE: q_slice(&q, i); break;
    case OP_REDUCEMEAN: q_reducemean(&q, i); break;
    case OP_RESIZE: q_resize(&q, i); break;
    case OP_GELU:
      if (cfg->gelu != IGELU_I_GELU || !q_gelu(&q, i)) q_lut(&q, i);
      break;
    case OP_SOFTMAX: q_softmax(&q, i); break;
    case OP_LAYERNORM: q_layernorm(&q, i); break;
    case OP_EMBEDDING: q_embedding(&q, i); break;
    case OP_RELU:
    case OP_RELU6:
    case OP_SIGMOID:
    case OP_TANH:
    case OP_ERF:
    case OP_EXP:
    case OP_SQRT:
    case OP_ABS:
    case OP_NEG:
    case OP_HARDSWISH:
    case OP_HARDSIGMOID:
    case OP_LEAKYRELU:
    case OP_CLIP: q_lut(&q, i); break;
    case OP_TRANSPOSE: q_transpose(&q, i); break;
    case OP_CONCAT: q_concat(&q, i); break;
    case OP_FLATTEN:
    case OP_RESHAPE:
    case OP_SQUEEZE:
    case OP_UNSQUEEZE:
      /* Same bytes, new shape: the output uses its input's buffer and scale. */
      p->storage[n->output] = p->storage[n->inputs[0]];
      same_q(&q, n->output, n->inputs[0]);
      q.done[i] = true;
      break;
    default:
      error_at(n->loc, "node '%s' (%s) has no integer kernel yet; run this model with --float", n->name,
               op_table[n->op].name);
    }
  }
  for (int k = 0; k < g->noutputs; k++) activation_q(&q, g->outputs[k]);
  free(chain_sink);
  free(q.done);
  return p;
}
