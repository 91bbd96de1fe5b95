/* ir.c — the graph: values (activations, inputs, constants) and nodes (op instances),
 * attributes with their defaults from the op table, and the acyclicity check. */
#include "shiftc.h"

#include <stdlib.h>
#include <string.h>

Graph *graph_new(const char *name, const char *source) {
  Graph *g = xcalloc(1, sizeof(Graph));
  g->name = xstrdup(name);
  g->source = source ? xstrdup(source) : NULL;
  return g;
}

int graph_add_value(Graph *g, const char *name, SrcLoc loc) {
  if (g->nvalues == g->cap_values) {
    g->cap_values = g->cap_values ? g->cap_values * 2 : 64;
    g->values = xrealloc(g->values, sizeof(Value) * (size_t)g->cap_values);
  }
  Value *v = &g->values[g->nvalues];
  memset(v, 0, sizeof *v);
  v->id = g->nvalues;
  v->name = xstrdup(name);
  v->loc = loc;
  v->producer = -1;
  v->dtype = DT_F32;
  return g->nvalues++;
}

int graph_add_const(Graph *g, const char *name, const Tensor *t, SrcLoc loc) {
  int id = graph_add_value(g, name, loc);
  Value *v = &g->values[id];
  v->is_const = true;
  v->shape = t->shape;
  v->dtype = dtype_is_int(t->dtype) ? DT_I32 : DT_F32;
  v->data = t->f;
  v->idata = t->i;
  return id;
}

/* Parses an attribute's default text (as it would appear in a .nn file). */
static void attr_from_text(AttrValue *a, const AttrDef *def) {
  const char *s = def->deflt;
  a->type = def->type;
  if (!s || !*s) return; /* required or optional without default: stays unset */
  a->set = true;
  switch (def->type) {
  case ATTR_INT: a->i = strtoll(s, NULL, 10); break;
  case ATTR_FLOAT: a->f = strtod(s, NULL); break;
  case ATTR_INTS: {
    const char *p = s + (*s == '[');
    a->nints = 0;
    while (*p && *p != ']' && a->nints < MAX_ATTR_INTS) {
      char *end;
      a->ints[a->nints++] = strtoll(p, &end, 10);
      p = end + (*end == ',');
    }
    break;
  }
  case ATTR_ENUM: {
    a->e = 0;
    const char *c = def->choices;
    for (int k = 0; c; k++) {
      size_t n = strcspn(c, "|");
      if (strlen(s) == n && strncmp(c, s, n) == 0) a->e = k;
      c = c[n] ? c + n + 1 : NULL;
    }
    break;
  }
  case ATTR_NONE: break;
  }
}

void node_fill_defaults(Node *n) {
  const OpDef *def = &op_table[n->op];
  for (int i = 0; i < MAX_OP_ATTRS && def->attrs[i].name; i++)
    if (!n->attrs[i].set) attr_from_text(&n->attrs[i], &def->attrs[i]);
}

int graph_add_node(Graph *g, OpKind op, const char *name, SrcLoc loc, const int *inputs,
                   int ninputs, const char *out_name) {
  return graph_add_node_into(g, op, name, loc, inputs, ninputs, graph_add_value(g, out_name, loc));
}

int graph_add_node_into(Graph *g, OpKind op, const char *name, SrcLoc loc, const int *inputs,
                        int ninputs, int out) {
  if (ninputs > MAX_OP_INPUTS) internal_error("%s: too many inputs", name);
  if (g->nnodes == g->cap_nodes) {
    g->cap_nodes = g->cap_nodes ? g->cap_nodes * 2 : 64;
    g->nodes = xrealloc(g->nodes, sizeof(Node) * (size_t)g->cap_nodes);
  }
  Node *n = &g->nodes[g->nnodes];
  memset(n, 0, sizeof *n);
  n->op = op;
  n->name = xstrdup(name);
  n->loc = loc;
  n->ninputs = ninputs;
  for (int i = 0; i < ninputs; i++) n->inputs[i] = inputs[i];
  n->output = out;
  for (int i = 0; i < MAX_OP_ATTRS; i++) n->attrs[i].loc = loc;
  node_fill_defaults(n);
  g->values[out].producer = g->nnodes;
  return g->nnodes++;
}

