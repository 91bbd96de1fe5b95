/* dnnl_bench.c — oneDNN (Debian libdnnl-dev 2.6) on the BERT layer's four weight GEMMs, one
 * thread: dnnl_matmul s8 x s8 -> s32 ("onednn-s8s8", shiftc's case: signed activations),
 * u8 x s8 -> s32 ("onednn-u8s8", oneDNN's fastest int8 case, for activations known to be
 * non-negative or shifted by 128) and f32 x f32 -> f32 ("onednn-f32").
 * Each primitive is created once, its weights reordered once into the layout the primitive
 * asked for (format "any": the packed layout a real user gets), and only executes are timed
 * (bench/peer_gemm.h). Which ISA oneDNN may use is capped by ONEDNN_MAX_CPU_ISA in the
 * environment, read when the library initializes, so bench/bench.sh runs this binary once
 * per cap; the "impl" lines say which implementation (and so which ISA) each primitive got.
 *   cc -O2 -Ibench dnnl_bench.c -ldnnl ; OMP_NUM_THREADS=1 ./a.out [MS [ROUNDS]]
 * Bench only: never part of `make test`. C99. */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */
#include <oneapi/dnnl/dnnl.h>
#include <stdio.h>
#include <stdlib.h>

#include "peer_gemm.h"

static void check(dnnl_status_t st, const char *what) {
  if (st != dnnl_success) {
    fprintf(stderr, "dnnl_bench: %s failed (status %d)\n", what, (int)st);
    exit(1);
  }
}

typedef struct {
  dnnl_primitive_t prim;
  dnnl_stream_t stream;
  dnnl_exec_arg_t args[3];
} MatMul;

/* Source and weight types, and the output type, of one series. */
typedef struct {
  const char *name;
  dnnl_data_type_t src, wei, dst;
} Kind;

static void run_matmul(void *ctx) {
  MatMul *mm = ctx;
  check(dnnl_primitive_execute(mm->prim, mm->stream, 3, mm->args), "execute");
  check(dnnl_stream_wait(mm->stream), "stream wait");
}

/* A plain row-major buffer of the given logical dims and tag, filled with random values. */
static dnnl_memory_t plain_memory(dnnl_engine_t eng, int64_t d0, int64_t d1, dnnl_data_type_t dt,
                                  dnnl_format_tag_t tag, int fill) {
  dnnl_memory_desc_t md;
  dnnl_dims_t dims = {d0, d1};
  check(dnnl_memory_desc_init_by_tag(&md, 2, dims, dt, tag), "memory desc");
  dnnl_memory_t mem;
  check(dnnl_memory_create(&mem, &md, eng, DNNL_MEMORY_ALLOCATE), "memory");
  if (fill) {
    void *p;
    check(dnnl_memory_get_data_handle(mem, &p), "data handle");
    for (int64_t i = 0; i < d0 * d1; i++) {
      if (dt == dnnl_s8) ((signed char *)p)[i] = peer_code();
      else if (dt == dnnl_u8) ((unsigned char *)p)[i] = (unsigned char)(peer_code() + 128);
      else ((float *)p)[i] = peer_float();
    }
  }
  return mem;
}

