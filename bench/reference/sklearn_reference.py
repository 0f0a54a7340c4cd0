#!/usr/bin/env python3
"""Reference optima of scikit-learn's LogisticRegression(C=1) for the softmax tests.

Run once (needs scikit-learn; `pip install "scikit-learn<1.6"`) and commit the output:

    python3 bench/reference/sklearn_reference.py > tests/fixtures/sklearn_reference.json

The spam subjects are featurized by the Rust code itself (see spam()); with two classes
scikit-learn fits the binomial model, which the Rust softmax matches (see effective_c in
src/model/softmax.rs). For each dataset it fits the multinomial model with the L2 penalty on all rows (raw
features, as the Rust test loads them) to a very tight tolerance, and records the mean
log-loss and the penalized objective  mean log-loss + ||W||^2 / (2 C n).
"""
import gzip
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import sklearn
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "datasets")


def iris():
    with open(os.path.join(ROOT, "iris.csv")) as f:
        rows = [line.strip().split(",") for line in f if line.strip()][1:]
    x = np.array([[float(v) for v in r[:-1]] for r in rows])
    y = np.array([int(r[-1]) for r in rows])
    return x, y


def digits():
    with gzip.open(os.path.join(ROOT, "digits.csv.gz"), "rt") as f:
        rows = [line.strip().split(",") for line in f if line.strip()]
    x = np.array([[float(v) for v in r[:-1]] for r in rows])
    y = np.array([int(float(r[-1])) for r in rows])
    return x, y


def spam():
    """The spam subjects as the Rust side featurizes them (TF-IDF fitted on all rows): the
    matrix comes from `cargo run --example dump_features`, so both fit the same numbers."""
    repo = os.path.join(ROOT, "..")
    with tempfile.TemporaryDirectory() as tmp:
        xp, yp = os.path.join(tmp, "x.npy"), os.path.join(tmp, "y.npy")
        subprocess.run(["cargo", "run", "--release", "-q", "--example", "dump_features", "--",
                        os.path.join(ROOT, "spamassassin-subjects.tsv"), xp, yp, "--features", "text"], check=True, cwd=repo)
        return np.load(xp).astype(np.float64), np.load(yp)


def reference(name, x, y, c=1.0):
    m = LogisticRegression(C=c, tol=1e-12, max_iter=100000)
    m.fit(x, y)
    p = m.predict_proba(x)
    ll = log_loss(y, p, labels=m.classes_)
    obj = ll + float(np.sum(m.coef_ ** 2)) / (2 * c * len(y))
    return {"dataset": name, "C": c, "n": int(len(y)), "d": int(x.shape[1]),
            "log_loss": ll, "objective": obj}


def main():
    out = {"sklearn_version": sklearn.__version__, "results": [
        reference("iris", *iris()),
        reference("digits", *digits()),
        reference("spam", *spam()),
    ]}
    json.dump(out, sys.stdout, indent=2)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
