"""The training recipe of digits_cnn_wN (N = 4, 5): the digits CNN with N-bit per-channel weights
by quantization-aware training (QAT), BatchNorm folded into the fake-quantized weights, and
channels whose BatchNorm gamma is near zero -- the case where naive folding overflows the bias
(algorithms.md §4). Each example's train.py calls main(bits, its folder).

Run from anywhere:  /usr/bin/python3 examples/digits_cnn_w4/train.py  (or digits_cnn_w5)
Writes, into the example's folder (NAME = digits_cnn_wN):
        NAME.nn (with @quant activation scales), NAME.safetensors,
        NAME.yaml, test.safetensors, calib.safetensors, float_accuracy.txt,
        fakequant.safetensors (the fake-quant model's logits codes on the test set and its
        top-1), README.md

Steps (deterministic, a few seconds on CPU):
 1. float training, as examples/digits_cnn (Adam, weight decay 1e-4, 40 epochs);
 2. small gammas: weight decay alone does not drive this small model's gammas to ~0 in 40
    epochs, so the smallest-|gamma| channels (2 of 8 in bn1, 4 of 16 in bn2) are PRUNED to
    gamma = 1e-4 * sign(gamma) -- reproducing what long training with weight decay on BN
    produces -- and held there while fine-tuning;
 3. activation scales: powers of two 2^ceil(log2(max|a| / 127)) over the training set for
    the two ReLU outputs and the logits, fixed from here on (written as @quant);
 4. QAT fine-tuning, 20 epochs, straight-through estimator: BN in inference form folded into
    the conv (W' = W*gamma/sigma, b' = (b - mu)*gamma/sigma + beta), W' fake-quantized per
    output channel to N bits with a power-of-two scale chosen by MSE (the rule shiftc uses
    in shift mode), activations fake-quantized with round half up and clamp to +-127;
 5. export: the folded weights snapped to their N-bit grid are stored unfolded (W = W'_q *
    sigma/gamma), so folding them again gives the trained quantized weights; the fake-quant
    forward of the exported model (float64 numpy) gives the logits codes in fakequant.safetensors.
"""
import os
import sys
sys.dont_write_bytecode = True  # keep examples/ free of __pycache__

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402

import safetensors_np  # noqa: E402
import train_util as tu  # noqa: E402
from check_examples import conv2d, maxpool2d  # noqa: E402

S_IN = 2.0 ** -6   # the input's scale: shiftc calibrates the same (pixels k/16 are exact)
EPS = 1e-5
PRUNE = {"bn1": 2, "bn2": 4}
DEAD_GAMMA = 1e-4


