//! The harness's error type.

use std::path::PathBuf;
use thiserror::Error;

/// Why a benchmark could not be run or recorded.
#[derive(Debug, Error)]
pub enum BenchError {
    /// Reading or writing a file or directory failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A command (python, pip) could not be started or failed.
    #[error("`{command}` failed: {message}")]
    Command {
        /// The command line.
        command: String,
        /// Exit status and the tail of its stderr.
        message: String,
    },
    /// The peer script printed something that is not the expected JSON.
    #[error("peer output is not the expected JSON: {0}")]
    PeerOutput(String),
    /// Our side failed (generation, ingest, features, detectors, evaluation, experiment).
    #[error("{stage}: {message}")]
    Ours {
        /// The stage that failed.
        stage: &'static str,
        /// The error, as text.
        message: String,
    },
    /// A bad option (sizes, repetitions).
    #[error("{0}")]
    Options(String),
}

impl BenchError {
    /// Wraps one of our crates' errors with the stage it happened in.
    pub(crate) fn ours<E: std::fmt::Display>(stage: &'static str) -> impl FnOnce(E) -> Self {
        move |e| BenchError::Ours {
            stage,
            message: e.to_string(),
        }
    }

    /// An I/O error on `path`.
    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.into();
        move |source| BenchError::Io { path, source }
    }
}
