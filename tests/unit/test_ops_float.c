/* test_ops_float.c — the shape rules and float evaluations of ops_float.c, one
 * hand-built graph per case. Expected numbers come from PyTorch 1.13 (float32,
 * one thread) on inputs made by fill() below, which gives exactly representable
 * values (k/32) so that Python and C start from the same bits:
 *
 *   def fill(shape, seed, scale=1.0):
 *       i = np.arange(prod(shape)); v = (((i*131 + seed*71) % 97) - 48) / 32.0
 *       return (v.astype(np.float32) * np.float32(scale)).reshape(shape)
 *
 * (E_layernorm_l1 is numpy float64, torch having no such op.) User errors are
 * checked in a forked child: exit status 1 and the exact message on stderr. */
#define _POSIX_C_SOURCE 200809L
#include "shiftc.h"
#include "testlib.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* ------------------------------------------------------- expected (torch) */

static const float E_linear_bias[8] = {-1.99707031, -1.046875, -0.0966796875, -2.17773438, -2.01660156, -0.993164062, 0.0302734375, -1.97753906};
static const float E_linear_nd[12] = {3.07519531, -1.953125, -2.24511719, 4.59863281, -2.1640625, -1.91699219, -2.30859375, 3.02441406, -0.736328125, -2.01660156, -0.69140625, 3.00195312};
static const float E_matmul_2d[8] = {-1.17773438, 1.68652344, -1.41699219, -1.29980469, -1.13378906, 1.75488281, -1.32421875, -1.18261719};
static const float E_matmul_bcast[24] = {1.13574219, 0.999023438, 1.31640625, 1.20410156, 0.694335938, -2.18945312, 0.547851562, -2.31152344, 0.821289062, -2.0625, 0.821289062, -2.03808594, 1.49707031, 1.40917969, 0.825195312, -2.45898438, 0.401367188, -2.43359375, -1.54492188, 1.61230469, 0.821289062, -2.01367188, -1.92578125, 1.23144531};
static const float E_matmul_1d_left[8] = {-0.924804688, 1.90527344, -1.23242188, -1.14941406, 2.53417969, -0.603515625, -2.13085938, 2.30957031};
static const float E_matmul_1d_right[2] = {-1.14941406, -1.09570312};
static const float E_matmul_1d_both[1] = {1.77734375};
static const float E_conv_basic[27] = {-0.954101562, -0.345703125, 3.22363281, 1.42578125, 1.05664062, -3.11816406, 1.53320312, -0.65234375, 2.6640625, -2.11425781, 3.28222656, -1.87988281, -1.9453125, -4.63378906, 0.099609375, -2.76660156, 3.04980469, 0.009765625, 3.45117188, -4.74121094, -0.731445312, -3.23242188, 2.36914062, -0.850585938, 2.31152344, -5.37304688, -1.5078125};
static const float E_conv_dw[64] = {-1.87695312, 1.44628906, 0.76171875, 0.87890625, -0.0009765625, 3.33691406, 1.015625, 1.06933594, 1.25488281, 1.03027344, 0.245117188, 0.108398438, -0.301757812, -0.438476562, -2.56640625, 0.380859375, -2.57714844, 0.565429688, -0.344726562, -0.26171875, -0.0126953125, 0.0703125, 0.907226562, -1.96679688, 0.8359375, -2.31640625, 1.17089844, 1, -3.5859375, -0.536132812, -2.39355469, 3.59375, 1.93847656, 2.04101562, 0.209960938, 3.54785156, 3.14160156, 0.0380859375, 1.04296875, 1.09667969, 0.709960938, -2.26171875, -0.547851562, -0.684570312, -3.74707031, -0.663085938, -2.35253906, 0.594726562, 0.948242188, 0.870117188, 0.13671875, 0.219726562, 2.36328125, -3.52148438, 0.549804688, -2.32421875, 1.421875, -1.73046875, -3.609375, -0.559570312, -0.598632812, 2.45117188, 3.6875, -2.26074219};
static const float E_conv_asym[42] = {1.19238281, 1.23828125, -1.48925781, 1.27734375, 1.296875, -0.009765625, -3.61621094, 1.37695312, 1.1328125, -1.59472656, 1.171875, 1.19140625, -1.53613281, 0.60546875, 1.63183594, -1.51855469, -1.28417969, 1.69726562, -1.2890625, -1.0546875, 1.47265625, -0.857421875, -2.55566406, 3.52929688, -1.84765625, 1.01660156, 1.13378906, -2.16503906, -0.171875, -2.3359375, 3.74902344, -2.1015625, -2.45800781, 3.62695312, -1.98925781, 0.048828125, -1.05566406, 1.97460938, -0.962890625, -1.15332031, 1.87695312, -0.870117188};
static const float E_batchnorm[24] = {1.70543063, 0.499002159, 2.73444319, 1.52801466, -0.881937742, -0.631907523, -0.766844451, -0.90178144, -0.0614436716, 0.642899215, 1.34724212, 0.0421361625, 0.995766819, -0.210661605, 2.02477932, 0.818350852, -0.961312413, -0.711282194, -0.846219122, -0.596188962, 0.35287565, 1.05721855, -0.247887373, 0.456455499};
static const float E_relu[12] = {0, 0, 3.59375, 0, 0, 4.375, 0, 0, 5.15625, 0, 0.625, 5.9375};
static const float E_relu6[12] = {0, 0, 3.59375, 0, 0, 4.375, 0, 0, 5.15625, 0, 0.625, 5.9375};
static const float E_gelu[12] = {0, -0.0736139417, 3.59316421, 0, -0.163360029, 4.3749733, -1.62981451e-07, -0.0684246793, 5.15624952, -6.42612576e-06, 0.458759099, 5.9375};
static const float E_sigmoid[12] = {0.000883045781, 0.152032241, 0.973240733, 0.00192673469, 0.281405628, 0.987568319, 0.00419879518, 0.461016774, 0.994269729, 0.00912563689, 0.651354909, 0.997368336};
static const float E_tanh[12] = {-0.99999845, -0.937712312, 0.998489201, -0.999992549, -0.734071493, 0.999683142, -0.999964416, -0.154990733, 0.9999336, -0.999830365, 0.554599702, 0.999986053};
static const float E_softmax_ax1[24] = {0.852676451, 0.000649926485, 0.025072515, 0.852676451, 0.00370943733, 0.0251624789, 0.970704615, 0.00370943733, 0.143614143, 0.974187613, 0.00422290061, 0.143614143, 0.852676451, 0.025072515, 0.852676451, 0.000649926485, 0.00370943733, 0.970704615, 0.00370943733, 0.0251624789, 0.143614143, 0.00422290061, 0.143614143, 0.974187613};
static const float E_softmax_last[24] = {0.374998868, 0.0010208881, 0.0247338526, 0.599246442, 0.00162916549, 0.0394710638, 0.956296384, 0.0026033991, 0.0371861458, 0.900937855, 0.00245269225, 0.0594232939, 0.935577035, 0.00254699308, 0.0617079958, 0.000167992417, 0.0371861458, 0.900937855, 0.00245269225, 0.0594232939, 0.374998868, 0.0010208881, 0.0247338526, 0.599246442};
static const float E_layernorm_l2[15] = {1.72796714, -0.31805557, -1.55757558, -1.34147727, 0.0730428919, 2.36483574, -0.514015138, 2.5575757, -0.827083409, -0.245391428, 2.36483574, -0.514015138, 2.55757546, -0.827083349, -0.245391428};
static const float E_layernorm_l1[15] = {-0.458458096, 1.13211083, -1.81511974, -0.224550903, 1.36601794, -1.36601794, 0.224550903, 1.81511974, -1.13211083, 0.458458096, -1.36601794, 0.224550903, 1.81511974, -1.13211083, 0.458458096};
static const float E_add[24] = {0.375, 1.4375, -0.53125, 0.53125, -1.59375, -0.53125, -2.5, -1.4375, -0.53125, 0.53125, -1.4375, -0.375, 0.53125, 1.59375, -0.375, 0.6875, -1.4375, -0.375, -2.34375, -1.28125, -0.375, 0.6875, -1.28125, -0.21875};
static const float E_sub[6] = {-2.21875, 0.8125, 0.8125, -2.375, 0.65625, 0.65625};
static const float E_mul[6] = {-0.1640625, -0.62890625, 0.232421875, -0.232421875, 0.62890625, 0.1640625};
static const float E_maxpool_k2[8] = {2.0625, 2.375, 2.6875, 0.875, 2.75, 2.4375, 1.25, 1.875};
static const float E_maxpool_neg[18] = {-0.5, -0.375, -0.1875, -0.6875, -0.375, -0.75, -0.4375, -0.4375, -0.125, -0.75, -0.4375, -1.0625, -0.375, -0.375, -0.1875, -0.375, -0.375, -0.1875};
static const float E_avgpool_k3[18] = {-0.298611104, -0.0069444445, -0.159722224, 0.409722209, 0.0972222239, 0.618055582, -0.277777791, -0.3125, -0.138888896, 0.409722209, 0.381944448, -0.125, 0.125, 0.0069444445, -0.340277791, -0.243055552, 0.0763888881, -0.104166664};
static const float E_avgpool_rect[36] = {-0.479166657, -0.135416672, -0.375, -0.447916657, -0.010416667, -0.239583328, 0.572916687, 0.510416687, 0.78125, 0.583333313, 0.020833334, 0.791666687, -0.416666657, -0.46875, -0.208333328, -0.458333343, -0.104166664, -0.354166657, 0.0520833321, 0.15625, 0.15625, 0.614583313, 0.572916687, -0.1875, 0.625, 0.0833333358, -0.177083328, -0.375, -0.40625, -0.166666672, -0.364583343, 0.114583336, -0.15625, 0.0729166642, 0.1875, 0.177083328};
static const float E_global_avgpool[6] = {0.0885416642, 0.401041657, -0.296875, 0.015625, 0.328125, -0.369791657};
static const float E_transpose[24] = {0.15625, 1.375, -0.4375, 0.78125, -1.03125, 0.1875, 1.21875, -0.59375, 0.625, -1.1875, 0.03125, 1.25, -0.75, 0.46875, -1.34375, -0.125, 1.09375, -0.71875, 0.3125, -1.5, -0.28125, 0.9375, -0.875, 0.34375};
static const float E_concat[36] = {-0.65625, 0.40625, 1.46875, -1.46875, -0.40625, 0.65625, -1.3125, -0.25, 0.8125, 0.75, -1.21875, -0.15625, 0.90625, -1.0625, 0, 1.0625, -0.90625, 0.15625, -0.5, 0.5625, -1.40625, -1.15625, -0.09375, 0.96875, -1, 0.0625, 1.125, 1.21875, -0.75, 0.3125, 1.375, -0.59375, 0.46875, -1.5, -0.4375, 0.625};
static const float E_embedding[12] = {0.09375, 1.15625, -0.8125, 0.5625, -1.40625, -0.34375, -0.0625, 1, -0.96875, 0.5625, -1.40625, -0.34375};
static const float E_attention_causal[24] = {9.42315674, -7.25869751, -3.6217041, -3.41854858, 9.31674576, -7.20056772, -3.56709814, -3.35896111, 7.14616299, -6.53206825, -2.05747795, -2.60195565, -0.571136475, -2.40664673, 2.628479, -0.0595703125, 2.96508241, 2.37797737, -4.62353325, 4.11690426, 3.61093569, -3.26772523, -4.28945589, 2.6567874};
static const float E_attention_keypad[24] = {-1.48493493, -0.512547553, 0.982461572, 0.794904232, 2.32230616, -0.0956030115, -1.22992694, -0.680998802, 0.734750092, 0.590104103, 2.25401068, -0.077247791, -1.22936177, -0.680812359, 0.732126355, 0.586466551, 2.24875045, -0.0730482787, -1.23128641, -0.68368423, 0.732071519, 0.584785879, 2.24481916, -0.0683569312};

