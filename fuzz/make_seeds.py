#!/usr/bin/env python3
"""Seed corpora for the fuzz targets: small slices of the repo's datasets (each under
libFuzzer's default 4 KiB input limit), written to fuzz/seeds/<target>/.

    python3 fuzz/make_seeds.py        # needs numpy for the .npy seeds
"""
import gzip
import json
import os
import struct

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
DATA = os.path.join(ROOT, "datasets")
SEEDS = os.path.join(ROOT, "fuzz", "seeds")


def put(target, name, data):
    os.makedirs(os.path.join(SEEDS, target), exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    assert len(data) <= 4096, (target, name, len(data))
    with open(os.path.join(SEEDS, target, name), "wb") as f:
        f.write(data)


def lines(path, n):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as f:
        return [next(f) for _ in range(n)]


# CSV/TSV: the three header rules (scikit-learn header, none, named) and quoting.
iris = lines(os.path.join(DATA, "iris.csv"), 151)
body = iris[1:6] + iris[51:56] + iris[101:106]
put("csv_tsv", "iris_sklearn_header.csv", "%d,4,setosa,versicolor,virginica\n" % len(body) + "".join(body))
put("csv_tsv", "digits_no_header.csv", "".join(lines(os.path.join(DATA, "digits.csv.gz"), 12)))
put("csv_tsv", "penguins_named_header_na.csv", "".join(lines(os.path.join(DATA, "penguins.csv"), 40)))
put("csv_tsv", "quoted.csv", 'name,note,label\n"Smith, J","said ""hi""\nthen left",a\r\nx,,b\n\n"y",NA,a\n')
put("csv_tsv", "spam_subjects.tsv", "".join(lines(os.path.join(DATA, "spamassassin-subjects.tsv"), 40)))

# JSON lines: penguins (numbers, strings, null) and spam subjects (text + label).
with open(os.path.join(DATA, "penguins.json"), encoding="utf-8") as f:
    penguins = json.load(f)
put("jsonl", "penguins.jsonl", "".join(json.dumps(p) + "\n" for p in penguins[:8] + penguins[150:158]))
spam = [l.rstrip("\n").split("\t", 1) for l in lines(os.path.join(DATA, "spamassassin-subjects.tsv"), 30)[1:]]
put("jsonl", "spam_subjects.jsonl", "".join(json.dumps({"text": s, "label": l}) + "\n" for l, s in spam))

# IDX: three Fashion-MNIST images (dims rewritten to 3 x 28 x 28) and 40 labels.
with gzip.open(os.path.join(DATA, "fashion-mnist-1k-images-idx3-ubyte.gz")) as f:
    img = f.read()
put("idx", "fashion_3_images.idx", img[:4] + struct.pack(">III", 3, 28, 28) + img[16 : 16 + 3 * 784])
with gzip.open(os.path.join(DATA, "fashion-mnist-1k-labels-idx1-ubyte.gz")) as f:
    lab = f.read()
put("idx", "fashion_40_labels.idx", lab[:4] + struct.pack(">I", 40) + lab[8:48])

# NPY: what np.save writes for small embeddings, in each supported version and dtype.
try:
    import io

    import numpy as np
    from numpy.lib import format as npf

    def npy(a, version=None):
        b = io.BytesIO()
        npf.write_array(b, a, version=version)
        return b.getvalue()

    emb = (np.arange(40, dtype="<f4").reshape(5, 8) - 20) / 7
    put("npy", "emb_5x8_f4_v1.npy", npy(emb))
    put("npy", "emb_5x8_f8_v2.npy", npy(emb.astype("<f8"), (2, 0)))
    put("npy", "emb_2x2x3_f4_v3.npy", npy(emb.reshape(-1)[:12].reshape(2, 2, 3), (3, 0)))
    put("npy", "scalar_f4.npy", npy(np.float32(2.5)))
    put("npy", "empty_0x3.npy", npy(np.zeros((0, 3), dtype="<f4")))
    put("npy", "big_endian.npy", npy(emb.astype(">f4")))
    put("npy", "fortran.npy", npy(np.asfortranarray(emb)))
except ImportError:
    print("numpy not found: .npy seeds not written")

# Text: one document per line; the first byte is the target's knob (min_df, max_features).
subjects = [l.split("\t", 1)[1] for l in lines(os.path.join(DATA, "spamassassin-subjects.tsv"), 80)[1:]]
put("text", "spam_subjects_min_df_2", b"\x01" + "".join(subjects[:40]).encode())
put("text", "spam_subjects_min_df_1", b"\x00" + "".join(subjects[40:]).encode())
put("text", "unicode", "\x05Café--ünïcode 42\nCAFÉ ünïcode\n\u0130stanbul İSTANBUL\nß straße STRASSE\n")
