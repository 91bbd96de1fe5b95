#!/usr/bin/python3
"""gen_cases.py — (re)creates tests/ops/cases/: one folder per operator case, each with
a tiny model.nn, its weights (w/<tensor>.npy), its input(s) and the output PyTorch
computes for them (expected.npy). tests/unit/test_ops_torch.c runs every case through
`shiftc run --float` and compares with expected.npy (max abs error <= 1e-5).

Run from the repository root:   /usr/bin/python3 tests/ops/gen_cases.py

Deterministic: each case draws from numpy's RandomState seeded by a CRC of the case's
name, so adding or removing a case leaves the others byte-identical.

Every reference is evaluated twice, in float32 (what is stored) and in float64; the
script refuses a case whose float32 reference is more than 2e-6 away from its
float64 one, so that the test's 1e-5 tolerance is always left to shiftc's own
rounding. Attention references are also checked against torch.nn.MultiheadAttention.
"""
import math
import os
import shutil
import sys
import zlib

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "cases")
REF_TOL = 2e-6  # float32 reference vs float64 reference

torch.set_num_threads(1)  # summation order independent of the machine


class Case:
    def __init__(self, name, ops, doc):
        self.name, self.ops, self.doc = name, ops, doc
        self.rng = np.random.RandomState(zlib.crc32(name.encode()) & 0xFFFFFFFF)
        self.weights = {}  # name -> float32 array
        self.inputs = {}   # name -> array (float32 or int32), in declaration order
        self.body = []
        self.output = "y"
        self.ref = None    # fn(dict of torch tensors) -> torch tensor

    # Data helpers.
    def randn(self, *shape, scale=1.0):
        return (self.rng.standard_normal(shape) * scale).astype(np.float32)

    def uniform(self, lo, hi, *shape):
        return self.rng.uniform(lo, hi, shape).astype(np.float32)

    def spread(self, lo, hi, *shape):
        """Values covering [lo, hi] evenly, in random order, plus a little jitter."""
        n = int(np.prod(shape))
        v = np.linspace(lo, hi, n) + self.rng.uniform(-0.01, 0.01, n)
        v = np.clip(v, lo, hi)
        return v[self.rng.permutation(n)].reshape(shape).astype(np.float32)

    def w(self, name, arr):
        self.weights[name] = np.ascontiguousarray(arr, dtype=np.float32)
        return name

    def weight_fan(self, name, *shape, fan_in=None):
        """A weight ~ N(0, 1/fan_in) (fan_in: the product of all but the first axis)."""
        if fan_in is None:
            fan_in = int(np.prod(shape[1:])) if len(shape) > 1 else shape[0]
        return self.w(name, self.randn(*shape, scale=1.0 / math.sqrt(fan_in)))

    def inp(self, name, arr):
        self.inputs[name] = np.ascontiguousarray(arr)
        return name

    def line(self, text):
        self.body.append(text)

    # Output.
    def nn_text(self):
        out = [f"# {self.name}: {self.doc}", f"model {self.name}"]
        if self.weights:
            out.append('weights "w"')
        for name, a in self.inputs.items():
            dt = "i32" if a.dtype == np.int32 else "f32"
            out.append(f"input {name} : {dt}[{', '.join(str(d) for d in a.shape)}]")
        out += self.body
        out.append(f"output {self.output}")
        return "\n".join(out) + "\n"

    def tensors(self, dtype):
        t = {}
        for k, v in list(self.weights.items()) + list(self.inputs.items()):
            x = torch.from_numpy(v.copy())
            t[k] = x.to(dtype) if x.is_floating_point() else x.long()
        return t

    def evaluate(self):
        y32 = self.ref(self.tensors(torch.float32))
        y64 = self.ref(self.tensors(torch.float64))
        assert y32.dtype == torch.float32, self.name
        err = (y32.double() - y64).abs().max().item()
        assert err <= REF_TOL, f"{self.name}: float32 reference is {err:.3g} from float64"
        assert torch.isfinite(y32).all(), self.name
        return y32.numpy().astype(np.float32), err

    def write(self):
        d = os.path.join(OUT, self.name)
        os.makedirs(d)
        with open(os.path.join(d, "model.nn"), "w") as f:
            f.write(self.nn_text())
        if self.weights:
            os.makedirs(os.path.join(d, "w"))
            for k, v in sorted(self.weights.items()):
                np.save(os.path.join(d, "w", k + ".npy"), v)
        if len(self.inputs) == 1:
            np.save(os.path.join(d, "input.npy"), next(iter(self.inputs.values())))
        else:
            for k, v in self.inputs.items():
                np.save(os.path.join(d, f"input_{k}.npy"), v)
        y, err = self.evaluate()
        np.save(os.path.join(d, "expected.npy"), y)
        return y, err


CASES = []


def case(name, ops, doc):
    def register(fn):
        CASES.append((name, ops, doc, fn))
        return fn
    return register


def shape_of(a):
    return "[" + ", ".join(str(d) for d in a.shape) + "]"


# ------------------------------------------------------------------ linear

@case("linear_bias", "linear", "x [1, 16], weight [8, 16], bias")
def _(c):
    c.inp("x", c.randn(1, 16))
    c.weight_fan("fc.weight", 8, 16)
    c.w("fc.bias", c.randn(8, scale=0.5))
    c.line("y = linear(x, weight=fc.weight, bias=fc.bias)")
    c.ref = lambda t: F.linear(t["x"], t["fc.weight"], t["fc.bias"])


@case("linear_nobias", "linear", "x [2, 12], weight [5, 12], no bias")
def _(c):
    c.inp("x", c.randn(2, 12))
    c.weight_fan("fc.weight", 5, 12)
    c.line("y = linear(x, weight=fc.weight)")
    c.ref = lambda t: F.linear(t["x"], t["fc.weight"])


@case("linear_3d", "linear", "3-D input x [1, 4, 10] -> [1, 4, 6], over the last axis")
def _(c):
    c.inp("x", c.randn(1, 4, 10))
    c.weight_fan("proj.weight", 6, 10)
    c.w("proj.bias", c.randn(6, scale=0.5))
    c.line("y = linear(x, weight=proj.weight, bias=proj.bias)")
    c.ref = lambda t: F.linear(t["x"], t["proj.weight"], t["proj.bias"])


