/* calibrate.c — activation ranges from sample data (algorithms.md §2).
 *
 * The float graph runs over the calibration samples twice (TensorRT style):
 *   pass 1 records max|x| of every non-constant value;
 *   pass 2 fills a CALIB_BINS-bin histogram of |x| over [0, absmax]
 *          (bin k holds [k*w, (k+1)*w), w = absmax / CALIB_BINS; |x| == absmax goes
 *          to the last bin).
 * Then calib_thresholds() derives the threshold (amax) of each method from the histogram.
 *
 * Parallelism: the samples are cut into contiguous chunks, one per thread, each with
 * its own FloatRun and private statistics. Pass 1 merges by max (order-independent);
 * pass 2 merges integer counts held in doubles (exact sums), in thread order. The
 * thresholds are computed per value by one thread each. So the result is bit-for-bit
 * the same for any thread count. Threads: SHIFTC_THREADS (1..64) if set and valid,
 * else the online CPUs capped at 2, never more than the samples.
 *
 * Non-finite activations (NaN, ±Inf) are left out of the statistics (and of `count`);
 * a warning at the value's definition says how many there were.
 */
#define _POSIX_C_SOURCE 200809L
#include "shiftc.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_THREADS 64 /* run_parallel's limit (util.c) */
#define QLEVELS 128 /* 8-bit symmetric: 127 positive codes and zero -> TensorRT's 128 levels */
#define QMAX 127.0  /* largest code of symmetric 8-bit quantization (algorithms.md §1) */
#define KL_START_BIN 128

/* ------------------------------------------------------------ thresholds */

/* Percentile: the upper edge (k+1)*w of the first bin k whose cumulative count reaches
 * percentile/100 of the total. `percentile` is a decimal (99.99) that binary cannot hold
 * exactly, so the target is lowered by a relative 1e-12: a cumulative count equal to the
 * exact decimal target (9999 of 10000 at 99.99) is accepted. */
static double amax_percentile(const double *hist, double total, double w, double percentile) {
  double target = percentile / 100.0 * total * (1.0 - 1e-12);
  double cum = 0;
  int last = 0;
  for (int k = 0; k < CALIB_BINS; k++) {
    if (hist[k] > 0) last = k;
    cum += hist[k];
    if (cum >= target && cum > 0) return (k + 1) * w;
  }
  return (last + 1) * w; /* not reached for percentile <= 100 */
}

/* MSE: candidate amax = k*w for k = 1..CALIB_BINS (every bin's upper edge); the one
 * with the least mean squared error of symmetric 8-bit fake quantization wins, ties to
 * the smaller. Fake quantization with s = amax/127: x >= amax clips to amax; below,
 * x rounds half up to m*s, m = floor(x/s + 1/2) <= 127. Each bin's count is spread
 * evenly over its interval [j*w, (j+1)*w) and the error integrated exactly, not
 * lumped at the bin's center: below bin 127 the step s is finer than a bin, and centers
 * would land near or far from grid points by accident (3 outliers of 1000 among 1e9
 * N(0,1) values: centers pick 31.25, the integral ~4). Candidates start at bin 1, not
 * 128: unlike KL the criterion needs no minimum number of bins, and with enough samples
 * a few outliers put the optimum below absmax/16.
 *
 * Per candidate the range [0, amax) is cut into the 128 rounding cells; whole bins
 * inside a cell come from prefix sums of the counts' moments, the one or two bins a
 * cell boundary cuts are integrated directly; the clipped bins j >= k from suffix sums.
 * So ~128 steps per candidate, not one per bin. */
typedef struct Moments {
  const double *hist;
  double w, inv_3w;
  double c[CALIB_BINS + 1], m1[CALIB_BINS + 1], m2[CALIB_BINS + 1]; /* prefix sums */
} Moments;

/* Sum over bins [j0, j1) of count * mean of (x - r)^2 over the bin. */
static double whole_bins(const Moments *mo, int j0, int j1, double r) {
  if (j1 <= j0) return 0;
  double c = mo->c[j1] - mo->c[j0], m1 = mo->m1[j1] - mo->m1[j0], m2 = mo->m2[j1] - mo->m2[j0];
  double e = m2 - 2 * r * m1 + r * r * c;
  return e > 0 ? e : 0;
}

