/* nn_write.c — a Graph written back as a .nn model and its weights (`shiftc import`):
 * OUTDIR/<model>.nn, one statement per node with every set attribute and reals
 * printed with 17 significant digits, and OUTDIR/<model>.safetensors holding every
 * constant under its value name. A subgraph the graph repeats with different weights
 * (nn_blocks.c) is written once as a `block` and called per instance. Parsing that .nn
 * gives the same nodes (the values inside a block named after its call), so running or
 * compiling it gives the same bits as the model it came from. */
#include "shiftc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static void put_attr(StrBuf *sb, const AttrDef *def, const AttrValue *a) {
  sb_printf(sb, ", %s=", def->name);
  switch (a->type) {
  case ATTR_INT: sb_printf(sb, "%lld", (long long)a->i); break;
  case ATTR_FLOAT: sb_printf(sb, "%.17g", a->f); break;
  case ATTR_INTS:
    sb_putc(sb, '[');
    for (int j = 0; j < a->nints; j++) sb_printf(sb, "%s%lld", j ? "," : "", (long long)a->ints[j]);
    sb_putc(sb, ']');
    break;
  case ATTR_ENUM: {
    const char *c = def->choices;
    for (int j = 0; j < a->e && c; j++) c = strchr(c, '|') ? strchr(c, '|') + 1 : NULL;
    if (!c) internal_error("enum attribute '%s' out of range", def->name);
    sb_printf(sb, "%.*s", (int)strcspn(c, "|"), c);
    break;
  }
  case ATTR_NONE: break;
  }
}

/* A slot's keyword: its name without "?" / "...". */
static void put_slot(StrBuf *sb, const char *slot) { sb_printf(sb, "%.*s=", (int)strcspn(slot, "?."), slot); }

/* One statement; names[v] is how value v is written (a block's locals and parameters
 * differ from the graph's names). */
static void put_node(StrBuf *sb, const Graph *g, const Node *n, const char *const *names, const char *indent) {
  const OpDef *def = &op_table[n->op];
  const Value *o = &g->values[n->output];
  sb_printf(sb, "%s%s = %s(", indent, names[n->output], def->name);
  bool variadic = def->inputs[0] && strstr(def->inputs[0], "...");
  bool first = true;
  for (int k = 0; k < n->ninputs; k++) {
    if (n->inputs[k] < 0) continue;
    if (!first) sb_puts(sb, ", ");
    if (k > 0 && !variadic) put_slot(sb, def->inputs[k]);
    sb_puts(sb, names[n->inputs[k]]);
    first = false;
  }
  for (int a = 0; a < MAX_OP_ATTRS && def->attrs[a].name; a++)
    if (n->attrs[a].set) put_attr(sb, &def->attrs[a], &n->attrs[a]);
  sb_putc(sb, ')');
  if (o->quant.set) sb_printf(sb, " @quant(scale=%.17g, bits=%d)", o->quant.scale, o->quant.bits);
  char shape[SHAPE_STR_MAX];
  sb_printf(sb, "  # %s\n", shape_str(&o->shape, shape));
}

/* ------------------------------------------------------------------ blocks */

/* A block parameter: the value the template window reads, and where it first reads it
 * (node offset, input slot), which is where every instance's argument is found. */
typedef struct Param {
  int value, node, slot;
} Param;

typedef struct Block {
  NnRepeat r;
  char *name;
  Param *p;
  int np;
  char **owned; /* names made for locals and parameters, freed at the end */
  int nowned;
} Block;

static const Value *inst_value(const Graph *g, const Block *b, int inst, int node, int slot) {
  return &g->values[g->nodes[b->r.start + inst * b->r.len + node].inputs[slot]];
}

/* The same constant contents in every instance: the body names the template's tensor. */
static bool shared_const(const Graph *g, const Block *b, const Param *p) {
  const Value *c0 = inst_value(g, b, 0, p->node, p->slot);
  size_t n = (size_t)shape_numel(&c0->shape);
  for (int i = 1; i < b->r.count; i++) {
    const Value *c = inst_value(g, b, i, p->node, p->slot);
    if (c0->idata ? memcmp(c0->idata, c->idata, n * sizeof(int64_t)) : memcmp(c0->data, c->data, n * sizeof(float)))
      return false;
  }
  return true;
}

static bool is_letter(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }

/* A readable name for what the instances' names have in common: their longest common
 * tail after a separator ("layers_0_norm1_Add" and "layers_1_norm1_Add" -> "norm1_Add"),
 * dots made underscores; NULL if that tail is too short to say anything. */
