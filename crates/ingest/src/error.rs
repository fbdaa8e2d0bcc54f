//! Ingest errors: each names the file and, for bad values, the line, column, value and expectation.

use std::path::PathBuf;
use std::sync::Arc;
use thiserror::Error;
use webthreat_core::text::visible;

/// One bad or missing value in one row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowProblem {
    /// Data row index in the log (0-based, header and comment lines excluded).
    pub row: u64,
    /// The file the row is in.
    pub file: Arc<PathBuf>,
    /// 1-based line number of the row in its file.
    pub line: u64,
    /// Source column name.
    pub column: String,
    /// The raw value as it appears in the file (empty when missing).
    pub value: String,
    /// What was expected instead.
    pub expected: String,
    /// The value is missing and its column's policy is `missing: skip`: the row is rejected
    /// whatever `on_bad_rows` says.
    pub skip: bool,
}

impl std::fmt::Display for RowProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "line {} (data row {}), column `{}`: value `{}`: expected {}",
            self.line,
            self.row,
            visible(&self.column),
            visible(&self.value),
            visible(&self.expected)
        )
    }
}

/// Everything that can go wrong while reading a log.
#[derive(Debug, Error)]
pub enum IngestError {
    /// The file does not exist or cannot be opened.
    #[error("{path}: cannot open: {source}")]
    Open {
        /// File path.
        path: PathBuf,
        /// Underlying I/O error.
        source: std::io::Error,
    },
    /// The file is empty or has a header but no data rows.
    #[error("{path}: {what}; expected a header line and at least one data row")]
    Empty {
        /// File path.
        path: PathBuf,
        /// "file is empty" or "no data rows".
        what: &'static str,
    },
    /// The header names a column twice.
    #[error(
        "{path}: header names column `{column}` twice (positions {first} and {second}); column names must be unique"
    )]
    DuplicateHeader {
        /// File path.
        path: PathBuf,
        /// Column name.
        column: String,
        /// 1-based position of the first occurrence.
        first: usize,
        /// 1-based position of the second occurrence.
        second: usize,
    },
    /// Required columns are absent.
    #[error(
        "{path}: missing required column(s) {}; the header has: {}",
        quote_list(missing),
        quote_list(present)
    )]
    MissingColumns {
        /// File path.
        path: PathBuf,
        /// Every missing column.
        missing: Vec<String>,
        /// The columns the file has.
        present: Vec<String>,
    },
    /// A mapping sends a source column onto a canonical name already used by another column.
    #[error(
        "{path}: column `{column}` is mapped to `{canonical}`, but the file already has a different column named `{canonical}`; map or rename one of them"
    )]
    NameCollision {
        /// File path.
        path: PathBuf,
        /// Source column.
        column: String,
        /// Canonical name.
        canonical: String,
    },
    /// The CSV or Parquet reader failed (malformed quoting, ragged rows, corrupt Parquet).
    #[error("{path}: cannot parse: {message}")]
    Parse {
        /// File path.
        path: PathBuf,
        /// Reader's message.
        message: String,
    },
    /// A value is invalid (with `on_bad_rows: fail`).
    #[error("{path}: {first}{}", more_rows(*others, *read_through))]
    BadValue {
        /// File path.
        path: PathBuf,
        /// The first bad value by row (boxed to keep the error small).
        first: Box<RowProblem>,
        /// How many more rows are bad among the rows read.
        others: usize,
        /// When reading in batches: the last data row read (reading stops at the batch holding
        /// the first bad row, so `others` counts only up to there).
        read_through: Option<u64>,
    },
    /// Skipping bad rows left nothing.
    #[error("{path}: all {rows} data rows were rejected; first: {first}")]
    AllRowsRejected {
        /// File path.
        path: PathBuf,
        /// Number of data rows.
        rows: usize,
        /// The first problem.
        first: Box<RowProblem>,
    },
    /// A record no reader can take (another number of fields than the header, not UTF-8).
    #[error("{path}: line {line}: {message}")]
    BadRecord {
        /// File path.
        path: PathBuf,
        /// 1-based line of the record.
        line: u64,
        /// What is wrong and what was expected.
        message: String,
    },
    /// A record runs past `max_record_bytes` without ending.
    #[error(
        "{path}: line {line}: a record longer than {limit} bytes{}; expected records of at most `data.max_record_bytes` ({limit}) bytes (raise it if such records are real)",
        if *unclosed_quote { " (a quote opened in it is never closed)" } else { " with no line end" }
    )]
    RecordTooLong {
        /// File path.
        path: PathBuf,
        /// 1-based line where the record starts.
        line: u64,
        /// The limit in bytes.
        limit: u64,
        /// Whether an open quote explains it.
        unclosed_quote: bool,
    },
    /// An internal polars operation failed.
    #[error("{path}: {message}")]
    Polars {
        /// File path.
        path: PathBuf,
        /// polars' message.
        message: String,
    },
}

pub(crate) fn quote_list(items: &[String]) -> String {
    items
        .iter()
        .map(|c| format!("`{}`", visible(c)))
        .collect::<Vec<_>>()
        .join(", ")
}

fn more_rows(others: usize, read_through: Option<u64>) -> String {
    let skip = "`on_bad_rows: skip` rejects bad rows into a rejects file instead";
    let scope = read_through.map_or(String::new(), |row| {
        format!(" up to data row {row}, where reading in batches stopped")
    });
    match (others, read_through) {
        (0, None) => String::new(),
        (0, Some(_)) => format!(" (no more bad rows{scope}; {skip})"),
        (1, _) => format!(" (and 1 more bad row{scope}; {skip})"),
        (n, _) => format!(" (and {n} more bad rows{scope}; {skip})"),
    }
}
