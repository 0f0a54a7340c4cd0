use super::*;
use crate::trained::TrainedModel;
use ndarray::Axis;
use ndarray::array;

fn blobs() -> (Array2<f32>, Vec<u32>) {
    let mut x = Vec::new();
    let mut y = Vec::new();
    for i in 0..60 {
        let c = (i % 3) as u32;
        let t = i as f32 * 0.37;
        x.extend([c as f32 * 3.0 + t.sin() * 0.5, (c as f32 - 1.0) * 2.0 + t.cos() * 0.5]);
        y.push(c);
    }
    (Array2::from_shape_vec((60, 2), x).unwrap(), y)
}

#[test]
fn default_strategy_is_auto_and_cold_starts_without_a_model() {
    let (x, _) = blobs();
    let mut l = Learner::new(x, 3, 42).unwrap();
    assert_eq!(l.strategy(), "auto");
    let q = l.query(3).unwrap();
    assert_eq!(q.len(), 3);
    assert!(q[0].reason.starts_with("auto → typiclust"), "{}", q[0].reason);
}

#[test]
fn auto_leaves_cold_start_once_the_model_has_labels() {
    // Regression: the learner once withheld probabilities from `auto` (it does not
    // *need* a model), so it ran TypiClust forever.
    let (x, y) = blobs();
    let mut l = Learner::new(x, 3, 42).unwrap();
    for i in 0..30 {
        l.teach(i, y[i]).unwrap();
    }
    assert!(l.fit().unwrap());
    let q = l.query(1).unwrap();
    assert!(q[0].reason.starts_with("auto → margin"), "{}", q[0].reason);
}

#[test]
fn cold_start_then_margin_and_accuracy() {
    let (x, y) = blobs();
    let mut l = Learner::new(x.clone(), 3, 42).unwrap();
    l.set_strategy("margin").unwrap();
    let q = l.query(3).unwrap();
    assert_eq!(q.len(), 3);
    assert!(q[0].reason.contains("cold start"));
    assert!(!l.fit().unwrap());
    for i in 0..6 {
        l.teach(i, y[i]).unwrap();
    }
    assert!(l.fit().unwrap());
    let q = l.query(5).unwrap();
    assert_eq!(q.len(), 5);
    assert!(q.iter().all(|q| q.index >= 6), "labelled samples are never queried");
    assert!(q.windows(2).all(|w| w[0].score >= w[1].score));
    assert!(q[0].reason.starts_with("margin"), "{}", q[0].reason);
    let acc = l.accuracy(x.view(), &y).unwrap().unwrap();
    assert!(acc > 0.95, "accuracy {acc}");
    assert!(matches!(l.teach(0, 3), Err(Error::LabelOutOfRange { .. })));
    assert!(matches!(l.teach(60, 0), Err(Error::UnknownSample { id: 60 })));
    l.forget(0).unwrap();
    assert_eq!(l.labelled_count(), 5);
}

#[test]
fn refuses_bad_pool() {
    assert!(Learner::new(Array2::zeros((0, 2)), 3, 0).is_err());
    assert!(Learner::new(array![[1.0f32, f32::INFINITY]], 3, 0).is_err());
    assert!(Learner::new(array![[1.0f32, 2.0]], 1, 0).is_err());
}

fn bits(p: &Array2<f32>) -> Vec<u32> {
    p.iter().map(|v| v.to_bits()).collect()
}

fn taught(model: &str, committee: usize) -> Learner {
    let (x, y) = blobs();
    let mut l = Learner::new(x, 3, 7).unwrap();
    l.set_model(ModelSpec::from_name(model).unwrap());
    l.set_committee(committee).unwrap();
    for i in 0..9 {
        l.teach(i, y[i]).unwrap();
    }
    assert!(l.fit().unwrap());
    l
}

