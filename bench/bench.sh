#!/bin/sh
# bench.sh — `make bench` (never part of `make test`): on this machine, one thread,
#   1. per example and for the BERT-base encoder layer (tests/models/bert_layer.nn, weights
#      from `make build/bert/bert_layer.safetensors`), the latency of the same graph as
#        float32  `shiftc compile --float-c` (plain C, gcc -O3 -march=haswell -ffp-contract=fast)
#        scalar   shiftc's int8 code, --target scalar (-O2, as its generated Makefile builds it)
#        avx2     shiftc's int8 code, --target avx2 (-O2 -mavx2 -mfma, likewise)
#      measured side by side (ROUNDS interleaved rounds of MS milliseconds each; medians and
#      min-max), with their ratios; the table goes to build/bench/results.md;
#      then, for the models in PROFILE (bert_layer by default), the avx2 code rebuilt with
#      -DSC_PROFILE: time and share per layer and per kernel, GOPS where it multiplies;
#   2. for NEON, llvm-mca's cycle estimate per multiply-accumulate of the packed GEMM's
#      main micro-kernel loop, for neon and neon-dotprod on Cortex-A55, A72 and A76
#      (bench/bench_neon_mca.sh, alone: `make bench-neon`; table build/bench/neon_mca.md).
# Between 1 and 2, bench/peers.sh: oneDNN, XNNPACK and ONNX Runtime beside shiftc on the
# layer's GEMMs and on the whole layer (build/bench/peers.md). BENCH_PEERS_ONLY=1 runs only
# the BERT layer's latencies and the peers.
# Usage: bench/bench.sh [SHIFTC] ; ROUNDS=9 MS=200 by default; MODELS to choose.
set -eu
cd "$(dirname "$0")/.."
SHIFTC=${1:-./shiftc}
ROUNDS=${ROUNDS:-9}
MS=${MS:-200}
OUT=build/bench
PEERS_ONLY=${BENCH_PEERS_ONLY:-0}
[ "$PEERS_ONLY" = 1 ] && MODELS=${MODELS:-bert_layer}
MODELS=${MODELS:-"digits_mlp digits_cnn mnist_cnn digits_cnn_w4 digits_vit digits_vit_l1 bert_layer"}
VARIANTS="float32 scalar avx2"
CC=${CC:-gcc}
mkdir -p "$OUT"

# The BERT layer's model and configuration (2 calibration samples: a timing run) live in build/bert.
nn_of() { case "$1" in bert_layer) echo build/bert/bert_layer.nn ;; *) echo "examples/$1/$1.nn" ;; esac; }
yaml_of() { case "$1" in bert_layer) echo build/bert/bert_layer_quick.yaml ;; *) echo "examples/$1/$1.yaml" ;; esac; }
flags_of() { case "$1" in avx2) echo "-O2 -mavx2 -mfma" ;; float32) echo "-O3 -march=haswell -ffp-contract=fast" ;; *) echo "-O2" ;; esac; }

RES="$OUT/results.md"
{
  echo "| model | float32 | int8 scalar | int8 avx2 | avx2 vs float32 | avx2 vs scalar | scalar vs float32 |"
  echo "|---|---|---|---|---|---|---|"
} >"$RES.tmp"

