/* test_calibrate.c — calibration (calibrate.c): the two passes over tiny hand-built
 * graphs, the thresholds of every method on synthetic distributions (uniform, Gaussian
 * with outliers, Laplace, all zeros), exact percentile and entropy on hand-built
 * histograms (the entropy against a direct, unoptimized transcription of the
 * procedure), determinism across thread counts, and the progress line. */
#define _XOPEN_SOURCE 700
#include "shiftc.h"
#include "testlib.h"

#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const SrcLoc LOC = {"t.nn", 1, 1};

/* ------------------------------------------------------------ random data */

static uint64_t rng_state;
static void rng_seed(uint64_t s) { rng_state = s; }
static uint64_t rng_next(void) { /* splitmix64 */
  uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}
static double urand(void) { return (double)(rng_next() >> 11) * (1.0 / 9007199254740992.0); } /* [0,1) */
static double gauss(void) {
  double u1 = urand(), u2 = urand();
  if (u1 < 1e-300) u1 = 1e-300;
  return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}
static double laplace(void) {
  double u = urand() - 0.5;
  double a = 1.0 - 2.0 * fabs(u);
  if (a < 1e-300) a = 1e-300;
  return (u < 0 ? 1.0 : -1.0) * log(a);
}

/* ---------------------------------------------------------------- graphs */

/* x: input [1, numel];  c: constant 2 of shape [1];  y = x * c;  z = relu(y). */
typedef struct TG {
  Graph *g;
  int x, c, y, z;
} TG;

static TG make_graph(int64_t numel) {
  TG t;
  t.g = graph_new("t", "t.nn");
  Graph *g = t.g;
  t.x = graph_add_value(g, "x", LOC);
  g->values[t.x].shape = shape_make(2, (int64_t[]){1, numel});
  g->values[t.x].is_input = true;
  float *two = xmalloc(sizeof(float));
  two[0] = 2.0f;
  Tensor ct = {.name = "c", .dtype = DT_F32, .shape = shape_make(1, (int64_t[]){1}), .f = two};
  t.c = graph_add_const(g, "c", &ct, LOC);
  graph_add_node(g, OP_MUL, "m", LOC, (int[]){t.x, t.c}, 2, "y");
  t.y = graph_find_value(g, "y");
  graph_add_node(g, OP_RELU, "r", LOC, (int[]){t.y}, 1, "z");
  t.z = graph_find_value(g, "z");
  g->inputs = xmalloc(sizeof(int));
  g->inputs[0] = t.x;
  g->ninputs = 1;
  g->outputs = xmalloc(sizeof(int));
  g->outputs[0] = t.z;
  g->noutputs = 1;
  infer_shapes(g);
  return t;
}

typedef enum { D_UNIFORM, D_GAUSS, D_LAPLACE, D_ZERO } Dist;

static Samples make_samples(int n, int64_t per, Dist d, uint64_t seed) {
  Samples s = {.n = n, .per_sample = per, .data = xmalloc(sizeof(float) * (size_t)(n * per))};
  rng_seed(seed);
  for (int64_t i = 0; i < n * per; i++) {
    double v = 0;
    switch (d) {
    case D_UNIFORM: v = 2.0 * urand() - 1.0; break;
    case D_GAUSS: v = gauss(); break;
    case D_LAPLACE: v = laplace(); break;
    case D_ZERO: v = 0; break;
    }
    s.data[i] = (float)v;
  }
  return s;
}

static Config cfg_percentile(double p) {
  Config c;
  memset(&c, 0, sizeof c);
  c.percentile = p;
  c.calib_method = CAL_MAX;
  return c;
}

static void free_stats(CalibStats **st, int nvalues) {
  for (int i = 0; i < nvalues; i++) free(st[i]);
  free(st);
}

static double hist_sum(const CalibStats *st) {
  double s = 0;
  for (int k = 0; k < CALIB_BINS; k++) s += st->hist[k];
  return s;
}

static bool all_finite(const CalibStats *st) {
  if (!isfinite(st->absmax) || !isfinite(st->bin_width)) return false;
  for (int m = 0; m < 4; m++)
    if (!isfinite(st->amax[m])) return false;
  return true;
}

