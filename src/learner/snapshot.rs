//! The session as bytes (save and restore, postcard) and the fitted model alone (export).

use serde::{Deserialize, Serialize};

use super::Learner;
use crate::model::fitted::Fitted;
use crate::trained::TrainedModel;
use crate::{Error, Result};

/// Snapshot wire format version; bump when `Learner`'s fields change.
/// 2: stop set and its prediction history.
const SNAPSHOT_VERSION: u32 = 2;

#[derive(Serialize, Deserialize)]
struct Snapshot {
    version: u32,
    learner: Learner,
}

impl Learner {
    /// The fitted model alone, for export (see [`crate::trained`]): predicts exactly as
    /// this session does. `Error::State` before the first fit.
    pub fn export_model(&self) -> Result<TrainedModel> {
        let fitted = self.fitted.clone().ok_or_else(|| Error::State("there is no trained model yet: label samples of at least two classes first".into()))?;
        Ok(TrainedModel::new(fitted, self.features.ncols(), self.n_classes, self.class_names.clone()))
    }

    /// The whole session (pool, labels, model, history, generator state) as bytes
    /// (postcard). [`Learner::restore`] gives back a session that predicts and queries
    /// bit for bit the same.
    pub fn snapshot(&self) -> Result<Vec<u8>> {
        // Serializing owned data cannot fail short of running out of memory; map anyway.
        postcard::to_allocvec(&Snapshot { version: SNAPSHOT_VERSION, learner: self.clone() })
            .map_err(|e| Error::Format { what: "snapshot".into(), msg: e.to_string() })
    }

    /// A session from [`Learner::snapshot`] bytes. Corrupt or foreign bytes are an error.
    pub fn restore(bytes: &[u8]) -> Result<Self> {
        let snap: Snapshot =
            postcard::from_bytes(bytes).map_err(|e| Error::Format { what: "snapshot".into(), msg: e.to_string() })?;
        if snap.version != SNAPSHOT_VERSION {
            return Err(Error::Format {
                what: "snapshot".into(),
                msg: format!("version {} is not supported (expected {SNAPSHOT_VERSION})", snap.version),
            });
        }
        let l = snap.learner;
        // Refuse bytes that decode but describe an impossible session.
        let n = l.features.nrows();
        let maps_ok = l.order.len() == n
            && l.row_of.len() == n
            && l.order.iter().enumerate().all(|(r, &i)| i < n && l.row_of[i] == r)
            && l.n_labelled == l.labels.iter().filter(|v| v.is_some()).count()
            && l.order[..l.n_labelled.min(n)].iter().all(|&i| l.labels[i].is_some());
        if l.labels.len() != n
            || !maps_ok
            || l.n_classes < 2
            || l.labels.iter().flatten().any(|&c| c as usize >= l.n_classes)
            || l.stop_set.iter().any(|&i| i >= n)
            || l.history.iter().any(|c| c.index >= n)
        {
            return Err(Error::Format { what: "snapshot".into(), msg: "inconsistent session".into() });
        }
        // The model must match the pool's width and the class count, or the first
        // prediction would misread it.
        let d = l.features.ncols();
        match &l.fitted {
            Some(Fitted::Single(m)) => m.check_shape(d, l.n_classes)?,
            Some(Fitted::Committee(c)) => c.check_shape(d, l.n_classes)?,
            None => {}
        }
        Ok(l)
    }
}
