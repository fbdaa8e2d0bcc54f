//! [`read_log`]: the ingest entry point, and [`LogTable`], its validated result.

use crate::canonical::{self, CLOUDWATCH, END_TIME, LABEL, ROW_ID, START_TIME};
use crate::error::{IngestError, RowProblem};
use crate::raw::read_raw;
use crate::spec::{BadRowPolicy, Format, SourceSpec};
use crate::validate::{self, NumberKind, Problems};
use polars::prelude::*;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A row removed by `on_bad_rows: skip`, with every problem found in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RejectedRow {
    /// Data row index in the source (0-based, header excluded).
    pub row: u64,
    /// Every bad value of the row.
    pub problems: Vec<RowProblem>,
}

/// A validated log: canonical typed columns plus the source's other columns.
#[derive(Debug, Clone)]
pub struct LogTable {
    /// The data. `row_id` (UInt64) first, then mapped canonical columns, then the rest.
    pub df: DataFrame,
    /// Where it was read from.
    pub path: PathBuf,
    /// Data rows in the source, before rejection.
    pub source_rows: usize,
    /// Rows removed by `on_bad_rows: skip`.
    pub rejected: Vec<RejectedRow>,
    /// Source columns kept as strings (not numeric).
    pub text_columns: Vec<String>,
}

impl LogTable {
    /// True when the table has a canonical or source column of that name.
    pub fn has(&self, column: &str) -> bool {
        self.df.column(column).is_ok()
    }

    /// True when ground-truth labels are present.
    pub fn has_labels(&self) -> bool {
        self.has(LABEL)
    }

    /// Columns holding one single value in every row (nulls count as a value), in table order.
    pub fn constant_columns(&self) -> Result<Vec<String>, IngestError> {
        let mut out = Vec::new();
        for col in self.df.columns() {
            if col.name() == ROW_ID {
                continue;
            }
            let distinct = col.n_unique().map_err(|e| self.polars_error(e))?;
            if distinct <= 1 {
                out.push(col.name().to_string());
            }
        }
        Ok(out)
    }

    fn polars_error(&self, e: PolarsError) -> IngestError {
        IngestError::Polars {
            path: self.path.clone(),
            message: e.to_string(),
        }
    }
}

