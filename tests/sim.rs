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
    // TF-IDF (the default, with sentence embeddings, is text_columns_learn_from_sentence_embeddings').
    let spam = run("--data {root}/datasets/spamassassin-subjects.tsv --features text --strategy margin --seeds 1 --batch 20 --budget 60").unwrap();
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

/// A folder of photos, one subfolder per class: colour squares (red-ish against
/// blue-ish, with noise), written as PNG and JPEG, plus a file that is not an image.
fn photo_folder() -> std::path::PathBuf {
    use rand::{Rng, SeedableRng};
    let dir = std::env::temp_dir().join(format!("marginalia-sim-folder-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
    for (class, base) in [("blue", [40u8, 60, 200]), ("red", [210, 50, 40])] {
        std::fs::create_dir_all(dir.join(class)).unwrap();
        for i in 0..8 {
            let (w, h) = (24 + 8 * (i % 3), 32);
            let img = image::RgbImage::from_fn(w, h, |_, _| image::Rgb(base.map(|v| v.saturating_add(rng.random_range(0..40)))));
            let ext = if i % 2 == 0 { "png" } else { "jpg" };
            img.save(dir.join(class).join(format!("{i:02}.{ext}"))).unwrap();
        }
    }
    std::fs::write(dir.join("red").join("broken.jpg"), b"\xff\xd8\xff not really a jpeg").unwrap();
    dir
}

#[test]
fn image_folders_learn_from_pretrained_features() {
    let dir = photo_folder();
    let args = format!("--data {} --format folder --features pretrained --image-size 64 --strategy random --seeds 1 --init 4 --batch 2 --budget 8 --test-frac 0.25", dir.display());
    let lines = run(&args).unwrap();
    assert_eq!(lines[0]["labels"][0], 4);
    // Red against blue is easy for any image features; the broken file was skipped.
    assert_eq!(lines[0]["accuracy"].as_array().unwrap().last().unwrap().as_f64().unwrap(), 1.0);
    // `default` is what the app chooses; it loads the same folder, and so do the others.
    for kind in ["default", "pixels"] {
        let lines = run(&args.replace("pretrained", kind)).unwrap();
        assert!(lines[0]["accuracy"].as_array().unwrap().last().unwrap().as_f64().unwrap() > 0.7, "{kind}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn image_folder_mistakes_are_named() {
    let empty = std::env::temp_dir().join(format!("marginalia-sim-empty-{}", std::process::id()));
    std::fs::create_dir_all(empty.join("only-class")).unwrap();
    let err = run(&format!("--data {} --format folder", empty.display())).unwrap_err().to_string();
    assert!(err.contains("at least two subfolders"), "{err}");
    let err = run("--data {root}/datasets/iris.csv --features pretrained").unwrap_err().to_string();
    assert!(err.contains("need images"), "{err}");
    std::fs::remove_dir_all(&empty).unwrap();
}

#[test]
fn text_columns_learn_from_sentence_embeddings() {
    // 40 short texts of two plain topics; the embeddings alone, both kinds side by side, and
    // the default (the pair) all load and learn; `text` stays TF-IDF.
    let dir = std::env::temp_dir().join(format!("marginalia-sim-text-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("topics.tsv");
    let mut tsv = String::from("label\ttext\n");
    for i in 0..20 {
        tsv += &format!("food\tI cooked pasta with tomato sauce for dinner {i}\n");
        tsv += &format!("sport\tThe football team won the match on Sunday {i}\n");
    }
    std::fs::write(&path, tsv).unwrap();
    for kind in ["pretrained", "text+pretrained", "default", "text"] {
        let args = format!("--data {} --features {kind} --strategy random --seeds 1 --init 4 --batch 4 --budget 12 --test-frac 0.25", path.display());
        let lines = run(&args).unwrap();
        let acc = lines[0]["accuracy"].as_array().unwrap().last().unwrap().as_f64().unwrap();
        assert!(acc > 0.9, "{kind}: accuracy {acc}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
