/* tensor.c — dtypes, shapes and half-precision conversion. */
#include "shiftc.h"

#include <string.h>

const char *dtype_name(DType t) {
  switch (t) {
  case DT_F32: return "f32";
  case DT_F16: return "f16";
  case DT_BF16: return "bf16";
  case DT_I8: return "i8";
  case DT_U8: return "u8";
  case DT_I16: return "i16";
  case DT_I32: return "i32";
  case DT_I64: return "i64";
  case DT_BOOL: return "bool";
  }
  return "?";
}

size_t dtype_size(DType t) {
  switch (t) {
  case DT_F32: case DT_I32: return 4;
  case DT_F16: case DT_BF16: case DT_I16: return 2;
  case DT_I8: case DT_U8: case DT_BOOL: return 1;
  case DT_I64: return 8;
  }
  return 0;
}

bool dtype_is_int(DType t) {
  return t == DT_I8 || t == DT_U8 || t == DT_I16 || t == DT_I32 || t == DT_I64 || t == DT_BOOL;
}

int64_t shape_numel(const Shape *s) {
  int64_t n = 1;
  for (int i = 0; i < s->rank; i++) n *= s->d[i];
  return n;
}

bool shape_eq(const Shape *a, const Shape *b) {
  if (a->rank != b->rank) return false;
  for (int i = 0; i < a->rank; i++)
    if (a->d[i] != b->d[i]) return false;
  return true;
}

Shape shape_make(int rank, const int64_t *d) {
  Shape s;
  memset(&s, 0, sizeof s);
  s.rank = rank;
  for (int i = 0; i < rank; i++) s.d[i] = d[i];
  return s;
}

char *shape_str(const Shape *s, char *buf) {
  int n = 0;
  buf[n++] = '[';
  for (int i = 0; i < s->rank; i++)
    n += snprintf(buf + n, (size_t)(SHAPE_STR_MAX - n), "%s%lld", i ? "," : "", (long long)s->d[i]);
  buf[n++] = ']';
  buf[n] = '\0';
  return buf;
}

/* IEEE 754 binary16: subnormals, infinities and NaN included. */
float f16_to_f32(uint16_t h) {
  uint32_t sign = (uint32_t)(h >> 15) << 31;
  uint32_t exp = (h >> 10) & 0x1f, man = h & 0x3ff, bits;
  if (exp == 0) {
    if (man == 0) {
      bits = sign;
    } else { /* subnormal: normalize */
      int e = -1;
      do {
        e++;
        man <<= 1;
      } while (!(man & 0x400));
      bits = sign | (uint32_t)(127 - 15 - e) << 23 | (man & 0x3ff) << 13;
    }
  } else if (exp == 31) {
    bits = sign | 0x7f800000u | man << 13;
  } else {
    bits = sign | (exp + 127 - 15) << 23 | man << 13;
  }
  float f;
  memcpy(&f, &bits, 4);
  return f;
}

float bf16_to_f32(uint16_t h) {
  uint32_t bits = (uint32_t)h << 16;
  float f;
  memcpy(&f, &bits, 4);
  return f;
}
