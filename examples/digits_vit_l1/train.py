#!/usr/bin/python3
"""Train a small Vision Transformer with L1 LayerNorm on sklearn's
8x8 digits and write the shiftc example files next to this script (the network and the
training are in examples/common/vit.py, shared with digits_vit).

Run from anywhere:  /usr/bin/python3 examples/digits_vit_l1/train.py   (build ./shiftc first: the
script then checks shiftc's float interpreter against torch on the held-out set)
Writes: digits_vit_l1.nn, digits_vit_l1.safetensors, digits_vit_l1.yaml, test.safetensors,
        calib.safetensors, float_accuracy.txt, README.md
"""
import os
import sys
sys.dont_write_bytecode = True  # keep examples/ free of __pycache__

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "common"))

import vit  # noqa: E402

README = """\
# digits_vit_l1

A small Vision Transformer on scikit-learn's 8x8 digits (`load_digits()`, pixels 0..16 divided
by 16), with L1 LayerNorm (`norm=l1`: `alpha*(x-mu)/(mean|x-mu| + eps) + beta`, no square root).
%(what)s.
In the `.nn`: `conv2d` with stride = patch size, `reshape` + `transpose` to tokens
`[1, T, D]`, `add(t, pos_embed)`, a `block encoder` (layernorm -> attention -> residual add ->
layernorm -> linear -> gelu -> linear -> residual add) called once per layer, a final layernorm,
the mean over tokens as `global_avgpool`, and the classifier. digits_vit is the same network with the standard LayerNorm.
Input `image : f32[1, 1, 8, 8]`, output logits.
Held-out set: the fixed stratified 20%% split (seed 0) of digits_mlp and digits_cnn in
`test.safetensors` (`image` [N, 1, 8, 8] f32, `labels` [N] i64); `calib.safetensors` holds
256 training images.
Training: Adam (lr 3e-3, weight decay 1e-4), cosine schedule, batch 64, %(epochs)d epochs over
the 1437 training images, seed 0; %(secs).0f s on one CPU thread (shared machine).
Float top-1: %(c)d/%(t)d = %(acc).2f%% (`float_accuracy.txt`).
shiftc's float interpreter (`shiftc run --float`) against torch: %(agree)s.
Retrain (deterministic): `/usr/bin/python3 examples/digits_vit_l1/train.py`
Compile: `shiftc compile examples/digits_vit_l1/digits_vit_l1.nn -c examples/digits_vit_l1/digits_vit_l1.yaml`
"""

if __name__ == "__main__":
    vit.train_and_write(HERE, "digits_vit_l1", "l1", README)
