//! A labelled dataset before featurization: the raw table or pixels, the class of each
//! row, and how to turn rows into features. Featurizers are fitted on the pool rows only
//! and applied to the test rows ([`Dataset::featurize`]).
//!
//! Labels become class indices: when the file names its classes (iris's header) and the
//! labels are indices into them, those; otherwise the distinct values sorted (numerically
//! when they are all numbers, else as text), as scikit-learn's `LabelEncoder`.

use ndarray::{Array2, Axis};

use super::idx::IdxU8;
use super::image::CoatesFeaturizer;
use crate::compute::coates::CoatesParams;
use super::table::Table;
use super::tabular::TabularEncoder;
use super::text::TfidfParams;
use crate::{Error, Result};

/// How rows become features.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeatureKind {
    /// What the app would choose for the data (also called `default`): by format and
    /// column types for tables (one non-numeric feature column, or a text column named →
    /// text; otherwise tabular); for images, [`crate::encoder::default_image_features`].
    Auto,
    Tabular,
    Text,
    /// Image pixels scaled to [0, 1].
    Pixels,
    /// Coates & Ng features learned from the pool's grey images (`compute::coates`).
    Coates,
    /// Embeddings of a pretrained network (`encoder`), computed before the split: they do
    /// not depend on which rows are in the pool.
    Pretrained,
    /// For text: TF-IDF (fitted on the pool) and the sentence embeddings side by side,
    /// each block of unit length per row (see [`combine_blocks`]).
    TextAndPretrained,
}

impl FeatureKind {
    /// Parse `default|auto|tabular|text|pixels|coates|pretrained`.
    pub fn from_name(name: &str) -> Result<Self> {
        match name {
            "auto" | "default" => Ok(FeatureKind::Auto),
            "tabular" => Ok(FeatureKind::Tabular),
            "text" => Ok(FeatureKind::Text),
            "pixels" => Ok(FeatureKind::Pixels),
            "coates" => Ok(FeatureKind::Coates),
            "pretrained" => Ok(FeatureKind::Pretrained),
            "text+pretrained" => Ok(FeatureKind::TextAndPretrained),
            other => Err(Error::param("features", format!("unknown kind '{other}'; known: default (or auto), tabular, text, pixels, coates, pretrained, text+pretrained"))),
        }
    }

    /// The name [`FeatureKind::from_name`] reads (`auto` for the default).
    pub fn name(self) -> &'static str {
        match self {
            FeatureKind::Auto => "auto",
            FeatureKind::Tabular => "tabular",
            FeatureKind::Text => "text",
            FeatureKind::Pixels => "pixels",
            FeatureKind::Coates => "coates",
            FeatureKind::Pretrained => "pretrained",
            FeatureKind::TextAndPretrained => "text+pretrained",
        }
    }
}

#[derive(Debug, Clone)]
enum Source {
    Tabular { table: Table, columns: Vec<usize> },
    Text { table: Table, column: usize },
    /// Features computed per row before the split (pixels, pretrained embeddings).
    Fixed { x: Array2<f32>, kind: FeatureKind },
    /// Grey images, side × side bytes each, for features learned from the pool (Coates).
    Grey { images: Vec<u8>, side: usize },
    /// A text column's TF-IDF (fitted on the pool) beside its rows' embeddings.
    TextAndEmbedded { table: Table, column: usize, emb: Array2<f32> },
}

/// Rows with known classes, ready to featurize.
#[derive(Debug, Clone)]
pub struct Dataset {
    source: Source,
    /// Class index of each row.
    pub labels: Vec<u32>,
    /// Class names, in index order.
    pub class_names: Vec<String>,
}

