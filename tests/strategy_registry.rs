//! Every registered strategy against the same contract: defined results for edge cases,
//! clear errors for bad input, distinct in-range picks, seeded determinism, reasons.

use marginalia::strategy::{Context, StrategyKind, StrategyParams};
use marginalia::Error;
use ndarray::{s, Array2};

/// 3 blobs × 15 candidates in 2-D, synthetic probabilities that favour each blob's class
/// (less sure near the middle), a 3-member committee and 6 labelled samples.
struct World {
    x: Array2<f32>,
    p: Array2<f32>,
    committee: Vec<Array2<f32>>,
    lx: Array2<f32>,
    ly: Vec<u32>,
    names: Vec<String>,
}

fn world() -> World {
    let n = 45;
    let x = Array2::from_shape_fn((n, 2), |(i, j)| {
        let c = (i % 3) as f32;
        let t = i as f32 * 0.61;
        if j == 0 { c * 4.0 + t.sin() } else { (c - 1.0) * 3.0 + t.cos() }
    });
    let p = Array2::from_shape_fn((n, 3), |(i, j)| {
        let sure = 0.4 + 0.5 * ((i as f32 * 0.37).sin().abs());
        if j == i % 3 { sure } else { (1.0 - sure) / 2.0 }
    });
    let committee = (0..3)
        .map(|m| {
            let mut q = p.clone();
            for i in 0..n {
                // Member m moves a little mass to class m on every other row.
                if i % 2 == m % 2 {
                    let moved = q[[i, (m + 1) % 3]] * 0.5;
                    q[[i, (m + 1) % 3]] -= moved;
                    q[[i, m]] += moved;
                }
            }
            q
        })
        .collect();
    let lx = Array2::from_shape_fn((6, 2), |(i, j)| {
        let c = (i % 3) as f32;
        if j == 0 { c * 4.0 } else { (c - 1.0) * 3.0 }
    });
    World { x, p, committee, lx, ly: vec![0, 1, 2, 0, 1, 2], names: vec!["cat".into(), "dog".into(), "bird".into()] }
}

fn ctx(w: &World) -> Context<'_> {
    Context {
        candidates: w.x.view(),
        labelled: w.lx.view(),
        labels: &w.ly,
        probs: Some(w.p.view()),
        committee: Some(&w.committee),
        embeddings: None,
        class_names: &w.names,
        n_classes: 3,
        seed: 11,
    }
}

#[test]
fn names_round_trip_and_unknown_names_list_the_known_ones() {
    assert_eq!(StrategyKind::NAMES.len(), StrategyKind::ALL.len());
    for (&name, kind) in StrategyKind::NAMES.iter().zip(StrategyKind::ALL) {
        assert_eq!(StrategyKind::from_name(name).unwrap(), *kind);
        assert_eq!(kind.name(), name);
    }
    let e = StrategyKind::from_name("smallest_margin").unwrap_err().to_string();
    assert!(e.contains("unknown strategy 'smallest_margin'") && e.contains("typiclust"), "{e}");
}

#[test]
fn every_strategy_returns_distinct_ranked_picks_with_reasons() {
    let w = world();
    let c = ctx(&w);
    for kind in StrategyKind::ALL {
        let q = kind.select(&c, 7).unwrap_or_else(|e| panic!("{}: {e}", kind.name()));
        assert_eq!(q.len(), 7, "{}", kind.name());
        let mut idx: Vec<usize> = q.iter().map(|q| q.index).collect();
        idx.sort();
        idx.dedup();
        assert_eq!(idx.len(), 7, "{}: repeated picks", kind.name());
        assert!(idx.iter().all(|&i| i < 45), "{}", kind.name());
        assert!(q.iter().all(|q| !q.reason.is_empty() && q.score.is_finite()), "{}: {q:?}", kind.name());
        assert_eq!(q, kind.select(&c, 7).unwrap(), "{}: same seed, same picks", kind.name());
        // Batch larger than the pool: every candidate once.
        let all = kind.select(&c, 1000).unwrap();
        let mut idx: Vec<usize> = all.iter().map(|q| q.index).collect();
        idx.sort();
        assert_eq!(idx, (0..45).collect::<Vec<_>>(), "{}", kind.name());
        assert!(kind.select(&c, 0).unwrap().is_empty());
    }
}

