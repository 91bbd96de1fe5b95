/* parse.c — from a .nn file to a graph: runs the parser (grammar/), expands blocks,
 * resolves every operand (a value defined above, a block parameter, or a tensor of
 * the weights file), maps call arguments onto the op table's input slots and
 * attributes, and applies @quant annotations. Shapes are inferred by the caller. */
#define _POSIX_C_SOURCE 200809L
#include "ast.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---------------------------------------------------------------- AST builders */

Expr *ast_name(const char *name, SrcLoc loc) {
  Expr *e = xcalloc(1, sizeof(Expr));
  e->kind = EX_NAME;
  e->name = (char *)name;
  e->loc = loc;
  return e;
}

Expr *ast_num(const char *text, SrcLoc loc) {
  Expr *e = xcalloc(1, sizeof(Expr));
  e->kind = EX_NUM;
  e->loc = loc;
  e->num = strtod(text, NULL);
  e->is_int = strpbrk(text, ".eE") == NULL;
  if (e->is_int && strlen(text) > 15) error_at(loc, "integer %s is too large", text);
  return e;
}

Expr *ast_call(const char *callee, SrcLoc loc) {
  Expr *e = xcalloc(1, sizeof(Expr));
  e->kind = EX_CALL;
  e->name = (char *)callee;
  e->loc = loc;
  return e;
}

void ast_args_add(Arg **v, int *n, char *key, SrcLoc key_loc, Expr *value) {
  *v = xrealloc(*v, sizeof(Arg) * (size_t)(*n + 1));
  (*v)[*n].key = key;
  (*v)[*n].key_loc = key_loc;
  (*v)[*n].value = value;
  (*n)++;
}

Expr *ast_list(SrcLoc loc) {
  Expr *e = xcalloc(1, sizeof(Expr));
  e->kind = EX_LIST;
  e->loc = loc;
  return e;
}

void ast_list_add(Expr *list, Expr *num) {
  list->items = xrealloc(list->items, sizeof(double) * (size_t)(list->nitems + 1));
  list->items_int = xrealloc(list->items_int, sizeof(bool) * (size_t)(list->nitems + 1));
  list->items[list->nitems] = num->num;
  list->items_int[list->nitems] = num->is_int;
  list->nitems++;
}

Stmt *ast_stmt(StmtKind kind, SrcLoc loc) {
  Stmt *s = xcalloc(1, sizeof(Stmt));
  s->kind = kind;
  s->loc = loc;
  return s;
}

void ast_namelist_add(NameList *l, const char *name, SrcLoc loc) {
  l->names = xrealloc(l->names, sizeof(char *) * (size_t)(l->n + 1));
  l->locs = xrealloc(l->locs, sizeof(SrcLoc) * (size_t)(l->n + 1));
  l->names[l->n] = (char *)name;
  l->locs[l->n] = loc;
  l->n++;
}

void ast_stmts_add(Stmt ***v, int *n, Stmt *s) {
  *v = xrealloc(*v, sizeof(Stmt *) * (size_t)(*n + 1));
  (*v)[(*n)++] = s;
}

/* ------------------------------------------------------------ scopes, names */

/* A name in scope: a value, a weight prefix (a block parameter bound to e.g.
 * `layers.0`), or both (a parameter bound to a whole weight tensor). */
typedef struct Binding {
  const char *name;
  SrcLoc loc;
  int value;          /* value id or -1 */
  const char *prefix; /* weight-name prefix or NULL */
} Binding;

typedef struct Scope {
  Binding *b;
  int n;
  const char *ns;   /* prefix of value names made here: "" at top, "y1." in a block */
  const Stmt *block; /* the block being expanded, or NULL at top level */
} Scope;

#define MAX_BLOCK_DEPTH 16

typedef struct Builder {
  Graph *g;
  const char *file;
  Program *prog;
  const char *weights_path; /* as resolved, for messages */
  Stmt **blocks;
  int nblocks;
  const Stmt *stack[MAX_BLOCK_DEPTH]; /* blocks being expanded, for recursion */
  int depth;
} Builder;

static Binding *scope_find(Scope *s, const char *name) {
  for (int i = s->n - 1; i >= 0; i--)
    if (strcmp(s->b[i].name, name) == 0) return &s->b[i];
  return NULL;
}