static char *common_tail(const char *const *names, int n) {
  size_t l0 = strlen(names[0]), tail = l0;
  for (int i = 1; i < n; i++) {
    size_t li = strlen(names[i]), k = 0;
    while (k < l0 && k < li && names[0][l0 - 1 - k] == names[i][li - 1 - k]) k++;
    if (k < tail) tail = k;
  }
  if (tail == l0) return NULL; /* identical names: not an instance's own */
  const char *t = names[0] + l0 - tail;
  while (*t && !is_letter(*t)) t++;
  if (strlen(t) < 3) return NULL;
  char *s = xstrdup(t);
  for (char *c = s; *c; c++)
    if (*c == '.') *c = '_';
  return s;
}

static bool name_taken(char **names, int n, const char *s) {
  for (int i = 0; i < n; i++)
    if (names[i] && strcmp(names[i], s) == 0) return true;
  return false;
}

/* Gives `v` (in names[]) the common tail of its instances' names, or `fallback`. */
static void name_local(Block *b, const char **names, int v, const char *const *inst, const char *fallback) {
  char *s = common_tail(inst, b->r.count);
  if (!s || name_taken(b->owned, b->nowned, s)) {
    free(s);
    s = xstrdup(fallback);
  }
  for (int k = 2; name_taken(b->owned, b->nowned, s); k++) {
    free(s);
    s = xformat("%s_%d", fallback, k);
  }
  b->owned = xrealloc(b->owned, sizeof(char *) * (size_t)(b->nowned + 1));
  b->owned[b->nowned++] = s;
  names[v] = s;
}

/* Writes the block definition; names[] is the graph's names on entry and is restored. */
static void put_block(StrBuf *sb, const Graph *g, Block *b, const char **names) {
  const NnRepeat *r = &b->r;
  const char **saved = xmalloc(sizeof(char *) * (size_t)(g->nvalues + 1));
  memcpy(saved, names, sizeof(char *) * (size_t)g->nvalues);
  const char **inst = xmalloc(sizeof(char *) * (size_t)r->count);
  bool *seen = xcalloc((size_t)g->nvalues + 1, sizeof(bool));
  char fb[64];
  /* Parameters: values from outside the window, then constants that differ per instance. */
  for (int pass = 0; pass < 2; pass++)
    for (int t = 0; t < r->len; t++) {
      const Node *n = &g->nodes[r->start + t];
      for (int k = 0; k < n->ninputs; k++) {
        int v = n->inputs[k];
        if (v < 0 || seen[v]) continue;
        const Value *x = &g->values[v];
        if (x->producer >= r->start && x->producer < r->start + r->len) continue;
        if (x->is_const != (pass == 1)) continue;
        seen[v] = true;
        Param p = {v, t, k};
        if (x->is_const && shared_const(g, b, &p)) continue; /* named directly in the body */
        b->p = xrealloc(b->p, sizeof(Param) * (size_t)(b->np + 1));
        b->p[b->np++] = p;
        for (int i = 0; i < r->count; i++) inst[i] = inst_value(g, b, i, t, k)->name;
        if (x->is_const) { /* else named after its reader: "linear1_Add_output_0_weight" */
          const OpDef *def = &op_table[n->op];
          const char **rd = xmalloc(sizeof(char *) * (size_t)r->count);
          for (int i = 0; i < r->count; i++) rd[i] = g->values[g->nodes[r->start + i * r->len + t].output].name;
          char *tail = common_tail(rd, r->count);
          if (tail && k < MAX_OP_INPUTS && def->inputs[k])
            snprintf(fb, sizeof fb, "%.40s_%.*s", tail, (int)strcspn(def->inputs[k], "?."), def->inputs[k]);
          else
            snprintf(fb, sizeof fb, "w%d", b->np);
          free(tail), free(rd);
          name_local(b, names, v, inst, fb);
        } else { /* the instances' inputs have unrelated names */
          snprintf(fb, sizeof fb, b->np == 1 ? "x" : "x%d", b->np);
          inst[0] = fb;
          name_local(b, names, v, inst, fb);
        }
      }
    }
  for (int t = 0; t < r->len; t++) {
    for (int i = 0; i < r->count; i++) inst[i] = g->values[g->nodes[r->start + i * r->len + t].output].name;
    snprintf(fb, sizeof fb, "t%d", t);
    name_local(b, names, g->nodes[r->start + t].output, inst, fb);
  }
  sb_printf(sb, "\n# %d nodes, written once and called %d times below\nblock %s(", r->len, r->count, b->name);
  for (int i = 0; i < b->np; i++) sb_printf(sb, "%s%s", i ? ", " : "", names[b->p[i].value]);
  sb_puts(sb, ") {\n");
  for (int t = 0; t < r->len; t++) put_node(sb, g, &g->nodes[r->start + t], names, "  ");
  sb_printf(sb, "  return %s\n}\n\n", names[g->nodes[r->start + r->ret].output]);
  memcpy(names, saved, sizeof(char *) * (size_t)g->nvalues);
  free(saved), free(inst), free(seen);
}

