//! Tabular features: numeric columns standardized, categorical columns one-hot, missing
//! values imputed. Fitted on the pool's rows only and then applied to any rows (the test
//! split), so nothing about held-out rows leaks into the features.
//!
//! - numeric (every present pool value parses as a number): missing → the pool mean, then
//!   z = (v − mean) / sd with the population sd (ddof = 0, as scikit-learn's
//!   `StandardScaler`); a constant column keeps sd = 1. A value that does not parse in a
//!   later row is treated as missing.
//! - categorical (anything else): one column per category seen in the pool, sorted;
//!   missing → the pool's most frequent category; a category the pool never saw → all zero.

use ndarray::Array2;
use serde::{Deserialize, Serialize};

use super::table::Table;
use crate::{Error, Result};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
enum Encoding {
    Numeric { col: usize, mean: f64, sd: f64 },
    Categorical { col: usize, categories: Vec<String>, mode: usize },
}

/// A fitted tabular encoder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TabularEncoder {
    columns: Vec<Encoding>,
}

/// Parse a numeric cell; an infinite value is an error naming its line and column
/// (1-based), as a NaN in the matrix would poison every fit after it.
fn number(cell: &str, line: usize, col: usize) -> Result<Option<f64>> {
    match cell.trim().parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(Some(v)),
        Ok(v) => Err(Error::NonFinite { row: line, col: col + 1, value: v }),
        Err(_) => Ok(None),
    }
}

/// Mean and population sd (1 for a constant column) of finite values. The plain sums
/// overflow to infinity for values near f64::MAX (`1e308` twice; caught by the csv_tsv fuzz target), and
/// an infinite mean makes every feature NaN; then both are computed on the values scaled
/// by the largest magnitude, which cannot overflow (|mean| and sd never exceed it).
fn mean_sd(values: &[f64]) -> (f64, f64) {
    let n = values.len().max(1) as f64;
    let mean = values.iter().sum::<f64>() / n;
    let var = values.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n;
    if !(mean.is_finite() && var.is_finite()) {
        let m = values.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        let mean_u = values.iter().map(|v| v / m).sum::<f64>() / n;
        let var_u = values.iter().map(|v| (v / m - mean_u) * (v / m - mean_u)).sum::<f64>() / n;
        let sd = var_u.sqrt() * m;
        return (mean_u * m, if sd > 1e-12 { sd } else { 1.0 });
    }
    (mean, if var > 1e-24 { var.sqrt() } else { 1.0 })
}

/// `(v - mean) / sd` as the pool's f32. Pool values stay within sqrt(n) sds of the mean,
/// but a later row may be so far out (1e30 against a pool sd of 1e-11) that it has no f32;
/// an infinite feature would poison every fit, so that row is an error naming its line
/// and column (1-based).
fn standardize(v: f64, mean: f64, sd: f64, line: usize, col: usize) -> Result<f32> {
    let diff = v - mean;
    // v and mean are finite but their difference may not be (-1.7e308 vs 1.7e308); halving
    // both is exact and brings it back into range.
    let z = if diff.is_finite() { diff / sd } else { (v / 2.0 - mean / 2.0) / (sd / 2.0) };
    let z32 = z as f32;
    if z32.is_finite() {
        Ok(z32)
    } else {
        Err(Error::Parse {
            source_name: "table features".into(),
            line,
            col: col + 1,
            msg: format!("value {v} is {z:e} standard deviations from the pool's mean, too far for a 32-bit feature"),
        })
    }
}

impl TabularEncoder {
    /// Fit on `rows` of `table`, encoding the columns `features`.
    pub fn fit(table: &Table, features: &[usize], rows: &[usize]) -> Result<Self> {
        if rows.is_empty() {
            return Err(Error::Empty("pool rows for the tabular encoder".into()));
        }
        let mut columns = Vec::with_capacity(features.len());
        for &col in features {
            if col >= table.columns.len() {
                return Err(Error::Shape { what: "column index".into(), expected: table.columns.len(), got: col });
            }
            let mut values = Vec::new();
            let mut is_numeric = true;
            for &r in rows {
                if let Some(cell) = &table.rows[r][col] {
                    match number(cell, table.lines[r], col)? {
                        Some(v) => values.push(v),
                        None => {
                            is_numeric = false;
                            break;
                        }
                    }
                }
            }
            if is_numeric {
                let (mean, sd) = mean_sd(&values);
                columns.push(Encoding::Numeric { col, mean, sd });
            } else {
                let mut counts: std::collections::BTreeMap<&str, usize> = Default::default();
                for &r in rows {
                    if let Some(cell) = &table.rows[r][col] {
                        *counts.entry(cell.trim()).or_default() += 1;
                    }
                }
                let categories: Vec<String> = counts.keys().map(|s| s.to_string()).collect();
                // Most frequent; ties go to the first in sorted order (deterministic).
                let mode = counts.values().enumerate().fold((0, 0), |best, (i, &c)| if c > best.1 { (i, c) } else { best }).0;
                columns.push(Encoding::Categorical { col, categories, mode });
            }
        }
        Ok(TabularEncoder { columns })
    }

