/* test_onnx_conformance.c — ONNX's own backend test cases (Debian libonnx-testdata:
 * data/node, data/pytorch-converted, data/pytorch-operator; each a model.onnx with
 * test_data_set_0/{input,output}_N.pb) through the importer and the float
 * interpreter, against the expected outputs within 1e-4 absolute + 1e-4 relative.
 *
 * A case runs when the importer maps every op type in it; it must then pass. It is
 * listed, not silently skipped, when an op type is not supported (by name) or its
 * opset is outside 9..17; and when the importer declines a variant of a supported
 * op with a clear "not supported" error (reason printed). Each case runs in a forked
 * child, because the importer reports user errors by exiting. Prints per op type:
 * cases run / passed; `--markdown` prints the README table. */
#define _GNU_SOURCE
#include "shiftc.h"
#include "onnx.pb-c.h"
#include "testlib.h"

#include <dirent.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define DATA "/usr/share/libonnx-testdata/data"
static const char *const suites[] = {"node", "pytorch-converted", "pytorch-operator"};

typedef struct OpStat {
  char *op;
  int run, passed, declined, unsupported;
} OpStat;
static OpStat *stats;
static int nstats;

static OpStat *stat_of(const char *op) {
  for (int i = 0; i < nstats; i++)
    if (!strcmp(stats[i].op, op)) return &stats[i];
  stats = realloc(stats, sizeof(OpStat) * (size_t)(nstats + 1));
  memset(&stats[nstats], 0, sizeof(OpStat));
  stats[nstats].op = strdup(op);
  return &stats[nstats++];
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }
static int cmp_stat(const void *a, const void *b) { return strcmp(((const OpStat *)a)->op, ((const OpStat *)b)->op); }

static char **list_dir(const char *path, int *n) {
  DIR *d = opendir(path);
  char **names = NULL;
  *n = 0;
  if (!d) return NULL;
  for (struct dirent *e; (e = readdir(d));) {
    if (e->d_name[0] == '.') continue;
    names = realloc(names, sizeof(char *) * (size_t)(*n + 1));
    names[(*n)++] = strdup(e->d_name);
  }
  closedir(d);
  qsort(names, (size_t)*n, sizeof(char *), cmp_str);
  return names;
}

static bool read_pb_tensor(const char *path, Tensor *t) {
  size_t len;
  char *buf = t_read_file(path, &len);
  if (!buf) return false;
  Onnx__TensorProto *tp = onnx__tensor_proto__unpack(NULL, len, (const uint8_t *)buf);
  free(buf);
  if (!tp) return false;
  const char *err = onnx_tensor_read(tp, NULL, t);
  onnx__tensor_proto__free_unpacked(tp, NULL);
  return err == NULL;
}

/* Whether graph input `name` is only read where shiftc takes constants (what exporters
 * write): the scales or sizes of Resize / Upsample, ConvTranspose's weight and bias. The
 * node tests feed them as inputs, so the child turns them into initializers from the
 * test's data. */
static bool only_const_param(const Onnx__GraphProto *gp, const char *name) {
  bool used = false;
  for (size_t i = 0; i < gp->n_node; i++) {
    const Onnx__NodeProto *n = gp->node[i];
    bool resize = !strcmp(n->op_type, "Resize") || !strcmp(n->op_type, "Upsample") ||
                  !strcmp(n->op_type, "ConvTranspose");
    for (size_t k = 0; k < n->n_input; k++)
      if (!strcmp(n->input[k], name)) {
        if (!resize || k == 0) return false;
        used = true;
      }
  }
  return used;
}

