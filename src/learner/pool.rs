//! The pool and its labels: the labelled rows kept first (one row swap per label), undo
//! history, and samples added later.

use ndarray::{s, ArrayView2, Axis};

use super::{Change, Learner, STOP_SET_SIZE};
use crate::{Error, Result};

impl Learner {
    /// Append samples to the pool (unlabelled), keeping labels, model and undo history;
    /// returns the index of the first new row. The npm package grows its pool as the
    /// app adds samples, and rebuilding the learner would lose the fitted model.
    pub fn add_samples(&mut self, rows: ArrayView2<f32>) -> Result<usize> {
        if rows.ncols() != self.features.ncols() {
            return Err(Error::Shape { what: "new samples' feature count vs pool".into(), expected: self.features.ncols(), got: rows.ncols() });
        }
        let first = self.labels.len();
        crate::model::check_finite(rows).map_err(|e| match e {
            Error::NonFinite { row, col, value } => Error::NonFinite { row: row + first, col, value },
            other => other,
        })?;
        self.features
            .append(Axis(0), rows)
            .map_err(|e| Error::Format { what: "new samples".into(), msg: e.to_string() })?;
        self.labels.resize(self.labels.len() + rows.nrows(), None);
        // New rows are unlabelled and stored at the end, which is in the unlabelled region.
        self.order.extend(first..first + rows.nrows());
        self.row_of.extend(first..first + rows.nrows());
        // A stop set drawn from a smaller pool than STOP_SET_SIZE is a poor sample of the
        // grown one: draw again at the next fit. Its predictions were on other rows, so
        // they cannot be compared with the new set's and go too.
        if self.stop_set.len() < STOP_SET_SIZE && rows.nrows() > 0 {
            self.stop_set.clear();
            self.stop_history.clear();
        }
        Ok(first)
    }

    /// Swap storage rows `a` and `b`, keeping the index maps in step.
    pub(super) fn swap_rows(&mut self, a: usize, b: usize) {
        if a == b {
            return;
        }
        let (ia, ib) = (self.order[a], self.order[b]);
        for c in 0..self.features.ncols() {
            self.features.swap([a, c], [b, c]);
        }
        self.order.swap(a, b);
        self.row_of[ia] = b;
        self.row_of[ib] = a;
    }

    /// Set a label, moving the row across the labelled/unlabelled boundary if needed.
    pub(super) fn apply(&mut self, index: usize, label: Option<u32>) {
        let row = self.row_of[index];
        match (self.labels[index].is_some(), label.is_some()) {
            (false, true) => {
                self.swap_rows(row, self.n_labelled);
                self.n_labelled += 1;
            }
            (true, false) => {
                self.n_labelled -= 1;
                self.swap_rows(row, self.n_labelled);
            }
            _ => {}
        }
        self.labels[index] = label;
    }

    pub(super) fn set_label(&mut self, index: usize, label: Option<u32>) {
        self.history.push(Change { index, previous: self.labels[index] });
        self.apply(index, label);
    }

    /// Record a label (replacing any earlier one). Does not refit: call [`Learner::fit`].
    pub fn teach(&mut self, index: usize, label: u32) -> Result<()> {
        self.check_index(index)?;
        if label as usize >= self.n_classes {
            return Err(Error::LabelOutOfRange { row: index, label, n_classes: self.n_classes });
        }
        self.set_label(index, Some(label));
        Ok(())
    }

    /// Record several labels at once, all or none: an index out of range, a label out of
    /// range or the same index twice rejects the whole batch.
    pub fn teach_many(&mut self, pairs: &[(usize, u32)]) -> Result<()> {
        let mut seen = std::collections::HashSet::new();
        for &(index, label) in pairs {
            self.check_index(index)?;
            if label as usize >= self.n_classes {
                return Err(Error::LabelOutOfRange { row: index, label, n_classes: self.n_classes });
            }
            if !seen.insert(index) {
                return Err(Error::DuplicateSample { id: index as u64 });
            }
        }
        for &(index, label) in pairs {
            self.set_label(index, Some(label));
        }
        Ok(())
    }

    /// Remove a label.
    pub fn forget(&mut self, index: usize) -> Result<()> {
        self.check_index(index)?;
        self.set_label(index, None);
        Ok(())
    }

    /// Undo the last `teach` or `forget` (each label of a `teach_many` is one step).
    /// Returns the sample index restored, or `None` when there is nothing to undo.
    /// Does not refit.
    pub fn undo(&mut self) -> Option<usize> {
        let change = self.history.pop()?;
        self.apply(change.index, change.previous);
        Some(change.index)
    }

    /// The labelled rows (a view, no copy) and their labels, in storage order.
    pub(super) fn labelled_set(&self) -> (ArrayView2<'_, f32>, Vec<u32>) {
        let y = self.order[..self.n_labelled].iter().filter_map(|&i| self.labels[i]).collect();
        (self.features.slice(s![..self.n_labelled, ..]), y)
    }
}
