//! Feature errors: each names the feature and what it needs.

use thiserror::Error;

/// Everything that can go wrong while building or scaling features.
#[derive(Debug, Error)]
pub enum FeatureError {
    /// A feature name is not in the vocabulary and is not a column of the data.
    #[error("unknown feature `{name}`: {hint}")]
    Unknown {
        /// The name as written.
        name: String,
        /// What would be accepted.
        hint: String,
    },
    /// A feature needs a column the data lacks.
    #[error(
        "feature `{feature}` needs column `{column}`, which the data does not have{}",
        mapping_hint(column)
    )]
    MissingColumn {
        /// Feature name.
        feature: String,
        /// Needed canonical column.
        column: String,
    },
    /// A raw feature column holds text.
    #[error("feature `{feature}`: column `{feature}` holds text ({dtype}), not numbers")]
    NotNumeric {
        /// Column name.
        feature: String,
        /// Its polars type.
        dtype: String,
    },
    /// A feature appears twice in the list.
    #[error("feature `{0}` is listed twice")]
    Duplicate(String),
    /// No feature is selected and the data has no numeric column.
    #[error("no features: the config lists none and the data has no numeric column")]
    Empty,
    /// A computed value is NaN or infinite.
    #[error("feature `{feature}` is {value} at data row {row}: {hint}")]
    NonFinite {
        /// Feature name.
        feature: String,
        /// Data row.
        row: u64,
        /// Offending value.
        value: f64,
        /// Likely cause.
        hint: &'static str,
    },
    /// A categorical feature's vocabulary was not fitted before building.
    #[error("the vocabulary of text column `{0}` is not fitted (count its values first)")]
    NotFitted(String),
    /// A feature's lookup (intel lists, beacon table) was not given before building.
    #[error("feature {0} was not given before building the features")]
    NoContext(String),
    /// The window length is zero.
    #[error("window_seconds must be at least 1, got {0}")]
    BadWindow(u64),
    /// The matrix to transform does not have the scaler's features.
    #[error("scaler was fitted on features {expected:?} but got {got:?}")]
    ScalerMismatch {
        /// Training features.
        expected: Vec<String>,
        /// Given features.
        got: Vec<String>,
    },
    /// A scaler read from a file does not fit its features.
    #[error("scaler: {0}")]
    BadScaler(String),
    /// Fitting a scaler on zero rows.
    #[error("cannot fit a scaler on zero rows")]
    NoRows,
    /// A polars operation failed.
    #[error("polars: {0}")]
    Polars(#[from] polars::prelude::PolarsError),
    /// The assembled matrix is inconsistent.
    #[error(transparent)]
    Matrix(#[from] webthreat_core::MatrixError),
    /// An entity key cannot be stored.
    #[error(transparent)]
    Entities(#[from] webthreat_core::EntityError),
}

fn mapping_hint(column: &str) -> String {
    format!(" (for `format: table`, map it with `data.columns.{column}: <source column>`)")
}
