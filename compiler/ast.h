/* ast.h — the syntax tree of a .nn file: what grammar/parser.y builds and
 * compiler/parse.c turns into a graph. Nothing else sees it. */
#ifndef SHIFTC_AST_H
#define SHIFTC_AST_H

#include "shiftc.h"

typedef enum { EX_NAME, EX_CALL, EX_NUM, EX_LIST } ExprKind;

typedef struct Arg Arg;

typedef struct Expr {
  ExprKind kind;
  SrcLoc loc;
  char *name;    /* EX_NAME: the name; EX_CALL: the callee */
  Arg *args;     /* EX_CALL */
  int nargs;
  double num;    /* EX_NUM */
  bool is_int;   /* EX_NUM written without '.' or exponent */
  double *items; /* EX_LIST: numbers */
  bool *items_int;
  int nitems;
} Expr;

struct Arg {
  char *key; /* NULL for a positional argument */
  SrcLoc key_loc;
  Expr *value;
};

typedef enum { ST_MODEL, ST_WEIGHTS, ST_INPUT, ST_OUTPUT, ST_ASSIGN, ST_BLOCK } StmtKind;

typedef struct Stmt Stmt;

typedef struct NameList {
  char **names;
  SrcLoc *locs;
  int n;
} NameList;

struct Stmt {
  StmtKind kind;
  SrcLoc loc;    /* the statement's first token */
  char *name;    /* MODEL/INPUT/ASSIGN/BLOCK: the name; WEIGHTS: the path */
  SrcLoc name_loc;
  /* INPUT */
  char *dtype;
  SrcLoc dtype_loc;
  Expr *dims;    /* EX_LIST */
  /* ASSIGN */
  Expr *expr;
  Expr *quant;   /* EX_CALL named "quant", or NULL */
  /* OUTPUT: names; BLOCK: parameters */
  NameList list;
  /* BLOCK */
  Stmt **body;
  int nbody;
  char *ret;
  SrcLoc ret_loc;
};

typedef struct Program {
  Stmt **stmts;
  int n;
} Program;

/* Builders used by the parser's actions. */
Expr *ast_name(const char *name, SrcLoc loc);
Expr *ast_num(const char *text, SrcLoc loc);
Expr *ast_call(const char *callee, SrcLoc loc);
void ast_args_add(Arg **v, int *n, char *key, SrcLoc key_loc, Expr *value);
Expr *ast_list(SrcLoc loc);
void ast_list_add(Expr *list, Expr *num);
Stmt *ast_stmt(StmtKind kind, SrcLoc loc);
void ast_namelist_add(NameList *l, const char *name, SrcLoc loc);
void ast_stmts_add(Stmt ***v, int *n, Stmt *s);

/* The parser (grammar/parser.y): file text in, program out; syntax errors exit(1). */
Program *parse_program(const char *file, const char *text);

#endif