static void scope_bind(Scope *s, const char *name, SrcLoc loc, int value, const char *prefix) {
  Binding *old = scope_find(s, name);
  if (old)
    error_at(loc, "'%s' is already defined at line %d", name, old->loc.line);
  s->b = xrealloc(s->b, sizeof(Binding) * (size_t)(s->n + 1));
  s->b[s->n++] = (Binding){name, loc, value, prefix};
}

static const Stmt *find_block(Builder *B, const char *name) {
  for (int i = 0; i < B->nblocks; i++)
    if (strcmp(B->blocks[i]->name, name) == 0) return B->blocks[i];
  return NULL;
}

/* Levenshtein distance, capped, for "did you mean" hints. */
static int edit_distance(const char *a, const char *b) {
  size_t la = strlen(a), lb = strlen(b);
  if (la > 64 || lb > 64) return 99;
  int d[65][65];
  for (size_t i = 0; i <= la; i++) d[i][0] = (int)i;
  for (size_t j = 0; j <= lb; j++) d[0][j] = (int)j;
  for (size_t i = 1; i <= la; i++)
    for (size_t j = 1; j <= lb; j++) {
      int best = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
      if (d[i - 1][j] + 1 < best) best = d[i - 1][j] + 1;
      if (d[i][j - 1] + 1 < best) best = d[i][j - 1] + 1;
      d[i][j] = best;
    }
  return d[la][lb];
}

/* The closest of `n` candidate strings, if it is close enough to be a likely typo. */
static const char *closest(const char *name, const char **cands, int n) {
  const char *best = NULL;
  int bestd = 3;
  for (int i = 0; i < n; i++) {
    int d = edit_distance(name, cands[i]);
    if (d < bestd || (d == bestd && best && strcmp(cands[i], best) < 0)) {
      bestd = d;
      best = cands[i];
    }
  }
  int len = (int)strlen(name);
  return best && bestd <= (len < 4 ? 1 : 2) ? best : NULL;
}

static const char *did_you_mean_weight(Builder *B, const char *name) {
  const TensorFile *tf = B->g->weights;
  if (!tf) return NULL;
  const char **c = xmalloc(sizeof(char *) * (size_t)(tf->n + 1));
  for (int i = 0; i < tf->n; i++) c[i] = tf->t[i].name;
  const char *r = closest(name, c, tf->n);
  free(c);
  return r;
}

/* The constant value of weight tensor `wname`, made once and shared by every use. */
static int weight_value(Builder *B, const char *wname, SrcLoc loc) {
  Graph *g = B->g;
  for (int i = 0; i < g->nvalues; i++)
    if (g->values[i].is_const && g->values[i].producer < 0 && strcmp(g->values[i].name, wname) == 0)
      return i;
  const Tensor *t = g->weights ? tensorfile_find(g->weights, wname) : NULL;
  if (!t) return -1;
  return graph_add_const(g, wname, t, loc);
}

/* Top-level assignment at or after `line` that defines `name`, for the hint
 * "it is defined later". */
static const Stmt *defined_later(Builder *B, const char *name, int line) {
  for (int i = 0; i < B->prog->n; i++) {
    const Stmt *s = B->prog->stmts[i];
    if (s->kind == ST_ASSIGN && s->loc.line >= line && strcmp(s->name, name) == 0) return s;
  }
  return NULL;
}

