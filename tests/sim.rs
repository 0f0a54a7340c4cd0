//! The simulator end to end on the shipped datasets: output lines as the issue specifies,
//! determinism, and clear errors instead of panics.

use marginalia::sim::main_with;
use marginalia::Error;

fn run(args: &str) -> Result<Vec<serde_json::Value>, Error> {
    let args: Vec<String> = args.split_whitespace().map(|a| a.replace("{root}", env!("CARGO_MANIFEST_DIR"))).collect();
    let mut out = Vec::new();
    main_with(&args, &mut out)?;
    Ok(String::from_utf8(out).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect())
}

#[test]
fn iris_curves_and_summary() {
    let lines = run("--data {root}/datasets/iris.csv --strategy random,margin --seeds 2 --batch 3 --budget 15").unwrap();
    assert_eq!(lines.len(), 6, "2 strategies x (2 seeds + summary)");
    let first = &lines[0];
    assert_eq!(first["strategy"], "random");
    // K = 2 x 3 classes = 6, then batches of 3 up to 15 labels.
    let labels: Vec<u64> = first["labels"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap()).collect();
    assert_eq!(labels, [6, 9, 12, 15]);
    let acc: Vec<f64> = first["accuracy"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
    assert_eq!(acc.len(), 4);
    let trapezoid = ((acc[0] + acc[1]) / 2.0 + (acc[1] + acc[2]) / 2.0 + (acc[2] + acc[3]) / 2.0) / 3.0;
    assert!((first["aulc"].as_f64().unwrap() - trapezoid).abs() < 1e-12);
    let summary = &lines[2];
    assert_eq!(summary["summary"], true);
    assert_eq!(summary["seeds"], 2);
    let mean = (lines[0]["aulc"].as_f64().unwrap() + lines[1]["aulc"].as_f64().unwrap()) / 2.0;
    assert!((summary["aulc_mean"].as_f64().unwrap() - mean).abs() < 1e-12);
    // Same seeds, same curves.
    let again = run("--data {root}/datasets/iris.csv --strategy random,margin --seeds 2 --batch 3 --budget 15").unwrap();
    assert_eq!(again[0]["accuracy"], lines[0]["accuracy"]);
    assert_eq!(again[3]["accuracy"], lines[3]["accuracy"]);
}

#[test]
fn every_shipped_format_loads() {
    let spam = run("--data {root}/datasets/spamassassin-subjects.tsv --strategy margin --seeds 1 --batch 20 --budget 60").unwrap();
    assert!(spam[0]["accuracy"].as_array().unwrap().last().unwrap().as_f64().unwrap() > 0.6);
    let fashion = run("--data {root}/datasets/fashion-mnist-1k-images-idx3-ubyte.gz --labels {root}/datasets/fashion-mnist-1k-labels-idx1-ubyte.gz --strategy random --seeds 1 --budget 40").unwrap();
    assert_eq!(fashion[0]["labels"][0], 20);
    let penguins = run("--data {root}/datasets/penguins.csv --label-col Species --strategy margin --seeds 1 --budget 30").unwrap();
    assert!(penguins[0]["accuracy"].as_array().unwrap().last().unwrap().as_f64().unwrap() > 0.8);
}

#[test]
fn budget_beyond_the_pool_is_cut_to_the_pool() {
    let lines = run("--data {root}/datasets/iris.csv --strategy random --seeds 1 --batch 50 --budget 100000").unwrap();
    let labels = lines[0]["labels"].as_array().unwrap();
    assert_eq!(labels.last().unwrap(), 105, "the whole pool (150 - 45 held out)");
}

#[test]
fn bad_input_is_an_error_not_a_panic() {
    assert!(matches!(run("--data /no/such/file.csv"), Err(Error::Io { .. })));
    assert!(matches!(run("--data {root}/datasets/iris.csv --label-col species"), Err(Error::InvalidParam { .. })));
    assert!(matches!(run("--data {root}/datasets/NOTICE.md --format idx --labels {root}/datasets/NOTICE.md"), Err(Error::Format { .. })));
    assert!(matches!(run("--data {root}/datasets/iris.csv --model forest"), Err(Error::InvalidParam { .. })));
    assert!(matches!(run("--data {root}/datasets/penguins.json --format jsonl"), Err(Error::Parse { .. })));
}