/* Bin j's count over [lo, hi) (clipped to the bin), times the mean of (x - r)^2 there. */
static double part_bin(const Moments *mo, int j, double lo, double hi, double r) {
  double w = mo->w, a = j * w, b = (j + 1) * w;
  if (lo < a) lo = a;
  if (hi > b) hi = b;
  if (!(hi > lo) || mo->hist[j] <= 0) return 0;
  double u = lo - r, v = hi - r;
  return mo->hist[j] * mo->inv_3w * (v * v * v - u * u * u);
}

static double amax_mse(const double *hist, double total, double w) {
  Moments *mo = xcalloc(1, sizeof *mo);
  mo->hist = hist;
  mo->w = w;
  mo->inv_3w = 1.0 / (3.0 * w);
  double inv_w = 1.0 / w;
  for (int j = 0; j < CALIB_BINS; j++) {
    double a = j * w, b = (j + 1) * w;
    mo->c[j + 1] = mo->c[j] + hist[j];
    mo->m1[j + 1] = mo->m1[j] + hist[j] * (a + b) / 2;
    mo->m2[j + 1] = mo->m2[j] + hist[j] * (a * a + a * b + b * b) / 3;
  }
  double best = INFINITY;
  int best_k = CALIB_BINS;
  for (int k = 1; k <= CALIB_BINS; k++) {
    double amax = k * w, s = amax / QMAX;
    double err = whole_bins(mo, k, CALIB_BINS, amax); /* clipped */
    double u = 0;
    for (int m = 0; m <= (int)QMAX; m++) {
      /* Cell of code m: [u, v) with v = (m + 1/2) s, the last one ending at amax. */
      double v = m == (int)QMAX ? amax : (m + 0.5) * s, r = m * s;
      int ju = (int)(u * inv_w), jv = (int)(v * inv_w);
      if (ju > k - 1) ju = k - 1;
      if (jv > k - 1) jv = k - 1;
      if (ju == jv) {
        err += part_bin(mo, ju, u, v, r);
      } else {
        err += part_bin(mo, ju, u, v, r) + whole_bins(mo, ju + 1, jv, r) + part_bin(mo, jv, u, v, r);
      }
      u = v;
    }
    err /= total;
    if (err < best) {
      best = err;
      best_k = k;
    }
  }
  free(mo);
  return best_k * w;
}

/* Entropy: TensorRT's KL-divergence calibration (Migacz, GTC 2017), for candidates
 * i = 128..CALIB_BINS:
 *   P = hist[0:i] with the tail sum(hist[i:]) added to P[i-1];
 *   Q = hist[0:i] (the unclipped bins, as in TensorRT's pseudo-code, MXNet, ONNX Runtime
 *       and pytorch-quantization) merged into 128 groups of i/128 bins (integer
 *       division; the last group also takes the remaining i%128 bins); each group's
 *       total is spread evenly over the bins of the group where P is nonzero; bins where
 *       P is zero stay zero in Q. (Merging P itself, tail included, would make Q == P
 *       at i = 128, where every group is one bin: KL = 0 there for any data.)
 *   KL(P||Q) = sum over P > 0 of p log(p/q), P and Q each normalized to sum 1.
 * Q can be 0 where P is not only at P[i-1], when the tail is folded into a last group
 * whose unclipped bins are all empty. That bin gets Q = 1e-4 counts (before
 * normalization), the eps of MXNet's and ONNX Runtime's _smooth_distribution: a finite
 * penalty that grows with the clipped mass. (pytorch-quantization's KL is infinite there,
 * so a lone outlier would force amax = absmax.) A candidate whose unclipped bins are all
 * empty has no Q at all and is skipped (MXNet: ValueError -> inf); i = CALIB_BINS has no
 * tail and is always finite. The least KL wins, ties to the smaller i; amax = i*w, the
 * upper edge of bin i-1, up to which P models the data (pytorch-quantization returns
 * the same edge, calib_bin_edges[i]; the GTC slides' (m + 0.5)*w would reach half a bin
 * past what P describes). pytorch-quantization also overwrites bin 0 with bin 1 first;
 * that is not done here: measured on the examples, it cut digits_cnn's entropy top-1
 * to 28% (on inputs in steps of 1/16, bin 1 is empty, so P keeps only spikes and KL
 * picks i = 128, clipping at absmax/16). Ties go to the smaller i, as for mse.
 *
 * Computed as KL = log(SQ/T) + (1/T) * sum_{P_j>0} P_j (log P_j - log Qraw_j), with T the
 * total (= sum P), SQ = sum Qraw and Qraw_j = group total / group nonzeros: with prefix sums
 * over the bins of counts, nonzero bins and count*log(count): ~128 steps per candidate. */
