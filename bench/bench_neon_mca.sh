#!/bin/sh
# bench_neon_mca.sh — the NEON part of `make bench`, runnable alone (`make bench-neon`,
# a few seconds: no ARM machine needed): llvm-mca's cycles per multiply-accumulate of the
# packed GEMM's main micro-kernel (runtime/neon/sc_packed_gemm_neon.c, compiled by clang
# -O2 for AArch64 as the generated code builds it, no -mcpu tuning), for
#   neon          -march=armv8-a             4 rows x 4 channels, smull/smlal2/sadalp
#   neon-dotprod  -march=armv8.2-a+dotprod   8 rows x 8 channels, sdot by element
# on the scheduling models of Cortex-A55 (in-order), Cortex-A72 and Cortex-A76.
# The loop measured is the single-block loop (a label, straight-line code, the branch
# back to it) with the most multiply-accumulates; they are counted from its
# instructions: sdot on .4s = 16, smull/smlal(2) on .8h = 8. The table goes to
# build/bench/neon_mca.md (beside results.md). Cortex-A72 has no dot product (ARMv8.0),
# so neon-dotprod is not measured there. LLVM 14 (and 16) give Cortex-A76 the Cortex-A57
# scheduling model, as Cortex-A72; Cortex-A55 has its own (in-order) model.
set -eu
cd "$(dirname "$0")/.."
OUT=build/bench
mkdir -p "$OUT"
RES="$OUT/neon_mca.md"
CPUS="cortex-a55 cortex-a72 cortex-a76"

echo "== NEON: llvm-mca cycles per multiply-accumulate, packed GEMM main loop"
MCA=$(command -v llvm-mca || command -v llvm-mca-14 || true)
if [ -z "$MCA" ] || ! command -v clang >/dev/null; then
  echo "skipped: needs clang and llvm-mca (Debian packages clang, llvm)"
  exit 0
fi
{
  echo "| variant | tile | MACs per loop | cortex-a55 | cortex-a72 | cortex-a76 |"
  echo "|---|---|---|---|---|---|"
} >"$RES.tmp"
for variant in "neon:-march=armv8-a:+neon:4x4" "neon-dotprod:-march=armv8.2-a+dotprod:+neon,+dotprod:8x8"; do
  name=${variant%%:*}; rest=${variant#*:}; march=${rest%%:*}; rest=${rest#*:}; mattr=${rest%%:*}; tile=${rest#*:}
  s="$OUT/packed_gemm_$name.s"
  clang --target=aarch64-linux-gnu $march -O2 -S -Iruntime -Iruntime/simd -Iruntime/neon \
    -o "$s" runtime/neon/sc_packed_gemm_neon.c
  awk '
    /^\.LBB[0-9_]+:/ { lab = substr($1, 1, length($1) - 1); start[lab] = NR; last = NR }
    /^[ \t]+(bl|blr|ret)([ \t]|$)/ { last = NR } # a call ends a straight-line run too
    { line[NR] = $0 }
    /^[ \t]+b\.|^[ \t]+cbn?z|^[ \t]+tbn?z|^[ \t]+b[ \t]/ {
      tgt = $NF
      # a loop of one block: its label is the last label (or call) before the branch
      if ((tgt in start) && start[tgt] == last) {
        macs = 0
        for (i = start[tgt] + 1; i <= NR; i++) {
          if (line[i] ~ /[ \t]sdot[ \t].*\.4s/) macs += 16
          else if (line[i] ~ /[ \t](smull2?|smlal2?)[ \t].*\.8h/) macs += 8
        }
        if (macs > best) { best = macs; from = start[tgt] + 1; to = NR }
      }
      last = NR
    }
    END { for (i = from; i <= to; i++) if (line[i] !~ /^[ \t]*\/\//) print line[i]; print "// MACS " best }
  ' "$s" >"$s.loop"
  macs=$(sed -n 's|^// MACS ||p' "$s.loop")
  row="| $name | ${tile} | $macs |"
  for cpu in $CPUS; do
    if [ "$name" = neon-dotprod ] && [ "$cpu" = cortex-a72 ]; then
      printf "%-13s %-11s  (no dot product on this core)\n" "$name" "$cpu"
      row="$row n/a |"
      continue
    fi
    # cycles per iteration, and the model's bound from the busiest execution resource
    set -- $("$MCA" -mtriple=aarch64 -mcpu=$cpu -mattr=$mattr -iterations=200 "$s.loop" 2>/dev/null |
      awk '/^Total Cycles:/ { c = $3 } /^Iterations:/ { it = $2 } /^Block RThroughput:/ { b = $3 }
           END { if (it) printf "%.3f %.3f", c / it, b }')
    cyc=$1 bound=$2
    per=$(awk -v c="$cyc" -v m="$macs" 'BEGIN { printf "%.3f", c / m }')
    lim=$(awk -v c="$bound" -v m="$macs" 'BEGIN { printf "%.3f", c / m }')
    printf "%-13s %-11s %s tile, %7.2f cycles/iteration, %4d MACs/iteration: %s cycles per MAC (resource bound %s)\n" \
      "$name" "$cpu" "$tile" "$cyc" "$macs" "$per" "$lim"
    row="$row $per (bound $lim) |"
  done
  echo "$row" >>"$RES.tmp"
done
{
  echo
  echo "llvm-mca $("$MCA" --version | sed -n 's/.*LLVM version //p' | head -1) cycles per multiply-accumulate of the packed"
  echo "GEMM's main loop (clang -O2, generic -march), steady state over 200 iterations; the bound is the"
  echo "model's busiest execution resource per iteration (Block RThroughput). LLVM 14 (and 16) schedule"
  echo "Cortex-A76 with the Cortex-A57 model, as Cortex-A72: the same code gets the same figures on both."
} >>"$RES.tmp"
mv "$RES.tmp" "$RES"
echo "(table: $RES)"
