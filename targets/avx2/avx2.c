/* avx2.c — the `avx2` target: x86-64 with AVX2 and FMA (Haswell and later), nothing
 * from AVX-512. The shared packed emitter (targets/packed.c) over the AVX2 kernels of
 * runtime/avx2/. */
#include "../target.h"

static const char *const avx2_runtime[] = {"shiftc_rt.h", "sc_internal.h", "sc_*.c", "simd/sc_*", "avx2/sc_*", NULL};

const Target target_avx2 = {
    .name = "avx2",
    .family = "avx2",
    .description = "x86-64 AVX2 + FMA: packed int8 GEMM with vpmovsxbw + vpmaddwd (exact)",
    .cflags = "-mavx2 -mfma",
    .runtime_files = avx2_runtime,
    .emit_layer_data = packed_emit_data,
    .emit_layer = packed_emit_layer,
    .packs_weights = packed_packs_weights,
    .cannot_emit = packed_cannot_emit,
    .includes = "#include \"sc_simd.h\"\n",
};