/* ----------------------------------------------------------------- harness */

#define LOC_LINE 7
#define LOC_COL 3
static const SrcLoc LOC = {"t.nn", LOC_LINE, LOC_COL};

#define MAX_VALUES 64
static float *g_data[MAX_VALUES]; /* test data of inputs and constants, by value id */

#define DIMS(...) (int)(sizeof((int64_t[]){__VA_ARGS__}) / sizeof(int64_t)), (int64_t[]){__VA_ARGS__}
#define SCALAR 0, NULL
#define INS(...) (int[]){__VA_ARGS__}, (int)(sizeof((int[]){__VA_ARGS__}) / sizeof(int))

static Graph *new_graph(void) {
  memset(g_data, 0, sizeof g_data);
  return graph_new("t", "t.nn");
}

static float *fill(int64_t n, int seed, float scale) {
  float *p = xmalloc(sizeof(float) * (size_t)n);
  for (int64_t i = 0; i < n; i++)
    p[i] = (float)((double)((i * 131 + seed * 71) % 97 - 48) / 32.0) * scale;
  return p;
}

static float *copy_of(const float *src, int64_t n) {
  float *p = xmalloc(sizeof(float) * (size_t)n);
  memcpy(p, src, sizeof(float) * (size_t)n);
  return p;
}