/// Class indices for label cells (rules in the module docs). Errors name the line.
pub fn encode_labels(table: &Table, col: usize) -> Result<(Vec<u32>, Vec<String>)> {
    let mut cells = Vec::with_capacity(table.rows.len());
    for (r, row) in table.rows.iter().enumerate() {
        match &row[col] {
            Some(v) => cells.push(v.trim().to_string()),
            None => {
                return Err(Error::Parse {
                    source_name: "labels".into(),
                    line: table.lines[r],
                    col: col + 1,
                    msg: format!("missing label in column '{}'", table.columns[col]),
                })
            }
        }
    }
    let k = table.class_names.len();
    if k >= 2 {
        let idx: Option<Vec<u32>> = cells.iter().map(|c| c.parse::<u32>().ok().filter(|&v| (v as usize) < k)).collect();
        if let Some(idx) = idx {
            return Ok((idx, table.class_names.clone()));
        }
    }
    let numeric: Option<Vec<f64>> = cells.iter().map(|c| c.parse::<f64>().ok().filter(|v| v.is_finite())).collect();
    let mut names: Vec<String> = cells.clone();
    match &numeric {
        Some(_) => names.sort_by(|a, b| a.parse::<f64>().unwrap_or(0.0).total_cmp(&b.parse::<f64>().unwrap_or(0.0))),
        None => names.sort(),
    }
    names.dedup_by(|a, b| match &numeric {
        Some(_) => a.parse::<f64>().ok() == b.parse::<f64>().ok(),
        None => a == b,
    });
    let index = |c: &String| -> u32 {
        match &numeric {
            Some(_) => {
                let v = c.parse::<f64>().ok();
                names.iter().position(|n| n.parse::<f64>().ok() == v).unwrap_or(0) as u32
            }
            None => names.binary_search(c).unwrap_or(0) as u32,
        }
    };
    let labels = cells.iter().map(index).collect();
    // "1.0" and "1" are one class; name it without a trailing ".0".
    let names = names.into_iter().map(|n| n.strip_suffix(".0").map(str::to_string).unwrap_or(n)).collect();
    Ok((labels, names))
}

impl Dataset {
    /// A dataset from a parsed table: `label_col` names the classes; `text_col`, when
    /// given, is the text to featurize.
    pub fn from_table(table: Table, label_col: &str, text_col: Option<&str>, kind: FeatureKind) -> Result<Self> {
        let lc = table.column(label_col)?;
        let (labels, class_names) = encode_labels(&table, lc)?;
        let others: Vec<usize> = (0..table.columns.len()).filter(|&c| c != lc).collect();
        if others.is_empty() {
            return Err(Error::param("features", "the table has no column besides the label"));
        }
        let text_column = match text_col {
            Some(name) => Some(table.column(name)?),
            None if kind == FeatureKind::Text => Some(if others.len() == 1 { others[0] } else { table.column("text")? }),
            // Pretrained features of a table: its one column, or one named "text"; otherwise
            // there is no text to embed (the error below says what would do).
            None if matches!(kind, FeatureKind::Pretrained | FeatureKind::TextAndPretrained) => {
                if others.len() == 1 { Some(others[0]) } else { table.column("text").ok() }
            }
            None if kind == FeatureKind::Auto && others.len() == 1 => {
                let c = others[0];
                let non_numeric = table.rows.iter().any(|r| r[c].as_ref().is_some_and(|v| v.trim().parse::<f64>().is_err()));
                non_numeric.then_some(c)
            }
            None => None,
        };
        let source = match (kind, text_column) {
            (FeatureKind::Pixels | FeatureKind::Coates, _) | (FeatureKind::Pretrained | FeatureKind::TextAndPretrained, None) => {
                return Err(Error::param("features", format!("{} features need images (an IDX file or a folder) or a text column (--text-col NAME)", kind.name())))
            }
            (FeatureKind::Tabular, _) | (FeatureKind::Auto, None) => Source::Tabular { table, columns: others },
            (_, Some(column)) => Source::Text { table, column },
            (FeatureKind::Text, None) => return Err(Error::param("text-col", "name the text column")),
        };
        Ok(Dataset { source, labels, class_names })
    }

    /// A dataset from IDX images and labels; pixels scaled to [0, 1].
    pub fn from_idx(images: &IdxU8, labels: &IdxU8, kind: FeatureKind) -> Result<Self> {
        if !matches!(kind, FeatureKind::Auto | FeatureKind::Pixels) {
            return Err(Error::param("features", "IDX files only give pixels"));
        }
        let (x, y) = super::image::pixels(images, labels)?;
        let k = y.iter().max().map_or(0, |&m| m as usize + 1);
        Ok(Dataset { source: Source::Fixed { x, kind: FeatureKind::Pixels }, labels: y, class_names: (0..k).map(|c| c.to_string()).collect() })
    }

    /// A dataset of features computed per row (`kind` says which: pixels, pretrained).
    pub fn from_features(x: Array2<f32>, labels: Vec<u32>, class_names: Vec<String>, kind: FeatureKind) -> Result<Self> {
        if x.nrows() != labels.len() {
            return Err(Error::Shape { what: "feature rows vs labels".into(), expected: labels.len(), got: x.nrows() });
        }
        Ok(Dataset { source: Source::Fixed { x, kind }, labels, class_names })
    }

