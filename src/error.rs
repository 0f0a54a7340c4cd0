//! The crate's one error type. Every variant carries the numbers a person needs to find
//! and fix the problem (row, column, expected and actual sizes).

use thiserror::Error;

/// Everything that can go wrong in the core, with enough detail to act on.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum Error {
    /// Two things that must agree in size do not.
    #[error("shape mismatch in {what}: expected {expected}, got {got}")]
    Shape { what: String, expected: usize, got: usize },

    /// A feature value is NaN or infinite.
    #[error("non-finite value {value} at row {row}, column {col}")]
    NonFinite { row: usize, col: usize, value: f64 },

    /// A label index that does not name a class.
    #[error("label {label} at row {row} is out of range: there are {n_classes} classes")]
    LabelOutOfRange { row: usize, label: u32, n_classes: usize },

    /// A sample id that is not in the pool.
    #[error("unknown sample id {id}")]
    UnknownSample { id: u64 },

    /// The same sample id appears twice.
    #[error("duplicate sample id {id}")]
    DuplicateSample { id: u64 },

    /// Something needed is empty (the pool, the labelled set, a file).
    #[error("{0} is empty")]
    Empty(String),

    /// A hyperparameter or option with a value it cannot take.
    #[error("invalid value for {name}: {reason}")]
    InvalidParam { name: String, reason: String },

    /// Input that could not be parsed, with where.
    #[error("{source_name}: line {line}, column {col}: {msg}")]
    Parse { source_name: String, line: usize, col: usize, msg: String },

    /// Bytes that are not in the expected format at all.
    #[error("{what}: {msg}")]
    Format { what: String, msg: String },

    /// An operation that needs something the session does not have yet.
    #[error("{0}")]
    State(String),

    /// A file could not be read or written (native tools only: the simulator).
    #[error("{path}: {msg}")]
    Io { path: String, msg: String },

    /// The GPU path failed (device lost, shader error, limits); callers fall back to CPU.
    #[error("gpu: {0}")]
    Gpu(String),
}

/// Short alias used across the crate.
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// A stable machine-readable code for bindings (`E_SHAPE`, `E_NONFINITE`, ...).
    pub fn code(&self) -> &'static str {
        match self {
            Error::Shape { .. } => "E_SHAPE",
            Error::NonFinite { .. } => "E_NONFINITE",
            Error::LabelOutOfRange { .. } => "E_LABEL_RANGE",
            Error::UnknownSample { .. } => "E_UNKNOWN_SAMPLE",
            Error::DuplicateSample { .. } => "E_DUPLICATE_SAMPLE",
            Error::Empty(_) => "E_EMPTY",
            Error::InvalidParam { .. } => "E_INVALID_PARAM",
            Error::Parse { .. } => "E_PARSE",
            Error::Format { .. } => "E_FORMAT",
            Error::State(_) => "E_STATE",
            Error::Io { .. } => "E_IO",
            Error::Gpu(_) => "E_GPU",
        }
    }

    /// Shorthand for [`Error::InvalidParam`].
    pub fn param(name: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::InvalidParam { name: name.into(), reason: reason.into() }
    }
}