@case("linear_4d_wide", "linear", "4-D input x [1, 2, 3, 64] -> [1, 2, 3, 32] (long reduction)")
def _(c):
    c.inp("x", c.randn(1, 2, 3, 64))
    c.weight_fan("fc.weight", 32, 64)
    c.w("fc.bias", c.randn(32, scale=0.5))
    c.line("y = linear(x, weight=fc.weight, bias=fc.bias)")
    c.ref = lambda t: F.linear(t["x"], t["fc.weight"], t["fc.bias"])


# ------------------------------------------------------------------ matmul

@case("matmul_2d", "matmul", "two model inputs a [3, 8] @ b [8, 5]")
def _(c):
    c.inp("a", c.randn(3, 8))
    c.inp("b", c.randn(8, 5, scale=1 / math.sqrt(8)))
    c.line("y = matmul(a, b)")
    c.ref = lambda t: torch.matmul(t["a"], t["b"])


@case("matmul_batched_4d", "matmul", "a [1, 2, 3, 4] @ b [1, 2, 4, 5]")
def _(c):
    c.inp("a", c.randn(1, 2, 3, 4))
    c.inp("b", c.randn(1, 2, 4, 5, scale=0.5))
    c.line("y = matmul(a, b)")
    c.ref = lambda t: torch.matmul(t["a"], t["b"])


@case("matmul_broadcast", "matmul", "leading axes broadcast: a [2, 1, 3, 4] @ b [3, 4, 5] -> [2, 3, 3, 5]")
def _(c):
    c.inp("a", c.randn(2, 1, 3, 4))
    c.inp("b", c.randn(3, 4, 5, scale=0.5))
    c.line("y = matmul(a, b)")
    c.ref = lambda t: torch.matmul(t["a"], t["b"])


@case("matmul_weight_rhs", "matmul", "x [1, 4, 8] @ weight m [8, 3] (a constant operand)")
def _(c):
    c.inp("x", c.randn(1, 4, 8))
    c.weight_fan("m", 8, 3, fan_in=8)
    c.line("y = matmul(x, m)")
    c.ref = lambda t: torch.matmul(t["x"], t["m"])


@case("matmul_1d_rhs", "matmul", "1-D right operand (numpy): a [1, 3, 6] @ v [6] -> [1, 3]")
def _(c):
    c.inp("a", c.randn(1, 3, 6))
    c.weight_fan("v", 6)
    c.line("y = matmul(a, v)")
    c.ref = lambda t: torch.matmul(t["a"], t["v"])


@case("matmul_1d_lhs", "matmul", "1-D left operand (numpy): v [6] @ b [1, 6, 4] -> [1, 4]")
def _(c):
    c.inp("b", c.randn(1, 6, 4))
    c.weight_fan("v", 6)
    c.line("y = matmul(v, b)")
    c.ref = lambda t: torch.matmul(t["v"], t["b"])


# ------------------------------------------------------------------ conv2d

def conv_case(c, x_shape, w_shape, bias, attrs, stride=1, pad=0, dilation=1, groups=1):
    """pad: int, [h, w] or [t, l, b, r]; the reference pads explicitly with F.pad."""
    c.inp("x", c.randn(*x_shape))
    c.weight_fan("conv.weight", *w_shape)
    args = "x, weight=conv.weight"
    if bias:
        c.w("conv.bias", c.randn(w_shape[0], scale=0.5))
        args += ", bias=conv.bias"
    c.line(f"y = conv2d({args}{attrs})")
    if isinstance(pad, int):
        t_, l_, b_, r_ = pad, pad, pad, pad
    elif len(pad) == 2:
        t_, l_, b_, r_ = pad[0], pad[1], pad[0], pad[1]
    else:
        t_, l_, b_, r_ = pad

    def ref(t):
        x = F.pad(t["x"], (l_, r_, t_, b_))
        return F.conv2d(x, t["conv.weight"], t["conv.bias"] if bias else None,
                        stride=stride, dilation=dilation, groups=groups)
    c.ref = ref


@case("conv2d_basic", "conv2d", "3x3, stride 1, pad 1 (one int), bias")
def _(c):
    conv_case(c, (1, 3, 8, 8), (4, 3, 3, 3), True, ", stride=1, pad=1", pad=1)


@case("conv2d_defaults", "conv2d", "3x3 with every attribute at its default (stride 1, pad 0)")
def _(c):
    conv_case(c, (1, 2, 6, 7), (3, 2, 3, 3), True, "")


@case("conv2d_stride2_pad4", "conv2d", "stride 2, pad [t, l, b, r] = [1, 0, 1, 2]")
def _(c):
    conv_case(c, (1, 3, 5, 5), (4, 3, 3, 3), True,
              ", stride=2, pad=[1, 0, 1, 2], dilation=1, groups=1", stride=2, pad=[1, 0, 1, 2])


@case("conv2d_pad_hw", "conv2d", "pad [h, w] = [2, 1], stride [h, w] = [2, 1], 5x3 kernel")
def _(c):
    conv_case(c, (1, 2, 9, 7), (3, 2, 5, 3), True, ", stride=[2, 1], pad=[2, 1]",
              stride=(2, 1), pad=[2, 1])


@case("conv2d_dilation", "conv2d", "dilation 2, pad 2, 3x3")
def _(c):
    conv_case(c, (1, 3, 9, 9), (4, 3, 3, 3), True, ", pad=2, dilation=2", pad=2, dilation=2)


@case("conv2d_dilation_hw", "conv2d", "dilation [1, 2], stride 2, pad [1, 2]")
def _(c):
    conv_case(c, (1, 2, 8, 10), (3, 2, 3, 3), True, ", stride=2, pad=[1, 2], dilation=[1, 2]",
              stride=2, pad=[1, 2], dilation=(1, 2))


@case("conv2d_groups2", "conv2d", "groups=2: 4 -> 6 channels")
def _(c):
    conv_case(c, (1, 4, 7, 7), (6, 2, 3, 3), True, ", pad=1, groups=2", pad=1, groups=2)


