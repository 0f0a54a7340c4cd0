//! A table: rows of optional text cells under named columns, what every reader of
//! delimited text, JSON lines and plain text gives ([`super::stream`], the one reader, for
//! whole files and streams alike), and the rules for its column names and missing cells.
//!
//! Empty fields, and the values `NA`, `NaN`, `null` and `?`, are missing (`None`).

use crate::{Error, Result};

/// Parsed rows of optional text cells under named columns.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Table {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Option<String>>>,
    /// 1-based source line of each row, for error messages downstream.
    pub lines: Vec<usize>,
    /// Class names given by the file itself (the scikit-learn header), in label order.
    pub class_names: Vec<String>,
}

impl Table {
    /// Index of the column called `name`; the error lists the columns there are.
    pub fn column(&self, name: &str) -> Result<usize> {
        self.columns.iter().position(|c| c == name).ok_or_else(|| {
            Error::param("column", format!("no column named '{name}'; columns are: {}", self.columns.join(", ")))
        })
    }
}

/// A cell that means "no value".
pub(crate) fn is_missing(s: &str) -> bool {
    matches!(s.trim(), "" | "NA" | "NaN" | "nan" | "null" | "?")
}

/// Column names from a header row, each one usable as a key: an empty name (pandas writes
/// one for its index) becomes `column N`, and a repeated name gets ` (2)`, ` (3)`, ... so
/// picking a column by name always means one column.
pub(crate) fn header_names(first: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(first.len());
    for (j, raw) in first.iter().enumerate() {
        let base = match raw.trim() {
            "" => format!("column {}", j + 1),
            t => t.to_string(),
        };
        let mut name = base.clone();
        let mut k = 2;
        while out.contains(&name) {
            name = format!("{base} ({k})");
            k += 1;
        }
        out.push(name);
    }
    out
}