/* In the child: import, run, compare. Exit 0 pass, 3 mismatch (message on stderr). */
static _Noreturn void run_child(const char *dir) {
  char *model = xformat("%s/model.onnx", dir);
  OnnxFile *f = onnx_load(model);
  Onnx__GraphProto *gp = f->model->graph;
  int *keep = xcalloc(gp->n_input + 1, sizeof(int)), nkeep = 0; /* test data index of each graph input */
  for (size_t i = 0; i < gp->n_input; i++) {
    if (!only_const_param(gp, gp->input[i]->name)) {
      keep[nkeep++] = (int)i;
      continue;
    }
    char *p = xformat("%s/test_data_set_0/input_%zu.pb", dir, i);
    size_t len;
    char *buf = t_read_file(p, &len);
    Onnx__TensorProto *tp = buf ? onnx__tensor_proto__unpack(NULL, len, (const uint8_t *)buf) : NULL;
    if (!tp) fprintf(stderr, "cannot read %s\n", p), exit(3);
    tp->name = gp->input[i]->name;
    gp->initializer = realloc(gp->initializer, sizeof(*gp->initializer) * (gp->n_initializer + 1));
    gp->initializer[gp->n_initializer++] = tp;
  }
  Graph *g = onnx_import_file(f, model);
  onnx_rewrite_patterns(g);
  const float **in = xcalloc((size_t)g->ninputs, sizeof(float *));
  for (int k = 0; k < g->ninputs; k++) {
    char *p = xformat("%s/test_data_set_0/input_%d.pb", dir, k < nkeep ? keep[k] : k);
    Tensor t;
    if (!read_pb_tensor(p, &t)) fprintf(stderr, "cannot read %s\n", p), exit(3);
    const Value *v = &g->values[g->inputs[k]];
    if (shape_numel(&t.shape) != shape_numel(&v->shape))
      fprintf(stderr, "input %d: %lld values for shape of %lld\n", k, (long long)shape_numel(&t.shape),
              (long long)shape_numel(&v->shape)), exit(3);
    in[k] = t.f;
  }
  FloatRun *r = float_run_new(g);
  float_run(r, in);
  for (int k = 0; k < g->noutputs; k++) {
    char *p = xformat("%s/test_data_set_0/output_%d.pb", dir, k);
    Tensor t;
    if (!read_pb_tensor(p, &t)) fprintf(stderr, "cannot read %s\n", p), exit(3);
    const Value *v = &g->values[g->outputs[k]];
    int64_t n = shape_numel(&v->shape);
    if (shape_numel(&t.shape) != n)
      fprintf(stderr, "output %d: shiftc gives %lld values, expected %lld\n", k, (long long)n,
              (long long)shape_numel(&t.shape)), exit(3);
    for (int64_t j = 0; j < n; j++) {
      float got = r->buf[v->id][j], want = t.f[j];
      bool ok = (isnan(got) && isnan(want)) || got == want || fabsf(got - want) <= 1e-4f + 1e-4f * fabsf(want);
      if (!ok) fprintf(stderr, "output %d[%lld]: got %.9g, expected %.9g\n", k, (long long)j, got, want), exit(3);
    }
  }
  exit(0);
}

