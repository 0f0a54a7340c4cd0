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
                let n = values.len().max(1) as f64;
                let mean = values.iter().sum::<f64>() / n;
                let var = values.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n;
                let sd = if var > 1e-24 { var.sqrt() } else { 1.0 };
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
                        out[[i, j]] = ((v - mean) / sd) as f32;
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
    use crate::data::table::parse_csv;

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

    #[test]
    fn infinite_value_names_line_and_column() {
        let t = parse_csv(b"a,b,label\n1,2,x\n3,inf,y\n").unwrap();
        assert!(matches!(TabularEncoder::fit(&t, &[0, 1], &[0, 1]), Err(Error::NonFinite { row: 3, col: 2, .. })));
    }
}