static int resolve_name(Builder *B, Scope *sc, const char *name, SrcLoc loc) {
  Binding *b = scope_find(sc, name);
  if (b) {
    if (b->value >= 0) return b->value;
    error_at(loc, "'%s' is bound to the weight prefix '%s'; name a tensor under it, e.g. '%s.weight'",
             name, b->prefix, name);
  }
  /* p.rest where p is a prefix parameter of the block */
  const char *dot = strchr(name, '.');
  if (dot) {
    char *head = xstrndup(name, (size_t)(dot - name));
    Binding *pb = scope_find(sc, head);
    free(head);
    if (pb && pb->prefix) {
      char *wname = xformat("%s%s", pb->prefix, dot);
      int v = weight_value(B, wname, loc);
      if (v >= 0) return v;
      error_at(loc, "weight '%s' (from '%s' with %.*s = %s) is not in %s", wname, name,
               (int)(dot - name), name, pb->prefix, B->weights_path);
    }
  }
  int v = weight_value(B, name, loc);
  if (v >= 0) return v;
  if (!B->g->weights && strchr(name, '.'))
    error_at(loc, "'%s' is not defined, and the model has no 'weights' statement to find it in", name);
  const Stmt *later = sc->block ? NULL : defined_later(B, name, loc.line);
  if (later && later->loc.line == loc.line)
    error_at(loc, "'%s' is used in its own definition (a cycle)", name);
  if (later)
    error_at(loc, "'%s' is used before it is defined (at line %d): statements run in order, so "
             "this is a cycle or a misplaced line", name, later->loc.line);
  const char *hint = did_you_mean_weight(B, name);
  if (!hint) {
    const char **c = xmalloc(sizeof(char *) * (size_t)(sc->n + 1));
    for (int i = 0; i < sc->n; i++) c[i] = sc->b[i].name;
    hint = closest(name, c, sc->n);
    free(c);
  }
  if (hint) error_at(loc, "'%s' is not defined (did you mean '%s'?)", name, hint);
  if (B->g->weights)
    error_at(loc, "'%s' is not defined: no value of that name above, and no tensor of that name in %s",
             name, B->weights_path);
  error_at(loc, "'%s' is not defined", name);
}

/* --------------------------------------------------------------- expressions */

static int eval_expr(Builder *B, Scope *sc, const Expr *e, const char *vname);

/* A value name that is not taken yet: `base`, else base2, base3, ... */
static char *fresh_name(Graph *g, const char *base) {
  if (graph_find_value(g, base) < 0) return xstrdup(base);
  for (int k = 2;; k++) {
    char *n = xformat("%s%d", base, k);
    if (graph_find_value(g, n) < 0) return n;
    free(n);
  }
}

/* A literal used as an operand: a scalar (rank 0) or 1-D constant. */
static int literal_value(Builder *B, const Expr *e, const char *vname) {
  Tensor t = {0};
  t.dtype = DT_F32;
  int n = e->kind == EX_NUM ? 1 : e->nitems;
  t.f = xmalloc(sizeof(float) * (size_t)n);
  if (e->kind == EX_NUM) {
    t.f[0] = (float)e->num;
    t.shape.rank = 0;
  } else {
    for (int i = 0; i < n; i++) t.f[i] = (float)e->items[i];
    t.shape.rank = 1;
    t.shape.d[0] = n;
  }
  char *name = fresh_name(B->g, vname);
  return graph_add_const(B->g, name, &t, e->loc);
}

static const char *enum_choice(const char *choices, int k, int *len) {
  const char *c = choices;
  for (int i = 0; i < k && c; i++) c = strchr(c, '|') ? strchr(c, '|') + 1 : NULL;
  *len = c ? (int)strcspn(c, "|") : 0;
  return c;
}

static void set_attr(const char *op, AttrValue *a, const AttrDef *def, const Expr *e) {
  a->loc = e->loc;
  a->type = def->type;
  switch (def->type) {
  case ATTR_INT:
    if (e->kind != EX_NUM || !e->is_int)
      error_at(e->loc, "%s: attribute '%s' must be an integer", op, def->name);
    a->i = (int64_t)e->num;
    break;
  case ATTR_FLOAT:
    if (e->kind != EX_NUM) error_at(e->loc, "%s: attribute '%s' must be a number", op, def->name);
    a->f = e->num;
    break;
  case ATTR_INTS:
    if (e->kind == EX_NUM && e->is_int) {
      a->nints = 1;
      a->ints[0] = (int64_t)e->num;
      break;
    }
    if (e->kind != EX_LIST)
      error_at(e->loc, "%s: attribute '%s' must be an integer or a list of integers", op, def->name);
    if (e->nitems > MAX_ATTR_INTS)
      error_at(e->loc, "%s: attribute '%s' has %d values; at most %d are allowed", op, def->name,
               e->nitems, MAX_ATTR_INTS);
    a->nints = e->nitems;
    for (int i = 0; i < e->nitems; i++) {
      if (!e->items_int[i])
        error_at(e->loc, "%s: attribute '%s' must be a list of integers", op, def->name);
      a->ints[i] = (int64_t)e->items[i];
    }
    break;
  case ATTR_ENUM: {
    if (e->kind == EX_NAME) {
      for (int k = 0;; k++) {
        int len;
        const char *c = enum_choice(def->choices, k, &len);
        if (!c) break;
        if ((int)strlen(e->name) == len && strncmp(c, e->name, (size_t)len) == 0) {
          a->e = k;
          a->set = true;
          return;
        }
      }
    }
    StrBuf choices = {0};
    for (const char *p = def->choices; *p; p++) {
      if (*p == '|') sb_puts(&choices, ", ");
      else sb_putc(&choices, *p);
    }
    error_at(e->loc, "%s: attribute '%s' must be one of %s", op, def->name, choices.data);
  }
  case ATTR_NONE: break;
  }
  a->set = true;
}

