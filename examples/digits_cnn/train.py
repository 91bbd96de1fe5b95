#!/usr/bin/python3
"""Train a small CNN with BatchNorm on sklearn's 8x8 digits and write the shiftc example files
next to this script.

Run from anywhere:  /usr/bin/python3 examples/digits_cnn/train.py
Writes: digits_cnn.nn, digits_cnn.safetensors, digits_cnn.yaml, test.safetensors,
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

NAME = "digits_cnn"


class CNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3, padding=1)       # conv bias kept (folded with BN by shiftc)
        self.bn1 = nn.BatchNorm2d(8)
        self.conv2 = nn.Conv2d(8, 16, 3, padding=1)
        self.bn2 = nn.BatchNorm2d(16)
        self.fc = nn.Linear(16 * 2 * 2, 10)

    def forward(self, x):
        x = nn.functional.max_pool2d(torch.relu(self.bn1(self.conv1(x))), 2, 2)   # 8x4x4
        x = nn.functional.max_pool2d(torch.relu(self.bn2(self.conv2(x))), 2, 2)   # 16x2x2
        return self.fc(torch.flatten(x, 1))


NN_BODY = """\
input image : f32[1, 1, 8, 8]

c1 = conv2d(image, weight=conv1.weight, bias=conv1.bias, stride=1, pad=1)
b1 = batchnorm(c1, gamma=bn1.weight, beta=bn1.bias, mean=bn1.running_mean, var=bn1.running_var, eps=1e-5)
r1 = relu(b1)
p1 = maxpool2d(r1, kernel=2, stride=2)
c2 = conv2d(p1, weight=conv2.weight, bias=conv2.bias, stride=1, pad=1)
b2 = batchnorm(c2, gamma=bn2.weight, beta=bn2.bias, mean=bn2.running_mean, var=bn2.running_var, eps=1e-5)
r2 = relu(b2)
p2 = maxpool2d(r2, kernel=2, stride=2)
f  = flatten(p2)
logits = linear(f, weight=fc.weight, bias=fc.bias)

output logits
"""


def main():
    tu.deterministic(0)
    xtr, ytr, xte, yte = tu.digits_split(0)          # [N, 64] in [0, 1]
    xtr = xtr.reshape(-1, 1, 8, 8)
    xte = xte.reshape(-1, 1, 8, 8)
    model = CNN()
    secs = tu.train(model, xtr, ytr, epochs=40, lr=3e-3, weight_decay=1e-4, batch=32)
    correct, total = tu.write_common(
        HERE, NAME, model, NN_BODY, xte, yte, tu.calib_subset(xtr, 256, 0),
        "conv(1->8)+BN+ReLU+maxpool, conv(8->16)+BN+ReLU+maxpool, flatten, linear(64->10); "
        "input = pixels / 16", "digits")
    acc = 100.0 * correct / total
    tu.write_text(os.path.join(HERE, "README.md"), README % dict(acc=acc, c=correct, t=total))
    print("%s: float top-1 %d/%d = %.2f%%, trained in %.1fs" % (NAME, correct, total, acc, secs))


README = """\
# digits_cnn

A small CNN on scikit-learn's 8x8 digits (`load_digits()`, pixels 0..16 divided by 16):
conv 3x3 (1->8, pad 1) + BatchNorm + ReLU + maxpool 2, conv 3x3 (8->16, pad 1) + BatchNorm + ReLU
+ maxpool 2, flatten, linear 64->10. Input `image : f32[1, 1, 8, 8]`, output logits.
Held-out set: a fixed stratified 20%% split (seed 0, same as digits_mlp) in `test.safetensors`
(`image` [N, 1, 8, 8] f32, `labels` [N] i64); `calib.safetensors` holds 256 training images.
Float top-1: %(c)d/%(t)d = %(acc).2f%% (`float_accuracy.txt`).
Retrain (deterministic, seconds on CPU): `/usr/bin/python3 examples/digits_cnn/train.py`
Compile: `shiftc compile examples/digits_cnn/digits_cnn.nn -c examples/digits_cnn/digits_cnn.yaml`
"""

if __name__ == "__main__":
    main()
