//! Write a dataset's features for *all* rows (featurizers fitted on all of them) and its
//! labels as .npy, so bench/reference/sklearn_reference.py fits scikit-learn on exactly
//! the matrix the Rust tests fit.
//!
//!   cargo run --release --example dump_features -- DATA X.npy Y.npy [sim flags...]

use marginalia::sim::{args, load, npy};

fn main() {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    if argv.len() < 3 {
        eprintln!("usage: dump_features DATA X.npy Y.npy [marginalia-sim flags]");
        std::process::exit(2);
    }
    let mut sim_args = vec!["--data".to_string(), argv[0].clone()];
    sim_args.extend(argv[3..].iter().cloned());
    let run = || -> marginalia::Result<()> {
        let data = load(&args::parse(&sim_args)?)?;
        let all: Vec<usize> = (0..data.len()).collect();
        let (x, _) = data.featurize(&all, &[])?;
        let xb: Vec<u8> = x.iter().flat_map(|v| v.to_le_bytes()).collect();
        let yb: Vec<u8> = data.labels.iter().flat_map(|&v| (v as i64).to_le_bytes()).collect();
        let write = |path: &String, bytes: Vec<u8>| {
            std::fs::write(path, bytes).map_err(|e| marginalia::Error::Io { path: path.clone(), msg: e.to_string() })
        };
        write(&argv[1], npy::npy_bytes("<f4", &[x.nrows(), x.ncols()], &xb))?;
        write(&argv[2], npy::npy_bytes("<i8", &[data.labels.len()], &yb))?;
        eprintln!("{} rows x {} features", x.nrows(), x.ncols());
        Ok(())
    };
    if let Err(e) = run() {
        eprintln!("dump_features: {e}");
        std::process::exit(2);
    }
}