static void print_thresholds(const char *what, const CalibStats *st) {
  printf("# %s: max %.6g  percentile %.6g  mse %.6g  entropy %.6g  (bin width %.6g)\n", what,
         st->amax[CAL_MAX], st->amax[CAL_PERCENTILE], st->amax[CAL_MSE], st->amax[CAL_ENTROPY],
         st->bin_width);
}

/* ------------------------------------------- direct entropy, for reference */

/* The KL procedure transcribed literally (explicit P and Q arrays, normalized, KL by
 * its definition), to check calibrate.c's algebraically rearranged version. */
static double entropy_reference(const double *hist, double absmax) {
  static double P[CALIB_BINS], Q[CALIB_BINS];
  double best = INFINITY;
  int best_i = CALIB_BINS;
  for (int i = 128; i <= CALIB_BINS; i++) {
    double tail = 0, sumq = 0, sump = 0;
    for (int j = i; j < CALIB_BINS; j++) tail += hist[j];
    for (int j = 0; j < i; j++) P[j] = hist[j];
    P[i - 1] += tail;
    int m = i / 128;
    bool any = false;
    for (int g = 0; g < 128; g++) {
      int lo = g * m, hi = g == 127 ? i : lo + m, nz = 0;
      double tot = 0;
      for (int j = lo; j < hi; j++) {
        tot += hist[j]; /* unclipped bins */
        if (P[j] > 0) nz++;
      }
      if (tot > 0) any = true;
      for (int j = lo; j < hi; j++) Q[j] = P[j] > 0 ? (tot > 0 ? tot / nz : 1e-4) : 0;
    }
    if (!any) continue;
    for (int j = 0; j < i; j++) {
      sump += P[j];
      sumq += Q[j];
    }
    double kl = 0;
    for (int j = 0; j < i; j++)
      if (P[j] > 0) {
        double p = P[j] / sump, q = Q[j] / sumq;
        kl += p * log(p / q);
      }
    if (kl < best) {
      best = kl;
      best_i = i;
    }
  }
  return best_i * (absmax / CALIB_BINS);
}

/* ------------------------------------------------------------------ tests */

static void test_uniform(void) {
  const int N = 64, PER = 1000;
  TG t = make_graph(PER);
  Samples s = make_samples(N, PER, D_UNIFORM, 1);
  Config cfg = cfg_percentile(99.99);
  CalibStats **st = calibrate(t.g, &s, N, &cfg);
  t_check(st[t.c] == NULL && st[t.x] && st[t.y] && st[t.z], "uniform: stats for every non-constant value, none for the constant",
          "x %p c %p y %p z %p", (void *)st[t.x], (void *)st[t.c], (void *)st[t.y], (void *)st[t.z]);
  const CalibStats *x = st[t.x], *y = st[t.y], *z = st[t.z];
  print_thresholds("uniform [-1,1] x", x);
  t_check(x->count == (int64_t)N * PER && hist_sum(x) == (double)x->count, "uniform: count and histogram mass",
          "count %lld hist %g", (long long)x->count, hist_sum(x));
  t_check(x->bin_width == x->absmax / CALIB_BINS, "uniform: bin width", "%g", x->bin_width);
  t_check(x->amax[CAL_MAX] == x->absmax && x->absmax > 0.999 && x->absmax <= 1.0, "uniform: max ~ 1", "%g", x->absmax);
  t_check(x->amax[CAL_PERCENTILE] > 0.99 && x->amax[CAL_PERCENTILE] <= x->absmax, "uniform: percentile 99.99 ~ 1", "%g",
          x->amax[CAL_PERCENTILE]);
  /* Continuous optimum for U[0,1] at 8 bits: (1-A) = A*sqrt(3)/(127*sqrt(12)) -> A ~ 0.9961. */
  t_check(x->amax[CAL_MSE] > 0.98 && x->amax[CAL_MSE] <= x->absmax, "uniform: mse close to 1", "%g", x->amax[CAL_MSE]);
  t_check(x->amax[CAL_ENTROPY] > 0.5 && x->amax[CAL_ENTROPY] <= x->absmax, "uniform: entropy in (0.5, max]", "%g",
          x->amax[CAL_ENTROPY]);
  /* y = 2x exactly: the same histogram, every threshold doubled exactly. */
  bool same = y->absmax == 2 * x->absmax && memcmp(y->hist, x->hist, sizeof x->hist) == 0;
  for (int m = 0; m < 4; m++) same = same && y->amax[m] == 2 * x->amax[m];
  t_check(same, "uniform: y = 2x has the same histogram and doubled thresholds", "absmax %g vs %g", y->absmax, x->absmax);
  /* z = relu(y): half the values are zeros, in bin 0. */
  double nzero = 0;
  for (int64_t i = 0; i < (int64_t)N * PER; i++) nzero += s.data[i] <= 0;
  t_check(z->absmax <= y->absmax && z->absmax > 1.99 && z->count == (int64_t)N * PER && z->hist[0] >= nzero &&
              hist_sum(z) == (double)z->count,
          "uniform: relu output keeps its zeros in bin 0", "absmax %g bin0 %g zeros %g count %lld", z->absmax, z->hist[0], nzero,
          (long long)z->count);
  print_thresholds("uniform relu(2x) z", z);
  t_check(all_finite(z) && z->amax[CAL_MSE] <= z->absmax && z->amax[CAL_ENTROPY] <= z->absmax, "uniform: relu thresholds finite and <= max",
          "mse %g entropy %g", z->amax[CAL_MSE], z->amax[CAL_ENTROPY]);
  free_stats(st, t.g->nvalues);
  free(s.data);
}

