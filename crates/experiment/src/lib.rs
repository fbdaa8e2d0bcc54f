//! Experiments: the config schema, the run driver (ingest -> features -> detectors ->
//! evaluation -> report, for a whole log or its batches alike), the versioned run store,
//! listing and comparing runs (and the runs index page), and re-scoring new data with a run's
//! saved models, batch by batch or as a log grows.
//!
//! Invariants:
//! - a run directory appears only complete (built in a temp dir, renamed into place);
//! - same config + same data => byte-identical `metrics.json`, `scores.csv`, `report.md`
//!   and `alerts.jsonl` but for its run id (volatile facts such as times, git state and thread
//!   count live in `run.json` only);
//! - with a `streaming` section, memory is bounded by the batch size, not the log's size.

mod accumulate;
mod alerts;
mod beacons;
pub mod compare;
pub mod config;
mod context;
mod driver;
mod error;
mod follow;
pub mod index;
pub mod outputs;
pub mod plan;
mod progress;
mod provenance;
mod sample;
mod sample_fit;
pub mod saved;
mod source;
mod stages;
pub mod store;
mod summary;
mod types;

/// The tool's version and the commit it was built from (`0.1.0 (<commit>[-dirty])`), as
/// `run.json` records them.
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (",
    env!("WEBTHREAT_BUILD_COMMIT"),
    ")"
);

pub use config::{ExperimentConfig, ReportOptions, StreamingOptions};
pub use driver::{run, run_read, score_with_run};
pub use error::ExperimentError;
pub use follow::{FollowOptions, follow_with_run};
pub use index::write_index;
pub use plan::{PlanOutcome, run_plan};
pub use sample_fit::SampleFit;
pub use saved::{Partitioning, RunFiles, SavedModel, Scored};
pub use store::{RunRef, RunStore};
pub use summary::Summary;
pub use types::{DetectorLine, RunOptions, RunOutcome};
