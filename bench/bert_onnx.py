"""bert_onnx.py — the BERT-base encoder layer of tests/models/bert_layer.nn as two ONNX graphs
for ONNX Runtime, from the same weights (build/bert/bert_layer.safetensors, tools/gen_bert.c):

  OUTDIR/bert_layer_f32.onnx   float32: LayerNormalization, 12-head attention (scores scaled
                               by 1/sqrt(64), softmax over keys), residual adds, erf-GELU FFN
  OUTDIR/bert_layer_qdq.onnx   the same graph with QuantizeLinear/DequantizeLinear on the
                               inputs of every MatMul and the outputs of the linear layers:
                               activations symmetric int8 per tensor (scale from the max
                               |value| over CALIB calibration samples), weights symmetric int8
                               per output channel; ONNX Runtime runs these as its integer
                               kernels (QGemm for the six linears, QLinearMatMul and
                               MatMulIntegerToFloat for the attention products)
  OUTDIR/x.npy                 calibration sample 0, [1, 128, 768] float32: the input that
                               peers.sh runs through `shiftc run --float` and ORT's float graph
                               to check they are the same layer

Bench only (bench/peers.sh; never `make test`): /usr/bin/python3 with numpy and onnx's helper
API, no torch. Usage: bert_onnx.py BERTDIR OUTDIR
"""
import json
import math
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

D, HEADS, SEQ, CALIB = 768, 12, 128, 4
DH = D // HEADS


def read_safetensors(path):
    with open(path, "rb") as f:
        n = int.from_bytes(f.read(8), "little")
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, t in header.items():
        if name == "__metadata__":
            continue
        assert t["dtype"] == "F32", (name, t["dtype"])
        lo, hi = t["data_offsets"]
        out[name] = np.frombuffer(data[lo:hi], dtype="<f4").reshape(t["shape"]).astype(np.float32)
    return out


# ----------------------------------------------------------------- the float layer in numpy
# Only to calibrate the QDQ graph's activation scales: the inputs of every MatMul and the
# outputs of the linear layers.

def layernorm(x, g, b, eps=1e-5):
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * g + b


_erf = np.frompyfunc(math.erf, 1, 1)


def gelu(x):
    return (0.5 * x * (1.0 + _erf(x / math.sqrt(2.0)).astype(np.float64))).astype(np.float32)


def forward(x, w):
    """x: [SEQ, D]; returns the max |value| of each MatMul input and output, by name."""
    p = lambda n: w["layers.0." + n]
    seen = {}

    def note(name, v):
        seen[name] = max(seen.get(name, 0.0), float(np.abs(v).max()))

    h = layernorm(x, p("ln1.weight"), p("ln1.bias"))
    note("h", h)
    q = h @ p("attn.q.weight").T + p("attn.q.bias")
    k = h @ p("attn.k.weight").T + p("attn.k.bias")
    v = h @ p("attn.v.weight").T + p("attn.v.bias")
    note("attn.q", q), note("attn.k", k), note("attn.v", v)
    qh, kh, vh = (t.reshape(SEQ, HEADS, DH).transpose(1, 0, 2) for t in (q, k, v))
    note("q", qh), note("k", kh), note("v", vh)
    s = qh @ kh.transpose(0, 2, 1) / math.sqrt(DH)
    s = np.exp(s - s.max(-1, keepdims=True))
    s /= s.sum(-1, keepdims=True)
    note("probs", s)
    ctx = (s @ vh).transpose(1, 0, 2).reshape(SEQ, D)
    note("ctx", ctx)
    o = ctx @ p("attn.o.weight").T + p("attn.o.bias")
    note("attn.o", o)
    x1 = x + o
    h2 = layernorm(x1, p("ln2.weight"), p("ln2.bias"))
    note("h2", h2)
    up = h2 @ p("up.weight").T + p("up.bias")
    note("up", up)
    u = gelu(up)
    note("u", u)
    note("down", u @ p("down.weight").T + p("down.bias"))
    return seen


# ----------------------------------------------------------------------- the ONNX graph