#[test]
fn score_ranked_strategies_are_best_first() {
    let w = world();
    let c = ctx(&w);
    use StrategyKind::*;
    for kind in [LeastConfident, Margin, Entropy, VoteEntropy, ConsensusEntropy, MeanKl, MaxKl, Egl, DensityCosine, DensityEuclidean] {
        let q = kind.select(&c, 45).unwrap();
        assert!(q.windows(2).all(|p| p[0].score >= p[1].score), "{}", kind.name());
    }
    let q = Margin.select(&c, 1).unwrap();
    let r = &q[0].reason;
    assert!(r.starts_with("margin 0.") && ["'cat'", "'dog'", "'bird'"].iter().filter(|n| r.contains(*n)).count() == 2, "{r}");
}

#[test]
fn empty_pool_gives_empty_result() {
    let w = world();
    let empty = Array2::<f32>::zeros((0, 2));
    let ep = Array2::<f32>::zeros((0, 3));
    let committee = vec![ep.clone(), ep.clone()];
    let c = Context { candidates: empty.view(), probs: Some(ep.view()), committee: Some(&committee), ..ctx(&w) };
    for kind in StrategyKind::ALL {
        assert!(kind.select(&c, 5).unwrap().is_empty(), "{}", kind.name());
    }
}

#[test]
fn mismatched_shapes_are_shape_errors() {
    let w = world();
    let short = w.p.slice(s![..44, ..]).to_owned();
    let narrow = w.p.slice(s![.., ..2]).to_owned();
    let wide_l = Array2::<f32>::zeros((6, 3));
    for kind in StrategyKind::ALL {
        let c = Context { probs: Some(short.view()), ..ctx(&w) };
        assert!(matches!(kind.select(&c, 3), Err(Error::Shape { expected: 45, got: 44, .. })), "{}", kind.name());
        let c = Context { probs: Some(narrow.view()), ..ctx(&w) };
        assert!(matches!(kind.select(&c, 3), Err(Error::Shape { expected: 3, got: 2, .. })), "{}", kind.name());
        let c = Context { labelled: wide_l.view(), ..ctx(&w) };
        assert!(matches!(kind.select(&c, 3), Err(Error::Shape { expected: 2, got: 3, .. })), "{}", kind.name());
        let c = Context { labels: &w.ly[..5], ..ctx(&w) };
        assert!(matches!(kind.select(&c, 3), Err(Error::Shape { expected: 6, got: 5, .. })), "{}", kind.name());
        let bad = [0, 1, 2, 0, 1, 7];
        let c = Context { labels: &bad, ..ctx(&w) };
        assert!(matches!(kind.select(&c, 3), Err(Error::LabelOutOfRange { row: 5, label: 7, .. })), "{}", kind.name());
    }
    let short_member = vec![w.committee[0].clone(), short.clone()];
    let c = Context { committee: Some(&short_member), ..ctx(&w) };
    assert!(matches!(StrategyKind::VoteEntropy.select(&c, 3), Err(Error::Shape { .. })));
    let short_emb = Array2::<f32>::zeros((10, 4));
    let c = Context { embeddings: Some(short_emb.view()), ..ctx(&w) };
    assert!(matches!(StrategyKind::Badge.select(&c, 3), Err(Error::Shape { expected: 45, got: 10, .. })));
}

#[test]
fn nan_probabilities_are_a_clear_error() {
    let w = world();
    let mut p = w.p.clone();
    p[[17, 2]] = f32::NAN;
    for kind in StrategyKind::ALL {
        let c = Context { probs: Some(p.view()), ..ctx(&w) };
        let e = kind.select(&c, 3).unwrap_err();
        assert!(matches!(e, Error::InvalidParam { .. }), "{}: {e:?}", kind.name());
        assert!(e.to_string().contains("row 17, column 2"), "{e}");
    }
    let mut members = w.committee.clone();
    members[2][[4, 0]] = f32::NAN;
    let c = Context { committee: Some(&members), ..ctx(&w) };
    assert!(StrategyKind::MaxKl.select(&c, 3).unwrap_err().to_string().contains("member 2"));
    // NaN features: geometric strategies name the row and column.
    let mut x = w.x.clone();
    x[[3, 1]] = f32::NAN;
    let c = Context { candidates: x.view(), ..ctx(&w) };
    for kind in [StrategyKind::KCenter, StrategyKind::Typiclust, StrategyKind::Badge, StrategyKind::ClusterMargin, StrategyKind::Egl] {
        assert!(matches!(kind.select(&c, 3), Err(Error::NonFinite { row: 3, col: 1, .. })), "{}", kind.name());
    }
}