@case("conv2d_depthwise", "conv2d", "depthwise: groups = C = 6, 3x3, stride 2, pad 1")
def _(c):
    conv_case(c, (1, 6, 8, 8), (6, 1, 3, 3), True, ", stride=2, pad=1, groups=6",
              stride=2, pad=1, groups=6)


@case("conv2d_depthwise_mult", "conv2d", "groups = C = 3 with channel multiplier 2 (6 outputs)")
def _(c):
    conv_case(c, (1, 3, 6, 6), (6, 1, 3, 3), True, ", pad=1, groups=3", pad=1, groups=3)


@case("conv2d_nobias", "conv2d", "no bias, 3x3, stride 1, pad [1, 1, 1, 1]")
def _(c):
    conv_case(c, (1, 3, 6, 6), (5, 3, 3, 3), False, ", pad=[1, 1, 1, 1]", pad=1)


@case("conv2d_1x1", "conv2d", "pointwise 1x1, 8 -> 4 channels, batch 2")
def _(c):
    conv_case(c, (2, 8, 4, 5), (4, 8, 1, 1), True, "")


# --------------------------------------------------------------- batchnorm

def bn_case(c, x_shape, eps, eps_text):
    C = x_shape[1]
    c.inp("x", c.randn(*x_shape))
    c.w("bn.weight", c.uniform(0.5, 1.5, C))
    c.w("bn.bias", c.randn(C, scale=0.5))
    c.w("bn.running_mean", c.randn(C, scale=0.5))
    c.w("bn.running_var", c.uniform(0.5, 2.0, C))
    c.line("y = batchnorm(x, gamma=bn.weight, beta=bn.bias, mean=bn.running_mean, "
           f"var=bn.running_var{eps_text})")
    c.ref = lambda t: F.batch_norm(t["x"], t["bn.running_mean"], t["bn.running_var"],
                                   t["bn.weight"], t["bn.bias"], training=False, eps=eps)


@case("batchnorm_4d", "batchnorm", "NCHW [1, 4, 5, 5], eps=1e-5")
def _(c):
    bn_case(c, (1, 4, 5, 5), 1e-5, ", eps=1e-5")


@case("batchnorm_2d", "batchnorm", "rank 2 [3, 6] (BatchNorm1d on features), default eps")
def _(c):
    bn_case(c, (3, 6), 1e-5, "")


@case("batchnorm_3d_eps", "batchnorm", "rank 3 [1, 5, 7], eps=0.1")
def _(c):
    bn_case(c, (1, 5, 7), 0.1, ", eps=0.1")


# -------------------------------------------------------------- elementwise

@case("relu", "relu", "x spanning [-4, 4]")
def _(c):
    c.inp("x", c.spread(-4, 4, 1, 3, 4, 5))
    c.line("y = relu(x)")
    c.ref = lambda t: F.relu(t["x"])


@case("relu6", "relu6", "x spanning [-9, 9], so both clamps act")
def _(c):
    c.inp("x", c.spread(-9, 9, 1, 4, 25))
    c.line("y = relu6(x)")
    c.ref = lambda t: F.relu6(t["x"])


@case("gelu", "gelu", "exact erf form, x spanning [-8, 8]")
def _(c):
    c.inp("x", c.spread(-8, 8, 1, 2, 50))
    c.line("y = gelu(x)")
    c.ref = lambda t: F.gelu(t["x"], approximate="none")


@case("sigmoid", "sigmoid", "x spanning [-8, 8]")
def _(c):
    c.inp("x", c.spread(-8, 8, 1, 100))
    c.line("y = sigmoid(x)")
    c.ref = lambda t: torch.sigmoid(t["x"])


@case("tanh", "tanh", "x spanning [-8, 8]")
def _(c):
    c.inp("x", c.spread(-8, 8, 2, 5, 10))
    c.line("y = tanh(x)")
    c.ref = lambda t: torch.tanh(t["x"])


# ----------------------------------------------------------------- softmax

@case("softmax_last", "softmax", "axis -1 (default) over [1, 3, 10]")
def _(c):
    c.inp("x", c.randn(1, 3, 10, scale=2.0))
    c.line("y = softmax(x)")
    c.ref = lambda t: F.softmax(t["x"], dim=-1)


@case("softmax_axis1", "softmax", "axis 1 over [1, 5, 3, 4] (a strided axis)")
def _(c):
    c.inp("x", c.randn(1, 5, 3, 4, scale=2.0))
    c.line("y = softmax(x, axis=1)")
    c.ref = lambda t: F.softmax(t["x"], dim=1)


@case("softmax_large", "softmax", "axis=-1 with logits up to +-40 (needs the max subtracted)")
def _(c):
    c.inp("x", c.spread(-40, 40, 4, 16))
    c.line("y = softmax(x, axis=-1)")
    c.ref = lambda t: F.softmax(t["x"], dim=-1)


# --------------------------------------------------------------- layernorm

def l1_norm(x, gamma, beta, eps):
    mu = x.mean(-1, keepdim=True)
    d = x - mu
    y = d / (d.abs().mean(-1, keepdim=True) + eps)
    if gamma is not None:
        y = y * gamma
    if beta is not None:
        y = y + beta
    return y


@case("layernorm_l2", "layernorm", "norm=l2 (default) with gamma and beta, x [1, 4, 16]")
def _(c):
    c.inp("x", c.randn(1, 4, 16) + 0.5)
    c.w("ln.weight", c.uniform(0.5, 1.5, 16))
    c.w("ln.bias", c.randn(16, scale=0.5))
    c.line("y = layernorm(x, gamma=ln.weight, beta=ln.bias, eps=1e-5)")
    c.ref = lambda t: F.layer_norm(t["x"], (16,), t["ln.weight"], t["ln.bias"], eps=1e-5)


@case("layernorm_l2_plain", "layernorm", "norm=l2 without gamma and beta, eps=1e-3, x [2, 24]")
def _(c):
    c.inp("x", c.randn(2, 24, scale=2.0))
    c.line("y = layernorm(x, eps=1e-3, norm=l2)")
    c.ref = lambda t: F.layer_norm(t["x"], (24,), eps=1e-3)


