/* sc_avx2.h — AVX2 helpers of the avx2 target's kernels: the requantization of
 * shiftc_rt.h (sc_requant_apply) on 8 int32 lanes, bit for bit. AVX2 and FMA only
 * (the tests run the avx2 target under qemu-x86_64 -cpu Haswell), except sc_avx2_dpbusd,
 * which uses VNNI where the target's flags enable it. */
#ifndef SC_AVX2_H
#define SC_AVX2_H

#include <immintrin.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* sc_rdmulh per lane, for multipliers m >= 0 (dyadic M0 lie in [2^30, 2^31), so the
 * saturating case INT32_MIN * INT32_MIN cannot occur): (a*m + 2^30) >> 31 in 64 bits.
 * The low 32 bits of a logical and an arithmetic shift by 31 agree, so srli serves. */
static inline __m256i sc_avx2_rdmulh(__m256i a, __m256i m) {
  const __m256i half = _mm256_set1_epi64x((int64_t)1 << 30);
  __m256i even = _mm256_mul_epi32(a, m); /* lanes 0, 2, 4, 6 as int64 */
  __m256i odd = _mm256_mul_epi32(_mm256_srli_epi64(a, 32), _mm256_srli_epi64(m, 32));
  even = _mm256_srli_epi64(_mm256_add_epi64(even, half), 31); /* result in the low dword */
  odd = _mm256_slli_epi64(_mm256_add_epi64(odd, half), 1);    /* result in the high dword */
  return _mm256_blend_epi32(even, odd, 0xAA);
}

/* sc_shift_round per lane: n >= 0 rounds right (x + 2^(n-1)) >> n with the 32-bit add
 * of the scalar code; n < 0 shifts left by -n, saturating to int32. */
static inline __m256i sc_avx2_shift_round(__m256i x, __m256i n) {
  const __m256i zero = _mm256_setzero_si256(), one = _mm256_set1_epi32(1);
  const __m256i ones = _mm256_set1_epi32(-1), max = _mm256_set1_epi32(INT32_MAX);
  __m256i rs = _mm256_max_epi32(n, zero);
  __m256i ls = _mm256_max_epi32(_mm256_sub_epi32(zero, n), zero);
  __m256i rnd = _mm256_srli_epi32(_mm256_sllv_epi32(one, rs), 1); /* 2^(rs-1), 0 for rs = 0 */
  __m256i r = _mm256_srav_epi32(_mm256_add_epi32(x, rnd), rs);
  __m256i l = _mm256_sllv_epi32(x, ls);
  __m256i lost = _mm256_xor_si256(_mm256_cmpeq_epi32(_mm256_srav_epi32(l, ls), x), ones); /* overflowed */
  __m256i sat = _mm256_xor_si256(_mm256_srai_epi32(x, 31), max);                         /* MAX or MIN */
  l = _mm256_blendv_epi8(l, sat, lost);
  return _mm256_blendv_epi8(r, l, _mm256_cmpgt_epi32(ls, zero));
}

/* clamp(shift_round(mult ? rdmulh(v, mult) : v, shift), lo, hi) per lane. */
static inline __m256i sc_avx2_requant(__m256i v, const int32_t *mult, const int32_t *shift, int has_mult, int32_t lo,
                                      int32_t hi) {
  if (has_mult) v = sc_avx2_rdmulh(v, _mm256_loadu_si256((const __m256i *)(const void *)mult));
  v = sc_avx2_shift_round(v, _mm256_loadu_si256((const __m256i *)(const void *)shift));
  v = _mm256_max_epi32(v, _mm256_set1_epi32(lo));
  return _mm256_min_epi32(v, _mm256_set1_epi32(hi));
}

/* sc_requant_apply's output-domain addend (bias_fix) before the clamp: sc_sat32(v + add),
 * for |add| < 2^29 (the compiler's bound) and an int8 clamp: v is first held within
 * +-2^30, which changes nothing after the clamp and keeps the sum from wrapping. */
