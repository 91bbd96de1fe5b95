/* gen_bert.c — writes the random weights and calibration inputs of one BERT-base shaped
 * encoder layer (hidden 768, 12 heads, FFN 3072, sequence 128) for tests/models/bert_layer.nn.
 *
 *   gen_bert OUTDIR      writes OUTDIR/bert_layer.safetensors (~28 MB) and
 *                        OUTDIR/calib.safetensors (x: [32, 128, 768], ~12.6 MB)
 *
 * The files are far too big to commit, so `make build/bert/bert_layer.safetensors` makes them
 * from this program. Output is identical on every run and host: each tensor draws from its
 * own xorshift64* stream seeded from its name, Gaussians come from Box-Muller, floats are
 * written little-endian byte by byte, and each file is written to OUTDIR/.NAME.tmp and renamed.
 *
 * Weights ~ N(0, 0.02) (BERT's initializer range), biases ~ N(0, 0.02), LayerNorm gamma
 * 1 + N(0, 0.02) and beta N(0, 0.02). Calibration rows are N(0, 1) per feature, except a few
 * outlier channels that carry a large fixed offset plus wider noise, like the handful of
 * hidden features with magnitudes far above the rest in trained BERT (the reason per-tensor
 * int8 activations struggle on it). Dependency-free C99 + libm. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { HIDDEN = 768, FFN = 3072, SEQ = 128, CALIB = 32 };

/* ------------------------------------------------------------- random numbers */

typedef struct Rng {
  uint64_t s;
  int have_spare; /* Box-Muller makes two normals at a time */
  double spare;
} Rng;

/* FNV-1a of the name, mixed by splitmix64: distinct, nonzero seeds per tensor. */
static Rng rng_for(const char *name) {
  uint64_t h = 1469598103934665603ull;
  for (const char *p = name; *p; p++) h = (h ^ (unsigned char)*p) * 1099511628211ull;
  h += 0x9e3779b97f4a7c15ull;
  h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ull;
  h = (h ^ (h >> 27)) * 0x94d049bb133111ebull;
  h ^= h >> 31;
  Rng r = {h ? h : 1, 0, 0.0};
  return r;
}

static uint64_t next_u64(Rng *r) { /* xorshift64* */
  r->s ^= r->s >> 12;
  r->s ^= r->s << 25;
  r->s ^= r->s >> 27;
  return r->s * 0x2545f4914f6cdd1dull;
}

/* Uniform in (0, 1]: 53 random bits, never 0 (log(0) below). */
static double uniform(Rng *r) { return (double)((next_u64(r) >> 11) + 1) * (1.0 / 9007199254740992.0); }

static double normal(Rng *r) {
  if (r->have_spare) {
    r->have_spare = 0;
    return r->spare;
  }
  double rad = sqrt(-2.0 * log(uniform(r))), th = 6.283185307179586 * uniform(r);
  r->have_spare = 1;
  r->spare = rad * sin(th);
  return rad * cos(th);
}

/* -------------------------------------------------------------- tensors */

typedef enum Fill { GAUSS, GAMMA, INPUT } Fill;

typedef struct Spec {
  const char *name;
  int rank;
  int64_t d[3];
  Fill fill;
} Spec;

static int64_t numel(const Spec *s) {
  int64_t n = 1;
  for (int i = 0; i < s->rank; i++) n *= s->d[i];
  return n;
}

/* Hidden features of the calibration input with a large offset, and its sign. */
static const struct {
  int channel;
  float offset;
} outliers[] = {{77, 9.0f}, {308, -14.0f}, {381, 11.0f}, {588, -7.0f}};

static float sample(Rng *r, Fill fill, int64_t i) {
  switch (fill) {
  case GAUSS: return (float)(0.02 * normal(r));
  case GAMMA: return (float)(1.0 + 0.02 * normal(r));
  case INPUT: {
    int c = (int)(i % HIDDEN);
    for (size_t k = 0; k < sizeof outliers / sizeof *outliers; k++)
      if (outliers[k].channel == c) return outliers[k].offset + (float)(3.0 * normal(r));
    return (float)normal(r);
  }
  }
  return 0.0f;
}

/* ------------------------------------------------------------- safetensors */

static void die(const char *what, const char *path) {
  fprintf(stderr, "gen_bert: %s: %s\n", path, what);
  exit(1);
}

