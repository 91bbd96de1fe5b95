/* nn_blocks.c — finds where a graph repeats a subgraph with different weights (the
 * layers of an encoder, as ONNX exporters unroll them), so that `shiftc import` can write
 * them as one `block` called once per layer. A repeat is `count` consecutive windows of
 * `len` nodes that match node for node (op, attributes, output shape, which input comes
 * from which node of the window; constants of equal shape, their contents free) and that
 * each hand exactly one value, at the same node, to the rest of the graph (a block
 * returns one value). Windows do not nest; the longest repeats are taken first. */
#include "shiftc.h"

#include <stdlib.h>
#include <string.h>

#define MIN_BLOCK_NODES 4
#define MAX_REPEATS 16

static bool attrs_equal(const Node *a, const Node *b) {
  const OpDef *def = &op_table[a->op];
  for (int k = 0; k < MAX_OP_ATTRS && def->attrs[k].name; k++) {
    const AttrValue *x = &a->attrs[k], *y = &b->attrs[k];
    if (x->set != y->set || x->type != y->type) return false;
    if (!x->set) continue;
    switch (x->type) {
    case ATTR_INT: if (x->i != y->i) return false; break;
    case ATTR_FLOAT: if (memcmp(&x->f, &y->f, sizeof x->f) != 0) return false; break;
    case ATTR_ENUM: if (x->e != y->e) return false; break;
    case ATTR_INTS:
      if (x->nints != y->nints || memcmp(x->ints, y->ints, sizeof(int64_t) * (size_t)x->nints) != 0) return false;
      break;
    case ATTR_NONE: break;
    }
  }
  return true;
}

typedef struct Finder {
  const Graph *g;
  int *last_use;  /* per value: the last node that reads it, -1 if none */
  bool *is_out;   /* per value: a graph output */
  bool *covered;  /* per node: inside a repeat already taken */
  int *map;       /* per template value: the value the other window uses there, -1 */
  int *touched, ntouched;
} Finder;

/* Whether window b (nodes [b, b+len)) matches window a node for node. */
static bool same_window(Finder *F, int a, int b, int len) {
  const Graph *g = F->g;
  bool ok = true;
  for (int t = 0; t < len && ok; t++) {
    const Node *x = &g->nodes[a + t], *y = &g->nodes[b + t];
    const Value *ox = &g->values[x->output], *oy = &g->values[y->output];
    if (x->op != y->op || x->ninputs != y->ninputs || !shape_eq(&ox->shape, &oy->shape) || ox->dtype != oy->dtype ||
        ox->quant.set || oy->quant.set || !attrs_equal(x, y)) {
      ok = false;
      break;
    }
    for (int k = 0; k < x->ninputs && ok; k++) {
      int vx = x->inputs[k], vy = y->inputs[k];
      if (vx < 0 || vy < 0) {
        ok = vx == vy;
        continue;
      }
      int px = g->values[vx].producer, py = g->values[vy].producer;
      bool inx = px >= a && px < a + len, iny = py >= b && py < b + len;
      if (inx || iny) {
        ok = inx && iny && px - a == py - b;
        continue;
      }
      const Value *cx = &g->values[vx], *cy = &g->values[vy];
      if (cx->is_const != cy->is_const ||
          (cx->is_const && (!shape_eq(&cx->shape, &cy->shape) || !cx->idata != !cy->idata))) {
        ok = false;
        continue;
      }
      if (F->map[vx] < 0) {
        F->map[vx] = vy;
        F->touched[F->ntouched++] = vx;
      } else {
        ok = F->map[vx] == vy;
      }
    }
  }
  for (int i = 0; i < F->ntouched; i++) F->map[F->touched[i]] = -1;
  F->ntouched = 0;
  return ok;
}

/* The offset of the one node of window [s, s+len) whose output the rest of the graph
 * reads, or -1 if none or several do (or the window overlaps a repeat taken). */
static int window_return(Finder *F, int s, int len) {
  int ret = -1;
  for (int t = 0; t < len; t++) {
    if (F->covered[s + t]) return -1;
    int v = F->g->nodes[s + t].output;
    if (F->last_use[v] >= s + len || F->is_out[v]) {
      if (ret >= 0) return -1;
      ret = t;
    }
  }
  return ret;
}

/* The longest repeat among the nodes not covered yet; false if there is none. */
static bool longest_repeat(Finder *F, NnRepeat *r) {
  int n = F->g->nnodes;
  for (int len = n / 2; len >= MIN_BLOCK_NODES; len--)
    for (int s = 0; s + 2 * len <= n; s++) {
      int ret = window_return(F, s, len);
      if (ret < 0 || window_return(F, s + len, len) != ret || !same_window(F, s, s + len, len)) continue;
      int count = 2;
      while (s + (count + 1) * len <= n && window_return(F, s + count * len, len) == ret &&
             same_window(F, s, s + count * len, len))
        count++;
      *r = (NnRepeat){s, len, count, ret};
      return true;
    }
  return false;
}

int nn_find_repeats(const Graph *g, NnRepeat **out) {
  Finder F = {0};
  F.g = g;
  size_t nv = (size_t)g->nvalues + 1;
  F.last_use = xmalloc(sizeof(int) * nv);
  F.map = xmalloc(sizeof(int) * nv);
  F.touched = xmalloc(sizeof(int) * nv * MAX_OP_INPUTS);
  F.is_out = xcalloc(nv, sizeof(bool));
  F.covered = xcalloc((size_t)g->nnodes + 1, sizeof(bool));
  for (int v = 0; v < g->nvalues; v++) F.last_use[v] = F.map[v] = -1;
  for (int i = 0; i < g->nnodes; i++)
    for (int k = 0; k < g->nodes[i].ninputs; k++)
      if (g->nodes[i].inputs[k] >= 0) F.last_use[g->nodes[i].inputs[k]] = i;
  for (int i = 0; i < g->noutputs; i++) F.is_out[g->outputs[i]] = true;

  NnRepeat *r = NULL;
  int nr = 0;
  NnRepeat one;
  while (nr < MAX_REPEATS && longest_repeat(&F, &one)) {
    for (int i = 0; i < one.count * one.len; i++) F.covered[one.start + i] = true;
    r = xrealloc(r, sizeof(NnRepeat) * (size_t)(nr + 1));
    r[nr++] = one;
  }
  free(F.last_use), free(F.map), free(F.touched), free(F.is_out), free(F.covered);
  *out = r;
  return nr;
}