/* Slot name without its '?' or '...' marker. */
static bool slot_is(const char *slot, const char *name) {
  size_t n = strcspn(slot, "?.");
  return strlen(name) == n && strncmp(slot, name, n) == 0;
}

static int build_op_call(Builder *B, Scope *sc, OpKind op, const Expr *call, const char *vname) {
  const OpDef *def = &op_table[op];
  int nslots = 0;
  while (nslots < MAX_OP_INPUTS && def->inputs[nslots]) nslots++;
  bool variadic = nslots > 0 && strstr(def->inputs[nslots - 1], "...") != NULL;
  int inputs[MAX_OP_INPUTS];
  bool given[MAX_OP_INPUTS] = {false};
  AttrValue attrs[MAX_OP_ATTRS];
  memset(attrs, 0, sizeof attrs);
  int npos = 0, ninputs = variadic ? 0 : nslots;
  for (int i = 0; i < MAX_OP_INPUTS; i++) inputs[i] = -1;

  for (int i = 0; i < call->nargs; i++) {
    const Arg *a = &call->args[i];
    /* Nested calls get names that say where they sit: `u.linear`, `c1.weight`. */
    char *sub = a->value->kind == EX_CALL ? xformat("%s.%s", vname, a->value->name)
                : a->key                  ? xformat("%s.%s", vname, a->key)
                                          : xformat("%s.in%d", vname, npos);
    if (!a->key) {
      if (npos >= nslots && !variadic)
        error_at(a->value->loc, "%s takes %d input%s; give attributes by name (e.g. %s=...)", def->name,
                 nslots, nslots == 1 ? "" : "s",
                 def->attrs[0].name ? def->attrs[0].name : "name");
      if (npos >= MAX_OP_INPUTS)
        error_at(a->value->loc, "%s: too many inputs (at most %d)", def->name, MAX_OP_INPUTS);
      inputs[npos] = eval_expr(B, sc, a->value, sub);
      given[npos] = true;
      npos++;
      if (variadic) ninputs = npos;
      continue;
    }
    int slot = -1;
    for (int k = 0; k < nslots && !variadic; k++)
      if (slot_is(def->inputs[k], a->key)) slot = k;
    if (slot >= 0) {
      if (given[slot]) error_at(a->key_loc, "%s: input '%s' is given twice", def->name, a->key);
      inputs[slot] = eval_expr(B, sc, a->value, sub);
      given[slot] = true;
      continue;
    }
    int ai = op_attr_index(op, a->key);
    if (ai < 0) {
      StrBuf sb = {0};
      for (int k = 0; k < nslots; k++) {
        size_t n = strcspn(def->inputs[k], "?.");
        sb_printf(&sb, "%s%.*s", k ? ", " : "", (int)n, def->inputs[k]);
      }
      if (def->attrs[0].name) {
        sb_puts(&sb, "; attributes: ");
        for (int k = 0; k < MAX_OP_ATTRS && def->attrs[k].name; k++)
          sb_printf(&sb, "%s%s", k ? ", " : "", def->attrs[k].name);
      }
      error_at(a->key_loc, "%s has no input or attribute '%s' (inputs: %s)", def->name, a->key, sb.data);
    }
    if (attrs[ai].set) error_at(a->key_loc, "%s: attribute '%s' is given twice", def->name, a->key);
    set_attr(def->name, &attrs[ai], &def->attrs[ai], a->value);
    free(sub);
  }
  for (int k = 0; k < nslots; k++) {
    const char *s = def->inputs[k];
    bool optional = strchr(s, '?') != NULL;
    if (variadic) {
      if (npos == 0) error_at(call->loc, "%s needs at least one input", def->name);
      break;
    }
    if (!given[k] && !optional)
      error_at(call->loc, "%s: missing input '%.*s'", def->name, (int)strcspn(s, "?."), s);
  }
  for (int k = 0; k < MAX_OP_ATTRS && def->attrs[k].name; k++)
    if (!attrs[k].set && !def->attrs[k].deflt)
      error_at(call->loc, "%s: missing attribute '%s'", def->name, def->attrs[k].name);

  char *name = fresh_name(B->g, vname);
  int ni = graph_add_node(B->g, op, name, call->loc, inputs, ninputs, name);
  Node *n = &B->g->nodes[ni];
  for (int k = 0; k < MAX_OP_ATTRS; k++)
    if (attrs[k].set) n->attrs[k] = attrs[k];
  node_fill_defaults(n);
  return n->output;
}

