/* fuzz_onnx.c — libFuzzer target for the ONNX reader (compiler/onnx_read.c): the
 * protobuf-c parse, the opset check and every initializer's conversion to a Tensor
 * (raw or typed data, every dtype; external data is refused without a model path).
 * Built and run for a bounded time by `make test` (tests/cli/test_fuzz_onnx.c):
 *
 *   make build/fuzz/fuzz_onnx && build/fuzz/fuzz_onnx -max_total_time=20 CORPUS tests/fuzz/onnx_seeds
 *
 * Everything parsed is freed, so the leak checker stays on. */
#include "shiftc.h"
#include "onnx.pb-c.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  OnnxFile f;
  const char *err = onnx_parse_buffer(data, size, &f);
  if (err) {
    if (f.model) abort(); /* a failed parse leaves nothing behind */
    free((void *)err);
    return 0;
  }
  const Onnx__GraphProto *g = f.model->graph;
  for (size_t i = 0; i < g->n_initializer; i++) {
    Tensor t;
    const char *e = onnx_tensor_read(g->initializer[i], NULL, &t);
    if (e) {
      if (t.f || t.i) abort();
      free((void *)e);
      continue;
    }
    int64_t n = shape_numel(&t.shape);
    if (n > 0) { /* touch both ends: ASan checks the buffers' sizes */
      volatile float a = t.f[0], b = t.f[n - 1];
      (void)a, (void)b;
      if (t.i) {
        volatile int64_t c = t.i[0], d = t.i[n - 1];
        (void)c, (void)d;
      }
    }
    free(t.f), free(t.i), free(t.name);
  }
  onnx_file_free(&f);
  return 0;
}