echo "== latency per inference, one thread, $ROUNDS interleaved rounds of ${MS} ms (median, min-max); $CC"
for m in $MODELS; do
  U=$(echo "$m" | tr a-z A-Z)
  for t in $VARIANTS; do
    d="$OUT/$m.$t"
    if [ "$t" = float32 ]; then
      "$SHIFTC" compile "$(nn_of "$m")" -c "$(yaml_of "$m")" --float-c -o "$d" >/dev/null
      # shellcheck disable=SC2046
      $CC -std=c99 $(flags_of "$t") -I"$d" -DBENCH_FLOAT -DBENCH_MODEL="$m" -DBENCH_UPPER="$U" \
        -DBENCH_HEADER="\"${m}_float.h\"" -o "$d/bench" bench/bench_run.c "$d/${m}_float.c" "$d/${m}_float_golden.c" -lm
    else
      "$SHIFTC" compile "$(nn_of "$m")" -c "$(yaml_of "$m")" --target "$t" -o "$d" >/dev/null
      srcs=$(ls "$d"/*.c | grep -v "_test.c$")
      # shellcheck disable=SC2046,SC2086
      $CC -std=c99 $(flags_of "$t") -I"$d" -DBENCH_MODEL="$m" -DBENCH_UPPER="$U" -DBENCH_HEADER="\"$m.h\"" \
        -o "$d/bench" bench/bench_run.c $srcs
    fi
  done
  : >"$OUT/$m.times"
  r=0
  while [ $r -lt "$ROUNDS" ]; do
    for t in $VARIANTS; do
      ns=$("$OUT/$m.$t/bench" "$MS" | cut -d' ' -f1)
      echo "$t $ns" >>"$OUT/$m.times"
    done
    r=$((r + 1))
  done
  for t in $VARIANTS; do
    grep "^$t " "$OUT/$m.times" | cut -d' ' -f2 | sort -g >"$OUT/$m.$t.sorted"
  done
  awk -v m="$m" -v n="$ROUNDS" -v res="$RES.tmp" '
    function t(ns) { return ns >= 1e6 ? sprintf("%.3g ms", ns / 1e6) : sprintf("%.3g us", ns / 1e3) }
    FNR == 1 { f++ } { v[f, FNR] = $1 }
    END {
      mid = int((n + 1) / 2)
      fl = v[1, mid]; s = v[2, mid]; a = v[3, mid]
      printf "%-14s float32 %9s (%s-%s)  scalar %9s (%s-%s)  avx2 %9s (%s-%s)\n", m, t(fl), t(v[1, 1]), t(v[1, n]),
        t(s), t(v[2, 1]), t(v[2, n]), t(a), t(v[3, 1]), t(v[3, n])
      printf "%-14s speed-up of int8 avx2: %.2fx over float32, %.2fx over int8 scalar; of int8 scalar over float32: %.2fx\n", "",
        fl / a, s / a, fl / s
      printf "| %s | %s | %s | %s | %.2fx | %.2fx | %.2fx |\n", m, t(fl), t(s), t(a), fl / a, s / a, fl / s >>res
    }' "$OUT/$m.float32.sorted" "$OUT/$m.scalar.sorted" "$OUT/$m.avx2.sorted"
done
{
  echo
  echo "Median of $ROUNDS interleaved rounds, one thread, $(uname -m), $(grep -m1 "model name" /proc/cpuinfo | cut -d: -f2 | sed 's/^ //');"
  echo "ratios are the float32 (or scalar) time over the avx2 (or float32) time: above 1 means faster."
} >>"$RES.tmp"
mv "$RES.tmp" "$RES"
echo "(table: $RES)"

# Where the int8 avx2 time goes: the same generated code built with -DSC_PROFILE, which
# times each layer (shiftc_rt.h's sc_profile_mark); per layer and per kernel, with GOPS.
PROFILE=${PROFILE:-bert_layer}
for m in $PROFILE; do
  d="$OUT/$m.avx2"
  [ -x "$d/bench" ] || continue
  U=$(echo "$m" | tr a-z A-Z)
  srcs=$(ls "$d"/*.c | grep -v "_test.c$")
  # shellcheck disable=SC2046,SC2086
  $CC -std=c99 $(flags_of avx2) -DSC_PROFILE -I"$d" -DBENCH_MODEL="$m" -DBENCH_UPPER="$U" \
    -DBENCH_HEADER="\"$m.h\"" -o "$d/bench_profile" bench/bench_run.c $srcs
  echo
  echo "== $m, int8 avx2, per layer (-DSC_PROFILE; one run of $((MS * 3)) ms)"
  "$d/bench_profile" $((MS * 3)) | tee "$OUT/$m.avx2.profile"
done

ROUNDS=$ROUNDS MS=$MS CC=$CC sh bench/peers.sh "$SHIFTC"
[ "$PEERS_ONLY" = 1 ] && exit 0

echo
# The NEON part (llvm-mca, no timing): also runnable alone as `make bench-neon`.
sh bench/bench_neon_mca.sh
