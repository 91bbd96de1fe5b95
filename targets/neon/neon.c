/* neon.c — the NEON targets: `neon` (ARMv8-A AArch64, and ARMv7-A with -mfpu=neon;
 * runs on a Cortex-A53) and `neon-dotprod` (ARMv8.2-A dot product, sdot/vdotq_s32).
 * Both are the shared packed emitter (targets/packed.c) over the NEON kernels of
 * runtime/neon/; they differ only in compiler flags: the kernels use vdotq_s32 when
 * the compiler defines __ARM_FEATURE_DOTPROD, which only neon-dotprod's flags do. */
#include "../target.h"

static const char *const neon_runtime[] = {"shiftc_rt.h", "sc_internal.h", "sc_*.c", "simd/sc_*", "neon/sc_*", NULL};

/* ARMv7 needs -mfpu=neon to have NEON at all (and a hard-float ABI, the armhf
 * default); AArch64 always has it and rejects the flag. */
static const char neon_makefile_vars[] =
    "# NEON: AArch64 has it always; ARMv7 (arm-linux-gnueabihf) needs -mfpu=neon.\n"
    "MACHINE := $(shell $(CC) -dumpmachine)\n"
    "NEON_CFLAGS := $(if $(filter arm%,$(MACHINE)),-mfpu=neon,)\n";

const Target target_neon = {
    .name = "neon",
    .family = "neon",
    .description = "ARM NEON (AArch64, or ARMv7 with -mfpu=neon): packed int8 GEMM with smull/smlal/sadalp",
    .cflags = "$(NEON_CFLAGS)",
    .runtime_files = neon_runtime,
    .emit_layer_data = packed_emit_data,
    .emit_layer = packed_emit_layer,
    .packs_weights = packed_packs_weights,
    .pack_nr = 4, /* sc_simd.h: 4 channels x 16 codes (smull/smlal) */
    .pack_kb = 16,
    .cannot_emit = packed_cannot_emit,
    .includes = "#include \"sc_simd.h\"\n",
    .makefile_vars = neon_makefile_vars,
};

const Target target_neon_dotprod = {
    .name = "neon-dotprod",
    .family = "neon",
    .description = "ARMv8.2-A NEON with the dot product extension: packed int8 GEMM with sdot",
    .cflags = "-march=armv8.2-a+dotprod",
    .runtime_files = neon_runtime,
    .emit_layer_data = packed_emit_data,
    .emit_layer = packed_emit_layer,
    .packs_weights = packed_packs_weights,
    .pack_nr = 8, /* sc_simd.h: 8 channels x 4 codes (sdot by element) */
    .pack_kb = 4,
    .cannot_emit = packed_cannot_emit,
    .includes = "#include \"sc_simd.h\"\n",
};
