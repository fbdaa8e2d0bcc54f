//! [`LogTable`], a validated log, and [`RejectedRow`], a row its bad-row policy removed.

use crate::canonical::{LABEL, ROW_ID, START_TIME};
use crate::converted::MissingCount;
use crate::error::{IngestError, RowProblem};
use crate::summary::{ColumnSummary, Distinct, summarize};
use polars::prelude::*;
use std::path::PathBuf;

/// A row removed by `on_bad_rows: skip`, with every problem found in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RejectedRow {
    /// Data row index in the source (0-based, header excluded).
    pub row: u64,
    /// Every bad value of the row.
    pub problems: Vec<RowProblem>,
}

/// Which rows of a log a run keeps: for fitting (normal rows, rows before a time) or for
/// scoring (rows from a time on). Rows without the value a condition reads are not kept.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RowFilter {
    /// Only rows labeled normal.
    pub normal_only: bool,
    /// Only rows starting before this time (Unix milliseconds).
    pub before_ms: Option<i64>,
    /// Only rows starting at or after this time (Unix milliseconds).
    pub from_ms: Option<i64>,
}

impl RowFilter {
    /// True when it keeps every row.
    pub fn is_everything(&self) -> bool {
        *self == RowFilter::default()
    }
}

/// A validated log: canonical typed columns plus the source's other numeric columns.
#[derive(Debug, Clone)]
pub struct LogTable {
    /// The data. `row_id` (UInt64) first, then mapped canonical columns, then the source's
    /// other numeric columns.
    pub df: DataFrame,
    /// Where it was read from.
    pub path: PathBuf,
    /// Data rows in the source (or batch), before rejection.
    pub source_rows: usize,
    /// Rows removed by `on_bad_rows: skip`.
    pub rejected: Vec<RejectedRow>,
    /// blake3 (hex) of the log's decoded bytes (every file in order) as they were read, when
    /// the whole log was read as text (`None` for Parquet and for batches).
    pub file_blake3: Option<String>,
    /// Missing values filled in, per column.
    pub missing: Vec<MissingCount>,
    /// Source columns that are text and not used by the analysis: not kept in `df` (they are
    /// most of a CloudWatch export's bytes), only summarised, in source order.
    pub text_columns: Vec<ColumnSummary>,
}

impl LogTable {
    /// True when the table has a canonical or source column of that name.
    pub fn has(&self, column: &str) -> bool {
        self.df.column(column).is_ok()
    }

    /// Rows kept (not rejected).
    pub fn rows(&self) -> usize {
        self.df.height()
    }

    /// The row ids of the rows kept, in table order.
    pub fn row_ids(&self) -> Result<Vec<u64>, IngestError> {
        let ids = self.df.column(ROW_ID).map_err(|e| self.polars_error(e))?;
        let ids = ids.u64().map_err(|e| self.polars_error(e))?;
        Ok(ids.into_no_null_iter().collect())
    }

    /// blake3 (hex) of the table's values as read: every column's name, type and values in row
    /// order (their physical values as text: a time as its integer). The identity of rows that
    /// came from no file (an Arrow table).
    pub fn content_blake3(&self) -> Result<String, IngestError> {
        let polars_err = |e: PolarsError| self.polars_error(e);
        let mut hasher = blake3::Hasher::new();
        for column in self.df.columns() {
            hasher.update(column.name().as_bytes());
            hasher.update(format!("\0{}\0", column.dtype()).as_bytes());
            let text = (column.to_physical_repr())
                .cast(&DataType::String)
                .map_err(polars_err)?;
            for value in text.str().map_err(polars_err)?.iter() {
                match value {
                    // a value's length first, so that no two columns of values hash alike
                    Some(v) => hasher
                        .update(&(v.len() as u64).to_le_bytes())
                        .update(v.as_bytes()),
                    None => hasher.update(&u64::MAX.to_le_bytes()),
                };
            }
        }
        Ok(hasher.finalize().to_hex().to_string())
    }

    /// Puts the rows in row-id order (rows gathered from an engine's parts come in any order).
    pub fn sort_by_row_id(&mut self) -> Result<(), IngestError> {
        self.df = (self.df)
            .sort([ROW_ID], SortMultipleOptions::default())
            .map_err(|e| self.polars_error(e))?;
        Ok(())
    }

