#!/usr/bin/python3
"""Train digits_cnn_w4: the digits CNN with 4-bit per-channel weights by quantization-aware
training, with pruned BatchNorm gammas. The recipe is examples/common/cnn_qat.py (shared with
digits_cnn_w5); run from anywhere:  /usr/bin/python3 examples/digits_cnn_w4/train.py"""
import os
import sys
sys.dont_write_bytecode = True  # keep examples/ free of __pycache__

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "common"))

import cnn_qat  # noqa: E402

if __name__ == "__main__":
    cnn_qat.main(4, HERE)
