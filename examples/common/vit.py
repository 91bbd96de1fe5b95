"""A small Vision Transformer for 8x8 digits, shared by digits_vit (LayerNorm, norm=l2) and
digits_vit_l1 (L1 LayerNorm, norm=l1). Training only; not used by shiftc.

Every module computes exactly what the matching .nn op computes in shiftc's float interpreter:
  conv2d stride=patch -> reshape [1, D, T] -> transpose [0, 2, 1]   (tokens [1, T, D])
  add(t, pos_embed)                                                   (learned, [1, T, D])
  attention(..., heads=H): q/k/v/o are separate Linear layers, weight [out, in]; head h takes
    features h*dh .. h*dh+dh-1 of q, k, v; scores = (q_h @ k_h^T) * (1/sqrt(dh)), softmax over
    keys, then the heads' contexts side by side and the output Linear (compiler/lower.c).
  layernorm(norm=l2): torch.nn.LayerNorm;  norm=l1: alpha*(x-mu)/(mean|x-mu|+eps)+beta.
  gelu: exact erf form (torch default).
  mean over tokens: transpose [0, 2, 1] -> reshape [1, D, h, w] -> global_avgpool -> flatten.
"""
import math
import os

import numpy as np
import torch
import torch.nn as nn


class LayerNormL1(nn.Module):
    """y = alpha * (x - mu) / (mean|x - mu| + eps) + beta over the last axis (the INT8
    Transformer patent's step S1; no square, no square root)."""

    def __init__(self, d, eps=1e-5):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(d))
        self.bias = nn.Parameter(torch.zeros(d))
        self.eps = eps

    def forward(self, x):
        d = x - x.mean(dim=-1, keepdim=True)
        return self.weight * d / (d.abs().mean(dim=-1, keepdim=True) + self.eps) + self.bias


def layernorm(d, norm):
    return nn.LayerNorm(d, eps=1e-5) if norm == "l2" else LayerNormL1(d, eps=1e-5)


class Attention(nn.Module):
    def __init__(self, d, heads):
        super().__init__()
        self.heads, self.dh = heads, d // heads
        self.q, self.k, self.v, self.o = (nn.Linear(d, d) for _ in range(4))

    def forward(self, x):
        n, t, d = x.shape
        split = lambda y: y.reshape(n, t, self.heads, self.dh).transpose(1, 2)  # noqa: E731  [N,H,T,dh]
        q, k, v = split(self.q(x)), split(self.k(x)), split(self.v(x))
        s = torch.matmul(q, k.transpose(-2, -1)) * (1.0 / math.sqrt(self.dh))
        c = torch.matmul(torch.softmax(s, dim=-1), v)
        return self.o(c.transpose(1, 2).reshape(n, t, d))


class Block(nn.Module):
    """Pre-norm encoder block: x + attn(ln1(x)), then + down(gelu(up(ln2(x))))."""

    def __init__(self, d, heads, ffn, norm):
        super().__init__()
        self.ln1 = layernorm(d, norm)
        self.attn = Attention(d, heads)
        self.ln2 = layernorm(d, norm)
        self.up = nn.Linear(d, ffn)
        self.down = nn.Linear(ffn, d)

    def forward(self, x):
        x = x + self.attn(self.ln1(x))
        return x + self.down(nn.functional.gelu(self.up(self.ln2(x))))


class ViT(nn.Module):
    def __init__(self, norm, d=32, heads=4, ffn=64, depth=2, patch=2, side=8, classes=10):
        super().__init__()
        self.grid = side // patch
        self.patch = nn.Conv2d(1, d, patch, stride=patch)
        self.pos_embed = nn.Parameter(torch.randn(1, self.grid * self.grid, d) * 0.02)
        self.blocks = nn.ModuleList(Block(d, heads, ffn, norm) for _ in range(depth))
        self.ln = layernorm(d, norm)
        self.head = nn.Linear(d, classes)

    def forward(self, x):
        t = self.patch(x).flatten(2).transpose(1, 2) + self.pos_embed  # [N, T, D]
        for b in self.blocks:
            t = b(t)
        return self.head(self.ln(t).mean(dim=1))


def nn_body(model, norm):
    """The .nn text (after the model/weights header) for a trained ViT."""
    d = model.head.in_features
    g = model.grid
    t = g * g
    heads = model.blocks[0].attn.heads
    patch = model.patch.kernel_size[0]
    side = g * patch
    ln = "eps=1e-5" + (", norm=l1" if norm == "l1" else "")
    calls = "\n".join("x%d = encoder(x%d, blocks.%d)" % (i + 1, i, i) for i in range(len(model.blocks)))
    return NN % dict(side=side, d=d, t=t, g=g, heads=heads, patch=patch, ln=ln, calls=calls,
                     last="x%d" % len(model.blocks))