static inline __m256i sc_avx2_out_add(__m256i v, const int32_t *add, int32_t lo, int32_t hi) {
  v = _mm256_min_epi32(_mm256_max_epi32(v, _mm256_set1_epi32(-(1 << 30))), _mm256_set1_epi32(1 << 30));
  v = _mm256_add_epi32(v, _mm256_loadu_si256((const __m256i *)(const void *)add));
  return _mm256_min_epi32(_mm256_max_epi32(v, _mm256_set1_epi32(lo)), _mm256_set1_epi32(hi));
}

/* 16 channels' accumulators (v0: channels 0-7, v1: 8-15) plus their bias, requantized
 * (with the output-domain addends `add` when not NULL) and packed into 16 int8 codes in
 * channel order: the GEMMs' output step. The clamp keeps values within int8, so the
 * saturating packs only reorder. */
static inline __m128i sc_avx2_requant16(__m256i v0, __m256i v1, const int32_t *bias, const int32_t *mult,
                                        const int32_t *shift, const int32_t *add, int has_mult, int32_t lo,
                                        int32_t hi) {
  v0 = _mm256_add_epi32(v0, _mm256_loadu_si256((const __m256i *)(const void *)bias));
  v1 = _mm256_add_epi32(v1, _mm256_loadu_si256((const __m256i *)(const void *)(bias + 8)));
  if (add) { /* requantize without the clamp, add, then clamp */
    v0 = sc_avx2_out_add(sc_avx2_requant(v0, mult, shift, has_mult, INT32_MIN, INT32_MAX), add, lo, hi);
    v1 = sc_avx2_out_add(sc_avx2_requant(v1, mult + 8, shift + 8, has_mult, INT32_MIN, INT32_MAX), add + 8, lo, hi);
  } else {
    v0 = sc_avx2_requant(v0, mult, shift, has_mult, lo, hi);
    v1 = sc_avx2_requant(v1, mult + 8, shift + 8, has_mult, lo, hi);
  }
  const __m256i p16 = _mm256_permute4x64_epi64(_mm256_packs_epi32(v0, v1), 0xD8);
  return _mm_packs_epi16(_mm256_castsi256_si128(p16), _mm256_extracti128_si256(p16, 1));
}

/* The 8 lane sums of a0..a7, in order: one int32 per input vector. */
static inline __m256i sc_avx2_hsum8(__m256i a0, __m256i a1, __m256i a2, __m256i a3, __m256i a4, __m256i a5,
                                    __m256i a6, __m256i a7) {
  __m256i t0 = _mm256_hadd_epi32(_mm256_hadd_epi32(a0, a1), _mm256_hadd_epi32(a2, a3));
  __m256i t1 = _mm256_hadd_epi32(_mm256_hadd_epi32(a4, a5), _mm256_hadd_epi32(a6, a7));
  /* t0 = [a0 a1 a2 a3 (low halves) | a0 a1 a2 a3 (high halves)], t1 the same for a4..a7 */
  return _mm256_add_epi32(_mm256_permute2x128_si256(t0, t1, 0x20), _mm256_permute2x128_si256(t0, t1, 0x31));
}

/* c + the 8 sums of 4 products (unsigned byte of a) x (signed byte of b) per int32 lane:
 * vpdpbusd. The VNNI targets' compiler flags give the instruction (AVX-VNNI on ymm, or
 * AVX-512 VNNI + VL); anywhere else it is computed exactly from AVX2: bytes split into
 * their even and odd halves as int16 (u8 zero-extended, s8 sign-extended: products fit
 * int16 x int16) and vpmaddwd sums each pair into int32. The same int32 results either
 * way, which is how the VNNI kernels are checked on machines without VNNI. */
static inline __m256i sc_avx2_dpbusd(__m256i c, __m256i a, __m256i b) {
#if defined(__AVXVNNI__)
  return _mm256_dpbusd_avx_epi32(c, a, b);
#elif defined(__AVX512VNNI__) && defined(__AVX512VL__)
  return _mm256_dpbusd_epi32(c, a, b);
#else
  const __m256i lo8 = _mm256_set1_epi16(0x00FF);
  const __m256i a_even = _mm256_and_si256(a, lo8), a_odd = _mm256_srli_epi16(a, 8);
  const __m256i b_even = _mm256_srai_epi16(_mm256_slli_epi16(b, 8), 8), b_odd = _mm256_srai_epi16(b, 8);
  c = _mm256_add_epi32(c, _mm256_madd_epi16(a_even, b_even));
  return _mm256_add_epi32(c, _mm256_madd_epi16(a_odd, b_odd));
#endif
}

