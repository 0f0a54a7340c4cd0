#!/usr/bin/env python3
"""modAL on the marginalia-sim protocol, on the very same splits and features.

`marginalia-sim --dump DIR` writes, per seed s, the featurized pool and test split and the
initial labels (seed{s}_{pool_x,pool_y,test_x,test_y,init}.npy). This script replays the
protocol of issue 3 with modAL's ActiveLearner and scikit-learn's LogisticRegression(C=1):
batches of B queried labels until the budget (total labels, initial included), refit after
each batch, test accuracy after the initial fit and after each batch. A round is timed as
the simulator times it: query (on the unlabelled rows) + teach (which refits).

Output: the simulator's JSON lines, one per (strategy, seed) and a summary per strategy.

    python3 bench/peer/modal_peer.py --dump DIR --seeds 10 --batch 10 --budget 300 \
        --strategy random,least_confident,margin,entropy [--max-iter 100]
"""
import argparse
import json
import time
import warnings

import numpy as np
from modAL.models import ActiveLearner
from modAL.uncertainty import entropy_sampling, margin_sampling, uncertainty_sampling
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression


def random_sampling(seed):
    rng = np.random.default_rng(seed)

    def strategy(classifier, X, n_instances=1):
        # (indices, scores), as modAL's own strategies return: ActiveLearner.query first
        # unpacks two values and, when that fails, calls the strategy again. A bare index
        # array made random sampling run twice per round (inflating modAL's times), and a
        # last batch of 2 rows unpacked wrongly into one index each.
        idx = rng.choice(X.shape[0], size=min(n_instances, X.shape[0]), replace=False)
        return idx, np.zeros(len(idx))

    return strategy


STRATEGIES = {
    "least_confident": lambda seed: uncertainty_sampling,
    "margin": lambda seed: margin_sampling,
    "entropy": lambda seed: entropy_sampling,
    "random": random_sampling,
}


def aulc(acc):
    if len(acc) == 1:
        return acc[0]
    return sum((a + b) / 2 for a, b in zip(acc, acc[1:])) / (len(acc) - 1)


def run(dump, seed, strategy, batch, budget, max_iter):
    load = lambda name: np.load(f"{dump}/seed{seed}_{name}.npy")
    pool_x, pool_y = load("pool_x"), load("pool_y")
    test_x, test_y = load("test_x"), load("test_y")
    init = load("init")
    unlabelled = np.ones(len(pool_y), dtype=bool)
    unlabelled[init] = False
    learner = ActiveLearner(estimator=LogisticRegression(C=1.0, max_iter=max_iter), query_strategy=STRATEGIES[strategy](seed),
                            X_training=pool_x[init], y_training=pool_y[init])
    labels, accuracy, rounds = [len(init)], [learner.score(test_x, test_y)], []
    budget = min(budget, len(pool_y))
    while labels[-1] < budget:
        want = min(batch, budget - labels[-1])
        t0 = time.perf_counter()
        rows = np.flatnonzero(unlabelled)
        picked, _ = learner.query(pool_x[rows], n_instances=want)
        chosen = rows[np.asarray(picked)]
        learner.teach(pool_x[chosen], pool_y[chosen])
        rounds.append((time.perf_counter() - t0) * 1e3)
        unlabelled[chosen] = False
        labels.append(labels[-1] + len(chosen))
        accuracy.append(learner.score(test_x, test_y))
    return labels, accuracy, rounds


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dump", required=True)
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--batch", type=int, default=10)
    ap.add_argument("--budget", type=int, default=100)
    ap.add_argument("--strategy", default="random,least_confident,margin,entropy")
    # scikit-learn's default (100) is what modAL users get; it stops before converging on
    # 784-pixel images at a few hundred labels. A large cap gives the converged fit.
    ap.add_argument("--max-iter", type=int, default=100)
    a = ap.parse_args()
    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    for strategy in a.strategy.split(","):
        aulcs, finals, all_rounds = [], [], []
        for seed in range(a.seeds):
            labels, acc, rounds = run(a.dump, seed, strategy, a.batch, a.budget, a.max_iter)
            print(json.dumps({"strategy": strategy, "seed": seed, "labels": labels, "accuracy": acc,
                              "aulc": aulc(acc), "round_ms_median": float(np.median(rounds)) if rounds else 0.0}),
                  flush=True)
            aulcs.append(aulc(acc))
            finals.append(acc[-1])
            all_rounds.extend(rounds)
        print(json.dumps({"strategy": strategy, "summary": True, "seeds": a.seeds,
                          "aulc_mean": float(np.mean(aulcs)),
                          "aulc_sd": float(np.std(aulcs, ddof=1)) if len(aulcs) > 1 else 0.0,
                          "final_acc_mean": float(np.mean(finals)),
                          "round_ms_median": float(np.median(all_rounds)) if all_rounds else 0.0}), flush=True)


if __name__ == "__main__":
    main()
