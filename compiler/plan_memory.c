/* plan_memory.c — places every intermediate tensor of the integer program in one
 * arena by liveness. A tensor lives from the layer that writes it to the last layer
 * that reads it (aliases — flatten, reshape — extend their storage's life). The model's
 * inputs and outputs live in the caller's buffers, not the arena.
 *
 * In place: a layer whose kernel computes each output element from the input element
 * at the same index, reading it before writing that element and never again, may write
 * its output over an input that dies at that layer (same bytes). Such a pair becomes one
 * block of the arena; chains (add -> relu -> ...) become one block. The kernels that
 * have the property, on every target:
 *   - sc_lut_s8, sc_igelu_s8: y[i] from x[i] (documented "x and y may be the same");
 *   - sc_add/sub/mul_s8 and the SIMD row kernels (sc_eltwise_s8_simd.c): y[j] from
 *     a[j] and b[j'], in place of an operand of the output's own shape (read at j:
 *     dense, not broadcast); the rows load their 8 elements (or copy the tail) before
 *     storing them.
 * The interpreter keeps a buffer per value, so `verify` comparing the generated code's
 * goldens with it checks every in-place pair.
 *
 * Placement: blocks are placed one at a time, each at the lowest offset that overlaps
 * no block alive at the same time (greedy, as TFLite Micro's planner); three orders are
 * tried (largest first, longest-lived first, first-written first) and the smallest
 * arena kept (ties: the earlier order). Lower bounds: the most bytes alive during any
 * one layer, counting an in-place pair twice (without in-place) or once (with). */
#include "shiftc.h"

#include <stdlib.h>
#include <string.h>

typedef struct Live {
  int v;           /* storage value id */
  int64_t bytes;
  int first, last; /* layer indices */
  int block;       /* index of its block */
} Live;

typedef struct Block {
  int64_t bytes;
  int first, last;
  int64_t offset;
} Block;

static bool is_edge(const IntProgram *p, int v) {
  const Graph *g = p->g;
  for (int i = 0; i < g->ninputs; i++)
    if (p->storage[g->inputs[i]] == v) return true;
  for (int i = 0; i < g->noutputs; i++)
    if (p->storage[g->outputs[i]] == v) return true;
  return false;
}

/* Whether layer l may write its output over input slot k (see the list above). */
static bool kernel_in_place(const IntProgram *p, const ILayer *l, int k) {
  const Value *in = &p->g->values[l->in[k]], *out = &p->g->values[l->out];
  if (in->is_const || value_code_bytes(in) != value_code_bytes(out)) return false;
  switch (l->kind) {
  case IL_LUT:
  case IL_IGELU: return k == 0;
  case IL_ADD:
  case IL_SUB:
  case IL_MUL: return shape_eq(&in->shape, &out->shape);
  default: return false;
  }
}

static int64_t peak_bytes(const IntProgram *p, const int *first, const int *last, const int64_t *bytes, int n) {
  int64_t peak = 0;
  for (int i = 0; i < p->nlayers; i++) {
    int64_t at = 0;
    for (int k = 0; k < n; k++)
      if (first[k] <= i && i <= last[k]) at += bytes[k];
    if (at > peak) peak = at;
  }
  return peak;
}

static bool overlap_time(const Block *a, const Block *b) { return !(a->last < b->first || b->last < a->first); }

/* Greedy placement of the blocks in `order`; returns the arena size, offsets in b. */
static int64_t place(Block *b, const int *order, int n) {
  int64_t arena = 0;
  for (int i = 0; i < n; i++) {
    Block *x = &b[order[i]];
    /* Candidates: offset 0 and the end of every placed block that overlaps in time;
     * keep the lowest that collides with nothing placed. */
    int64_t best = -1;
    for (int c = -1; c < i; c++) {
      const Block *y = c < 0 ? NULL : &b[order[c]];
      if (y && !overlap_time(x, y)) continue;
      int64_t off = y ? y->offset + y->bytes : 0;
      if (best >= 0 && off >= best) continue;
      bool ok = true;
      for (int j = 0; j < i && ok; j++) {
        const Block *z = &b[order[j]];
        if (overlap_time(x, z) && off < z->offset + z->bytes && z->offset < off + x->bytes) ok = false;
      }
      if (ok) best = off;
    }
    x->offset = best;
    if (best + x->bytes > arena) arena = best + x->bytes;
  }
  return arena;
}

/* The orders tried: comparators over copies of the blocks' keys (ties: block index). */
typedef struct Key {
  int b;
  int64_t bytes;
  int first, life;
} Key;
static int by_size(const void *pa, const void *pb) {
  const Key *x = pa, *y = pb;
  if (x->bytes != y->bytes) return x->bytes < y->bytes ? 1 : -1;
  if (x->first != y->first) return x->first - y->first;
  return x->b - y->b;
}
static int by_lifetime(const void *pa, const void *pb) {
  const Key *x = pa, *y = pb;
  if (x->life != y->life) return y->life - x->life;
  return by_size(pa, pb);
}
static int by_first(const void *pa, const void *pb) {
  const Key *x = pa, *y = pb;
  if (x->first != y->first) return x->first - y->first;
  return by_size(pa, pb);
}

