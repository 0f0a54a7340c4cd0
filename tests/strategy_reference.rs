//! Strategy scores against modAL's own functions on fixed matrices.
//! Reference numbers: tests/fixtures/strategy_reference.json, made by
//! bench/reference/strategy_reference.py.

use marginalia::strategy::{committee, density, uncertainty, Context, StrategyKind};
use ndarray::Array2;
use serde_json::Value;

fn fixture() -> Value {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/strategy_reference.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn matrix(v: &Value) -> Array2<f32> {
    let rows: Vec<Vec<f32>> = v.as_array().unwrap().iter().map(|r| r.as_array().unwrap().iter().map(|x| x.as_f64().unwrap() as f32).collect()).collect();
    let (n, k) = (rows.len(), rows[0].len());
    Array2::from_shape_vec((n, k), rows.into_iter().flatten().collect()).unwrap()
}

fn vector(v: &Value) -> Vec<f32> {
    v.as_array().unwrap().iter().map(|x| x.as_f64().unwrap() as f32).collect()
}

fn assert_close(ours: &[f32], theirs: &[f32], what: &str) {
    assert_eq!(ours.len(), theirs.len(), "{what}: length");
    for (i, (a, b)) in ours.iter().zip(theirs).enumerate() {
        assert!((a - b).abs() < 1e-5, "{what}[{i}]: ours {a}, modAL {b}");
    }
}

#[test]
fn uncertainty_measures_match_modal() {
    let f = fixture();
    let p = matrix(&f["probs"]);
    assert_close(&uncertainty::least_confident(p.view()), &vector(&f["least_confident"]), "least_confident");
    let neg: Vec<f32> = vector(&f["margin_p1_minus_p2"]).iter().map(|v| -v).collect();
    assert_close(&uncertainty::margin(p.view()), &neg, "margin");
    assert_close(&uncertainty::entropy(p.view()), &vector(&f["entropy"]), "entropy");
}

#[test]
fn committee_measures_match_modal() {
    let f = fixture();
    let c: Vec<Array2<f32>> = f["committee"].as_array().unwrap().iter().map(matrix).collect();
    assert_close(&committee::vote_entropy(&c), &vector(&f["vote_entropy"]), "vote_entropy");
    assert_close(&committee::consensus_entropy(&c), &vector(&f["consensus_entropy"]), "consensus_entropy");
    assert_close(&committee::max_kl(&c), &vector(&f["max_kl"]), "max_kl");
    assert_close(&committee::mean_kl(&c), &vector(&f["mean_kl"]), "mean_kl");
    // Through the registry: the ranking follows the scores (row 2 disagrees most by KL).
    let x = Array2::<f32>::zeros((4, 1));
    let ctx = Context {
        candidates: x.view(),
        labelled: x.slice(ndarray::s![..0, ..]),
        labels: &[],
        probs: None,
        committee: Some(&c),
        embeddings: None,
        class_names: &[],
        n_classes: 3,
        seed: 0,
    };
    assert_eq!(StrategyKind::MaxKl.select(&ctx, 1).unwrap()[0].index, 2);
    assert_eq!(StrategyKind::MeanKl.select(&ctx, 1).unwrap()[0].index, 2);
    assert_eq!(StrategyKind::ConsensusEntropy.select(&ctx, 1).unwrap()[0].index, 1);
    let ve = StrategyKind::VoteEntropy.select(&ctx, 2).unwrap();
    let mut top: Vec<usize> = ve.iter().map(|q| q.index).collect();
    top.sort();
    assert_eq!(top, vec![1, 2]);
    assert!(ve[0].reason.contains("vote entropy 1.10"), "{}", ve[0].reason);
}

#[test]
fn ranked_batch_matches_modal_order() {
    let f = fixture();
    let x = matrix(&f["x"]);
    let l = matrix(&f["x_labelled"]);
    let p = matrix(&f["probs_x"]);
    let ctx = Context {
        candidates: x.view(),
        labelled: l.view(),
        labels: &[0, 1],
        probs: Some(p.view()),
        committee: None,
        embeddings: None,
        class_names: &[],
        n_classes: 2,
        seed: 0,
    };
    let ours: Vec<u64> = StrategyKind::RankedBatch.select(&ctx, 5).unwrap().iter().map(|q| q.index as u64).collect();
    let theirs: Vec<u64> = f["ranked_batch_order"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap()).collect();
    assert_eq!(ours, theirs);
}

#[test]
fn euclidean_density_matches_modal() {
    let f = fixture();
    let x = matrix(&f["x"]);
    assert_close(&density::mean_euclidean_similarity(x.view(), 1000, 0), &vector(&f["density_euclidean"]), "density");
}
