/* parser.y — the grammar of the .nn language (interfaces.md §2). Pure, with
 * locations; builds the syntax tree of compiler/ast.h. The first syntax error is
 * reported at its token as `file:line:col: error: ...` with the line and a caret. */
%define api.pure full
%locations
%define parse.error detailed
%param {yyscan_t scanner}
%parse-param {struct ParseCtx *ctx}

%code requires {
#include "ast.h"
typedef void *yyscan_t;
struct LexState {
  const char *file;
  int line, col, depth, at_eof;
};
struct ParseCtx {
  const char *file;
  Program *prog;
};
}

%code {
#include <string.h>
int yylex(YYSTYPE *yylval_param, YYLTYPE *yylloc_param, yyscan_t yyscanner);
static void yyerror(YYLTYPE *loc, yyscan_t scanner, struct ParseCtx *ctx, const char *msg);
#define L(l) loc_make(ctx->file, (l).first_line, (l).first_column)
}

%union {
  char *text;
  Expr *expr;
  Stmt *stmt;
  NameList names;
  struct { Stmt **v; int n; } body;
  struct { Arg *v; int n; } args;
}

%token <text> NAME "name" INT "integer" REAL "number" STRING "string"
%token KW_MODEL "'model'" KW_WEIGHTS "'weights'" KW_INPUT "'input'" KW_OUTPUT "'output'"
%token KW_BLOCK "'block'" KW_RETURN "'return'"
%token NL "end of line" END_OF_FILE "end of file"

%type <expr> expr call value number list numbers dims quant
%type <stmt> stmt assign block
%type <names> names params
%type <body> body
%type <args> args

%%

program:
    %empty
  | program end
  | program stmt end   { ast_stmts_add(&ctx->prog->stmts, &ctx->prog->n, $2); }
  ;

end: NL | END_OF_FILE ;

stmt:
    KW_MODEL NAME                  { $$ = ast_stmt(ST_MODEL, L(@1)); $$->name = $2; $$->name_loc = L(@2); }
  | KW_WEIGHTS STRING              { $$ = ast_stmt(ST_WEIGHTS, L(@1)); $$->name = $2; $$->name_loc = L(@2); }
  | KW_INPUT NAME ':' NAME dims    { $$ = ast_stmt(ST_INPUT, L(@1)); $$->name = $2; $$->name_loc = L(@2);
                                     $$->dtype = $4; $$->dtype_loc = L(@4); $$->dims = $5; }
  | KW_OUTPUT names                { $$ = ast_stmt(ST_OUTPUT, L(@1)); $$->list = $2; }
  | assign
  | block
  ;

dims: '[' numbers ']'              { $$ = $2; } ;

assign:
    NAME '=' expr quant            { $$ = ast_stmt(ST_ASSIGN, L(@1)); $$->name = $1; $$->name_loc = L(@1);
                                     $$->expr = $3; $$->quant = $4; }
  ;

quant:
    %empty                         { $$ = NULL; }
  | '@' call                       { $$ = $2;
                                     if (strcmp($2->name, "quant") != 0)
                                       error_at($2->loc, "unknown annotation '@%s' (expected @quant)", $2->name); }
  ;

block:
    KW_BLOCK NAME '(' params ')' '{' body KW_RETURN NAME nls '}'
                                   { $$ = ast_stmt(ST_BLOCK, L(@1)); $$->name = $2; $$->name_loc = L(@2);
                                     $$->list = $4; $$->body = $7.v; $$->nbody = $7.n;
                                     $$->ret = $9; $$->ret_loc = L(@9); }
  ;

body:
    %empty                         { $$.v = NULL; $$.n = 0; }
  | body NL                        { $$ = $1; }
  | body assign NL                 { $$ = $1; ast_stmts_add(&$$.v, &$$.n, $2); }
  ;

nls: NL | nls NL ;

params:
    %empty                         { memset(&$$, 0, sizeof $$); }
  | names
  ;

names:
    NAME                           { memset(&$$, 0, sizeof $$); ast_namelist_add(&$$, $1, L(@1)); }
  | names ',' NAME                 { $$ = $1; ast_namelist_add(&$$, $3, L(@3)); }
  ;

expr:
    NAME                           { $$ = ast_name($1, L(@1)); }
  | call
  ;

call:
    NAME '(' ')'                   { $$ = ast_call($1, L(@1)); }
  | NAME '(' args ')'              { $$ = ast_call($1, L(@1)); $$->args = $3.v; $$->nargs = $3.n; }
  ;

args:
    value                          { $$.v = NULL; $$.n = 0; ast_args_add(&$$.v, &$$.n, NULL, L(@1), $1); }
  | NAME '=' value                 { $$.v = NULL; $$.n = 0; ast_args_add(&$$.v, &$$.n, $1, L(@1), $3); }
  | args ',' value                 { $$ = $1; ast_args_add(&$$.v, &$$.n, NULL, L(@3), $3); }
  | args ',' NAME '=' value        { $$ = $1; ast_args_add(&$$.v, &$$.n, $3, L(@3), $5); }
  ;

value:
    expr
  | number
  | list
  ;

number:
    INT                            { $$ = ast_num($1, L(@1)); }
  | REAL                           { $$ = ast_num($1, L(@1)); }
  | '-' INT                        { $$ = ast_num($2, L(@1)); $$->num = -$$->num; }
  | '-' REAL                       { $$ = ast_num($2, L(@1)); $$->num = -$$->num; }
  ;

list: '[' numbers ']'              { $$ = $2; $$->loc = L(@1); } ;

numbers:
    number                         { $$ = ast_list($1->loc); ast_list_add($$, $1); }
  | numbers ',' number             { $$ = $1; ast_list_add($$, $3); }
  ;

%%

static void yyerror(YYLTYPE *loc, yyscan_t scanner, struct ParseCtx *ctx, const char *msg) {
  (void)scanner;
  error_at(L(*loc), "%s", msg);
}

/* The flex side of the scanner, declared here to avoid including its header. */
int yylex_init_extra(struct LexState *extra, yyscan_t *scanner);
int yylex_destroy(yyscan_t scanner);
void *yy_scan_bytes(const char *bytes, int len, yyscan_t scanner);

Program *parse_program(const char *file, const char *text) {
  struct LexState st = {file, 1, 1, 0, 0};
  struct ParseCtx ctx = {file, xcalloc(1, sizeof(Program))};
  yyscan_t scanner;
  if (yylex_init_extra(&st, &scanner)) internal_error("cannot start the lexer");
  yy_scan_bytes(text, (int)strlen(text), scanner);
  int rc = yyparse(scanner, &ctx);
  yylex_destroy(scanner);
  if (rc) internal_error("the parser failed without a message");
  return ctx.prog;
}
