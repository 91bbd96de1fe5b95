/* sc_lut_s8_neon.c — a 256-entry byte table looked up 16 (AArch64) or 8 (ARMv7) codes at
 * a time. tbx leaves a lane unchanged where its index is past the table, so with
 * u = code + 128 the table is read in parts: AArch64 four 64-byte parts (tbl4/tbx4 on
 * q registers), ARMv7 eight 32-byte parts (vtbl4/vtbx4 on d registers), part i indexed
 * by u - size*i, which wraps past the part for the codes of earlier parts. */
#include "sc_neon.h"
#include "sc_simd.h"

void sc_lut_s8_simd(int32_t n, const int8_t table[256], const int8_t *x, int8_t *y) {
  const uint8_t *t = (const uint8_t *)table;
  const uint8x16_t flip = vdupq_n_u8(0x80);
  int32_t i = 0;
#if defined(__aarch64__)
  uint8x16x4_t part[4];
  for (int k = 0; k < 4; k++)
    for (int h = 0; h < 4; h++) part[k].val[h] = vld1q_u8(t + 64 * k + 16 * h);
  const uint8x16_t step = vdupq_n_u8(64);
  for (; i + 16 <= n; i += 16) {
    uint8x16_t u = veorq_u8(vreinterpretq_u8_s8(vld1q_s8(x + i)), flip);
    uint8x16_t r = vqtbl4q_u8(part[0], u);
    for (int k = 1; k < 4; k++) {
      u = vsubq_u8(u, step);
      r = vqtbx4q_u8(r, part[k], u);
    }
    vst1q_s8(y + i, vreinterpretq_s8_u8(r));
  }
#else
  uint8x8x4_t part[8];
  for (int k = 0; k < 8; k++)
    for (int h = 0; h < 4; h++) part[k].val[h] = vld1_u8(t + 32 * k + 8 * h);
  const uint8x8_t step = vdup_n_u8(32);
  for (; i + 8 <= n; i += 8) {
    uint8x8_t u = veor_u8(vreinterpret_u8_s8(vld1_s8(x + i)), vget_low_u8(flip));
    uint8x8_t r = vtbl4_u8(part[0], u);
    for (int k = 1; k < 8; k++) {
      u = vsub_u8(u, step);
      r = vtbx4_u8(r, part[k], u);
    }
    vst1_s8(y + i, vreinterpret_s8_u8(r));
  }
#endif
  sc_lut_s8(n - i, table, x + i, y + i);
}