#[test]
fn snapshot_restores_bit_for_bit() {
    let (x, _) = blobs();
    for (model, committee) in [("softmax", 0), ("mlp", 0), ("softmax", 3), ("mlp", 2)] {
        let mut l = taught(model, committee);
        let bytes = l.snapshot().unwrap();
        let mut r = Learner::restore(&bytes).unwrap();
        assert_eq!(r, l, "{model}/{committee}");
        assert_eq!(bits(&r.predict_proba(x.view()).unwrap()), bits(&l.predict_proba(x.view()).unwrap()));
        // The restored session goes on exactly as the original would.
        assert_eq!(r.query(4).unwrap(), l.query(4).unwrap());
        r.teach(20, 2).unwrap();
        l.teach(20, 2).unwrap();
        r.fit().unwrap();
        l.fit().unwrap();
        assert_eq!(bits(&r.predict_proba(x.view()).unwrap()), bits(&l.predict_proba(x.view()).unwrap()));
    }
    assert!(Learner::restore(b"not a snapshot").is_err());
    let bytes = taught("softmax", 0).snapshot().unwrap();
    assert!(Learner::restore(&bytes[..bytes.len() / 2]).is_err());
}

#[test]
fn restore_refuses_a_model_of_another_shape() {
    let (x, y) = blobs();
    let wide = ndarray::concatenate![Axis(1), x, x.column(0).insert_axis(Axis(1))];
    for (model, committee) in [("softmax", 0), ("mlp", 0), ("softmax", 3), ("mlp", 2)] {
        // The same labels on a pool with one more column, and with one more class.
        let other = |x: Array2<f32>, n_classes: usize| {
            let mut o = Learner::new(x, n_classes, 7).unwrap();
            o.set_model(ModelSpec::from_name(model).unwrap());
            o.set_committee(committee).unwrap();
            (0..9).for_each(|i| o.teach(i, y[i]).unwrap());
            assert!(o.fit().unwrap());
            o
        };
        let mut l = taught(model, committee);
        l.fitted = other(wide.clone(), 3).fitted.take();
        let err = Learner::restore(&l.snapshot().unwrap()).unwrap_err();
        assert!(matches!(&err, Error::Shape { what, expected: 2, got: 3 } if what.contains("input width")), "{model}/{committee}: {err}");
        let mut l = taught(model, committee);
        l.fitted = other(x.clone(), 4).fitted.take();
        let err = Learner::restore(&l.snapshot().unwrap()).unwrap_err();
        assert!(matches!(&err, Error::Shape { what, expected: 3, got: 4 } if what.contains("classes")), "{model}/{committee}: {err}");
    }
}

#[test]
fn exported_model_predicts_as_the_session_and_refuses_bad_bytes() {
    let (x, _) = blobs();
    assert!(Learner::new(x.clone(), 3, 0).unwrap().export_model().is_err(), "nothing to export before a fit");
    for (model, committee, kind) in [("softmax", 0, "softmax"), ("mlp", 0, "mlp"), ("softmax", 3, "committee of 3 softmax")] {
        let mut l = taught(model, committee);
        l.set_class_names(vec!["a".into(), "b".into(), "c".into()]);
        let bytes = l.export_model().unwrap().to_bytes().unwrap();
        let m = TrainedModel::from_bytes(&bytes).unwrap();
        assert_eq!((m.n_features(), m.n_classes(), m.kind().as_str()), (2, 3, kind));
        assert_eq!(l.model_kind().as_deref(), Some(kind));
        assert_eq!(m.class_names(), ["a", "b", "c"]);
        // Bit for bit the session's probabilities, on pool rows and on new rows.
        assert_eq!(bits(&m.predict_proba(x.view()).unwrap()), bits(&l.predict_proba(x.view()).unwrap()), "{kind}");
        let new = ndarray::array![[0.3f32, -7.0], [100.0, 2.5]];
        assert_eq!(bits(&m.predict_proba(new.view()).unwrap()), bits(&l.predict_proba(new.view()).unwrap()));
        // The model file holds no pool: smaller than the session snapshot.
        assert!(bytes.len() < l.snapshot().unwrap().len());
        // Wrong width is a shape error, not a panic.
        assert!(matches!(m.predict_proba(ndarray::Array2::<f32>::zeros((1, 3)).view()), Err(Error::Shape { expected: 2, got: 3, .. })));
        // Truncated or foreign bytes, and a session snapshot, are refused with a reason.
        for bad in [&bytes[..bytes.len() - 3], b"PK\x03\x04 a zip".as_slice(), l.snapshot().unwrap().as_slice()] {
            assert!(matches!(TrainedModel::from_bytes(bad), Err(Error::Format { .. })));
        }
    }
    // A newer version says so.
    let bytes = taught("softmax", 0).export_model().unwrap().to_bytes().unwrap();
    let mut newer = bytes.clone();
    newer[1 + crate::trained::MODEL_MAGIC.len()] = 9; // the varint right after the magic
    let e = TrainedModel::from_bytes(&newer).unwrap_err().to_string();
    assert!(e.contains("version 9 is not supported"), "{e}");
}

