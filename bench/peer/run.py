#!/usr/bin/env python3
"""Marginalia vs modAL, side by side on the same protocol, splits and features.

For each dataset it runs `marginalia-sim` (release build) with `--dump`, then
bench/peer/modal_peer.py on the dumped splits, and writes the table to the section
"Engine vs modAL" of docs/BENCHMARKS.md (the rest of the file is left as it is).

    python3 bench/peer/run.py                 # 10 seeds, all four datasets
    python3 bench/peer/run.py --seeds 3 --only iris,digits

Both sides run single-threaded (BLAS threads pinned to 1): the simulator uses one core,
and on a shared machine extra BLAS threads only add noise.
"""
import argparse
import datetime
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SIM = os.path.join(ROOT, "target", "release", "marginalia-sim")
D = os.path.join(ROOT, "datasets")

DATASETS = [
    ("digits", ["--data", f"{D}/digits.csv.gz"], 10, 300),
    ("iris", ["--data", f"{D}/iris.csv"], 3, 60),
    ("fashion-mnist-1k", ["--data", f"{D}/fashion-mnist-1k-images-idx3-ubyte.gz",
                          "--labels", f"{D}/fashion-mnist-1k-labels-idx1-ubyte.gz"], 10, 300),
    # TF-IDF, as the modAL side is given (the simulator's default for text is TF-IDF beside
    # sentence embeddings).
    ("spam-subjects", ["--data", f"{D}/spamassassin-subjects.tsv", "--features", "text"], 20, 400),
]
MODAL = ["random", "least_confident", "margin", "entropy"]
# Marginalia runs the same four plus auto, where its registry has them.
OURS = ["random", "least_confident", "margin", "entropy", "auto"]
# A cap no fit here reaches: the converged column.
CONVERGED = 10000
ENV = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")


def known(strategy):
    return subprocess.run([SIM, "--help", "--strategy", strategy], capture_output=True).returncode == 0


def summaries(cmd):
    out = subprocess.run(cmd, capture_output=True, text=True, env=ENV)
    if out.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{out.stderr}")
    return {d["strategy"]: d for d in map(json.loads, out.stdout.splitlines()) if d.get("summary")}


def cell(s):
    return f"{s['aulc_mean']:.3f} ± {s['aulc_sd']:.3f}" if s else "–"


def table(results, seeds):
    lines = ["| dataset (b, B) | strategy | Marginalia AULC | modAL AULC, max_iter 100 | modAL AULC, converged "
             "| final acc M / modAL 100 / conv. | round ms M / modAL 100 / conv. | speed-up vs 100 / conv. |",
             "|---|---|---|---|---|---|---|---|"]
    f2 = lambda s, k: f"{s[k]:.2f}" if s else "–"
    f3 = lambda s, k: f"{s[k]:.3f}" if s else "–"
    x = lambda m, p: f"{p['round_ms_median'] / m['round_ms_median']:.1f}×" if m and p and m["round_ms_median"] > 0 else "–"
    for name, b, budget, ours, peer, conv in results:
        for strategy in sorted(set(ours) | set(peer), key=lambda s: OURS.index(s) if s in OURS else 99):
            m, p, c = ours.get(strategy), peer.get(strategy), conv.get(strategy)
            acc = f"{f3(m, 'final_acc_mean')} / {f3(p, 'final_acc_mean')} / {f3(c, 'final_acc_mean')}"
            ms = f"{f2(m, 'round_ms_median')} / {f2(p, 'round_ms_median')} / {f2(c, 'round_ms_median')}"
            lines.append(f"| {name} ({b}, {budget}) | {strategy} | {cell(m)} | {cell(p)} | {cell(c)} | {acc} | {ms} | {x(m, p)} / {x(m, c)} |")
    return "\n".join(lines)


def write_section(text):
    path = os.path.join(ROOT, "docs", "BENCHMARKS.md")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    old = open(path).read() if os.path.exists(path) else "# Benchmarks\n"
    section = "## Engine vs modAL\n\n" + text.strip() + "\n"
    pattern = re.compile(r"^## Engine vs modAL\n.*?(?=^## |\Z)", re.S | re.M)
    new = pattern.sub(lambda _: section + "\n", old) if pattern.search(old) else old.rstrip() + "\n\n" + section
    open(path, "w").write(new)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--only", default="")
    # A partial run (--only) would replace the whole section with its few rows: print only.
    ap.add_argument("--no-write", action="store_true", help="print the table, leave docs/BENCHMARKS.md alone")
    a = ap.parse_args()
    subprocess.run(["cargo", "build", "--release", "-q", "--bin", "marginalia-sim"], cwd=ROOT, check=True)
    ours_names = [s for s in OURS if known(s)]
    results = []
    # The machine may be shared: the load average (1 min) before and after each dataset
    # goes into the report, as the round times move with it (both sides run in turn).
    loads = []
    for name, args, b, budget in DATASETS:
        if a.only and name not in a.only.split(","):
            continue
        load0 = os.getloadavg()[0]
        tmp = tempfile.mkdtemp(prefix="marginalia-peer-")
        try:
            proto = ["--seeds", str(a.seeds), "--batch", str(b), "--budget", str(budget)]
            ours = summaries([SIM, *args, *proto, "--strategy", ",".join(ours_names), "--dump", tmp])
            modal = [sys.executable, os.path.join(ROOT, "bench", "peer", "modal_peer.py"),
                     "--dump", tmp, *proto, "--strategy", ",".join(MODAL)]
            # As people run modAL (scikit-learn's default max_iter=100, which stops before
            # converging on 784 pixels at a few hundred labels), and converged.
            peer = summaries([*modal, "--max-iter", "100"])
            conv = summaries([*modal, "--max-iter", str(CONVERGED)])
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        results.append((name, b, budget, ours, peer, conv))
        loads.append(f"{name} {load0:.1f} → {os.getloadavg()[0]:.1f}")
        print(f"{name}: done", file=sys.stderr)
    cmd = "python3 bench/peer/run.py" + (f" --seeds {a.seeds}" if a.seeds != 10 else "") + (f" --only {a.only}" if a.only else "")
    import sklearn, modAL  # noqa: E401  (versions for the record)
    text = f"""Same protocol, same splits, same features (the simulator dumps each seed's split and
modAL replays it), {a.seeds} seeds; softmax regression vs scikit-learn
`LogisticRegression(C=1)`; K = 2 × classes initial labels, batches of b up to B labels.
AULC mean ± sd over seeds; round = query + refit, median over all rounds, milliseconds;
speed-up = modAL's median round / Marginalia's. Single-threaded both sides. modAL runs
twice: with scikit-learn's default `max_iter=100` (what modAL users get; it can stop
before converging) and converged (`max_iter={CONVERGED}`). Its random strategy returns
(indices, scores) as modAL's own do (before, modAL called it twice per round).

Command: `{cmd}` ({datetime.date.today()}, {platform.machine()}, {os.cpu_count()} cores shared
with other jobs, scikit-learn {sklearn.__version__}, modAL {getattr(modAL, '__version__', '0.4.x')}).
Marginalia strategies run: {', '.join(ours_names)}.
Load average (1 min) before → after each dataset: {'; '.join(loads)}.

{table(results, a.seeds)}
"""
    if not a.no_write:
        write_section(text)
    print(text)


if __name__ == "__main__":
    main()