#define KL_EPS 1e-4
static double amax_entropy(const double *hist, double total, double w) {
  /* Prefix sums over bins: counts (exact, integers), nonzero bins, count*log(count). */
  double prefix[CALIB_BINS + 1], plogp[CALIB_BINS + 1];
  int nonzero[CALIB_BINS + 1];
  prefix[0] = plogp[0] = 0;
  nonzero[0] = 0;
  for (int k = 0; k < CALIB_BINS; k++) {
    double h = hist[k];
    prefix[k + 1] = prefix[k] + h;
    plogp[k + 1] = plogp[k] + (h > 0 ? h * log(h) : 0);
    nonzero[k + 1] = nonzero[k] + (h > 0);
  }
  double best = INFINITY;
  int best_i = CALIB_BINS;
  for (int i = KL_START_BIN; i <= CALIB_BINS; i++) {
    double S = prefix[i];
    double tail = total - S; /* exact: integer counts */
    if (S <= 0) continue;    /* no unclipped data: no Q */
    int merged = i / QLEVELS;
    double sum = 0, SQ = S; /* sum over P_j > 0 of P_j (log P_j - log Qraw_j); sum Qraw */
    for (int g = 0; g < QLEVELS; g++) {
      int lo = g * merged, hi = g == QLEVELS - 1 ? i : lo + merged;
      double gtotal = prefix[hi] - prefix[lo]; /* Q's mass: unclipped bins */
      double psum = gtotal, plp = plogp[hi] - plogp[lo];
      int nz = nonzero[hi] - nonzero[lo];
      if (hi == i && tail > 0) { /* P[i-1] also holds the tail */
        double h = hist[i - 1], p = h + tail;
        psum += tail;
        plp += p * log(p) - (h > 0 ? h * log(h) : 0);
        nz += h > 0 ? 0 : 1;
      }
      if (!nz) continue;
      if (gtotal > 0) {
        sum += plp - psum * log(gtotal / nz);
      } else {
        /* Only P[i-1] (the folded tail) is nonzero here: Q gets eps there. */
        sum += plp - psum * log(KL_EPS);
        SQ += KL_EPS;
      }
    }
    double kl = log(SQ / total) + sum / total;
    if (kl < best) {
      best = kl;
      best_i = i;
    }
  }
  return best_i * w;
}

void calib_thresholds(CalibStats *st, double percentile) {
  double total = 0;
  for (int k = 0; k < CALIB_BINS; k++) total += st->hist[k];
  if (!(st->absmax > 0) || !isfinite(st->absmax)) {
    /* Nothing but zeros (or nothing at all): every threshold is 0. */
    st->bin_width = 0;
    for (int m = 0; m < 4; m++) st->amax[m] = 0;
    return;
  }
  double w = st->absmax / CALIB_BINS;
  st->bin_width = w;
  st->amax[CAL_MAX] = st->absmax;
  if (!(total > 0)) {
    /* A range without a histogram (not produced by calibrate()): only max is known. */
    st->amax[CAL_PERCENTILE] = st->amax[CAL_MSE] = st->amax[CAL_ENTROPY] = st->absmax;
    return;
  }
  st->amax[CAL_PERCENTILE] = amax_percentile(st->hist, total, w, percentile);
  st->amax[CAL_MSE] = amax_mse(st->hist, total, w);
  st->amax[CAL_ENTROPY] = amax_entropy(st->hist, total, w);
}

