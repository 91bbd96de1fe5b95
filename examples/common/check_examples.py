#!/usr/bin/python3
"""Double-check the trained examples with numpy only (no torch).

For each example folder: read every .safetensors with safetensors_np.load_file, check dtypes
and shapes, check that the .nn names exactly the tensors of the weights file, run the .nn
graph with a small numpy interpreter (linear, conv2d, batchnorm, relu, maxpool2d, flatten)
on test.safetensors and compare with float_accuracy.txt.

    /usr/bin/python3 examples/common/check_examples.py [examples/digits_mlp ...]
"""
import os
import sys
sys.dont_write_bytecode = True  # keep examples/ free of __pycache__
import re

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from safetensors_np import load_file  # noqa: E402

EXAMPLES = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def conv2d(x, w, b, stride=1, pad=0):
    n, c, h, wd = x.shape
    o, ci, kh, kw = w.shape
    assert ci == c, (w.shape, x.shape)
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    oh = (h + 2 * pad - kh) // stride + 1
    ow = (wd + 2 * pad - kw) // stride + 1
    y = np.zeros((n, o, oh, ow), dtype=np.float64)
    for i in range(kh):
        for j in range(kw):
            patch = xp[:, :, i:i + stride * oh:stride, j:j + stride * ow:stride]   # n,c,oh,ow
            y += np.einsum("nchw,oc->nohw", patch, w[:, :, i, j])
    if b is not None:
        y += b[None, :, None, None]
    return y


def maxpool2d(x, kernel, stride=None):
    stride = stride or kernel
    n, c, h, w = x.shape
    oh = (h - kernel) // stride + 1
    ow = (w - kernel) // stride + 1
    y = np.full((n, c, oh, ow), -np.inf)
    for i in range(kernel):
        for j in range(kernel):
            y = np.maximum(y, x[:, :, i:i + stride * oh:stride, j:j + stride * ow:stride])
    return y


def run_nn(nn_path, weights_dir, x):
    """Interpret the straight-line subset of the .nn language used by the examples."""
    text = open(nn_path).read()
    env, used = {}, set()
    weights = None
    inputs, output = None, None
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line or line.startswith("model "):
            continue
        if line.startswith("weights "):
            weights = load_file(os.path.join(weights_dir, line.split('"')[1]))
            continue
        m = re.match(r"input\s+(\w+)\s*:\s*f32\[([\d,\s]+)\]$", line)
        if m:
            inputs = (m.group(1), [int(v) for v in m.group(2).split(",")])
            env[m.group(1)] = x.astype(np.float64)
            continue
        m = re.match(r"output\s+(\w+)$", line)
        if m:
            output = m.group(1)
            continue
        m = re.match(r"([A-Za-z_][\w.]*)\s*=\s*(\w+)\((.*)\)$", line)
        assert m, "cannot parse: %r" % line
        dst, op, args = m.groups()
        pos, kw = [], {}
        for a in [s.strip() for s in args.split(",")]:
            if "=" in a:
                k, v = [s.strip() for s in a.split("=")]
                kw[k] = v
            else:
                pos.append(a)

        def t(name):
            if name in env:
                return env[name]
            used.add(name)
            return weights[name].astype(np.float64)

        def opt(k):
            return t(kw[k]) if k in kw else None
        a0 = env[pos[0]]
        if op == "linear":
            y = a0 @ t(kw["weight"]).T
            if "bias" in kw:
                y = y + t(kw["bias"])
        elif op == "conv2d":
            y = conv2d(a0, t(kw["weight"]), opt("bias"), int(kw.get("stride", 1)), int(kw.get("pad", 0)))
        elif op == "batchnorm":
            sh = (1, -1, 1, 1)
            scale = t(kw["gamma"]) / np.sqrt(t(kw["var"]) + float(kw["eps"]))
            y = (a0 - t(kw["mean"]).reshape(sh)) * scale.reshape(sh) + t(kw["beta"]).reshape(sh)
        elif op == "relu":
            y = np.maximum(a0, 0)
        elif op == "maxpool2d":
            y = maxpool2d(a0, int(kw["kernel"]), int(kw.get("stride", kw["kernel"])))
        elif op == "flatten":
            y = a0.reshape(a0.shape[0], -1)
        else:
            raise NotImplementedError(op)
        env[dst] = y
    unused = set(weights) - used
    assert not unused, "weights never used by the .nn: %s" % sorted(unused)
    return inputs, env[output]


def check(folder):
    name = os.path.basename(os.path.normpath(folder))
    j = lambda f: os.path.join(folder, f)  # noqa: E731
    w = load_file(j(name + ".safetensors"))
    test = load_file(j("test.safetensors"))
    calib = load_file(j("calib.safetensors"))
    for k, v in w.items():
        assert v.dtype == np.float32, (k, v.dtype)
        assert "num_batches_tracked" not in k, k
        assert np.all(np.isfinite(v)), k
        if k.endswith("running_var"):
            assert not np.allclose(v, 1.0), "%s still at its initial value" % k
        if k.endswith("running_mean"):
            assert not np.allclose(v, 0.0), "%s still at its initial value" % k
    assert sorted(test) == ["image", "labels"], sorted(test)
    assert sorted(calib) == ["image"], sorted(calib)
    xi, lab, xc = test["image"], test["labels"], calib["image"]
    assert xi.dtype == np.float32 and xc.dtype == np.float32 and lab.dtype == np.int64
    assert lab.shape == (xi.shape[0],) and set(np.unique(lab)) == set(range(10))
    assert xc.shape[0] == 256 and xc.shape[1:] == xi.shape[1:]
    assert 0.0 <= xi.min() and xi.max() <= 1.0 and 0.0 <= xc.min() and xc.max() <= 1.0
    flat_t = {r.tobytes() for r in xi.reshape(len(xi), -1)}
    overlap = sum(r.tobytes() in flat_t for r in xc.reshape(len(xc), -1))
    (iname, ishape), logits = run_nn(j(name + ".nn"), folder, xi)
    assert iname == "image" and ishape[0] == 1 and list(xi.shape[1:]) == ishape[1:], (ishape, xi.shape)
    assert logits.shape == (len(xi), 10)
    correct = int((logits.argmax(1) == lab).sum())
    acc = dict(l.split() for l in open(j("float_accuracy.txt")).read().splitlines())
    ok = int(acc["correct"]) == correct and int(acc["total"]) == len(lab) and overlap == 0
    print("%-11s %s  numpy %d/%d = %.2f%%  float_accuracy.txt %s/%s  test %s  calib %s  "
          "calib∩test %d  weights %d tensors / %d params"
          % (name, "OK  " if ok else "FAIL", correct, len(lab), 100.0 * correct / len(lab),
             acc["correct"], acc["total"], list(xi.shape), list(xc.shape), overlap,
             len(w), sum(v.size for v in w.values())))
    return ok


def main():
    folders = sys.argv[1:] or [os.path.join(EXAMPLES, d) for d in ("digits_mlp", "digits_cnn", "mnist_cnn")]
    sys.exit(0 if all([check(f) for f in folders]) else 1)


if __name__ == "__main__":
    main()