/* A graph input (is_const false) or a constant, of dtype dt, holding `data` (or
 * fill(numel, seed, 1) when data is NULL). */
static int add_val(Graph *g, const char *name, bool is_const, DType dt, int rank, const int64_t *d,
                   float *data, int seed) {
  Shape s = shape_make(rank, d);
  if (!data) data = fill(shape_numel(&s), seed, 1.0f);
  int id;
  if (is_const) {
    Tensor t = {.name = (char *)name, .dtype = dt, .shape = s, .f = data};
    id = graph_add_const(g, name, &t, LOC);
  } else {
    id = graph_add_value(g, name, LOC);
    g->values[id].shape = s;
    g->values[id].dtype = dt;
    g->values[id].is_input = true;
  }
  if (id >= MAX_VALUES) abort();
  g_data[id] = data;
  return id;
}
#define INPUT(g, name, seed, ...) add_val(g, name, false, DT_F32, DIMS(__VA_ARGS__), NULL, seed)
#define WEIGHT(g, name, seed, ...) add_val(g, name, true, DT_F32, DIMS(__VA_ARGS__), NULL, seed)
#define INPUT_DATA(g, name, data, ...) add_val(g, name, false, DT_F32, DIMS(__VA_ARGS__), data, 0)

static int add_node(Graph *g, OpKind op, const char *name, const int *ins, int nins) {
  return graph_add_node(g, op, name, LOC, ins, nins, name);
}

static void run_shape(Graph *g, int ni) { op_table[g->nodes[ni].op].shape(g, &g->nodes[ni]); }

/* Every node's shape rule, then every node's evaluation; the buffers of the last
 * node's output are returned. */
static float *run_graph(Graph *g) {
  for (int i = 0; i < g->nnodes; i++) run_shape(g, i);
  float **buf = xcalloc((size_t)g->nvalues, sizeof(float *));
  for (int v = 0; v < g->nvalues; v++)
    buf[v] = v < MAX_VALUES && g_data[v] ? g_data[v]
                                          : xcalloc((size_t)shape_numel(&g->values[v].shape), sizeof(float));
  for (int i = 0; i < g->nnodes; i++) op_table[g->nodes[i].op].eval_float(g, &g->nodes[i], buf);
  float *out = buf[g->nodes[g->nnodes - 1].output];
  free(buf);
  return out;
}

static bool check_shape(const char *name, const Graph *g, int ni, int rank, const int64_t *d) {
  const Value *o = &g->values[g->nodes[ni].output];
  Shape want = shape_make(rank, d);
  char a[SHAPE_STR_MAX], b[SHAPE_STR_MAX];
  return t_check(shape_eq(&o->shape, &want) && o->dtype == DT_F32, name, "shape %s %s, expected %s f32",
                 shape_str(&o->shape, a), dtype_name(o->dtype), shape_str(&want, b));
}

/* |got - want| <= 1e-5 + 1e-5 |want| everywhere (infinities must match). */
static bool check_close(const char *name, const float *got, const float *want, int64_t n) {
  for (int64_t i = 0; i < n; i++) {
    bool ok = isinf(want[i]) ? got[i] == want[i]
                             : fabs((double)got[i] - want[i]) <= 1e-5 + 1e-5 * fabs((double)want[i]);
    if (!ok) return t_check(false, name, "element %lld is %.9g, expected %.9g", (long long)i, got[i], want[i]);
  }
  t_ok(name);
  return true;
}

#define NELEM(a) (int64_t)(sizeof(a) / sizeof((a)[0]))
#define CHECK_NODE(name, g, ni, expected, ...)                    \
  do {                                                            \
    float *out_ = run_graph(g);                                   \
    check_shape(name " shape", g, ni, DIMS(__VA_ARGS__));         \
    check_close(name, out_, expected, NELEM(expected));           \
  } while (0)

/* Runs the shape rule of node ni (and then every evaluation, when `eval`) in a
 * child, which must exit with 1 and print exactly `t.nn:7:3: error: MSG`. */
static void expect_error(const char *name, Graph *g, int ni, bool eval, const char *msg) {
  int fds[2];
  if (pipe(fds) != 0) abort();
  fflush(stdout);
  fflush(stderr);
  pid_t pid = fork();
  if (pid < 0) abort();
  if (pid == 0) {
    close(fds[0]);
    dup2(fds[1], 2);
    if (eval) run_graph(g);
    else run_shape(g, ni);
    _exit(0);
  }
  close(fds[1]);
  char err[4096];
  size_t len = 0;
  for (ssize_t got; len < sizeof err - 1 && (got = read(fds[0], err + len, sizeof err - 1 - len)) != 0;)
    if (got > 0) len += (size_t)got;
  err[len] = '\0';
  close(fds[0]);
  int st = 0;
  waitpid(pid, &st, 0);
  int status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  char want[1024];
  snprintf(want, sizeof want, "t.nn:%d:%d: error: %s\n", LOC_LINE, LOC_COL, msg);
  t_check(status == 1 && strcmp(err, want) == 0, name, "status %d, stderr \"%s\", expected status 1, \"%s\"",
          status, err, want);
}

/* ------------------------------------------------------------------ helpers */

static void test_helpers(void) {
  Shape a = shape_make(DIMS(2, 3, 1)), b = shape_make(DIMS(4)), c = shape_make(DIMS(5, 1, 1, 4)), o;
  Shape s0 = shape_make(SCALAR);
  bool ok = broadcast_shapes(&a, &b, &o);
  t_check(ok && shape_eq(&o, &(Shape){3, {2, 3, 4}}), "broadcast [2,3,1] [4]", "got rank %d", o.rank);
  ok = broadcast_shapes(&c, &a, &o);
  t_check(ok && shape_eq(&o, &(Shape){4, {5, 2, 3, 4}}), "broadcast [5,1,1,4] [2,3,1]", "got rank %d", o.rank);
  ok = broadcast_shapes(&s0, &a, &o);
  t_check(ok && shape_eq(&o, &a), "broadcast scalar", "got rank %d", o.rank);
  Shape x = shape_make(DIMS(2, 3)), y = shape_make(DIMS(4)), z = shape_make(DIMS(0)), w = shape_make(DIMS(1));
  t_check(!broadcast_shapes(&x, &y, &o), "broadcast [2,3] [4] fails", "succeeded");
  t_check(broadcast_shapes(&z, &w, &o) && o.rank == 1 && o.d[0] == 0, "broadcast [0] [1]", "not [0]");
  t_check(normalize_axis(-1, 3) == 2 && normalize_axis(0, 3) == 0 && normalize_axis(2, 3) == 2 &&
              normalize_axis(-3, 3) == 0,
          "normalize_axis in range", "wrong");
  t_check(normalize_axis(3, 3) == -1 && normalize_axis(-4, 3) == -1 && normalize_axis(0, 0) == -1 &&
              normalize_axis(-1, 0) == -1,
          "normalize_axis out of range", "wrong");
}