/* ----------------------------------------------------------- calibration */

typedef struct Progress {
  pthread_mutex_t lock;
  bool show; /* stderr is a terminal */
  int pass, done, n, step;
} Progress;

static void progress_tick(Progress *p) {
  if (!p->show) return;
  pthread_mutex_lock(&p->lock);
  p->done++;
  if (p->done == p->n || p->done % p->step == 0) {
    fprintf(stderr, "\rcalibrating: pass %d/2, %d/%d samples", p->pass, p->done, p->n);
    fflush(stderr);
  }
  pthread_mutex_unlock(&p->lock);
}

/* What one thread saw; arrays indexed by slot (the non-constant values, in id order). */
typedef struct Worker {
  const Graph *g;
  const Samples *samples;
  const int *slot_value; /* slot -> value id */
  int nslots;
  int begin, end;        /* samples [begin, end) */
  int pass;              /* 1 or 2 */
  FloatRun *run;
  const float **inputs;  /* one pointer per graph input */
  double *absmax;        /* pass 1, per slot */
  int64_t *count;        /* pass 1: finite elements */
  int64_t *nonfinite;    /* pass 1 */
  double *hist;          /* pass 2: nslots * CALIB_BINS */
  const double *merged_absmax; /* pass 2: the ranges of all threads */
  Progress *progress;
  /* threshold phase */
  CalibStats **stats;
  double percentile;
  int tindex, nthreads;
} Worker;

static void run_sample(Worker *w, int s) {
  const Graph *g = w->g;
  for (int k = 0; k < g->ninputs; k++)
    w->inputs[k] = w->samples[k].data + (int64_t)s * w->samples[k].per_sample;
  float_run(w->run, w->inputs);
}

static void pass1_sample(Worker *w) {
  for (int t = 0; t < w->nslots; t++) {
    int v = w->slot_value[t];
    const float *x = w->run->buf[v];
    int64_t n = shape_numel(&w->g->values[v].shape), bad = 0;
    double m = w->absmax[t];
    for (int64_t e = 0; e < n; e++) {
      double a = fabs((double)x[e]);
      if (!isfinite(a)) bad++;
      else if (a > m) m = a;
    }
    w->absmax[t] = m;
    w->count[t] += n - bad;
    w->nonfinite[t] += bad;
  }
}

static void pass2_sample(Worker *w) {
  for (int t = 0; t < w->nslots; t++) {
    double amax = w->merged_absmax[t];
    if (!(amax > 0)) continue; /* all zeros: the histogram stays empty */
    int v = w->slot_value[t];
    const float *x = w->run->buf[v];
    int64_t n = shape_numel(&w->g->values[v].shape);
    double bw = amax / CALIB_BINS, *h = w->hist + (size_t)t * CALIB_BINS;
    for (int64_t e = 0; e < n; e++) {
      double a = fabs((double)x[e]);
      if (!isfinite(a)) continue;
      double b = a / bw;
      int k = b >= CALIB_BINS ? CALIB_BINS - 1 : (int)b;
      h[k] += 1.0;
    }
  }
}

static void *worker_samples(void *arg) {
  Worker *w = arg;
  for (int s = w->begin; s < w->end; s++) {
    run_sample(w, s);
    if (w->pass == 1) pass1_sample(w);
    else pass2_sample(w);
    progress_tick(w->progress);
  }
  return NULL;
}

static void *worker_thresholds(void *arg) {
  Worker *w = arg;
  for (int t = w->tindex; t < w->nslots; t += w->nthreads)
    calib_thresholds(w->stats[w->slot_value[t]], w->percentile);
  return NULL;
}

