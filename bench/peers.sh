#!/bin/sh
# peers.sh — the peers' part of `make bench` (bench/bench.sh runs it; BENCH_PEERS_ONLY=1
# runs just this and the BERT layer's latencies it needs). One thread everywhere; the
# table goes to build/bench/peers.md for the README.
#   1. GEMMs: GOPS on the BERT layer's four weight GEMMs (M = 128; N x K: qkv 2304x768,
#      out 768x768, ffn_up 3072x768, ffn_down 768x3072) of
#        shiftc avx2   bench/gemm_bench.c on runtime/avx2's packed GEMM (-O2 -mavx2 -mfma)
#        oneDNN        bench/dnnl_bench.c: dnnl_matmul s8s8->s32, u8s8->s32 and f32, once per
#                      ONEDNN_MAX_CPU_ISA cap (AVX2, AVX2_VNNI, AVX512_CORE_VNNI), with the ISA
#                      oneDNN reports it used (a cap above what the CPU has gives the same
#                      ISA as a lower one: that run is not repeated)
#        XNNPACK       bench/xnnpack_bench.c: fully-connected qs8 and f32
#      Each binary does one round per call, and the calls take turns, ROUNDS times:
#      medians and min-max over the rounds; times are each process's CPU time.
#   2. The whole layer: ms per inference of shiftc int8 avx2 and shiftc float32 (the
#      binaries bench.sh built in build/bench/bert_layer.*), and ONNX Runtime (npm
#      onnxruntime-node in build/ort) on float and QDQ int8 ONNX graphs of the same layer
#      (bench/bert_onnx.py), taking turns ROUNDS times; ORT's float output is first checked
#      against `shiftc run --float` on one input.
# A peer that is not installed is skipped with a line saying how to install it.
# Usage: bench/peers.sh [SHIFTC] ; ROUNDS, MS and CC as for bench.sh.
# shellcheck disable=SC2086,SC3013 # CFLAGS is a word list; dash's and bash's test have -nt
set -eu
cd "$(dirname "$0")/.."
SHIFTC=${1:-./shiftc}
ROUNDS=${ROUNDS:-9}
MS=${MS:-200}
CC=${CC:-gcc}
OUT=build/bench
P=$OUT/peers
PY=${PYTHON:-/usr/bin/python3}
mkdir -p "$P"
export OMP_NUM_THREADS=1 # oneDNN's Debian build runs on OpenMP

CFLAGS="-std=c99 -O2 -Wall -Wextra -Ibench" # split into words where used
echo
echo "== peers on the BERT layer's weight GEMMs (M=128), one thread, $ROUNDS interleaved rounds of ${MS} ms per series"

# ------------------------------------------------------------------ build what is installed
# RUNNERS: one word per timed binary (and per oneDNN ISA cap), taking turns below.
$CC $CFLAGS -mavx2 -mfma -Iruntime -Iruntime/simd -Iruntime/avx2 -o "$P/gemm_avx2" \
  bench/gemm_bench.c runtime/avx2/sc_packed_gemm_avx2.c
RUNNERS="shiftc-avx2"
# The VNNI sub-targets' GEMMs and this core's ceilings (bench/ceiling_x86.c), built for what
# the CPU has: a VNNI binary on a CPU without the extension would only die of SIGILL.
flags="$(grep -m1 '^flags' /proc/cpuinfo) "
CEIL_FLAGS="-mavx2"
case $flags in
*" avx_vnni "*)
  $CC $CFLAGS -mavx2 -mfma -mavxvnni -Iruntime -Iruntime/simd -Iruntime/avx2 -o "$P/gemm_avx2_vnni" \
    bench/gemm_bench.c runtime/avx2/sc_packed_gemm_vnni.c runtime/avx2/sc_packed_gemm_avx2.c
  RUNNERS="$RUNNERS shiftc-avx2-vnni"
  CEIL_FLAGS="$CEIL_FLAGS -mavxvnni -DCEILING_VNNI_YMM" ;;
