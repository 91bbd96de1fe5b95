"""Minimal pure-numpy safetensors reader and writer (no third-party packages).

File layout (https://github.com/huggingface/safetensors):
  8 bytes   little-endian uint64 N = length of the JSON header
  N bytes   JSON header {name: {"dtype": "F32", "shape": [...], "data_offsets": [b, e]}}
            (space-padded to a multiple of 8 bytes)
  rest      raw little-endian C-order tensor bytes; offsets are relative to here.
Tensors are packed in sorted-name order, so the output is deterministic.
"""
import json
import struct

import numpy as np

_DTYPES = {
    "F64": np.dtype("<f8"), "F32": np.dtype("<f4"), "F16": np.dtype("<f2"),
    "I64": np.dtype("<i8"), "I32": np.dtype("<i4"), "I16": np.dtype("<i2"),
    "I8": np.dtype("i1"), "U8": np.dtype("u1"), "BOOL": np.dtype("?"),
}
_NAMES = {(v.kind, v.itemsize): k for k, v in _DTYPES.items()}


def _dtype_name(dt):
    dt = np.dtype(dt)
    key = (dt.kind, dt.itemsize)
    if key not in _NAMES:
        raise TypeError("safetensors: unsupported dtype %s" % dt)
    return _NAMES[key]


def save_file(tensors, path):
    """Write a dict {name: numpy array} to `path` as safetensors."""
    header = {}
    blobs = []
    offset = 0
    for name in sorted(tensors):
        a = np.asarray(tensors[name])
        tag = _dtype_name(a.dtype)
        data = np.ascontiguousarray(a, dtype=_DTYPES[tag]).tobytes(order="C")
        header[name] = {"dtype": tag, "shape": [int(d) for d in a.shape],
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    hdr = json.dumps(header, separators=(",", ":"), sort_keys=True).encode("utf-8")
    hdr += b" " * ((8 - len(hdr) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hdr)))
        f.write(hdr)
        for b in blobs:
            f.write(b)


def load_file(path):
    """Read a safetensors file into a dict {name: numpy array} (checks the layout)."""
    with open(path, "rb") as f:
        raw = f.read()
    if len(raw) < 8:
        raise ValueError("%s: too short for safetensors" % path)
    (n,) = struct.unpack("<Q", raw[:8])
    if 8 + n > len(raw):
        raise ValueError("%s: header length %d past end of file" % (path, n))
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    data = raw[8 + n:]
    out = {}
    end_max = 0
    for name, info in header.items():
        if name == "__metadata__":
            continue
        dt = _DTYPES[info["dtype"]]
        shape = tuple(info["shape"])
        b, e = info["data_offsets"]
        count = int(np.prod(shape, dtype=np.int64)) if shape else 1
        if e - b != count * dt.itemsize or e > len(data) or b < 0:
            raise ValueError("%s: tensor %r has bad data_offsets %r" % (path, name, [b, e]))
        out[name] = np.frombuffer(data[b:e], dtype=dt).reshape(shape).copy()
        end_max = max(end_max, e)
    if end_max != len(data):
        raise ValueError("%s: %d trailing bytes after the tensors" % (path, len(data) - end_max))
    return out
