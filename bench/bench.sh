#!/bin/sh
# bench.sh — `make bench` (never part of `make test`): on this machine, one thread,
#   1. per example and for the BERT-base encoder layer (tests/models/bert_layer.nn, weights
#      from `make build/bert/bert_layer.safetensors`), the latency of the same graph as
#        float32  `shiftc compile --float-c` (plain C, gcc -O3 -march=haswell -ffp-contract=fast)
#        scalar   shiftc's int8 code, --target scalar (-O2, as its generated Makefile builds it)
#        avx2     shiftc's int8 code, --target avx2 (-O2 -mavx2 -mfma, likewise)
#      measured side by side (ROUNDS interleaved rounds of MS milliseconds each; medians and
#      min-max), with their ratios; the table goes to build/bench/results.md;
#   2. for NEON, llvm-mca's cycle estimate per multiply-accumulate of the packed GEMM
#      micro-kernel's inner loop (runtime/neon/sc_packed_gemm_neon.c, clang -O2), for
#      neon and neon-dotprod on Cortex-A72 and Cortex-A55.
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

ROUNDS=$ROUNDS MS=$MS CC=$CC sh bench/peers.sh "$SHIFTC"
[ "$PEERS_ONLY" = 1 ] && exit 0

echo
echo "== NEON: llvm-mca cycles per multiply-accumulate, packed GEMM inner loop (8 channels x 16 codes)"
MCA=$(command -v llvm-mca || command -v llvm-mca-14 || true)
if [ -z "$MCA" ] || ! command -v clang >/dev/null; then
  echo "skipped: needs clang and llvm-mca (Debian packages clang, llvm)"
  exit 0
fi
for variant in "neon:-march=armv8-a:+neon" "neon-dotprod:-march=armv8.2-a+dotprod:+neon,+dotprod"; do
  name=${variant%%:*}; rest=${variant#*:}; march=${rest%%:*}; mattr=${rest#*:}
  s="$OUT/packed_gemm_$name.s"
  clang --target=aarch64-linux-gnu $march -O2 -S -Iruntime -Iruntime/simd -Iruntime/neon \
    -o "$s" runtime/neon/sc_packed_gemm_neon.c
  # The innermost loop with the most multiply-accumulates: from a label to the branch back to it.
  awk '
    /^\.LBB[0-9_]+:/ { lab = substr($1, 1, length($1) - 1); start[lab] = NR }
    { line[NR] = $0 }
    /^[ \t]+b\.|^[ \t]+cbn?z|^[ \t]+b[ \t]/ {
      tgt = $NF
      if (tgt in start) {
        macs = 0
        for (i = start[tgt] + 1; i <= NR; i++) {
          if (line[i] ~ /[ \t]sdot[ \t]/) macs += 16
          else if (line[i] ~ /[ \t](smull2?|smlal2?)[ \t].*8h/) macs += 8
        }
        if (macs > best) { best = macs; from = start[tgt] + 1; to = NR }
      }
    }
    END { for (i = from; i <= to; i++) if (line[i] !~ /^\.LBB|^[ \t]*\/\//) print line[i]; print "// MACS " best }
  ' "$s" >"$s.loop"
  macs=$(sed -n 's|^// MACS ||p' "$s.loop")
  for cpu in cortex-a72 cortex-a55; do
    cyc=$("$MCA" -mtriple=aarch64 -mcpu=$cpu -mattr=$mattr -iterations=200 "$s.loop" 2>/dev/null |
      awk '/^Total Cycles:/ { c = $3 } /^Iterations:/ { it = $2 } END { if (it) printf "%.3f", c / it }')
    awk -v n="$name" -v cpu="$cpu" -v c="$cyc" -v m="$macs" -v a="$mattr" \
      'BEGIN { printf "%-13s %-11s -mattr=%-14s %6.2f cycles/iteration, %3d MACs/iteration: %.3f cycles per MAC\n", n, cpu, a, c, m, c / m }'
  done
done
