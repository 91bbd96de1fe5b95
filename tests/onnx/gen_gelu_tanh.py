"""Generates tests/onnx/gelu_tanh.{onnx,input.npy,expected.npy} (run with /usr/bin/python3;
torch 1.13). A Linear, torch.nn.GELU(approximate='tanh') (torch's own export of the tanh
form), a Linear, and BERT's gelu_new written out (0.5 * x * (1 + tanh(...x + 0.044715 *
pow(x, 3)))), exported at opset 13. test_onnx_gelu_tanh.c checks that the importer turns
each into one gelu(approximate=tanh) node and that `run --float` matches torch's outputs."""
import math
import os

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))


class GeluNew(torch.nn.Module):
    def forward(self, x):
        return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


class Model(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = torch.nn.Linear(8, 16)
        self.act1 = torch.nn.GELU(approximate="tanh")
        self.fc2 = torch.nn.Linear(16, 8)
        self.act2 = GeluNew()

    def forward(self, x):
        return self.act2(self.fc2(self.act1(self.fc1(x))))


torch.manual_seed(0)
m = Model().eval()
x = torch.randn(4, 8) * 2
with torch.no_grad():
    y = m(x)
torch.onnx.export(m, x, os.path.join(HERE, "gelu_tanh.onnx"), opset_version=13,
                  input_names=["x"], output_names=["y"])
np.save(os.path.join(HERE, "gelu_tanh.input.npy"), x.numpy().astype(np.float32))
np.save(os.path.join(HERE, "gelu_tanh.expected.npy"), y.numpy().astype(np.float32))