/* Renames the value `v` (made inside a block) to the name the caller gave it. */
static void rename_value(Graph *g, int v, const char *name) {
  if (graph_find_value(g, name) >= 0) return;
  g->values[v].name = xstrdup(name);
  if (g->values[v].producer >= 0) g->nodes[g->values[v].producer].name = g->values[v].name;
}

static int expand_block(Builder *B, Scope *caller, const Stmt *blk, const Expr *call, const char *vname) {
  if (call->nargs != blk->list.n)
    error_at(call->loc, "block '%s' takes %d argument%s, got %d", blk->name, blk->list.n,
             blk->list.n == 1 ? "" : "s", call->nargs);
  for (int i = 0; i < B->depth; i++)
    if (B->stack[i] == blk) error_at(call->loc, "block '%s' calls itself (recursion is not allowed)", blk->name);
  if (B->depth == MAX_BLOCK_DEPTH)
    error_at(call->loc, "blocks nest more than %d deep", MAX_BLOCK_DEPTH);

  Scope sc = {0};
  sc.ns = xformat("%s.", vname);
  sc.block = blk;
  for (int i = 0; i < call->nargs; i++) {
    const Arg *a = &call->args[i];
    const char *param = blk->list.names[i];
    if (a->key) error_at(a->key_loc, "block arguments are positional: write '%s', not '%s=...'",
                         param, a->key);
    const Expr *e = a->value;
    int value = -1;
    const char *prefix = NULL;
    if (e->kind == EX_NAME) {
      /* A value in scope binds as a value; any other name is a weight prefix (and,
       * if it names a whole tensor, also that tensor). A prefix of the caller's own
       * prefix parameter is substituted, so blocks can pass `p.attn` down. */
      Binding *b = scope_find(caller, e->name);
      const char *dot = strchr(e->name, '.');
      Binding *pb = NULL;
      if (dot) {
        char *head = xstrndup(e->name, (size_t)(dot - e->name));
        pb = scope_find(caller, head);
        free(head);
      }
      if (b && b->value >= 0) {
        value = b->value;
      } else if (b && b->prefix) {
        prefix = b->prefix;
      } else {
        prefix = pb && pb->prefix ? xformat("%s%s", pb->prefix, dot) : e->name;
        value = weight_value(B, prefix, e->loc);
      }
    } else {
      value = eval_expr(B, caller, e, xformat("%s%s", sc.ns, param));
    }
    scope_bind(&sc, param, blk->list.locs[i], value, prefix);
  }
  B->stack[B->depth++] = blk;
  for (int i = 0; i < blk->nbody; i++) {
    const Stmt *s = blk->body[i];
    char *local = xformat("%s%s", sc.ns, s->name);
    int v = eval_expr(B, &sc, s->expr, local);
    scope_bind(&sc, s->name, s->name_loc, v, NULL);
  }
  int ret = resolve_name(B, &sc, blk->ret, blk->ret_loc);
  B->depth--;
  if (strncmp(B->g->values[ret].name, sc.ns, strlen(sc.ns)) == 0) rename_value(B->g, ret, vname);
  return ret;
}

