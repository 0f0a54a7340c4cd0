#!/usr/bin/env python3
"""Label efficiency of the image features, through the Rust simulator (issue 13's protocol):
softmax regression, 20 initial labels, batches of 10 up to 200, 5 seeds, test fraction 0.3.

    cargo build --release
    python3 bench/image_features.py [--cifar DIR] [--write]

CIFAR-10 (2,000 photos, 32 x 32) comes from ../shared/datasets/cifar10-train-2k.tgz, unpacked
to a temporary folder unless --cifar names an unpacked copy; Fashion-MNIST (1,000 grey
28 x 28 images) from datasets/. Prints a markdown table; --write puts it into
docs/BENCHMARKS.md between the "image-features" markers.
"""
import argparse
import json
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchmarks_doc import write_section  # noqa: E402
import tarfile
import tempfile

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
SIM = os.path.join(ROOT, "target", "release", "marginalia-sim")
PROTOCOL = "--seeds 5 --init 20 --batch 10 --budget 200 --test-frac 0.3"


def run(data_args, features, strategies, size=None):
    cmd = [SIM, *data_args.split(), "--features", features, "--strategy", strategies, *PROTOCOL.split()]
    if size:
        cmd += ["--image-size", str(size)]
    p = subprocess.run(cmd, capture_output=True, text=True, check=True)
    rows = {}
    for line in p.stdout.splitlines():
        d = json.loads(line)
        if d.get("summary"):
            rows[d["strategy"]] = d
    note = [l for l in p.stderr.splitlines() if "encoded" in l]
    return rows, note


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cifar")
    ap.add_argument("--write", action="store_true")
    a = ap.parse_args()
    cifar = a.cifar
    if not cifar:
        tmp = tempfile.mkdtemp()
        with tarfile.open(os.path.join(ROOT, "..", "shared", "datasets", "cifar10-train-2k.tgz")) as t:
            t.extractall(tmp, filter="data")
        cifar = os.path.join(tmp, "cifar-train-2k")
    fashion = "--data {0}/datasets/fashion-mnist-1k-images-idx3-ubyte.gz --labels {0}/datasets/fashion-mnist-1k-labels-idx1-ubyte.gz --format idx".format(ROOT)
    configs = [
        ("CIFAR-10 2k", f"--data {cifar} --format folder", "pixels", None),
        ("CIFAR-10 2k", f"--data {cifar} --format folder", "coates", None),
        *[("CIFAR-10 2k", f"--data {cifar} --format folder", "pretrained", s) for s in (96, 128, 160, 224)],
        ("CIFAR-10 2k", f"--data {cifar} --format folder", "default", None),
        ("Fashion-MNIST 1k", fashion, "pixels", None),
        ("Fashion-MNIST 1k", fashion, "coates", None),
        ("Fashion-MNIST 1k", fashion, "default", None),
    ]
    lines = [
        "| data | features | random AULC | auto AULC | typiclust AULC | auto accuracy at 200 | encoding (native, all cores) |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, data, feats, size in configs:
        strategies = "random,auto,typiclust" if name.startswith("CIFAR") else "random,auto"
        rows, note = run(data, feats, strategies, size)
        cell = lambda s: f"{rows[s]['aulc_mean']:.3f} ± {rows[s]['aulc_sd']:.3f}" if s in rows else "–"
        label = feats + (f" {size} px" if size else "")
        enc = re.sub(r"^marginalia-sim: ", "", note[0]) if note else ""
        enc = re.sub(r" with efficientnet.*? in", " in", enc)
        lines.append(f"| {name} | {label} | {cell('random')} | {cell('auto')} | {cell('typiclust')} | {rows['auto']['final_acc_mean']:.3f} | {enc} |")
        print(lines[-1], file=sys.stderr)
    table = "\n".join(lines)
    print(table)
    if a.write:
        write_section("image-features", table)


if __name__ == "__main__":
    main()