@case("layernorm_l1", "layernorm", "norm=l1 (mean absolute deviation) with gamma and beta")
def _(c):
    c.inp("x", c.randn(1, 5, 12) - 0.3)
    c.w("ln.weight", c.uniform(0.5, 1.5, 12))
    c.w("ln.bias", c.randn(12, scale=0.5))
    c.line("y = layernorm(x, gamma=ln.weight, beta=ln.bias, eps=1e-5, norm=l1)")
    c.ref = lambda t: l1_norm(t["x"], t["ln.weight"], t["ln.bias"], 1e-5)


@case("layernorm_l1_plain", "layernorm", "norm=l1 without gamma and beta, eps=0.01")
def _(c):
    c.inp("x", c.randn(1, 3, 20))
    c.line("y = layernorm(x, eps=0.01, norm=l1)")
    c.ref = lambda t: l1_norm(t["x"], None, None, 0.01)


# ----------------------------------------------------- add / sub / mul

@case("add_same", "add", "two model inputs of the same shape [1, 3, 4, 4]")
def _(c):
    c.inp("a", c.randn(1, 3, 4, 4))
    c.inp("b", c.randn(1, 3, 4, 4))
    c.line("y = add(a, b)")
    c.ref = lambda t: t["a"] + t["b"]


@case("add_scalar1", "add", "x [1, 3, 4, 4] + a weight of shape [1]")
def _(c):
    c.inp("x", c.randn(1, 3, 4, 4))
    c.w("offset", c.randn(1))
    c.line("y = add(x, offset)")
    c.ref = lambda t: t["x"] + t["offset"]


@case("add_channel", "add", "x [1, 4, 3, 5] + weight [4, 1, 1] (per channel)")
def _(c):
    c.inp("x", c.randn(1, 4, 3, 5))
    c.w("chan", c.randn(4, 1, 1))
    c.line("y = add(x, chan)")
    c.ref = lambda t: t["x"] + t["chan"]


@case("add_rank_mismatch", "add", "weight [6] + x [2, 3, 6] (rank mismatch, weight first)")
def _(c):
    c.inp("x", c.randn(2, 3, 6))
    c.w("pos", c.randn(6))
    c.line("y = add(pos, x)")
    c.ref = lambda t: t["pos"] + t["x"]


@case("sub_broadcast", "sub", "x [1, 4, 3, 5] - weight [4, 1, 1], and weight [5] - that")
def _(c):
    c.inp("x", c.randn(1, 4, 3, 5))
    c.w("mean", c.randn(4, 1, 1))
    c.w("row", c.randn(5))
    c.line("d = sub(x, mean)")
    c.line("y = sub(row, d)")
    c.ref = lambda t: t["row"] - (t["x"] - t["mean"])


@case("sub_inputs_both_broadcast", "sub", "a [1, 3, 1, 5] - b [2, 1, 4, 1] -> [2, 3, 4, 5]")
def _(c):
    c.inp("a", c.randn(1, 3, 1, 5))
    c.inp("b", c.randn(2, 1, 4, 1))
    c.line("y = sub(a, b)")
    c.ref = lambda t: t["a"] - t["b"]


@case("mul_broadcast", "mul", "x [1, 3, 4, 5] * weight [3, 1, 1], weight [1] * that, that * weight [4, 5]")
def _(c):
    c.inp("x", c.randn(1, 3, 4, 5))
    c.w("scale", c.uniform(0.5, 1.5, 3, 1, 1))
    c.w("gain", c.uniform(0.5, 1.5, 1))
    c.w("row", c.randn(4, 5))
    c.line("s = mul(x, scale)")
    c.line("g = mul(gain, s)")
    c.line("y = mul(g, row)")
    c.ref = lambda t: t["gain"] * (t["x"] * t["scale"]) * t["row"]


@case("mul_literal", "mul", "literal scalar operand: mul(x, 0.5)")
def _(c):
    c.inp("x", c.randn(1, 2, 3, 4))
    c.line("y = mul(x, 0.5)")
    c.ref = lambda t: t["x"] * 0.5


@case("add_literal", "add, sub", "literal operands: add(x, -1.5), then sub(2.25, that)")
def _(c):
    c.inp("x", c.randn(1, 10))
    c.line("a = add(x, -1.5)")
    c.line("y = sub(2.25, a)")
    c.ref = lambda t: 2.25 - (t["x"] + (-1.5))


@case("add_literal_list", "add, mul", "1-D literal list operands broadcast over the last axis")
def _(c):
    c.inp("x", c.randn(1, 4, 3))
    c.line("a = add(x, [0.5, -1, 2])")
    c.line("y = mul(a, [1, -0.25, 3e-1])")
    c.ref = lambda t: (t["x"] + torch.tensor([0.5, -1, 2], dtype=t["x"].dtype)) * \
        torch.tensor([1, -0.25, 0.3], dtype=t["x"].dtype)


# ----------------------------------------------------------------- pooling

def pool_ref(x, kind, kernel, stride, pad):
    """pad int / [h, w] / [t, l, b, r]; padding is -inf for max and 0 (counted) for avg."""
    if isinstance(pad, int):
        pad = [pad] * 4
    elif len(pad) == 2:
        pad = [pad[0], pad[1], pad[0], pad[1]]
    t_, l_, b_, r_ = pad
    x = F.pad(x, (l_, r_, t_, b_), value=(-math.inf if kind == "max" else 0.0))
    if kind == "max":
        return F.max_pool2d(x, kernel, stride)
    return F.avg_pool2d(x, kernel, stride)


@case("maxpool2d_k2s2", "maxpool2d", "kernel 2, stride 2 on [1, 3, 8, 8]")
def _(c):
    c.inp("x", c.randn(1, 3, 8, 8))
    c.line("y = maxpool2d(x, kernel=2, stride=2)")
    c.ref = lambda t: pool_ref(t["x"], "max", 2, 2, 0)


@case("maxpool2d_k3s1p1", "maxpool2d", "kernel 3, stride 1, pad 1, all inputs negative (padding never wins)")
def _(c):
    c.inp("x", c.randn(1, 2, 6, 6) - 4.0)
    c.line("y = maxpool2d(x, kernel=3, stride=1, pad=1)")
    c.ref = lambda t: pool_ref(t["x"], "max", 3, 1, 1)


