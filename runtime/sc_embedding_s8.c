/* sc_embedding_s8.c — scalar reference embedding lookup (a gather of table rows). */
#include <stddef.h>
#include <string.h>

#include "shiftc_rt.h"

/* y[t][:] = table[ids[t]][:]; an id outside [0, rows) (a model fed a bad token) gives
 * zeros, the code of 0.0, rather than reading outside the table. */
void sc_embedding_s8(int32_t count, const int32_t *ids, int32_t rows, int32_t dim, const int8_t *table,
                     int8_t *y) {
  for (int32_t t = 0; t < count; t++) {
    int8_t *yt = y + (ptrdiff_t)t * dim;
    if (ids[t] >= 0 && ids[t] < rows) memcpy(yt, table + (ptrdiff_t)ids[t] * dim, (size_t)dim);
    else memset(yt, 0, (size_t)dim);
  }
}
