/* test_embedding_int.c — `embedding` in integer mode on tests/models/tiny_lm: float
 * ids round to int32 (sc_id_from_f32, also in the generated code), the id input takes
 * 4 bytes per id, the table's codes stand for the float table within half a step of
 * the output's scale, and int_run (what `run --int` calls) copies a table row for
 * every valid id and writes a zero row for an id outside the table, without reading
 * outside it (ASan watches). */
#include "shiftc.h"
#include "testlib.h"

#include <math.h>
#include <string.h>

#define MODEL "tests/models/tiny_lm/tiny_lm.nn"

static void test_id_rounding(void) {
  const float x[] = {0.0f, 2.5f, -2.5f, 2.4999998f, 48.6f, -0.4f, -0.5f, 16777216.0f, -8388609.0f,
                     2147483520.0f, 2147483648.0f, -2147483648.0f, -3e9f, NAN, INFINITY};
  const int32_t want[] = {0, 3, -2, 2, 49, 0, 0, 16777216, -8388609, 2147483520, -1, INT32_MIN, -1, -1, -1};
  bool ok = true;
  for (size_t i = 0; i < sizeof x / sizeof *x; i++) {
    int32_t got = sc_id_from_f32(x[i]);
    if (got != want[i]) {
      ok = false;
      printf("# sc_id_from_f32(%.9g) = %d, expected %d\n", (double)x[i], (int)got, (int)want[i]);
    }
  }
  t_check(ok, "embedding: float ids round to the nearest int32, halves up; NaN/out of int32 give -1", "see above");
}

int main(void) {
  test_id_rounding();
  Config c;
  config_defaults(&c);
  config_load(&c, "tests/models/tiny_lm/tiny_lm.yaml");
  for (int mode = 0; mode < 2; mode++) {
    c.requantize = mode ? REQ_DYADIC : REQ_SHIFT;
    const char *mname = mode ? "dyadic" : "shift";
    IntProgram *p = load_int_program(MODEL, &c);
    const Graph *g = p->g;
    const Value *ids = &g->values[g->inputs[0]];
    const ILayer *l = NULL;
    for (int k = 0; k < p->nlayers; k++)
      if (p->layers[k].kind == IL_EMBEDDING) l = &p->layers[k];
    char name[200];
    snprintf(name, sizeof name, "embedding %s: ids are int32 (bits 32, scale 1, 4 bytes each), one embedding layer",
             mname);
    if (!t_check(l && ids->q->bits == QPARAM_ID_BITS && ids->q->scale == 1 && value_code_bytes(ids) == 32 &&
                     l->in[0] == ids->id, name, "layer %p, bits %d, bytes %lld", (const void *)l, ids->q->bits,
                 (long long)value_code_bytes(ids)))
      return t_exit_status();
    const Value *e = &g->values[l->out], *table = &g->values[g->nodes[l->node].inputs[1]];
    int64_t rows = table->shape.d[0], dim = table->shape.d[1];
    double s = e->q->scale, worst = 0;
    for (int64_t i = 0; i < rows * dim; i++) worst = fmax(worst, fabs(l->weight[i] * s - table->data[i]) / s);
    snprintf(name, sizeof name, "embedding %s: table codes within half a step of the float table (%s scale)", mname,
             mode ? "max/127" : "power-of-two");
    bool pow2 = s == ldexp(1.0, e->q->exp);
    t_check(worst <= 0.5 + 1e-9 && l->weight_count == rows * dim && (mode || pow2), name, "worst %.3f steps", worst);

    /* -1, rows, NaN and 1e12 are no row; the rest are. */
    const float fx[8] = {3, -1, (float)rows, NAN, 1e12f, 0, (float)(rows - 1), 7.4f};
    const int32_t want_id[8] = {3, -1, (int32_t)rows, -1, -1, 0, (int32_t)(rows - 1), 7};
    int8_t codes[8 * sizeof(int32_t)];
    quantize_values(ids->q, fx, codes, 8);
    IntRun *r = int_run_new(p);
    const int8_t *in[1] = {codes};
    int_run(r, in);
    bool ids_ok = true, rows_ok = true;
    for (int t = 0; t < 8; t++) {
      int32_t id;
      memcpy(&id, codes + 4 * t, 4);
      ids_ok &= id == want_id[t];
      const int8_t *row = r->buf[e->id] + t * dim;
      for (int64_t j = 0; j < dim; j++)
        rows_ok &= row[j] == (id >= 0 && id < rows ? l->weight[id * dim + j] : 0);
    }
    snprintf(name, sizeof name, "embedding %s: quantize_values writes int32 ids", mname);
    t_check(ids_ok, name, "ids differ");
    snprintf(name, sizeof name, "embedding %s: run --int copies table rows, an out-of-range id gives a zero row",
             mname);
    t_check(rows_ok, name, "a row differs");
    int_run_free(r);
  }
  return t_exit_status();
}