/* The horizontal max / sum of 8 int32 lanes. */
static inline int32_t sc_avx2_hmax(__m256i v) {
  __m128i m = _mm_max_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  m = _mm_max_epi32(m, _mm_shuffle_epi32(m, 0x4E));
  m = _mm_max_epi32(m, _mm_shuffle_epi32(m, 0xB1));
  return _mm_cvtsi128_si32(m);
}

static inline int32_t sc_avx2_hsum(__m256i v) {
  __m128i m = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  m = _mm_add_epi32(m, _mm_shuffle_epi32(m, 0x4E));
  m = _mm_add_epi32(m, _mm_shuffle_epi32(m, 0xB1));
  return _mm_cvtsi128_si32(m);
}

/* Stores 8 int32 lanes that lie in [-128, 127] as 8 int8 codes. */
static inline void sc_avx2_store8_s8(int8_t *y, __m256i v) {
  __m256i p = _mm256_packs_epi16(_mm256_packs_epi32(v, v), v); /* bytes 0-3: lanes 0-3; 16-19: lanes 4-7 */
  __m128i lo = _mm256_castsi256_si128(p), hi = _mm256_extracti128_si256(p, 1);
  _mm_storel_epi64((__m128i *)(void *)y, _mm_unpacklo_epi32(lo, hi));
}

/* Writes a tile of rows x nc int8 codes held as one __m128i per row (row r's channel j in
 * byte j; rows <= 8) into a channel-major output: channel j's rows go to y[j * col_stride
 * + 0 .. rows), consecutive. That is a conv's NCHW output, where a GEMM row is a pixel and a
 * channel's pixels are consecutive in its plane. An 8 x 16 byte transpose (unpack bytes,
 * then words, then dwords) turns 16 scattered byte stores per row into one run per channel. */
static inline void sc_avx2_store_cols(const __m128i *row, int32_t rows, int32_t nc, int8_t *y, ptrdiff_t col_stride) {
  __m128i r[8];
  for (int32_t i = 0; i < 8; i++) r[i] = i < rows ? row[i] : _mm_setzero_si128();
  /* bytes: t0 = r0/r1 interleaved (channels 0-7), t1 = r0/r1 (8-15), ... */
  const __m128i b0 = _mm_unpacklo_epi8(r[0], r[1]), b1 = _mm_unpackhi_epi8(r[0], r[1]);
  const __m128i b2 = _mm_unpacklo_epi8(r[2], r[3]), b3 = _mm_unpackhi_epi8(r[2], r[3]);
  const __m128i b4 = _mm_unpacklo_epi8(r[4], r[5]), b5 = _mm_unpackhi_epi8(r[4], r[5]);
  const __m128i b6 = _mm_unpacklo_epi8(r[6], r[7]), b7 = _mm_unpackhi_epi8(r[6], r[7]);
  /* words: rows 0-3 of channels 0-3, 4-7, 8-11, 12-15; then rows 4-7 of the same */
  const __m128i w0 = _mm_unpacklo_epi16(b0, b2), w1 = _mm_unpackhi_epi16(b0, b2);
  const __m128i w2 = _mm_unpacklo_epi16(b1, b3), w3 = _mm_unpackhi_epi16(b1, b3);
  const __m128i w4 = _mm_unpacklo_epi16(b4, b6), w5 = _mm_unpackhi_epi16(b4, b6);
  const __m128i w6 = _mm_unpacklo_epi16(b5, b7), w7 = _mm_unpackhi_epi16(b5, b7);
  /* dwords: 8 rows of 2 channels in each */
  __m128i c[8];
  c[0] = _mm_unpacklo_epi32(w0, w4), c[1] = _mm_unpackhi_epi32(w0, w4);
  c[2] = _mm_unpacklo_epi32(w1, w5), c[3] = _mm_unpackhi_epi32(w1, w5);
  c[4] = _mm_unpacklo_epi32(w2, w6), c[5] = _mm_unpackhi_epi32(w2, w6);
  c[6] = _mm_unpacklo_epi32(w3, w7), c[7] = _mm_unpackhi_epi32(w3, w7);
  for (int32_t j = 0; j < nc; j++) {
    uint8_t col[16];
    _mm_storeu_si128((__m128i *)(void *)col, c[j / 2]);
    /* exactly rows bytes, as fixed-size pieces (a variable memcpy is a call): a run that
     * spilled past its end would land on the start of the next channel's plane */
    const uint8_t *src = col + 8 * (j % 2);
    int8_t *dst = y + j * col_stride;
    int32_t o = 0;
    if (rows & 4) memcpy(dst, src, 4), o = 4;
    if (rows & 2) memcpy(dst + o, src + o, 2), o += 2;
    if (rows & 1) dst[o] = (int8_t)src[o];
    if (rows == 8) memcpy(dst, src, 8);
  }
}

