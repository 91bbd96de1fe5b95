"""Generates tests/onnx/opset9.{onnx,input.npy,expected.npy} (run with /usr/bin/python3).
Opset 9 writes as attributes what later opsets take as inputs: Slice's starts/ends/axes
(inputs from opset 10), Pad's pads and value and Clip's min/max (inputs from opset 11).
One small graph uses each, with a negative start, an end past the axis and a non-zero pad
value; the expected output is numpy's. test_onnx_opset9.c checks `run --float` against it."""
import os

import numpy as np
import onnx
from onnx import TensorProto, helper

HERE = os.path.dirname(os.path.abspath(__file__))

nodes = [
    helper.make_node("Slice", ["x"], ["s"], starts=[1, -5], ends=[3, 100], axes=[1, 2], name="slice"),
    helper.make_node("Pad", ["s"], ["p"], mode="constant", pads=[0, 1, 0, 0, 0, 2], value=0.25, name="pad"),
    helper.make_node("Clip", ["p"], ["y"], min=-0.5, max=0.75, name="clip"),
]
x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, 6])
y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3, 7])
g = helper.make_graph(nodes, "opset9", [x], [y])
m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 9)], producer_name="shiftc-tests")
m.ir_version = 4
onnx.checker.check_model(m)
onnx.save(m, os.path.join(HERE, "opset9.onnx"))

xv = np.random.default_rng(9).uniform(-1.5, 1.5, (3, 4, 6)).astype(np.float32)  # 3 samples of [1, 4, 6]
s = xv[:, 1:3, 1:6]
p = np.pad(s, ((0, 0), (1, 0), (0, 2)), constant_values=0.25)
np.save(os.path.join(HERE, "opset9.input.npy"), xv)
np.save(os.path.join(HERE, "opset9.expected.npy"), np.clip(p, -0.5, 0.75).astype(np.float32))