int graph_find_value(const Graph *g, const char *name) {
  for (int i = g->nvalues - 1; i >= 0; i--)
    if (strcmp(g->values[i].name, name) == 0) return i;
  return -1;
}

static AttrValue *attr_slot(Node *n, const char *name) {
  int i = op_attr_index(n->op, name);
  if (i < 0) internal_error("op %s has no attribute '%s'", op_table[n->op].name, name);
  return &n->attrs[i];
}

const AttrValue *node_attr(const Node *n, const char *name) {
  return attr_slot((Node *)n, name);
}

int64_t node_attr_int(const Node *n, const char *name) {
  const AttrValue *a = node_attr(n, name);
  return a->type == ATTR_INTS ? a->ints[0] : a->i;
}

double node_attr_float(const Node *n, const char *name) { return node_attr(n, name)->f; }

void node_set_attr_int(Node *n, const char *name, int64_t v) {
  AttrValue *a = attr_slot(n, name);
  a->set = true;
  a->i = v;
  a->nints = 1;
  a->ints[0] = v;
}

void node_set_attr_enum(Node *n, const char *name, int choice) {
  AttrValue *a = attr_slot(n, name);
  a->set = true;
  a->e = choice;
}

void node_set_attr_ints(Node *n, const char *name, int nints, const int64_t *v) {
  AttrValue *a = attr_slot(n, name);
  a->set = true;
  a->nints = nints;
  for (int i = 0; i < nints; i++) a->ints[i] = v[i];
}

void node_set_attr_float(Node *n, const char *name, double v) {
  AttrValue *a = attr_slot(n, name);
  a->set = true;
  a->f = v;
}

/* Nodes are kept in a valid evaluation order; every input must be produced by an
 * earlier node. A violation is a cycle (or a forward reference), reported at the
 * node that uses a value before it exists. */
void graph_check_acyclic(const Graph *g) {
  for (int i = 0; i < g->nnodes; i++) {
    const Node *n = &g->nodes[i];
    for (int k = 0; k < n->ninputs; k++) {
      int v = n->inputs[k];
      if (v < 0) continue;
      int p = g->values[v].producer;
      if (p >= i)
        error_at(n->loc, "cycle: '%s' uses '%s', which depends on '%s' itself", n->name,
                 g->values[v].name, n->name);
    }
  }
}

void graph_dump(const Graph *g, FILE *out) {
  char buf[SHAPE_STR_MAX];
  fprintf(out, "model %s\n", g->name);
  for (int i = 0; i < g->ninputs; i++) {
    const Value *v = &g->values[g->inputs[i]];
    fprintf(out, "input %s : %s%s\n", v->name, dtype_name(v->dtype), shape_str(&v->shape, buf));
  }
  for (int i = 0; i < g->nnodes; i++) {
    const Node *n = &g->nodes[i];
    const OpDef *def = &op_table[n->op];
    const Value *o = &g->values[n->output];
    fprintf(out, "%s = %s(", o->name, def->name);
    for (int k = 0; k < n->ninputs; k++)
      fprintf(out, "%s%s", k ? ", " : "", n->inputs[k] < 0 ? "_" : g->values[n->inputs[k]].name);
    for (int a = 0; a < MAX_OP_ATTRS && def->attrs[a].name; a++) {
      const AttrValue *av = &n->attrs[a];
      if (!av->set) continue;
      fprintf(out, ", %s=", def->attrs[a].name);
      switch (av->type) {
      case ATTR_INT: fprintf(out, "%lld", (long long)av->i); break;
      case ATTR_FLOAT: fprintf(out, "%g", av->f); break;
      case ATTR_INTS:
        fputc('[', out);
        for (int j = 0; j < av->nints; j++) fprintf(out, "%s%lld", j ? "," : "", (long long)av->ints[j]);
        fputc(']', out);
        break;
      case ATTR_ENUM: {
        const char *c = def->attrs[a].choices;
        for (int j = 0; j < av->e && c; j++) c = strchr(c, '|') ? strchr(c, '|') + 1 : NULL;
        fprintf(out, "%.*s", c ? (int)strcspn(c, "|") : 1, c ? c : "?");
        break;
      }
      case ATTR_NONE: break;
      }
    }
    fprintf(out, ")  # %s\n", shape_str(&o->shape, buf));
  }
  for (int i = 0; i < g->noutputs; i++) fprintf(out, "output %s\n", g->values[g->outputs[i]].name);
}