/* Transposes an 8 x 8 matrix of dwords held as 8 ymm rows: afterwards v[t] holds what
 * was column t. */
static inline void sc_avx2_transpose8_epi32(__m256i v[8]) {
  const __m256i t0 = _mm256_unpacklo_epi32(v[0], v[1]), t1 = _mm256_unpackhi_epi32(v[0], v[1]);
  const __m256i t2 = _mm256_unpacklo_epi32(v[2], v[3]), t3 = _mm256_unpackhi_epi32(v[2], v[3]);
  const __m256i t4 = _mm256_unpacklo_epi32(v[4], v[5]), t5 = _mm256_unpackhi_epi32(v[4], v[5]);
  const __m256i t6 = _mm256_unpacklo_epi32(v[6], v[7]), t7 = _mm256_unpackhi_epi32(v[6], v[7]);
  const __m256i s0 = _mm256_unpacklo_epi64(t0, t2), s1 = _mm256_unpackhi_epi64(t0, t2);
  const __m256i s2 = _mm256_unpacklo_epi64(t1, t3), s3 = _mm256_unpackhi_epi64(t1, t3);
  const __m256i s4 = _mm256_unpacklo_epi64(t4, t6), s5 = _mm256_unpackhi_epi64(t4, t6);
  const __m256i s6 = _mm256_unpacklo_epi64(t5, t7), s7 = _mm256_unpackhi_epi64(t5, t7);
  v[0] = _mm256_permute2x128_si256(s0, s4, 0x20), v[4] = _mm256_permute2x128_si256(s0, s4, 0x31);
  v[1] = _mm256_permute2x128_si256(s1, s5, 0x20), v[5] = _mm256_permute2x128_si256(s1, s5, 0x31);
  v[2] = _mm256_permute2x128_si256(s2, s6, 0x20), v[6] = _mm256_permute2x128_si256(s2, s6, 0x31);
  v[3] = _mm256_permute2x128_si256(s3, s7, 0x20), v[7] = _mm256_permute2x128_si256(s3, s7, 0x31);
}

/* 8 bytes at p as the low half of an xmm. */
static inline __m128i sc_avx2_load8(const int8_t *p) { return _mm_loadl_epi64((const __m128i *)(const void *)p); }

/* Arithmetic right shift of 4 int64 lanes by n in 0..63 (AVX2 has no vpsraq): the logical
 * shift, with the sign bits shifted in from a mask of the negative lanes. */
static inline __m256i sc_avx2_sra64(__m256i x, int n) {
  __m256i neg = _mm256_cmpgt_epi64(_mm256_setzero_si256(), x);
  __m256i r = _mm256_srl_epi64(x, _mm_cvtsi32_si128(n));
  return _mm256_or_si256(r, _mm256_sll_epi64(neg, _mm_cvtsi32_si128(64 - n))); /* n = 0: shift by 64 gives 0 */
}

#endif
