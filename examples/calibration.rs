//! Calibration of the confidence the app shows: expected calibration error (ECE, 15 bins)
//! on the held-out split, as the model gives its probabilities and after temperature
//! scaling fitted on the 5-fold cross-validated predictions of the labels (what the app's
//! dashboard computes; src/calibration.rs). The simulator's protocol (src/sim): stratified
//! split (30 % held out), `auto` from 2 × classes random labels in batches of 10 up to the
//! budget, softmax regression, 5 seeds; the learner as the loop left it is then measured.
//!
//!     cargo run --release --example calibration [-- --write]
//!
//! `--write` replaces the "Calibration" section of docs/BENCHMARKS.md with the table.

use marginalia::calibration::{ece, shown, temper};
use marginalia::sim::{self, args, mean_sd};

struct Set {
    name: &'static str,
    args: &'static [&'static str],
    budget: usize,
}

const SETS: &[Set] = &[
    Set {
        name: "Fashion-MNIST 1k (pixels)",
        args: &["--data", "datasets/fashion-mnist-1k-images-idx3-ubyte.gz", "--labels", "datasets/fashion-mnist-1k-labels-idx1-ubyte.gz"],
        budget: 200,
    },
    Set { name: "UCI digits (8×8)", args: &["--data", "datasets/digits.csv.gz"], budget: 200 },
    Set { name: "SpamAssassin subjects (TF-IDF)", args: &["--data", "datasets/spamassassin-subjects.tsv", "--text-col", "subject", "--features", "text"], budget: 200 },
    Set { name: "penguins (table)", args: &["--data", "datasets/penguins.csv", "--label-col", "Species"], budget: 60 },
    Set { name: "iris (table)", args: &["--data", "datasets/iris.csv"], budget: 40 },
];

const SEEDS: u64 = 5;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let write = std::env::args().any(|a| a == "--write");
    let mut rows = Vec::new();
    for set in SETS {
        let argv: Vec<String> = set.args.iter().map(|s| s.to_string()).collect();
        let opts = args::parse(&argv)?;
        let data = sim::load(&opts)?;
        let (mut acc, mut conf_raw, mut conf_cal, mut ece_raw, mut ece_cal, mut temps, mut cv) = (vec![], vec![], vec![], vec![], vec![], vec![], vec![]);
        let mut ece_sharp = vec![];
        for seed in 0..SEEDS {
            let split = sim::prepare(&data, &opts, seed)?;
            let (_, mut l) = sim::run_learner(&split, "auto", &opts.model, 0, 10, set.budget, seed)?;
            let e = l.estimate_accuracy(5)?.ok_or("fewer than two classes labelled")?;
            let k = l.n_classes();
            let p = l.predict_proba(split.test_x.view())?;
            let raw: Vec<f32> = p.iter().copied().collect();
            let cal = temper(&raw, k, e.temperature);
            let top = |v: &[f32]| v.chunks_exact(k).map(|r| r.iter().copied().fold(0f32, f32::max) as f64).sum::<f64>() / split.test_y.len() as f64;
            acc.push(l.accuracy(split.test_x.view(), &split.test_y)?.unwrap_or(0.0));
            conf_raw.push(top(&raw));
            conf_cal.push(top(&cal));
            ece_raw.push(ece(&raw, &split.test_y, k));
            ece_cal.push(ece(&cal, &split.test_y, k));
            temps.push(e.temperature);
            // What the app shows: T ≤ 1 (may only sharpen; calibration::shown says why). The
            // NLL is convex in 1/T, so its minimum over (0, 1] is the fitted T clipped to 1.
            let t1 = shown(e.temperature);
            ece_sharp.push(ece(&temper(&raw, k, t1), &split.test_y, k));
            cv.push(e.mean);
        }
        let f = |v: &[f64]| {
            let (m, s) = mean_sd(v);
            format!("{:.3} ± {:.3}", m, s)
        };
        let row = format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            set.name,
            set.budget,
            f(&acc),
            f(&cv),
            f(&conf_raw),
            f(&conf_cal),
            f(&temps),
            f(&ece_raw),
            f(&ece_cal),
            f(&ece_sharp)
        );
        println!("{row}");
        rows.push(row);
    }
    let table = format!(
        "| data | labels | held-out accuracy | CV estimate | mean confidence, as given | mean confidence, fitted T | fitted T | ECE as given | ECE with the fitted T | ECE as shown (T ≤ 1) |\n|---|---|---|---|---|---|---|---|---|---|\n{}\n",
        rows.join("\n")
    );
    println!("\n{table}");
    if write {
        let path = "docs/BENCHMARKS.md";
        let doc = std::fs::read_to_string(path)?;
        let (start, end) = ("<!-- calibration:start -->", "<!-- calibration:end -->");
        let body = format!("{start}\n{table}{end}");
        let out = match (doc.find(start), doc.find(end)) {
            (Some(a), Some(b)) => format!("{}{}{}", &doc[..a], body, &doc[b + end.len()..]),
            _ => format!("{doc}\n{body}\n"),
        };
        std::fs::write(path, out)?;
        println!("wrote the table into {path}");
    }
    Ok(())
}