@case("maxpool2d_default_stride", "maxpool2d", "kernel 3, no stride (defaults to the kernel), 10x9 input (floor)")
def _(c):
    c.inp("x", c.randn(1, 2, 10, 9))
    c.line("y = maxpool2d(x, kernel=3)")
    c.ref = lambda t: pool_ref(t["x"], "max", 3, 3, 0)


@case("maxpool2d_rect", "maxpool2d", "kernel [2, 3], stride [1, 2], pad [t, l, b, r] = [0, 1, 1, 0], negative inputs")
def _(c):
    c.inp("x", c.randn(1, 2, 5, 7) - 4.0)
    c.line("y = maxpool2d(x, kernel=[2, 3], stride=[1, 2], pad=[0, 1, 1, 0])")
    c.ref = lambda t: pool_ref(t["x"], "max", (2, 3), (1, 2), [0, 1, 1, 0])


@case("avgpool2d_k2s2", "avgpool2d", "kernel 2, stride 2 on [1, 3, 6, 6]")
def _(c):
    c.inp("x", c.randn(1, 3, 6, 6))
    c.line("y = avgpool2d(x, kernel=2, stride=2)")
    c.ref = lambda t: pool_ref(t["x"], "avg", 2, 2, 0)


@case("avgpool2d_k3s1p1", "avgpool2d", "kernel 3, stride 1, pad 1: count_include_pad=True (inputs offset by +2)")
def _(c):
    c.inp("x", c.randn(1, 2, 5, 6) + 2.0)
    c.line("y = avgpool2d(x, kernel=3, stride=1, pad=1)")
    c.ref = lambda t: F.avg_pool2d(t["x"], 3, 1, 1, count_include_pad=True)


@case("avgpool2d_default_stride", "avgpool2d", "kernel [2, 3], no stride (defaults to the kernel), pad [1, 1]")
def _(c):
    c.inp("x", c.randn(1, 3, 7, 8) + 1.0)
    c.line("y = avgpool2d(x, kernel=[2, 3], pad=[1, 1])")
    c.ref = lambda t: F.avg_pool2d(t["x"], (2, 3), (2, 3), (1, 1), count_include_pad=True)


@case("global_avgpool", "global_avgpool", "[1, 5, 6, 7] -> [1, 5, 1, 1]")
def _(c):
    c.inp("x", c.randn(1, 5, 6, 7) + 0.5)
    c.line("y = global_avgpool(x)")
    c.ref = lambda t: t["x"].mean(dim=(2, 3), keepdim=True)


# ------------------------------------------------------------ shape ops

@case("flatten", "flatten", "[1, 2, 3, 4] -> [1, 24]")
def _(c):
    c.inp("x", c.randn(1, 2, 3, 4))
    c.line("y = flatten(x)")
    c.ref = lambda t: torch.flatten(t["x"], 1)


@case("flatten_batch2", "flatten", "[2, 3, 2, 2] -> [2, 12], then linear")
def _(c):
    c.inp("x", c.randn(2, 3, 2, 2))
    c.weight_fan("fc.weight", 4, 12)
    c.w("fc.bias", c.randn(4, scale=0.5))
    c.line("f = flatten(x)")
    c.line("y = linear(f, weight=fc.weight, bias=fc.bias)")
    c.ref = lambda t: F.linear(torch.flatten(t["x"], 1), t["fc.weight"], t["fc.bias"])


@case("reshape_neg1", "reshape", "[1, 4, 6] -> shape=[1, -1, 3] = [1, 8, 3]")
def _(c):
    c.inp("x", c.randn(1, 4, 6))
    c.line("y = reshape(x, shape=[1, -1, 3])")
    c.ref = lambda t: t["x"].reshape(1, -1, 3)


@case("reshape_full", "reshape", "[1, 12, 2] -> shape=[2, 3, 4], then add a [4] weight")
def _(c):
    c.inp("x", c.randn(1, 12, 2))
    c.w("b", c.randn(4))
    c.line("r = reshape(x, shape=[2, 3, 4])")
    c.line("y = add(r, b)")
    c.ref = lambda t: t["x"].reshape(2, 3, 4) + t["b"]


@case("transpose_3d", "transpose", "[1, 4, 6] perm=[0, 2, 1]")
def _(c):
    c.inp("x", c.randn(1, 4, 6))
    c.line("y = transpose(x, perm=[0, 2, 1])")
    c.ref = lambda t: t["x"].permute(0, 2, 1).contiguous()


@case("transpose_4d", "transpose", "[1, 2, 3, 4] perm=[0, 3, 1, 2] (NCHW -> NWCH)")
def _(c):
    c.inp("x", c.randn(1, 2, 3, 4))
    c.line("y = transpose(x, perm=[0, 3, 1, 2])")
    c.ref = lambda t: t["x"].permute(0, 3, 1, 2).contiguous()


@case("transpose_4d_full", "transpose", "[2, 3, 4, 5] perm=[2, 0, 3, 1] (moves the batch axis)")
def _(c):
    c.inp("x", c.randn(2, 3, 4, 5))
    c.line("y = transpose(x, perm=[2, 0, 3, 1])")
    c.ref = lambda t: t["x"].permute(2, 0, 3, 1).contiguous()


@case("concat_axis1", "concat", "two inputs [1, 2, 3, 3] and [1, 4, 3, 3], axis=1")
def _(c):
    c.inp("a", c.randn(1, 2, 3, 3))
    c.inp("b", c.randn(1, 4, 3, 3))
    c.line("y = concat(a, b, axis=1)")
    c.ref = lambda t: torch.cat([t["a"], t["b"]], dim=1)


@case("concat_3_last", "concat", "three operands (input, weight, computed) along axis=-1")
def _(c):
    c.inp("x", c.randn(1, 3, 4))
    c.w("extra", c.randn(1, 3, 2))
    c.line("r = relu(x)")
    c.line("y = concat(x, extra, r, axis=-1)")
    c.ref = lambda t: torch.cat([t["x"], t["extra"], F.relu(t["x"])], dim=-1)


