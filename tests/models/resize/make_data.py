#!/usr/bin/python3
"""Calibration data of tests/models/resize (deterministic; numpy only)."""
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "..", "examples", "common"))
import safetensors_np  # noqa: E402

rng = np.random.default_rng(0)
safetensors_np.save_file({"x": rng.uniform(-1, 1, (8, 3, 6, 7)).astype(np.float32)},
                         os.path.join(HERE, "calib.safetensors"))