static void put_call(StrBuf *sb, const Graph *g, const Block *b, int inst) {
  const NnRepeat *r = &b->r;
  const Value *o = &g->values[g->nodes[r->start + inst * r->len + r->ret].output];
  sb_printf(sb, "%s = %s(", o->name, b->name);
  for (int i = 0; i < b->np; i++)
    sb_printf(sb, "%s%s", i ? ", " : "", inst_value(g, b, inst, b->p[i].node, b->p[i].slot)->name);
  char shape[SHAPE_STR_MAX];
  sb_printf(sb, ")  # %s\n", shape_str(&o->shape, shape));
}

void write_nn_model(const Graph *g, const char *outdir) {
  char *stem = path_stem_identifier(g->name);
  char *nn_path = xformat("%s/%s.nn", outdir, stem), *st_name = xformat("%s.safetensors", stem);
  char *st_path = xformat("%s/%s", outdir, st_name);
  /* The weights: every constant a node reads, in first-use order. */
  Tensor *t = xcalloc((size_t)g->nvalues + 1, sizeof(Tensor));
  bool *written = xcalloc((size_t)g->nvalues + 1, sizeof(bool));
  int nt = 0;
  for (int i = 0; i < g->nnodes; i++)
    for (int k = 0; k < g->nodes[i].ninputs; k++) {
      int v = g->nodes[i].inputs[k];
      if (v < 0 || !g->values[v].is_const || written[v]) continue;
      const Value *c = &g->values[v];
      written[v] = true;
      t[nt].name = c->name;
      t[nt].shape = c->shape;
      t[nt].dtype = c->idata ? DT_I64 : DT_F32;
      t[nt].f = c->data;
      t[nt].i = c->idata;
      nt++;
    }
  StrBuf sb = {0};
  sb_printf(&sb, "# %s: imported by shiftc %s from %s\n", stem, SHIFTC_VERSION, g->source ? g->source : "?");
  sb_printf(&sb, "model %s\n", stem);
  if (nt) sb_printf(&sb, "weights \"%s\"\n", st_name);
  char shape[SHAPE_STR_MAX];
  for (int i = 0; i < g->ninputs; i++) {
    const Value *v = &g->values[g->inputs[i]];
    sb_printf(&sb, "input %s : %s%s\n", v->name, dtype_name(v->dtype), shape_str(&v->shape, shape));
  }
  const char **names = xmalloc(sizeof(char *) * (size_t)(g->nvalues + 1));
  for (int v = 0; v < g->nvalues; v++) names[v] = g->values[v].name;
  NnRepeat *rep;
  int nb = nn_find_repeats(g, &rep);
  Block *blocks = xcalloc((size_t)nb + 1, sizeof(Block));
  for (int k = 0; k < nb; k++) {
    blocks[k].r = rep[k];
    blocks[k].name = nb == 1 ? xstrdup("layer") : xformat("layer%d", k + 1);
    put_block(&sb, g, &blocks[k], names);
  }
  for (int i = 0; i < g->nnodes; i++) {
    const Block *in = NULL;
    for (int k = 0; k < nb && !in; k++)
      if (i >= rep[k].start && i < rep[k].start + rep[k].count * rep[k].len) in = &blocks[k];
    if (!in) {
      put_node(&sb, g, &g->nodes[i], names, "");
    } else if ((i - in->r.start) % in->r.len == 0) {
      put_call(&sb, g, in, (i - in->r.start) / in->r.len);
    }
  }
  sb_puts(&sb, "output ");
  for (int i = 0; i < g->noutputs; i++) sb_printf(&sb, "%s%s", i ? ", " : "", g->values[g->outputs[i]].name);
  sb_putc(&sb, '\n');
  if (nt && !safetensors_save(st_path, t, nt)) error_cli("cannot write '%s': %s", st_path, strerror(errno));
  if (!write_file_atomic(nn_path, sb.data, sb.len)) error_cli("cannot write '%s': %s", nn_path, strerror(errno));
  printf("%s -> %s (%d nodes), %s (%d tensors)\n", g->source ? g->source : g->name, nn_path, g->nnodes,
         nt ? st_path : "no weights", nt);
  sb_free(&sb);
  for (int k = 0; k < nb; k++) {
    for (int j = 0; j < blocks[k].nowned; j++) free(blocks[k].owned[j]);
    free(blocks[k].owned), free(blocks[k].p), free(blocks[k].name);
  }
  free(blocks), free(rep), free(names);
  free(t), free(written), free(stem), free(nn_path), free(st_name), free(st_path);
}
