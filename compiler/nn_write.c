/* nn_write.c — a Graph written back as a .nn model and its weights (`shiftc import`):
 * OUTDIR/<model>.nn, one statement per node with every set attribute and reals
 * printed with 17 significant digits, and OUTDIR/<model>.safetensors holding every
 * constant under its value name. Parsing that .nn gives the same graph, so running
 * or compiling it gives the same bits as the model it came from. */
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

static void put_node(StrBuf *sb, const Graph *g, const Node *n) {
  const OpDef *def = &op_table[n->op];
  const Value *o = &g->values[n->output];
  sb_printf(sb, "%s = %s(", o->name, def->name);
  bool variadic = def->inputs[0] && strstr(def->inputs[0], "...");
  bool first = true;
  for (int k = 0; k < n->ninputs; k++) {
    if (n->inputs[k] < 0) continue;
    if (!first) sb_puts(sb, ", ");
    if (k > 0 && !variadic) put_slot(sb, def->inputs[k]);
    sb_puts(sb, g->values[n->inputs[k]].name);
    first = false;
  }
  for (int a = 0; a < MAX_OP_ATTRS && def->attrs[a].name; a++)
    if (n->attrs[a].set) put_attr(sb, &def->attrs[a], &n->attrs[a]);
  sb_putc(sb, ')');
  if (o->quant.set) sb_printf(sb, " @quant(scale=%.17g, bits=%d)", o->quant.scale, o->quant.bits);
  char shape[SHAPE_STR_MAX];
  sb_printf(sb, "  # %s\n", shape_str(&o->shape, shape));
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
  for (int i = 0; i < g->nnodes; i++) put_node(&sb, g, &g->nodes[i]);
  sb_puts(&sb, "output ");
  for (int i = 0; i < g->noutputs; i++) sb_printf(&sb, "%s%s", i ? ", " : "", g->values[g->outputs[i]].name);
  sb_putc(&sb, '\n');
  if (nt && !safetensors_save(st_path, t, nt)) error_cli("cannot write '%s': %s", st_path, strerror(errno));
  if (!write_file_atomic(nn_path, sb.data, sb.len)) error_cli("cannot write '%s': %s", nn_path, strerror(errno));
  printf("%s -> %s (%d nodes), %s (%d tensors)\n", g->source ? g->source : g->name, nn_path, g->nnodes,
         nt ? st_path : "no weights", nt);
  sb_free(&sb);
  free(t), free(written), free(stem), free(nn_path), free(st_name), free(st_path);
}
