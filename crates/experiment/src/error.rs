//! Experiment errors: config, I/O and every stage's error, with the stage named.

use std::path::PathBuf;
use thiserror::Error;

/// Everything that can stop an experiment.
#[derive(Debug, Error)]
pub enum ExperimentError {
    /// The config is invalid.
    #[error("{path}: {message}")]
    Config {
        /// Config file.
        path: PathBuf,
        /// What is wrong, with key and line where known.
        message: String,
    },
    /// Reading or writing a file failed (the OS error is included, not chained, so it prints
    /// once).
    #[error("{path}: {error}")]
    Io {
        /// File or directory.
        path: PathBuf,
        /// Underlying error.
        error: std::io::Error,
    },
    /// Ingest failed (the message is included, not chained, so it prints once).
    #[error("ingest: {0}")]
    Ingest(webthreat_ingest::IngestError),
    /// Feature building failed.
    #[error("features: {0}")]
    Features(webthreat_features::FeatureError),
    /// A detector failed.
    #[error("detector `{name}`: {message}")]
    Detector {
        /// Detector name.
        name: String,
        /// What went wrong.
        message: String,
    },
    /// Evaluation or rendering failed.
    #[error("report: {0}")]
    Report(String),
    /// A run argument matched nothing.
    #[error(
        "no run matches `{arg}` under {root} (give a run directory, <experiment>/<id> or an experiment name; `cargo xtask list` shows them)"
    )]
    NoSuchRun {
        /// The argument.
        arg: String,
        /// Store root.
        root: PathBuf,
    },
    /// A saved run is unreadable.
    #[error("{path}: not a readable run file: {message}")]
    BadRun {
        /// File.
        path: PathBuf,
        /// Parser message.
        message: String,
    },
}

impl From<webthreat_ingest::IngestError> for ExperimentError {
    fn from(e: webthreat_ingest::IngestError) -> Self {
        ExperimentError::Ingest(e)
    }
}

impl From<webthreat_features::FeatureError> for ExperimentError {
    fn from(e: webthreat_features::FeatureError) -> Self {
        ExperimentError::Features(e)
    }
}
