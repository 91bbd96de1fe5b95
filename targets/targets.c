/* targets.c — the table of code-generation targets and the lookup by name
 * (interfaces.md §1: --target and the YAML's `target:`). */
#include "target.h"

#include <string.h>

const Target *const target_list[] = {
    &target_scalar,
    &target_neon,
    &target_neon_dotprod,
    &target_avx2,
    &target_avx2_vnni,
    &target_avx512_vnni,
    NULL,
};

const Target *target_lookup(const char *name) { return target_lookup_at(name, loc_make(NULL, 0, 0)); }

const Target *target_lookup_at(const char *name, SrcLoc where) {
  if (!name || !*name) name = "scalar";
  for (int i = 0; target_list[i]; i++)
    if (strcmp(target_list[i]->name, name) == 0) return target_list[i];
  StrBuf have = {0};
  for (int i = 0; target_list[i]; i++) sb_printf(&have, "%s%s", i ? ", " : "", target_list[i]->name);
  char *msg = xformat("unknown target '%s' (available: %s)", name, have.data);
  if (where.file) error_at(where, "%s", msg);
  error_cli("%s", msg);
}