static MatMul *make_matmul(dnnl_engine_t eng, dnnl_stream_t stream, const PeerShape *sh, const Kind *kind) {
  const char *series = kind->name;
  const int64_t m = PEER_M, n = sh->n, k = sh->k;
  dnnl_memory_desc_t src_md, wei_md, dst_md;
  dnnl_dims_t src_dims = {m, k}, wei_dims = {k, n}, dst_dims = {m, n};
  check(dnnl_memory_desc_init_by_tag(&src_md, 2, src_dims, kind->src, dnnl_ab), "src desc");
  check(dnnl_memory_desc_init_by_tag(&wei_md, 2, wei_dims, kind->wei, dnnl_format_tag_any), "weights desc");
  check(dnnl_memory_desc_init_by_tag(&dst_md, 2, dst_dims, kind->dst, dnnl_ab), "dst desc");
  dnnl_matmul_desc_t desc;
  check(dnnl_matmul_desc_init(&desc, &src_md, &wei_md, NULL, &dst_md), "matmul desc");
  dnnl_primitive_desc_t pd;
  check(dnnl_primitive_desc_create(&pd, &desc, NULL, eng, NULL), "matmul primitive desc");
  const char *impl = "?";
  check(dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &impl), "impl query");
  printf("impl %s %s %s\n", series, sh->name, impl);

  /* Weights as shiftc holds them (N x K rows, i.e. the K x N matrix in "ba" order),
   * reordered once into the primitive's own layout. */
  dnnl_memory_t wei_plain = plain_memory(eng, k, n, kind->wei, dnnl_ba, 1);
  const dnnl_memory_desc_t *wei_want = dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
  dnnl_memory_t wei;
  check(dnnl_memory_create(&wei, wei_want, eng, DNNL_MEMORY_ALLOCATE), "weights memory");
  dnnl_primitive_desc_t rpd;
  const dnnl_memory_desc_t *plain_md;
  check(dnnl_memory_get_memory_desc(wei_plain, &plain_md), "weights plain desc");
  check(dnnl_reorder_primitive_desc_create(&rpd, plain_md, eng, wei_want, eng, NULL), "reorder desc");
  dnnl_primitive_t reorder;
  check(dnnl_primitive_create(&reorder, rpd), "reorder");
  dnnl_exec_arg_t rargs[2] = {{DNNL_ARG_FROM, wei_plain}, {DNNL_ARG_TO, wei}};
  check(dnnl_primitive_execute(reorder, stream, 2, rargs), "reorder execute");
  check(dnnl_stream_wait(stream), "reorder wait");
  dnnl_primitive_destroy(reorder);
  dnnl_primitive_desc_destroy(rpd);
  dnnl_memory_destroy(wei_plain);

  MatMul *mm = malloc(sizeof *mm);
  if (!mm) exit(1);
  mm->stream = stream;
  check(dnnl_primitive_create(&mm->prim, pd), "matmul");
  dnnl_primitive_desc_destroy(pd);
  mm->args[0] = (dnnl_exec_arg_t){DNNL_ARG_SRC, plain_memory(eng, m, k, kind->src, dnnl_ab, 1)};
  mm->args[1] = (dnnl_exec_arg_t){DNNL_ARG_WEIGHTS, wei};
  mm->args[2] = (dnnl_exec_arg_t){DNNL_ARG_DST, plain_memory(eng, m, n, kind->dst, dnnl_ab, 0)};
  return mm;
}

int main(int argc, char **argv) {
  double ms;
  int rounds;
  peer_args(argc, argv, &ms, &rounds);
  dnnl_engine_t eng;
  dnnl_stream_t stream;
  check(dnnl_engine_create(&eng, dnnl_cpu, 0), "engine");
  check(dnnl_stream_create(&stream, eng, dnnl_stream_default_flags), "stream");
  static const Kind kinds[] = {{"onednn-s8s8", dnnl_s8, dnnl_s8, dnnl_s32},
                               {"onednn-u8s8", dnnl_u8, dnnl_s8, dnnl_s32},
                               {"onednn-f32", dnnl_f32, dnnl_f32, dnnl_f32}};
  enum { NK = sizeof kinds / sizeof *kinds };
  PeerSeries s[NK];
  for (int j = 0; j < NK; j++) {
    s[j] = (PeerSeries){kinds[j].name, run_matmul, {0}};
    for (int i = 0; i < PEER_NSHAPES; i++) s[j].ctx[i] = make_matmul(eng, stream, &peer_shapes[i], &kinds[j]);
  }
  fflush(stdout);
  peer_time(s, NK, ms, rounds);
  /* The process ends here; the OS takes back the primitives and buffers. */
  return 0;
}