static void gauss_outliers(double outlier, bool check_entropy_below_10) {
  const int N = 64, PER = 1000;
  TG t = make_graph(PER);
  Samples s = make_samples(N, PER, D_GAUSS, 2);
  s.data[17] = (float)outlier;
  s.data[5 * PER + 3] = (float)-outlier;
  s.data[40 * PER + 999] = (float)(0.9 * outlier);
  Config cfg = cfg_percentile(99.99);
  CalibStats **st = calibrate(t.g, &s, N, &cfg);
  const CalibStats *x = st[t.x];
  char what[80];
  snprintf(what, sizeof what, "N(0,1) + outliers %g", outlier);
  print_thresholds(what, x);
  char name[160];
  snprintf(name, sizeof name, "gauss+outliers %g: max = outlier", outlier);
  t_check(x->amax[CAL_MAX] == (double)(float)outlier, name, "%g", x->amax[CAL_MAX]);
  snprintf(name, sizeof name, "gauss+outliers %g: percentile 99.99 near 4", outlier);
  t_check(x->amax[CAL_PERCENTILE] > 3.0 && x->amax[CAL_PERCENTILE] < 5.0, name, "%g", x->amax[CAL_PERCENTILE]);
  /* 3 outliers in 64000 values: clipping them near 4 would cost 3*(O-4)^2/64000 per
   * element (46 at O = 1000, 0.4 at O = 100), more than the coarse steps of keeping them
   * (~1 and ~0.05): the true MSE optimum keeps (nearly) the whole range. */
  snprintf(name, sizeof name, "gauss+outliers %g: mse keeps outliers that dominate the squared error", outlier);
  t_check(x->amax[CAL_MSE] >= 0.8 * outlier && x->amax[CAL_MSE] <= x->absmax, name, "%g", x->amax[CAL_MSE]);
  if (check_entropy_below_10) {
    snprintf(name, sizeof name, "gauss+outliers %g: entropy < 10", outlier);
    t_check(x->amax[CAL_ENTROPY] > 1.0 && x->amax[CAL_ENTROPY] < 10, name, "%g", x->amax[CAL_ENTROPY]);
  } else {
    /* The KL candidates start at bin 128: amax >= absmax * 128/2048. With 3 outliers
     * it takes that floor (far below the outlier). */
    snprintf(name, sizeof name, "gauss+outliers %g: entropy at its floor 128 bins (absmax/16)", outlier);
    t_check(x->amax[CAL_ENTROPY] == 128 * x->bin_width, name, "%g (floor %g)", x->amax[CAL_ENTROPY], 128 * x->bin_width);
  }
  free_stats(st, t.g->nvalues);
  free(s.data);
}

/* Rare outliers (3 in 1e9): the expected counts of |N(0,1)| in the 2048 bins of
 * [0, 1000], plus 3 in the last bin. Now clipping them is cheap and mse clips. */