/* Runs the child; returns its exit status and its stderr (first line) in msg. */
static int run_case(const char *dir, char *msg, size_t msgsize) {
  int fd[2];
  if (pipe(fd) != 0) return -1;
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    close(fd[0]);
    dup2(fd[1], 2);
    dup2(fd[1], 1);
    run_child(dir);
  }
  close(fd[1]);
  size_t got = 0;
  char buf[4096];
  for (ssize_t k; (k = read(fd[0], buf, sizeof buf)) > 0;)
    for (ssize_t i = 0; i < k; i++)
      if (got + 1 < msgsize) msg[got++] = buf[i];
  msg[got] = '\0';
  close(fd[0]);
  char *nl = strchr(msg, '\n');
  if (nl) *nl = '\0';
  int st;
  waitpid(pid, &st, 0);
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int main(int argc, char **argv) {
  bool markdown = argc > 1 && !strcmp(argv[1], "--markdown");
  int total = 0, ran = 0, passed = 0;
  StrBuf unsupported = {0}, declined = {0};
  for (size_t s = 0; s < sizeof suites / sizeof suites[0]; s++) {
    char *sdir = xformat(DATA "/%s", suites[s]);
    int n;
    char **cases = list_dir(sdir, &n);
    if (!cases) {
      t_fail("onnx conformance", "cannot open %s (Debian package libonnx-testdata)", sdir);
      continue;
    }
    for (int c = 0; c < n; c++) {
      char *dir = xformat("%s/%s", sdir, cases[c]);
      char *model = xformat("%s/model.onnx", dir);
      size_t len;
      char *buf = t_read_file(model, &len);
      if (!buf) continue;
      total++;
      OnnxFile f;
      const char *err = onnx_parse_buffer((const unsigned char *)buf, len, &f);
      free(buf);
      if (err) {
        sb_printf(&unsupported, "  %s/%s: %s\n", suites[s], cases[c], err);
        continue;
      }
      /* The op types in the case; any the importer does not know makes it unsupported. */
      const char *ops[64];
      int nops = 0;
      StrBuf missing = {0};
      for (size_t i = 0; i < f.model->graph->n_node; i++) {
        const char *op = f.model->graph->node[i]->op_type;
        bool seen = false;
        for (int k = 0; k < nops; k++) seen |= !strcmp(ops[k], op);
        if (seen || nops == 64) continue;
        ops[nops++] = op;
        if (!onnx_op_supported(op)) sb_printf(&missing, "%s%s", missing.len ? ", " : "", op);
      }
      if (missing.len) {
        for (int k = 0; k < nops; k++)
          if (!onnx_op_supported(ops[k])) stat_of(ops[k])->unsupported++;
        sb_printf(&unsupported, "  %s/%s: op %s not supported\n", suites[s], cases[c], missing.data);
        sb_free(&missing);
        onnx_file_free(&f);
        continue;
      }
      char msg[2048];
      int st = run_case(dir, msg, sizeof msg);
      if (st == 1 && strstr(msg, "not supported")) {
        for (int k = 0; k < nops; k++) stat_of(ops[k])->declined++;
        sb_printf(&declined, "  %s/%s: %s\n", suites[s], cases[c], msg);
      } else {
        ran++;
        for (int k = 0; k < nops; k++) stat_of(ops[k])->run++;
        char label[512];
        snprintf(label, sizeof label, "onnx %s/%s", suites[s], cases[c]);
        if (st == 0) {
          passed++;
          for (int k = 0; k < nops; k++) stat_of(ops[k])->passed++;
        } else {
          t_fail(label, "status %d: %s", st, msg);
        }
      }
      onnx_file_free(&f);
    }
  }
  qsort(stats, (size_t)nstats, sizeof(OpStat), cmp_stat);
  if (markdown) {
    printf("| ONNX op | cases run | passed | declined (variant) |\n|---|---|---|---|\n");
    for (int i = 0; i < nstats; i++)
      if (stats[i].run || stats[i].declined)
        printf("| %s | %d | %d | %d |\n", stats[i].op, stats[i].run, stats[i].passed, stats[i].declined);
    printf("\nUnsupported op types (cases): ");
    for (int i = 0, first = 1; i < nstats; i++)
      if (!stats[i].run && !stats[i].declined) printf("%s%s (%d)", first ? "" : ", ", stats[i].op, stats[i].unsupported), first = 0;
    printf("\n");
  }
  printf("# onnx conformance: %d cases, %d run, %d passed\n", total, ran, passed);
  printf("# per op type (run/passed, declined variants):\n");
  for (int i = 0; i < nstats; i++)
    if (stats[i].run || stats[i].declined)
      printf("#   %-22s %3d/%-3d  declined %d\n", stats[i].op, stats[i].run, stats[i].passed, stats[i].declined);
  printf("# declined by the importer (a supported op's variant):\n%s", declined.data ? declined.data : "");
  printf("# not run (unsupported op type or opset):\n%s", unsupported.data ? unsupported.data : "");
  t_check(ran >= 100, "onnx conformance: at least 100 cases run", "only %d cases run", ran);
  t_check(passed == ran, "onnx conformance: every case run passes", "%d of %d failed", ran - passed, ran);
  return t_exit_status();
}
