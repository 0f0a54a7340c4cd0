#!/usr/bin/env python3
"""Reference scores for the query strategies, from modAL's own functions.

Run once (needs modAL-python and scikit-learn < 1.6) and commit the output:

    python3 bench/reference/strategy_reference.py > tests/fixtures/strategy_reference.json

A fixed probability matrix, a fixed three-member committee and a small fixed feature
matrix go through modAL's measures via duck-typed stand-ins for its classifier and
committee (modAL only calls predict_proba / vote / classes_ on them), so the numbers are
modAL's arithmetic, not ours. tests/strategy_reference.rs compares against them.
"""
import importlib.metadata
import json
import sys

import numpy as np
import modAL
from modAL.uncertainty import classifier_uncertainty, classifier_margin, classifier_entropy
from modAL.disagreement import vote_entropy, consensus_entropy, KL_max_disagreement
from modAL.batch import uncertainty_batch_sampling
from modAL.density import information_density
from scipy.stats import entropy

P = np.array([
    [0.7, 0.2, 0.1],
    [0.4, 0.35, 0.25],
    [0.34, 0.33, 0.33],
    [0.05, 0.9, 0.05],
    [0.5, 0.5, 0.0],
    [0.1, 0.3, 0.6],
])

COMMITTEE = [
    np.array([[0.8, 0.1, 0.1], [0.3, 0.4, 0.3], [0.5, 0.25, 0.25], [0.1, 0.1, 0.8]]),
    np.array([[0.7, 0.2, 0.1], [0.4, 0.3, 0.3], [0.2, 0.6, 0.2], [0.2, 0.2, 0.6]]),
    np.array([[0.9, 0.05, 0.05], [0.3, 0.3, 0.4], [0.1, 0.1, 0.8], [0.3, 0.1, 0.6]]),
]

# Features for ranked batch and density: 8 candidates, 2 labelled, 2-D.
X = np.array([
    [0.0, 0.0], [1.0, 0.5], [2.0, 2.0], [-1.0, 3.0],
    [4.0, -1.0], [0.5, 0.4], [3.0, 3.0], [-2.0, -2.0],
])
X_LABELLED = np.array([[0.0, 0.1], [3.0, 2.9]])
P_X = np.array([
    [0.9, 0.1], [0.6, 0.4], [0.55, 0.45], [0.7, 0.3],
    [0.5, 0.5], [0.8, 0.2], [0.95, 0.05], [0.65, 0.35],
])


class FixedClassifier:
    """What modAL's uncertainty functions need from a classifier."""

    def __init__(self, proba, x_training=None):
        self.proba = proba
        self.X_training = x_training
        self.on_transformed = False

    def predict_proba(self, X, **kwargs):
        return self.proba


class FixedCommittee:
    """What modAL's disagreement functions need from a Committee."""

    def __init__(self, members):
        self.members = members
        self.classes_ = np.arange(members[0].shape[1])
        self.n_classes_ = members[0].shape[1]

    def __len__(self):
        return len(self.members)

    def __iter__(self):
        return iter(self.members)

    def vote(self, X, **kwargs):
        return np.stack([m.argmax(axis=1) for m in self.members], axis=1)

    def vote_proba(self, X, **kwargs):
        return np.stack(self.members, axis=1)

    def predict_proba(self, X, **kwargs):
        return np.mean(self.members, axis=0)


def main():
    clf = FixedClassifier(P)
    dummy = np.zeros((P.shape[0], 1))
    com = FixedCommittee(COMMITTEE)
    cdummy = np.zeros((COMMITTEE[0].shape[0], 1))
    consensus = np.mean(COMMITTEE, axis=0)
    mean_kl = np.mean([entropy(m.T, qk=consensus.T) for m in COMMITTEE], axis=0)
    ranked = uncertainty_batch_sampling(FixedClassifier(P_X, X_LABELLED), X, n_instances=5)
    ranked_idx = ranked[0] if isinstance(ranked, tuple) else ranked
    out = {
        "modAL": importlib.metadata.version("modAL-python"),
        "probs": P.tolist(),
        "least_confident": classifier_uncertainty(clf, dummy).tolist(),
        # modAL's margin is p1 - p2 (it queries the smallest); ours is its negation.
        "margin_p1_minus_p2": classifier_margin(clf, dummy).tolist(),
        "entropy": classifier_entropy(clf, dummy).tolist(),
        "committee": [m.tolist() for m in COMMITTEE],
        "vote_entropy": vote_entropy(com, cdummy).tolist(),
        "consensus_entropy": consensus_entropy(com, cdummy).tolist(),
        "max_kl": KL_max_disagreement(com, cdummy).tolist(),
        "mean_kl": mean_kl.tolist(),
        "x": X.tolist(),
        "x_labelled": X_LABELLED.tolist(),
        "probs_x": P_X.tolist(),
        "ranked_batch_order": [int(i) for i in ranked_idx],
        "density_euclidean": information_density(X, "euclidean").tolist(),
    }
    json.dump(out, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
