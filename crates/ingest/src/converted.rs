//! [`Converted`], one validated part of a source, and how parts become a [`LogTable`]:
//! concatenated, then the bad-row policy applied.

use crate::error::{IngestError, RowProblem};
use crate::log_table::{LogTable, RejectedRow};
use crate::spec::{BadRowPolicy, MissingPolicy, SourceSpec};
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
    pub(crate) fills: Vec<MissingFill>,
}

/// The rows whose missing value of a column was filled in.
pub(crate) struct MissingFill {
    pub(crate) column: String,
    pub(crate) canonical: Option<&'static str>,
    pub(crate) policy: MissingPolicy,
    /// Data-row indices, increasing.
    pub(crate) rows: Vec<u64>,
}

/// How many missing values of a column were filled in (read as 0, or kept as nulls).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingCount {
    /// Source column.
    pub column: String,
    /// The canonical column it is mapped to, if any.
    pub canonical: Option<&'static str>,
    /// [`MissingPolicy::Zero`] or [`MissingPolicy::Keep`].
    pub policy: MissingPolicy,
    /// Values filled in.
    pub count: u64,
}

impl MissingCount {
    /// Adds `more` to the counts `into` (one entry per column and policy, first-seen order).
    pub fn merge(into: &mut Vec<MissingCount>, more: &[MissingCount]) {
        for m in more {
            match into
                .iter_mut()
                .find(|c| c.column == m.column && c.policy == m.policy)
            {
                Some(c) => c.count += m.count,
                None => into.push(m.clone()),
            }
        }
    }
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
            for fill in part.fills {
                match whole
                    .fills
                    .iter_mut()
                    .find(|f| f.column == fill.column && f.policy == fill.policy)
                {
                    Some(f) => f.rows.extend(fill.rows),
                    None => whole.fills.push(fill),
                }
            }
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
        // rows with a bad value; a row `missing: skip` rejects is rejected whatever else is
        // wrong with it (a VPC NODATA record has no label either)
        let is_bad = |r: &&RejectedRow| !r.problems.iter().any(|p| p.skip);
        let bad = rejected.iter().filter(is_bad).count();
        let first_bad = rejected.iter().find(is_bad).map(|r| &r.problems[0]);
        let df = match (spec.on_bad_rows, rejected.first(), first_bad) {
            (_, None, _) => self.df,
            (BadRowPolicy::Fail, _, Some(first)) => {
                return Err(IngestError::BadValue {
                    path: first.file.to_path_buf(),
                    first: Box::new(first.clone()),
                    others: bad - 1,
                    read_through: batch.then(|| self.first_row + self.rows as u64 - 1),
                });
            }
            (_, Some(first), _) if rejected.len() == self.rows && !batch => {
                return Err(IngestError::AllRowsRejected {
                    path,
                    rows: self.rows,
                    first: Box::new(first.problems[0].clone()),
                });
            }
            (_, Some(_), _) => {
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
        let missing = count_fills(self.fills, &rejected);
        Ok(LogTable {
            df,
            path,
            source_rows: self.rows,
            rejected,
            text_columns: self.text_columns,
            missing,
            file_blake3: None,
        })
    }
}

/// The missing values filled in on rows that were not rejected, per column.
fn count_fills(fills: Vec<MissingFill>, rejected: &[RejectedRow]) -> Vec<MissingCount> {
    fills
        .into_iter()
        .filter_map(|f| {
            let count = f
                .rows
                .iter()
                .filter(|row| rejected.binary_search_by_key(row, |r| &r.row).is_err())
                .count() as u64;
            (count > 0).then_some(MissingCount {
                column: f.column,
                canonical: f.canonical,
                policy: f.policy,
                count,
            })
        })
        .collect()
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