/* ------------------------------------------------------------- value cases */

static void test_linear(void) {
  Graph *g = new_graph();
  int x = INPUT(g, "x", 1, 2, 3), w = WEIGHT(g, "fc.weight", 2, 4, 3), b = WEIGHT(g, "fc.bias", 3, 4);
  int ni = add_node(g, OP_LINEAR, "y", INS(x, w, b));
  CHECK_NODE("linear with bias", g, ni, E_linear_bias, 2, 4);

  g = new_graph();
  x = INPUT(g, "x", 4, 2, 2, 5), w = WEIGHT(g, "fc.weight", 5, 3, 5);
  ni = add_node(g, OP_LINEAR, "y", INS(x, w, -1));
  CHECK_NODE("linear rank 3, no bias", g, ni, E_linear_nd, 2, 2, 3);

  g = new_graph(); /* two-input form: the optional bias slot left out entirely */
  x = INPUT(g, "x", 4, 2, 2, 5), w = WEIGHT(g, "fc.weight", 5, 3, 5);
  ni = add_node(g, OP_LINEAR, "y", INS(x, w));
  CHECK_NODE("linear, bias slot omitted", g, ni, E_linear_nd, 2, 2, 3);
}

static void test_matmul(void) {
  Graph *g = new_graph();
  int a = INPUT(g, "a", 6, 2, 3), b = INPUT(g, "b", 7, 3, 4);
  int ni = add_node(g, OP_MATMUL, "y", INS(a, b));
  CHECK_NODE("matmul 2-D", g, ni, E_matmul_2d, 2, 4);

  g = new_graph();
  a = INPUT(g, "a", 8, 2, 1, 2, 3), b = INPUT(g, "b", 9, 3, 3, 2);
  ni = add_node(g, OP_MATMUL, "y", INS(a, b));
  CHECK_NODE("matmul broadcast batch", g, ni, E_matmul_bcast, 2, 3, 2, 2);

  g = new_graph();
  a = INPUT(g, "a", 10, 3), b = INPUT(g, "b", 11, 2, 3, 4);
  ni = add_node(g, OP_MATMUL, "y", INS(a, b));
  CHECK_NODE("matmul 1-D left", g, ni, E_matmul_1d_left, 2, 4);

  g = new_graph();
  a = INPUT(g, "a", 12, 2, 3), b = INPUT(g, "b", 13, 3);
  ni = add_node(g, OP_MATMUL, "y", INS(a, b));
  CHECK_NODE("matmul 1-D right", g, ni, E_matmul_1d_right, 2);

  g = new_graph();
  a = INPUT(g, "a", 10, 3), b = INPUT(g, "b", 13, 3);
  ni = add_node(g, OP_MATMUL, "y", INS(a, b));
  float *out = run_graph(g);
  check_shape("matmul 1-D both shape", g, ni, SCALAR);
  check_close("matmul 1-D both", out, E_matmul_1d_both, 1);
}

static void test_conv2d(void) {
  Graph *g = new_graph();
  int x = INPUT(g, "x", 14, 1, 2, 5, 5), w = WEIGHT(g, "c.weight", 15, 3, 2, 3, 3),
      b = WEIGHT(g, "c.bias", 16, 3);
  int ni = add_node(g, OP_CONV2D, "y", INS(x, w, b));
  node_set_attr_int(&g->nodes[ni], "stride", 2);
  node_set_attr_int(&g->nodes[ni], "pad", 1);
  CHECK_NODE("conv2d stride 2 pad 1", g, ni, E_conv_basic, 1, 3, 3, 3);

  g = new_graph();
  x = INPUT(g, "x", 17, 2, 4, 4, 4), w = WEIGHT(g, "dw.weight", 18, 4, 1, 3, 3);
  ni = add_node(g, OP_CONV2D, "y", INS(x, w, -1));
  node_set_attr_int(&g->nodes[ni], "groups", 4);
  node_set_attr_ints(&g->nodes[ni], "pad", DIMS(1, 0));
  CHECK_NODE("conv2d depthwise pad [h,w]", g, ni, E_conv_dw, 2, 4, 4, 2);

  g = new_graph();
  x = INPUT(g, "x", 19, 1, 2, 6, 7), w = WEIGHT(g, "g.weight", 20, 2, 1, 2, 3);
  ni = add_node(g, OP_CONV2D, "y", INS(x, w, -1));
  node_set_attr_int(&g->nodes[ni], "groups", 2);
  node_set_attr_ints(&g->nodes[ni], "pad", DIMS(0, 1, 2, 1));
  node_set_attr_ints(&g->nodes[ni], "stride", DIMS(2, 1));
  node_set_attr_ints(&g->nodes[ni], "dilation", DIMS(2, 1));
  CHECK_NODE("conv2d grouped, pad [t,l,b,r], stride and dilation [h,w]", g, ni, E_conv_asym, 1, 2, 3, 7);
}

static void test_batchnorm(void) {
  Graph *g = new_graph();
  float *var = fill(3, 25, 1.0f);
  for (int i = 0; i < 3; i++) var[i] = fabsf(var[i]) + 0.5f;
  int x = INPUT(g, "x", 21, 2, 3, 2, 2), ga = WEIGHT(g, "bn.weight", 22, 3), be = WEIGHT(g, "bn.bias", 23, 3),
      mu = WEIGHT(g, "bn.mean", 24, 3), va = add_val(g, "bn.var", true, DT_F32, DIMS(3), var, 0);
  int ni = add_node(g, OP_BATCHNORM, "y", INS(x, ga, be, mu, va));
  CHECK_NODE("batchnorm", g, ni, E_batchnorm, 2, 3, 2, 2);
}