static void rare_outliers(void) {
  CalibStats *h = xcalloc(1, sizeof *h);
  h->absmax = 1000;
  double w = h->absmax / CALIB_BINS;
  for (int k = 0; k < CALIB_BINS; k++)
    h->hist[k] = floor(1e9 * (erf((k + 1) * w / sqrt(2.0)) - erf(k * w / sqrt(2.0))) + 0.5);
  h->hist[CALIB_BINS - 1] += 3;
  calib_thresholds(h, 99.99);
  print_thresholds("hand: 1e9 |N(0,1)| + 3 outliers 1000", h);
  t_check(h->amax[CAL_MSE] > 2 && h->amax[CAL_MSE] < 10, "rare outliers: mse < 10", "%g", h->amax[CAL_MSE]);
  t_check(h->amax[CAL_PERCENTILE] > 3 && h->amax[CAL_PERCENTILE] < 5, "rare outliers: percentile 99.99 near 4", "%g",
          h->amax[CAL_PERCENTILE]);
  t_check(h->amax[CAL_ENTROPY] == 128 * w, "rare outliers: entropy at its floor absmax/16", "%g", h->amax[CAL_ENTROPY]);
  free(h);
}

static void test_laplace(void) {
  const int N = 64, PER = 1000;
  TG t = make_graph(PER);
  Samples s = make_samples(N, PER, D_LAPLACE, 3);
  Config cfg = cfg_percentile(99.99);
  CalibStats **st = calibrate(t.g, &s, N, &cfg);
  const CalibStats *x = st[t.x];
  print_thresholds("Laplace(0,1) x", x);
  t_check(x->absmax > 8 && x->absmax < 20, "laplace: max ~ ln(64000)", "%g", x->absmax);
  t_check(x->amax[CAL_MSE] < x->absmax && x->amax[CAL_MSE] > 3, "laplace: mse below max", "mse %g max %g", x->amax[CAL_MSE], x->absmax);
  t_check(x->amax[CAL_ENTROPY] < x->absmax && x->amax[CAL_ENTROPY] > 3, "laplace: entropy below max", "entropy %g max %g",
          x->amax[CAL_ENTROPY], x->absmax);
  t_check(x->amax[CAL_PERCENTILE] <= x->absmax && x->amax[CAL_PERCENTILE] > 6, "laplace: percentile 99.99 ~ ln(10^4)", "%g",
          x->amax[CAL_PERCENTILE]);
  free_stats(st, t.g->nvalues);
  free(s.data);
}

