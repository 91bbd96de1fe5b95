/* targets.c — the table of code-generation targets and the lookup by name
 * (interfaces.md §1: --target and the YAML's `target:`). */
#include "target.h"

#include <string.h>

const Target *const target_list[] = {
    &target_scalar,
    &target_neon,
    &target_neon_dotprod,
    &target_avx2,
    NULL,
};

/* Named in interfaces.md but not written yet: a clear message, not "unknown". */
static const char *const planned[] = {"avx2-vnni", "avx512-vnni", NULL};

const Target *target_lookup(const char *name) { return target_lookup_at(name, loc_make(NULL, 0, 0)); }

const Target *target_lookup_at(const char *name, SrcLoc where) {
  if (!name || !*name) name = "scalar";
  for (int i = 0; target_list[i]; i++)
    if (strcmp(target_list[i]->name, name) == 0) return target_list[i];
  StrBuf have = {0};
  for (int i = 0; target_list[i]; i++) sb_printf(&have, "%s%s", i ? ", " : "", target_list[i]->name);
  bool later = false;
  for (int i = 0; planned[i]; i++)
    if (strcmp(planned[i], name) == 0) later = true;
  char *msg = later ? xformat("target '%s' is not available in this build yet (available: %s)", name, have.data)
                    : xformat("unknown target '%s' (available: %s)", name, have.data);
  if (where.file) error_at(where, "%s", msg);
  error_cli("%s", msg);
}
