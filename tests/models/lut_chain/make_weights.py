#!/usr/bin/python3
"""Weights and calibration data of tests/models/lut_chain (deterministic; numpy only)."""
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "..", "examples", "common"))
import safetensors_np  # noqa: E402

rng = np.random.default_rng(0)
f = np.float32
w = {
    "c1.weight": rng.normal(0, 0.4, (4, 3, 3, 3)).astype(f),
    "c1.bias": rng.normal(0, 0.2, 4).astype(f),
    "c2.weight": rng.normal(0, 0.4, (4, 3, 3, 3)).astype(f),
    "c2.bias": rng.normal(0, 0.2, 4).astype(f),
    "scale": np.array([1.3], f),
    "shift": np.array([-0.25], f),
    "three": np.array([3.0], f),
    "sixth": np.array([1 / 6], f),
    "one": np.array([1.0], f),
}
safetensors_np.save_file(w, os.path.join(HERE, "lut_chain.safetensors"))
safetensors_np.save_file({"x": rng.uniform(-1, 1, (16, 3, 8, 8)).astype(f)}, os.path.join(HERE, "calib.safetensors"))
