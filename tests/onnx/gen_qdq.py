"""Generates the QDQ test models (run with /usr/bin/python3): tests/onnx/qdq_{pow2,dyadic}.onnx,
their input (qdq.input.npy) and the int8 output codes the QDQ arithmetic gives
(qdq_{pow2,dyadic}.codes.npy, computed here in exact integer arithmetic), and the conv's
int8 weight codes (qdq_*.w1.npy). Weight codes are drawn from [-90, 90], so that scales
the compiler computed itself (max|w| / 127) would differ from the model's.

The graph is what QAT exports look like, built with onnx.helper at opset 13:
  x -> Q/DQ(sx) -> Conv(DQ(int8 W1, per-channel scales, axis 0), DQ(int32 b1, sx*sw1))
    -> Relu -> Q/DQ(s1) -> Flatten -> Gemm(transB=1, DQ(int8 W2, one scale), DQ(int32 b2))
    -> Q/DQ(sy) -> y
pow2 has power-of-two scales (for requantize: shift), dyadic arbitrary ones (requantize:
dyadic; shift mode must reject them). The data are drawn again until no requantized value
lies within 1e-3 of a rounding tie or beyond +-127, so that the exact codes do not depend
on how ties round (ONNX rounds half to even, shiftc half up) or on float32 evaluation."""
import os

import numpy as np
import onnx
from onnx import TensorProto, helper

HERE = os.path.dirname(os.path.abspath(__file__))


def conv_codes(xq, w, b):
    n, c, h, wd = xq.shape
    o = w.shape[0]
    xp = np.pad(xq, ((0, 0), (0, 0), (1, 1), (1, 1)))
    acc = np.zeros((n, o, h, wd), dtype=np.int64)
    for i in range(3):
        for j in range(3):
            acc += np.einsum("nchw,oc->nohw", xp[:, :, i:i + h, j:j + wd], w[:, :, i, j])
    return acc + b[None, :, None, None]


def requant(acc, scale):
    """round(acc * scale) with scale as float64; None if near a tie or out of range."""
    v = acc.astype(np.float64) * scale
    frac = np.abs(v - np.floor(v) - 0.5)
    if frac.min() < 1e-3 or np.abs(v).max() > 126.5:
        return None
    return np.floor(v + 0.5).astype(np.int64)


def build(name, sx, sw1, s1, sw2, sy, rng):
    for attempt in range(1000):
        xq = rng.integers(-50, 51, size=(2, 2, 6, 6))
        w1 = rng.integers(-90, 91, size=(4, 2, 3, 3))
        b1 = rng.integers(-3000, 3001, size=4)
        w2 = rng.integers(-90, 91, size=(3, 144))
        b2 = rng.integers(-2000, 2001, size=3)
        a1 = conv_codes(xq, w1, b1)
        h = requant(a1, (sx * sw1 / s1)[None, :, None, None])
        if h is None:
            continue
        h = np.maximum(h, 0)  # Relu before the Q: same as relu on the codes
        a2 = h.reshape(2, -1) @ w2.T + b2
        y = requant(a2, s1 * sw2 / sy)
        if y is not None:
            break
    else:
        raise SystemExit(name + ": no data without ties in 1000 draws; adjust the scales")
    f32 = lambda a: np.asarray(a, dtype=np.float32)
    inits = [
        helper.make_tensor("sx", TensorProto.FLOAT, [], [sx]),
        helper.make_tensor("s1", TensorProto.FLOAT, [], [s1]),
        helper.make_tensor("sy", TensorProto.FLOAT, [], [sy]),
        helper.make_tensor("zp", TensorProto.INT8, [], [0]),
        helper.make_tensor("w1_q", TensorProto.INT8, list(w1.shape), w1.ravel().tolist()),
        helper.make_tensor("w1_s", TensorProto.FLOAT, [4], f32(sw1).tolist()),
        helper.make_tensor("w1_zp", TensorProto.INT8, [4], [0] * 4),
        helper.make_tensor("b1_q", TensorProto.INT32, [4], b1.tolist()),
        helper.make_tensor("b1_s", TensorProto.FLOAT, [4], f32(sx * sw1).tolist()),
        helper.make_tensor("w2_q", TensorProto.INT8, list(w2.shape), w2.ravel().tolist()),
        helper.make_tensor("w2_s", TensorProto.FLOAT, [], [sw2]),
        helper.make_tensor("b2_q", TensorProto.INT32, [3], b2.tolist()),
        helper.make_tensor("b2_s", TensorProto.FLOAT, [], [np.float32(s1 * sw2)]),
    ]
    nodes = [
        helper.make_node("QuantizeLinear", ["x", "sx", "zp"], ["x_q"]),
        helper.make_node("DequantizeLinear", ["x_q", "sx", "zp"], ["x_dq"]),
        helper.make_node("DequantizeLinear", ["w1_q", "w1_s", "w1_zp"], ["w1"], axis=0),
        helper.make_node("DequantizeLinear", ["b1_q", "b1_s"], ["b1"], axis=0),
        helper.make_node("Conv", ["x_dq", "w1", "b1"], ["c1"], pads=[1, 1, 1, 1], kernel_shape=[3, 3], name="conv1"),
        helper.make_node("Relu", ["c1"], ["r1"], name="relu1"),
        helper.make_node("QuantizeLinear", ["r1", "s1", "zp"], ["r1_q"]),
        helper.make_node("DequantizeLinear", ["r1_q", "s1", "zp"], ["r1_dq"]),
        helper.make_node("Flatten", ["r1_dq"], ["f"], axis=1),
        helper.make_node("DequantizeLinear", ["w2_q", "w2_s", "zp"], ["w2"]),
        helper.make_node("DequantizeLinear", ["b2_q", "b2_s"], ["b2"]),
        helper.make_node("Gemm", ["f", "w2", "b2"], ["g"], transB=1, name="fc"),
        helper.make_node("QuantizeLinear", ["g", "sy", "zp"], ["y_q"]),
        helper.make_node("DequantizeLinear", ["y_q", "sy", "zp"], ["y"]),
    ]
    graph = helper.make_graph(nodes, name, [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 2, 6, 6])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 3])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="gen_qdq.py")
    onnx.checker.check_model(model)
    onnx.save(model, os.path.join(HERE, name + ".onnx"))
    np.save(os.path.join(HERE, name + ".input.npy"), (xq * sx).astype(np.float32))
    np.save(os.path.join(HERE, name + ".codes.npy"), y.astype(np.int8))
    np.save(os.path.join(HERE, name + ".w1.npy"), w1.astype(np.int8))


rng = np.random.default_rng(7)
build("qdq_pow2", 2.0**-4, 2.0 ** -np.array([10, 11, 10, 11]), 2.0**-4, 2.0**-9, 2.0**-5, rng)
# Scales as float32 values (what the file stores), so the expectation uses the same numbers.
f = lambda v: np.float64(np.float32(v))
build("qdq_dyadic", f(0.05), np.array([f(0.0031), f(0.0023), f(0.0037), f(0.0027)]), f(0.093), f(0.0051),
      f(0.31), rng)