    /// Number of output features.
    pub fn width(&self) -> usize {
        self.columns
            .iter()
            .map(|e| match e {
                Encoding::Numeric { .. } => 1,
                Encoding::Categorical { categories, .. } => categories.len(),
            })
            .sum()
    }

    /// Encode `rows` of `table` (a table with the same columns as the one fitted on).
    pub fn transform(&self, table: &Table, rows: &[usize]) -> Result<Array2<f32>> {
        let mut out = Array2::<f32>::zeros((rows.len(), self.width()));
        for (i, &r) in rows.iter().enumerate() {
            let row = table.rows.get(r).ok_or(Error::Shape { what: "row index".into(), expected: table.rows.len(), got: r })?;
            let mut j = 0;
            for enc in &self.columns {
                match enc {
                    Encoding::Numeric { col, mean, sd } => {
                        let v = match row.get(*col).cloned().flatten() {
                            Some(cell) => number(&cell, table.lines[r], *col)?.unwrap_or(*mean),
                            None => *mean,
                        };
                        out[[i, j]] = standardize(v, *mean, *sd, table.lines[r], *col)?;
                        j += 1;
                    }
                    Encoding::Categorical { col, categories, mode } => {
                        let hit = match row.get(*col).cloned().flatten() {
                            Some(cell) => categories.binary_search_by(|c| c.as_str().cmp(cell.trim())).ok(),
                            None => Some(*mode),
                        };
                        if let Some(k) = hit {
                            out[[i, j + k]] = 1.0;
                        }
                        j += categories.len();
                    }
                }
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::stream::parse_csv;

    #[test]
    fn standardizes_one_hots_and_imputes_from_the_pool() {
        let t = parse_csv(b"size,colour,label\n1,red,a\n3,blue,b\n,red,a\n5,,b\n100,green,a\n").unwrap();
        let enc = TabularEncoder::fit(&t, &[0, 1], &[0, 1, 2, 3]).unwrap();
        assert_eq!(enc.width(), 3); // size, blue, red (green is not in the pool)
        let x = enc.transform(&t, &[0, 1, 2, 3, 4]).unwrap();
        // Pool sizes 1, 3, 5: mean 3, population sd sqrt(8/3).
        let sd = (8.0f64 / 3.0).sqrt();
        assert!((x[[0, 0]] as f64 - (-2.0 / sd)).abs() < 1e-6);
        assert_eq!(x[[2, 0]], 0.0, "missing size imputed by the mean");
        assert_eq!(x.row(0).to_vec()[1..], [0.0, 1.0]);
        assert_eq!(x.row(3).to_vec()[1..], [0.0, 1.0], "missing colour imputed by the mode (red)");
        assert_eq!(x.row(4).to_vec()[1..], [0.0, 0.0], "unseen category is all zero");
        assert!((x[[4, 0]] as f64 - 97.0 / sd).abs() < 1e-4, "test rows use the pool's statistics");
    }

    /// Found by `cargo fuzz run csv_tsv` (tests/fixtures/fuzz/csv_tsv/).
    #[test]
    fn huge_values_give_finite_features_or_an_error() {
        // The plain mean of 1e308 + 1e308 overflowed: every feature came out NaN.
        let t = parse_csv(b"a,b,label\n1e308,-1.7e308,x\n1e308,1.7e308,y\n1e307,0,x\n").unwrap();
        let enc = TabularEncoder::fit(&t, &[0, 1], &[0, 1, 2]).unwrap();
        let x = enc.transform(&t, &[0, 1, 2]).unwrap();
        assert!(x.iter().all(|v| v.is_finite()), "{x:?}");
        assert!((x[[0, 0]] - x[[1, 0]]).abs() < 1e-6 && x[[0, 0]] > 0.0 && x[[2, 0]] < 0.0);
        assert!((x[[0, 1]] + x[[1, 1]]).abs() < 1e-6 && x[[2, 1]].abs() < 1e-6);
        // A later row far outside a tight pool has no f32 z-score: an error with its place.
        let t = parse_csv(b"a,label\n0,x\n1e-11,y\n1e30,x\n").unwrap();
        let enc = TabularEncoder::fit(&t, &[0], &[0, 1]).unwrap();
        assert!(matches!(enc.transform(&t, &[2]), Err(Error::Parse { line: 4, col: 1, .. })));
    }

    #[test]
    fn infinite_value_names_line_and_column() {
        let t = parse_csv(b"a,b,label\n1,2,x\n3,inf,y\n").unwrap();
        assert!(matches!(TabularEncoder::fit(&t, &[0, 1], &[0, 1]), Err(Error::NonFinite { row: 3, col: 2, .. })));
    }
}
