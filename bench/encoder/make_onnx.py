#!/usr/bin/env python3
"""The app's EfficientNet-Lite0 as an ONNX graph, for the speed comparison with
onnxruntime-web (bench/encoder-speed.mjs): the same weights (the f16 file the app ships,
widened to f32), the same folded graph (convolution + bias + ReLU6, TensorFlow "same"
padding written out as explicit pads for the input size), the same output (the 1,280
pooled values). Needs numpy and the `onnx` package.

    python3 bench/encoder/make_onnx.py OUT.onnx [--size 224]
"""
import argparse
import json
import os
import struct
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "weights"))
from convert_efficientnet_lite0 import BLOCKS  # noqa: E402

DTYPES = {"F16": np.float16, "F32": np.float32}


def read_safetensors(path):
    raw = open(path, "rb").read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n])
    data = raw[8 + n :]
    out = {}
    for name, t in header.items():
        if name == "__metadata__":
            continue
        a, b = t["data_offsets"]
        out[name] = np.frombuffer(data[a:b], dtype=DTYPES[t["dtype"]]).reshape(t["shape"]).astype(np.float32)
    return out


def same_pads(n, k, s):
    out = -(-n // s)
    total = max((out - 1) * s + k - n, 0)
    return out, total // 2, total - total // 2


def build(weights, size):
    nodes, inits = [], []
    counter = [0]

    def name(p):
        counter[0] += 1
        return f"{p}_{counter[0]}"

    def const(arr, p):
        n = name(p)
        inits.append(numpy_helper.from_array(np.ascontiguousarray(arr, dtype=np.float32), n))
        return n

    relu_min, relu_max = const(np.array(0.0), "zero"), const(np.array(6.0), "six")

    def conv(x, hw, w, b, k, s, group=1, relu=True):
        out, top, bottom = same_pads(hw, k, s)
        y = name("conv")
        nodes.append(helper.make_node("Conv", [x, const(w, "w"), const(b, "b")], [y], kernel_shape=[k, k], strides=[s, s], pads=[top, top, bottom, bottom], group=group))
        if relu:
            r = name("relu6")
            nodes.append(helper.make_node("Clip", [y, relu_min, relu_max], [r]))
            y = r
        return y, out

    x, hw = conv("input", size, weights["stem.weight"], weights["stem.bias"], 3, 2)
    for i, (k, s, e, cin, cout) in enumerate(BLOCKS):
        inp = x
        mid = cin * e
        if e != 1:
            x, _ = conv(x, hw, weights[f"blocks.{i}.expand.weight"].reshape(mid, cin, 1, 1), weights[f"blocks.{i}.expand.bias"], 1, 1)
        x, hw = conv(x, hw, weights[f"blocks.{i}.depthwise.weight"].reshape(mid, 1, k, k), weights[f"blocks.{i}.depthwise.bias"], k, s, group=mid)
        x, _ = conv(x, hw, weights[f"blocks.{i}.project.weight"].reshape(cout, mid, 1, 1), weights[f"blocks.{i}.project.bias"], 1, 1, relu=False)
        if s == 1 and cin == cout:
            y = name("add")
            nodes.append(helper.make_node("Add", [x, inp], [y]))
            x = y
    x, _ = conv(x, hw, weights["head.weight"].reshape(1280, 320, 1, 1), weights["head.bias"], 1, 1)
    pooled = name("pool")
    nodes.append(helper.make_node("GlobalAveragePool", [x], [pooled]))
    nodes.append(helper.make_node("Flatten", [pooled], ["embedding"], axis=1))
    graph = helper.make_graph(
        nodes,
        "efficientnet_lite0_embedding",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", 3, size, size])],
        [helper.make_tensor_value_info("embedding", TensorProto.FLOAT, ["batch", 1280])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="marginalia bench/encoder/make_onnx.py")
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--size", type=int, default=224)
    a = ap.parse_args()
    w = read_safetensors(os.path.join(ROOT, "weights", "efficientnet-lite0.f16.safetensors"))
    onnx.save(build(w, a.size), a.out)
    print(f"{a.out}: {os.path.getsize(a.out):,} bytes")