static int eval_expr(Builder *B, Scope *sc, const Expr *e, const char *vname) {
  switch (e->kind) {
  case EX_NAME: return resolve_name(B, sc, e->name, e->loc);
  case EX_NUM:
  case EX_LIST: return literal_value(B, e, vname);
  case EX_CALL: {
    OpKind op = op_lookup(e->name);
    if (op != OP__COUNT) return build_op_call(B, sc, op, e, vname);
    const Stmt *blk = find_block(B, e->name);
    if (blk) return expand_block(B, sc, blk, e, vname);
    const char *c[OP__COUNT + 64];
    int n = 0;
    for (int i = 0; i < OP__COUNT; i++) c[n++] = op_table[i].name;
    for (int i = 0; i < B->nblocks && n < OP__COUNT + 64; i++) c[n++] = B->blocks[i]->name;
    const char *hint = closest(e->name, c, n);
    if (hint) error_at(e->loc, "unknown operator '%s' (did you mean '%s'?)", e->name, hint);
    error_at(e->loc, "unknown operator '%s' (not an op of the table, nor a block defined in this file)",
             e->name);
  }
  }
  internal_error("bad expression kind");
}

/* @quant(scale=S, bits=B): the value's quantization, kept as trained (QAT). */
static void apply_quant(Builder *B, int v, const Expr *q) {
  QuantAnnot qa = {.set = true, .bits = 8, .loc = q->loc};
  bool have_scale = false;
  for (int i = 0; i < q->nargs; i++) {
    const Arg *a = &q->args[i];
    const Expr *e = a->value;
    if (!a->key) error_at(e->loc, "@quant takes named arguments: scale=..., bits=...");
    if (strcmp(a->key, "scale") == 0) {
      if (e->kind != EX_NUM || !(e->num > 0))
        error_at(e->loc, "@quant: scale must be a positive number");
      qa.scale = e->num;
      have_scale = true;
    } else if (strcmp(a->key, "bits") == 0) {
      if (e->kind != EX_NUM || !e->is_int || e->num < 2 || e->num > 16)
        error_at(e->loc, "@quant: bits must be an integer from 2 to 16");
      qa.bits = (int)e->num;
    } else {
      error_at(a->key_loc, "@quant has no argument '%s' (expected scale, bits)", a->key);
    }
  }
  if (!have_scale) error_at(q->loc, "@quant needs scale=...");
  Value *val = &B->g->values[v];
  if (val->is_const || val->is_input)
    error_at(q->loc, "@quant applies to a computed value, and '%s' is %s", val->name,
             val->is_const ? "a constant" : "an input");
  val->quant = qa;
}

/* ------------------------------------------------------------------- the file */

static void collect_blocks(Builder *B) {
  for (int i = 0; i < B->prog->n; i++) {
    Stmt *s = B->prog->stmts[i];
    if (s->kind != ST_BLOCK) continue;
    if (op_lookup(s->name) != OP__COUNT)
      error_at(s->name_loc, "block '%s' has the name of an operator", s->name);
    const Stmt *old = find_block(B, s->name);
    if (old) error_at(s->name_loc, "block '%s' is already defined at line %d", s->name, old->loc.line);
    for (int k = 0; k < s->nbody; k++)
      if (s->body[k]->quant)
        error_at(s->body[k]->quant->loc, "@quant is not allowed inside a block (it would apply to every "
                 "expansion); annotate the call's result instead");
    B->blocks = xrealloc(B->blocks, sizeof(Stmt *) * (size_t)(B->nblocks + 1));
    B->blocks[B->nblocks++] = s;
  }
}

static void declare_input(Builder *B, Scope *sc, const Stmt *s) {
  Graph *g = B->g;
  DType dt;
  if (strcmp(s->dtype, "f32") == 0) dt = DT_F32;
  else if (strcmp(s->dtype, "i32") == 0) dt = DT_I32;
  else error_at(s->dtype_loc, "input type must be f32 or i32, got '%s'", s->dtype);
  const Expr *d = s->dims;
  if (d->nitems > MAX_RANK) error_at(d->loc, "input '%s' has rank %d; at most %d is supported", s->name,
                                     d->nitems, MAX_RANK);
  int v = graph_add_value(g, s->name, s->name_loc);
  Value *val = &g->values[v];
  val->is_input = true;
  val->dtype = dt;
  val->shape.rank = d->nitems;
  for (int i = 0; i < d->nitems; i++) {
    if (!d->items_int[i] || d->items[i] < 1)
      error_at(d->loc, "input '%s': dimension %d must be a positive integer", s->name, i);
    val->shape.d[i] = (int64_t)d->items[i];
  }
  scope_bind(sc, s->name, s->name_loc, v, NULL);
  g->inputs = xrealloc(g->inputs, sizeof(int) * (size_t)(g->ninputs + 1));
  g->inputs[g->ninputs++] = v;
}

