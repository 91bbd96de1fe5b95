/* test_sensitivity.c — eval --per-layer's mixed execution (sensitivity.c) on the
 * digits_cnn example: its all-integer baseline equals measure()'s integer top-1;
 * its float baseline (BN folded) is the float graph's; a max-pooling layer alone
 * in float changes nothing (max commutes with quantization at a shared scale), so
 * it scores exactly the integer top-1; counts are in range and the ranking is
 * sorted by cost; and a layer broken on purpose (its bias codes corrupted) is the
 * one ranked first, with the other layers' "only this one in integer" untouched. */
#include "shiftc.h"
#include "testlib.h"

#include <stdlib.h>
#include <string.h>

#define MODEL "examples/digits_cnn/digits_cnn.nn"
#define N 120 /* samples: enough to see a broken layer, quick under ASan */

int main(void) {
  Config c;
  config_defaults(&c);
  config_load(&c, "examples/digits_cnn/digits_cnn.yaml");
  IntProgram *p = load_int_program(MODEL, &c);
  Graph *fg = load_model(MODEL);
  TensorFile *tf = tensorfile_load("examples/digits_cnn/test.safetensors");
  const Tensor *labels = tensorfile_find(tf, "labels");
  Samples *s = samples_from_file(fg, "examples/digits_cnn/test.safetensors", loc_make(NULL, 0, 0));
  if (!t_check(labels && labels->i && s[0].n >= N, "sensitivity: test data loaded", "no labels or too few samples"))
    return t_exit_status();

  Measurement m = measure(p, fg, s, N, labels->i);
  Sensitivity *r = measure_sensitivity(p, s, N, labels->i);
  t_check(r->nlayers == p->nlayers && r->samples == N, "sensitivity: one entry per layer", "%d layers", r->nlayers);
  t_check(r->int_correct == m.int_correct, "sensitivity: all-integer baseline equals measure()'s integer top-1",
          "%d vs %d", r->int_correct, m.int_correct);
  int unfolded = float_top1(fg, s, N, labels->i);
  t_check(abs(r->float_correct - unfolded) <= 1, "sensitivity: folded float baseline matches the float graph",
          "%d vs %d", r->float_correct, unfolded);

  int pools = 0;
  bool in_range = true, pools_exact = true, sorted = true;
  bool *seen = calloc((size_t)p->nlayers, sizeof(bool));
  for (int k = 0; k < p->nlayers; k++) {
    in_range &= r->int_only[k] >= 0 && r->int_only[k] <= N && r->float_only[k] >= 0 && r->float_only[k] <= N;
    if (p->layers[k].kind == IL_MAXPOOL2D) {
      pools++;
      pools_exact &= r->float_only[k] == r->int_correct;
    }
    if (r->rank[k] >= 0 && r->rank[k] < p->nlayers) seen[r->rank[k]] = true;
    if (k > 0) sorted &= r->int_only[r->rank[k - 1]] <= r->int_only[r->rank[k]];
  }
  for (int k = 0; k < p->nlayers; k++) sorted &= seen[k];
  t_check(in_range, "sensitivity: every count within 0..n (each layer measurable both ways)", "out of range");
  t_check(pools == 2 && pools_exact, "sensitivity: a max-pool alone in float scores the integer top-1 exactly",
          "%d pools", pools);
  t_check(sorted, "sensitivity: ranking is a permutation, largest cost first", "not sorted");

  /* Break layer 0 (the first conv): every bias code far out of range. */
  ILayer *l0 = &p->layers[0];
  for (int ch = 0; ch < l0->nch; ch++) l0->bias[ch] = (ch % 2 ? 1 : -1) * 2000000;
  Sensitivity *b = measure_sensitivity(p, s, N, labels->i);
  bool others_same = true;
  for (int k = 1; k < p->nlayers; k++) others_same &= b->int_only[k] == r->int_only[k];
  t_check(b->rank[0] == 0 && b->int_only[0] < r->int_only[0] - N / 5, "sensitivity: a broken layer is ranked first",
          "rank[0] = %d, only-int %d (was %d)", b->rank[0], b->int_only[0], r->int_only[0]);
  t_check(others_same, "sensitivity: other layers alone in integer do not see the broken one", "changed");
  t_check(b->float_only[0] == r->float_only[0], "sensitivity: the broken layer alone in float is unaffected",
          "%d vs %d", b->float_only[0], r->float_only[0]);
  free(seen);
  return t_exit_status();
}
