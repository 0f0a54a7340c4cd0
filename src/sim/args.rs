//! Hand-written argument parsing for `marginalia-sim` (a dozen flags do not justify a
//! parser crate). Accepts `--flag value` and `--flag=value`; every mistake is an
//! [`Error::InvalidParam`] naming the flag.

use crate::data::dataset::FeatureKind;
use crate::model::any::ModelSpec;
use crate::strategy::StrategyKind;
use crate::{Error, Result};

/// Usage text, printed with `--help` and after a flag error.
pub const USAGE: &str = "usage: marginalia-sim --data FILE|DIR [--format csv|tsv|jsonl|idx|folder] [--labels FILE]
  [--label-col NAME] [--text-col NAME]
  [--features default|tabular|text|pixels|coates|pretrained|text+pretrained] [--image-size PX]
  [--model softmax|mlp] [--committee K] [--strategy NAME[,NAME...]] [--seeds N]
  [--init K] [--batch B] [--budget N] [--test-frac F] [--dump DIR]

  --format     default: from the file name (.csv, .tsv, .jsonl, idx/ubyte; a directory is a
               folder: one subfolder of JPEG/PNG images per class); .gz is unpacked
  --features   default: what the app would choose (auto is the same); pretrained is the
               EfficientNet-Lite0 encoder for images, all-MiniLM-L6-v2 for a text column;
               text is TF-IDF; text+pretrained both side by side; coates learns filters
               from the pool
  --image-size the encoder's input size in pixels (default: the app's choice)
  --label-col  default \"label\" (header-less numeric CSV: the last column is \"label\")
  --strategy   default auto (margin where auto is not available)
  --seeds 5  --init 2 x classes  --batch 10  --budget 100 (total labels)  --test-frac 0.3
  --committee  bootstrap committee size (0: single model; 5 when a strategy needs one)
  --dump DIR   also write each seed's split as .npy files (for the modAL comparison)";

/// Input formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Tsv,
    Jsonl,
    Idx,
    Folder,
}

/// Parsed options.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    pub data: String,
    pub format: Format,
    pub labels: Option<String>,
    pub label_col: String,
    pub text_col: Option<String>,
    pub features: FeatureKind,
    pub image_size: Option<usize>,
    pub model: ModelSpec,
    pub committee: usize,
    pub strategies: Vec<String>,
    pub seeds: usize,
    pub init: Option<usize>,
    pub batch: usize,
    pub budget: Option<usize>,
    pub test_frac: f64,
    pub dump: Option<String>,
    pub help: bool,
}

fn format_from_path(path: &str) -> Option<Format> {
    let p = path.to_ascii_lowercase();
    let p = p.strip_suffix(".gz").unwrap_or(&p);
    if p.ends_with(".csv") {
        Some(Format::Csv)
    } else if p.ends_with(".tsv") || p.ends_with(".tab") {
        Some(Format::Tsv)
    } else if p.ends_with(".jsonl") || p.ends_with(".ndjson") {
        Some(Format::Jsonl)
    } else if p.contains("idx") || p.ends_with("ubyte") {
        Some(Format::Idx)
    } else {
        None
    }
}

fn number<T: std::str::FromStr>(flag: &str, v: &str) -> Result<T> {
    v.parse().map_err(|_| Error::param(flag, format!("'{v}' is not a valid number")))
}

/// The default strategy: `auto` once the registry has it, else margin.
pub fn default_strategy() -> String {
    if StrategyKind::from_name("auto").is_ok() { "auto" } else { "margin" }.into()
}

