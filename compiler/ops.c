/* ops.c — the op table built from ops.def, and lookups into it. */
#include "shiftc.h"

#include <string.h>

#define INS(...) {__VA_ARGS__}
#define ATTRS(...) {__VA_ARGS__}
#define NOATTRS {{NULL, ATTR_NONE, NULL, NULL}}
#define A(name, type, deflt, choices) {name, type, deflt, choices}
#define OP(ENUM, nm, ins_, attrs_, shapefn, evalfn, docstr) \
  [OP_##ENUM] = {.name = nm, .inputs = ins_, .attrs = attrs_, .shape = shapefn, .eval_float = evalfn, .doc = docstr},

const OpDef op_table[OP__COUNT] = {
#include "ops.def"
};

OpKind op_lookup(const char *name) {
  for (int i = 0; i < OP__COUNT; i++)
    if (strcmp(op_table[i].name, name) == 0) return (OpKind)i;
  return OP__COUNT;
}

int op_attr_index(OpKind op, const char *name) {
  for (int i = 0; i < MAX_OP_ATTRS && op_table[op].attrs[i].name; i++)
    if (strcmp(op_table[op].attrs[i].name, name) == 0) return i;
  return -1;
}