@case("concat_axis0_default", "concat", "no axis (defaults to 0): [2, 5] and [3, 5]")
def _(c):
    c.inp("x", c.randn(2, 5))
    c.w("rows", c.randn(3, 5))
    c.line("y = concat(x, rows)")
    c.ref = lambda t: torch.cat([t["x"], t["rows"]], dim=0)


# --------------------------------------------------------------- embedding

@case("embedding", "embedding", "int32 ids [1, 7] into table [20, 8]")
def _(c):
    ids = c.rng.randint(0, 20, size=(1, 7)).astype(np.int32)
    ids[0, 0], ids[0, -1] = 0, 19  # both ends of the table
    c.inp("ids", ids)
    c.w("tok.weight", c.randn(20, 8))
    c.line("y = embedding(ids, table=tok.weight)")
    c.ref = lambda t: F.embedding(t["ids"], t["tok.weight"])


@case("embedding_pos", "embedding, add", "token embedding plus a learned position table [7, 8]")
def _(c):
    ids = c.rng.randint(0, 20, size=(1, 7)).astype(np.int32)
    c.inp("ids", ids)
    c.w("tok.weight", c.randn(20, 8))
    c.w("pos_embed", c.randn(7, 8, scale=0.5))
    c.line("e = embedding(ids, tok.weight)")
    c.line("y = add(e, pos_embed)")
    c.ref = lambda t: F.embedding(t["ids"], t["tok.weight"]) + t["pos_embed"]


# --------------------------------------------------------------- attention

def attention_ref(x, wq, bq, wk, bk, wv, bv, wo, bo, heads, mask=None):
    """Multi-head self-attention written out: q/k/v projections, heads split,
    softmax(q k^T / sqrt(dh) + mask) v, heads merged, output projection."""
    N, T, D = x.shape
    dh = D // heads

    def split(h):  # [N, T, D] -> [N, H, T, dh]
        return h.reshape(N, T, heads, dh).transpose(1, 2)

    q = split(F.linear(x, wq, bq))
    k = split(F.linear(x, wk, bk))
    v = split(F.linear(x, wv, bv))
    s = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(dh)
    if mask is not None:
        s = s + mask
    p = torch.softmax(s, dim=-1)
    ctx = torch.matmul(p, v).transpose(1, 2).reshape(N, T, D)
    return F.linear(ctx, wo, bo)


def mha_check(t, heads, biases, mask=None, prefix="attn."):
    """The written-out reference agrees with torch.nn.MultiheadAttention."""
    x = t["x"]
    D = x.shape[-1]
    g = lambda n: t.get(prefix + n)
    mha = torch.nn.MultiheadAttention(D, heads, bias=biases, batch_first=True).to(x.dtype)
    with torch.no_grad():
        mha.in_proj_weight.copy_(torch.cat([g("wq"), g("wk"), g("wv")]))
        mha.out_proj.weight.copy_(g("wo"))
        if biases:
            mha.in_proj_bias.copy_(torch.cat([g("bq"), g("bk"), g("bv")]))
            mha.out_proj.bias.copy_(g("bo"))
        mine = attention_ref(x, g("wq"), g("bq"), g("wk"), g("bk"), g("wv"), g("bv"), g("wo"),
                             g("bo"), heads, mask)
        theirs, _ = mha(x, x, x, attn_mask=mask, need_weights=False)
    err = (mine - theirs).abs().max().item()
    assert err < 1e-5, f"attention reference vs nn.MultiheadAttention: {err}"
    return mine


def attention_case(c, N, T, D, heads, biases=True, mask=None, mask_as="input"):
    c.inp("x", c.randn(N, T, D))
    args = ["x"]
    for n in ("q", "k", "v", "o"):
        c.weight_fan(f"attn.w{n}", D, D)
        args.append(f"w{n}=attn.w{n}")
        if biases:
            c.w(f"attn.b{n}", c.randn(D, scale=0.2))
            args.append(f"b{n}=attn.b{n}")
    if mask is not None:
        if mask_as == "input":
            c.inp("mask", mask)
        else:
            c.w("mask", mask)
        args.append("mask=mask")
    args.append(f"heads={heads}")
    # A call spanning two lines (allowed inside parentheses).
    c.line("y = attention(" + ", ".join(args[:5]) + ",\n              " + ", ".join(args[5:]) + ")")

    def ref(t):
        return mha_check(t, heads, biases, t.get("mask"))
    c.ref = ref


@case("attention_h2", "attention", "x [1, 6, 16], heads=2, all biases")
def _(c):
    attention_case(c, 1, 6, 16, 2)


@case("attention_h4", "attention", "x [1, 6, 16], heads=4, all biases")
def _(c):
    attention_case(c, 1, 6, 16, 4)


@case("attention_batch2", "attention", "x [2, 5, 12], heads=3 (two sequences at once)")
def _(c):
    attention_case(c, 2, 5, 12, 3)


@case("attention_nobias", "attention", "x [1, 6, 16], heads=2, no biases (optional slots left out)")
def _(c):
    attention_case(c, 1, 6, 16, 2, biases=False)


@case("attention_mask_input", "attention", "causal additive mask [6, 6] of -1e9 given as a second model input")
def _(c):
    m = np.triu(np.full((6, 6), -1e9, np.float32), k=1)
    attention_case(c, 1, 6, 16, 2, mask=m, mask_as="input")


@case("attention_mask_weight", "attention", "additive mask [6, 6] with -10 and 0 entries, stored as a weight, heads=4")
def _(c):
    m = np.where(c.rng.uniform(size=(6, 6)) < 0.4, -10.0, 0.0).astype(np.float32)
    np.fill_diagonal(m, 0.0)
    attention_case(c, 1, 6, 16, 4, mask=m, mask_as="weight")


# ------------------------------------------------- blocks, nesting, chains

@case("block_mlp", "block, linear, relu", "a block with a weight-prefix parameter, called twice")
def _(c):
    c.inp("x", c.randn(1, 8))
    for i in range(2):
        c.weight_fan(f"layers.{i}.fc.weight", 8, 8)
        c.w(f"layers.{i}.fc.bias", c.randn(8, scale=0.3))
    c.line("block mlp(x, p) {")
    c.line("  h = relu(linear(x, weight=p.fc.weight, bias=p.fc.bias))")
    c.line("  return h")
    c.line("}")
    c.line("y1 = mlp(x, layers.0)")
    c.line("y = mlp(y1, layers.1)")

    def ref(t):
        h = t["x"]
        for i in range(2):
            h = F.relu(F.linear(h, t[f"layers.{i}.fc.weight"], t[f"layers.{i}.fc.bias"]))
        return h
    c.ref = ref


