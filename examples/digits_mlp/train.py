#!/usr/bin/python3
"""Train a small MLP on sklearn's 8x8 digits and write the shiftc example files next to this script.

Run from anywhere:  /usr/bin/python3 examples/digits_mlp/train.py
Writes: digits_mlp.nn, digits_mlp.safetensors, digits_mlp.yaml, test.safetensors,
        calib.safetensors, float_accuracy.txt, README.md
"""
import os
import sys
sys.dont_write_bytecode = True  # keep examples/ free of __pycache__

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "common"))

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402

import train_util as tu  # noqa: E402

NAME = "digits_mlp"


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(64, 64)
        self.fc2 = nn.Linear(64, 32)
        self.fc3 = nn.Linear(32, 10)

    def forward(self, x):
        x = torch.relu(self.fc1(x))
        x = torch.relu(self.fc2(x))
        return self.fc3(x)


NN_BODY = """\
input image : f32[1, 64]

h1 = linear(image, weight=fc1.weight, bias=fc1.bias)
r1 = relu(h1)
h2 = linear(r1, weight=fc2.weight, bias=fc2.bias)
r2 = relu(h2)
logits = linear(r2, weight=fc3.weight, bias=fc3.bias)

output logits
"""


def main():
    tu.deterministic(0)
    xtr, ytr, xte, yte = tu.digits_split(0)          # [N, 64] in [0, 1]
    model = MLP()
    secs = tu.train(model, xtr, ytr, epochs=60, lr=2e-3, weight_decay=1e-4, batch=32)
    correct, total = tu.write_common(
        HERE, NAME, model, NN_BODY, xte, yte, tu.calib_subset(xtr, 256, 0),
        "MLP 64-64-32-10 with ReLU; input = 8x8 pixels / 16, row-major", "digits")
    acc = 100.0 * correct / total
    tu.write_text(os.path.join(HERE, "README.md"), README % dict(acc=acc, c=correct, t=total))
    print("%s: float top-1 %d/%d = %.2f%%, trained in %.1fs" % (NAME, correct, total, acc, secs))


README = """\
# digits_mlp

A 3-layer MLP (linear 64->64, ReLU, linear 64->32, ReLU, linear 32->10) on scikit-learn's
8x8 digits (`load_digits()`, pixels 0..16 divided by 16). Input `image : f32[1, 64]`, output logits.
Held-out set: a fixed stratified 20%% split (seed 0), stored in `test.safetensors`
(`image` [N, 64] f32, `labels` [N] i64); `calib.safetensors` holds 256 training images.
Float top-1: %(c)d/%(t)d = %(acc).2f%% (`float_accuracy.txt`).
Retrain (deterministic, seconds on CPU): `/usr/bin/python3 examples/digits_mlp/train.py`
Compile: `shiftc compile examples/digits_mlp/digits_mlp.nn -c examples/digits_mlp/digits_mlp.yaml`
"""

if __name__ == "__main__":
    main()
