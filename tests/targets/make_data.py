"""Writes simd_mix.safetensors (random weights) and calib.safetensors (16 random
inputs) for simd_mix.nn. Run with /usr/bin/python3 from this folder; seeded, so the
files are reproducible. The shapes follow simd_mix.nn."""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "examples", "common"))
from safetensors_np import save_file  # noqa: E402

rng = np.random.default_rng(6)


def w(*shape):
    fan_in = int(np.prod(shape[1:]))
    return (rng.standard_normal(shape) / np.sqrt(fan_in)).astype(np.float32)


# c1: 3 -> 12 channels, 3x3, stride [2,1], pad [1,2,0,1], dilation [1,2]: 9x70 -> 4x69;
# max pooling 3x3, stride 1, pad 1 keeps 4x69
# c2: 12 -> 18 channels, 3x3, pad 1, groups 3: 4x69; maxpool 2 -> 2x34; flatten 1224
weights = {
    "c1.weight": w(12, 3, 3, 3), "c1.bias": (0.1 * rng.standard_normal(12)).astype(np.float32),
    "c2.weight": w(18, 4, 3, 3), "c2.bias": (0.1 * rng.standard_normal(18)).astype(np.float32),
    "fc1.weight": w(45, 1224),
    "fc2.weight": w(10, 81), "fc2.bias": (0.1 * rng.standard_normal(10)).astype(np.float32),
}
save_file(weights, "simd_mix.safetensors")
save_file({"x": rng.standard_normal((16, 3, 9, 70)).astype(np.float32)}, "calib.safetensors")
