/* plan_memory.c — places every intermediate tensor of the integer program in one
 * arena by liveness. A tensor lives from the layer that writes it to the last layer
 * that reads it (aliases — flatten, reshape — extend their storage's life). Tensors
 * are placed largest first, each at the lowest offset that overlaps no tensor alive
 * at the same time (greedy by size, as TFLite Micro's planner does). The model's
 * inputs and outputs live in the caller's buffers, not the arena. */
#include "shiftc.h"

#include <stdlib.h>
#include <string.h>

typedef struct Live {
  int v;          /* storage value id */
  int64_t bytes;
  int first, last; /* layer indices */
  int64_t offset;
} Live;

static int by_size_desc(const void *a, const void *b) {
  const Live *x = a, *y = b;
  if (x->bytes != y->bytes) return x->bytes < y->bytes ? 1 : -1;
  if (x->first != y->first) return x->first - y->first;
  return x->v - y->v;
}

static bool is_edge(const IntProgram *p, int v) {
  const Graph *g = p->g;
  for (int i = 0; i < g->ninputs; i++)
    if (p->storage[g->inputs[i]] == v) return true;
  for (int i = 0; i < g->noutputs; i++)
    if (p->storage[g->outputs[i]] == v) return true;
  return false;
}

void plan_memory(IntProgram *p) {
  const Graph *g = p->g;
  int nv = g->nvalues;
  p->offset = xmalloc(sizeof(int64_t) * (size_t)nv);
  for (int v = 0; v < nv; v++) p->offset[v] = -1;
  Live *live = xcalloc((size_t)nv, sizeof(Live));
  int *index = xmalloc(sizeof(int) * (size_t)nv);
  for (int v = 0; v < nv; v++) index[v] = -1;
  int n = 0;
  for (int i = 0; i < p->nlayers; i++) {
    const ILayer *l = &p->layers[i];
    for (int k = -1; k < l->nin; k++) {
      int v = p->storage[k < 0 ? l->out : l->in[k]];
      if (g->values[v].is_const || is_edge(p, v)) continue;
      if (index[v] < 0) {
        index[v] = n;
        live[n] = (Live){v, shape_numel(&g->values[v].shape), i, i, 0};
        n++;
      }
      Live *t = &live[index[v]];
      if (i < t->first) t->first = i;
      if (i > t->last) t->last = i;
    }
  }
  /* Lower bound: the most bytes alive at any one layer. */
  p->sum_bytes = 0;
  p->lower_bound = 0;
  for (int k = 0; k < n; k++) p->sum_bytes += live[k].bytes;
  for (int i = 0; i < p->nlayers; i++) {
    int64_t at = 0;
    for (int k = 0; k < n; k++)
      if (live[k].first <= i && i <= live[k].last) at += live[k].bytes;
    if (at > p->lower_bound) p->lower_bound = at;
  }
  qsort(live, (size_t)n, sizeof(Live), by_size_desc);
  p->arena_bytes = 0;
  for (int k = 0; k < n; k++) {
    /* Try offset 0 and the end of every placed tensor that overlaps in time;
     * keep the lowest that collides with nothing placed. */
    int64_t best = -1;
    for (int c = -1; c < k; c++) {
      int64_t off = c < 0 ? 0 : live[c].offset + live[c].bytes;
      if (c >= 0 && (live[c].last < live[k].first || live[k].last < live[c].first)) continue;
      bool ok = true;
      for (int j = 0; j < k && ok; j++) {
        bool overlap_time = !(live[j].last < live[k].first || live[k].last < live[j].first);
        bool overlap_mem = off < live[j].offset + live[j].bytes && live[j].offset < off + live[k].bytes;
        if (overlap_time && overlap_mem) ok = false;
      }
      if (ok && (best < 0 || off < best)) best = off;
    }
    live[k].offset = best;
    p->offset[live[k].v] = best;
    if (best + live[k].bytes > p->arena_bytes) p->arena_bytes = best + live[k].bytes;
  }
  for (int v = 0; v < nv; v++)
    if (p->storage[v] != v && p->offset[p->storage[v]] >= 0) p->offset[v] = p->offset[p->storage[v]];
  p->live_first = xmalloc(sizeof(int) * (size_t)nv);
  p->live_last = xmalloc(sizeof(int) * (size_t)nv);
  for (int v = 0; v < nv; v++) p->live_first[v] = p->live_last[v] = -1;
  for (int k = 0; k < n; k++) {
    p->live_first[live[k].v] = live[k].first;
    p->live_last[live[k].v] = live[k].last;
  }
  free(live);
  free(index);
}