#[test]
fn missing_model_or_committee_is_a_state_error_and_cold_start_still_works() {
    let w = world();
    let none = Context { probs: None, committee: None, ..ctx(&w) };
    for kind in StrategyKind::ALL {
        let r = kind.select(&none, 4);
        if kind.needs_model() || kind.needs_committee() {
            let e = r.unwrap_err();
            assert!(matches!(e, Error::State(_)), "{}: {e:?}", kind.name());
            let msg = e.to_string();
            assert!(msg.contains(kind.name()) && (msg.contains("model") || msg.contains("committee")), "{msg}");
        } else {
            assert_eq!(r.unwrap().len(), 4, "{} must work without a model", kind.name());
        }
    }
    // One labelled class, no model: the cold-start strategies still return samples.
    let one = [1u32, 1, 1, 1, 1, 1];
    let c = Context { labels: &one, probs: None, committee: None, ..ctx(&w) };
    for kind in [StrategyKind::Typiclust, StrategyKind::KCenter, StrategyKind::Auto, StrategyKind::Random] {
        assert_eq!(kind.select(&c, 5).unwrap().len(), 5, "{}", kind.name());
    }
    let q = StrategyKind::Auto.select(&c, 2).unwrap();
    assert!(q[0].reason.starts_with("auto → typiclust (cold start"), "{}", q[0].reason);
    // Zero labels at all.
    let nothing = Array2::<f32>::zeros((0, 2));
    let c = Context { labelled: nothing.view(), labels: &[], probs: None, committee: None, ..ctx(&w) };
    for kind in [StrategyKind::Typiclust, StrategyKind::KCenter, StrategyKind::Auto] {
        assert_eq!(kind.select(&c, 3).unwrap().len(), 3, "{}", kind.name());
    }
}

#[test]
fn bad_parameters_are_rejected() {
    let w = world();
    let p = StrategyParams { density_beta: f32::NAN, ..Default::default() };
    assert!(matches!(StrategyKind::DensityCosine.select_with(&ctx(&w), 3, &p), Err(Error::InvalidParam { .. })));
    let mut p = StrategyParams::default();
    p.auto.warm_per_class = 0.5;
    p.auto.cold_start_per_class = 1.0;
    assert!(StrategyKind::Auto.select_with(&ctx(&w), 3, &p).is_err());
}