static void declare_outputs(Builder *B, Scope *sc, const Stmt *s) {
  Graph *g = B->g;
  for (int i = 0; i < s->list.n; i++) {
    int v = resolve_name(B, sc, s->list.names[i], s->list.locs[i]);
    if (g->values[v].is_const)
      error_at(s->list.locs[i], "output '%s' is a weight, not a computed value", s->list.names[i]);
    for (int k = 0; k < g->noutputs; k++)
      if (g->outputs[k] == v) error_at(s->list.locs[i], "'%s' is already an output", s->list.names[i]);
    g->outputs = xrealloc(g->outputs, sizeof(int) * (size_t)(g->noutputs + 1));
    g->outputs[g->noutputs++] = v;
  }
}

Graph *parse_model_file(const char *path) {
  size_t len;
  char *text = read_whole_file(path, &len);
  if (!text) error_file(path, "cannot read model: %s", strerror(errno));
  diag_add_source(path, text);
  if (strlen(text) != len) {
    /* A NUL byte: report where it is. */
    size_t at = strlen(text);
    int line = 1, col = 1;
    for (size_t i = 0; i < at; i++) {
      if (text[i] == '\n') line++, col = 1;
      else col++;
    }
    error_at(loc_make(path, line, col), "invalid byte 0x00 (a .nn file is ASCII text)");
  }
  Builder B = {0};
  B.file = path;
  B.prog = parse_program(path, text);
  char *stem = path_stem_identifier(path);
  const Stmt *model = NULL;
  for (int i = 0; i < B.prog->n; i++)
    if (B.prog->stmts[i]->kind == ST_MODEL) {
      if (model) error_at(B.prog->stmts[i]->loc, "the model is already named at line %d", model->loc.line);
      model = B.prog->stmts[i];
    }
  B.g = graph_new(model ? model->name : stem, path);
  collect_blocks(&B);

  Scope top = {0};
  top.ns = "";
  const Stmt *weights = NULL, *last = NULL;
  bool have_output = false;
  for (int i = 0; i < B.prog->n; i++) {
    const Stmt *s = B.prog->stmts[i];
    last = s;
    switch (s->kind) {
    case ST_MODEL:
    case ST_BLOCK: break;
    case ST_WEIGHTS: {
      if (weights) error_at(s->loc, "weights are already given at line %d", weights->loc.line);
      weights = s;
      char *wpath = path_relative_to(path, s->name);
      B.weights_path = wpath;
      /* Say which statement named a missing file; its contents are checked by the loader. */
      if (access(wpath, R_OK) != 0)
        error_at(s->name_loc, "cannot read weights '%s': %s", wpath, strerror(errno));
      B.g->weights = tensorfile_load(wpath);
      break;
    }
    case ST_INPUT: declare_input(&B, &top, s); break;
    case ST_OUTPUT:
      declare_outputs(&B, &top, s);
      have_output = true;
      break;
    case ST_ASSIGN: {
      Binding *old = scope_find(&top, s->name);
      if (old) error_at(s->name_loc, "'%s' is already defined at line %d", s->name, old->loc.line);
      int v = eval_expr(&B, &top, s->expr, s->name);
      if (s->quant) apply_quant(&B, v, s->quant);
      scope_bind(&top, s->name, s->name_loc, v, NULL);
      break;
    }
    }
  }
  SrcLoc end = last ? last->loc : loc_make(path, 1, 1);
  if (B.g->ninputs == 0) error_at(end, "the model has no 'input' statement");
  if (!have_output) error_at(end, "the model has no 'output' statement");
  graph_check_acyclic(B.g);
  return B.g;
}
