#!/usr/bin/python3
"""make_onnx.py — writes the bad ONNX models of tests/errors/ (run from the repository root:
/usr/bin/python3 tests/errors/make_onnx.py). Each is tiny and deterministic."""
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))


def model(nodes, inputs, outputs, inits=(), opset=13):
    g = helper.make_graph(nodes, "g", inputs, outputs, list(inits))
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)], producer_name="shiftc-tests")
    m.ir_version = 8
    return m


def save(m, name):
    with open(os.path.join(HERE, name), "wb") as f:
        f.write(m.SerializeToString())


x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])
y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])
w = numpy_helper.from_array(np.arange(16, dtype=np.float32).reshape(4, 4) / 16, "w")

good = model([helper.make_node("MatMul", ["x", "w"], ["h"], name="mm"),
              helper.make_node("Relu", ["h"], ["y"], name="act")], [x], [y], [w])
save(good, "onnx_good.onnx")
data = good.SerializeToString()
with open(os.path.join(HERE, "onnx_truncated.onnx"), "wb") as f:
    f.write(data[: len(data) - 7])
save(model([helper.make_node("MatMul", ["x", "w"], ["h"], name="mm"),
            helper.make_node("Celu", ["h"], ["y"], name="odd_act")], [x], [y], [w]), "onnx_unsupported_op.onnx")
xd = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 4])
yd = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 4])
save(model([helper.make_node("Relu", ["x"], ["y"], name="act")], [xd], [yd]), "onnx_dynamic.onnx")
save(model([helper.make_node("MatMul", ["x", "w_missing"], ["y"], name="mm")], [x], [y]), "onnx_missing_init.onnx")
save(model([helper.make_node("Relu", ["x"], ["y"], name="act")], [x], [y], opset=8), "onnx_opset8.onnx")
zp = numpy_helper.from_array(np.array(3, dtype=np.int8), "zp")
sc = numpy_helper.from_array(np.array(0.05, dtype=np.float32), "sc")
save(model([helper.make_node("QuantizeLinear", ["x", "sc", "zp"], ["q"], name="q"),
            helper.make_node("DequantizeLinear", ["q", "sc", "zp"], ["y"], name="dq")], [x], [y], [sc, zp]),
     "onnx_qdq_zero_point.onnx")
# Resize in a mode shiftc does not implement: the message names the node and the mode.
xr = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1, 2, 2])
yr = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 1, 4, 4])
scales = numpy_helper.from_array(np.array([1, 1, 2, 2], dtype=np.float32), "scales")
save(model([helper.make_node("Resize", ["x", "", "scales"], ["y"], name="up", mode="cubic")], [xr], [yr], [scales]),
     "onnx_resize_cubic.onnx")
# ConvTranspose of a 3-D volume: only 1-D and 2-D are supported; the message names the node.
xv = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1, 2, 2, 2])
yv = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 1, 3, 3, 3])
wv3 = numpy_helper.from_array(np.ones((1, 1, 2, 2, 2), dtype=np.float32), "w3")
save(model([helper.make_node("ConvTranspose", ["x", "w3"], ["y"], name="up3d")], [xv], [yv], [wv3]),
     "onnx_convtranspose_3d.onnx")