static void test_zero(void) {
  const int N = 8, PER = 100;
  TG t = make_graph(PER);
  Samples s = make_samples(N, PER, D_ZERO, 0);
  Config cfg = cfg_percentile(99.9);
  CalibStats **st = calibrate(t.g, &s, N, &cfg);
  bool ok = true;
  int vals[] = {t.x, t.y, t.z};
  for (int i = 0; i < 3; i++) {
    const CalibStats *x = st[vals[i]];
    ok = ok && x && x->absmax == 0 && x->count == N * PER && hist_sum(x) == 0 && all_finite(x);
    for (int m = 0; m < 4; m++) ok = ok && x->amax[m] == 0;
  }
  t_check(ok, "zero: all-zero data gives thresholds 0, empty histogram, count set, no NaN", "absmax %g count %lld",
          st[t.x]->absmax, (long long)st[t.x]->count);
  free_stats(st, t.g->nvalues);

  /* Zeros with a few outliers, through calibrate. */
  s.data[10] = 1000;
  s.data[250] = -500;
  st = calibrate(t.g, &s, N, &cfg);
  const CalibStats *x = st[t.x];
  print_thresholds("zeros + outliers 1000, -500 x", x);
  t_check(all_finite(x) && x->absmax == 1000 && x->amax[CAL_PERCENTILE] > 0 && x->amax[CAL_MSE] > 0 && x->amax[CAL_ENTROPY] > 0 &&
              x->amax[CAL_MSE] <= 1000 && x->amax[CAL_ENTROPY] <= 1000,
          "zero: zeros plus two outliers give finite thresholds in (0, max]", "p %g mse %g ent %g", x->amax[CAL_PERCENTILE],
          x->amax[CAL_MSE], x->amax[CAL_ENTROPY]);
  free_stats(st, t.g->nvalues);
  free(s.data);

  /* Hand-built: all mass in bin 0 but 3 counts in the last bin; and only the last bin. */
  CalibStats *h = xcalloc(1, sizeof *h);
  h->absmax = 10;
  h->hist[0] = 1e6;
  h->hist[CALIB_BINS - 1] = 3;
  calib_thresholds(h, 99.99);
  print_thresholds("hand: 1e6 in bin 0, 3 in bin 2047, absmax 10", h);
  t_check(all_finite(h) && h->amax[CAL_PERCENTILE] == 10.0 / CALIB_BINS && h->amax[CAL_MSE] > 0 && h->amax[CAL_ENTROPY] > 0,
          "zero: spike at 0 with outliers: finite, percentile = first bin edge", "p %g mse %g ent %g", h->amax[CAL_PERCENTILE],
          h->amax[CAL_MSE], h->amax[CAL_ENTROPY]);
  memset(h, 0, sizeof *h);
  h->absmax = 4;
  h->hist[CALIB_BINS - 1] = 7; /* a constant |x| = absmax */
  calib_thresholds(h, 99.99);
  /* mse: the bin's center (absmax - w/2) is as far from amax = absmax (code 127) as
   * from amax = absmax - w (clipped): a tie, and ties go to the smaller. */
  bool maxlike = h->amax[CAL_MAX] == 4 && h->amax[CAL_PERCENTILE] == 4 && h->amax[CAL_ENTROPY] == 4 &&
                 h->amax[CAL_MSE] == 4 - 4.0 / CALIB_BINS;
  t_check(maxlike, "zero: constant |x|: max, percentile, entropy = absmax, mse one bin below", "p %g mse %g ent %g",
          h->amax[CAL_PERCENTILE], h->amax[CAL_MSE], h->amax[CAL_ENTROPY]);
  memset(h, 0, sizeof *h);
  h->hist[3] = 5; /* inconsistent input: absmax 0 wins */
  calib_thresholds(h, 99.99);
  t_check(h->amax[0] == 0 && h->amax[1] == 0 && h->amax[2] == 0 && h->amax[3] == 0, "zero: absmax 0 gives 0 thresholds", "%g", h->amax[2]);
  free(h);
}

static bool same_stats(CalibStats **a, CalibStats **b, int nvalues, int *where) {
  for (int v = 0; v < nvalues; v++) {
    *where = v;
    if (!a[v] != !b[v]) return false;
    if (a[v] && memcmp(a[v], b[v], sizeof(CalibStats)) != 0) return false;
  }
  return true;
}

static void test_threads(void) {
  const int N = 37, PER = 513; /* odd counts: uneven split between threads */
  TG t = make_graph(PER);
  Samples s = make_samples(N, PER, D_LAPLACE, 4);
  Config cfg = cfg_percentile(99.9);
  char *saved = getenv("SHIFTC_THREADS") ? xstrdup(getenv("SHIFTC_THREADS")) : NULL;
  setenv("SHIFTC_THREADS", "1", 1);
  CalibStats **one = calibrate(t.g, &s, N, &cfg);
  setenv("SHIFTC_THREADS", "2", 1);
  CalibStats **two = calibrate(t.g, &s, N, &cfg);
  setenv("SHIFTC_THREADS", "5", 1);
  CalibStats **five = calibrate(t.g, &s, N, &cfg);
  setenv("SHIFTC_THREADS", "junk", 1); /* ignored: the default */
  CalibStats **dflt = calibrate(t.g, &s, N, &cfg);
  if (saved) setenv("SHIFTC_THREADS", saved, 1);
  else unsetenv("SHIFTC_THREADS");
  int where = 0;
  t_check(same_stats(one, two, t.g->nvalues, &where), "threads: 1 and 2 threads give identical stats (hist, amax, count)",
          "differ at value %d", where);
  t_check(same_stats(one, five, t.g->nvalues, &where), "threads: 1 and 5 threads give identical stats", "differ at value %d", where);
  t_check(same_stats(one, dflt, t.g->nvalues, &where), "threads: default thread count gives identical stats", "differ at value %d",
          where);
  t_check(one[t.x]->count == (int64_t)N * PER && hist_sum(one[t.x]) == (double)N * PER, "threads: every sample counted once",
          "count %lld", (long long)one[t.x]->count);
  free_stats(one, t.g->nvalues);
  free_stats(two, t.g->nvalues);
  free_stats(five, t.g->nvalues);
  free_stats(dflt, t.g->nvalues);
  free(saved);

  /* Only the first n samples: the 10th holds a value the first 9 do not reach. */
  s.data[9 * PER] = 77;
  CalibStats **first = calibrate(t.g, &s, 9, &cfg);
  CalibStats **all = calibrate(t.g, &s, 10, &cfg);
  t_check(first[t.x]->absmax < 77 && first[t.x]->count == 9 * PER && all[t.x]->absmax == 77,
          "threads: only the first n samples are used", "first %g all %g", first[t.x]->absmax, all[t.x]->absmax);
  free_stats(first, t.g->nvalues);
  free_stats(all, t.g->nvalues);
  free(s.data);
}

