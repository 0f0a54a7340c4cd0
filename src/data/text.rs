//! Text features: TF-IDF over word unigrams and bigrams with sublinear term frequency and
//! L2-normalized rows (Salton & Buckley 1988; the same weighting as scikit-learn's
//! `TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, smooth_idf=True)`):
//!
//!   w(t, d) = (1 + ln tf(t, d)) · (ln((1 + n) / (1 + df(t))) + 1),  then  w / ‖w‖₂
//!
//! The vocabulary is fitted on the pool: terms in at least `min_df` documents, the
//! `max_features` most frequent kept. A fitted vocabulary rather than feature hashing
//! because the pool is a dense matrix: the dimension must stay small, and at a small
//! dimension hashing would merge many unrelated terms.

use std::collections::HashMap;

use ndarray::Array2;
use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// Lowercased words: maximal runs of alphanumeric characters (Unicode-aware).
pub fn tokens(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(|w| w.to_lowercase()).collect()
}

/// Unigrams and bigrams (two adjacent words joined by one space).
pub fn terms(text: &str) -> Vec<String> {
    let words = tokens(text);
    let mut out = words.clone();
    out.extend(words.windows(2).map(|w| format!("{} {}", w[0], w[1])));
    out
}

/// TF-IDF settings, checked by [`TfidfParams::fit`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TfidfParams {
    min_df: usize,
    max_features: usize,
}

impl Default for TfidfParams {
    fn default() -> Self {
        TfidfParams { min_df: 2, max_features: 4096 }
    }
}

/// A fitted vocabulary with its idf weights.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tfidf {
    vocab: HashMap<String, u32>,
    idf: Vec<f32>,
}

impl TfidfParams {
    /// Keep terms seen in at least this many pool documents (default 2, ≥ 1): a term seen
    /// once cannot help tell labelled samples apart from unlabelled ones.
    pub fn min_df(mut self, n: usize) -> Self {
        self.min_df = n;
        self
    }
    /// Keep at most this many terms, the most frequent (default 4096, ≥ 1).
    pub fn max_features(mut self, n: usize) -> Self {
        self.max_features = n;
        self
    }

    /// Fit the vocabulary and idf on the pool's documents.
    pub fn fit<S: AsRef<str>>(self, docs: &[S]) -> Result<Tfidf> {
        if self.min_df == 0 || self.max_features == 0 {
            return Err(Error::param("tfidf", "min_df and max_features must be at least 1"));
        }
        if docs.is_empty() {
            return Err(Error::Empty("documents for TF-IDF".into()));
        }
        let mut df: HashMap<String, usize> = HashMap::new();
        for d in docs {
            let mut ts = terms(d.as_ref());
            ts.sort_unstable();
            ts.dedup();
            for t in ts {
                *df.entry(t).or_default() += 1;
            }
        }
        let mut kept: Vec<(String, usize)> = df.into_iter().filter(|(_, c)| *c >= self.min_df).collect();
        // Most frequent first, ties by term, so the vocabulary is the same on every run.
        kept.sort_unstable_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        kept.truncate(self.max_features);
        kept.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        let n = docs.len() as f64;
        let idf = kept.iter().map(|(_, c)| (((1.0 + n) / (1.0 + *c as f64)).ln() + 1.0) as f32).collect();
        let vocab = kept.into_iter().enumerate().map(|(i, (t, _))| (t, i as u32)).collect();
        Ok(Tfidf { vocab, idf })
    }
}

impl Tfidf {
    /// Number of features (vocabulary size).
    pub fn width(&self) -> usize {
        self.idf.len()
    }

    /// One L2-normalized TF-IDF row per document; a document with no known term is a zero row.
    pub fn transform<S: AsRef<str>>(&self, docs: &[S]) -> Array2<f32> {
        let mut out = Array2::<f32>::zeros((docs.len(), self.width()));
        for (i, d) in docs.iter().enumerate() {
            let mut tf: HashMap<u32, u32> = HashMap::new();
            for t in terms(d.as_ref()) {
                if let Some(&j) = self.vocab.get(&t) {
                    *tf.entry(j).or_default() += 1;
                }
            }
            let mut row = out.row_mut(i);
            for (&j, &c) in &tf {
                row[j as usize] = (1.0 + (c as f32).ln()) * self.idf[j as usize];
            }
            let norm = row.iter().map(|v| v * v).sum::<f32>().sqrt();
            if norm > 0.0 {
                row.mapv_inplace(|v| v / norm);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_and_bigrams() {
        assert_eq!(terms("Free MONEY, now!"), ["free", "money", "now", "free money", "money now"]);
        assert_eq!(tokens("Café--ünïcode 42"), ["café", "ünïcode", "42"]);
    }

    #[test]
    fn weights_match_hand_computation() {
        // Pool of 3: "spam spam ham" has tf(spam) = 2; df: spam 2, ham 2, "spam spam" 1
        // (dropped by min_df = 2), "spam ham" 1 (dropped), eggs 1 (dropped).
        let docs = ["spam spam ham", "ham", "spam eggs"];
        let v = TfidfParams::default().fit(&docs).unwrap();
        assert_eq!(v.width(), 2);
        let x = v.transform(&["spam spam ham", "eggs"]);
        let idf = (4.0f32 / 3.0).ln() + 1.0; // same df for both terms
        let (ham, spam) = (1.0 * idf, (1.0 + 2.0f32.ln()) * idf);
        let norm = (ham * ham + spam * spam).sqrt();
        // Vocabulary sorted: ham = 0, spam = 1.
        assert!((x[[0, 0]] - ham / norm).abs() < 1e-6);
        assert!((x[[0, 1]] - spam / norm).abs() < 1e-6);
        assert_eq!(x.row(1).sum(), 0.0, "no known term: zero row");
        assert!(TfidfParams::default().fit::<&str>(&[]).is_err());
    }
}