@case("nested_gelu_linear", "gelu, linear, add, mul", "nested calls: gelu(linear(...)) and add(x, mul(x, 0.5))")
def _(c):
    c.inp("x", c.randn(1, 3, 10))
    c.weight_fan("fc.weight", 10, 10)
    c.w("fc.bias", c.randn(10, scale=0.3))
    c.line("h = gelu(linear(x, weight=fc.weight, bias=fc.bias))")
    c.line("y = add(h, mul(x, 0.5))")

    def ref(t):
        h = F.gelu(F.linear(t["x"], t["fc.weight"], t["fc.bias"]))
        return h + t["x"] * 0.5
    c.ref = ref


@case("chain_cnn", "conv2d, batchnorm, relu, maxpool2d, relu6, global_avgpool, flatten, linear, softmax",
      "a small CNN: conv-bn-relu-pool, depthwise conv-relu6, global pool, classifier, softmax")
def _(c):
    c.inp("x", c.randn(1, 3, 10, 10))
    c.weight_fan("c1.weight", 8, 3, 3, 3)
    c.w("c1.bias", c.randn(8, scale=0.2))
    c.w("bn.weight", c.uniform(0.5, 1.5, 8))
    c.w("bn.bias", c.randn(8, scale=0.3))
    c.w("bn.mean", c.randn(8, scale=0.3))
    c.w("bn.var", c.uniform(0.5, 2.0, 8))
    c.weight_fan("dw.weight", 8, 1, 3, 3)
    c.weight_fan("fc.weight", 5, 8)
    c.w("fc.bias", c.randn(5, scale=0.3))
    c.line("c1 = conv2d(x, weight=c1.weight, bias=c1.bias, stride=1, pad=1)")
    c.line("b1 = batchnorm(c1, gamma=bn.weight, beta=bn.bias, mean=bn.mean, var=bn.var, eps=1e-5)")
    c.line("r1 = relu(b1)")
    c.line("p1 = maxpool2d(r1, kernel=2, stride=2)")
    c.line("d1 = relu6(conv2d(p1, weight=dw.weight, pad=1, groups=8))")
    c.line("g = global_avgpool(d1)")
    c.line("f = flatten(g)")
    c.line("logits = linear(f, weight=fc.weight, bias=fc.bias)")
    c.line("y = softmax(logits, axis=-1)")

    def ref(t):
        h = F.conv2d(t["x"], t["c1.weight"], t["c1.bias"], padding=1)
        h = F.batch_norm(h, t["bn.mean"], t["bn.var"], t["bn.weight"], t["bn.bias"], False, eps=1e-5)
        h = F.max_pool2d(F.relu(h), 2, 2)
        h = F.relu6(F.conv2d(h, t["dw.weight"], padding=1, groups=8))
        h = torch.flatten(h.mean(dim=(2, 3), keepdim=True), 1)
        return F.softmax(F.linear(h, t["fc.weight"], t["fc.bias"]), dim=-1)
    c.ref = ref


@case("chain_encoder", "block, layernorm, attention, add, linear, gelu, sigmoid, tanh",
      "two pre-norm transformer encoder layers (interfaces.md §2's block) and a gated head")
def _(c):
    D, H = 16, 4
    c.inp("x", c.randn(1, 6, D))
    for i in range(2):
        p = f"layers.{i}."
        c.w(p + "ln1.weight", c.uniform(0.8, 1.2, D))
        c.w(p + "ln1.bias", c.randn(D, scale=0.1))
        for n in ("q", "k", "v", "o"):
            c.weight_fan(p + n + ".weight", D, D)
            c.w(p + n + ".bias", c.randn(D, scale=0.1))
        c.w(p + "ln2.weight", c.uniform(0.8, 1.2, D))
        c.w(p + "ln2.bias", c.randn(D, scale=0.1))
        c.weight_fan(p + "up.weight", 2 * D, D)
        c.w(p + "up.bias", c.randn(2 * D, scale=0.1))
        c.weight_fan(p + "down.weight", D, 2 * D)
        c.w(p + "down.bias", c.randn(D, scale=0.1))
    c.weight_fan("head.weight", 3, D)
    c.line("""block encoder(x, p) {
  h  = layernorm(x, gamma=p.ln1.weight, beta=p.ln1.bias, eps=1e-5)
  a  = attention(h, wq=p.q.weight, bq=p.q.bias, wk=p.k.weight, bk=p.k.bias,
                    wv=p.v.weight, bv=p.v.bias, wo=p.o.weight, bo=p.o.bias, heads=4)
  x1 = add(x, a)
  h2 = layernorm(x1, gamma=p.ln2.weight, beta=p.ln2.bias, eps=1e-5, norm=l1)
  u  = gelu(linear(h2, weight=p.up.weight, bias=p.up.bias))
  x2 = add(x1, linear(u, weight=p.down.weight, bias=p.down.bias))
  return x2
}
y1 = encoder(x, layers.0)
y2 = encoder(y1, layers.1)
z = linear(y2, weight=head.weight)
y = mul(sigmoid(z), tanh(z))""")

    def ref(t):
        x = t["x"]
        for i in range(2):
            g = lambda n: t[f"layers.{i}.{n}"]
            h = F.layer_norm(x, (D,), g("ln1.weight"), g("ln1.bias"), eps=1e-5)
            a = attention_ref(h, g("q.weight"), g("q.bias"), g("k.weight"), g("k.bias"),
                              g("v.weight"), g("v.bias"), g("o.weight"), g("o.bias"), H)
            x1 = x + a
            h2 = l1_norm(x1, g("ln2.weight"), g("ln2.bias"), 1e-5)
            u = F.gelu(F.linear(h2, g("up.weight"), g("up.bias")))
            x = x1 + F.linear(u, g("down.weight"), g("down.bias"))
        z = F.linear(x, t["head.weight"])
        return torch.sigmoid(z) * torch.tanh(z)
    c.ref = ref