/// Reads and validates a log source.
pub fn read_log(spec: &SourceSpec) -> Result<LogTable, IngestError> {
    let path = spec.path.as_path();
    let raw = read_raw(path)?;
    let polars_err = |e: PolarsError| IngestError::Polars {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    let header: Vec<String> = raw
        .get_column_names()
        .iter()
        .map(|c| c.to_string())
        .collect();
    let mapping = mapping(spec);
    check_columns(spec, &mapping, &header, path)?;

    let height = raw.height();
    let mut problems = Problems::default();
    let mut out: Vec<Column> = Vec::with_capacity(header.len() + 1);
    let mut mapped_sources = Vec::new();
    let mut times: BTreeMap<&str, (Vec<Option<i64>>, &str)> = BTreeMap::new();
    for (canonical_name, source) in &mapping {
        let col = raw.column(source).map_err(polars_err)?;
        mapped_sources.push(source.to_string());
        let typed = match *canonical_name {
            canonical::BYTES_IN | canonical::BYTES_OUT => {
                let v = validate::numbers(col, source, NumberKind::NonNegative, &mut problems)
                    .map_err(polars_err)?;
                Column::new((*canonical_name).into(), v)
            }
            canonical::DST_PORT => {
                let v = validate::numbers(col, source, NumberKind::Port, &mut problems)
                    .map_err(polars_err)?;
                let ints: Vec<i64> = v
                    .iter()
                    .map(|p| if p.is_nan() { 0 } else { *p as i64 })
                    .collect();
                Column::new((*canonical_name).into(), ints)
            }
            canonical::START_TIME | canonical::END_TIME => {
                let v = validate::timestamps(col, source, &mut problems).map_err(polars_err)?;
                times.insert(canonical_name, (v, source));
                continue;
            }
            other => validate::string_column(col, other).map_err(polars_err)?,
        };
        out.push(typed);
    }
    if let (Some((start, start_src)), Some((end, end_src))) =
        (times.get(START_TIME), times.get(END_TIME))
    {
        let end_col = raw.column(end_src).map_err(polars_err)?;
        validate::check_order(start, end, end_col, end_src, start_src, &mut problems)
            .map_err(polars_err)?;
    }
    for (name, (values, _)) in &times {
        let ms: Vec<i64> = values.iter().map(|v| v.unwrap_or(0)).collect();
        let datetimes = Int64Chunked::from_vec((*name).into(), ms)
            .into_datetime(TimeUnit::Milliseconds, Some(TimeZone::UTC));
        out.push(datetimes.into_column());
    }
    if let Some(label) = &spec.label {
        let col = raw.column(label.column()).map_err(polars_err)?;
        mapped_sources.push(label.column().to_string());
        let v = validate::labels(col, label, &mut problems).map_err(polars_err)?;
        out.push(Column::new(LABEL.into(), v));
    }

    let mut text_columns = Vec::new();
    for name in &header {
        if mapped_sources.contains(name) {
            continue;
        }
        let col = raw.column(name).map_err(polars_err)?;
        let wanted = spec.numeric.contains(name);
        let auto = spec.format == Format::Table
            && spec.numeric.is_empty()
            && validate::looks_numeric(col).map_err(polars_err)?;
        if wanted || auto {
            let v =
                validate::numbers(col, name, NumberKind::Any, &mut problems).map_err(polars_err)?;
            out.push(Column::new(name.as_str().into(), v));
        } else {
            text_columns.push(name.clone());
            out.push(validate::string_column(col, name).map_err(polars_err)?);
        }
    }
    let row_ids: Vec<u64> = (0..height as u64).collect();
    out.insert(0, Column::new(ROW_ID.into(), row_ids));
    let df = DataFrame::new(height, out).map_err(polars_err)?;

    let rejected = group_problems(problems.list);
    let df = match (spec.on_bad_rows, rejected.first()) {
        (_, None) => df,
        (BadRowPolicy::Fail, Some(first)) => {
            return Err(IngestError::BadValue {
                path: path.to_path_buf(),
                first: first.problems[0].clone(),
                others: rejected.len() - 1,
            });
        }
        (BadRowPolicy::Skip, Some(first)) if rejected.len() == height => {
            return Err(IngestError::AllRowsRejected {
                path: path.to_path_buf(),
                rows: height,
                first: first.problems[0].clone(),
            });
        }
        (BadRowPolicy::Skip, Some(_)) => {
            let mut keep = vec![true; height];
            for r in &rejected {
                keep[r.row as usize] = false;
            }
            df.filter(&BooleanChunked::from_slice("keep".into(), &keep))
                .map_err(polars_err)?
        }
    };
    Ok(LogTable {
        df,
        path: path.to_path_buf(),
        source_rows: height,
        rejected,
        text_columns,
    })
}

/// (canonical, source column) pairs for the spec's format.
fn mapping(spec: &SourceSpec) -> Vec<(&'static str, String)> {
    match spec.format {
        Format::Cloudwatch => CLOUDWATCH
            .iter()
            .map(|(c, s)| (*c, s.to_string()))
            .collect(),
        Format::Table => spec
            .columns
            .pairs()
            .into_iter()
            .map(|(c, s)| (c, s.to_string()))
            .collect(),
    }
}

fn check_columns(
    spec: &SourceSpec,
    mapping: &[(&'static str, String)],
    header: &[String],
    path: &Path,
) -> Result<(), IngestError> {
    let mut required: Vec<&str> = mapping.iter().map(|(_, s)| s.as_str()).collect();
    if let Some(label) = &spec.label {
        required.push(label.column());
    }
    required.extend(spec.numeric.iter().map(String::as_str));
    let mut missing: Vec<String> = Vec::new();
    for r in required {
        if !header.iter().any(|h| h == r) && !missing.iter().any(|m| m == r) {
            missing.push(r.to_string());
        }
    }
    if !missing.is_empty() {
        return Err(IngestError::MissingColumns {
            path: path.to_path_buf(),
            missing,
            present: header.to_vec(),
        });
    }
    let label_column = spec.label.as_ref().map(|l| l.column());
    let targets = mapping
        .iter()
        .map(|(c, s)| (*c, s.as_str()))
        .chain(label_column.map(|l| (LABEL, l)));
    for (canonical_name, source) in targets {
        let taken = header.iter().any(|h| h == canonical_name)
            && !mapping.iter().any(|(_, s)| s == canonical_name)
            && label_column != Some(canonical_name);
        if source != canonical_name && taken {
            return Err(IngestError::NameCollision {
                path: path.to_path_buf(),
                column: source.to_string(),
                canonical: canonical_name.to_string(),
            });
        }
    }
    Ok(())
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