CalibStats **calibrate(const Graph *g, const Samples *samples, int n, const Config *cfg) {
  double percentile = cfg ? cfg->percentile : 99.99;
  for (int k = 0; k < g->ninputs; k++) {
    const Value *v = &g->values[g->inputs[k]];
    if (samples[k].per_sample != shape_numel(&v->shape))
      internal_error("calibrate: input %s: %lld elements per sample, expected %lld", v->name,
                     (long long)samples[k].per_sample, (long long)shape_numel(&v->shape));
    if (samples[k].n < n) n = samples[k].n;
  }
  if (n < 0) n = 0;

  CalibStats **stats = xcalloc((size_t)g->nvalues, sizeof(CalibStats *));
  int *slot_value = xmalloc(sizeof(int) * (size_t)(g->nvalues ? g->nvalues : 1)), nslots = 0;
  for (int v = 0; v < g->nvalues; v++)
    if (!g->values[v].is_const) {
      slot_value[nslots++] = v;
      stats[v] = xcalloc(1, sizeof(CalibStats));
    }

  int nthreads = parallel_threads(n);
  Progress progress = {.show = n > 0 && isatty(2), .n = n, .step = n / 100 > 0 ? n / 100 : 1};
  pthread_mutex_init(&progress.lock, NULL);
  size_t ns = (size_t)(nslots ? nslots : 1);
  double *merged_absmax = xcalloc(ns, sizeof(double));
  Worker ws[MAX_THREADS];
  for (int t = 0; t < nthreads; t++) {
    Worker *w = &ws[t];
    memset(w, 0, sizeof *w);
    w->g = g;
    w->samples = samples;
    w->slot_value = slot_value;
    w->nslots = nslots;
    w->begin = (int)((int64_t)n * t / nthreads);
    w->end = (int)((int64_t)n * (t + 1) / nthreads);
    w->run = n > 0 ? float_run_new(g) : NULL;
    w->inputs = xcalloc((size_t)(g->ninputs ? g->ninputs : 1), sizeof(float *));
    w->absmax = xcalloc(ns, sizeof(double));
    w->count = xcalloc(ns, sizeof(int64_t));
    w->nonfinite = xcalloc(ns, sizeof(int64_t));
    w->hist = xcalloc(ns * CALIB_BINS, sizeof(double));
    w->merged_absmax = merged_absmax;
    w->progress = &progress;
    w->stats = stats;
    w->percentile = percentile;
    w->tindex = t;
    w->nthreads = nthreads;
  }

  /* Pass 1: ranges. */
  for (int t = 0; t < nthreads; t++) ws[t].pass = 1;
  progress.pass = 1;
  run_parallel(ws, sizeof *ws, nthreads, worker_samples);
  for (int s = 0; s < nslots; s++) {
    CalibStats *st = stats[slot_value[s]];
    int64_t bad = 0;
    for (int t = 0; t < nthreads; t++) {
      if (ws[t].absmax[s] > st->absmax) st->absmax = ws[t].absmax[s];
      st->count += ws[t].count[s];
      bad += ws[t].nonfinite[s];
    }
    merged_absmax[s] = st->absmax;
    st->bin_width = st->absmax / CALIB_BINS;
    if (bad) {
      const Value *v = &g->values[slot_value[s]];
      warning_at(v->loc, "calibration: '%s' had %lld non-finite values (NaN or infinity); they are left out of its range",
                 v->name, (long long)bad);
    }
  }

  /* Pass 2: histograms over the merged ranges. */
  for (int t = 0; t < nthreads; t++) ws[t].pass = 2;
  progress.pass = 2;
  progress.done = 0;
  run_parallel(ws, sizeof *ws, nthreads, worker_samples);
  if (progress.show) fputc('\n', stderr);
  for (int s = 0; s < nslots; s++) {
    CalibStats *st = stats[slot_value[s]];
    for (int t = 0; t < nthreads; t++) {
      const double *h = ws[t].hist + (size_t)s * CALIB_BINS;
      for (int k = 0; k < CALIB_BINS; k++) st->hist[k] += h[k];
    }
  }

  /* Thresholds, one value per thread at a time. */
  run_parallel(ws, sizeof *ws, nthreads, worker_thresholds);

  for (int t = 0; t < nthreads; t++) {
    float_run_free(ws[t].run);
    free(ws[t].inputs);
    free(ws[t].absmax);
    free(ws[t].count);
    free(ws[t].nonfinite);
    free(ws[t].hist);
  }
  pthread_mutex_destroy(&progress.lock);
  free(merged_absmax);
  free(slot_value);
  return stats;
}