NN = """\
input image : f32[1, 1, %(side)d, %(side)d]

block encoder(x, p) {
  h  = layernorm(x, gamma=p.ln1.weight, beta=p.ln1.bias, %(ln)s)
  a  = attention(h, wq=p.attn.q.weight, bq=p.attn.q.bias, wk=p.attn.k.weight, bk=p.attn.k.bias,
                    wv=p.attn.v.weight, bv=p.attn.v.bias, wo=p.attn.o.weight, bo=p.attn.o.bias, heads=%(heads)d)
  x1 = add(x, a)
  h2 = layernorm(x1, gamma=p.ln2.weight, beta=p.ln2.bias, %(ln)s)
  u  = gelu(linear(h2, weight=p.up.weight, bias=p.up.bias))
  x2 = add(x1, linear(u, weight=p.down.weight, bias=p.down.bias))
  return x2
}

# patch embedding: %(patch)dx%(patch)d patches -> %(t)d tokens of %(d)d features
pe = conv2d(image, weight=patch.weight, bias=patch.bias, stride=%(patch)d)
pt = transpose(reshape(pe, shape=[1, %(d)d, %(t)d]), perm=[0, 2, 1])
x0 = add(pt, pos_embed)

%(calls)s

# final norm, mean over the tokens (as a %(g)dx%(g)d average pool), classifier
hn = layernorm(%(last)s, gamma=ln.weight, beta=ln.bias, %(ln)s)
pooled = flatten(global_avgpool(reshape(transpose(hn, perm=[0, 2, 1]), shape=[1, %(d)d, %(g)d, %(g)d])))
logits = linear(pooled, weight=head.weight, bias=head.bias)

output logits
"""


def shiftc_float_logits(root, nn_path, x):
    """Logits of shiftc's float interpreter (`shiftc run --float`) on the images x, or None
    when ./shiftc is not built."""
    import subprocess
    import tempfile
    exe = os.path.join(root, "shiftc")
    if not os.path.exists(exe):
        return None
    with tempfile.TemporaryDirectory() as tmp:
        xi, yo = os.path.join(tmp, "x.npy"), os.path.join(tmp, "y.npy")
        np.save(xi, x)
        subprocess.run([exe, "run", nn_path, "--float", "--input", xi, "-o", yo], check=True)
        return np.load(yo)


def train_and_write(here, name, norm, readme):
    """Train the ViT with the given LayerNorm form on digits (fixed seed) and write the example
    files next to its train.py, then check shiftc's float interpreter against torch."""
    import train_util as tu
    tu.deterministic(0)
    torch.set_num_threads(1)   # a tiny model: more threads only spin on a shared machine
    xtr, ytr, xte, yte = tu.digits_split(0)          # [N, 64] in [0, 1]
    xtr = xtr.reshape(-1, 1, 8, 8)
    xte = xte.reshape(-1, 1, 8, 8)
    model = ViT(norm, **ARCH)
    params = sum(p.numel() for p in model.parameters())
    secs = tu.train(model, xtr, ytr, epochs=EPOCHS, lr=LR, weight_decay=1e-4, batch=64)
    what = ("ViT: %dx%d patches (conv stride %d) -> %d tokens x %d, learned position embedding, "
            "%d pre-norm encoder blocks (%s LayerNorm, %d-head attention, GELU FFN %d), final "
            "LayerNorm, mean over tokens, linear(%d->10); input = pixels / 16; %d parameters"
            % (ARCH["patch"], ARCH["patch"], ARCH["patch"], (8 // ARCH["patch"]) ** 2, ARCH["d"],
               ARCH["depth"], norm.upper(), ARCH["heads"], ARCH["ffn"], ARCH["d"], params))
    ln_int = "i-sqrt" if norm == "l2" else "l1"
    correct, total = tu.write_common(
        here, name, model, nn_body(model, norm), xte, yte, tu.calib_subset(xtr, 256, 0), what,
        "digits", integer_ops={"gelu": "i-gelu", "softmax": "i-exp", "layernorm": ln_int})
    acc = 100.0 * correct / total

    with torch.no_grad():
        ref = model(torch.from_numpy(xte)).numpy()
    got = shiftc_float_logits(os.path.dirname(os.path.dirname(here)), os.path.join(here, name + ".nn"), xte)
    if got is None:
        agree = "not checked (build ./shiftc first)"
    else:
        diff = float(np.abs(got - ref).max())
        same = int((got.argmax(1) == ref.argmax(1)).sum())
        agree = ("max |shiftc - torch| over the %d x 10 logits = %.2g; same top-1 on %d/%d"
                 % (len(ref), diff, same, len(ref)))
        assert diff < 1e-4 and same == len(ref), agree
    tu.write_text(os.path.join(here, "README.md"), readme % dict(
        acc=acc, c=correct, t=total, what=what, secs=secs, agree=agree, epochs=EPOCHS))
    print("%s: float top-1 %d/%d = %.2f%%, trained in %.1fs; shiftc --float vs torch: %s"
          % (name, correct, total, acc, secs, agree))


ARCH = dict(d=32, heads=4, ffn=64, depth=2, patch=2)
EPOCHS = 30
LR = 3e-3
