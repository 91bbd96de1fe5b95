/* model.c — the front end as one readable list of passes (as QBE's func() is). */
#include "shiftc.h"

Graph *load_model(const char *path) {
  Graph *g = parse_model_file(path); /* syntax, names, blocks, weights */
  infer_shapes(g);                   /* shapes and their errors, at the statement */
  lower_composites(g);               /* attention -> linear/matmul/softmax/transpose */
  infer_shapes(g);                   /* the lowered nodes' shapes */
  return g;
}
