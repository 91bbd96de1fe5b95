/* test_plan_memory.c — issue 10 item 6: the arena plan of every example (and the test
 * models that reach the SIMD kernels' corners) is valid and within 1.05x of the liveness
 * lower bound with in-place ops; in-place pairs are only where plan_memory.c's rule allows
 * them, and they occur (digits_vit's residual adds and i-GELU, simd_mix's add/sub/mul
 * chain), so the goldens that test_goldens and test_targets verify on every target run
 * them. The BERT-base layer's numbers are checked by test_bert (release build). */
#include "shiftc.h"
#include "testlib.h"

#include <string.h>

typedef struct Case {
  const char *name, *model, *config;
  int min_in_place; /* in-place pairs the plan must have */
} Case;

static const Case cases[] = {
    {"digits_mlp", "examples/digits_mlp/digits_mlp.nn", "examples/digits_mlp/digits_mlp.yaml", 0},
    {"digits_cnn", "examples/digits_cnn/digits_cnn.nn", "examples/digits_cnn/digits_cnn.yaml", 0},
    {"digits_cnn_w4", "examples/digits_cnn_w4/digits_cnn_w4.nn", "examples/digits_cnn_w4/digits_cnn_w4.yaml", 0},
    {"mnist_cnn", "examples/mnist_cnn/mnist_cnn.nn", "examples/mnist_cnn/mnist_cnn.yaml", 0},
    {"digits_vit", "examples/digits_vit/digits_vit.nn", "examples/digits_vit/digits_vit.yaml", 7},
    {"digits_vit_l1", "examples/digits_vit_l1/digits_vit_l1.nn", "examples/digits_vit_l1/digits_vit_l1.yaml", 7},
    {"digits_dwcnn", "examples/onnx_digits/digits_dwcnn.onnx", "examples/onnx_digits/digits_dwcnn.yaml", 1},
    {"residual", "tests/models/residual/residual.nn", "tests/models/residual/residual.yaml", 0},
    {"tiny_lm", "tests/models/tiny_lm/tiny_lm.nn", "tests/models/tiny_lm/tiny_lm.yaml", 1},
    {"simd_mix", "tests/targets/simd_mix.nn", "tests/targets/simd_mix.yaml", 3},
};

static bool elementwise(ILayerKind k) { return k == IL_LUT || k == IL_IGELU || k == IL_ADD || k == IL_SUB || k == IL_MUL; }

static void check_plan(const Case *c, const IntProgram *p) {
  const Graph *g = p->g;
  int nv = g->nvalues, pairs = 0, bad_pair = 0, clash = 0;
  /* Every in-place pair: u written at the layer where x is last read, by an elementwise
   * kernel reading x, both the same bytes at the same offset. */
  for (int u = 0; u < nv; u++) {
    int x = p->in_place_of[u];
    if (x < 0) continue;
    pairs++;
    int i = p->live_first[u];
    const ILayer *l = i >= 0 ? &p->layers[i] : NULL;
    bool reads = false;
    for (int k = 0; l && k < l->nin; k++) reads |= p->storage[l->in[k]] == x;
    if (!l || p->storage[l->out] != u || !elementwise(l->kind) || !reads || p->live_last[x] != i ||
        p->offset[u] != p->offset[x] || shape_numel(&g->values[u].shape) != shape_numel(&g->values[x].shape))
      bad_pair++;
  }
  /* No two arena tensors alive during the same layer share a byte, except an in-place
   * chain (u over x over ...) at its handover layers. */
  for (int a = 0; a < nv; a++)
    for (int b = a + 1; b < nv; b++) {
      if (p->live_first[a] < 0 || p->live_first[b] < 0) continue;
      bool time = !(p->live_last[a] < p->live_first[b] || p->live_last[b] < p->live_first[a]);
      int64_t ea = p->offset[a] + shape_numel(&g->values[a].shape), eb = p->offset[b] + shape_numel(&g->values[b].shape);
      bool mem = p->offset[a] < eb && p->offset[b] < ea;
      bool handover = (p->in_place_of[b] == a && p->live_first[b] == p->live_last[a]) ||
                      (p->in_place_of[a] == b && p->live_first[a] == p->live_last[b]);
      if (time && mem && !handover) clash++;
    }
  double ratio = p->lower_bound_inplace ? (double)p->arena_bytes / (double)p->lower_bound_inplace : 1.0;
  t_check(bad_pair == 0 && clash == 0, t_fmt("plan %s: in-place pairs valid, no other tensors overlap", c->name),
          "%d bad pairs, %d clashes", bad_pair, clash);
  t_check(pairs >= c->min_in_place, t_fmt("plan %s: in-place pairs used", c->name), "%d pairs, expected >= %d",
          pairs, c->min_in_place);
  t_check(p->lower_bound_inplace <= p->lower_bound && ratio <= 1.05,
          t_fmt("plan %s: arena <= 1.05x the in-place liveness bound", c->name),
          "arena %lld, bound %lld (without in-place %lld): %.3fx", (long long)p->arena_bytes,
          (long long)p->lower_bound_inplace, (long long)p->lower_bound, ratio);
  printf("# %-14s arena %7lld  bound %7lld  in place %7lld  ratio %.3f  pairs %d\n", c->name,
         (long long)p->arena_bytes, (long long)p->lower_bound, (long long)p->lower_bound_inplace, ratio, pairs);
}

int main(void) {
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    Config cfg;
    config_defaults(&cfg);
    config_load(&cfg, cases[i].config);
    IntProgram *p = load_int_program(cases[i].model, &cfg);
    check_plan(&cases[i], p);
  }
  return t_exit_status();
}
