#!/usr/bin/env python3
"""Label efficiency of the text features, through the Rust simulator (issue 14's protocol):
softmax regression, 4 initial labels, batches of 20 up to 400, 5 seeds, test fraction 0.3.

    cargo build --release && python3 bench/text_features.py [--write]

Every text set in datasets/: the spam-assassin subjects, and outlet-links (made by
bench/make_outlet_set.py), where the link's domain carries the class. Features: TF-IDF
(`text`), the sentence embeddings alone (`pretrained`), both side by side
(`text+pretrained`), and `default`, what the app chooses (encoder::default_text_features).
Prints a markdown table; --write puts it into docs/BENCHMARKS.md between the
"text-features" markers.
"""
import argparse
import json
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchmarks_doc import write_section  # noqa: E402

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
SIM = os.path.join(ROOT, "target", "release", "marginalia-sim")
PROTOCOL = "--seeds 5 --init 4 --batch 20 --budget 400 --test-frac 0.3 --strategy random,margin,auto"
SETS = [("spam subjects (4,307)", "datasets/spamassassin-subjects.tsv"), ("outlet links (1,500)", "datasets/outlet-links.tsv")]
FEATURES = ["text", "pretrained", "text+pretrained", "default"]


def run(path, features):
    cmd = [SIM, "--data", os.path.join(ROOT, path), "--features", features, *PROTOCOL.split()]
    p = subprocess.run(cmd, capture_output=True, text=True, check=True)
    rows = {d["strategy"]: d for d in map(json.loads, p.stdout.splitlines()) if d.get("summary")}
    note = [re.sub(r"^marginalia-sim: ", "", l) for l in p.stderr.splitlines() if "encoded" in l]
    return rows, note


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--write", action="store_true")
    a = ap.parse_args()
    lines = [
        "| data | features | random AULC | margin AULC | auto AULC | auto final accuracy | round (median) | encoding (native, all cores) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, path in SETS:
        for feats in FEATURES:
            rows, note = run(path, feats)
            cell = lambda s: f"{rows[s]['aulc_mean']:.3f} ± {rows[s]['aulc_sd']:.3f}"
            lines.append(f"| {name} | {feats} | {cell('random')} | {cell('margin')} | {cell('auto')} | {rows['auto']['final_acc_mean']:.3f} | {rows['auto']['round_ms_median']:.1f} ms | {note[0] if note else ''} |")
            print(lines[-1], file=sys.stderr)
    table = "\n".join(lines)
    print(table)
    if a.write:
        write_section("text-features", table)


if __name__ == "__main__":
    main()
