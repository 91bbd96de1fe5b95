"""Writes the small weight files the error tests use (run from the repo root with
/usr/bin/python3 tests/errors/make_weights.py). Deterministic; numpy only."""
import json, os, struct
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))

def safetensors(path, tensors, dtype_override=None, cut=0):
    header, blobs, off = {}, [], 0
    for name in sorted(tensors):
        a = np.ascontiguousarray(tensors[name])
        dt = {np.float32: "F32", np.int64: "I64", np.float64: "F64"}[a.dtype.type]
        if dtype_override and name in dtype_override:
            dt = dtype_override[name]
        b = a.tobytes()
        header[name] = {"dtype": dt, "shape": list(a.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header).encode()
    h += b" " * (-len(h) % 8)
    data = struct.pack("<Q", len(h)) + h + b"".join(blobs)
    with open(os.path.join(HERE, path), "wb") as f:
        f.write(data[: len(data) - cut] if cut else data)

rng = np.random.default_rng(0)
w = {
    "fc.weight": rng.standard_normal((4, 8)).astype(np.float32),
    "fc.bias": rng.standard_normal(4).astype(np.float32),
    "conv.weight": rng.standard_normal((2, 1, 3, 3)).astype(np.float32),
    "emb": rng.standard_normal((5, 8)).astype(np.float32),
}
safetensors("good.safetensors", w)
safetensors("truncated.safetensors", w, cut=40)
safetensors("f64.safetensors", {**w, "fc.weight": w["fc.weight"].astype(np.float64)})
safetensors("bytes.safetensors", w, dtype_override={"fc.bias": "I64"})
np.save(os.path.join(HERE, "x8.npy"), rng.standard_normal((1, 8)).astype(np.float32))
np.save(os.path.join(HERE, "x5.npy"), rng.standard_normal((1, 5)).astype(np.float32))
