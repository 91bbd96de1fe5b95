/* sc_lut_s8_avx2.c — a 256-entry byte table looked up 32 codes at a time on AVX2.
 * vpshufb looks up 16-entry tables and writes 0 where the index byte has bit 7 set.
 * The codes 0..127 and -128..-1 are two halves of 8 sub-tables each. Within a half, step
 * i looks up t - 16*i (t = the code, or the code ^ 0x80 for the negative half): for t in
 * [16j, 16j+16) the steps i <= j index their sub-table with t's low nibble, and the steps
 * i > j see a negative byte (bit 7 set) and give 0. So the XOR of the looked-up bytes is
 * D_0 ^ ... ^ D_j, and with D_0 = T_0, D_i = T_i ^ T_(i-1) that is T_j. Lanes of the
 * other half are garbage; a blend on the code's sign keeps the right half's result. */
#include "sc_avx2.h"
#include "sc_simd.h"

void sc_lut_s8_simd(int32_t n, const int8_t table[256], const int8_t *x, int8_t *y) {
  if (n < 64) { /* the sub-tables cost more than the lookups */
    sc_lut_s8(n, table, x, y);
    return;
  }
  int8_t d[2][8][16]; /* [half: 0 codes >= 0, 1 codes < 0][step][low nibble] */
  for (int h = 0; h < 2; h++)
    for (int i = 0; i < 8; i++)
      for (int k = 0; k < 16; k++) {
        const int8_t *t = table + (h ? 0 : 128) + 16 * i; /* codes 16i.. (h 0), -128+16i.. (h 1) */
        d[h][i][k] = (int8_t)(i ? t[k] ^ t[k - 16] : t[k]);
      }
  __m256i dv[2][8];
  for (int h = 0; h < 2; h++)
    for (int i = 0; i < 8; i++)
      dv[h][i] = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)(const void *)d[h][i]));
  const __m256i sixteen = _mm256_set1_epi8(16), flip = _mm256_set1_epi8((char)0x80);
  int32_t i = 0;
  for (; i + 32 <= n; i += 32) {
    __m256i v = _mm256_loadu_si256((const __m256i *)(const void *)(x + i));
    __m256i tp = v, tn = _mm256_xor_si256(v, flip);
    __m256i rp = _mm256_shuffle_epi8(dv[0][0], tp), rn = _mm256_shuffle_epi8(dv[1][0], tn);
    for (int s = 1; s < 8; s++) {
      tp = _mm256_sub_epi8(tp, sixteen);
      tn = _mm256_sub_epi8(tn, sixteen);
      rp = _mm256_xor_si256(rp, _mm256_shuffle_epi8(dv[0][s], tp));
      rn = _mm256_xor_si256(rn, _mm256_shuffle_epi8(dv[1][s], tn));
    }
    _mm256_storeu_si256((__m256i *)(void *)(y + i), _mm256_blendv_epi8(rp, rn, v));
  }
  sc_lut_s8(n - i, table, x + i, y + i);
}