class CNN(nn.Module):
    def __init__(self, qmax_w):
        super().__init__()
        self.qmax_w = qmax_w  # the weights' largest code, 2^(bits-1) - 1
        self.conv1 = nn.Conv2d(1, 8, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(8, eps=EPS)
        self.conv2 = nn.Conv2d(8, 16, 3, padding=1)
        self.bn2 = nn.BatchNorm2d(16, eps=EPS)
        self.fc = nn.Linear(16 * 2 * 2, 10)
        self.scales = None  # set for QAT: activation scales (r1, r2, logits)

    def forward(self, x):
        if self.scales is None:
            x = nn.functional.max_pool2d(torch.relu(self.bn1(self.conv1(x))), 2, 2)
            x = nn.functional.max_pool2d(torch.relu(self.bn2(self.conv2(x))), 2, 2)
            return self.fc(torch.flatten(x, 1))
        s1, s2, s3 = self.scales
        x = fq(x, S_IN)
        x = nn.functional.max_pool2d(fq(torch.relu(folded_conv(self.conv1, self.bn1, x, self.qmax_w)), s1), 2, 2)
        x = nn.functional.max_pool2d(fq(torch.relu(folded_conv(self.conv2, self.bn2, x, self.qmax_w)), s2), 2, 2)
        w = fq_weight(self.fc.weight, self.qmax_w)
        return fq(nn.functional.linear(torch.flatten(x, 1), w, self.fc.bias), s3)


def fq(x, s, qmax=127):
    """Fake quantization, round half up (as shiftc), with a straight-through gradient."""
    q = torch.clamp(torch.floor(x / s + 0.5), -qmax, qmax) * s
    return x + (q - x).detach()


def pow2_exponents(w, qmax):
    """Per output channel: the power-of-two scale 2^e with the least squared error, e from
    floor(log2(max|w| / qmax)) + 1 down four steps, ties to the larger (shiftc's rule)."""
    w = np.asarray(w, dtype=np.float64).reshape(w.shape[0], -1)
    out = []
    for row in w:
        amax = max(np.abs(row).max(), 1e-8)
        hi = int(np.floor(np.log2(amax / qmax))) + 1
        best, be = np.inf, hi
        for e in range(hi, hi - 5, -1):
            s = 2.0 ** e
            q = np.clip(np.floor(row / s + 0.5), -qmax, qmax)
            m = ((row - q * s) ** 2).sum()
            if m < best:
                best, be = m, e
        out.append(be)
    return np.array(out)


def fq_weight(w, qmax):
    e = torch.tensor(pow2_exponents(w.detach().numpy(), qmax), dtype=w.dtype)
    s = (2.0 ** e).reshape(-1, *([1] * (w.dim() - 1)))
    return fq(w, s, qmax)


def bn_k(bn):
    return bn.weight / torch.sqrt(bn.running_var + bn.eps)


def folded_conv(conv, bn, x, qmax):
    k = bn_k(bn)
    w = fq_weight(conv.weight * k.reshape(-1, 1, 1, 1), qmax)
    b = (conv.bias - bn.running_mean) * k + bn.bias
    return nn.functional.conv2d(x, w, b, padding=1)


def prune_gammas(model, idx):
    with torch.no_grad():
        for name, ch in idx.items():
            g = getattr(model, name).weight
            g[ch] = DEAD_GAMMA * torch.sign(g[ch])


def qat(model, x, y, epochs, idx, lr=1e-3, seed=0):
    """Fine-tune with fake quantization; BN statistics frozen (inference-form folding)."""
    g = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    lossf = torch.nn.CrossEntropyLoss()
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    model.eval()  # running statistics stay as trained
    for ep in range(epochs):
        perm = torch.randperm(len(xt), generator=g)
        tot = 0.0
        for i in range(0, len(xt), 32):
            j = perm[i:i + 32]
            opt.zero_grad()
            loss = lossf(model(xt[j]), yt[j])
            loss.backward()
            opt.step()
            prune_gammas(model, idx)
            tot += float(loss) * len(j)
        print("qat epoch %2d  loss %.4f" % (ep + 1, tot / len(xt)))


# ---------------------------------------------------------------- numpy fake-quant model

def np_fq(x, s, qmax=127):
    return np.clip(np.floor(x / s + 0.5), -qmax, qmax)


def np_folded(sd, conv, bn):
    """The folding shiftc does: in double, then float32."""
    k = sd[bn + ".weight"].astype(np.float64) / np.sqrt(sd[bn + ".running_var"].astype(np.float64) + EPS)
    w = (sd[conv + ".weight"].astype(np.float64) * k[:, None, None, None]).astype(np.float32)
    b = ((sd[conv + ".bias"].astype(np.float64) - sd[bn + ".running_mean"]) * k + sd[bn + ".bias"]).astype(np.float32)
    return w.astype(np.float64), b.astype(np.float64)


def np_wq(w, qmax):
    e = pow2_exponents(w, qmax)
    s = (2.0 ** e).reshape(-1, *([1] * (w.ndim - 1)))
    return np.clip(np.floor(w / s + 0.5), -qmax, qmax) * s


def np_bq(b, s_x, w, qmax):
    """The bias quantized at the accumulator's scale s_x * s_w (per channel), in 32 bits as
    TFLite-style integer inference does; not clamped to a narrower bias word."""
    s = s_x * 2.0 ** pow2_exponents(w, qmax)
    return np.floor(b / s + 0.5) * s


def np_fakequant_logits(sd, x, scales, qmax):
    """The fake-quant forward of the exported model in float64: logits as int codes.
    Weights and biases quantized as the integer model holds them; every sum is exact in
    float64 (power-of-two scales, small integers), so this is the framework's quantized model
    without any bias word limit."""
    s1, s2, s3 = scales
    h = np_fq(x.astype(np.float64), S_IN) * S_IN
    w, b = np_folded(sd, "conv1", "bn1")
    h = maxpool2d(np.maximum(np_fq(conv2d(h, np_wq(w, qmax), np_bq(b, S_IN, w, qmax), 1, 1), s1), 0) * s1, 2)
    w, b = np_folded(sd, "conv2", "bn2")
    h = maxpool2d(np.maximum(np_fq(conv2d(h, np_wq(w, qmax), np_bq(b, s1, w, qmax), 1, 1), s2), 0) * s2, 2)
    h = h.reshape(len(h), -1)
    wfc = sd["fc.weight"].astype(np.float64)
    bfc = np_bq(sd["fc.bias"].astype(np.float64), s2, wfc, qmax)
    return np_fq(h @ np_wq(wfc, qmax).T + bfc, s3).astype(np.int32)


NN_BODY = """\
input image : f32[1, 1, 8, 8]

c1 = conv2d(image, weight=conv1.weight, bias=conv1.bias, stride=1, pad=1)
b1 = batchnorm(c1, gamma=bn1.weight, beta=bn1.bias, mean=bn1.running_mean, var=bn1.running_var, eps=1e-5)
r1 = relu(b1) @quant(scale=%(s1)s, bits=8)
p1 = maxpool2d(r1, kernel=2, stride=2)
c2 = conv2d(p1, weight=conv2.weight, bias=conv2.bias, stride=1, pad=1)
b2 = batchnorm(c2, gamma=bn2.weight, beta=bn2.bias, mean=bn2.running_mean, var=bn2.running_var, eps=1e-5)
r2 = relu(b2) @quant(scale=%(s2)s, bits=8)
p2 = maxpool2d(r2, kernel=2, stride=2)
f  = flatten(p2)
logits = linear(f, weight=fc.weight, bias=fc.bias) @quant(scale=%(s3)s, bits=8)

output logits
"""

YAML = """\
# %(name)s: %(bits)d-bit per-channel weights (QAT), 16-bit biases, shift requantization.
# bias_fix: on (the default) handles the small-gamma channels' bias out of bounds;
# `--bias-fix off` shows the problem.
target: scalar
quantization:
  weights:     { bits: %(bits)d, granularity: per-channel }
  activations: { bits: 8 }
  requantize: shift
  bias_bits: 16
  bias_fix: on
  calibration:
    method: percentile
    percentile: 99.99
    data: calib.safetensors
    samples: 256
golden: 8
"""


def main(bits, here):
    """Trains digits_cnn_w<bits> and writes its files into the folder `here`."""
    name = "digits_cnn_w%d" % bits
    qmax = (1 << (bits - 1)) - 1
    tu.deterministic(0)
    xtr, ytr, xte, yte = tu.digits_split(0)
    xtr = xtr.reshape(-1, 1, 8, 8)
    xte = xte.reshape(-1, 1, 8, 8)
    model = CNN(qmax)
    tu.train(model, xtr, ytr, epochs=40, lr=3e-3, weight_decay=1e-4, batch=32)
    idx = {}
    for bn, n in PRUNE.items():
        g = getattr(model, bn).weight.detach().abs().numpy()
        idx[bn] = [int(c) for c in np.argsort(g, kind="stable")[:n]]
    prune_gammas(model, idx)
    with torch.no_grad():  # activation scales of the pruned float model
        x = torch.from_numpy(xtr)
        a1 = torch.relu(model.bn1(model.conv1(x)))
        a2 = torch.relu(model.bn2(model.conv2(nn.functional.max_pool2d(a1, 2, 2))))
        a3 = model(x)
    scales = tuple(2.0 ** np.ceil(np.log2(float(a.abs().max()) / 127)) for a in (a1, a2, a3))
    model.scales = scales
    qat(model, xtr, ytr, 20, idx)

    # Export: snap the folded weights to their grid and store them unfolded.
    sd = tu.state_dict_np(model)
    for conv, bn in (("conv1", "bn1"), ("conv2", "bn2")):
        k = sd[bn + ".weight"].astype(np.float64) / np.sqrt(sd[bn + ".running_var"].astype(np.float64) + EPS)
        wq = np_wq(sd[conv + ".weight"].astype(np.float64) * k[:, None, None, None], qmax)
        sd[conv + ".weight"] = (wq / k[:, None, None, None]).astype(np.float32)
    sd["fc.weight"] = np_wq(sd["fc.weight"].astype(np.float64), qmax).astype(np.float32)
    model.load_state_dict({k: torch.from_numpy(v) for k, v in sd.items()}, strict=False)

    fmt = lambda s: "%.10g" % s  # noqa: E731  (powers of two print exactly)
    body = NN_BODY % dict(s1=fmt(scales[0]), s2=fmt(scales[1]), s3=fmt(scales[2]))
    model.scales = None  # float_accuracy.txt: the float graph as written (no fake quant)
    correct, total = tu.write_common(
        here, name, model, body, xte, yte, tu.calib_subset(xtr, 256, 0),
        "conv(1->8)+BN+ReLU+maxpool, conv(8->16)+BN+ReLU+maxpool, flatten, linear(64->10); %d-bit QAT, "
        "pruned gammas bn1 %s bn2 %s; input = pixels / 16" % (bits, idx["bn1"], idx["bn2"]), "digits")
    tu.write_text(os.path.join(here, name + ".yaml"), YAML % dict(name=name, bits=bits))

    back = safetensors_np.load_file(os.path.join(here, name + ".safetensors"))
    codes = np_fakequant_logits(back, xte, scales, qmax)
    qat_correct = int((codes.argmax(1) == yte).sum())
    safetensors_np.save_file({"logits_codes": codes.astype(np.int32),
                              "top1_correct": np.array([qat_correct], dtype=np.int32)},
                             os.path.join(here, "fakequant.safetensors"))
    tu.write_text(os.path.join(here, "README.md"), README % dict(
        name=name, bits=bits, c=correct, t=total, qc=qat_correct, b1=idx["bn1"], b2=idx["bn2"],
        s=", ".join(fmt(s) for s in scales)))
    print("%s: float graph top-1 %d/%d, fake-quant (%d-bit QAT) top-1 %d/%d, activation scales %s"
          % (name, correct, total, bits, qat_correct, total, scales))


README = """\
# %(name)s

The digits CNN (see ../digits_cnn) with %(bits)d-bit per-channel weights, trained by `train.py` with
quantization-aware training: BatchNorm folded into the fake-quantized weights, power-of-two
scales (shift requantization), and BatchNorm channels with gamma near zero: bn1 channels %(b1)s
and bn2 channels %(b2)s were pruned to gamma = 1e-4 (what long training with weight decay on BN
produces) and kept there during QAT. Their folded weights are tiny, so the folded bias at the
accumulator's scale overflows the 16-bit bias word (`bias_bits: 16`): the bias out-of-bounds
problem of algorithms.md §4.

- `fakequant.safetensors`: the fake-quant model's logits codes on the held-out set (`logits_codes`
  [360, 10], scale of `logits`) and its top-1 (`top1_correct`): %(qc)d/%(t)d.
- `float_accuracy.txt`: the float graph as written in the .nn (no fake quantization): %(c)d/%(t)d.
- Activation scales (@quant in the .nn): %(s)s.

`shiftc compile examples/%(name)s/%(name)s.nn -c examples/%(name)s/%(name)s.yaml`
matches the fake-quant codes; add `--bias-fix off` to see naive folding break
(tests/cli/test_bias_fix.c checks both).
"""