static void test_unary(void) {
  static const struct {
    OpKind op;
    const char *name;
    const float *want;
  } cases[] = {{OP_RELU, "relu", E_relu},          {OP_RELU6, "relu6", E_relu6}, {OP_GELU, "gelu", E_gelu},
               {OP_SIGMOID, "sigmoid", E_sigmoid}, {OP_TANH, "tanh", E_tanh}};
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
    Graph *g = new_graph();
    int x = INPUT_DATA(g, "x", fill(12, 26, 5.0f), 3, 4);
    int ni = add_node(g, cases[c].op, "y", INS(x));
    float *out = run_graph(g);
    check_shape(xformat("%s shape", cases[c].name), g, ni, DIMS(3, 4));
    check_close(cases[c].name, out, cases[c].want, 12);
  }
}

static void test_softmax(void) {
  Graph *g = new_graph();
  int x = INPUT_DATA(g, "x", fill(24, 27, 3.0f), 2, 3, 4);
  int ni = add_node(g, OP_SOFTMAX, "y", INS(x));
  node_set_attr_int(&g->nodes[ni], "axis", 1);
  CHECK_NODE("softmax axis 1", g, ni, E_softmax_ax1, 2, 3, 4);

  g = new_graph();
  x = INPUT_DATA(g, "x", fill(24, 27, 3.0f), 2, 3, 4);
  ni = add_node(g, OP_SOFTMAX, "y", INS(x)); /* default axis -1 */
  CHECK_NODE("softmax default axis", g, ni, E_softmax_last, 2, 3, 4);

  g = new_graph(); /* large logits: the max is subtracted first */
  float big[3] = {1000.0f, 1001.0f, 999.0f};
  x = INPUT_DATA(g, "x", big, 3);
  ni = add_node(g, OP_SOFTMAX, "y", INS(x));
  float e1 = (float)(exp(-1.0) / (1 + exp(-1.0) + exp(-2.0))), e2 = (float)(1 / (1 + exp(-1.0) + exp(-2.0)));
  float e3 = (float)(exp(-2.0) / (1 + exp(-1.0) + exp(-2.0)));
  float want[3] = {e1, e2, e3};
  CHECK_NODE("softmax large logits", g, ni, want, 3);
}

static void test_layernorm(void) {
  Graph *g = new_graph();
  int x = INPUT_DATA(g, "x", fill(15, 28, 2.0f), 3, 5), ga = WEIGHT(g, "ln.weight", 29, 5),
      be = WEIGHT(g, "ln.bias", 30, 5);
  int ni = add_node(g, OP_LAYERNORM, "y", INS(x, ga, be));
  CHECK_NODE("layernorm l2", g, ni, E_layernorm_l2, 3, 5);

  g = new_graph();
  x = INPUT_DATA(g, "x", fill(15, 28, 2.0f), 3, 5);
  ni = add_node(g, OP_LAYERNORM, "y", INS(x, -1, -1));
  g->nodes[ni].attrs[op_attr_index(OP_LAYERNORM, "norm")].e = 1; /* norm=l1 */
  node_set_attr_float(&g->nodes[ni], "eps", 1e-3);
  CHECK_NODE("layernorm l1, no gamma/beta", g, ni, E_layernorm_l1, 3, 5);
}

static void test_binary(void) {
  Graph *g = new_graph();
  int a = INPUT(g, "a", 31, 2, 3, 1), b = INPUT(g, "b", 32, 4);
  int ni = add_node(g, OP_ADD, "y", INS(a, b));
  CHECK_NODE("add [2,3,1] + [4]", g, ni, E_add, 2, 3, 4);

  g = new_graph();
  a = INPUT(g, "a", 33, 3), b = INPUT(g, "b", 34, 2, 1, 3);
  ni = add_node(g, OP_SUB, "y", INS(a, b));
  CHECK_NODE("sub [3] - [2,1,3]", g, ni, E_sub, 2, 1, 3);

  g = new_graph();
  a = INPUT(g, "a", 35, 2, 3), b = add_val(g, "s", true, DT_F32, SCALAR, NULL, 36);
  ni = add_node(g, OP_MUL, "y", INS(a, b));
  CHECK_NODE("mul [2,3] * scalar", g, ni, E_mul, 2, 3);
}

static void test_pools(void) {
  Graph *g = new_graph();
  int x = INPUT_DATA(g, "x", fill(50, 37, 2.0f), 1, 2, 5, 5);
  int ni = add_node(g, OP_MAXPOOL2D, "y", INS(x));
  node_set_attr_int(&g->nodes[ni], "kernel", 2); /* stride unset: = kernel */
  CHECK_NODE("maxpool2d kernel 2", g, ni, E_maxpool_k2, 1, 2, 2, 2);

  g = new_graph();
  float *neg = fill(50, 37, 2.0f);
  for (int i = 0; i < 50; i++) neg[i] = -fabsf(neg[i]) - 0.125f;
  x = INPUT_DATA(g, "x", neg, 1, 2, 5, 5);
  ni = add_node(g, OP_MAXPOOL2D, "y", INS(x));
  node_set_attr_int(&g->nodes[ni], "kernel", 3);
  node_set_attr_int(&g->nodes[ni], "stride", 2);
  node_set_attr_int(&g->nodes[ni], "pad", 1);
  CHECK_NODE("maxpool2d padding never wins", g, ni, E_maxpool_neg, 1, 2, 3, 3);

  g = new_graph();
  x = INPUT_DATA(g, "x", fill(50, 37, 2.0f), 1, 2, 5, 5);
  ni = add_node(g, OP_AVGPOOL2D, "y", INS(x));
  node_set_attr_int(&g->nodes[ni], "kernel", 3);
  node_set_attr_int(&g->nodes[ni], "stride", 2);
  node_set_attr_int(&g->nodes[ni], "pad", 1);
  CHECK_NODE("avgpool2d counts padding", g, ni, E_avgpool_k3, 1, 2, 3, 3);

  g = new_graph();
  x = INPUT_DATA(g, "x", fill(50, 37, 2.0f), 1, 2, 5, 5);
  ni = add_node(g, OP_AVGPOOL2D, "y", INS(x));
  node_set_attr_ints(&g->nodes[ni], "kernel", DIMS(2, 3));
  node_set_attr_ints(&g->nodes[ni], "stride", DIMS(1, 2));
  node_set_attr_ints(&g->nodes[ni], "pad", DIMS(1, 1));
  CHECK_NODE("avgpool2d kernel/stride [h,w]", g, ni, E_avgpool_rect, 1, 2, 6, 3);

  g = new_graph();
  x = INPUT(g, "x", 38, 2, 3, 2, 3);
  ni = add_node(g, OP_GLOBAL_AVGPOOL, "y", INS(x));
  CHECK_NODE("global_avgpool", g, ni, E_global_avgpool, 2, 3, 1, 1);
}