#[test]
fn undo_reverts_teach_and_forget_in_order() {
    let (x, _) = blobs();
    let mut l = Learner::new(x, 3, 0).unwrap();
    l.teach(4, 1).unwrap();
    l.teach(4, 2).unwrap();
    l.forget(4).unwrap();
    assert_eq!(l.undo(), Some(4));
    assert_eq!(l.label(4), Some(2));
    l.undo();
    assert_eq!(l.label(4), Some(1));
    l.undo();
    assert_eq!(l.label(4), None);
    assert_eq!(l.undo(), None);
}

#[test]
fn bad_input_gets_a_defined_result() {
    let (x, y) = blobs();
    let mut l = Learner::new(x.clone(), 3, 1).unwrap();
    // One labelled class: no model yet, but queries still come (cold start).
    l.teach(0, y[0]).unwrap();
    l.teach(3, y[3]).unwrap();
    assert!(!l.fit().unwrap());
    assert!(!l.is_fitted());
    assert_eq!(l.query(5).unwrap().len(), 5);
    assert_eq!(l.accuracy(x.view(), &y).unwrap(), None);
    assert_eq!(l.estimate_accuracy(5).unwrap(), None);
    // Duplicates in a batch: nothing is taught.
    assert_eq!(l.teach_many(&[(1, 1), (2, 2), (1, 0)]), Err(Error::DuplicateSample { id: 1 }));
    assert_eq!(l.labelled_count(), 2);
    assert!(matches!(l.teach_many(&[(1, 9)]), Err(Error::LabelOutOfRange { label: 9, .. })));
    // Asking for more than the pool has: all unlabelled, then nothing.
    let all = l.query(1000).unwrap();
    assert_eq!(all.len(), 58);
    l.teach_many(&all.iter().map(|q| (q.index, y[q.index])).collect::<Vec<_>>()).unwrap();
    assert!(l.query(3).unwrap().is_empty());
    assert!(l.set_strategy("nonsense").is_err());
    assert!(l.set_committee(1).is_err());
    assert!(l.set_batch_size(0).is_err());
}

#[test]
fn strategies_models_and_estimate() {
    let (x, y) = blobs();
    let mut l = taught("mlp", 0);
    l.set_strategy("random").unwrap();
    l.set_batch_size(4).unwrap();
    let q = l.query_batch().unwrap();
    assert_eq!(q.len(), 4);
    assert!(q.iter().all(|q| q.reason == "random pick" && l.label(q.index).is_none()));
    for i in 9..30 {
        l.teach(i, y[i]).unwrap();
    }
    l.fit().unwrap();
    assert!(l.accuracy(x.view(), &y).unwrap().unwrap() > 0.9);
    let e = l.estimate_accuracy(5).unwrap().unwrap();
    assert_eq!(e.folds, 5);
    assert!(e.mean > 0.8 && e.se < 0.2, "{e:?}");
}

#[test]
fn query_with_named_strategy() {
    let (x, y) = blobs();
    let mut l = Learner::new(x, 3, 7).unwrap();
    // Before a fit every strategy draws at random (cold start).
    let q = l.query_with(StrategyKind::Margin, 4).unwrap();
    assert!(q[0].reason.contains("cold start"));
    for i in 0..6 {
        l.teach(i, y[i]).unwrap();
    }
    l.fit().unwrap();
    let m = l.query_with(StrategyKind::Margin, 5).unwrap();
    assert!(m[0].reason.starts_with("margin") && m.iter().all(|q| q.index >= 6));
    let r = l.query_with(StrategyKind::Random, 5).unwrap();
    assert!(r.iter().all(|q| q.reason == "random pick" && q.index >= 6));
    assert_eq!(r.len(), 5);
}

