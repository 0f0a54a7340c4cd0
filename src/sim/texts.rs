//! Sentence embeddings for the simulator's text data sets: the MiniLM encoder run on every
//! row before the split (embeddings do not depend on which rows are in the pool), on all
//! cores, rounded to f16 as stored features are.

use std::path::Path;

use ndarray::Array2;

use crate::data::dataset::{Dataset, FeatureKind};
use crate::encoder::{self, minilm, MiniLm};
use crate::{Error, Result};

/// The weight file: `$MARGINALIA_MINILM_WEIGHTS` (another converted file, to measure what
/// its format costs), else the one `scripts/setup` makes (not committed, so read at run
/// time).
pub fn weights_path() -> std::path::PathBuf {
    match std::env::var_os("MARGINALIA_MINILM_WEIGHTS") {
        Some(p) => p.into(),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("weights/minilm-l6.i8.safetensors"),
    }
}

/// `data` (a text dataset) learning from sentence embeddings, alone or beside TF-IDF.
pub fn with_embeddings(data: Dataset, kind: FeatureKind) -> Result<Dataset> {
    let texts = data.texts().ok_or_else(|| Error::param("features", format!("{} features need a text column", kind.name())))?;
    let path = weights_path();
    let bytes = std::fs::read(&path).map_err(|e| Error::Io { path: path.display().to_string(), msg: format!("{e} (scripts/setup makes it)") })?;
    let net = MiniLm::from_bytes(&bytes)?;
    let x = embed_parallel(&net, &texts);
    data.with_text_embeddings(x, kind)
}

/// Embeddings of every text on all cores, f16-rounded.
pub fn embed_parallel(net: &MiniLm, texts: &[String]) -> Array2<f32> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(texts.len().max(1));
    // Small chunks handed out in turn: texts differ in length, so equal halves would not
    // finish together.
    let chunks: Vec<&[String]> = texts.chunks(64).collect();
    let next = std::sync::atomic::AtomicUsize::new(0);
    let started = std::time::Instant::now();
    let mut parts: Vec<(usize, Vec<f32>, usize)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let mut out = Vec::new();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(chunk) = chunks.get(i) else { break };
                        let e = net.embed(chunk);
                        out.push((i, encoder::round_f16(e.embeddings), e.truncated));
                    }
                    out
                })
            })
            .collect();
        handles.into_iter().flat_map(|h| h.join().expect("encoder thread")).collect()
    });
    parts.sort_by_key(|p| p.0);
    let truncated: usize = parts.iter().map(|p| p.2).sum();
    let flat: Vec<f32> = parts.into_iter().flat_map(|p| p.1).collect();
    let secs = started.elapsed().as_secs_f64();
    eprintln!(
        "marginalia-sim: encoded {} texts with {} in {secs:.1} s on {threads} threads ({:.0} texts per second); {truncated} cut at the token limit",
        texts.len(),
        net.version(),
        texts.len() as f64 / secs.max(1e-9)
    );
    Array2::from_shape_vec((texts.len(), minilm::DIM), flat).expect("one row per text")
}
