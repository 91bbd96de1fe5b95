"""Helpers shared by the examples' train.py scripts (training only; not used by shiftc)."""
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safetensors_np  # noqa: E402


def deterministic(seed=0):
    """Fixed seeds, 2 threads, deterministic kernels."""
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.set_num_threads(2)
    try:
        torch.use_deterministic_algorithms(True)
    except Exception as e:  # pragma: no cover - older torch
        print("warning: deterministic algorithms unavailable: %s" % e)


def digits_split(seed=0):
    """sklearn digits, scaled to [0,1], with a fixed stratified 20% held-out split (360 images)."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    d = load_digits()
    x = (d.data / 16.0).astype(np.float32)          # [1797, 64], values 0..1
    y = d.target.astype(np.int64)
    xtr, xte, ytr, yte = train_test_split(x, y, test_size=0.2, random_state=seed, stratify=y)
    return xtr, ytr, xte, yte


def calib_subset(x_train, n=256, seed=0):
    """n training samples picked by a fixed permutation."""
    idx = np.random.RandomState(seed).permutation(len(x_train))[:n]
    return np.ascontiguousarray(x_train[idx])


def train(model, x, y, epochs, lr=1e-3, weight_decay=1e-4, batch=64, seed=0, log=print):
    """Adam + cross entropy over shuffled minibatches (deterministic order)."""
    g = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs)
    lossf = torch.nn.CrossEntropyLoss()
    xt = torch.from_numpy(x)
    yt = torch.from_numpy(y)
    t0 = time.time()
    for ep in range(epochs):
        model.train()
        perm = torch.randperm(len(xt), generator=g)
        tot, n = 0.0, 0
        for i in range(0, len(xt), batch):
            j = perm[i:i + batch]
            opt.zero_grad()
            loss = lossf(model(xt[j]), yt[j])
            loss.backward()
            opt.step()
            tot += float(loss) * len(j)
            n += len(j)
        sched.step()
        log("epoch %2d  loss %.4f  (%.1fs)" % (ep + 1, tot / n, time.time() - t0))
    model.eval()
    return time.time() - t0


def state_dict_np(model):
    """float32 state_dict as numpy, without num_batches_tracked."""
    out = {}
    for k, v in model.state_dict().items():
        if k.endswith("num_batches_tracked"):
            continue
        out[k] = v.detach().cpu().numpy().astype(np.float32)
    return out


def evaluate(model, x):
    """Float top-1 predictions (eval mode, no grad)."""
    model.eval()
    with torch.no_grad():
        return model(torch.from_numpy(x)).argmax(dim=1).numpy()


def write_text(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def write_common(outdir, name, model, nn_body, x_test, y_test, x_calib, what, test_desc,
                 integer_ops=None):
    """Write NAME.safetensors, test/calib.safetensors, float_accuracy.txt, NAME.nn, NAME.yaml.

    Accuracy is measured on the arrays read back from test.safetensors. integer_ops, a dict
    such as {"gelu": "i-gelu"}, adds the YAML's quantization.integer_ops section."""
    j = lambda f: os.path.join(outdir, f)  # noqa: E731
    safetensors_np.save_file(state_dict_np(model), j(name + ".safetensors"))
    safetensors_np.save_file({"image": x_test, "labels": y_test}, j("test.safetensors"))
    safetensors_np.save_file({"image": x_calib}, j("calib.safetensors"))

    back = safetensors_np.load_file(j("test.safetensors"))
    pred = evaluate(model, back["image"])
    correct = int((pred == back["labels"]).sum())
    total = int(len(back["labels"]))
    write_text(j("float_accuracy.txt"), "correct %d\ntotal %d\n" % (correct, total))
    acc = 100.0 * correct / total

    header = "# %s: trained by train.py (float top-1 %.2f%% on %d held-out %s)\n" % (
        name, acc, total, test_desc)
    header += "# %s\n" % what
    header += 'model %s\nweights "%s.safetensors"\n\n' % (name, name)
    write_text(j(name + ".nn"), header + nn_body)

    yaml = YAML % {"name": name}
    if integer_ops:
        ops = ", ".join("%s: %s" % kv for kv in integer_ops.items())
        yaml = yaml.replace("golden:", "  integer_ops: { %s }\ngolden:" % ops)
    write_text(j(name + ".yaml"), yaml)
    return correct, total


YAML = """\
# %(name)s: int8, per-channel weights, shift requantization
target: scalar
quantization:
  weights:     { bits: 8, granularity: per-channel }
  activations: { bits: 8 }
  requantize: shift
  bias_bits: 32
  calibration:
    method: percentile
    percentile: 99.99
    data: calib.safetensors
    samples: 256
golden: 8
"""