static void test_layout(void) {
  Graph *g = new_graph();
  int x = INPUT(g, "x", 39, 2, 3, 2);
  int ni = add_node(g, OP_FLATTEN, "y", INS(x));
  float *src = copy_of(g_data[x], 12);
  float *out = run_graph(g);
  check_shape("flatten shape", g, ni, DIMS(2, 6));
  check_close("flatten", out, src, 12);

  g = new_graph();
  x = INPUT(g, "x", 39, 5);
  ni = add_node(g, OP_FLATTEN, "y", INS(x));
  src = copy_of(g_data[x], 5);
  out = run_graph(g);
  check_shape("flatten rank 1 shape", g, ni, DIMS(5));
  check_close("flatten rank 1", out, src, 5);

  g = new_graph();
  x = INPUT(g, "x", 39, 2, 3, 4);
  ni = add_node(g, OP_RESHAPE, "y", INS(x));
  node_set_attr_ints(&g->nodes[ni], "shape", DIMS(4, -1));
  src = copy_of(g_data[x], 24);
  out = run_graph(g);
  check_shape("reshape [4,-1] shape", g, ni, DIMS(4, 6));
  check_close("reshape [4,-1]", out, src, 24);

  g = new_graph();
  x = INPUT(g, "x", 39, 2, 3, 4);
  ni = add_node(g, OP_TRANSPOSE, "y", INS(x));
  node_set_attr_ints(&g->nodes[ni], "perm", DIMS(2, 0, 1));
  CHECK_NODE("transpose [2,0,1]", g, ni, E_transpose, 4, 2, 3);

  g = new_graph();
  int a = INPUT(g, "a", 40, 2, 1, 3), b = INPUT(g, "b", 41, 2, 2, 3), c = INPUT(g, "c", 42, 2, 3, 3);
  ni = add_node(g, OP_CONCAT, "y", INS(a, b, c));
  node_set_attr_int(&g->nodes[ni], "axis", -2);
  CHECK_NODE("concat three inputs, axis -2", g, ni, E_concat, 2, 6, 3);
}

static void test_embedding(void) {
  Graph *g = new_graph();
  float ids[4] = {1, 4, 0, 4};
  int i = add_val(g, "ids", false, DT_I32, DIMS(2, 2), ids, 0), t = WEIGHT(g, "emb.weight", 43, 5, 3);
  int ni = add_node(g, OP_EMBEDDING, "y", INS(i, t));
  CHECK_NODE("embedding", g, ni, E_embedding, 2, 2, 3);
}

static int attention_graph(Graph *g, bool causal) {
  if (causal) {
    int x = INPUT(g, "x", 44, 2, 3, 4);
    int w[4], b[4];
    const char *wn[4] = {"q.weight", "k.weight", "v.weight", "o.weight"};
    const char *bn[4] = {"q.bias", "k.bias", "v.bias", "o.bias"};
    for (int k = 0; k < 4; k++) w[k] = WEIGHT(g, wn[k], 45 + k, 4, 4), b[k] = WEIGHT(g, bn[k], 50 + k, 4);
    float *m = xcalloc(9, sizeof(float));
    for (int r = 0; r < 3; r++)
      for (int c = r + 1; c < 3; c++) m[r * 3 + c] = -INFINITY;
    int mask = add_val(g, "mask", true, DT_F32, DIMS(3, 3), m, 0);
    int ni = add_node(g, OP_ATTENTION, "y", INS(x, w[0], b[0], w[1], b[1], w[2], b[2], w[3], b[3], mask));
    node_set_attr_int(&g->nodes[ni], "heads", 2);
    return ni;
  }
  int x = INPUT(g, "x", 55, 1, 4, 6), w[4];
  for (int k = 0; k < 4; k++) w[k] = add_val(g, xformat("w%d", k), true, DT_F32, DIMS(6, 6), fill(36, 56 + k, 0.5f), 0);
  float *m = xcalloc(4, sizeof(float));
  m[2] = -INFINITY;
  int mask = add_val(g, "keypad", true, DT_F32, DIMS(1, 1, 1, 4), m, 0);
  int ni = add_node(g, OP_ATTENTION, "y", INS(x, w[0], -1, w[1], -1, w[2], -1, w[3], -1, mask));
  node_set_attr_int(&g->nodes[ni], "heads", 3);
  return ni;
}

static void test_attention(void) {
  Graph *g = new_graph();
  int ni = attention_graph(g, true);
  CHECK_NODE("attention causal mask, biases, 2 heads", g, ni, E_attention_causal, 2, 3, 4);

  g = new_graph();
  ni = attention_graph(g, false);
  CHECK_NODE("attention key-padding mask, no biases, 3 heads", g, ni, E_attention_keypad, 1, 4, 6);
}

/* ------------------------------------------------------------- error cases */

