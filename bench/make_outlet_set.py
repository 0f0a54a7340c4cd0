#!/usr/bin/env python3
"""Write datasets/outlet-links.tsv: a text set where the words themselves carry the class
and the meaning does not (issue 14: "make a set where the words themselves carry the
class, like link domains"). Each line is a spam-assassin subject (datasets/, chosen at
random, so its meaning says nothing about the class) followed by a short link; the class is
the outlet, and the link names the class's own outlet 90 % of the time and another one
otherwise. TF-IDF reads the domains; a sentence encoder mostly sees the subject.

    python3 bench/make_outlet_set.py     # the same file on every run (seeded)
"""
import os
import random

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
OUTLETS = {"reuters": "reut.rs", "kaiser": "khne.ws", "bbc": "bbc.in"}


def main():
    rng = random.Random(14)
    subjects = [l.rstrip("\n").split("\t", 1)[1] for l in open(os.path.join(ROOT, "datasets", "spamassassin-subjects.tsv"), encoding="utf-8").readlines()[1:]]
    names = sorted(OUTLETS)
    lines = ["label\ttext"]
    for _ in range(1500):
        label = rng.choice(names)
        outlet = OUTLETS[label] if rng.random() < 0.9 else OUTLETS[rng.choice([n for n in names if n != label])]
        slug = "".join(rng.choice("abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789") for _ in range(6))
        lines.append(f"{label}\t{rng.choice(subjects)} https://{outlet}/{slug}")
    with open(os.path.join(ROOT, "datasets", "outlet-links.tsv"), "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
