// run_ort.js — ONNX Runtime as the reference for tests/cli/test_onnx_ort.c (tests only;
// shiftc never depends on it).
//
//   node tests/ort/run_ort.js MODEL.onnx OUT.npy [NAME=]X.npy ...
//
// Each X.npy is float32 [N, ...]; its N samples are fed one at a time as [1, ...] (the way
// `shiftc run` treats the leading dimension), on one thread, and the model's first output
// for every sample is written, concatenated, to OUT.npy (float32 [N, ...]).
// onnxruntime-node is loaded from $SHIFTC_ORT (default build/ort/node_modules), where
// .ci/run installs it with `npm install --ignore-scripts onnxruntime-node@1.30.0`.
'use strict';
const fs = require('fs');
const path = require('path');

function die(msg) {
  process.stderr.write('run_ort: ' + msg + '\n');
  process.exit(1);
}

// .npy version 1/2/3, little-endian float32, C order.
function readNpy(file) {
  const b = fs.readFileSync(file);
  if (b.length < 10 || b.toString('latin1', 1, 6) !== 'NUMPY') die(file + ': not a .npy file');
  const major = b[6];
  const hlen = major === 1 ? b.readUInt16LE(8) : b.readUInt32LE(8);
  const start = major === 1 ? 10 : 12;
  const header = b.toString('latin1', start, start + hlen);
  if (!/'descr':\s*'<f4'/.test(header)) die(file + ': only float32 (<f4) inputs are supported');
  if (/'fortran_order':\s*True/.test(header)) die(file + ': Fortran order is not supported');
  const m = /'shape':\s*\(([^)]*)\)/.exec(header);
  if (!m) die(file + ': no shape in header');
  const shape = m[1].split(',').map((s) => s.trim()).filter((s) => s.length).map(Number);
  const count = shape.reduce((a, d) => a * d, 1);
  const off = start + hlen;
  if (b.length < off + 4 * count) die(file + ': truncated');
  const data = new Float32Array(count);
  for (let i = 0; i < count; i++) data[i] = b.readFloatLE(off + 4 * i);
  return { shape, data };
}

function writeNpy(file, shape, data) {
  const dims = shape.length === 1 ? shape[0] + ',' : shape.join(', ');
  let header = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + dims + '), }';
  const pad = 64 - ((10 + header.length + 1) % 64);
  header += ' '.repeat(pad % 64) + '\n';
  const head = Buffer.alloc(10);
  head.write('\x93NUMPY', 0, 'latin1');
  head[6] = 1;
  head[7] = 0;
  head.writeUInt16LE(header.length, 8);
  const body = Buffer.alloc(4 * data.length);
  for (let i = 0; i < data.length; i++) body.writeFloatLE(data[i], 4 * i);
  fs.writeFileSync(file, Buffer.concat([head, Buffer.from(header, 'latin1'), body]));
}

async function main() {
  const args = process.argv.slice(2);
  if (args.length < 3) die('usage: run_ort.js MODEL.onnx OUT.npy [NAME=]X.npy ...');
  const dir = process.env.SHIFTC_ORT || path.join('build', 'ort', 'node_modules');
  let ort;
  try {
    ort = require(path.resolve(dir, 'onnxruntime-node'));
  } catch (e) {
    die('cannot load onnxruntime-node from ' + dir + ' (' + e.message + '); install it with: ' +
        'mkdir -p build/ort && cd build/ort && npm install --ignore-scripts onnxruntime-node@1.30.0');
  }
  const session = await ort.InferenceSession.create(args[0], {
    intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential',
  });
  const inputs = args.slice(2).map((a, i) => {
    const eq = a.indexOf('=');
    const name = eq > 0 ? a.slice(0, eq) : session.inputNames[i];
    return { name, npy: readNpy(eq > 0 ? a.slice(eq + 1) : a) };
  });
  const n = inputs[0].npy.shape[0];
  for (const inp of inputs) if (inp.npy.shape[0] !== n) die('inputs disagree on the sample count');
  let outShape = null;
  const parts = [];
  for (let s = 0; s < n; s++) {
    const feeds = {};
    for (const { name, npy } of inputs) {
      const per = npy.data.length / n;
      feeds[name] = new ort.Tensor('float32', npy.data.slice(s * per, (s + 1) * per), [1, ...npy.shape.slice(1)]);
    }
    const res = await session.run(feeds);
    const out = res[session.outputNames[0]];
    if (out.type !== 'float32') die('output is ' + out.type + ', not float32');
    outShape = out.dims.slice(1);
    parts.push(out.data);
  }
  const all = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) all.set(p, o), (o += p.length);
  writeNpy(args[1], [n, ...outShape], all);
}

main().catch((e) => die(e.message || String(e)));
