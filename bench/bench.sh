#!/bin/sh
# bench.sh — `make bench` (never part of `make test`): on this machine, one thread,
#   1. per example, the latency of shiftc's int8 code for the avx2 and scalar targets,
#      measured side by side (interleaved rounds, medians and spread) with their ratio;
#   2. for NEON, llvm-mca's cycle estimate per multiply-accumulate of the packed GEMM
#      micro-kernel's inner loop (runtime/neon/sc_packed_row_neon.c, clang -O2), for
#      neon and neon-dotprod on Cortex-A72 and Cortex-A55.
# Not measured yet (named in the output): a float32 build of the same graphs (needs a
# float C emitter: a `float` target family), and the BERT-base encoder layer (needs the
# int8 Transformer ops): add the model to MODELS below once it compiles.
# Usage: bench/bench.sh [SHIFTC] ; ROUNDS=9 MS=200 by default.
set -eu
cd "$(dirname "$0")/.."
SHIFTC=${1:-./shiftc}
ROUNDS=${ROUNDS:-9}
MS=${MS:-200}
OUT=build/bench
MODELS="digits_mlp digits_cnn mnist_cnn"
TARGETS="scalar avx2"
CC=${CC:-gcc}
mkdir -p "$OUT"

flags_of() { case "$1" in avx2) echo "-mavx2 -mfma" ;; *) echo "" ;; esac; }

echo "== int8 latency per inference, one thread, $ROUNDS interleaved rounds of ${MS} ms (median, min-max)"
for m in $MODELS; do
  U=$(echo "$m" | tr a-z A-Z)
  for t in $TARGETS; do
    d="$OUT/$m.$t"
    "$SHIFTC" compile "examples/$m/$m.nn" -c "examples/$m/$m.yaml" --target "$t" -o "$d" >/dev/null
    srcs=$(ls "$d"/*.c | grep -v "_test.c$")
    # shellcheck disable=SC2086
    $CC -std=c99 -O2 $(flags_of "$t") -I"$d" -DBENCH_MODEL="$m" -DBENCH_UPPER="$U" -DBENCH_HEADER="\"$m.h\"" \
      -o "$d/bench" bench/bench_run.c $srcs
  done
  : >"$OUT/$m.times"
  r=0
  while [ $r -lt "$ROUNDS" ]; do
    for t in $TARGETS; do
      ns=$("$OUT/$m.$t/bench" "$MS" | cut -d' ' -f1)
      echo "$t $ns" >>"$OUT/$m.times"
    done
    r=$((r + 1))
  done
  for t in $TARGETS; do
    grep "^$t " "$OUT/$m.times" | cut -d' ' -f2 | sort -g >"$OUT/$m.$t.sorted"
  done
  awk -v m="$m" -v n="$ROUNDS" '
    FNR == 1 { f++ } { v[f, FNR] = $1 }
    END {
      mid = int((n + 1) / 2)
      s = v[1, mid]; a = v[2, mid]
      printf "%-11s scalar %10.0f ns (%.0f-%.0f)   avx2 %10.0f ns (%.0f-%.0f)   avx2 is %.2fx faster than scalar\n",
        m, s, v[1, 1], v[1, n], a, v[2, 1], v[2, n], s / a
    }' "$OUT/$m.scalar.sorted" "$OUT/$m.avx2.sorted"
done
echo "float32 build: not measured — shiftc has no float C emitter yet (a 'float' target family);"
echo "BERT-base encoder layer: not measured — needs the int8 Transformer ops (gelu/softmax/layernorm kernels)."

echo
echo "== NEON: llvm-mca cycles per multiply-accumulate, packed GEMM inner loop (8 channels x 16 codes)"
MCA=$(command -v llvm-mca || command -v llvm-mca-14 || true)
if [ -z "$MCA" ] || ! command -v clang >/dev/null; then
  echo "skipped: needs clang and llvm-mca (Debian packages clang, llvm)"
  exit 0
fi
for variant in "neon:-march=armv8-a:+neon" "neon-dotprod:-march=armv8.2-a+dotprod:+neon,+dotprod"; do
  name=${variant%%:*}; rest=${variant#*:}; march=${rest%%:*}; mattr=${rest#*:}
  s="$OUT/packed_row_$name.s"
  clang --target=aarch64-linux-gnu $march -O2 -S -Iruntime -Iruntime/simd -Iruntime/neon \
    -o "$s" runtime/neon/sc_packed_row_neon.c
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
