#!/usr/bin/python3
"""Double-check the trained examples with numpy only (no torch).

For each example folder: read every .safetensors with safetensors_np.load_file, check dtypes
and shapes, check that the .nn names exactly the tensors of the weights file, run the .nn
graph with a small numpy interpreter (blocks, nested calls; linear, conv2d, batchnorm, relu,
gelu, maxpool2d, global_avgpool, flatten, reshape, transpose, add/sub/mul, matmul, softmax,
layernorm l2/l1, attention) on test.safetensors and compare with float_accuracy.txt.

    /usr/bin/python3 examples/common/check_examples.py [examples/digits_mlp ...]
"""
import os
import sys
sys.dont_write_bytecode = True  # keep examples/ free of __pycache__
import math
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


def layernorm(x, gamma, beta, eps, norm):
    d = x - x.mean(axis=-1, keepdims=True)
    dev = np.abs(d).mean(axis=-1, keepdims=True) + eps if norm == "l1" else \
        np.sqrt((d * d).mean(axis=-1, keepdims=True) + eps)
    return d / dev * gamma + beta


def softmax(x, axis=-1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def attention(x, heads, wq, bq, wk, bk, wv, bv, wo, bo):
    """Multi-head self-attention as shiftc's lower.c defines it: head h takes features
    h*dh .. h*dh+dh-1 of q, k, v; scores scaled by 1/sqrt(dh); softmax over keys."""
    n, t, d = x.shape
    dh = d // heads
    split = lambda y: y.reshape(n, t, heads, dh).transpose(0, 2, 1, 3)  # noqa: E731
    q, k, v = split(x @ wq.T + bq), split(x @ wk.T + bk), split(x @ wv.T + bv)
    c = softmax(q @ k.transpose(0, 1, 3, 2) / np.sqrt(dh)) @ v
    return c.transpose(0, 2, 1, 3).reshape(n, t, d) @ wo.T + bo


_erf = np.vectorize(math.erf)

TOKEN = re.compile(r'\s*(?:(#[^\n]*)|("[^"]*")|([A-Za-z_][\w.]*)|(-?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?)|(.))')


def tokenize(text):
    out = []
    for m in TOKEN.finditer(text):
        comment, string, name, number, punct = m.groups()
        if comment is not None:
            continue
        if string is not None:
            out.append(("str", string[1:-1]))
        elif name is not None:
            out.append(("name", name))
        elif number is not None:
            out.append(("num", float(number) if any(c in number for c in ".eE") else int(number)))
        elif punct is not None and not punct.isspace():
            out.append(("punct", punct))
    return out


class Parser:
    """The .nn language as the examples use it: statements, nested calls, blocks with
    weight-prefix parameters, int/float/list attributes."""

    def __init__(self, toks):
        self.toks, self.i = toks, 0

    def peek(self, k=0):
        return self.toks[self.i + k] if self.i + k < len(self.toks) else (None, None)

    def take(self, kind=None, value=None):
        t = self.peek()
        assert t[0] is not None and (kind is None or t[0] == kind) and (value is None or t[1] == value), \
            "expected %s %s, got %r" % (kind, value, t)
        self.i += 1
        return t[1]

    def expr(self):
        kind, v = self.peek()
        if kind == "punct" and v == "[":
            self.take()
            items = []
            while self.peek() != ("punct", "]"):
                items.append(self.expr())
                if self.peek() == ("punct", ","):
                    self.take()
            self.take("punct", "]")
            return ("list", [it[1] for it in items])
        if kind == "num":
            return ("num", self.take())
        name = self.take("name")
        if self.peek() != ("punct", "("):
            return ("ref", name)
        self.take()
        pos, kw = [], {}
        while self.peek() != ("punct", ")"):
            if self.peek()[0] == "name" and self.peek(1) == ("punct", "="):
                k = self.take()
                self.take()
                kw[k] = self.expr()
            else:
                pos.append(self.expr())
            if self.peek() == ("punct", ","):
                self.take()
        self.take("punct", ")")
        return ("call", name, pos, kw)

    def statements(self, stop=None):
        body = []
        while self.peek()[0] is not None and self.peek() != stop:
            kind, v = self.peek()
            if v == "model" or v == "output":
                self.take()
                body.append((v, self.take("name")))
            elif v == "weights":
                self.take()
                body.append(("weights", self.take("str")))
            elif v == "input":
                self.take()
                name = self.take("name")
                self.take("punct", ":")
                self.take("name")
                body.append(("input", name, self.expr()[1]))
            elif v == "block":
                self.take()
                name = self.take("name")
                self.take("punct", "(")
                params = []
                while self.peek() != ("punct", ")"):
                    params.append(self.take("name"))
                    if self.peek() == ("punct", ","):
                        self.take()
                self.take("punct", ")")
                self.take("punct", "{")
                stmts = self.statements(stop=("name", "return"))
                self.take("name", "return")
                ret = self.take("name")
                self.take("punct", "}")
                body.append(("block", name, params, stmts, ret))
            else:
                dst = self.take("name")
                self.take("punct", "=")
                body.append(("let", dst, self.expr()))
        return body


class Interp:
    def __init__(self, weights_dir, x):
        self.dir, self.x = weights_dir, x.astype(np.float64)
        self.weights, self.blocks, self.used = None, {}, set()
        self.input, self.output = None, None

    def weight(self, name):
        assert self.weights is not None and name in self.weights, "'%s' is not defined" % name
        self.used.add(name)
        return self.weights[name].astype(np.float64)

    def value(self, e, env, prefixes):
        if e[0] in ("num", "list"):
            return e[1]
        if e[0] == "ref":
            name = e[1]
            if name in env:
                return env[name]
            head, _, rest = name.partition(".")
            if head in prefixes:
                name = prefixes[head] + "." + rest
            return self.weight(name)
        _, op, pos, kw = e
        if op in self.blocks:
            params, stmts, ret = self.blocks[op]
            inner_env, inner_pref = {}, {}
            for p, a in zip(params, pos):
                if a[0] == "ref" and a[1] not in env and a[1].split(".")[0] not in prefixes:
                    inner_pref[p] = a[1]   # a weight-name prefix
                else:
                    inner_env[p] = self.value(a, env, prefixes)
            self.run(stmts, inner_env, inner_pref)
            return inner_env[ret]
        a = [self.value(v, env, prefixes) for v in pos]
        k = {n: v[1] if n == "norm" else self.value(v, env, prefixes) for n, v in kw.items()}  # enum
        return self.apply(op, a, k)

    def apply(self, op, a, k):
        x = a[0]
        n = self.x.shape[0]     # the batch: the .nn declares 1, the data has N
        if op == "linear":
            y = x @ k["weight"].T
            return y + k["bias"] if "bias" in k else y
        if op == "conv2d":
            return conv2d(x, k["weight"], k.get("bias"), k.get("stride", 1), k.get("pad", 0))
        if op == "batchnorm":
            sh = (1, -1, 1, 1)
            scale = k["gamma"] / np.sqrt(k["var"] + k.get("eps", 1e-5))
            return (x - k["mean"].reshape(sh)) * scale.reshape(sh) + k["beta"].reshape(sh)
        if op == "relu":
            return np.maximum(x, 0)
        if op == "gelu":
            return 0.5 * x * (1.0 + _erf(x / math.sqrt(2.0)))
        if op == "maxpool2d":
            return maxpool2d(x, k["kernel"], k.get("stride", k["kernel"]))
        if op == "global_avgpool":
            return x.mean(axis=(2, 3), keepdims=True)
        if op == "flatten":
            return x.reshape(x.shape[0], -1)
        if op == "reshape":
            shape = list(k["shape"])
            assert shape[0] == 1, "reshape keeps the batch axis"
            return x.reshape([n] + shape[1:])
        if op == "transpose":
            return x.transpose(k["perm"])
        if op in ("add", "sub", "mul"):
            b = a[1]
            return x + b if op == "add" else x - b if op == "sub" else x * b
        if op == "matmul":
            return x @ a[1]
        if op == "softmax":
            return softmax(x, k.get("axis", -1))
        if op == "layernorm":
            return layernorm(x, k.get("gamma", 1.0), k.get("beta", 0.0), k.get("eps", 1e-5),
                             k.get("norm", "l2"))
        if op == "attention":
            return attention(x, k["heads"], k["wq"], k.get("bq", 0.0), k["wk"], k.get("bk", 0.0),
                             k["wv"], k.get("bv", 0.0), k["wo"], k.get("bo", 0.0))
        raise NotImplementedError(op)

    def run(self, stmts, env, prefixes):
        for s in stmts:
            if s[0] == "weights":
                self.weights = load_file(os.path.join(self.dir, s[1]))
            elif s[0] == "input":
                self.input = (s[1], s[2])
                env[s[1]] = self.x
            elif s[0] == "output":
                self.output = env[s[1]]
            elif s[0] == "block":
                self.blocks[s[1]] = (s[2], s[3], s[4])
            elif s[0] == "let":
                env[s[1]] = self.value(s[2], env, prefixes)


def run_nn(nn_path, weights_dir, x):
    """Interpret the .nn (numpy, float64) on the batch x; returns ((input name, declared
    shape), output), and checks that every tensor of the weights file is used."""
    it = Interp(weights_dir, x)
    it.run(Parser(tokenize(open(nn_path).read())).statements(), {}, {})
    unused = set(it.weights) - it.used
    assert not unused, "weights never used by the .nn: %s" % sorted(unused)
    return it.input, it.output


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
    folders = sys.argv[1:] or [os.path.join(EXAMPLES, d) for d in ("digits_mlp", "digits_cnn", "mnist_cnn", "digits_vit", "digits_vit_l1")]
    sys.exit(0 if all([check(f) for f in folders]) else 1)


if __name__ == "__main__":
    main()
