//! [`LogTable`], a validated log, and [`RejectedRow`], a row its bad-row policy removed.

use crate::canonical::{LABEL, ROW_ID};
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