# ------------------------------------------------- ops added for ONNX import

def unary_case(c, line, fn, lo=-4.0, hi=4.0, shape=(2, 3, 8)):
    c.inp("x", c.spread(lo, hi, *shape))
    c.line("y = " + line)
    c.ref = lambda t: fn(t["x"])


@case("div_broadcast", "div", "a [2, 3, 4] / b [3, 1] (b away from 0)")
def _(c):
    c.inp("a", c.randn(2, 3, 4))
    c.w("b", c.uniform(0.5, 2.0, 3, 1) * np.sign(c.randn(3, 1)))
    c.line("y = div(a, b)")
    c.ref = lambda t: t["a"] / t["b"]


@case("pow_square_sqrt", "pow, sqrt", "pow(x, 2) then pow(x^2 + 1, 0.5) (a LayerNorm's pieces)")
def _(c):
    c.inp("x", c.randn(2, 8))
    c.w("two", np.array([2.0], np.float32))
    c.w("one", np.array([1.0], np.float32))
    c.w("half", np.array([0.5], np.float32))
    c.line("s = pow(x, two)")
    c.line("y = add(sqrt(add(s, one)), pow(add(s, one), half))")
    c.ref = lambda t: torch.sqrt(t["x"] ** 2 + 1) + (t["x"] ** 2 + 1) ** 0.5


@case("erf", "erf", "erf over [-3, 3]")
def _(c):
    unary_case(c, "erf(x)", torch.erf, -3, 3)


@case("exp", "exp", "exp over [-4, 3]")
def _(c):
    unary_case(c, "exp(x)", torch.exp, -4, 3)


@case("abs_neg", "abs, neg", "neg(abs(x))")
def _(c):
    unary_case(c, "neg(abs(x))", lambda x: -torch.abs(x))


@case("hardswish", "hardswish", "hardswish over [-5, 5] (both kinks)")
def _(c):
    unary_case(c, "hardswish(x)", F.hardswish, -5, 5)


@case("hardsigmoid_torch", "hardsigmoid", "alpha=1/6, beta=0.5: PyTorch's hardsigmoid")
def _(c):
    unary_case(c, "hardsigmoid(x, alpha=0.16666666666666666, beta=0.5)", F.hardsigmoid, -5, 5)


@case("leakyrelu", "leakyrelu", "alpha=0.1")
def _(c):
    unary_case(c, "leakyrelu(x, alpha=0.1)", lambda x: F.leaky_relu(x, 0.1))


@case("clip", "clip", "min=-1.5, max=2")
def _(c):
    unary_case(c, "clip(x, min=-1.5, max=2)", lambda x: torch.clamp(x, -1.5, 2.0))


@case("reducemean_last_keep", "reducemean", "mean over the last axis, keepdims")
def _(c):
    c.inp("x", c.randn(2, 3, 16))
    c.line("y = reducemean(x, axes=[-1], keepdims=1)")
    c.ref = lambda t: t["x"].mean(dim=-1, keepdim=True)


@case("reducemean_hw", "reducemean", "mean over H and W without keepdims: [1, 4, 5, 6] -> [1, 4]")
def _(c):
    c.inp("x", c.randn(1, 4, 5, 6))
    c.line("y = reducemean(x, axes=[2, 3], keepdims=0)")
    c.ref = lambda t: t["x"].mean(dim=(2, 3))


@case("squeeze_unsqueeze", "squeeze, unsqueeze", "[1, 3, 1, 4] -> squeeze [0, 2] -> unsqueeze [1]")
def _(c):
    c.inp("x", c.randn(1, 3, 1, 4))
    c.line("y = unsqueeze(squeeze(x, axes=[0, 2]), axes=[1])")
    c.ref = lambda t: t["x"].squeeze(2).squeeze(0).unsqueeze(1)


@case("pad_constant", "pad", "[1, 2, 3, 4] padded [0, 0, 1, 2, 0, 0, 2, 1] with 0.5")
def _(c):
    c.inp("x", c.randn(1, 2, 3, 4))
    c.line("y = pad(x, pads=[0, 0, 1, 2, 0, 0, 2, 1], value=0.5)")
    c.ref = lambda t: F.pad(t["x"], (2, 1, 1, 2), value=0.5)


# ------------------------------------------------------------------- main

def main():
    names = [n for n, *_ in CASES]
    assert len(names) == len(set(names)), "duplicate case names"
    if os.path.isdir(OUT):
        shutil.rmtree(OUT)
    os.makedirs(OUT)
    rows = []
    for name, ops, doc, fn in sorted(CASES, key=lambda c: c[0]):
        c = Case(name, ops, doc)
        fn(c)
        y, err = c.write()
        ins = ", ".join(f"{k} {shape_of(v)}{' i32' if v.dtype == np.int32 else ''}"
                        for k, v in c.inputs.items())
        rows.append(f"| `{name}` | {ops} | {doc} | {ins} | {shape_of(y)} |")
        print(f"{name:28s} out {shape_of(y):18s} f32-vs-f64 ref {err:.1e}")
    with open(os.path.join(OUT, "README.md"), "w") as f:
        f.write("# Operator cases (generated by tests/ops/gen_cases.py — do not edit)\n\n")
        f.write("Each folder holds `model.nn`, its weights `w/*.npy` (when it has any), the input\n"
                "(`input.npy`, or `input_<name>.npy` per input for models with several) and\n"
                "`expected.npy`, the output PyTorch 1.13 computes in float32 on the CPU.\n"
                "`tests/unit/test_ops_torch.c` runs each through `shiftc run --float` and\n"
                "requires a max abs error <= 1e-5. Regenerate with\n"
                "`/usr/bin/python3 tests/ops/gen_cases.py` from the repository root.\n\n")
        f.write(f"{len(rows)} cases.\n\n")
        f.write("| case | ops | what it exercises | inputs | output |\n|---|---|---|---|---|\n")
        f.write("\n".join(rows) + "\n")
    print(f"{len(rows)} cases written to {os.path.relpath(OUT)}")


if __name__ == "__main__":
    sys.exit(main())