void plan_memory(IntProgram *p) {
  const Graph *g = p->g;
  int nv = g->nvalues;
  p->offset = xmalloc(sizeof(int64_t) * (size_t)nv);
  p->in_place_of = xmalloc(sizeof(int) * (size_t)nv);
  for (int v = 0; v < nv; v++) p->offset[v] = -1, p->in_place_of[v] = -1;
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
        live[n] = (Live){v, shape_numel(&g->values[v].shape), i, i, n};
        n++;
      }
      Live *t = &live[index[v]];
      if (i < t->first) t->first = i;
      if (i > t->last) t->last = i;
    }
  }

  /* In-place pairs: the output joins the block of an input that dies here. A block's
   * members hand over one to the next, so it ends where its newest member does. */
  int nb = 0;
  Block *blocks = xcalloc((size_t)(n ? n : 1), sizeof(Block));
  for (int k = 0; k < n; k++) {
    int v = live[k].v, i = live[k].first, joined = -1;
    const ILayer *l = &p->layers[i];
    if (p->storage[l->out] == v)
      for (int s = 0; s < l->nin && joined < 0; s++) {
        int x = p->storage[l->in[s]];
        if (x == v || index[x] < 0 || !kernel_in_place(p, l, s)) continue;
        const Live *in = &live[index[x]];
        if (in->last == i && in->bytes == live[k].bytes && blocks[in->block].last == i) joined = index[x];
      }
    if (joined >= 0) {
      live[k].block = live[joined].block;
      blocks[live[k].block].last = live[k].last;
      p->in_place_of[v] = live[joined].v;
    } else {
      live[k].block = nb;
      blocks[nb++] = (Block){live[k].bytes, live[k].first, live[k].last, 0};
    }
  }

  /* Lower bounds: per tensor (no in-place) and per block (in-place pairs once). */
  int *first = xmalloc(sizeof(int) * (size_t)(n + 1)), *last = xmalloc(sizeof(int) * (size_t)(n + 1));
  int64_t *bytes = xmalloc(sizeof(int64_t) * (size_t)(n + 1));
  p->sum_bytes = 0;
  for (int k = 0; k < n; k++) {
    first[k] = live[k].first, last[k] = live[k].last, bytes[k] = live[k].bytes;
    p->sum_bytes += live[k].bytes;
  }
  p->lower_bound = peak_bytes(p, first, last, bytes, n);
  for (int b = 0; b < nb; b++) first[b] = blocks[b].first, last[b] = blocks[b].last, bytes[b] = blocks[b].bytes;
  p->lower_bound_inplace = peak_bytes(p, first, last, bytes, nb);

  int (*orders[])(const void *, const void *) = {by_size, by_lifetime, by_first};
  int *order = xmalloc(sizeof(int) * (size_t)(nb + 1));
  Key *keys = xmalloc(sizeof(Key) * (size_t)(nb + 1));
  int64_t *best_offset = xmalloc(sizeof(int64_t) * (size_t)(nb + 1));
  p->arena_bytes = -1;
  for (size_t o = 0; o < sizeof orders / sizeof *orders; o++) {
    for (int b = 0; b < nb; b++) keys[b] = (Key){b, blocks[b].bytes, blocks[b].first, blocks[b].last - blocks[b].first};
    qsort(keys, (size_t)nb, sizeof(Key), orders[o]);
    for (int b = 0; b < nb; b++) order[b] = keys[b].b;
    int64_t arena = place(blocks, order, nb);
    if (p->arena_bytes < 0 || arena < p->arena_bytes) {
      p->arena_bytes = arena;
      for (int b = 0; b < nb; b++) best_offset[b] = blocks[b].offset;
    }
  }
  if (p->arena_bytes < 0) p->arena_bytes = 0;

  for (int k = 0; k < n; k++) p->offset[live[k].v] = best_offset[live[k].block];
  for (int v = 0; v < nv; v++)
    if (p->storage[v] != v && p->offset[p->storage[v]] >= 0) p->offset[v] = p->offset[p->storage[v]];
  p->live_first = xmalloc(sizeof(int) * (size_t)nv);
  p->live_last = xmalloc(sizeof(int) * (size_t)nv);
  for (int v = 0; v < nv; v++) p->live_first[v] = p->live_last[v] = -1;
  for (int k = 0; k < n; k++) {
    p->live_first[live[k].v] = live[k].first;
    p->live_last[live[k].v] = live[k].last;
  }
  free(order);
  free(keys);
  free(best_offset);
  free(first);
  free(last);
  free(bytes);
  free(blocks);
  free(live);
  free(index);
}