static void put_f32(FILE *f, float v) {
  uint32_t u;
  memcpy(&u, &v, 4);
  unsigned char b[4] = {(unsigned char)u, (unsigned char)(u >> 8), (unsigned char)(u >> 16),
                        (unsigned char)(u >> 24)};
  fwrite(b, 1, 4, f);
}

static int by_name(const void *a, const void *b) {
  return strcmp(((const Spec *)a)->name, ((const Spec *)b)->name);
}

/* Writes the tensors (F32) to DIR/FILE in sorted-name order, as the safetensors format
 * recommends; the JSON header is space-padded to a multiple of 8 bytes. */
static void write_safetensors(const char *dir, const char *file, Spec *specs, int n) {
  qsort(specs, (size_t)n, sizeof *specs, by_name);
  size_t cap = 256 * (size_t)n + 16, len = 0;
  char *hdr = malloc(cap);
  if (!hdr) die("out of memory", file);
  int64_t off = 0;
  len += (size_t)snprintf(hdr + len, cap - len, "{");
  for (int k = 0; k < n; k++) {
    int64_t bytes = 4 * numel(&specs[k]);
    len += (size_t)snprintf(hdr + len, cap - len, "%s\"%s\":{\"dtype\":\"F32\",\"shape\":[", k ? "," : "",
                            specs[k].name);
    for (int i = 0; i < specs[k].rank; i++)
      len += (size_t)snprintf(hdr + len, cap - len, "%s%lld", i ? "," : "", (long long)specs[k].d[i]);
    len += (size_t)snprintf(hdr + len, cap - len, "],\"data_offsets\":[%lld,%lld]}", (long long)off,
                            (long long)(off + bytes));
    off += bytes;
  }
  len += (size_t)snprintf(hdr + len, cap - len, "}");
  while (len % 8) hdr[len++] = ' ';

  char path[4096], tmp[4096];
  snprintf(path, sizeof path, "%s/%s", dir, file);
  snprintf(tmp, sizeof tmp, "%s/.%s.tmp", dir, file);
  FILE *f = fopen(tmp, "wb");
  if (!f) die("cannot create", tmp);
  unsigned char n8[8];
  for (int i = 0; i < 8; i++) n8[i] = (unsigned char)((uint64_t)len >> (8 * i));
  fwrite(n8, 1, 8, f);
  fwrite(hdr, 1, len, f);
  for (int k = 0; k < n; k++) {
    Rng r = rng_for(specs[k].name);
    int64_t count = numel(&specs[k]);
    for (int64_t i = 0; i < count; i++) put_f32(f, sample(&r, specs[k].fill, i));
  }
  if (ferror(f) || fclose(f) != 0) {
    remove(tmp);
    die("write failed", tmp);
  }
  if (rename(tmp, path) != 0) {
    remove(tmp);
    die("cannot rename into place", path);
  }
  free(hdr);
  printf("gen_bert: wrote %s (%d tensors, %lld bytes of data)\n", path, n, (long long)off);
}

/* Names as tests/models/bert_layer.nn reads them (the block's prefix is layers.0). */
#define MAT(nm, o, i) {"layers.0." nm ".weight", 2, {o, i, 0}, GAUSS}, {"layers.0." nm ".bias", 1, {o, 0, 0}, GAUSS}
#define LN(nm) {"layers.0." nm ".weight", 1, {HIDDEN, 0, 0}, GAMMA}, {"layers.0." nm ".bias", 1, {HIDDEN, 0, 0}, GAUSS}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: gen_bert OUTDIR\n");
    return 2;
  }
  Spec weights[] = {
      LN("ln1"),
      MAT("attn.q", HIDDEN, HIDDEN),
      MAT("attn.k", HIDDEN, HIDDEN),
      MAT("attn.v", HIDDEN, HIDDEN),
      MAT("attn.o", HIDDEN, HIDDEN),
      LN("ln2"),
      MAT("up", FFN, HIDDEN),
      MAT("down", HIDDEN, FFN),
  };
  Spec calib[] = {{"x", 3, {CALIB, SEQ, HIDDEN}, INPUT}};
  write_safetensors(argv[1], "bert_layer.safetensors", weights, (int)(sizeof weights / sizeof *weights));
  write_safetensors(argv[1], "calib.safetensors", calib, 1);
  return 0;
}
