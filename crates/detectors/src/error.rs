//! The error type shared by every detector.

use thiserror::Error;

/// Everything that can go wrong while configuring, fitting, scoring or loading a detector.
#[derive(Debug, Error)]
pub enum DetectorError {
    /// A configuration value is out of range or inconsistent.
    #[error("detector `{detector}`: `{key}` {message}")]
    InvalidConfig {
        /// Name (or kind) of the detector whose config is wrong.
        detector: String,
        /// The offending key.
        key: &'static str,
        /// What was wrong, with the value and what was expected.
        message: String,
    },
    /// The matrix handed to `fit` or `score` has no rows.
    #[error("cannot {action} detector `{detector}` on a feature matrix with 0 rows")]
    EmptyInput {
        /// `fit` or `score`.
        action: &'static str,
        /// Detector name.
        detector: String,
    },
    /// The matrix handed to `score`/`explain` does not have the training features.
    #[error(
        "detector `{detector}` was trained on features [{}] but got [{}]: score data must have the same features in the same order",
        expected.join(", "),
        got.join(", ")
    )]
    FeatureMismatch {
        /// Detector name.
        detector: String,
        /// Training feature names.
        expected: Vec<String>,
        /// Feature names of the matrix handed in.
        got: Vec<String>,
    },
    /// A value is NaN or infinite (only reachable through slices not checked by `FeatureMatrix`).
    #[error("feature `{feature}` is {value} in row {row}: detectors need finite numbers")]
    NonFinite {
        /// Feature name.
        feature: String,
        /// Row index.
        row: usize,
        /// The offending value.
        value: f64,
    },
    /// `explain` was asked for a row the matrix does not have.
    #[error("row {row} does not exist: the matrix has {rows} rows")]
    RowOutOfRange {
        /// Requested row.
        row: usize,
        /// Number of rows.
        rows: usize,
    },
    /// A threshold rule cannot be applied (wrong detector kind or bad value).
    #[error("threshold rule {rule}: {message}")]
    InvalidThreshold {
        /// The rule, as text.
        rule: String,
        /// What was wrong.
        message: String,
    },
    /// A serialized model could not be read or written.
    #[error("model JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// A deserialized model is structurally inconsistent.
    #[error("model file is inconsistent: {0}")]
    InvalidModel(String),
}