static void test_percentile_exact(void) {
  CalibStats *h = xcalloc(1, sizeof *h);
  h->absmax = CALIB_BINS; /* bin width 1: bin k is [k, k+1) */
  h->hist[0] = 9000;
  h->hist[5] = 999;
  h->hist[100] = 1;
  struct {
    double p, want;
  } cases[] = {{99.99, 6}, {99.999, 101}, {100, 101}, {90, 1}, {90.0001, 6}, {50, 1}, {99.98, 6}, {99.9899, 6}};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    calib_thresholds(h, cases[i].p);
    char name[96];
    snprintf(name, sizeof name, "percentile: %g%% of {9000@0, 999@5, 1@100} is the upper edge %g", cases[i].p, cases[i].want);
    t_check(h->amax[CAL_PERCENTILE] == cases[i].want, name, "got %g", h->amax[CAL_PERCENTILE]);
  }
  t_check(h->amax[CAL_MAX] == CALIB_BINS && h->bin_width == 1, "percentile: max and bin width of the hand-built histogram", "%g %g",
          h->amax[CAL_MAX], h->bin_width);
  /* A value exactly absmax lands in the last bin (through calibrate). */
  TG t = make_graph(4);
  Samples s = {.n = 1, .per_sample = 4, .data = (float[]){0.5f, -2.0f, 1.0f, 2.0f}};
  Config cfg = cfg_percentile(100);
  CalibStats **st = calibrate(t.g, &s, 1, &cfg);
  const CalibStats *x = st[t.x];
  t_check(x->absmax == 2 && x->hist[CALIB_BINS - 1] == 2 && x->hist[CALIB_BINS / 2] == 1 && x->hist[CALIB_BINS / 4] == 1 &&
              x->amax[CAL_PERCENTILE] == 2,
          "percentile: |x| == absmax goes to the last bin; 100% gives absmax", "last %g mid %g quarter %g p %g",
          x->hist[CALIB_BINS - 1], x->hist[CALIB_BINS / 2], x->hist[CALIB_BINS / 4], x->amax[CAL_PERCENTILE]);
  free_stats(st, t.g->nvalues);
  free(h);
}

/* A flat histogram (uniform data): the continuous optimum of 8-bit MSE on U[0, 1] solves
 * A^3/(12*127^2) + (1-A)^3/3 -> min, i.e. 1 - A = A/254: A = 254/255. */
static void test_mse_flat(void) {
  CalibStats *h = xcalloc(1, sizeof *h);
  h->absmax = 1;
  for (int k = 0; k < CALIB_BINS; k++) h->hist[k] = 1000;
  calib_thresholds(h, 99.99);
  t_check(fabs(h->amax[CAL_MSE] - 254.0 / 255.0) <= 0.5 / CALIB_BINS, "mse: flat histogram gives 254/255 of the range (to half a bin)",
          "%.9g", h->amax[CAL_MSE]);
  free(h);
}