#[test]
fn committee_strategy_cold_starts_then_trains_a_committee() {
    let (x, y) = blobs();
    let mut l = Learner::new(x, 3, 5).unwrap();
    l.set_strategy("vote_entropy").unwrap();
    assert!(l.query(2).unwrap()[0].reason.contains("cold start"));
    for i in 0..9 {
        l.teach(i, y[i]).unwrap();
    }
    l.fit().unwrap();
    assert!(matches!(l.fitted, Some(Fitted::Committee(ref c)) if c.len() == DEFAULT_COMMITTEE));
    assert!(l.query(3).unwrap()[0].reason.contains("committee"));
    // Back to a single-model strategy: the committee is dropped, the next fit is single.
    l.set_strategy("margin").unwrap();
    assert!(!l.is_fitted());
    l.fit().unwrap();
    assert!(matches!(l.fitted, Some(Fitted::Single(_))));
    // Same committee size either way: the fitted model stays.
    l.set_strategy("entropy").unwrap();
    assert!(l.is_fitted());
}

#[test]
fn add_samples_keeps_labels_model_and_history() {
    let (x, y) = blobs();
    let mut l = Learner::new(x.slice(ndarray::s![..30, ..]).to_owned(), 3, 5).unwrap();
    for i in 0..6 {
        l.teach(i, y[i]).unwrap();
    }
    l.fit().unwrap();
    let p_before = l.predict_sample(0).unwrap();
    assert_eq!(l.add_samples(x.slice(ndarray::s![30.., ..])).unwrap(), 30);
    assert_eq!((l.len(), l.labelled_count()), (60, 6));
    assert_eq!(l.predict_sample(0).unwrap(), p_before, "the model is kept");
    assert!(l.query(40).unwrap().iter().any(|q| q.index >= 30), "new rows are queried");
    assert_eq!(l.undo(), Some(5));
    assert!(matches!(l.add_samples(Array2::zeros((1, 3)).view()), Err(Error::Shape { expected: 2, got: 3, .. })));
    let bad = array![[0.0f32, 1.0], [f32::NAN, 0.0]];
    assert!(matches!(l.add_samples(bad.view()), Err(Error::NonFinite { row: 61, col: 0, .. })));
    assert_eq!(l.len(), 60, "a rejected batch adds nothing");
}

#[test]
fn stop_suggestion_after_stable_fits() {
    let (x, y) = blobs();
    let mut l = Learner::new(x, 3, 2).unwrap();
    let s = l.stop_suggestion(None).unwrap();
    assert!(!s.stop && s.kappa.is_none() && s.uncertainty.is_none(), "{s:?}");
    for i in 0..30 {
        l.teach(i, y[i]).unwrap();
    }
    // The same labels refitted: identical predictions, kappa 1 once there are 4 fits.
    for _ in 0..3 {
        l.fit().unwrap();
    }
    assert!(l.stop_suggestion(None).unwrap().kappa.is_none());
    l.fit().unwrap();
    let s = l.stop_suggestion(None).unwrap();
    assert_eq!(s.kappa, Some(1.0));
    assert!(s.stop && s.reason.contains("stopped changing"), "{}", s.reason);
    assert!(s.uncertainty.is_some());
    assert_eq!(l.stop_suggestion(Some(50)).unwrap().budget_left, Some(20));
    // The history survives a snapshot.
    let r = Learner::restore(&l.snapshot().unwrap()).unwrap();
    assert_eq!(r.stop_suggestion(None).unwrap(), s);
}

