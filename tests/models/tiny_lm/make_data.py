#!/usr/bin/python3
"""tiny_lm's random weights and data (numpy only, seed 0; run from this folder):
   tiny_lm.safetensors  tok_embed [50,16], pos_embed [8,16], ln.{weight,bias} [16],
                        head.{weight,bias} [50,16], [50]
   calib.safetensors    ids [64,8]: token ids stored as float32, as a float dataset
                        holds them (the compiler rounds them to int32)
   test.safetensors     ids [64,8] and labels [64]: the float model's top-1 over its
                        flattened [8,50] logits, so `eval` measures integer/float agreement
   bad_ids.npy          one sample [1,8] with ids outside the table (and NaN)
"""
import json
import struct

import numpy as np

V, D, T = 50, 16, 8


def save(path, tensors):
    header, blobs, off = {}, [], 0
    for name, a in tensors.items():
        a = np.ascontiguousarray(a)
        dt = {np.float32: "F32", np.int64: "I64"}[a.dtype.type]
        b = a.tobytes()
        header[name] = {"dtype": dt, "shape": list(a.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header, sort_keys=True).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def forward(w, ids):
    x = w["tok_embed"][ids] + w["pos_embed"]
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    h = (x - mu) / np.sqrt(var + 1e-5) * w["ln.weight"] + w["ln.bias"]
    return h @ w["head.weight"].T + w["head.bias"]


rng = np.random.default_rng(0)
w = {
    "tok_embed": rng.normal(0, 1, (V, D)).astype(np.float32),
    "pos_embed": rng.normal(0, 0.3, (T, D)).astype(np.float32),
    "ln.weight": rng.uniform(0.5, 1.5, D).astype(np.float32),
    "ln.bias": rng.normal(0, 0.1, D).astype(np.float32),
    "head.weight": rng.normal(0, 1 / np.sqrt(D), (V, D)).astype(np.float32),
    "head.bias": rng.normal(0, 0.1, V).astype(np.float32),
}
save("tiny_lm.safetensors", w)
calib = rng.integers(0, V, (64, T))
save("calib.safetensors", {"ids": calib.astype(np.float32)})
test = rng.integers(0, V, (64, T))
labels = np.array([np.argmax(forward(w, t)) for t in test], dtype=np.int64)
save("test.safetensors", {"ids": test.astype(np.float32), "labels": labels})
# Ids no table row has (-1, V, NaN, 1e12), with valid ones: `run --int` must give the
# zero row for those and not crash (tests/cli/test_sqnr.c).
np.save("bad_ids.npy", np.array([[3, -1, V, np.nan, 1e12, 0, V - 1, 7]], dtype=np.float32))