    /// A dataset of grey side × side images whose features are learned from the pool
    /// (Coates & Ng, the app's default parameters).
    pub fn from_grey_images(images: Vec<u8>, side: usize, labels: Vec<u32>, class_names: Vec<String>) -> Result<Self> {
        if images.len() != labels.len() * side * side {
            return Err(Error::Shape { what: format!("grey image bytes ({side}×{side} per label)"), expected: labels.len() * side * side, got: images.len() });
        }
        Ok(Dataset { source: Source::Grey { images, side }, labels, class_names })
    }

    /// The text of every row, when the features come from a text column (to embed them).
    pub fn texts(&self) -> Option<Vec<String>> {
        match &self.source {
            Source::Text { table, column } => Some(column_texts(table, *column, 0..table.rows.len())),
            _ => None,
        }
    }

    /// A text dataset learning from `emb` (one row per text, computed before the split):
    /// alone for [`FeatureKind::Pretrained`], beside the TF-IDF for
    /// [`FeatureKind::TextAndPretrained`].
    pub fn with_text_embeddings(self, emb: Array2<f32>, kind: FeatureKind) -> Result<Dataset> {
        let Source::Text { table, column } = self.source else {
            return Err(Error::param("features", "embeddings replace the features of a text column only"));
        };
        if emb.nrows() != self.labels.len() {
            return Err(Error::Shape { what: "embedding rows vs texts".into(), expected: self.labels.len(), got: emb.nrows() });
        }
        let source = match kind {
            FeatureKind::Pretrained => Source::Fixed { x: emb, kind },
            FeatureKind::TextAndPretrained => Source::TextAndEmbedded { table, column, emb },
            other => return Err(Error::param("features", format!("{} is not a kind of text embedding", other.name()))),
        };
        Ok(Dataset { source, ..self })
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// True when there are no rows.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Number of classes.
    pub fn n_classes(&self) -> usize {
        self.class_names.len()
    }

    /// The feature kind in use (after `auto` was resolved).
    pub fn kind(&self) -> FeatureKind {
        match self.source {
            Source::Tabular { .. } => FeatureKind::Tabular,
            Source::Text { .. } => FeatureKind::Text,
            Source::Fixed { kind, .. } => kind,
            Source::Grey { .. } => FeatureKind::Coates,
            Source::TextAndEmbedded { .. } => FeatureKind::TextAndPretrained,
        }
    }

    /// Features for `pool` and `test` rows, with every featurizer fitted on `pool` only.
    pub fn featurize(&self, pool: &[usize], test: &[usize]) -> Result<(Array2<f32>, Array2<f32>)> {
        match &self.source {
            Source::Fixed { x, .. } => Ok((x.select(Axis(0), pool), x.select(Axis(0), test))),
            Source::Grey { images, side } => {
                let rows = |r: &[usize]| -> Vec<u8> { r.iter().flat_map(|&i| images[i * side * side..(i + 1) * side * side].iter().copied()).collect() };
                let (f, pool_x) = CoatesFeaturizer::fit(&CoatesParams::default(), &rows(pool), *side, *side)?;
                Ok((pool_x, f.transform(&rows(test))?))
            }
            Source::Tabular { table, columns } => {
                let enc = TabularEncoder::fit(table, columns, pool)?;
                Ok((enc.transform(table, pool)?, enc.transform(table, test)?))
            }
            Source::Text { table, column } => tfidf_split(table, *column, pool, test),
            Source::TextAndEmbedded { table, column, emb } => {
                let (pool_x, test_x) = tfidf_split(table, *column, pool, test)?;
                Ok((combine_blocks(&pool_x, &emb.select(Axis(0), pool)), combine_blocks(&test_x, &emb.select(Axis(0), test))))
            }
        }
    }
}

/// The text of `rows` in `column` (a missing cell is empty text).
fn column_texts(table: &Table, column: usize, rows: impl IntoIterator<Item = usize>) -> Vec<String> {
    rows.into_iter().map(|r| table.rows[r][column].clone().unwrap_or_default()).collect()
}

/// TF-IDF of `column` fitted on the pool rows, for the pool and the test rows.
fn tfidf_split(table: &Table, column: usize, pool: &[usize], test: &[usize]) -> Result<(Array2<f32>, Array2<f32>)> {
    let pool_docs = column_texts(table, column, pool.iter().copied());
    let tfidf = TfidfParams::default().fit(&pool_docs)?;
    Ok((tfidf.transform(&pool_docs), tfidf.transform(&column_texts(table, column, test.iter().copied()))))
}

/// TF-IDF and embedding side by side. Both blocks are already of unit length per row (TF-IDF
/// rows are L2-normalised, sentence embeddings too), so neither outweighs the other in the
/// model's penalty; a text with no known term keeps its zero TF-IDF block.
pub fn combine_blocks(tfidf: &Array2<f32>, emb: &Array2<f32>) -> Array2<f32> {
    ndarray::concatenate![Axis(1), *tfidf, *emb]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::stream::{parse_csv, parse_tsv};

    #[test]
    fn labels_by_name_number_and_header() {
        let t = parse_tsv(b"label\tsubject\nspam\tWin now\nham\tLunch?\nspam\tCheap pills\n").unwrap();
        let d = Dataset::from_table(t, "label", None, FeatureKind::Auto).unwrap();
        assert_eq!((d.labels.clone(), d.class_names.clone()), (vec![1, 0, 1], vec!["ham".into(), "spam".into()]));
        assert_eq!(d.kind(), FeatureKind::Text);
        let t = parse_csv(b"1,2,10\n3,4,2.0\n5,6,2\n").unwrap();
        let d = Dataset::from_table(t, "label", None, FeatureKind::Auto).unwrap();
        assert_eq!((d.labels.clone(), d.class_names.clone()), (vec![1, 0, 0], vec!["2".into(), "10".into()]));
        assert_eq!(d.kind(), FeatureKind::Tabular);
        let t = parse_csv(b"3,1,a,b\n1,0\n2,1\n3,1\n").unwrap();
        let d = Dataset::from_table(t, "label", None, FeatureKind::Auto).unwrap();
        assert_eq!((d.labels.clone(), d.class_names.clone()), (vec![0, 1, 1], vec!["a".into(), "b".into()]));
        let t = parse_csv(b"x,label\n1,\n").unwrap();
        assert!(matches!(Dataset::from_table(t, "label", None, FeatureKind::Auto), Err(Error::Parse { line: 2, col: 2, .. })));
        let t = parse_csv(b"x,label\n1,a\n").unwrap();
        assert!(Dataset::from_table(t, "species", None, FeatureKind::Auto).is_err());
    }

    #[test]
    fn text_embeddings_alone_or_beside_the_tfidf() {
        let tsv = b"label\tsubject\nspam\twin money now\nham\tlunch money\nspam\twin now\n";
        let emb = Array2::from_shape_fn((3, 2), |(i, j)| (i * 2 + j) as f32);
        let d = Dataset::from_table(parse_tsv(tsv).unwrap(), "label", None, FeatureKind::TextAndPretrained).unwrap();
        assert_eq!(d.texts().unwrap(), ["win money now", "lunch money", "win now"]);
        let d = d.with_text_embeddings(emb.clone(), FeatureKind::TextAndPretrained).unwrap();
        assert_eq!(d.kind(), FeatureKind::TextAndPretrained);
        let (pool, test) = d.featurize(&[0, 1], &[2]).unwrap();
        // TF-IDF fitted on the pool ("money" is the one term in both pool rows with
        // min_df 2), then the embedding's two columns.
        assert_eq!(pool.ncols(), 1 + 2);
        assert_eq!(pool.row(1).to_vec(), [1.0, 2.0, 3.0]);
        assert_eq!(test.row(0).to_vec(), [0.0, 4.0, 5.0], "no known term: a zero TF-IDF block");
        let alone = Dataset::from_table(parse_tsv(tsv).unwrap(), "label", None, FeatureKind::Pretrained).unwrap().with_text_embeddings(emb, FeatureKind::Pretrained).unwrap();
        assert_eq!(alone.featurize(&[0], &[2]).unwrap().1.row(0).to_vec(), [4.0, 5.0]);
        let wrong = Dataset::from_table(parse_tsv(tsv).unwrap(), "label", None, FeatureKind::Text).unwrap().with_text_embeddings(Array2::zeros((2, 2)), FeatureKind::Pretrained);
        assert!(wrong.unwrap_err().to_string().contains("embedding rows"));
    }

    #[test]
    fn featurizers_fit_on_the_pool_only() {
        let t = parse_csv(b"x,label\n0,a\n2,b\n100,a\n").unwrap();
        let d = Dataset::from_table(t, "label", None, FeatureKind::Auto).unwrap();
        let (pool, test) = d.featurize(&[0, 1], &[2]).unwrap();
        assert_eq!(pool.column(0).to_vec(), [-1.0, 1.0]);
        assert_eq!(test[[0, 0]], 99.0, "(100 - 1) / 1 with the pool's mean and sd");
    }
}