class Graph:
    def __init__(self, w, act_max):
        self.w, self.act_max, self.nodes, self.inits, self.n = w, act_max, [], [], 0
        self.qdq = act_max is not None

    def name(self, base):
        self.n += 1
        return "%s_%d" % (base, self.n)

    def const(self, base, array):
        nm = self.name(base)
        self.inits.append(numpy_helper.from_array(np.asarray(array), nm))
        return nm

    def op(self, op_type, inputs, base=None, **attrs):
        out = self.name(base or op_type.lower())
        self.nodes.append(helper.make_node(op_type, inputs, [out], name=out, **attrs))
        return out

    def qdq_act(self, x, key):
        """QuantizeLinear/DequantizeLinear of activation x, symmetric int8 per tensor."""
        if not self.qdq:
            return x
        scale = self.const(key + "_scale", np.float32(max(self.act_max[key], 1e-8) / 127.0))
        zp = self.const(key + "_zp", np.int8(0))
        return self.op("DequantizeLinear", [self.op("QuantizeLinear", [x, scale, zp]), scale, zp])

    def weight(self, key):
        """The [out, in] weight as the [in, out] MatMul operand; int8 per output channel + DQ."""
        wt = np.ascontiguousarray(self.w["layers.0." + key + ".weight"].T)  # [K, N]
        if not self.qdq:
            return self.const(key, wt)
        scale = np.maximum(np.abs(wt).max(0), 1e-8) / 127.0
        codes = np.clip(np.round(wt / scale), -127, 127).astype(np.int8)
        return self.op("DequantizeLinear", [self.const(key + "_q", codes),
                                            self.const(key + "_wscale", scale.astype(np.float32)),
                                            self.const(key + "_wzp", np.zeros(wt.shape[1], np.int8))], axis=1)

    def linear(self, x, key, act):
        y = self.op("MatMul", [self.qdq_act(x, act), self.weight(key)])
        y = self.op("Add", [y, self.const(key + "_bias", self.w["layers.0." + key + ".bias"])])
        # The output quantized too (as shiftc's int8 linear writes int8): ORT then runs
        # DQ-MatMul-Add-Q as one integer QGemm instead of dequantizing the weights each run.
        return self.qdq_act(y, key)

    def layernorm(self, x, key):
        return self.op("LayerNormalization", [x, self.const(key + "_gamma", self.w["layers.0." + key + ".weight"]),
                                              self.const(key + "_beta", self.w["layers.0." + key + ".bias"])],
                       axis=-1, epsilon=1e-5)

    def heads(self, x, perm):
        r = self.op("Reshape", [x, self.const("shape", np.array([1, SEQ, HEADS, DH], np.int64))])
        return self.op("Transpose", [r], perm=perm)

    def build(self):
        h = self.layernorm("x", "ln1")
        q = self.heads(self.linear(h, "attn.q", "h"), [0, 2, 1, 3])  # [1, H, T, dh]
        k = self.heads(self.linear(h, "attn.k", "h"), [0, 2, 3, 1])  # [1, H, dh, T]
        v = self.heads(self.linear(h, "attn.v", "h"), [0, 2, 1, 3])
        s = self.op("MatMul", [self.qdq_act(q, "q"), self.qdq_act(k, "k")])
        s = self.op("Div", [s, self.const("sqrt_dh", np.float32(math.sqrt(DH)))])
        pr = self.op("Softmax", [s], axis=-1)
        c = self.op("MatMul", [self.qdq_act(pr, "probs"), self.qdq_act(v, "v")])
        c = self.op("Transpose", [c], perm=[0, 2, 1, 3])
        c = self.op("Reshape", [c, self.const("shape", np.array([1, SEQ, D], np.int64))])
        x1 = self.op("Add", ["x", self.linear(c, "attn.o", "ctx")])
        h2 = self.layernorm(x1, "ln2")
        up = self.linear(h2, "up", "h2")
        # GELU, erf form, in the pattern ONNX Runtime fuses: 0.5 * x * (1 + erf(x / sqrt 2))
        e = self.op("Erf", [self.op("Div", [up, self.const("sqrt2", np.float32(math.sqrt(2.0)))])])
        e = self.op("Add", [e, self.const("one", np.float32(1.0))])
        u = self.op("Mul", [self.op("Mul", [up, e]), self.const("half", np.float32(0.5))])
        y = self.op("Add", [x1, self.linear(u, "down", "u")], base="y")
        self.nodes.append(helper.make_node("Identity", [y], ["y"], name="y_out"))
        g = helper.make_graph(self.nodes, "bert_layer",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, SEQ, D])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, SEQ, D])],
                              self.inits)
        m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)], producer_name="shiftc bench")
        m.ir_version = 8
        onnx.checker.check_model(m)
        return m


def main():
    bert, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    w = read_safetensors(os.path.join(bert, "bert_layer.safetensors"))
    xs = read_safetensors(os.path.join(bert, "calib.safetensors"))["x"]
    act_max = {}
    for i in range(CALIB):
        for k, v in forward(xs[i].astype(np.float64), w).items():
            act_max[k] = max(act_max.get(k, 0.0), v)
    for name, amax in (("f32", None), ("qdq", act_max)):
        path = os.path.join(out, "bert_layer_%s.onnx" % name)
        onnx.save(Graph(w, amax).build(), path + ".tmp")
        os.replace(path + ".tmp", path)
    np.save(os.path.join(out, "x.npy"), xs[0:1].astype(np.float32))


if __name__ == "__main__":
    main()
