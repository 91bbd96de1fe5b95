/* avx2.c — the x86-64 targets: `avx2` (AVX2 + FMA, Haswell and later; nothing from
 * AVX-512 or VNNI), `avx2-vnni` (adds AVX-VNNI: vpdpbusd on ymm, e.g. Alder Lake, Zen 5)
 * and `avx512-vnni` (AVX-512 F/BW/VL + VNNI: vpdpbusd on zmm, e.g. Cascade Lake, Zen 4).
 * All three are the shared packed emitter (targets/packed.c) over runtime/avx2/; they
 * differ in compiler flags, which pick the GEMM and its packed layout (sc_simd.h):
 * int16 pairs for avx2 (sc_packed_gemm_avx2.c), unsigned x signed byte quads for the
 * VNNI ones (sc_packed_gemm_vnni.c, which also needs 128 * sum_k W per channel). */
#include "../target.h"

static const char *const avx2_runtime[] = {"shiftc_rt.h", "sc_internal.h", "sc_*.c", "simd/sc_*", "avx2/sc_*", NULL};

const Target target_avx2 = {
    .name = "avx2",
    .family = "avx2",
    .description = "x86-64 AVX2 + FMA: packed int8 GEMM, 6x16 tiles of vpmaddwd on int16 pairs (exact)",
    .cflags = "-mavx2 -mfma",
    .runtime_files = avx2_runtime,
    .emit_layer_data = packed_emit_data,
    .emit_layer = packed_emit_layer,
    .packs_weights = packed_packs_weights,
    .pack_nr = 16,
    .pack_kb = 2,
    .cannot_emit = packed_cannot_emit,
    .includes = "#include \"sc_simd.h\"\n",
};

const Target target_avx2_vnni = {
    .name = "avx2-vnni",
    .family = "avx2",
    .description = "x86-64 AVX2 + AVX-VNNI: packed int8 GEMM, 6x16 tiles of vpdpbusd on ymm (exact)",
    .cflags = "-mavx2 -mfma -mavxvnni",
    .runtime_files = avx2_runtime,
    .emit_layer_data = packed_emit_data,
    .emit_layer = packed_emit_layer,
    .packs_weights = packed_packs_weights,
    .pack_nr = 16,
    .pack_kb = 4,
    .pack_u8 = true,
    .cannot_emit = packed_cannot_emit,
    .includes = "#include \"sc_simd.h\"\n",
};

const Target target_avx512_vnni = {
    .name = "avx512-vnni",
    .family = "avx2",
    .description = "x86-64 AVX-512 VNNI: packed int8 GEMM, 8x32 tiles of vpdpbusd on zmm (exact)",
    .cflags = "-mavx2 -mfma -mavx512f -mavx512bw -mavx512vl -mavx512vnni",
    .runtime_files = avx2_runtime,
    .emit_layer_data = packed_emit_data,
    .emit_layer = packed_emit_layer,
    .packs_weights = packed_packs_weights,
    .pack_nr = 32,
    .pack_kb = 4,
    .pack_u8 = true,
    .cannot_emit = packed_cannot_emit,
    .includes = "#include \"sc_simd.h\"\n",
};
