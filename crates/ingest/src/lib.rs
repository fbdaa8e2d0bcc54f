//! Log ingestion: reads a CloudWatch export or a generic CSV/Parquet table into a validated
//! polars [`DataFrame`](polars::prelude::DataFrame) with canonical column names.
//!
//! Every value the rest of the pipeline relies on is checked here, and a bad value is reported
//! with the file, the line, the column, the value and what was expected. With
//! [`BadRowPolicy::Skip`] bad rows are removed and returned as [`RejectedRow`]s instead, so that
//! nothing is dropped silently.
//!
//! Canonical columns (present when the source has them): see [`canonical`].

pub mod canonical;
mod chunks;
mod convert;
mod converted;
mod error;
mod log_table;
mod parse_chunk;
mod plain;
mod raw;
mod read;
mod spec;
mod split;
mod summary;
pub mod timestamp;
mod validate;

pub use error::{IngestError, RowProblem};
pub use log_table::{LogTable, RejectedRow};
pub use read::{LogBatches, read_log, read_log_batches};
pub use spec::{BadRowPolicy, ColumnMap, Format, LabelSpec, SourceSpec};
pub use summary::{ColumnSummary, Distinct};
