#!/usr/bin/python3
"""Weights and calibration data of tests/models/convt (deterministic; numpy only). The
weights are conv_transpose2d's own layout, [O, I/groups, kh, kw]."""
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "..", "examples", "common"))
import safetensors_np  # noqa: E402

rng = np.random.default_rng(0)
f = np.float32
w = {
    "t1.weight": rng.normal(0, 0.3, (6, 4, 2, 2)).astype(f),
    "t1.bias": rng.normal(0, 0.2, 6).astype(f),
    "bn.gamma": rng.uniform(0.5, 1.5, 6).astype(f),
    "bn.beta": rng.normal(0, 0.2, 6).astype(f),
    "bn.mean": rng.normal(0, 0.2, 6).astype(f),
    "bn.var": rng.uniform(0.5, 1.5, 6).astype(f),
    "t2.weight": rng.normal(0, 0.2, (3, 6, 3, 3)).astype(f),
    "t3.weight": rng.normal(0, 0.3, (4, 2, 2, 3)).astype(f),
    "t3.bias": rng.normal(0, 0.2, 4).astype(f),
}
safetensors_np.save_file(w, os.path.join(HERE, "convt.safetensors"))
safetensors_np.save_file({"x": rng.uniform(-1, 1, (8, 4, 5, 6)).astype(f)}, os.path.join(HERE, "calib.safetensors"))
