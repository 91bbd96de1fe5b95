#!/bin/sh
# bench.sh — `make bench` (never part of `make test`): on this machine, one thread,
#   1. per example and for the BERT-base encoder layer (tests/models/bert_layer.nn, weights
#      from `make build/bert/bert_layer.safetensors`), the latency of the same graph as
#        float32  `shiftc compile --float-c` (plain C, gcc -O3 -march=haswell -ffp-contract=fast)
#        scalar   shiftc's int8 code, --target scalar (-O2, as its generated Makefile builds it)
#        avx2     shiftc's int8 code, --target avx2 (-O2 -mavx2 -mfma, likewise)
#      measured side by side (ROUNDS interleaved rounds of MS milliseconds each; medians and
#      min-max), with their ratios; the table goes to build/bench/results.md;
#      then, for the models in PROFILE (bert_layer, mnist_cnn), `shiftc verify --profile` on
#      the avx2 folder: time and share per layer and per kernel, GOPS where it multiplies
#      (also written into that folder's report);
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
MODELS=${MODELS:-"digits_mlp digits_cnn mnist_cnn digits_cnn_w4 digits_cnn_w5 digits_vit digits_vit_l1 digits_dwcnn digits_encoder2l bert_layer"}
VARIANTS="float32 scalar avx2"
# The VNNI sub-targets run where the CPU has them; elsewhere the table says why they are absent.
CPUFLAGS="$(grep -m1 '^flags' /proc/cpuinfo 2>/dev/null) "
VNOTE=""
case $CPUFLAGS in *" avx_vnni "*) VARIANTS="$VARIANTS avx2-vnni" ;; *) VNOTE="$VNOTE avx2-vnni (no avx_vnni)," ;; esac
case $CPUFLAGS in *" avx512_vnni "*) VARIANTS="$VARIANTS avx512-vnni" ;; *) VNOTE="$VNOTE avx512-vnni (no avx512_vnni)," ;; esac
CC=${CC:-gcc}
mkdir -p "$OUT"

# The BERT layer's model and configuration (2 calibration samples: a timing run) live in build/bert.
# (the ONNX examples of examples/onnx_digits share digits_dwcnn.yaml, as their tests do)
nn_of() {
  case "$1" in
  bert_layer) echo build/bert/bert_layer.nn ;;
  digits_dwcnn | digits_encoder*) echo "examples/onnx_digits/$1.onnx" ;;
  *) echo "examples/$1/$1.nn" ;;
  esac
}
yaml_of() {
  case "$1" in
  bert_layer) echo build/bert/bert_layer_quick.yaml ;;
  digits_dwcnn | digits_encoder*) echo examples/onnx_digits/digits_dwcnn.yaml ;;
  *) echo "examples/$1/$1.yaml" ;;
  esac
}
flags_of() {
  case "$1" in
  avx2) echo "-O2 -mavx2 -mfma" ;;
  avx2-vnni) echo "-O2 -mavx2 -mfma -mavxvnni" ;;
  avx512-vnni) echo "-O2 -mavx2 -mfma -mavx512f -mavx512bw -mavx512vl -mavx512vnni" ;;
  float32) echo "-O3 -march=haswell -ffp-contract=fast" ;;
  *) echo "-O2" ;;
  esac
}

RES="$OUT/results.md"
{
  printf "| model |"
  for t in $VARIANTS; do [ "$t" = float32 ] && printf " float32 |" || printf " int8 %s |" "$t"; done
  for t in $VARIANTS; do [ "$t" = float32 ] || printf " %s vs float32 |" "$t"; done
  echo " avx2 vs scalar |"
  printf "|---|"
  for t in $VARIANTS; do printf -- "---|"; done
  for t in $VARIANTS; do [ "$t" = float32 ] || printf -- "---|"; done
  echo "---|"
} >"$RES.tmp"

echo "== latency per inference, one thread, $ROUNDS interleaved rounds of ${MS} ms (median, min-max); $CC"
[ -n "$VNOTE" ] && echo "   not timed, this CPU lacks the extension:${VNOTE%,}"
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
  files=""
  for t in $VARIANTS; do
    grep "^$t " "$OUT/$m.times" | cut -d' ' -f2 | sort -g >"$OUT/$m.$t.sorted"
    files="$files $OUT/$m.$t.sorted"
  done
  # shellcheck disable=SC2086
  awk -v m="$m" -v n="$ROUNDS" -v res="$RES.tmp" -v variants="$VARIANTS" '
    function t(ns) { return ns >= 1e6 ? sprintf("%.3g ms", ns / 1e6) : sprintf("%.3g us", ns / 1e3) }
    FNR == 1 { f++ } { v[f, FNR] = $1 }
    END {
      nv = split(variants, name, " "); mid = int((n + 1) / 2)
      for (i = 1; i <= nv; i++) { med[name[i]] = v[i, mid]; lo[name[i]] = v[i, 1]; hi[name[i]] = v[i, n] }
      line = sprintf("%-14s", m); row = "| " m " |"
      for (i = 1; i <= nv; i++) {
        line = line sprintf(" %s %9s (%s-%s)", name[i], t(med[name[i]]), t(lo[name[i]]), t(hi[name[i]]))
        row = row " " t(med[name[i]]) " |"
      }
      print line
      line = sprintf("%-14s speed-up over float32:", "")
      for (i = 1; i <= nv; i++) if (name[i] != "float32") {
        line = line sprintf(" %s %.2fx", name[i], med["float32"] / med[name[i]])
        row = row sprintf(" %.2fx |", med["float32"] / med[name[i]])
      }
      print line sprintf("; avx2 over scalar %.2fx", med["scalar"] / med["avx2"])
      printf "%s %.2fx |\n", row, med["scalar"] / med["avx2"] >>res
    }' $files
done
{
  echo
  echo "Median of $ROUNDS interleaved rounds, one thread, $(uname -m), $(grep -m1 "model name" /proc/cpuinfo | cut -d: -f2 | sed 's/^ //');"
  echo "ratios are the float32 (or scalar) time over the int8 target's (or avx2's) time: above 1 means faster."
  [ -z "$VNOTE" ] || echo "Not timed on this CPU, which lacks the extension:${VNOTE%,}."
} >>"$RES.tmp"
mv "$RES.tmp" "$RES"
echo "(table: $RES)"

# Where the int8 avx2 time goes: `shiftc verify --profile` builds the folder's test with
# -DSC_PROFILE (shiftc_rt.h's sc_profile_mark after each layer), checks the goldens, times
# every layer and puts the table (ms, share, GOPS per layer and per kernel) in the report.
PROFILE=${PROFILE:-"bert_layer mnist_cnn"}
for m in $PROFILE; do
  d="$OUT/$m.avx2"
  [ -f "$d/Makefile" ] || continue
  echo
  echo "== $m, int8 avx2, per layer (shiftc verify --profile, $((MS * 3)) ms)"
  "$SHIFTC" verify "$d" --profile --ms $((MS * 3)) | sed -n '/^## Profile/,$p' | grep -v '^verify:' | tee "$OUT/$m.avx2.profile"
done

ROUNDS=$ROUNDS MS=$MS CC=$CC sh bench/peers.sh "$SHIFTC"
[ "$PEERS_ONLY" = 1 ] && exit 0

echo
# The NEON part (llvm-mca, no timing): also runnable alone as `make bench-neon`.
sh bench/bench_neon_mca.sh
