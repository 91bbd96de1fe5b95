/* lower.c — rewrites composite ops into primitive ones, so that every later stage
 * (interpreters, quantizer, emitters) sees only the core ops. Today: attention.
 *
 * attention(x [N,T,D], heads=H) becomes, with dh = D/H:
 *   q = linear(x, wq, bq) -> reshape [N,T,H,dh] -> transpose [0,2,1,3]   (N,H,T,dh)
 *   k = linear(x, wk, bk) -> reshape [N,T,H,dh] -> transpose [0,2,3,1]   (N,H,dh,T)
 *   v = linear(x, wv, bv) -> reshape [N,T,H,dh] -> transpose [0,2,1,3]   (N,H,T,dh)
 *   s = mul(matmul(q, k), 1/sqrt(dh)) [+ mask] -> softmax(axis=-1)       (N,H,T,T)
 *   c = matmul(s, v) -> transpose [0,2,1,3] -> reshape [N,T,D]
 *   y = linear(c, wo, bo)
 */
#include "shiftc.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct Lowering {
  Graph *g;
  const char *base; /* the attention node's name */
  SrcLoc loc;
} Lowering;

static int emit(Lowering *L, OpKind op, const char *suffix, const int *in, int nin) {
  char *name = xformat("%s.%s", L->base, suffix);
  int ni = graph_add_node(L->g, op, name, L->loc, in, nin, name);
  return ni;
}

static int out_of(Lowering *L, int node) { return L->g->nodes[node].output; }

static int linear(Lowering *L, const char *suffix, int x, int w, int b) {
  int in[3] = {x, w, b};
  return out_of(L, emit(L, OP_LINEAR, suffix, in, 3));
}

static int reshape(Lowering *L, const char *suffix, int x, int rank, const int64_t *dims) {
  int n = emit(L, OP_RESHAPE, suffix, &x, 1);
  node_set_attr_ints(&L->g->nodes[n], "shape", rank, dims);
  return out_of(L, n);
}

static int transpose(Lowering *L, const char *suffix, int x, const int64_t *perm) {
  int n = emit(L, OP_TRANSPOSE, suffix, &x, 1);
  node_set_attr_ints(&L->g->nodes[n], "perm", 4, perm);
  return out_of(L, n);
}

static int binary(Lowering *L, OpKind op, const char *suffix, int a, int b) {
  int in[2] = {a, b};
  return out_of(L, emit(L, op, suffix, in, 2));
}

static void lower_attention(Graph *g, const Node *att) {
  Lowering L = {g, att->name, att->loc};
  const Shape *xs = &g->values[att->inputs[0]].shape;
  int64_t N = xs->d[0], T = xs->d[1], D = xs->d[2];
  int64_t H = node_attr_int(att, "heads"), dh = D / H;
  int x = att->inputs[0];
  const int *in = att->inputs; /* x wq bq wk bk wv bv wo bo mask */
  int64_t split[4] = {N, T, H, dh}, merged[3] = {N, T, D};
  int64_t to_heads[4] = {0, 2, 1, 3}, to_keys[4] = {0, 2, 3, 1};

  int q = transpose(&L, "q_heads", reshape(&L, "q_split", linear(&L, "q", x, in[1], in[2]), 4, split), to_heads);
  int k = transpose(&L, "k_heads", reshape(&L, "k_split", linear(&L, "k", x, in[3], in[4]), 4, split), to_keys);
  int v = transpose(&L, "v_heads", reshape(&L, "v_split", linear(&L, "v", x, in[5], in[6]), 4, split), to_heads);

  Tensor scale = {0};
  scale.dtype = DT_F32;
  scale.f = xmalloc(sizeof(float));
  scale.f[0] = (float)(1.0 / sqrt((double)dh));
  int sc = graph_add_const(g, xformat("%s.scale", att->name), &scale, att->loc);

  int s = binary(&L, OP_MUL, "scores", binary(&L, OP_MATMUL, "qk", q, k), sc);
  if (in[9] >= 0) s = binary(&L, OP_ADD, "masked", s, in[9]);
  int p = out_of(&L, emit(&L, OP_SOFTMAX, "probs", &s, 1));
  int c = binary(&L, OP_MATMUL, "context", p, v);
  int ct = transpose(&L, "context_t", c, to_heads);
  int cm = reshape(&L, "context_merged", ct, 3, merged);
  int oin[3] = {cm, in[7], in[8]};
  graph_add_node_into(g, OP_LINEAR, att->name, att->loc, oin, 3, att->output);
}

void lower_composites(Graph *g) {
  /* Rebuild the node list in order, expanding composites in place. Value ids stay;
   * only producers move. */
  Node *old = g->nodes;
  int nold = g->nnodes;
  g->nodes = NULL;
  g->nnodes = g->cap_nodes = 0;
  for (int i = 0; i < nold; i++) {
    const Node *n = &old[i];
    if (n->op == OP_ATTENTION) {
      lower_attention(g, n);
      continue;
    }
    graph_add_node_into(g, n->op, n->name, n->loc, n->inputs, n->ninputs, n->output);
    Node *copy = &g->nodes[g->nnodes - 1];
    memcpy(copy->attrs, n->attrs, sizeof n->attrs);
  }
  free(old);
}