/// Parse the arguments after the program name.
pub fn parse(args: &[String]) -> Result<Options> {
    let mut data = None;
    let mut format = None;
    let mut o = Options {
        data: String::new(),
        format: Format::Csv,
        labels: None,
        label_col: "label".into(),
        text_col: None,
        features: FeatureKind::Auto,
        image_size: None,
        model: ModelSpec::default(),
        committee: 0,
        strategies: vec![default_strategy()],
        seeds: 5,
        init: None,
        batch: 10,
        budget: None,
        test_frac: 0.3,
        dump: None,
        help: false,
    };
    let mut i = 0;
    while i < args.len() {
        let arg = &args[i];
        i += 1;
        if arg == "--help" || arg == "-h" {
            o.help = true;
            continue;
        }
        let Some(flag) = arg.strip_prefix("--") else {
            return Err(Error::param(arg, "unexpected argument (flags start with --)"));
        };
        let (flag, value) = match flag.split_once('=') {
            Some((f, v)) => (f, v.to_string()),
            None => {
                let v = args.get(i).cloned().ok_or_else(|| Error::param(format!("--{flag}"), "needs a value"))?;
                i += 1;
                (flag, v)
            }
        };
        let name = format!("--{flag}");
        match flag {
            "data" => data = Some(value),
            "format" => {
                format = Some(match value.as_str() {
                    "csv" => Format::Csv,
                    "tsv" => Format::Tsv,
                    "jsonl" => Format::Jsonl,
                    "idx" => Format::Idx,
                    "folder" => Format::Folder,
                    v => return Err(Error::param(name, format!("unknown format '{v}'; known: csv, tsv, jsonl, idx, folder"))),
                })
            }
            "labels" => o.labels = Some(value),
            "label-col" => o.label_col = value,
            "text-col" => o.text_col = Some(value),
            "features" => o.features = FeatureKind::from_name(&value)?,
            "image-size" => {
                let px: usize = number(&name, &value)?;
                if !(32..=512).contains(&px) {
                    return Err(Error::param(name, format!("must be between 32 and 512 pixels, got {px}")));
                }
                o.image_size = Some(px);
            }
            "model" => o.model = ModelSpec::from_name(&value)?,
            "committee" => o.committee = number(&name, &value)?,
            "strategy" => {
                o.strategies = value.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect();
                if o.strategies.is_empty() {
                    return Err(Error::param(name, "needs at least one strategy name"));
                }
                for s in &o.strategies {
                    StrategyKind::from_name(s)?;
                }
            }
            "seeds" => o.seeds = number(&name, &value)?,
            "init" => o.init = Some(number(&name, &value)?),
            "batch" => o.batch = number(&name, &value)?,
            "budget" => o.budget = Some(number(&name, &value)?),
            "test-frac" => o.test_frac = number(&name, &value)?,
            "dump" => o.dump = Some(value),
            _ => return Err(Error::param(name, "unknown flag")),
        }
    }
    if o.help {
        return Ok(o);
    }
    o.data = data.ok_or_else(|| Error::param("--data", "is required"))?;
    let is_dir = std::path::Path::new(&o.data).is_dir();
    o.format = match format.or_else(|| if is_dir { Some(Format::Folder) } else { format_from_path(&o.data) }) {
        Some(f) => f,
        None => return Err(Error::param("--format", format!("cannot tell the format of '{}' from its name; pass --format", o.data))),
    };
    if o.seeds == 0 || o.batch == 0 {
        return Err(Error::param("--seeds/--batch", "must be at least 1"));
    }
    if o.init == Some(0) || o.init == Some(1) {
        return Err(Error::param("--init", "needs at least 2 labels to hold two classes"));
    }
    if o.committee == 1 {
        return Err(Error::param("--committee", "use 0 for a single model or at least 2 members"));
    }
    if !(o.test_frac > 0.0 && o.test_frac < 1.0) {
        return Err(Error::param("--test-frac", format!("must be strictly between 0 and 1, got {}", o.test_frac)));
    }
    Ok(o)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn parses_flags_and_defaults() {
        let o = parse(&args("--data d/digits.csv.gz --batch=20 --strategy random,margin --seeds 3 --test-frac 0.25")).unwrap();
        assert_eq!((o.format, o.batch, o.seeds, o.test_frac), (Format::Csv, 20, 3, 0.25));
        assert_eq!(o.strategies, ["random", "margin"]);
        assert_eq!(o.label_col, "label");
        assert_eq!(parse(&args("--data x.ubyte.gz --labels y")).unwrap().format, Format::Idx);
    }

    #[test]
    fn mistakes_name_the_flag() {
        for (bad, flag) in [
            ("--data a.csv --batch", "--batch"),
            ("--data a.csv --batch ten", "--batch"),
            ("--data a.csv --frobnicate 1", "--frobnicate"),
            ("--data a.csv --test-frac 1.5", "--test-frac"),
            ("--data a.csv --strategy nope", "strategy"),
            ("--data a.bin", "--format"),
            ("--batch 3", "--data"),
            ("--data a.csv --init 1", "--init"),
        ] {
            match parse(&args(bad)) {
                Err(Error::InvalidParam { name, .. }) => assert_eq!(name, flag, "{bad}"),
                other => panic!("{bad}: {other:?}"),
            }
        }
    }
}