static void test_entropy_reference(void) {
  CalibStats *h = xcalloc(1, sizeof *h);
  for (int c = 0; c < 6; c++) {
    memset(h, 0, sizeof *h);
    rng_seed(100 + (uint64_t)c);
    h->absmax = 3.0 + c;
    for (int k = 0; k < CALIB_BINS; k++) {
      double shape = c % 3 == 0 ? exp(-k / 60.0) : c % 3 == 1 ? exp(-(k * k) / 2.0e4) : 1.0 / (1.0 + k / 20.0);
      double v = floor(1e5 * shape * (0.5 + urand()));
      if (c >= 3 && urand() < 0.5) v = 0; /* holes, so that the zero-bin rules matter */
      h->hist[k] = v;
    }
    if (c == 4) h->hist[CALIB_BINS - 1] = 2; /* an isolated outlier past an empty stretch */
    if (c == 5)
      for (int k = 300; k < CALIB_BINS - 1; k++) h->hist[k] = 0;
    calib_thresholds(h, 99.99);
    double want = entropy_reference(h->hist, h->absmax);
    char name[96];
    snprintf(name, sizeof name, "entropy: matches the literal transcription (histogram %d)", c);
    t_check(h->amax[CAL_ENTROPY] == want, name, "got %.9g want %.9g", h->amax[CAL_ENTROPY], want);
  }
  free(h);
}

static void test_nonfinite(void) {
  TG t = make_graph(10);
  float d[20] = {1, 2, 3, NAN, 5, 6, 7, 8, 9, 10, INFINITY, -4, 0, 0, 0, 0, 0, 0, 0, 0};
  Samples s = {.n = 2, .per_sample = 10, .data = d};
  Config cfg = cfg_percentile(99.9);
  printf("# a warning about 2 non-finite values of x (and of y, z) is expected on stderr\n");
  fflush(stdout);
  CalibStats **st = calibrate(t.g, &s, 2, &cfg);
  const CalibStats *x = st[t.x];
  t_check(x->absmax == 10 && x->count == 18 && hist_sum(x) == 18 && all_finite(x), "nonfinite: NaN and Inf left out",
          "absmax %g count %lld", x->absmax, (long long)x->count);
  free_stats(st, t.g->nvalues);
}

/* Progress: nothing when stderr is not a terminal; the `\r` line when it is (a pty). */
static void test_progress(void) {
  TG t = make_graph(16);
  Samples s = make_samples(8, 16, D_GAUSS, 5);
  Config cfg = cfg_percentile(99.9);
  fflush(stderr);
  int saved = dup(2);
  char path[] = "/tmp/shiftc_cal_errXXXXXX";
  int fd = mkstemp(path);
  dup2(fd, 2);
  CalibStats **st = calibrate(t.g, &s, 8, &cfg);
  fflush(stderr);
  dup2(saved, 2);
  free_stats(st, t.g->nvalues);
  off_t len = lseek(fd, 0, SEEK_END);
  close(fd);
  unlink(path);
  t_check(len == 0, "progress: nothing printed when stderr is not a terminal", "%lld bytes", (long long)len);

  int master = posix_openpt(O_RDWR | O_NOCTTY);
  if (master < 0 || grantpt(master) != 0 || unlockpt(master) != 0) {
    t_ok("progress: on a terminal (skipped: no pseudo-terminal available)");
    if (master >= 0) close(master);
    close(saved);
    free(s.data);
    return;
  }
  int slave = open(ptsname(master), O_RDWR | O_NOCTTY);
  dup2(slave, 2);
  st = calibrate(t.g, &s, 8, &cfg);
  fflush(stderr);
  dup2(saved, 2);
  close(saved);
  close(slave);
  free_stats(st, t.g->nvalues);
  char buf[4096];
  size_t n = 0;
  fcntl(master, F_SETFL, O_NONBLOCK);
  for (;;) {
    ssize_t got = read(master, buf + n, sizeof buf - 1 - n);
    if (got <= 0) break;
    n += (size_t)got;
  }
  buf[n] = '\0';
  close(master);
  bool ok = strstr(buf, "\rcalibrating: pass 1/2, 1/8 samples") && strstr(buf, "\rcalibrating: pass 1/2, 8/8 samples") &&
            strstr(buf, "\rcalibrating: pass 2/2, 8/8 samples") && strchr(buf, '\n');
  t_check(ok, "progress: `\\rcalibrating: pass k/2, i/n samples` updates and a final newline on a terminal", "got %zu bytes: %.200s",
          n, buf);
  free(s.data);
}

int main(void) {
  test_uniform();
  gauss_outliers(1000, false);
  gauss_outliers(100, true);
  rare_outliers();
  test_laplace();
  test_zero();
  test_threads();
  test_percentile_exact();
  test_mse_flat();
  test_entropy_reference();
  test_nonfinite();
  test_progress();
  return t_exit_status();
}