    /// Keeps only the rows `filter` selects (row ids unchanged); returns how many remain.
    /// Selecting normal rows needs labels: without them it is an error naming the file.
    pub fn retain(&mut self, filter: &RowFilter) -> Result<usize, IngestError> {
        let polars_err = |e: PolarsError| IngestError::Polars {
            path: self.path.clone(),
            message: e.to_string(),
        };
        let mut keep = BooleanChunked::full("keep".into(), true, self.rows());
        if filter.normal_only {
            let labels = self.df.column(LABEL).map_err(|_| IngestError::Polars {
                path: self.path.clone(),
                message: "fit.label: normal needs labels, and this log has no label column".into(),
            })?;
            let normal = !labels.bool().map_err(polars_err)?;
            keep = &keep & &normal.fill_null_with_values(false).map_err(polars_err)?;
        }
        if filter.before_ms.is_some() || filter.from_ms.is_some() {
            let start = (self.df.column(START_TIME))
                .and_then(|c| c.cast(&DataType::Int64))
                .map_err(|_| IngestError::Polars {
                    path: self.path.clone(),
                    message: "fit.before needs a start time, and this log has none".into(),
                })?;
            let start = start.i64().map_err(polars_err)?;
            if let Some(t) = filter.before_ms {
                keep = &keep & &start.lt(t);
            }
            if let Some(t) = filter.from_ms {
                keep = &keep & &start.gt_eq(t);
            }
        }
        let keep = keep.fill_null_with_values(false).map_err(polars_err)?;
        self.df = self.df.filter(&keep).map_err(polars_err)?;
        Ok(self.rows())
    }

    /// The start times (Unix milliseconds) of the rows, `None` for a row without one or a log
    /// without start times.
    fn start_ms(&self) -> Result<Vec<Option<i64>>, IngestError> {
        let Ok(start) = self.df.column(START_TIME) else {
            return Ok(vec![None; self.rows()]);
        };
        let start = start
            .cast(&DataType::Int64)
            .map_err(|e| self.polars_error(e))?;
        Ok(start
            .i64()
            .map_err(|e| self.polars_error(e))?
            .iter()
            .collect())
    }

    /// The latest start time of a row, if any row has one.
    pub fn latest_start_ms(&self) -> Result<Option<i64>, IngestError> {
        Ok(self.start_ms()?.into_iter().flatten().max())
    }

    /// How many rows start before `ms` (rows without a start time are not counted).
    pub fn rows_starting_before(&self, ms: i64) -> Result<usize, IngestError> {
        Ok(self
            .start_ms()?
            .into_iter()
            .flatten()
            .filter(|&t| t < ms)
            .count())
    }

    /// Moves the rows starting before `ms`, and those without a start time, into a table of
    /// their own (in row order, with this table's rejected rows and missing-value counts);
    /// this table keeps the rest. Both keep the text-column summaries.
    pub fn split_off_before(&mut self, ms: i64) -> Result<LogTable, IngestError> {
        let early: BooleanChunked = (self.start_ms()?.into_iter())
            .map(|t| t.is_none_or(|t| t < ms))
            .collect();
        let polars_err = |e: PolarsError| self.polars_error(e);
        let before = self.df.filter(&early).map_err(polars_err)?;
        let after = self.df.filter(&!&early).map_err(polars_err)?;
        self.df = after;
        let source_rows = before.height() + self.rejected.len();
        self.source_rows -= source_rows;
        Ok(LogTable {
            source_rows,
            df: before,
            path: self.path.clone(),
            rejected: std::mem::take(&mut self.rejected),
            missing: std::mem::take(&mut self.missing),
            text_columns: self.text_columns.clone(),
            file_blake3: None,
        })
    }

    /// Appends the rows of `other` (a later part of the same log) with its rejected rows and
    /// missing-value counts.
    pub fn append(&mut self, other: LogTable) -> Result<(), IngestError> {
        self.df
            .vstack_mut_owned(other.df)
            .map_err(|e| IngestError::Polars {
                path: self.path.clone(),
                message: e.to_string(),
            })?;
        self.source_rows += other.source_rows;
        self.rejected.extend(other.rejected);
        MissingCount::merge(&mut self.missing, &other.missing);
        for (mine, theirs) in self.text_columns.iter_mut().zip(&other.text_columns) {
            mine.distinct.merge(&theirs.distinct);
        }
        Ok(())
    }

    /// True when ground-truth labels are present.
    pub fn has_labels(&self) -> bool {
        self.has(LABEL)
    }

    /// True when `column` is a summarised text column of the source.
    pub fn is_text_column(&self, column: &str) -> bool {
        self.text_columns.iter().any(|c| c.name == column)
    }

    /// Every column but `row_id`, summarised: `df` columns in table order, then the text
    /// columns.
    pub fn column_summaries(&self) -> Result<Vec<ColumnSummary>, IngestError> {
        let mut out = Vec::new();
        for col in self.df.columns() {
            if col.name() == ROW_ID {
                continue;
            }
            out.push(ColumnSummary {
                name: col.name().to_string(),
                distinct: summarize(col).map_err(|e| self.polars_error(e))?,
            });
        }
        out.extend(self.text_columns.iter().cloned());
        Ok(out)
    }

    /// Columns holding one single value in every row (nulls count as a value), in the order of
    /// [`LogTable::column_summaries`].
    pub fn constant_columns(&self) -> Result<Vec<String>, IngestError> {
        Ok(self
            .column_summaries()?
            .into_iter()
            .filter(|c| matches!(c.distinct, Distinct::One(_)))
            .map(|c| c.name)
            .collect())
    }

    fn polars_error(&self, e: PolarsError) -> IngestError {
        IngestError::Polars {
            path: self.path.clone(),
            message: e.to_string(),
        }
    }
}