*) echo "shiftc avx2-vnni: not timed (this CPU has no AVX-VNNI: no avx_vnni in /proc/cpuinfo)" | tee -a "$P/notes.txt" ;;
esac
case $flags in
*" avx512_vnni "*)
  $CC $CFLAGS -mavx2 -mfma -mavx512f -mavx512bw -mavx512vl -mavx512vnni -Iruntime -Iruntime/simd -Iruntime/avx2 \
    -o "$P/gemm_avx512_vnni" bench/gemm_bench.c runtime/avx2/sc_packed_gemm_vnni.c runtime/avx2/sc_packed_gemm_avx2.c
  RUNNERS="$RUNNERS shiftc-avx512-vnni"
  CEIL_FLAGS="$CEIL_FLAGS -mavx512f -mavx512vnni -DCEILING_VNNI_ZMM" ;;
*) echo "shiftc avx512-vnni: not timed (this CPU has no AVX-512 VNNI: no avx512_vnni in /proc/cpuinfo)" | tee -a "$P/notes.txt" ;;
esac
# shellcheck disable=SC2086
$CC $CFLAGS $CEIL_FLAGS -o "$P/ceiling" bench/ceiling_x86.c

: >"$P/isa.txt"
: >"$P/notes.txt" # lines for peers.md: peers skipped, caps not timed again
if $CC $CFLAGS -o "$P/dnnl_bench" bench/dnnl_bench.c -ldnnl 2>"$P/dnnl_build.log"; then
  seen=""
  for cap in AVX2 AVX2_VNNI AVX512_CORE_VNNI; do
    # ONEDNN_VERBOSE prints the ISA the library settled on when it initializes; the
    # binary's "impl" lines name each primitive's implementation.
    probe=$(ONEDNN_VERBOSE=1 ONEDNN_MAX_CPU_ISA=$cap "$P/dnnl_bench" 1 1 2>&1)
    isa=$(echo "$probe" | sed -n 's/.*info,cpu,isa://p' | head -1)
    impl=$(echo "$probe" | awk '$1 == "impl" { print $4 }' | sort -u | tr '\n' ' ')
    same=""
    for s in $seen; do [ "$(sed -n "s/^$s	//p" "$P/isa.txt")" = "$isa" ] && same=$s && break; done
    if [ -n "$same" ]; then
      echo "oneDNN ONEDNN_MAX_CPU_ISA=$cap: uses $isa (${impl% }), as with $same: not timed again" | tee -a "$P/notes.txt"
      continue
    fi
    printf '%s\t%s\n' "$cap" "$isa" >>"$P/isa.txt"
    echo "oneDNN ONEDNN_MAX_CPU_ISA=$cap: uses $isa (kernels: ${impl% })"
    seen="$seen $cap"
    RUNNERS="$RUNNERS onednn@$cap"
  done
else
  echo "oneDNN: skipped (not installed: apt-get install --no-install-recommends libdnnl-dev)" | tee -a "$P/notes.txt"
fi
if $CC $CFLAGS -o "$P/xnnpack_bench" bench/xnnpack_bench.c -lXNNPACK 2>"$P/xnnpack_build.log"; then
  RUNNERS="$RUNNERS xnnpack"
else
  echo "XNNPACK: skipped (not installed: apt-get install --no-install-recommends libxnnpack-dev libpthreadpool-dev)" | tee -a "$P/notes.txt"
fi

# ------------------------------------------------------------------ GEMM rounds, interleaved
# Every binary prints "<series> <shape> M N K <ms> ms ..." lines; one round per call.
: >"$P/gemm.times"
: >"$P/ceiling.times"
r=0
while [ $r -lt "$ROUNDS" ]; do
  for run in $RUNNERS; do
    case $run in
    shiftc-avx2) "$P/gemm_avx2" "$MS" 1 | sed 's/^/shiftc-avx2 /' ;;
    shiftc-avx2-vnni) "$P/gemm_avx2_vnni" "$MS" 1 | sed 's/^/shiftc-avx2-vnni /' ;;
    shiftc-avx512-vnni) "$P/gemm_avx512_vnni" "$MS" 1 | sed 's/^/shiftc-avx512-vnni /' ;;
    onednn@*) cap=${run#onednn@}
      ONEDNN_MAX_CPU_ISA=$cap "$P/dnnl_bench" "$MS" 1 | grep -v '^impl ' | sed "s/^\(onednn-[a-z0-9]*\) /\1@$cap /" ;;
    xnnpack) "$P/xnnpack_bench" "$MS" 1 ;;
    esac
  done | awk '$2 != "all" { print $1, $2, $6 }' >>"$P/gemm.times"
  "$P/ceiling" "$MS" 1 >>"$P/ceiling.times" # the same round's load on the same core
  r=$((r + 1))
