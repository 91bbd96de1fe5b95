#!/usr/bin/python3
"""PyTorch -> ONNX -> shiftc, end to end on scikit-learn's 8x8 digits.

Trains two models and exports them with torch.onnx.export:
  digits_dwcnn.onnx        CNN: conv3x3+BN+ReLU, depthwise 3x3+BN+ReLU6, pointwise 1x1+BN+ReLU,
                           maxpool, flatten, linear (opset 13)
  digits_encoder13.onnx    Transformer encoder: the 8 pixel rows as 8 tokens, linear embedding,
  digits_encoder17.onnx    one nn.TransformerEncoderLayer (d=16, 2 heads, GELU), mean over tokens,
                           linear (the same weights at opset 13 and 17)
  digits_encoder2l.onnx    the same with two encoder layers (opset 13): `shiftc import` writes
                           them as one `block` called twice
and writes next to this script: test.safetensors / calib.safetensors (input `image`, `labels`),
sample.npy (8 test images) with each model's PyTorch outputs on them (<model>.expected.npy),
digits_dwcnn.yaml, float_accuracy.txt.

Run from anywhere (deterministic, ~1 min on 2 cores):  /usr/bin/python3 examples/onnx_digits/export.py
"""
import os
import sys
sys.dont_write_bytecode = True

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "common"))

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402

import safetensors_np  # noqa: E402
import train_util as tu  # noqa: E402


class DWCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        self.dw = nn.Conv2d(16, 16, 3, padding=1, groups=16, bias=False)   # depthwise
        self.bn2 = nn.BatchNorm2d(16)
        self.pw = nn.Conv2d(16, 24, 1, bias=False)                         # pointwise
        self.bn3 = nn.BatchNorm2d(24)
        self.fc = nn.Linear(24 * 4 * 4, 10)

    def forward(self, x):
        x = torch.relu(self.bn1(self.conv1(x)))
        x = nn.functional.relu6(self.bn2(self.dw(x)))
        x = torch.relu(self.bn3(self.pw(x)))
        x = nn.functional.max_pool2d(x, 2)
        return self.fc(torch.flatten(x, 1))


class Encoder(nn.Module):
    def __init__(self, d=16):
        super().__init__()
        self.embed = nn.Linear(8, d)
        self.layer = nn.TransformerEncoderLayer(d, 2, dim_feedforward=32, dropout=0.0,
                                                activation="gelu", batch_first=True)
        self.fc = nn.Linear(d, 10)

    def forward(self, x):                      # x: [N, 1, 8, 8]
        t = self.embed(x.reshape(x.shape[0], 8, 8))
        t = self.layer(t)
        return self.fc(t.mean(dim=1))


class Encoder2L(nn.Module):
    """Encoder with two layers of different weights (a repeated subgraph for `import`)."""
    def __init__(self, d=16):
        super().__init__()
        self.embed = nn.Linear(8, d)
        self.layers = nn.ModuleList(nn.TransformerEncoderLayer(d, 2, dim_feedforward=32, dropout=0.0,
                                                               activation="gelu", batch_first=True)
                                    for _ in range(2))
        self.fc = nn.Linear(d, 10)

    def forward(self, x):
        t = self.embed(x.reshape(x.shape[0], 8, 8))
        for layer in self.layers:
            t = layer(t)
        return self.fc(t.mean(dim=1))


def export(model, path, opset):
    model.eval()
    torch.onnx.export(model, torch.zeros(1, 1, 8, 8), path, input_names=["image"], output_names=["logits"],
                      opset_version=opset, do_constant_folding=True)


def main():
    tu.deterministic(0)
    xtr, ytr, xte, yte = tu.digits_split(0)
    xtr, xte = xtr.reshape(-1, 1, 8, 8), xte.reshape(-1, 1, 8, 8)
    j = lambda f: os.path.join(HERE, f)  # noqa: E731
    safetensors_np.save_file({"image": xte, "labels": yte}, j("test.safetensors"))
    safetensors_np.save_file({"image": tu.calib_subset(xtr, 256, 0)}, j("calib.safetensors"))
    sample = np.ascontiguousarray(xte[:8])
    np.save(j("sample.npy"), sample)
    lines = []
    for name, model, epochs, lr, opsets in (("digits_dwcnn", DWCNN(), 30, 3e-3, (13,)),
                                            ("digits_encoder", Encoder(), 40, 3e-3, (13, 17)),
                                            ("digits_encoder2l", Encoder2L(), 40, 3e-3, (13,))):
        tu.deterministic(0)
        tu.train(model, xtr, ytr, epochs=epochs, lr=lr, weight_decay=1e-4, batch=32)
        correct = int((tu.evaluate(model, xte) == yte).sum())
        lines.append("%s correct %d total %d" % (name, correct, len(yte)))
        with torch.no_grad():
            ref = model(torch.from_numpy(sample)).numpy()
        for op in opsets:
            stem = name if len(opsets) == 1 else "%s%d" % (name, op)
            export(model, j(stem + ".onnx"), op)
            np.save(j(stem + ".expected.npy"), np.ascontiguousarray(ref))
        print("%s: float top-1 %d/%d" % (name, correct, len(yte)))
    tu.write_text(j("float_accuracy.txt"), "\n".join(lines) + "\n")
    tu.write_text(j("digits_dwcnn.yaml"), tu.YAML % {"name": "digits_dwcnn"})


if __name__ == "__main__":
    main()