#[test]
fn pool_probs_from_the_scoring_network_give_the_same_queries() {
    let (x, y) = blobs();
    for (model, strategy) in [("softmax", "margin"), ("mlp", "margin"), ("softmax", "auto"), ("mlp", "auto")] {
        let mut l = taught(model, 0);
        l.set_strategy(strategy).unwrap();
        for i in 9..15 {
            l.teach(i, y[i]).unwrap();
        }
        l.fit().unwrap();
        let sm = l.scoring_network().unwrap_or_else(|| panic!("a single model with {strategy} scores as one network"));
        assert!(!sm.committee);
        assert_eq!(sm.members.len(), 1);
        let p = crate::compute::cpu::forward(&sm.members[0], x.view()).unwrap();
        let own = l.predict_proba(x.view()).unwrap();
        assert!(p.iter().zip(own.iter()).all(|(a, b)| (a - b).abs() < 1e-5), "{model}: f32 network vs the model's f64 pass");
        let mut r = l.clone();
        let via_network = r.query_with_pool_probs(5, p.view()).unwrap();
        let direct = l.query(5).unwrap();
        assert_eq!(via_network.iter().map(|q| q.index).collect::<Vec<_>>(), direct.iter().map(|q| q.index).collect::<Vec<_>>(), "{model}/{strategy}");
        assert!(matches!(r.query_with_pool_probs(1, p.slice(ndarray::s![..3, ..])), Err(Error::Shape { .. })));
        assert!(matches!(r.query_with_member_probs(1, &[p.view()]), Err(Error::State(_))));
        l.set_strategy("random").unwrap();
        assert!(l.scoring_network().is_none(), "random needs no model");
    }
}

#[test]
fn committee_member_probs_from_the_scoring_network_give_the_same_queries() {
    use crate::compute::{cpu, Measure, PoolMatrix, ScoreRequest};
    let (x, y) = blobs();
    // Class 2 never labelled: the (stratified) bootstraps see classes 0 and 1 only, so
    // every member's network must be widened to all three classes.
    let teach: Vec<usize> = (0..60).filter(|&i| y[i] != 2).take(10).collect();
    let mut pool = PoolMatrix::new_f32(2).unwrap();
    pool.append_f32(x.view()).unwrap();
    for (model, k, strategy) in [("softmax", 4, "vote_entropy"), ("mlp", 3, "mean_kl"), ("softmax", 4, "margin"), ("mlp", 3, "max_kl"), ("softmax", 4, "consensus_entropy"), ("softmax", 4, "auto")] {
        // The first seed whose bootstraps leave some member without class 2.
        let l = (0..40u64)
            .map(|seed| {
                let mut l = Learner::new(x.clone(), 3, seed).unwrap();
                l.set_model(ModelSpec::from_name(model).unwrap());
                l.set_committee(k).unwrap();
                l.set_strategy(strategy).unwrap();
                for &i in &teach {
                    l.teach(i, y[i]).unwrap();
                }
                assert!(l.fit().unwrap());
                l
            })
            .find(|l| matches!(&l.fitted, Some(Fitted::Committee(c)) if c.members().iter().any(|m| m.classes().len() < 3)))
            .unwrap_or_else(|| panic!("{model}/{strategy}: no seed gave a member that missed a class"));
        let Some(Fitted::Committee(c)) = &l.fitted else { panic!("{model}: a committee") };
        let sm = l.scoring_network().unwrap_or_else(|| panic!("{model}/{strategy} scores as networks"));
        assert!(sm.committee);
        assert_eq!(sm.members.len(), k);
        let req = ScoreRequest { members: sm.members, measure: Measure::Entropy, want_probs: false, want_member_probs: true };
        let each = cpu::score_pool(&pool, &req).unwrap().member_probs.unwrap();
        let own = c.member_proba(x.view()).unwrap();
        for (a, b) in each.iter().zip(&own) {
            assert!(a.iter().zip(b.iter()).all(|(p, q)| (p - q).abs() < 1e-5 && ((*q == 0.0) == (*p == 0.0))), "{model}: member probabilities, zeros where the member never saw the class");
        }
        let views: Vec<_> = each.iter().map(|p| p.view()).collect();
        let mut r = l.clone();
        let via_network = r.query_with_member_probs(6, &views).unwrap();
        let direct = l.clone().query(6).unwrap();
        assert_eq!(via_network.iter().map(|q| q.index).collect::<Vec<_>>(), direct.iter().map(|q| q.index).collect::<Vec<_>>(), "{model}/{strategy}");
        assert!(matches!(r.query_with_member_probs(1, &views[1..]), Err(Error::Shape { .. })));
        assert!(matches!(r.query_with_pool_probs(1, each[0].view()), Err(Error::State(_))));
    }
}