#[test]
fn auto_says_what_it_did_and_why() {
    let w = world();
    // Enough balanced labels (10 per class) and one sample: plain margin.
    let lx = Array2::from_shape_fn((30, 2), |(i, j)| (i * (j + 1)) as f32 * 0.1);
    let ly: Vec<u32> = (0..30).map(|i| (i % 3) as u32).collect();
    let c = Context { labelled: lx.view(), labels: &ly, ..ctx(&w) };
    let q = StrategyKind::Auto.select(&c, 1).unwrap();
    assert!(q[0].reason.starts_with("auto → margin: margin"), "{}", q[0].reason);
    assert_eq!(q[0].index, StrategyKind::Margin.select(&c, 1).unwrap()[0].index);
    // A batch: cluster-margin.
    let q = StrategyKind::Auto.select(&c, 5).unwrap();
    assert!(q.iter().all(|q| q.reason.starts_with("auto → cluster_margin")), "{q:?}");
    // Imbalanced labels: rare classes are favoured, and the reason says so.
    let ly: Vec<u32> = (0..30).map(|i| if i < 2 { 2 } else { (i % 2) as u32 }).collect();
    let c = Context { labelled: lx.view(), labels: &ly, ..ctx(&w) };
    let q = StrategyKind::Auto.select(&c, 1).unwrap();
    assert!(q[0].reason.contains("favouring rare classes (labels are imbalanced, 14 vs 2 per class)"), "{}", q[0].reason);
    // A class never labelled: part of the batch keeps exploring.
    let ly: Vec<u32> = (0..30).map(|i| (i % 2) as u32).collect();
    let c = Context { labelled: lx.view(), labels: &ly, ..ctx(&w) };
    let q = StrategyKind::Auto.select(&c, 4).unwrap();
    assert!(q.iter().filter(|q| q.reason.contains("typiclust (1 of 3 classes not found yet)")).count() == 2, "{q:?}");
    // Few labels: 3 for 3 classes is under 2 per class, so the whole batch is TypiClust.
    let ly3: Vec<u32> = vec![0, 1, 2];
    let c = Context { labelled: lx.slice(s![..3, ..]), labels: &ly3, ..ctx(&w) };
    let q = StrategyKind::Auto.select(&c, 4).unwrap();
    assert!(q.iter().all(|q| q.reason.starts_with("auto → typiclust (few labels: 3 for 3 classes)")), "{q:?}");
    // 13 labels = 4.33 per class on the 2 → 7 ramp: share (7 − 4.33)/5 = 0.53 of 4 → 2.
    let ly13: Vec<u32> = (0..13).map(|i| (i % 3) as u32).collect();
    let c = Context { labelled: lx.slice(s![..13, ..]), labels: &ly13, ..ctx(&w) };
    let q = StrategyKind::Auto.select(&c, 4).unwrap();
    assert_eq!(q.iter().filter(|q| q.reason.starts_with("auto → typiclust")).count(), 2, "{q:?}");
    assert_eq!(q.iter().filter(|q| q.reason.starts_with("auto → cluster_margin")).count(), 2, "{q:?}");
}

#[test]
fn degenerate_inputs_never_panic() {
    let w = world();
    // An absurd class count with no model: nothing may be sized by it.
    let c = Context { n_classes: usize::MAX, probs: None, committee: None, ..ctx(&w) };
    for kind in StrategyKind::ALL {
        let _ = kind.select(&c, 3);
    }
    assert_eq!(StrategyKind::Auto.select(&c, 3).unwrap().len(), 3);
    // Zero classes, zero-width probabilities and committee, zero-width features.
    let p0 = Array2::<f32>::zeros((45, 0));
    let members = vec![p0.clone(), p0.clone()];
    let x0 = Array2::<f32>::zeros((45, 0));
    let l0 = Array2::<f32>::zeros((0, 0));
    let c = Context {
        candidates: x0.view(),
        labelled: l0.view(),
        labels: &[],
        probs: Some(p0.view()),
        committee: Some(&members),
        n_classes: 0,
        ..ctx(&w)
    };
    for kind in StrategyKind::ALL {
        let q = kind.select(&c, 3).unwrap_or_else(|e| panic!("{}: {e}", kind.name()));
        assert_eq!(q.len(), 3, "{}", kind.name());
    }
    // All candidates identical: geometric strategies still return distinct picks.
    let same = Array2::<f32>::ones((45, 2));
    let c = Context { candidates: same.view(), ..ctx(&w) };
    for kind in StrategyKind::ALL {
        let mut idx: Vec<usize> = kind.select(&c, 5).unwrap().iter().map(|q| q.index).collect();
        idx.sort();
        idx.dedup();
        assert_eq!(idx.len(), 5, "{}", kind.name());
    }
}

#[test]
fn uses_model_covers_auto_and_every_model_or_committee_strategy() {
    for name in StrategyKind::NAMES {
        let k = StrategyKind::from_name(name).unwrap();
        let want = k.needs_model() || k.needs_committee() || *name == "auto";
        assert_eq!(k.uses_model(), want, "{name}");
    }
    assert!(StrategyKind::from_name("auto").unwrap().uses_model());
    assert!(!StrategyKind::from_name("random").unwrap().uses_model());
    assert!(!StrategyKind::from_name("typiclust").unwrap().uses_model());
}
