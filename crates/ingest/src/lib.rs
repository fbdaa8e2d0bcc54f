//! Log ingestion: reads a log of any supported format (CloudWatch export, Zeek, VPC Flow Logs,
//! ALB access logs, or a CSV / TSV / JSON-lines / Parquet table), from one file, a directory or
//! a glob, plain or compressed, into a validated polars [`DataFrame`](polars::prelude::DataFrame)
//! with canonical column names.
//!
//! Every value the rest of the pipeline relies on is checked here, and a bad value is reported
//! with the file, the line, the column, the value and what was expected. A missing value is
//! handled as its column's [`MissingPolicy`] says, and counted. With [`BadRowPolicy::Skip`]
//! bad rows are removed and returned as [`RejectedRow`]s instead, so that nothing is dropped
//! silently.
//!
//! Canonical columns (present when the source has them): see [`canonical`]. Formats: see
//! [`formats`](crate::formats) (one description per format).

mod arrow;
pub mod canonical;
mod chunks;
mod convert;
mod converted;
mod detect;
mod diagnose;
mod error;
mod files;
mod follow;
mod formats;
mod json_lines;
mod label;
mod layout;
mod log_table;
mod parse_chunk;
mod plain;
mod raw;
mod read;
mod spec;
mod split;
mod summary;
mod time_format;
pub mod timestamp;
mod validate;

pub use arrow::{ARROW_SOURCE, ArrowColumns, columns_used, read_arrow};
pub use converted::MissingCount;
pub use detect::detect_format;
pub use error::{IngestError, RowProblem};
pub use follow::{Follow, STDIN};
pub use log_table::{LogTable, RejectedRow, RowFilter};
pub use read::{LogBatches, data_blake3, follow_log, read_log, read_log_batches};
pub use spec::{
    BadRowPolicy, ColumnMap, DEFAULT_NULL_VALUES, Format, LabelSpec, MissingPolicy, Separator,
    SourceSpec, TimeFormat,
};
pub use summary::{ColumnSummary, Distinct};