static void test_errors(void) {
  Graph *g;
  int x, w, b, ni;

  g = new_graph();
  x = INPUT(g, "image", 0, 1, 3, 8, 8), w = WEIGHT(g, "conv1.weight", 0, 8, 1, 3, 3);
  ni = add_node(g, OP_CONV2D, "c1", INS(x, w, -1));
  expect_error("error: conv2d weight shape", g, ni, false,
               "conv2d: weight 'conv1.weight' has shape [8,1,3,3], expected [8,3,3,3]");

  g = new_graph();
  x = INPUT(g, "image", 0, 3, 8, 8), w = WEIGHT(g, "conv1.weight", 0, 8, 3, 3, 3);
  ni = add_node(g, OP_CONV2D, "c1", INS(x, w, -1));
  expect_error("error: conv2d input rank", g, ni, false, "conv2d: input 'image' has rank 3, expected 4 (NCHW)");

  g = new_graph();
  x = INPUT(g, "x", 0, 1, 8, 4, 4), w = WEIGHT(g, "w", 0, 8, 3, 3, 3);
  ni = add_node(g, OP_CONV2D, "c", INS(x, w, -1));
  node_set_attr_int(&g->nodes[ni], "groups", 3);
  expect_error("error: conv2d groups", g, ni, false, "conv2d: groups 3 does not divide input channels 8");

  g = new_graph();
  x = INPUT(g, "x", 0, 1, 1, 2, 2), w = WEIGHT(g, "w", 0, 1, 1, 3, 3);
  ni = add_node(g, OP_CONV2D, "c", INS(x, w, -1));
  expect_error("error: conv2d empty output", g, ni, false,
               "conv2d: output would be empty: input [1,1,2,2], kernel 3x3, stride 1, pad 0");

  g = new_graph();
  x = INPUT(g, "x", 0, 1, 1, 8, 8), w = WEIGHT(g, "w", 0, 1, 1, 3, 3);
  ni = add_node(g, OP_CONV2D, "c", INS(x, w, -1));
  node_set_attr_ints(&g->nodes[ni], "stride", DIMS(1, 2, 1));
  expect_error("error: conv2d stride count", g, ni, false, "conv2d: attribute 'stride' must have 1 or 2 values, got 3");
  node_set_attr_ints(&g->nodes[ni], "stride", DIMS(1, 0));
  expect_error("error: conv2d stride 0", g, ni, false, "conv2d: attribute 'stride' must be >= 1, got 0");
  node_set_attr_int(&g->nodes[ni], "stride", 1);
  node_set_attr_ints(&g->nodes[ni], "pad", DIMS(1, 1, 1));
  expect_error("error: conv2d pad count", g, ni, false, "conv2d: attribute 'pad' must have 1, 2 or 4 values, got 3");
  node_set_attr_int(&g->nodes[ni], "pad", -1);
  expect_error("error: conv2d negative pad", g, ni, false, "conv2d: attribute 'pad' must be >= 0, got -1");
  node_set_attr_int(&g->nodes[ni], "pad", 0);
  node_set_attr_int(&g->nodes[ni], "dilation", 0);
  expect_error("error: conv2d dilation 0", g, ni, false, "conv2d: attribute 'dilation' must be >= 1, got 0");
  node_set_attr_int(&g->nodes[ni], "dilation", 1);
  node_set_attr_int(&g->nodes[ni], "groups", 0);
  expect_error("error: conv2d groups 0", g, ni, false, "conv2d: attribute 'groups' must be >= 1, got 0");
  node_set_attr_int(&g->nodes[ni], "groups", 1);
  node_set_attr_int(&g->nodes[ni], "dilation", 4);
  expect_error("error: conv2d empty output, dilated", g, ni, false,
               "conv2d: output would be empty: input [1,1,8,8], kernel 3x3, stride 1, pad 0, dilation 4");

  g = new_graph();
  x = INPUT(g, "x", 0, 1, 3, 8, 8), w = WEIGHT(g, "w", 0, 8, 3, 3, 3), b = WEIGHT(g, "conv.bias", 0, 4);
  ni = add_node(g, OP_CONV2D, "c", INS(x, w, b));
  expect_error("error: conv2d bias shape", g, ni, false, "conv2d: bias 'conv.bias' has shape [4], expected [8]");

  g = new_graph();
  x = INPUT(g, "x", 0, 2, 64), w = WEIGHT(g, "fc.weight", 0, 10, 32);
  ni = add_node(g, OP_LINEAR, "y", INS(x, w, -1));
  expect_error("error: linear weight shape", g, ni, false, "linear: weight 'fc.weight' has shape [10,32], expected [10,64]");

  g = new_graph();
  x = INPUT(g, "x", 0, 2, 64), w = WEIGHT(g, "fc.weight", 0, 64);
  ni = add_node(g, OP_LINEAR, "y", INS(x, w, -1));
  expect_error("error: linear weight rank", g, ni, false, "linear: weight 'fc.weight' has shape [64], expected [out,64]");

  g = new_graph();
  x = INPUT(g, "a", 0, 2, 3), w = INPUT(g, "b", 0, 4, 5);
  ni = add_node(g, OP_MATMUL, "y", INS(x, w));
  expect_error("error: matmul inner", g, ni, false, "matmul: cannot multiply [2,3] by [4,5]: inner dimensions 3 and 4 differ");

  g = new_graph();
  x = INPUT(g, "a", 0, 2, 2, 3), w = INPUT(g, "b", 0, 3, 3, 5);
  ni = add_node(g, OP_MATMUL, "y", INS(x, w));
  expect_error("error: matmul batch", g, ni, false,
               "matmul: cannot broadcast batch dimensions [2] with [3] (shapes [2,2,3] and [3,3,5])");

  g = new_graph();
  x = INPUT(g, "a", 0, 2, 3), w = INPUT(g, "b", 0, 4);
  ni = add_node(g, OP_ADD, "y", INS(x, w));
  expect_error("error: add broadcast", g, ni, false, "add: cannot broadcast [2,3] with [4]");
  g->nodes[ni].op = OP_MUL;
  expect_error("error: mul broadcast", g, ni, false, "mul: cannot broadcast [2,3] with [4]");

  g = new_graph();
  x = INPUT(g, "x", 0, 2, 3);
  ni = add_node(g, OP_RESHAPE, "y", INS(x));
  node_set_attr_ints(&g->nodes[ni], "shape", DIMS(4, 2));
  expect_error("error: reshape count", g, ni, false, "reshape: cannot reshape [2,3] (6 elements) to [4,2] (8 elements)");
  node_set_attr_ints(&g->nodes[ni], "shape", DIMS(4, -1));
  expect_error("error: reshape -1 count", g, ni, false,
               "reshape: cannot reshape [2,3] (6 elements) to [4,-1] (6 is not a multiple of 4)");
  node_set_attr_ints(&g->nodes[ni], "shape", DIMS(2, 0, 3));
  expect_error("error: reshape 0", g, ni, false,
               "reshape: shape [2,0,3] has a 0 dimension; give each size (or -1 for one of them)");
  node_set_attr_ints(&g->nodes[ni], "shape", DIMS(-1, -1));
  expect_error("error: reshape two -1", g, ni, false, "reshape: shape [-1,-1] has more than one -1");

  g = new_graph();
  x = INPUT(g, "x", 0, 2, 3, 4);
  ni = add_node(g, OP_TRANSPOSE, "y", INS(x));
  node_set_attr_ints(&g->nodes[ni], "perm", DIMS(0, 0, 1));
  expect_error("error: transpose repeated axis", g, ni, false, "transpose: perm [0,0,1] is not a permutation of 3 axes");
  node_set_attr_ints(&g->nodes[ni], "perm", DIMS(1, 0));
  expect_error("error: transpose short perm", g, ni, false, "transpose: perm [1,0] is not a permutation of 3 axes");

  g = new_graph();
  x = INPUT(g, "x", 0, 2, 3);
  ni = add_node(g, OP_SOFTMAX, "y", INS(x));
  node_set_attr_int(&g->nodes[ni], "axis", 3);
  expect_error("error: softmax axis", g, ni, false, "softmax: axis 3 is out of range for rank 2");

  g = new_graph();
  x = INPUT(g, "x", 0, 1, 7, 64);
  int wq = WEIGHT(g, "wq", 0, 64, 64), wk = WEIGHT(g, "wk", 0, 64, 64), wv = WEIGHT(g, "wv", 0, 64, 64),
      wo = WEIGHT(g, "wo", 0, 64, 64);
  ni = add_node(g, OP_ATTENTION, "y", INS(x, wq, -1, wk, -1, wv, -1, wo, -1, -1));
  node_set_attr_int(&g->nodes[ni], "heads", 5);
  expect_error("error: attention heads", g, ni, false, "attention: heads 5 does not divide model width 64");
  node_set_attr_int(&g->nodes[ni], "heads", 0);
  expect_error("error: attention heads 0", g, ni, false, "attention: attribute 'heads' must be >= 1, got 0");
  node_set_attr_int(&g->nodes[ni], "heads", 4);
  int m = WEIGHT(g, "mask", 0, 7, 6);
  g->nodes[ni].inputs[9] = m;
  expect_error("error: attention mask", g, ni, false,
               "attention: mask 'mask' has shape [7,6], which does not broadcast to [1,4,7,7] (N, heads, T, T)");
  g->nodes[ni].inputs[9] = -1;
  g->nodes[ni].inputs[5] = WEIGHT(g, "v.weight", 0, 32, 64);
  expect_error("error: attention weight", g, ni, false, "attention: wv 'v.weight' has shape [32,64], expected [64,64]");

  g = new_graph();
  x = INPUT(g, "tok", 0, 1, 4), w = WEIGHT(g, "emb", 0, 10, 8);
  ni = add_node(g, OP_EMBEDDING, "y", INS(x, w));
  expect_error("error: embedding ids dtype", g, ni, false, "embedding: ids 'tok' must be i32, got f32");

  g = new_graph();
  float bad_ids[3] = {1, 5, 0};
  x = add_val(g, "tok", false, DT_I32, DIMS(3), bad_ids, 0), w = WEIGHT(g, "emb", 0, 5, 2);
  ni = add_node(g, OP_EMBEDDING, "y", INS(x, w));
  expect_error("error: embedding id out of range", g, ni, true, "embedding: id 5 is out of range [0, 5)");

  g = new_graph();
  x = add_val(g, "ids", false, DT_I32, DIMS(3), NULL, 0);
  ni = add_node(g, OP_RELU, "y", INS(x));
  expect_error("error: relu on i32", g, ni, false, "relu: input 'ids' must be f32, got i32");

  g = new_graph();
  x = INPUT(g, "a", 0, 2, 3, 3), w = INPUT(g, "b", 0, 2, 4, 4);
  ni = add_node(g, OP_CONCAT, "y", INS(x, w));
  node_set_attr_int(&g->nodes[ni], "axis", 1);
  expect_error("error: concat shapes", g, ni, false,
               "concat: input 'b' has shape [2,4,4], which differs from [2,3,3] outside axis 1");
  node_set_attr_int(&g->nodes[ni], "axis", -4);
  expect_error("error: concat axis", g, ni, false, "concat: axis -4 is out of range for rank 3");

  g = new_graph();
  x = INPUT(g, "x", 0, 3, 5);
  ni = add_node(g, OP_LAYERNORM, "y", INS(x, -1, -1));
  node_set_attr_float(&g->nodes[ni], "eps", 0);
  expect_error("error: layernorm eps", g, ni, false, "layernorm: attribute 'eps' must be > 0, got 0");
  node_set_attr_float(&g->nodes[ni], "eps", 1e-5);
  g->nodes[ni].inputs[1] = WEIGHT(g, "ln.weight", 0, 4);
  expect_error("error: layernorm gamma", g, ni, false, "layernorm: gamma 'ln.weight' has shape [4], expected [5]");

  g = new_graph();
  x = INPUT(g, "x", 0, 2, 3, 4, 4);
  int ga = WEIGHT(g, "bn.weight", 0, 3), be = WEIGHT(g, "bn.bias", 0, 3), mu = WEIGHT(g, "bn.mean", 0, 3),
      va = WEIGHT(g, "bn.var", 0, 4);
  ni = add_node(g, OP_BATCHNORM, "y", INS(x, ga, be, mu, va));
  expect_error("error: batchnorm var", g, ni, false, "batchnorm: var 'bn.var' has shape [4], expected [3]");

  g = new_graph();
  x = INPUT(g, "x", 0, 1, 1, 8, 8);
  ni = add_node(g, OP_MAXPOOL2D, "y", INS(x));
  node_set_attr_int(&g->nodes[ni], "kernel", 3);
  node_set_attr_int(&g->nodes[ni], "pad", 2);
  expect_error("error: maxpool pad too large", g, ni, false, "maxpool2d: pad 2 must be at most half the kernel size 3");
  node_set_attr_int(&g->nodes[ni], "pad", 0);
  node_set_attr_int(&g->nodes[ni], "kernel", 9);
  expect_error("error: maxpool empty", g, ni, false,
               "maxpool2d: output would be empty: input [1,1,8,8], kernel 9x9, stride 9, pad 0");
  node_set_attr_ints(&g->nodes[ni], "kernel", DIMS(2, 2, 2));
  expect_error("error: maxpool kernel count", g, ni, false,
               "maxpool2d: attribute 'kernel' must have 1 or 2 values, got 3");

  g = new_graph();
  x = INPUT(g, "x", 0, 2, 8);
  ni = add_node(g, OP_GLOBAL_AVGPOOL, "y", INS(x));
  expect_error("error: global_avgpool rank", g, ni, false, "global_avgpool: input 'x' has rank 2, expected 4 (NCHW)");
}

int main(void) {
  test_helpers();
  test_linear();
  test_matmul();
  test_conv2d();
  test_batchnorm();
  test_unary();
  test_softmax();
  test_layernorm();
  test_binary();
  test_pools();
  test_layout();
  test_embedding();
  test_attention();
  test_errors();
  return t_exit_status();
}
