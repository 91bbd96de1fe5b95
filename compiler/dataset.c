/* dataset.c — samples for one model input from a loaded tensor (an --input .npy,
 * calibration or test data), as interfaces.md §1 describes: the input's own shape
 * is one sample; N samples are stacked on a first axis. */
#include "shiftc.h"

#include <limits.h>
#include <string.h>

/* t's dimensions from `skip` on equal s's dimensions from `skip - shift` on:
 * shift 0 compares in place, shift 1 drops t's extra first axis. */
static bool tail_eq(const Shape *t, const Shape *s, int skip, int shift) {
  if (t->rank != s->rank + shift) return false;
  for (int k = skip; k < t->rank; k++)
    if (t->d[k] != s->d[k - shift]) return false;
  return true;
}

/* "[N,1,8,8]": the stacked form shown in messages. With a batch axis of 1 it is
 * that axis set to N; otherwise an extra leading axis. */
static char *stacked_shape_str(const Shape *s, char *buf) {
  bool batch = s->rank >= 1 && s->d[0] == 1;
  int n = snprintf(buf, SHAPE_STR_MAX, "[N");
  for (int k = batch ? 1 : 0; k < s->rank; k++)
    n += snprintf(buf + n, (size_t)(SHAPE_STR_MAX - n), ",%lld", (long long)s->d[k]);
  snprintf(buf + n, (size_t)(SHAPE_STR_MAX - n), "]");
  return buf;
}

/* The data is t's own float array, not a copy: calibration sets can be large, and
 * the tensor lives as long as the compiler runs. */
Samples samples_from_tensor(const Tensor *t, const Value *input, const char *file) {
  const Shape *s = &input->shape, *ts = &t->shape;
  int64_t n = -1;
  if (shape_eq(ts, s))
    n = 1;
  else if (s->rank >= 1 && s->d[0] == 1 && tail_eq(ts, s, 1, 0))
    n = ts->d[0]; /* the batch axis set to N */
  else if (tail_eq(ts, s, 1, 1))
    n = ts->d[0]; /* an extra leading axis */

  char got[SHAPE_STR_MAX], one[SHAPE_STR_MAX], many[SHAPE_STR_MAX];
  if (n < 0)
    error_file(file,
               "tensor '%s' has shape %s; expected %s (one sample) or %s with N samples on the "
               "first axis",
               t->name, shape_str(ts, got), shape_str(s, one), stacked_shape_str(s, many));
  if (n == 0) error_file(file, "tensor '%s' has shape %s: it holds no samples", t->name,
                         shape_str(ts, got));
  if (n > INT_MAX)
    error_file(file, "tensor '%s' has shape %s: more than %d samples", t->name,
               shape_str(ts, got), INT_MAX);

  Samples out;
  memset(&out, 0, sizeof out);
  out.n = (int)n;
  out.per_sample = shape_numel(s);
  out.data = t->f;
  out.labels = NULL;
  return out;
}
