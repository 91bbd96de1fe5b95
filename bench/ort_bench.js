// ort_bench.js — ONNX Runtime (npm onnxruntime-node, installed into build/ort by
// tools/ort-install.sh) on one ONNX graph of the BERT layer (bench/bert_onnx.py), one thread:
// intraOpNumThreads 1, interOpNumThreads 1, sequential execution, all graph optimizations.
//
//   node ort_bench.js time MODEL.onnx X.npy MS
//       runs the graph on X in a loop lasting at least MS milliseconds (after one warm-up
//       run) and prints "<ns> ns/run (<runs> runs)", like bench/bench_run.c does for
//       shiftc's builds; both count the process's CPU time (ORT's one intra-op thread
//       included), so other processes on a shared machine do not count
//   node ort_bench.js check MODEL.onnx X.npy REF.npy
//       runs the graph once on X and prints the largest absolute difference from REF
//       (shiftc run --float's output) and the largest |REF|
//
// Bench only: never part of `make test`, never a dependency of shiftc. The module is
// looked up in build/ort (ORT_DIR overrides).
'use strict';
const fs = require('fs');
const path = require('path');
const ort = require(path.resolve(process.env.ORT_DIR || 'build/ort', 'node_modules', 'onnxruntime-node'));

// A little-endian float32 C-order .npy (what numpy and shiftc write): shape and data.
function readNpy(file) {
  const b = fs.readFileSync(file);
  if (b.toString('latin1', 1, 6) !== 'NUMPY') throw new Error(file + ': not a .npy file');
  const major = b[6];
  const hlen = major === 1 ? b.readUInt16LE(8) : b.readUInt32LE(8);
  const start = (major === 1 ? 10 : 12) + hlen;
  const header = b.toString('latin1', major === 1 ? 10 : 12, start);
  if (!/'descr':\s*'<f4'/.test(header) || /'fortran_order':\s*True/.test(header))
    throw new Error(file + ': expected little-endian float32 in C order');
  const shape = header.match(/'shape':\s*\(([^)]*)\)/)[1].split(',').filter((s) => s.trim()).map(Number);
  const data = new Float32Array(b.buffer.slice(b.byteOffset + start, b.byteOffset + b.length));
  return { shape, data };
}

async function main() {
  const [mode, model, xFile, arg] = process.argv.slice(2);
  if (!['time', 'check'].includes(mode) || !arg) {
    console.error('usage: ort_bench.js time MODEL X.npy MS | check MODEL X.npy REF.npy');
    process.exit(2);
  }
  const session = await ort.InferenceSession.create(model, {
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
  const x = readNpy(xFile);
  const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', x.data, x.shape) };
  const first = await session.run(feeds);
  if (mode === 'check') {
    const y = first[session.outputNames[0]].data, ref = readNpy(arg).data;
    if (y.length !== ref.length) throw new Error('output has ' + y.length + ' values, reference ' + ref.length);
    let diff = 0, big = 0;
    for (let i = 0; i < y.length; i++) {
      diff = Math.max(diff, Math.abs(y[i] - ref[i]));
      big = Math.max(big, Math.abs(ref[i]));
    }
    console.log('max abs diff ' + diff.toExponential(3) + ' (max |ref| ' + big.toFixed(3) + ', relative ' +
      (diff / big).toExponential(3) + ')');
    return;
  }
  const ms = Number(arg);
  const cpuNs = () => {
    const u = process.cpuUsage(); // microseconds, user + system, all threads of the process
    return (u.user + u.system) * 1e3;
  };
  let runs = 0, batch = 1;
  const start = cpuNs();
  let t = start;
  while (t - start < ms * 1e6) {
    for (let i = 0; i < batch; i++, runs++) await session.run(feeds);
    batch *= 2;
    t = cpuNs();
  }
  console.log(((t - start) / runs).toFixed(1) + ' ns/run (' + runs + ' runs)');
}

main().catch((e) => {
  console.error('ort_bench: ' + (e && e.message ? e.message : e));
  process.exit(1);
});
