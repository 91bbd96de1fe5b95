/* shape.c — shape inference: every op's shape rule, run in graph order. Each rule
 * reports its own errors at the statement that made the node. */
#include "shiftc.h"

void infer_shapes(Graph *g) {
  for (int i = 0; i < g->nnodes; i++) {
    Node *n = &g->nodes[i];
    op_table[n->op].shape(g, n);
  }
}
