#!/usr/bin/env python3
"""Small .npy files written by NumPy itself, for src/data/npy.rs's tests.

Run once (needs numpy) and commit the output:

    python3 bench/reference/npy_fixtures.py

Each file is tiny; the values are arange-based so the Rust test can check them without
reading them back from here.
"""
import os

import numpy as np
from numpy.lib import format as npf

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "tests", "fixtures", "npy")


def save(name, a, version=None):
    with open(os.path.join(OUT, name), "wb") as f:
        if version is None:
            np.save(f, a)  # np.save picks 1.0 when the header fits
        else:
            npf.write_array(f, a, version=version)


os.makedirs(OUT, exist_ok=True)
a = np.arange(6, dtype="<f4").reshape(2, 3) / 4  # 0, .25, .5, .75, 1, 1.25
save("f4_2x3_v1.npy", a)
save("f8_2x3_v1.npy", a.astype("<f8"))
save("f4_2x3_v2.npy", a, version=(2, 0))
save("f4_2x3_v3.npy", a, version=(3, 0))
save("f4_scalar.npy", np.float32(2.5))
save("f4_0x3.npy", np.zeros((0, 3), dtype="<f4"))
# Rejected, each with its own message.
save("f4_big_endian.npy", a.astype(">f4"))
save("f4_fortran.npy", np.asfortranarray(a))
save("i8.npy", np.arange(6, dtype="<i8"))
print("numpy", np.__version__, "->", os.path.normpath(OUT))
