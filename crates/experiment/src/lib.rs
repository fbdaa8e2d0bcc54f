//! Experiments: the config schema, the pipeline that runs ingest -> features -> detectors ->
//! evaluation -> report, the versioned run store, listing and comparing runs, and re-scoring
//! new data with a run's saved models.
//!
//! Invariants:
//! - a run directory appears only complete (built in a temp dir, renamed into place);
//! - same config + same data => byte-identical `metrics.json`, `scores.csv`, `report.md`
//!   (volatile facts such as times, git state and thread count live in `run.json` only);
//! - with a `streaming` section, memory is bounded by the batch size, not the log's size.

pub mod compare;
pub mod config;
mod error;
pub mod outputs;
mod pipeline;
mod progress;
mod provenance;
pub mod store;
mod stream;
mod summarize;

pub use config::{ExperimentConfig, ReportOptions, StreamingOptions};
pub use error::ExperimentError;
pub use pipeline::{DetectorLine, RunOptions, RunOutcome, run, score_with_run};
pub use store::{RunRef, RunStore};