done

# Medians per series and shape; "all" sums the four medians (as gemm_bench.c does).
GEMM_MD=$P/gemm.md
# XNNPACK picks its kernels by cpuinfo and does not say which; name the widest the CPU has.
case $flags in
*avx512_vnni*) top="AVX-512 VNNI" ;; *avx512f*) top="AVX-512" ;; *avx_vnni*) top="AVX-VNNI" ;; *avx2*) top="AVX2" ;; *) top="below AVX2" ;;
esac
awk -v isafile="$P/isa.txt" -v out="$GEMM_MD" -v xnn_isa="its pick; this CPU tops at $top" '
  BEGIN {
    while ((getline l < isafile) > 0) { split(l, f, "\t"); isa[f[1]] = f[2] }
    n["qkv"] = 2304; k["qkv"] = 768; n["out"] = 768; k["out"] = 768
    n["ffn_up"] = 3072; k["ffn_up"] = 768; n["ffn_down"] = 768; k["ffn_down"] = 3072
    split("qkv out ffn_up ffn_down", shape, " ")
  }
  !(($1) in order) { order[$1] = ++ns; name[ns] = $1 }
  { c = ++cnt[$1, $2]; v[$1, $2, c] = $3 }
  function median(s, sh,   i, j, t, m) {
    m = cnt[s, sh]
    for (i = 1; i <= m; i++) a[i] = v[s, sh, i]
    for (i = 2; i <= m; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
    lo = a[1]; hi = a[m]
    return m % 2 ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2
  }
  function label(s,   b, cap) {
    b = s; cap = ""
    if (index(s, "@")) { b = substr(s, 1, index(s, "@") - 1); cap = substr(s, index(s, "@") + 1) }
    if (b == "shiftc-avx2") return "shiftc avx2 (int8, exact)"
    if (b == "shiftc-avx2-vnni") return "shiftc avx2-vnni (int8, exact)"
    if (b == "shiftc-avx512-vnni") return "shiftc avx512-vnni (int8, exact)"
    if (b == "onednn-s8s8") return "oneDNN s8s8->s32, cap " cap
    if (b == "onednn-u8s8") return "oneDNN u8s8->s32, cap " cap
    if (b == "onednn-f32") return "oneDNN f32, cap " cap
    if (b == "xnnpack-qs8") return "XNNPACK qs8"
    if (b == "xnnpack-f32") return "XNNPACK f32"
    return s
  }
  function isa_of(s) {
    if (s == "shiftc-avx2") return "AVX2"
    if (s == "shiftc-avx2-vnni") return "AVX-VNNI"
    if (s == "shiftc-avx512-vnni") return "AVX-512 VNNI"
    if (index(s, "@")) return isa[substr(s, index(s, "@") + 1)]
    return xnn_isa
  }
  END {
    for (i = 1; i <= ns; i++) {
      s = name[i]; tot = 0; ops = 0
      for (j = 1; j <= 4; j++) {
        sh = shape[j]; o = 2 * 128 * n[sh] * k[sh]; m = median(s, sh)
        gops[s, sh] = o / (m * 1e-3) * 1e-9; spread[s, sh] = sprintf("%.0f-%.0f", o / (hi * 1e-3) * 1e-9, o / (lo * 1e-3) * 1e-9)
        tot += m; ops += o
      }
      all[s] = ops / (tot * 1e-3) * 1e-9; ms[s] = tot
    }
    printf "%-40s %9s %9s %9s %9s %9s %8s  %s\n", "GOPS (median; min-max)", "qkv", "out", "ffn_up", "ffn_down", "all", "shiftc/it", "ISA"
    print "| GEMM, GOPS | qkv 2304x768 | out 768x768 | ffn_up 3072x768 | ffn_down 768x3072 | all four | all four, ms | shiftc avx2 vs it | ISA used |" >out
    print "|---|---|---|---|---|---|---|---|---|" >out
    for (i = 1; i <= ns; i++) {
      s = name[i]; r = all["shiftc-avx2"] / all[s]
      printf "%-40s %9.1f %9.1f %9.1f %9.1f %9.1f %7.2fx  %s\n", label(s), gops[s, "qkv"], gops[s, "out"], gops[s, "ffn_up"],
        gops[s, "ffn_down"], all[s], r, isa_of(s)
      printf "%-40s %9s %9s %9s %9s\n", "", spread[s, "qkv"], spread[s, "out"], spread[s, "ffn_up"], spread[s, "ffn_down"]
      printf "| %s | %.1f (%s) | %.1f (%s) | %.1f (%s) | %.1f (%s) | %.1f | %.2f | %.2fx | %s |\n", label(s),
        gops[s, "qkv"], spread[s, "qkv"], gops[s, "out"], spread[s, "out"], gops[s, "ffn_up"], spread[s, "ffn_up"],
        gops[s, "ffn_down"], spread[s, "ffn_down"], all[s], ms[s], r, isa_of(s) >out
    }
  }' "$P/gemm.times"

# This core's ceilings, from the same rounds: what each exact multiply-accumulate pattern
# reaches with everything in registers (bench/ceiling_x86.c), and each shiftc GEMM's share
# of the ceiling of the pattern it runs.
CEIL_MD=$P/ceiling.md
awk -v out="$CEIL_MD" '
  FNR == 1 { f++ }
  f == 1 { c = ++cn[$1]; cv[$1, c] = $2; if (!($1 in co)) { co[$1] = ++np; pn[np] = $1 } next }
  f == 2 && $1 ~ /^shiftc-/ { c = ++gn[$1, $2]; gv[$1, $2, c] = $3; if (!($1 in so)) { so[$1] = ++ns; sn[ns] = $1 } }
  function med(arr, key, m,   i, j, t) {
    for (i = 1; i <= m; i++) a[i] = arr[key, i]
    for (i = 2; i <= m; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
    return m % 2 ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2
  }
  function what(p) {
    if (p == "madd") return "vpmaddwd alone (the multiplier, int16 pairs)"
    if (p == "madd+add") return "vpmaddwd + vpaddd (exact int16 step: avx2)"
    if (p == "ubs+madd+add") return "vpmaddubsw + vpmaddwd + vpaddd (u8 x s8: exact only for a >= 0)"
    if (p == "sign+ubs+madd+add") return "vpsignb + the same (exact for signed a)"
    if (p == "dpbusd-ymm") return "vpdpbusd ymm (avx2-vnni)"
    if (p == "dpbusd-zmm") return "vpdpbusd zmm (avx512-vnni)"
    return p
  }
  function limit_of(s) { return s == "shiftc-avx2" ? "madd+add" : s == "shiftc-avx2-vnni" ? "dpbusd-ymm" : "dpbusd-zmm" }
  END {
    split("qkv out ffn_up ffn_down", shape, " ")
    n["qkv"] = 2304; k["qkv"] = 768; n["out"] = 768; k["out"] = 768
    n["ffn_up"] = 3072; k["ffn_up"] = 768; n["ffn_down"] = 768; k["ffn_down"] = 3072
    print "| pattern, all in registers | GOPS (median) |" >out
    print "|---|---|" >out
    printf "%-66s %s\n", "this core, int8 ceiling per pattern (registers only)", "GOPS"
    for (i = 1; i <= np; i++) {
      p = pn[i]; g[p] = med(cv, p, cn[p])
      printf "  %-64s %6.1f\n", what(p), g[p]
      printf "| %s | %.1f |\n", what(p), g[p] >out
    }
    for (i = 1; i <= ns; i++) {
      s = sn[i]; tot = 0; ops = 0
      for (j = 1; j <= 4; j++) { sh = shape[j]; tot += med(gv, s SUBSEP sh, gn[s, sh]); ops += 2 * 128 * n[sh] * k[sh] }
      all = ops / (tot * 1e-3) * 1e-9; L = limit_of(s)
      if (!(L in g)) continue
      printf "  %s, all four GEMMs: %.1f GOPS = %.0f%% of its pattern'"'"'s ceiling (%s, %.1f)\n", s, all, 100 * all / g[L], L, g[L]
      printf "\n%s, the four GEMMs: %.1f GOPS, %.0f%% of the %s ceiling (%.1f GOPS).\n", s, all, 100 * all / g[L], L, g[L] >out
    }
  }' "$P/ceiling.times" "$P/gemm.times"

# ------------------------------------------------------------------ the whole layer
LAYER_MD=$P/layer.md
: >"$LAYER_MD"
echo
echo "== the BERT-base layer, ms per inference, one thread, $ROUNDS interleaved rounds of ${MS} ms (median, min-max)"
LRUN="shiftc-int8-avx2:$OUT/bert_layer.avx2/bench shiftc-float32:$OUT/bert_layer.float32/bench"
missing=""
[ -x "$OUT/bert_layer.avx2/bench" ] && [ -x "$OUT/bert_layer.float32/bench" ] ||
  missing="shiftc's layer builds (run bench.sh with bert_layer in MODELS)"
ORT_OK=1
if ! command -v node >/dev/null || [ ! -d build/ort/node_modules/onnxruntime-node ]; then
  echo "ONNX Runtime: skipped (not installed: sh tools/ort-install.sh, which needs nodejs and npm)" | tee -a "$P/notes.txt"
  ORT_OK=0
elif ! "$PY" -c 'import numpy, onnx' 2>/dev/null; then
  echo "ONNX Runtime: skipped (making its graphs needs $PY with numpy and onnx: apt-get install python3-numpy python3-onnx)" |
    tee -a "$P/notes.txt"
  ORT_OK=0
fi
if [ -n "$missing" ]; then
  echo "layer: skipped (missing $missing)" | tee -a "$P/notes.txt"
else
  if [ $ORT_OK = 1 ]; then
    O=$P/ort
    if [ ! -f "$O/bert_layer_qdq.onnx" ] || [ build/bert/bert_layer.safetensors -nt "$O/bert_layer_qdq.onnx" ] ||
      [ bench/bert_onnx.py -nt "$O/bert_layer_qdq.onnx" ]; then
      "$PY" bench/bert_onnx.py build/bert "$O"
    fi
    "$SHIFTC" run build/bert/bert_layer.nn --float --input "$O/x.npy" -o "$O/y_shiftc.npy" >/dev/null
    echo "ORT float vs shiftc run --float on one input: $(node bench/ort_bench.js check "$O/bert_layer_f32.onnx" "$O/x.npy" "$O/y_shiftc.npy" 2>/dev/null)" |
      tee "$P/ort_check.txt"
    echo "ORT int8 (QDQ) vs shiftc run --float: $(node bench/ort_bench.js check "$O/bert_layer_qdq.onnx" "$O/x.npy" "$O/y_shiftc.npy" 2>/dev/null)" |
      tee -a "$P/ort_check.txt"
    LRUN="$LRUN ort-int8-qdq:ort:$O/bert_layer_qdq.onnx ort-float32:ort:$O/bert_layer_f32.onnx"
  fi
  : >"$P/layer.times"
  r=0
  while [ $r -lt "$ROUNDS" ]; do
    for run in $LRUN; do
      name=${run%%:*}; what=${run#*:}
      case $what in
      ort:*) ns=$(node bench/ort_bench.js time "${what#ort:}" "$O/x.npy" "$MS" 2>/dev/null | cut -d' ' -f1) ;;
      *) ns=$("$what" "$MS" | cut -d' ' -f1) ;;
      esac
      if [ -n "$ns" ]; then echo "$name $ns" >>"$P/layer.times"; else echo "$name: failed in round $((r + 1))"; fi
    done
    r=$((r + 1))
  done
  awk -v out="$LAYER_MD" '
    !($1 in order) { order[$1] = ++ns; name[ns] = $1 }
    { v[$1, ++cnt[$1]] = $2 }
    END {
      for (i = 1; i <= ns; i++) {
        s = name[i]; m = cnt[s]
        for (j = 1; j <= m; j++) a[j] = v[s, j]
        for (j = 2; j <= m; j++) { t = a[j]; for (q = j - 1; q >= 1 && a[q] > t; q--) a[q + 1] = a[q]; a[q + 1] = t }
        med[s] = (m % 2 ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2) / 1e6; lo[s] = a[1] / 1e6; hi[s] = a[m] / 1e6
      }
      print "| BERT-base layer (seq 128), one thread | ms per inference | min-max | shiftc int8 avx2 vs it |" >out
      print "|---|---|---|---|" >out
      label["shiftc-int8-avx2"] = "shiftc int8 avx2 (-O2 -mavx2 -mfma)"
      label["shiftc-float32"] = "shiftc float32 C (gcc -O3 -march=haswell)"
      label["ort-int8-qdq"] = "ONNX Runtime int8 (QDQ graph)"
      label["ort-float32"] = "ONNX Runtime float32"
      for (i = 1; i <= ns; i++) {
        s = name[i]; r = med["shiftc-int8-avx2"] > 0 ? med[s] / med["shiftc-int8-avx2"] : 0
        printf "%-42s %9.2f ms (%.2f-%.2f)", label[s], med[s], lo[s], hi[s]
        if (s == "shiftc-int8-avx2") printf "\n"
        else printf "  shiftc int8 avx2 is %.2fx %s\n", (r > 1 ? r : 1 / r), (r >= 1 ? "faster" : "slower")
        printf "| %s | %.2f | %.2f-%.2f | %.2fx |\n", label[s], med[s], lo[s], hi[s], r >out
      }
    }' "$P/layer.times"
fi

# ------------------------------------------------------------------ build/bench/peers.md
{
  echo "## shiftc and its peers, one thread, same run"
  echo
  cat "$GEMM_MD"
  echo
  echo "This core's ceilings in the same rounds (bench/ceiling_x86.c: 12 independent accumulators, no memory):"
  echo
  cat "$CEIL_MD"
  echo
  [ -s "$LAYER_MD" ] && cat "$LAYER_MD" && echo
  [ -f "$P/ort_check.txt" ] && [ "$ORT_OK" = 1 ] && [ -z "$missing" ] && sed 's/^/- /' "$P/ort_check.txt" && echo
  [ -s "$P/notes.txt" ] && sed 's/^/- /' "$P/notes.txt" && echo
  echo "Medians of $ROUNDS interleaved rounds (min-max beside them), one thread, $(grep -m1 "model name" /proc/cpuinfo | cut -d: -f2 | sed 's/^ //');"
  echo "CPU flags with avx: $(grep -m1 '^flags' /proc/cpuinfo | tr ' ' '\n' | grep -i 'avx' | tr '\n' ' ' | sed 's/ $//')."
  ver() { dpkg-query -W -f '${Version}' "$1" 2>/dev/null || echo "not installed"; }
  ortv=$(sed -n 's/^ *"version": *"\(.*\)",*$/\1/p' build/ort/node_modules/onnxruntime-node/package.json 2>/dev/null | head -1)
  echo "Versions: oneDNN $(ver libdnnl-dev), XNNPACK $(ver libxnnpack-dev), ONNX Runtime ${ortv:-not installed} (npm onnxruntime-node), $CC $($CC -dumpversion)."
  echo "GEMM and layer times are each process's CPU time (the machine may be shared); \"vs it\" is the peer's time over shiftc's (above 1: shiftc is faster)."
  echo "oneDNN int8 writes s32 (no requantization); XNNPACK qs8 and shiftc requantize to int8. oneDNN u8s8 needs"
  echo "non-negative (or 128-shifted) activations; on AVX2 it multiplies with vpmaddubsw, whose int16 sums can saturate."
} >"$OUT/peers.md.tmp"
mv "$OUT/peers.md.tmp" "$OUT/peers.md"
echo "(table: $OUT/peers.md)"
