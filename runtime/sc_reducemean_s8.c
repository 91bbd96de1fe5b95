/* sc_reducemean_s8.c — scalar reference mean over a set of axes: an int32 sum per
 * output, then one requantization that carries the 1/count. */
#include "sc_internal.h"
#include "shiftc_rt.h"

/* The odometer over the axes ax[0..n) of extents dim[] and input strides st[]: steps
 * idx and *off to the next position (the last axis fastest); returns 0 after the last. */
static int next_pos(int n, const int32_t *dim, const ptrdiff_t *st, int32_t *idx, ptrdiff_t *off) {
  for (int d = n - 1; d >= 0; d--) {
    *off += st[d];
    if (++idx[d] < dim[d]) return 1;
    *off -= st[d] * dim[d];
    idx[d] = 0;
  }
  return 0;
}

void sc_reducemean_s8(const sc_reducemean_params *p, const int8_t *x, int8_t *y) {
  static const int8_t one = 1; /* the "weight" of every term: sc_kacc_dot with stride 0 */
  int32_t kdim[SC_MAX_RANK], rdim[SC_MAX_RANK], kidx[SC_MAX_RANK] = {0}, ridx[SC_MAX_RANK] = {0};
  ptrdiff_t kst[SC_MAX_RANK], rst[SC_MAX_RANK], stride = 1;
  int nk = 0, nr = 0;
  for (int d = p->rank - 1; d >= 0; d--) stride *= p->dims[d];
  if (stride == 0) return;
  stride = 1;
  for (int d = p->rank - 1; d >= 0; d--) { /* collected innermost first, then reversed below */
    if (p->reduce[d]) rdim[nr] = p->dims[d], rst[nr++] = stride;
    else kdim[nk] = p->dims[d], kst[nk++] = stride;
    stride *= p->dims[d];
  }
  for (int a = 0, b = nk - 1; a < b; a++, b--) {
    int32_t td = kdim[a];
    ptrdiff_t ts = kst[a];
    kdim[a] = kdim[b], kst[a] = kst[b], kdim[b] = td, kst[b] = ts;
  }
  for (int a = 0, b = nr - 1; a < b; a++, b--) {
    int32_t td = rdim[a];
    ptrdiff_t ts = rst[a];
    rdim[a] = rdim[b], rst[a] = rst[b], rdim[b] = td, rst[b] = ts;
  }
  /* The innermost reduced axis is summed as one run; the odometer walks the others. */
  const int32_t run = nr ? rdim[nr - 1] : 1;
  const ptrdiff_t run_stride = nr ? rst[nr - 1] : 0;
  const int nouter = nr ? nr - 1 : 0;
  ptrdiff_t base = 0;
  do {
    sc_kacc acc;
    sc_kacc_init(&acc, &p->rq, 0);
    ptrdiff_t off = base;
    do sc_kacc_dot(&acc, x + off, run_stride, &one, 0, run);
    while (next_pos(nouter, rdim, rst, ridx, &off));
    *y++ = (int8_t)sc_requant_apply(&p->rq, 0, sc_lshift_sat(sc_kacc_end(&acc), p->lshift));
  } while (next_pos(nk, kdim, kst, kidx, &base));
}
