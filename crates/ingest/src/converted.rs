//! [`Converted`], one validated part of a source, and how parts become a [`LogTable`]:
//! concatenated, then the bad-row policy applied.

use crate::error::{IngestError, RowProblem};
use crate::log_table::{LogTable, RejectedRow};
use crate::spec::{BadRowPolicy, SourceSpec};
use crate::summary::ColumnSummary;
use polars::prelude::*;
use std::path::{Path, PathBuf};

/// One converted part of a source (a CSV chunk or a whole Parquet file), before the bad-row
/// policy is applied.
pub(crate) struct Converted {
    pub(crate) df: DataFrame,
    pub(crate) path: PathBuf,
    pub(crate) first_row: u64,
    pub(crate) rows: usize,
    pub(crate) problems: Vec<RowProblem>,
    pub(crate) text_columns: Vec<ColumnSummary>,
}

impl Converted {
    /// Concatenates consecutive parts (`None` when there are none).
    pub(crate) fn concat(
        parts: Vec<Converted>,
        path: &Path,
    ) -> Result<Option<Converted>, IngestError> {
        let polars_err = |e: PolarsError| IngestError::Polars {
            path: path.to_path_buf(),
            message: e.to_string(),
        };
        let mut parts = parts.into_iter();
        let Some(mut whole) = parts.next() else {
            return Ok(None);
        };
        for part in parts {
            whole.df.vstack_mut_owned(part.df).map_err(polars_err)?;
            whole.rows += part.rows;
            whole.problems.extend(part.problems);
            for (mine, theirs) in whole.text_columns.iter_mut().zip(&part.text_columns) {
                mine.distinct.merge(&theirs.distinct);
            }
        }
        Ok(Some(whole))
    }

    /// Applies the bad-row policy. `batch`: this part is one batch of a batched read, so a
    /// batch whose rows were all rejected comes back empty instead of failing, and a failure
    /// says where reading stopped.
    pub(crate) fn into_table(
        self,
        spec: &SourceSpec,
        batch: bool,
    ) -> Result<LogTable, IngestError> {
        let path = self.path;
        let rejected = group_problems(self.problems);
        let df = match (spec.on_bad_rows, rejected.first()) {
            (_, None) => self.df,
            (BadRowPolicy::Fail, Some(first)) => {
                return Err(IngestError::BadValue {
                    path,
                    first: Box::new(first.problems[0].clone()),
                    others: rejected.len() - 1,
                    read_through: batch.then(|| self.first_row + self.rows as u64 - 1),
                });
            }
            (BadRowPolicy::Skip, Some(first)) if rejected.len() == self.rows && !batch => {
                return Err(IngestError::AllRowsRejected {
                    path,
                    rows: self.rows,
                    first: first.problems[0].clone(),
                });
            }
            (BadRowPolicy::Skip, Some(_)) => {
                let mut keep = vec![true; self.rows];
                for r in &rejected {
                    keep[(r.row - self.first_row) as usize] = false;
                }
                self.df
                    .filter(&BooleanChunked::from_slice("keep".into(), &keep))
                    .map_err(|e| IngestError::Polars {
                        path: path.clone(),
                        message: e.to_string(),
                    })?
            }
        };
        Ok(LogTable {
            df,
            path,
            source_rows: self.rows,
            rejected,
            text_columns: self.text_columns,
            file_blake3: None,
        })
    }
}

/// Groups problems by row (row order, then the order they were found).
fn group_problems(mut list: Vec<RowProblem>) -> Vec<RejectedRow> {
    list.sort_by_key(|p| p.row);
    let mut out: Vec<RejectedRow> = Vec::new();
    for p in list {
        match out.last_mut() {
            Some(last) if last.row == p.row => last.problems.push(p),
            _ => out.push(RejectedRow {
                row: p.row,
                problems: vec![p],
            }),
        }
    }
    out
}
